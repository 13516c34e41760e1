"""Determinism at scale: parallel kernels give exactly the serial numbers, for any thread count.

Also checks the performance paths that must not change results: the fused figures pass, the
bulk and lazy Mesa agent views, and the whole model on the kernels vs on the numpy twins.
"""

from __future__ import annotations

import dataclasses

import numba
import numpy as np
import pytest

from cxsim import kernels, reference
from cxsim.agents import Colleague, Customer
from cxsim.model import CXModel, _engine
from cxsim.params import ChurnParams, MoneyParams, WomParams

SIZE = {"size.customers": 3000, "size.prospects": 1500, "burn_in": 2, "steps": 4}
PARALLEL_KERNELS = ("culture", "engagement_step", "service", "perception", "attitude", "wom",
                    "churn", "customer_pass_a", "customer_hear", "customer_pass_b")
PER_PHASE_ONLY = ("attitude", "wom", "churn")  # the fused engine runs the customer passes instead


def _state(m: CXModel) -> dict[str, np.ndarray]:
    arrays = {f"cus.{k}": v for k, v in vars(m.customers).items()}
    arrays |= {f"col.{k}": v for k, v in vars(m.colleagues).items()}
    arrays["quality"] = m.quality
    return arrays


def _assert_same(a: CXModel, b: CXModel) -> None:
    sa, sb = _state(a), _state(b)
    for k in sa:
        assert np.array_equal(sa[k], sb[k]), k
    ta, tb = a.timeseries(), b.timeseries()
    assert ta.equals(tb)


def _run(parallel: bool, swap: str | None = None, fused: bool = True) -> CXModel:
    m = CXModel("baseline", overrides=SIZE, parallel=parallel, create_agents=False, fused=fused)
    if swap is not None:  # serial everywhere except one parallel kernel
        m.k = dataclasses.replace(_engine("numba", False, fused),
                                  **{swap: getattr(_engine("numba", True, fused), swap)})
    m.run()
    return m


@pytest.mark.parametrize("name", PARALLEL_KERNELS)
def test_each_parallel_kernel_equals_serial(name):
    fused = name not in PER_PHASE_ONLY
    serial = _run(False, fused=fused)
    mixed = _run(False, swap=name, fused=fused)
    assert getattr(mixed.k, name) is getattr(kernels, name)
    _assert_same(serial, mixed)


def test_serial_and_parallel_builds_are_distinct():
    # numba's disk cache ignores the `parallel` flag: each build needs its own name
    for name in PARALLEL_KERNELS:
        par, ser = getattr(kernels, name), getattr(kernels, f"{name}_serial")
        assert par.py_func.__qualname__ != ser.py_func.__qualname__
        assert par.targetoptions.get("parallel") and not ser.targetoptions.get("parallel")


def test_parallel_model_equals_serial_model():
    _assert_same(_run(True), _run(False))
    _assert_same(_run(True, fused=False), _run(False, fused=False))


def test_fused_model_equals_per_phase_model():
    a, b = _run(False, fused=True), _run(False, fused=False)
    assert a.k.customer_pass_a is not None and b.k.customer_pass_a is None
    assert "customers" in a.phase_seconds and "word_of_mouth" in b.phase_seconds
    sa, sb = _state(a), _state(b)
    for k in sa:  # same state, bit for bit
        assert np.array_equal(sa[k], sb[k]), k
    ta, tb = a.timeseries(), b.timeseries()
    # revenue is summed in fixed chunks by the fused pass, in one run by `revenue`
    np.testing.assert_allclose(ta.to_numpy(float), tb.to_numpy(float), rtol=1e-12, atol=1e-9)
    assert ta.drop(columns=["revenue", "cost", "profit", "cumulative_profit"]).equals(
        tb.drop(columns=["revenue", "cost", "profit", "cumulative_profit"]))


def _fused_inputs(m: CXModel, seed: int = 3) -> dict:
    """A warm model's customer state with fresh draws, some contacts and amplified talk."""
    c = m.customers
    rng = np.random.default_rng(seed)
    n = m.social.n
    sc = m.scenario
    wm, pe, ch, mo = sc.word_of_mouth, sc.perception, sc.churn, sc.money
    return dict(
        status=c.status.copy(), contacted=rng.random(n) < 0.3, memory=c.memory.copy(),
        peak=c.peak.copy(), trust=c.trust.copy(), empathy=c.empathy.copy(),
        disposition=c.disposition, node_colleague=c.node_colleague,
        col_engagement=m.colleagues.engagement, ap=m._attitude_params(),
        indptr=m.social.indptr, indices=m.social.indices, u_talk=rng.random(n),
        u_adopt=rng.random(n), u_churn=rng.random(n), neg_prev=rng.random(n) * 2,
        amplification=1.5,
        wp=WomParams(0.6, 0.8, wm.churned_talk, wm.second_hop, wm.attitude_weight,
                     wm.expectation_weight, 0.05, wm.adoption_q, wm.detractor_repel, 0.5,
                     pe.expectation_initial, pe.trust_initial, pe.empathy_initial),
        cp=ChurnParams(0.02, ch.memory_sensitivity, ch.trust_sensitivity, pe.peak_weight),
        mp=MoneyParams(mo.promoter_premium, mo.detractor_discount),
        expectation=c.expectation.copy(), acquired_step=c.acquired_step.copy(),
        met_spread=c.met_spread, last_colleague=c.last_colleague, value=c.value,
        colleague_team=m.colleague_team, n_teams=m.org.n_teams, step=m.t)


