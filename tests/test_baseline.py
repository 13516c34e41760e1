"""The baseline company sits where real companies sit (issue 2, item 9).

Published industry NPS averages run from about 0 to +40; annual customer churn of a retail or
service business typically 5-30 %; annual staff attrition 5-30 %; the company makes money.
Checked per seed over 3 replications, a year after the scenario's burn-in, and the NPS
must have settled: little drift over the two years after the burn-in. The burn-in holds the
customer base (size.customers are the active customers at week 0, issue 12), so from week 0
the base grows toward the market's equilibrium; that growth is measured, not hidden.
"""

from __future__ import annotations

import pytest

from cxsim.experiments.run import rep_seeds
from cxsim.model import CXModel
from cxsim.scenario import load_scenario

pytestmark = pytest.mark.slow  # the fast set (-m 'not slow') leaves these to CI

SIZE = {"size.customers": 3000, "size.prospects": 3000, "steps": 52}


@pytest.fixture(scope="module")
def years():
    sc = load_scenario("baseline", SIZE)
    assert sc.burn_in >= 52  # the figures below are after a year of burn-in
    out = []
    for seed in rep_seeds(42, 3):
        m = CXModel(sc, seed=seed, create_agents=False, parallel=False)
        m.run()
        out.append((m, m.timeseries()))
    return out


def test_nps_in_industry_range(years):
    for _, ts in years:
        assert 0 <= ts["nps"].mean() <= 40
        assert -10 <= ts["nps"].min() and ts["nps"].max() <= 50


def test_annual_customer_churn(years):
    for _, ts in years:
        annual = ts["churned"].sum() / ts["active_customers"].mean()  # 52 weeks
        assert 0.05 <= annual <= 0.30


def test_annual_staff_attrition(years):
    total = sum(ts["staff_attrition"].sum() for _, ts in years)
    colleagues = sum(m.org.n for m, _ in years)
    assert 0.05 <= total / colleagues <= 0.30  # pooled: 60 colleagues per run is lumpy
    for m, ts in years:
        assert ts["staff_attrition"].sum() / m.org.n <= 0.30


def test_profitable_and_stable(years):
    for _, ts in years:
        assert (ts["profit"] > 0).all()
        assert ts["cumulative_profit"].iloc[-1] > 0
        first, last = ts["active_customers"].iloc[0], ts["active_customers"].iloc[-1]
        # from the held base of week 0 toward the market's equilibrium (about +25% in the first
        # year at these sizes, 1.24-1.32 over 3 seeds; docs/model.md), never a collapse
        assert 1.0 < last / first < 1.5
        assert 40 <= ts["csat"].mean() <= 95


def test_nps_settled_after_burn_in():
    """The burn-in leaves the baseline in its steady state: over the 104 weeks after it, mean NPS
    of the last 13 weeks differs from the first 13 by a few points at most, per seed (each such
    seed's drift has a spread of about 3 points at 3000 customers), and by under 4 points on
    average over 8 seeds (standard error about 1). The bound was 2.5 while the burn-in let the
    base grow to its equilibrium; with the base held until week 0 (issue 12) it grows by about
    40% over these two years and the newcomers, won by promoters' word of mouth, lift the mean
    drift to about +2.8 (8 seeds). With the former 52-week burn-in and slower expectations the
    mean drift was about -4.5."""
    sc = load_scenario("baseline", {**SIZE, "steps": 104})
    drifts = []
    for seed in rep_seeds(7, 8):
        m = CXModel(sc, seed=seed, create_agents=False, parallel=False)
        m.run()
        nps = m.timeseries()["nps"].to_numpy()
        drifts.append(nps[-13:].mean() - nps[:13].mean())
    print(f"  NPS drift over 104 weeks after burn-in: {[round(d, 1) for d in drifts]}")
    assert all(abs(d) < 8 for d in drifts)
    assert abs(sum(drifts) / len(drifts)) < 4
