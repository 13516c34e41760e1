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

SIZE = {"size.customers": 3000, "size.prospects": 1500, "burn_in": 2, "steps": 4}
PARALLEL_KERNELS = ("culture", "engagement_step", "service", "perception", "attitude", "wom",
                    "churn")


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


def _run(parallel: bool, swap: str | None = None) -> CXModel:
    m = CXModel("baseline", overrides=SIZE, parallel=parallel, create_agents=False)
    if swap is not None:  # serial everywhere except one parallel kernel
        m.k = dataclasses.replace(_engine("numba", False),
                                  **{swap: getattr(_engine("numba", True), swap)})
    m.run()
    return m


@pytest.mark.parametrize("name", PARALLEL_KERNELS)
def test_each_parallel_kernel_equals_serial(name):
    serial = _run(False)
    mixed = _run(False, swap=name)
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
    m.use_parallel(False)
    assert not m.parallel and m.k.wom is kernels.wom_serial


def test_no_agents():
    m = CXModel("baseline", overrides=SIZE, create_agents=False)
    assert len(m.agents) == 0 and m.colleague_agents == []
    with pytest.raises(ValueError):
        CXModel("baseline", overrides=SIZE, create_agents="sometimes")