def _run_fused(a_fn, h_fn, b_fn, d: dict) -> dict:
    n = len(d["status"])
    out = dict(ltr=np.zeros(n), speak=np.zeros(n, np.int8), told=np.zeros(n),
               heard_pos=np.zeros(n), heard_neg=np.zeros(n), neg_now=np.zeros(n),
               adopted=np.zeros(n, np.bool_), churned=np.zeros(n, np.bool_))
    s = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in d.items()}
    a_fn(s["status"], s["contacted"], s["memory"], s["peak"], s["trust"], s["empathy"],
         s["disposition"], s["node_colleague"], s["col_engagement"], s["ap"], s["indptr"],
         s["u_talk"], s["neg_prev"], s["amplification"], s["wp"], out["ltr"], out["speak"],
         out["told"])
    h_fn(s["indptr"], s["indices"], out["speak"], out["told"], s["wp"].second_hop,
         out["heard_pos"], out["heard_neg"], out["neg_now"])
    counts, sums, units, rev = b_fn(
        s["indptr"], s["status"], out["ltr"], s["u_adopt"], s["u_churn"], s["memory"],
        s["peak"], s["expectation"], s["trust"], s["empathy"], s["acquired_step"], s["step"],
        s["wp"], s["cp"], out["heard_pos"], out["heard_neg"], out["adopted"], out["churned"],
        s["met_spread"], s["last_colleague"], s["colleague_team"], s["n_teams"], s["value"],
        s["mp"])
    return s | out | {"counts": counts, "sums": sums, "units": units, "revenue": rev}


def _run_twins(d: dict) -> dict:
    n = len(d["status"])
    out = dict(ltr=np.zeros(n), speak=np.zeros(n, np.int8), heard_pos=np.zeros(n),
               heard_neg=np.zeros(n), neg_now=np.zeros(n), adopted=np.zeros(n, np.bool_),
               churned=np.zeros(n, np.bool_))
    s = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in d.items()}
    r = reference
    r.attitude(s["status"], s["contacted"], s["memory"], s["peak"], s["trust"], s["empathy"],
               s["disposition"], s["node_colleague"], s["col_engagement"], s["ap"], out["ltr"])
    r.wom(s["indptr"], s["indices"], s["status"], out["ltr"], s["u_talk"], s["u_adopt"],
          s["neg_prev"], s["memory"], s["peak"], s["expectation"], s["trust"], s["empathy"],
          s["acquired_step"], s["step"], s["amplification"], s["wp"], out["speak"],
          out["heard_pos"], out["heard_neg"], out["neg_now"], out["adopted"])
    r.churn(s["status"], s["memory"], s["peak"], s["trust"], s["u_churn"], s["acquired_step"],
            s["step"], s["cp"], out["churned"])
    counts, sums, units = kernels.customer_totals_serial(
        s["status"], out["ltr"], s["met_spread"], s["trust"], s["empathy"], s["expectation"],
        out["heard_pos"], out["heard_neg"], out["churned"], s["last_colleague"],
        s["colleague_team"], s["n_teams"])
    rev = r.revenue(s["status"], s["value"], out["ltr"], s["mp"])
    return s | out | {"counts": counts, "sums": sums, "units": units, "revenue": rev}


def test_fused_passes_equal_the_twins_in_sequence():
    m = _run(False)
    d = _fused_inputs(m)
    f = _run_fused(kernels.customer_pass_a_serial, kernels.customer_hear_serial,
                   kernels.customer_pass_b_serial, d)
    t = _run_twins(d)
    assert 0 < f["adopted"].sum() and 0 < f["churned"].sum() and (f["speak"] != 0).any()
    for k in ("status", "speak", "adopted", "churned", "acquired_step", "counts", "units"):
        assert np.array_equal(f[k], t[k]), k  # integers exact
    for k in ("ltr", "memory", "peak", "trust", "empathy", "expectation", "heard_pos",
              "heard_neg", "neg_now", "sums", "revenue"):
        np.testing.assert_allclose(f[k], t[k], rtol=1e-9, atol=1e-9, err_msg=k)


