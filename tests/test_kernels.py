"""Every numba kernel, and every rule it is built from, agrees with its numpy twin.

Kernels and twins get the same records (`cxsim.state`) and the same parameter records, built
by keyword with `cxsim.params.build` as the model builds them; every array of every record
is compared afterwards, so a rule that writes somewhere it should not is caught too.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect

import numpy as np
import pytest

from cxsim import engine, kernels, params, population, reference
from cxsim.constants import ACTIVE, CHURNED, CONTACT_CENTRE, DIGITAL, PROSPECT, STORE
from cxsim.scenario import ServiceFailure
from cxsim.state import (
    ContactDraws,
    Contacts,
    CustomerFigures,
    CustomerKeys,
    StaffDraws,
)

RTOL, ATOL = 1e-12, 1e-12

#: the small rules the kernels inline, each with a twin of the same name
RULES = ("similarity", "distance", "affect", "ltr_score", "advocacy", "talk_probability",
         "positive_valence", "speaker",
         "adoption_hazard", "heard_shift", "lifted_expectation", "churn_probability", "spend",
         "attrition_probability", "hire_trait", "skill_level",
         "resolution_probability", "delivery_fails", "chases", "delivered_quality",
         "filled_team_engagement", "asked_pressure", "headroom_target", "staffed_channel")


def close(a, b, name=""):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, name
    if a.dtype.kind in "biu" and b.dtype.kind in "biu":
        np.testing.assert_array_equal(a, b, err_msg=name)
    else:
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL, err_msg=name)


def _record(x):
    return x.arrays() if dataclasses.is_dataclass(x) else x


def _same(a, b) -> None:
    if dataclasses.is_dataclass(a):
        for f in dataclasses.fields(a):
            close(getattr(a, f.name), getattr(b, f.name), f.name)
    elif isinstance(a, np.ndarray):
        close(a, b)


def run_both(name: str, *args):
    """Call kernel and twin on deep copies of `args`; compare every array afterwards."""
    ka, ra = copy.deepcopy(args), copy.deepcopy(args)
    kout = getattr(kernels, name)(*map(_record, ka))
    rout = getattr(reference, name)(*map(_record, ra))
    for a, b in zip(ka, ra, strict=True):
        _same(a, b)
    return kout, rout, ka


def step_params(m, shock: ServiceFailure | None = None, **levers) -> params.StepParams:
    """The model's records for a step, with some levers changed (by name)."""
    return params.build(m.scenario, m.levers.model_copy(update=levers), is_leader=m.is_leader,
                        edge_kind=m.org.edge_kind, shock=shock)


def test_every_kernel_and_rule_has_a_twin_with_the_same_arguments():
    for name in engine.KERNELS + RULES + ("csr_from_edges", "tribal_powerlaw_cluster"):
        k = getattr(kernels, name)
        py = getattr(k, "py_func", k)
        assert (list(inspect.signature(py).parameters)
                == list(inspect.signature(getattr(reference, name)).parameters)), name


def test_no_kernel_takes_more_than_eight_arguments():
    for name in engine.KERNELS:
        assert len(inspect.signature(getattr(kernels, name).py_func).parameters) <= 8, name


def test_csr_from_edges():
    rng = np.random.default_rng(0)
    n = 60
    src = rng.integers(0, n, 400).astype(np.int64)
    dst = rng.integers(0, n, 400).astype(np.int64)
    src[:5] = 7  # a busy node
    k = kernels.csr_from_edges(n, src, dst)
    r = reference.csr_from_edges(n, src, dst)
    for a, b in zip(k, r, strict=True):
        close(a, b)
    indptr, indices, order = k
    # and it is a valid CSR of the edges, sorted stably by source
    assert indptr[-1] == len(src)
    close(src[order], np.repeat(np.arange(n), np.diff(indptr)))
    close(dst[order], indices)


@pytest.mark.parametrize("half, slots, triad, homophily", [
    (2.5, 3, 0.5, 0.85), (1.0, 1, 0.0, 0.0), (4.2, 5, 0.9, 0.5)])
