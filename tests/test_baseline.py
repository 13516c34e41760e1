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
    """The NPS the company measures (its survey, as published industry figures are) lies in
    the published range in every replication, as the `nps` pattern of the validation reads it.
    The NPS of all customers' latent likelihood to recommend (`nps`) sits about 12 points lower,
    mostly the survey's non-response bias (seventh round: -2.0, -0.2 and +7.1 here against
    measured 10.4, 13.2 and 17.0; docs/validation.md)."""
    for _, ts in years:
        assert 0 <= ts["nps_measured"].mean() <= 40
        assert -10 <= ts["nps_measured"].min() and ts["nps_measured"].max() <= 50


def test_annual_customer_churn(years):
    for _, ts in years:
        annual = ts["churned"].sum() / ts["active_customers"].mean()  # 52 weeks
        assert 0.05 <= annual <= 0.30


def test_annual_staff_attrition(years):
    total = sum(ts["staff_attrition"].sum() for _, ts in years)
    colleagues = sum(m.org.n for m, _ in years)
    # the band of the staff_attrition pattern (Batt 2002; BLS JOLTS), pooled: 60 colleagues
    # per run is lumpy
    assert 0.15 <= total / colleagues <= 0.50
    for m, ts in years:
        assert ts["staff_attrition"].sum() / m.org.n <= 0.50


def test_profitable_and_stable(years):
    for _, ts in years:
        # the company makes money: a week with two leavers' hiring costs may dip below zero
        # at this small size (weekly profit a few per cent of revenue), most weeks do not
        assert (ts["profit"] > 0).mean() >= 0.9
        assert ts["cumulative_profit"].iloc[-1] > 0
        first, last = ts["active_customers"].iloc[0], ts["active_customers"].iloc[-1]
        # from the held base of week 0 toward the market's equilibrium (about +20% in the first
        # year at these sizes, 1.20-1.23 over these 3 seeds; docs/model.md), never a collapse
        assert 1.0 < last / first < 1.5
        assert 40 <= ts["csat"].mean() <= 95


def test_nps_settled_after_burn_in():
    """The 104-week burn-in (customer base held, issue 12) leaves attitudes in their steady
    state: running it twice as long changes the NPS of the first 13 reported weeks by a few
    points at most per seed (the noise of a 13-week mean at 3000 customers is about 2 points,
    so the difference of two has an sd of about 2.8: the bound, 9, is about 3 sd; a 6-point
    bound, 2 sd, failed one seed in 8 by chance) and by under 2.5 points on average over 8
    seeds (standard error about 1).

    After week 0 the base grows toward the market's equilibrium as newcomers are won by
    promoters' word of mouth. Newcomers' dispositions are drawn afresh while the base's start
    sorted by years of churn (`churn.attitude_share`), so NPS drifts down a little as they join
    (about -4 points over the 104 weeks at the default size on Model v2's third round; it rose
    about +7 while sorting only began at week 0). That drift is the market moving, not an
    unsettled burn-in, so it is reported in docs/model.md and printed here, not bounded. While
    the burn-in let the base grow to its equilibrium, this test bounded that drift instead (mean
    about -0.6)."""
    gaps, drifts = [], []
    for seed in rep_seeds(7, 8):
        nps = {}
        for burn_in in (104, 208):
            sc = load_scenario("baseline", {**SIZE, "steps": 104 if burn_in == 104 else 13,
                                            "burn_in": burn_in})
            m = CXModel(sc, seed=seed, create_agents=False, parallel=False)
            m.run()
            nps[burn_in] = m.timeseries()["nps"].to_numpy()
        gaps.append(nps[208][:13].mean() - nps[104][:13].mean())
        drifts.append(nps[104][-13:].mean() - nps[104][:13].mean())
    print(f"  NPS, 208 minus 104 weeks of burn-in: {[round(g, 1) for g in gaps]}")
    print(f"  NPS drift over the 104 weeks after week 0: {[round(d, 1) for d in drifts]}")
    assert all(abs(g) < 9 for g in gaps)
    assert abs(sum(gaps) / len(gaps)) < 2.5
