"""Limits theory predicts (stylized fact 9 of docs/design.md).

Bass (1969): with service effects off on a well-mixed network, the share adopted follows
F(t+1) = F + (1 - F)(p + q F). Friedkin & Johnsen (1990): the culture step alone converges to
x* = (I - (1-s) A)^-1 (s x0 + (1-s) b); with s = 0 and no brand pull it reaches consensus
(DeGroot 1974) at the stationary average pi' x0.
"""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pytest
from scipy.optimize import brentq

from cxsim import kernels, reference
from cxsim.model import CXModel
from cxsim.params import CultureParams

P, Q = 0.01, 0.3
N, C0, STEPS = 3000, 60, 50
SEEDS = range(6)

BASS = {
    "size.customers": C0, "size.prospects": N - C0, "size.colleagues": 30, "burn_in": 0,
    "steps": STEPS,
    # service effects off: nobody is served, nobody churns, colleagues are not in the network
    "service.contact_rate": 0.0, "churn.base": 0.0, "social.colleague_members": 0.0,
    "word_of_mouth.detractor_repel": 0.0,
    # everyone equally drawn to the brand, whatever its image (Bass has no brand image)
    "image.self_congruity": 0.0,
    # well mixed: Erdos-Renyi with a high mean degree
    "social.kind": "random", "social.mean_degree": 80.0,
    # every active customer is a promoter (LTR clipped to 10) who talks well every week
    "perception.ltr_bias": 100.0, "word_of_mouth.talk_base": 1.0,
    "word_of_mouth.valence_spread": 0.01, "word_of_mouth.second_hop": 0.0,
    "levers.social_amplification": 1.0,
    "levers.marketing": P, "word_of_mouth.adoption_q": Q,
}


def discrete_bass(f0: float, steps: int, p: float = P, q: float = Q) -> np.ndarray:
    f = [f0]
    for _ in range(steps):
        f.append(f[-1] + (1 - f[-1]) * (p + q * f[-1]))
    return np.array(f)


def closed_form_bass(t: np.ndarray, p: float = P, q: float = Q) -> np.ndarray:
    e = np.exp(-(p + q) * t)
    return (1 - e) / (1 + q / p * e)


@pytest.fixture(scope="module")
def adoption_curves() -> np.ndarray:
    curves = []
    for seed in SEEDS:
        m = CXModel("baseline", seed=seed, overrides=BASS, create_agents=False, parallel=False)
        m.run()
        ts = m.timeseries()
        assert ts["churned"].sum() == 0 and ts["wom_negative"].sum() == 0
        curves.append(np.r_[C0 / N, ts["active_customers"].to_numpy() / N])
    return np.array(curves)


def test_adoption_follows_discrete_bass(adoption_curves):
    """Margins: binomial noise in the first weeks (60 adopters) shifts a single run's take-off
    by a week or two, which shows as up to ~0.015 mean / ~0.08 max absolute deviation per seed
    (measured). Averaging 6 seeds divides that by ~sqrt(6); the mean curve is measured at
    ~0.0015 mean / ~0.008 max deviation, so 0.01 / 0.04 leaves room for noise while still
    failing for a curve shifted by one week (0.02 mean deviation) or without imitation."""
    f = discrete_bass(C0 / N, STEPS)
    mean = adoption_curves.mean(axis=0)
    assert np.abs(mean - f).mean() < 0.01
    assert np.abs(mean - f).max() < 0.04
    for curve in adoption_curves:
        assert np.abs(curve - f).mean() < 0.04
    # the test can tell: a curve one week late, or marketing alone, misses by far more
    assert np.abs(np.r_[f[0], f[:-1]] - f).mean() > 0.015
    marketing_only = 1 - (1 - C0 / N) * (1 - P) ** np.arange(STEPS + 1)
    assert np.abs(mean - marketing_only).mean() > 0.2
    assert mean[-1] > 0.95  # saturation


def test_adoption_close_to_closed_form(adoption_curves):
    """The closed form is the continuous-time limit; weekly steps with q = 0.3 differ from it
    by ~0.012 mean / ~0.065 max (Euler error), hence the wider margins."""
    t0 = brentq(lambda s: closed_form_bass(np.array(s)) - C0 / N, 0.0, 50.0)
    g = closed_form_bass(np.arange(STEPS + 1) + t0)
    mean = adoption_curves.mean(axis=0)
    assert np.abs(mean - g).mean() < 0.025
    assert np.abs(mean - g).max() < 0.1