def test_tribal_powerlaw_cluster(half, slots, triad, homophily):
    rng = np.random.default_rng(1)
    tribe = rng.integers(0, 4, 500).astype(np.int32)
    u = rng.random(500 * slots * 8 + 64)
    k = kernels.tribal_powerlaw_cluster(tribe, slots, half, triad, homophily, u)
    r = reference.tribal_powerlaw_cluster(tribe, slots, half, triad, homophily, u)
    close(k, r)
    assert (k >= 0).sum() > 0.8 * half * len(tribe)  # the generator did make ties
    v = np.repeat(np.arange(len(tribe)), slots).reshape(k.shape)
    assert np.all(k[k >= 0] < v[k >= 0])  # ties only to earlier nodes


def test_rules_equal_twins_elementwise(warm_model):
    """Each inlined rule, called on scalars, equals its vectorised twin element by element."""
    rng = np.random.default_rng(12)
    p = step_params(warm_model, social_amplification=1.3).customer
    sp = step_params(warm_model, hiring_for_fit=0.6).staff
    rp = step_params(warm_model).resolution
    lp = step_params(warm_model, silo=0.7).learning
    ep = step_params(warm_model).engagement
    n = 200
    x = {"memory": rng.normal(0, 0.5, n), "peak": rng.normal(0, 1, n), "trust": rng.random(n),
         "empathy": rng.random(n), "disposition": rng.standard_normal(n),
         "ltr": rng.uniform(0, 10, n), "u": rng.random(n), "share": rng.random(n),
         "status": rng.integers(0, 3, n).astype(np.int8), "value": rng.lognormal(3, 0.5, n),
         "tenure": rng.integers(0, 400, n), "noise": rng.standard_normal(n),
         "congruity": rng.uniform(0.5, 1.6, n), "speakers": rng.integers(0, 4, n) * 1.0,
         "deg": rng.integers(4, 9, n) * 1.0}
    cases = {
        "affect": (x["memory"], x["peak"], 0.4),
        "ltr_score": (x["memory"], x["trust"], x["empathy"], x["disposition"], p),
        "advocacy": (x["ltr"], x["trust"], p),
        "talk_probability": (x["ltr"], p),
        "positive_valence": (x["ltr"], p),
        "speaker": (x["status"], x["ltr"], x["u"], p),
        "adoption_hazard": (x["share"], x["share"][::-1], x["status"] == CHURNED,
                            x["congruity"], p),
        "heard_shift": (x["share"], x["share"][::-1], p),
        "lifted_expectation": (x["trust"], x["share"], p),
        "churn_probability": (x["memory"], x["trust"], x["disposition"], x["congruity"],
                              p._replace(churn_disposition=0.4)),
        "image_shift": (x["trust"], x["share"], x["speakers"] * x["share"][::-1],
                        x["speakers"], x["deg"], p._replace(image_advertising=0.1)),
        "spend": (x["value"], x["ltr"], p),
        "attrition_probability": (x["trust"], x["tenure"], sp),
        "hire_trait": (x["noise"], x["trust"], sp),
        "skill_level": (x["tenure"], rp),
        "resolution_probability": (x["trust"], x["empathy"], x["share"], x["u"],
                                   x["share"][::-1] * 3, x["tenure"] % 4, rp),
        "delivery_fails": (x["u"], x["trust"]),
        "chases": (x["u"], x["trust"], x["share"], x["empathy"], 0.7),
        "delivered_quality": (x["trust"], x["empathy"], x["share"] * 2, lp),
        "asked_pressure": (x["trust"], x["empathy"], x["share"]),
        "headroom_target": (x["trust"], x["empathy"], x["share"], x["congruity"],
                            ep._replace(training_cost_headroom=0.3)),
    }
    for name, args in cases.items():
        twin = np.broadcast_to(getattr(reference, name)(*args), (n,))
        for i in range(0, n, 7):
            scalar = [a[i] if isinstance(a, np.ndarray) else a for a in args]
            close(getattr(kernels, name)(*scalar), twin[i], name)
    a, b = rng.random((2, 5)), rng.random(5)
    close(kernels.similarity(a[0], b, 0.35), reference.similarity(a[0], b, 0.35))
    close(kernels.distance(a[0], b), reference.distance(a[0], b))
    close(kernels.self_congruity(a[0], b, p), reference.self_congruity(a[0], b, p))