def test_fused_passes_parallel_equal_serial():
    d = _fused_inputs(_run(False), seed=5)
    par = _run_fused(kernels.customer_pass_a, kernels.customer_hear, kernels.customer_pass_b, d)
    ser = _run_fused(kernels.customer_pass_a_serial, kernels.customer_hear_serial,
                     kernels.customer_pass_b_serial, d)
    for k in par:
        assert np.array_equal(np.asarray(par[k]), np.asarray(ser[k])), k


def test_select_contacts_equals_twin():
    rng = np.random.default_rng(1)
    status = rng.integers(0, 3, 5000).astype(np.int8)
    u = rng.random(5000)
    assert np.array_equal(kernels.select_contacts(status, u, 0.2),
                          reference.select_contacts(status, u, 0.2))


def test_thread_count_does_not_change_results():
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("numba has a single thread here")
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = _run(True)
        numba.set_num_threads(2)
        two = _run(True)
    finally:
        numba.set_num_threads(before)
    _assert_same(one, two)


def test_customer_totals_parallel_serial_and_numpy():
    m = _run(False)
    c = m.customers
    args = (c.status, c.ltr, c.met_spread, c.trust, c.empathy, c.expectation, c.heard_pos,
            c.heard_neg, c.churned, c.last_colleague, m.colleague_team, m.org.n_teams)
    par = kernels.customer_totals(*args)
    ser = kernels.customer_totals_serial(*args)
    for x, y in zip(par, ser, strict=True):
        assert np.array_equal(x, y)
    counts, sums, units = par
    active = c.status == kernels.ACTIVE
    seen = active & (c.met_spread >= 0)
    assert counts[kernels.T_ACTIVE] == active.sum()
    assert counts[kernels.T_PROMOTERS] == np.count_nonzero(c.ltr[active] >= 9)
    assert counts[kernels.T_DETRACTORS] == np.count_nonzero(c.ltr[active] < 7)
    assert counts[kernels.T_SEEN] == seen.sum()
    assert sums[kernels.S_TRUST] == pytest.approx(c.trust[active].sum(), rel=1e-12)
    assert sums[kernels.S_SPREAD] == pytest.approx(c.met_spread[seen].sum(), rel=1e-12)
    assert sums[kernels.S_HEARD_NEG] == pytest.approx(c.heard_neg.sum(), rel=1e-12)
    has = active & (c.last_colleague >= 0)
    home = m.org.team[c.last_colleague[has]]
    assert np.array_equal(units[0], np.bincount(home, minlength=m.org.n_teams))


def test_kernels_equal_twins_whole_model():
    a = CXModel("baseline", overrides=SIZE, engine="numba", create_agents=False)
    b = CXModel("baseline", overrides=SIZE, engine="reference", create_agents=False)
    a.run()
    b.run()
    ta, tb = a.timeseries(), b.timeseries()
    num = ta.select_dtypes("number").columns
    np.testing.assert_allclose(ta[num].to_numpy(float), tb[num].to_numpy(float), rtol=1e-9,
                               atol=1e-9)
    for k, v in _state(a).items():
        np.testing.assert_allclose(np.asarray(v, float), np.asarray(_state(b)[k], float),
                                   rtol=1e-9, atol=1e-9, err_msg=k)


def test_wom_scratch_is_optional():
    # the twin accepts (and ignores) the kernel's optional scratch argument
    import inspect

    assert "told" in inspect.signature(reference.wom).parameters


@pytest.mark.parametrize("mode", [True, "lazy"])
def test_bulk_and_lazy_agents_match_mesa(mode):
    m = CXModel("baseline", overrides=SIZE, create_agents=mode)
    if mode == "lazy":
        assert m._agents_pending
        m.step()  # stepping never needs the views
        assert m._agents_pending
    customers = m.agents_by_type[Customer]
    colleagues = m.agents_by_type[Colleague]
    assert len(customers) == m.social.n and len(colleagues) == m.org.n
    assert len(m.agents) == m.social.n + m.org.n
    ids = [a.unique_id for a in m.agents]
    assert ids == list(range(1, len(ids) + 1))
    assert [a.index for a in colleagues] == list(range(m.org.n))
    c = customers[5]
    c.trust = 0.125
    assert m.customers.trust[c.index] == 0.125
    assert m.colleague_agents[3] is colleagues[3]
    c.remove()
    assert len(m.agents_by_type[Customer]) == m.social.n - 1


def test_use_parallel_switches_kernels():
    m = CXModel("baseline", overrides=SIZE, parallel=False, create_agents=False)
    m.use_parallel(True)
    assert m.parallel and m.k.wom is kernels.wom
    assert m.k.customer_pass_b is kernels.customer_pass_b
    m.use_parallel(False)
    assert not m.parallel and m.k.wom is kernels.wom_serial
    assert m.k.customer_pass_b is kernels.customer_pass_b_serial


def test_no_agents():
    m = CXModel("baseline", overrides=SIZE, create_agents=False)
    assert len(m.agents) == 0 and m.colleague_agents == []
    with pytest.raises(ValueError):
        CXModel("baseline", overrides=SIZE, create_agents="sometimes")