# -- Friedkin-Johnsen --------------------------------------------------------------------------

def _organisation(**kw):
    ov = {"size.customers": 400, "size.prospects": 50, "size.colleagues": 150, "burn_in": 0}
    ov.update(kw)
    return CXModel("baseline", seed=11, overrides=ov, create_agents=False)


def _culture_records(m):
    """The culture phase's parameter record and the organisation's weighted ties, as the
    model builds them (`params.build`)."""
    p = m._params()
    return p.culture, dataclasses.replace(m.org_graph, weight=p.tie_weight)


def influence_matrix(m: CXModel, top_down, brand_w, cp: CultureParams):
    """Row-normalised influence A (self, manager, peers) and brand pull c, built from the CSR,
    manager and weight arrays without the kernel: x' = s x0 + (1-s)(A x + c)."""
    org = m.org
    n = org.n
    edge_w = m._params().tie_weight
    w = np.zeros((n, n))
    w[np.arange(n), np.arange(n)] += cp.self_weight
    for i in range(n):
        if org.manager[i] >= 0:
            w[i, org.manager[i]] += top_down[i]
        lo, hi = org.indptr[i], org.indptr[i + 1]
        for e in range(lo, hi):
            w[i, org.indices[e]] += cp.peer_weight * edge_w[e] / (hi - lo)
    total = w.sum(axis=1) + brand_w
    brand = np.array(m.scenario.brand.personality)
    return w / total[:, None], (brand_w / total)[:, None] * brand[None, :]


@pytest.mark.parametrize("kernel", [kernels.culture_serial, kernels.culture, reference.culture],
                         ids=["numba_serial", "numba_parallel", "reference"])
def test_culture_converges_to_friedkin_johnsen_equilibrium(kernel):
    m = _organisation()
    cp, org = _culture_records(m)
    top_down, brand_w = cp.top_down, cp.brand_pull
    a, c = influence_matrix(m, top_down, brand_w, cp)
    s = cp.stubbornness
    x0 = m.colleagues.personality0.copy()
    expected = np.linalg.solve(np.eye(m.org.n) - (1 - s) * a, s * x0 + (1 - s) * c)
    col = copy.deepcopy(m.colleagues)
    x = col.personality
    out = np.empty_like(x)
    brand = cp.brand
    for _ in range(250):  # contraction factor <= 1 - s = 0.85 per step: 0.85^250 ~ 2e-18
        kernel(col.arrays(), org.arrays(), cp, out)
        x[:] = out
    np.testing.assert_allclose(x, expected, atol=1e-9)
    # a non-trivial equilibrium: not the start, not the brand
    assert np.abs(expected - x0).max() > 0.05
    assert np.abs(expected - brand).max() > 0.05


def test_culture_without_anchors_reaches_consensus():
    m = _organisation(**{"culture.stubbornness": 0.0, "culture.brand_weight": 0.0})
    cp, org = _culture_records(m)
    top_down, brand_w = cp.top_down, cp.brand_pull
    assert np.all(brand_w == 0)
    a, _ = influence_matrix(m, top_down, brand_w, cp)
    np.testing.assert_allclose(a.sum(axis=1), 1.0)
    # stationary distribution pi (left eigenvector for eigenvalue 1): the consensus is pi' x0
    vals, vecs = np.linalg.eig(a.T)
    pi = np.real(vecs[:, np.argmin(np.abs(vals - 1))])
    pi /= pi.sum()
    x0 = m.colleagues.personality.copy()
    consensus = pi @ x0
    col = copy.deepcopy(m.colleagues)
    x = col.personality
    out = np.empty_like(x)
    for _ in range(3000):
        kernels.culture_serial(col.arrays(), org.arrays(), cp, out)
        x[:] = out
    assert x0.std(axis=0).min() > 0.05  # there was disagreement to begin with
    assert np.ptp(x, axis=0).max() < 1e-6
    np.testing.assert_allclose(x, np.broadcast_to(consensus, x.shape), atol=1e-6)