def test_culture(warm_model):
    m = warm_model
    p = step_params(m, silo=0.7, training=0.6)
    org = dataclasses.replace(m.org_graph, weight=p.tie_weight)
    _, _, (_, _, _, out) = run_both("culture", m.colleagues, org, p.culture,
                                    np.zeros_like(m.colleagues.personality))
    assert not np.allclose(out, m.colleagues.personality)  # the step moved someone


def test_practice(warm_model):
    m = warm_model
    rng = np.random.default_rng(3)
    col = copy.deepcopy(m.colleagues)
    col.pressure[:] = rng.random(m.org.n)
    col.headroom[:] = rng.random(m.org.n)
    p = step_params(m, training=0.5)
    _, _, (_, _, f, h) = run_both("practice", col, p.engagement._replace(
        training_cost_headroom=0.3, control=rng.random(m.org.n) * 0.5, role_modelling=0.7),
        np.zeros(m.org.n), np.zeros(m.org.n))
    assert np.all((f >= 0) & (f <= 1)) and np.all((h >= 0) & (h <= 1))


def test_engagement_step(warm_model):
    m = warm_model
    rng = np.random.default_rng(2)
    col = copy.deepcopy(m.colleagues)
    col.mirror[:] = rng.random(m.org.n)
    col.overload[:] = rng.random(m.org.n) * 0.5
    p = step_params(m, training=0.5)
    org = dataclasses.replace(m.org_graph, weight=p.tie_weight)
    col.engagement_trait[:] = 0.15 * rng.standard_normal(m.org.n)
    col.engagement_level[:] = rng.random(m.org.n)
    _, _, (*_, level, week) = run_both("engagement_step", col, org, p.engagement._replace(
        training_cost_headroom=0.3, control=rng.random(m.org.n) * 0.5, week_spread=0.1),
        rng.standard_normal(m.org.n), np.zeros(m.org.n), np.zeros(m.org.n))
    # this week's engagement is the new usual level moved by the week's circumstances
    assert 0.0 < np.abs(week - level).mean() < 0.2
    assert np.all((week >= 0) & (week <= 1)) and np.all((level >= 0) & (level <= 1))


def _contacts(m, rng, share=0.5) -> Contacts:
    active = np.flatnonzero(m.customers.status == ACTIVE)
    customer = np.sort(rng.choice(active, size=int(share * len(active)), replace=False))
    con = Contacts.empty(len(customer))
    con.customer = customer
    return con


def _draws(rng, m_: int) -> ContactDraws:
    return ContactDraws(*rng.random((4, m_)), noise=rng.standard_normal(m_),
                        resolve=rng.random(m_), fulfil=rng.random(m_))


def _open_issues(m, rng):
    """Customers (a copy) with open issues, some of them left by a failed digital contact."""
    cus = copy.deepcopy(m.customers)
    n = m.social.n
    cus.pending[:] = np.where(rng.random(n) < 0.3, rng.integers(1, 4, n), 0)
    cus.pending_channel[:] = np.where(cus.pending > 0, rng.integers(0, 3, n), -1)
    return cus


def _with_vacancies(m, rng, share=0.2):
    """Colleagues (a copy) with some posts vacant, and the pools of the filled ones."""
    col = copy.deepcopy(m.colleagues)
    col.vacant[:] = np.where(rng.random(m.org.n) < share, rng.integers(1, 6, m.org.n), 0)
    return col, population.service_pools(m.org, col.vacant)


@pytest.mark.parametrize("digital_on", [True, False])
def test_assign_contacts(warm_model, digital_on):
    m = warm_model
    rng = np.random.default_rng(3)
    con = _contacts(m, rng)
    assert (m.customers.last_colleague[con.customer] >= 0).any()  # relationships to keep
    p = step_params(m, digital_channel=digital_on).contact._replace(relationship=0.5)
    cus = _open_issues(m, rng)
    col, pools = _with_vacancies(m, rng)
    _, _, (out, *_) = run_both("assign_contacts", con, cus, col, pools,
                               _draws(rng, len(con.customer)), p)
    assert len(np.unique(out.channel)) == (3 if digital_on else 2)
    assert (col.vacant[out.colleague] == 0).all()  # a vacant post serves nobody
    bounced = (cus.pending[out.customer] > 0) & (cus.pending_channel[out.customer] == 2)
    assert bounced.any() and (out.channel[bounced] == 1).all()  # failed digital -> centre


