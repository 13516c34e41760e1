"""Every numba kernel agrees with its numpy twin on the same inputs (issue 2, item 5)."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from cxsim import kernels, reference
from cxsim.kernels import ACTIVE, CHURNED, PROSPECT
from cxsim.params import (
    AttitudeParams,
    ChurnParams,
    CultureParams,
    EngagementParams,
    LearningParams,
    MoneyParams,
    PerceptionParams,
    ServiceParams,
    StaffParams,
    WomParams,
)

RTOL, ATOL = 1e-12, 1e-12


def close(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape
    if a.dtype.kind in "biu" or b.dtype.kind in "biu":
        np.testing.assert_array_equal(a, b)
    else:
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)


def run_both(name, args: dict, compare: list[str], result_is_output=False):
    """Call kernel and twin on deep copies of `args`; compare named in-place arrays."""
    ka, ra = copy.deepcopy(args), copy.deepcopy(args)
    kout = getattr(kernels, name)(**ka)
    rout = getattr(reference, name)(**ra)
    for key in compare:
        close(ka[key], ra[key])
    return kout, rout, ka, ra


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


def test_culture(warm_model):
    m = warm_model
    col, org, cu = m.colleagues, m.org, m.scenario.culture
    top_down, brand_w = m._top_down()
    args = dict(personality=col.personality.copy(), personality0=col.personality0.copy(),
                manager=org.manager.astype(np.int64), top_down_w=top_down, brand_w=brand_w,
                brand=np.array(m.scenario.brand.personality), indptr=org.indptr,
                indices=org.indices, edge_w=m._edge_weights(),
                p=CultureParams(cu.stubbornness, cu.self_weight, cu.peer_weight),
                out=np.zeros_like(col.personality))
    _, _, ka, _ = run_both("culture", args, ["out"])
    assert not np.allclose(ka["out"], col.personality)  # the step moved someone


def test_engagement_step(warm_model):
    m = warm_model
    col, org, cu, lv = m.colleagues, m.org, m.scenario.culture, m.levers
    rng = np.random.default_rng(2)
    ep = EngagementParams(
        cu.engagement_rate, cu.engagement_peers, cu.engagement_base, cu.engagement_empowerment,
        cu.engagement_pressure, cu.engagement_pay, cu.engagement_co_creation,
        cu.engagement_mirror, cu.engagement_workload, lv.empowerment, lv.productivity_pressure,
        lv.cx_metrics_weight, lv.pay_alignment, lv.co_creation, cu.headroom_pressure_loss,
        0.5, 0.3)
    n = org.n
    args = dict(engagement=col.engagement.copy(), aptitude=col.aptitude, mirror=rng.random(n),
                overload=rng.random(n) * 0.5, indptr=org.indptr, indices=org.indices,
                edge_w=m._edge_weights(), p=ep, headroom_out=np.zeros(n), out=np.zeros(n))
    run_both("engagement_step", args, ["headroom_out", "out", "engagement"])


def _contacts(m, rng, share=0.5):
    active = np.flatnonzero(m.customers.status == ACTIVE)
    return np.sort(rng.choice(active, size=int(share * len(active)), replace=False))


@pytest.mark.parametrize("digital_on", [True, False])
def test_assign_contacts(warm_model, digital_on):
    m = warm_model
    cus, org = m.customers, m.org
    rng = np.random.default_rng(3)
    contacts = _contacts(m, rng)
    k = len(contacts)
    assert (cus.last_colleague[contacts] >= 0).any()  # relationships exist to be kept
    args = dict(contacts=contacts, prefs=cus.prefs, home_store=cus.home_store,
                last_colleague=cus.last_colleague, colleague_team=org.team.astype(np.int64),
                colleague_channel=org.channel.astype(np.int64), team_indptr=m.team_indptr,
                team_members=m.team_members, pool_indptr=m.pool_indptr,
                pool_members=m.pool_members, relationship=0.5, digital_on=digital_on,
                u_channel=rng.random(k), u_rel=rng.random(k), u_pick=rng.random(k))
    kout, rout, _, _ = run_both("assign_contacts", args, [])
    close(kout[0], rout[0])
    close(kout[1], rout[1])
    assert len(np.unique(kout[1])) == (3 if digital_on else 2)


def _service_params(m, shock=(False, 0.0, -1, 0.0)):
    se, lv = m.scenario.service, m.levers
    return ServiceParams(se.weight_engagement, se.weight_brand_fit, se.weight_empowerment,
                         se.weight_homophily, se.weight_process, se.rush_penalty, se.noise,
                         se.homophily_bandwidth, lv.productivity_pressure, lv.cx_metrics_weight,
                         lv.digital_front_end, se.digital_self_service,
                         m.scenario.perception.consistency_rate, *shock)


def _assigned(m, rng):
    cus, org = m.customers, m.org
    contacts = _contacts(m, rng, 0.6)
    k = len(contacts)
    colleague, channel = kernels.assign_contacts(
        contacts, cus.prefs, cus.home_store, cus.last_colleague, org.team.astype(np.int64),
        org.channel.astype(np.int64), m.team_indptr, m.team_members, m.pool_indptr,
        m.pool_members, 0.3, True, rng.random(k), rng.random(k), rng.random(k))
    return contacts, colleague, channel


@pytest.mark.parametrize("shock", [(False, 0.0, -1, 0.0), (True, 0.4, -1, 0.5),
                                   (True, 0.0, 1, 0.3)])
def test_service(warm_model, shock):
    m = warm_model
    rng = np.random.default_rng(4)
    contacts, colleague, channel = _assigned(m, rng)
    k = len(contacts)
    met_spread = m.customers.met_spread.copy()
    met_spread[contacts[::7]] = -1.0  # some first touchpoints
    args = dict(contacts=contacts, colleague=colleague, channel=channel,
                noise=rng.standard_normal(k), u_fail=rng.random(k),
                cust_personality=m.customers.personality,
                col_personality=m.colleagues.personality,
                col_engagement=m.colleagues.engagement, headroom=m.colleagues.headroom,
                brand=np.array(m.scenario.brand.personality), chain_q=m.chain_quality(),
                met_mean=m.customers.met_mean.copy(), met_spread=met_spread,
                p=_service_params(m, shock), experience=np.zeros(k), homophily=np.zeros(k),
                inconsistency=np.zeros(k))
    _, _, ka, _ = run_both("service", args, ["experience", "homophily", "inconsistency",
                                             "met_mean", "met_spread"])
    assert 0.0 < ka["experience"].mean() < 1.0


def test_perception(warm_model):
    m = warm_model
    cus, pe = m.customers, m.scenario.perception
    rng = np.random.default_rng(5)
    contacts = _contacts(m, rng)
    k = len(contacts)
    pp = PerceptionParams(pe.satisfaction_slope, pe.tolerance, 2.5, pe.memory_rate,
                          pe.expectation_adaptation, pe.expectation_anchor,
                          pe.expectation_initial, pe.trust_gain, pe.trust_loss,
                          pe.inconsistency_penalty, pe.empathy_rate)
    args = dict(contacts=contacts, experience=rng.random(k), homophily=rng.random(k),
                inconsistency=rng.random(k) * 0.3, served_engagement=rng.random(k),
                expectation=cus.expectation.copy(), memory=cus.memory.copy(),
                peak=cus.peak.copy(), trust=cus.trust.copy(), empathy=cus.empathy.copy(),
                p=pp, satisfaction=np.zeros(k))
    _, _, ka, _ = run_both("perception", args, ["satisfaction", "expectation", "memory",
                                                "peak", "trust", "empathy"])
    assert not np.allclose(ka["trust"], cus.trust)


def _attitude_params(pe):
    return AttitudeParams(pe.memory_decay, pe.peak_weight, pe.peak_decay, pe.ltr_memory,
                          pe.ltr_trust, pe.ltr_empathy, pe.ltr_bias, pe.ltr_spread,
                          pe.colleague_advocacy)


def test_attitude(warm_model):
    m = warm_model
    cus = m.customers
    rng = np.random.default_rng(6)
    status = cus.status.copy()
    status[rng.random(len(status)) < 0.1] = CHURNED
    assert (status == PROSPECT).any() and (cus.node_colleague >= 0).any()
    args = dict(status=status, contacted=rng.random(len(status)) < 0.2,
                memory=cus.memory + 0.1 * rng.standard_normal(len(status)),
                peak=cus.peak.copy(), trust=cus.trust, empathy=cus.empathy,
                disposition=cus.disposition, node_colleague=cus.node_colleague,
                col_engagement=m.colleagues.engagement,
                p=_attitude_params(m.scenario.perception), ltr=np.zeros(len(status)))
    _, _, ka, _ = run_both("attitude", args, ["memory", "peak", "ltr"])
    ltr = ka["ltr"]
    assert (ltr >= 9).any() and (ltr < 7).any()  # promoters and detractors both present


def test_wom(warm_model):
    m = warm_model
    cus, net, wm, pe = m.customers, m.social, m.scenario.word_of_mouth, m.scenario.perception
    rng = np.random.default_rng(7)
    n = net.n
    status = cus.status.copy()
    status[rng.random(n) < 0.1] = CHURNED
    ltr = np.clip(rng.normal(7.5, 2.5, n), 0, 10)
    wp = WomParams(0.6, 0.8, wm.churned_talk, wm.second_hop, wm.attitude_weight,
                   wm.expectation_weight, 0.05, 0.8, wm.detractor_repel, wm.winback,
                   pe.expectation_initial, pe.trust_initial, pe.empathy_initial)
    args = dict(indptr=net.indptr, indices=net.indices, status=status, ltr=ltr,
                u_talk=rng.random(n), u_adopt=rng.random(n), neg_prev=rng.poisson(0.3, n) * 1.0,
                memory=cus.memory.copy(), peak=cus.peak.copy(),
                expectation=cus.expectation.copy(), trust=cus.trust.copy(),
                empathy=cus.empathy.copy(), acquired_step=cus.acquired_step.copy(), step=17,
                amplification=0.8, p=wp, speak=np.zeros(n, np.int8), heard_pos=np.zeros(n),
                heard_neg=np.zeros(n), neg_now=np.zeros(n), adopted=np.zeros(n, np.bool_))
    _, _, ka, _ = run_both("wom", args, [
        "status", "memory", "peak", "expectation", "trust", "empathy", "acquired_step",
        "speak", "heard_pos", "heard_neg", "neg_now", "adopted"])
    assert ka["adopted"].sum() > 0 and (ka["speak"] > 0).any() and (ka["speak"] < 0).any()


def test_churn(warm_model):
    m = warm_model
    cus = m.customers
    rng = np.random.default_rng(8)
    n = len(cus.status)
    acquired = cus.acquired_step.copy()
    acquired[rng.random(n) < 0.1] = 5
    args = dict(status=cus.status.copy(), memory=cus.memory, peak=cus.peak, trust=cus.trust,
                u=rng.random(n) * 0.05, acquired_step=acquired, step=5,
                p=ChurnParams(0.01, 2.5, 2.5, 0.3), churned=np.zeros(n, np.bool_))
    _, _, ka, _ = run_both("churn", args, ["status", "churned"])
    assert 0 < ka["churned"].sum() and not (ka["churned"] & (acquired == 5)).any()


@pytest.mark.parametrize("fit", [0.0, 0.7])
def test_staff(warm_model, fit):
    m = warm_model
    col = m.colleagues
    rng = np.random.default_rng(9)
    n = len(col.engagement)
    sp = StaffParams(0.2, 4.0, 0.004, 0.6, fit, 0.5, 0.2)
    args = dict(engagement=col.engagement.copy(), tenure=col.tenure.copy(),
                personality=col.personality.copy(), personality0=col.personality0.copy(),
                mirror=col.mirror.copy(), u_leave=rng.random(n),
                hire_noise=rng.standard_normal((n, 5)),
                hire_customer=rng.integers(0, m.social.n, n),
                cust_personality=m.customers.personality, p=sp, left=np.zeros(n, np.bool_))
    _, _, ka, _ = run_both("staff", args, ["engagement", "tenure", "personality",
                                           "personality0", "mirror", "left"])
    assert 0 < ka["left"].sum() < n


@pytest.mark.parametrize("intensity", [0.0, 0.6])
def test_learning(warm_model, intensity):
    m = warm_model
    rng = np.random.default_rng(10)
    n = m.org.n
    contacts = rng.integers(50, 200, 3).astype(float)
    complaints = np.floor(contacts * rng.random(3) * 0.4)
    args = dict(quality=m.quality * 0.9, quality0=m.quality0.copy(), chain=m.chain,
                complaints=complaints, contacts=contacts,
                step_of_department=m.step_of_department,
                colleague_department=m.org.department.astype(np.int64),
                complaints_handled=rng.poisson(0.5, n).astype(np.int64),
                engagement=m.colleagues.engagement.copy(),
                p=LearningParams(intensity, 0.05, 0.01, 0.05))
    _, _, ka, _ = run_both("learning", args, ["quality", "engagement"])
    assert not np.allclose(ka["quality"], m.quality * 0.9)


def test_revenue(warm_model):
    m = warm_model
    cus = m.customers
    rng = np.random.default_rng(11)
    ltr = rng.uniform(0, 10, len(cus.status))
    mp = MoneyParams(0.15, 0.1)
    k = kernels.revenue(cus.status, cus.value, ltr, mp)
    r = reference.revenue(cus.status, cus.value, ltr, mp)
    assert k == pytest.approx(r, rel=1e-12)
    plain = cus.value[cus.status == ACTIVE].sum()
    assert k != pytest.approx(plain, rel=1e-6)