@pytest.mark.parametrize("empty", [(CONTACT_CENTRE,), (CONTACT_CENTRE, DIGITAL),
                                   (STORE, CONTACT_CENTRE, DIGITAL)])
def test_assign_contacts_when_whole_channels_are_vacant(warm_model, empty):
    """A channel whose every post is vacant passes its contacts on (contact centre, then
    stores, then digital), and nobody is served by a post out of range or vacant: with the
    contact centre empty the kernel once read past its pool (a colleague index beyond the
    organisation, found at 1,000 customers, seed 42)."""
    m = warm_model
    rng = np.random.default_rng(5)
    con = _contacts(m, rng)
    col = copy.deepcopy(m.colleagues)
    col.vacant[np.isin(col.channel, empty)] = 3
    pools = population.service_pools(m.org, col.vacant)
    p = step_params(m, digital_channel=True).contact._replace(relationship=0.5)
    _, _, (out, *_) = run_both("assign_contacts", con, _open_issues(m, rng), col, pools,
                               _draws(rng, len(con.customer)), p)
    assert ((out.colleague >= 0) & (out.colleague < m.org.n)).all()
    if len(empty) < 3:
        assert (col.vacant[out.colleague] == 0).all()
        assert not np.isin(out.channel, empty).any()
    else:  # no front-line post filled: the first colleague answers at the contact centre
        assert (out.colleague == 0).all() and (out.channel == CONTACT_CENTRE).all()


def _assigned(m, rng) -> tuple[Contacts, ContactDraws]:
    con = _contacts(m, rng, 0.6)
    draws = _draws(rng, len(con.customer))
    kernels.assign_contacts(con.arrays(), m.customers.arrays(), m.colleagues.arrays(),
                            m.pools.arrays(), draws.arrays(), step_params(m).contact)
    return con, draws


@pytest.mark.parametrize("shock", [None, {"share": 0.4, "severity": 0.5},
                                   {"channel": "contact_centre", "severity": 0.3}])
def test_service(warm_model, shock):
    m = warm_model
    rng = np.random.default_rng(4)
    con, draws = _assigned(m, rng)
    cus = _open_issues(m, rng)
    cus.met_spread[con.customer[::7]] = -1.0  # some first touchpoints
    col = copy.deepcopy(m.colleagues)
    col.tenure[::3] = rng.integers(0, 10, len(col.tenure[::3]))  # some new hires
    col.overload[:] = rng.random(m.org.n)
    ev = ServiceFailure(type="service_failure", step=0, **shock) if shock else None
    p = step_params(m, ev, digital_channel=True)
    con.channel[::5] = 2  # some digital contacts
    _, _, (out, _, cus_out, *_) = run_both("service", con, draws, cus, col, m.chain_quality(),
                                           p.service, p.resolution)
    assert 0.0 < out.experience.mean() < 1.0
    assert 0.0 < out.resolved.mean() < 1.0 and (out.attempt > 0).any()
    np.testing.assert_array_equal(out.attempt, cus.pending[out.customer])
    open_after = cus_out.pending[out.customer] > 0
    delivered = draws.fulfil < m.chain_quality()[out.channel]
    assert not open_after[out.resolved & delivered].any()
    undelivered = out.resolved & ~delivered  # resolved, then the back office failed
    np.testing.assert_array_equal(out.undelivered, undelivered)
    assert open_after[undelivered].any() and not open_after[undelivered].all()
    gave_up = ~out.resolved & ~open_after
    chased = ~out.resolved & open_after
    assert gave_up.any() and chased.any()
    np.testing.assert_array_equal(cus_out.pending[out.customer[open_after]],
                                  out.attempt[open_after] + 1)


def test_perception(warm_model):
    m = warm_model
    rng = np.random.default_rng(5)
    con, _ = _assigned(m, rng)
    k = len(con.customer)
    con.experience[:] = rng.random(k)
    con.homophily[:] = rng.random(k)
    con.inconsistency[:] = rng.random(k) * 0.3
    con.sold[:] = rng.integers(0, 3, k)
    con.undelivered[:] = rng.random(k) < 0.3
    customers = copy.deepcopy(m.customers)
    customers.missold[:] = rng.random(m.social.n) < 0.3
    p = step_params(m, negativity_bias=2.5).perception
    _, _, (_, cus, *_) = run_both("perception", con, customers, m.colleagues, p)
    assert not np.allclose(cus.trust, m.customers.trust)
    # a broken promise costs trust, everything else equal
    kept = copy.deepcopy(con)
    kept.undelivered[:] = False
    _, _, (_, cus_kept, *_) = run_both("perception", kept, copy.deepcopy(customers),
                                       m.colleagues, p)
    hit = np.unique(con.customer[con.undelivered])
    once = np.bincount(con.customer, minlength=m.social.n)[hit] == 1
    assert (cus.trust[hit[once]] < cus_kept.trust[hit[once]]).all()
    assert not np.array_equal(cus.image, m.customers.image)  # the colleagues met left a mark
    assert (cus.missold[con.customer] == (con.sold == 2)).all()


def _customer_case(m, seed: int):
    """A warm model's customers with churned ones, contacts, stories and fresh draws."""
    rng = np.random.default_rng(seed)
    cus = copy.deepcopy(m.customers)
    n = m.social.n
    cus.status[rng.random(n) < 0.1] = CHURNED
    cus.contacted[:] = rng.random(n) < 0.3
    cus.memory += 0.1 * rng.standard_normal(n)
    cus.neg_prev[:] = rng.poisson(0.3, n)
    cus.pos_prev[:] = rng.poisson(0.5, n)
    assert (cus.status == PROSPECT).any() and (cus.node_colleague >= 0).any()
    keys = CustomerKeys.for_week(seed, 3)
    p = step_params(m, social_amplification=2.0, marketing=0.05)
    # some churn for sure in a small model
    return cus, keys, p.customer._replace(adoption_q=0.8, churn_base=0.05)


def test_customer_pass_a(warm_model):
    m = warm_model
    cus, draws, p = _customer_case(m, 6)
    _, _, (out, *_) = run_both("customer_pass_a", cus, m.colleagues, m.net, draws, p)
    active = out.status == ACTIVE
    assert (out.ltr[active] >= 9).any() and (out.ltr[active] < 7).any()
    assert (out.speak > 0).any() and (out.speak < 0).any()


def test_customer_hear(warm_model):
    m = warm_model
    cus, draws, p = _customer_case(m, 7)
    kernels.customer_pass_a(cus.arrays(), m.colleagues.arrays(), m.net.arrays(),
                            draws.arrays(), p)
    _, _, (_, out, _) = run_both("customer_hear", m.net, cus, p)
    assert out.heard_pos.sum() > 0 and out.heard_neg.sum() > out.neg_now.sum()


def test_customer_pass_b(warm_model):
    m = warm_model
    cus, draws, p = _customer_case(m, 8)
    for fn in (kernels.customer_pass_a, kernels.customer_hear):
        args = ((cus, m.colleagues, m.net, draws, p) if fn is kernels.customer_pass_a
                else (m.net, cus, p))
        fn(*map(_record, args))
    fig = CustomerFigures.zeros(m.org.n_teams)
    _, _, (out, _, _, _, _, _, f) = run_both("customer_pass_b", cus, m.colleagues, m.net,
                                             draws, 17, p, fig)
    assert out.adopted.sum() > 0 and out.churned.sum() > 0
    assert (out.acquired_step[out.adopted] == 17).all()
    assert f.counts.sum() > 0 and f.sums[-1] > 0  # figures and revenue were filled


def test_customer_figures_count_what_they_say(warm_model):
    m = warm_model
    cus, draws, p = _customer_case(m, 9)
    fig = CustomerFigures.zeros(m.org.n_teams)
    reference.customer_figures(cus, m.colleagues, p, fig)
    from cxsim import constants as c

    active = cus.status == ACTIVE
    assert fig.counts[c.T_ACTIVE] == active.sum()
    assert fig.counts[c.T_PROMOTERS] == np.count_nonzero(cus.ltr[active] >= 9)
    assert fig.counts[c.T_DETRACTORS] == np.count_nonzero(cus.ltr[active] < 7)
    assert fig.sums[c.S_TRUST] == pytest.approx(cus.trust[active].sum(), rel=1e-12)
    plain = cus.value[active].sum()
    assert fig.sums[c.S_REVENUE] != pytest.approx(plain, rel=1e-6)  # premium and discount
    has = active & (cus.last_colleague >= 0)
    home = m.org.team[cus.last_colleague[has]]
    close(fig.units[c.U_CUSTOMERS], np.bincount(home, minlength=m.org.n_teams))


@pytest.mark.parametrize("fit", [0.0, 0.7])
def test_staff(warm_model, fit):
    m = warm_model
    rng = np.random.default_rng(9)
    n = m.org.n
    draws = StaffDraws(rng.random(n), rng.standard_normal((n, 5)),
                       rng.integers(0, m.social.n, n),
                       population.vacancy_weeks(m.org, 3.0, rng.random(n)),
                       rng.standard_normal(n))
    p = step_params(m, hiring_for_fit=fit).staff._replace(attrition_base=0.2,
                                                         engagement_trait_spread=0.15)
    before, _ = _with_vacancies(m, rng)
    # this week's engagement apart from the usual level, so a rule reading the wrong one shows
    before.engagement_level[:] = rng.random(n)
    before.engagement[:] = np.clip(before.engagement_level + 0.3 * rng.standard_normal(n), 0, 1)
    _, _, (col, *_) = run_both("staff", before, draws, m.customers, p)
    assert 0 < col.left.sum() < n
    was = before.vacant > 0
    assert not col.left[was].any()  # a vacant post cannot leave
    np.testing.assert_array_equal(col.vacant[was], before.vacant[was] - 1)
    np.testing.assert_array_equal(col.vacant[col.left], draws.vacancy[col.left])
    assert (col.vacant[col.left] > 0).any() and (col.tenure[col.left] == 0).all()
    # a hire brings an engagement trait of their own; everyone else keeps theirs
    hired = (col.vacant == 0) & (col.tenure == 0) & ((before.vacant > 0) | col.left)
    assert hired.any()
    np.testing.assert_allclose(col.engagement_trait[hired], 0.15 * draws.hire_engagement[hired])
    np.testing.assert_array_equal(col.engagement_trait[~hired], before.engagement_trait[~hired])
    # a hire starts from the team's usual level (before this week's departures), this week too
    filled = before.vacant == 0
    mood = np.bincount(before.team[filled], before.engagement_level[filled],
                       minlength=before.team.max() + 1) / np.maximum(
        np.bincount(before.team[filled], minlength=before.team.max() + 1), 1)
    np.testing.assert_allclose(col.engagement_level[hired], np.clip(
        mood[before.team[hired]] + p.onboarding_lift, 0, 1))
    np.testing.assert_array_equal(col.engagement[hired], col.engagement_level[hired])


def test_leaving_reads_the_usual_level_not_the_week(warm_model):
    """People leave on how work has felt for months: the same draws, a bad week on a good
    level loses far fewer people than a good week on a bad level."""
    m = warm_model
    rng = np.random.default_rng(11)
    n = m.org.n
    draws = StaffDraws(rng.random(n), rng.standard_normal((n, 5)),
                       rng.integers(0, m.social.n, n), np.zeros(n, np.int64),
                       rng.standard_normal(n))
    p = step_params(m).staff._replace(attrition_base=0.2)
    left = {}
    for name, week, level in (("bad week", 0.0, 1.0), ("bad level", 1.0, 0.0)):
        col = copy.deepcopy(m.colleagues)
        col.vacant[:] = 0
        col.engagement[:], col.engagement_level[:] = week, level
        kernels.staff(col.arrays(), draws.arrays(), m.customers.arrays(), p)
        left[name] = int(col.left.sum())
    assert left["bad level"] > 2 * left["bad week"], left


@pytest.mark.parametrize("intensity", [0.0, 0.6])
def test_learning(warm_model, intensity):
    m = warm_model
    rng = np.random.default_rng(10)
    contacts = rng.integers(50, 200, 3).astype(float)
    complaints = np.floor(contacts * rng.random(3) * 0.4)
    proc = copy.deepcopy(m.process)
    proc.quality *= 0.9
    col, _ = _with_vacancies(m, rng)
    col.complaints[:] = rng.poisson(0.5, m.org.n)
    p = step_params(m, silo=0.6).learning._replace(intensity=intensity, learning_rate=0.05,
                                                   backoffice_capacity=20.0)
    col.engagement_level[:] = rng.random(m.org.n)
    before = copy.deepcopy(col)
    _, _, (out, _, _, after, _) = run_both("learning", proc, complaints, contacts, col, p)
    assert not np.allclose(out.quality, proc.quality)
    assert not np.allclose(out.effective, out.quality)  # departments move what steps deliver
    # being listened to lifts the usual level and this week's engagement alike
    lifted = after.engagement_level > before.engagement_level
    assert lifted.any() == (intensity > 0)
    np.testing.assert_array_equal(after.engagement > before.engagement, lifted)


def test_select_contacts():
    rng = np.random.default_rng(1)
    status = rng.integers(0, 3, 5000).astype(np.int8)
    pending = np.where(rng.random(5000) < 0.2, 1, 0).astype(np.int64)
    key = CustomerKeys.for_week(1, 0).contact
    p = params.ContactParams(rate=0.2, relationship=0.3, digital_on=True, recontact=0.6)
    k = kernels.select_contacts(status, pending, key, p)
    close(k, reference.select_contacts(status, pending, key, p))
    # customers with an open issue come back more often (failure demand)
    active = status == ACTIVE
    chosen = np.zeros(5000, bool)
    chosen[k] = True
    assert chosen[active & (pending > 0)].mean() > 2 * chosen[active & (pending == 0)].mean()


def test_filled_team_engagement():
    rng = np.random.default_rng(2)
    team = rng.integers(0, 7, 300)
    team[:7] = np.arange(7)
    engagement = rng.random(300)
    vacant = np.where(rng.random(300) < 0.3, 2, 0).astype(np.int64)
    vacant[team == 6] = 3  # a team with every post vacant
    k = kernels.filled_team_engagement(engagement, team, vacant)
    close(k, reference.filled_team_engagement(engagement, team, vacant))
    filled = vacant == 0
    assert k[0] == pytest.approx(engagement[(team == 0) & filled].mean())
    assert k[6] == 0.0


@pytest.mark.parametrize(("chain_q", "persistence"), [(0.0, 0.0), (0.0, 1.0), (1.0, 0.0),
                                                      (1.0, 1.0), (0.6, 0.7)])
def test_chases_edges_and_rates(chain_q: float, persistence: float) -> None:
    """Kernel and twin agree at the edges, and over many uniform draws a resolved contact is
    undelivered at rate 1 - chain_q and chased at (1 - chain_q) x persistence; an unresolved one
    is chased at persistence. A perfect chain never brings a resolved issue back; a customer
    with no persistence never chases."""
    rng = np.random.default_rng(5)
    n = 40_000
    u, v = rng.random(n), rng.random(n)
    prob = np.full(n, 0.7)
    twin = reference.chases(u, prob, v, chain_q, persistence)
    for i in range(0, n, 997):
        assert kernels.chases(u[i], prob[i], v[i], chain_q, persistence) == twin[i]
    resolved = u < prob
    rate_resolved = twin[resolved].mean()
    rate_unresolved = twin[~resolved].mean()
    margin = 4 * np.sqrt(0.25 / min(resolved.sum(), (~resolved).sum()))
    assert abs(rate_resolved - (1 - chain_q) * persistence) < margin
    assert abs(rate_unresolved - persistence) < margin
    if chain_q == 1.0 or persistence == 0.0:
        assert not twin[resolved].any()
    if persistence == 0.0:
        assert not twin.any()
