"""The validation table is built correctly: patterns, sources, statistics, files, CLI.

These tests check the instrument, not the model: they do not ask the patterns to pass.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cxsim.cli import app
from cxsim.scenario import load_scenario
from cxsim.validation import (
    LEVELS,
    PATTERNS,
    SOURCES,
    TABLE_COLUMNS,
    build_table,
    churn_ratio,
    company_rates,
    half_time,
    hist_skewness,
    positive_share,
    quartile_gap,
    recovery_fall,
    run_validation,
    share_outside,
    top_box_share,
    true_links,
    unit_correlation,
    unit_years,
    variants,
    write_validation,
)


def test_patterns_cover_levels_and_independent_sources():
    assert len(PATTERNS) >= 12
    assert len({p.key for p in PATTERNS}) == len(PATTERNS)
    assert {p.level for p in PATTERNS} == set(LEVELS)
    for level in LEVELS:
        assert sum(p.level == level for p in PATTERNS) >= 3
    used = {p.source for p in PATTERNS} | {s for p in PATTERNS for s in p.extra_sources}
    assert len({p.source for p in PATTERNS}) >= 6
    assert used <= set(SOURCES)
    for p in PATTERNS:
        assert p.low < p.high and p.mechanism and p.statistic
        assert str(p.year) in SOURCES[p.source]


def test_every_source_is_cited_in_the_docs():
    from pathlib import Path

    doc = (Path(__file__).resolve().parent.parent / "docs" / "validation.md").read_text()
    for p in PATTERNS:
        assert f"`{p.key}`" in doc, p.key
    for key, ref in SOURCES.items():
        assert ref.split(" (")[0].split(",")[0] in doc, key


def test_answer_statistics_on_known_distributions():
    sym = np.array([0, 0, 1, 2, 3, 4, 3, 2, 1, 0, 0], float)
    assert hist_skewness(sym) == pytest.approx(0.0, abs=1e-12)
    left = np.array([1, 0, 0, 0, 0, 0, 0, 0, 5, 10, 4], float)  # long tail to the left
    assert hist_skewness(left) < -1
    x = np.repeat(np.arange(11), left.astype(int))
    from scipy import stats

    assert hist_skewness(left) == pytest.approx(stats.skew(x))
    assert top_box_share(left) == pytest.approx(4 / 20)


def test_segment_and_wom_statistics():
    # detractors churn 10 of 100, promoters 2 of 100: ratio 5
    assert churn_ratio([100, 50, 100], [10, 1, 2]) == pytest.approx(5.0)
    assert np.isnan(churn_ratio([0, 50, 100], [0, 1, 2]))
    assert share_outside([10, 30, 60], 2) == pytest.approx(0.4)
    assert share_outside([0, 0, 5], 2) == 0.0
    assert positive_share(75, 25) == pytest.approx(0.75)


def _weekly_units(rng, n_units=20, weeks=104, r_sign=1.0):
    """Synthetic weekly unit table: CSAT follows each unit's engagement with known sign."""
    eng = rng.uniform(0.3, 0.7, n_units)
    rows = []
    for t in range(weeks):
        e = eng + 0.01 * rng.standard_normal(n_units)
        rows.append(pd.DataFrame({
            "step": t, "unit": np.arange(n_units), "engagement": e,
            "csat": 60 + r_sign * 40 * (eng - 0.5) + rng.standard_normal(n_units),
            "nps": 10 + rng.standard_normal(n_units) * 5,
            "staff_leavers": rng.poisson(0.1, n_units),
            "colleagues": 10, "customers": 100, "contacts": rng.integers(0, 30, n_units)}))
    return pd.concat(rows, ignore_index=True)


def test_unit_years_aggregate_as_the_studies_do():
    u = pd.DataFrame({"step": [0, 1, 0, 1], "unit": [0, 0, 1, 1],
                      "engagement": [0.4, 0.6, 0.5, 0.5],
                      "csat": [50.0, 80.0, np.nan, 70.0], "nps": [10.0, 30.0, 0.0, 20.0],
                      "staff_leavers": [1, 0, 0, 2], "colleagues": [10, 10, 10, 10],
                      "customers": [1, 3, 1, 1], "contacts": [1, 3, 0, 2]})
    y = unit_years(u, weeks=2).set_index("unit")
    assert y.loc[0, "engagement"] == pytest.approx(0.5)
    assert y.loc[0, "csat"] == pytest.approx((50 + 3 * 80) / 4)  # contact-weighted
    assert y.loc[1, "csat"] == pytest.approx(70.0)  # a week without contacts counts for nothing
    assert y.loc[0, "nps"] == pytest.approx((10 + 90) / 4)  # customer-weighted
    assert y.loc[1, "turnover"] == pytest.approx(2 / 10)  # leavers per colleague per "year"


def test_true_links_ignore_the_surveys():
    """The links beside the table use the true columns even where survey measures exist."""
    rng = np.random.default_rng(1)
    u = _weekly_units(rng, r_sign=1.0)
    u["engagement_measured"] = rng.random(len(u))  # surveys that saw nothing
    u["csat_measured"] = rng.random(len(u)) * 100
    u["nps_measured"] = rng.random(len(u)) * 100
    u["csat_respondents"] = 10
    u["nps_respondents"] = 10
    assert abs(unit_correlation(unit_years(u), "engagement", "csat")) < 0.5
    csat, nps, turnover = true_links(u)
    assert csat > 0.8
    assert csat == pytest.approx(unit_correlation(unit_years(u, measured=False),
                                                  "engagement", "csat"))


def test_unit_correlation_recovers_sign_and_strength():
    rng = np.random.default_rng(0)
    pos = unit_years(_weekly_units(rng, r_sign=1.0))
    neg = unit_years(_weekly_units(rng, r_sign=-1.0))
    assert set(pos["year"]) == {0, 1}
    assert unit_correlation(pos, "engagement", "csat") > 0.8
    assert unit_correlation(neg, "engagement", "csat") < -0.8
    assert abs(unit_correlation(pos, "engagement", "nps")) < 0.5
    assert quartile_gap(pos) > 5 and quartile_gap(neg) < -5
    assert np.isnan(unit_correlation(pos[pos["unit"] < 3], "engagement", "csat"))


def test_company_rates_from_a_timeseries():
    ts = pd.DataFrame({"nps": [10.0, 20.0] * 26, "active_customers": 1000, "churned": 2,
                       "staff_attrition": 1, "profit": 10.0, "revenue": 100.0})
    r = company_rates(ts, n_colleagues=52)
    assert r["nps"] == pytest.approx(15.0)
    assert r["customer_churn"] == pytest.approx(104 / 1000)
    assert r["staff_attrition"] == pytest.approx(1.0)
    assert r["margin"] == pytest.approx(0.1)
    assert np.isnan(r["first_contact_resolution"]) and np.isnan(r["failure_demand"])
    ts["first_contact_resolution"] = [0.6, 0.8] * 26
    ts["failure_demand"] = 0.4
    r = company_rates(ts, n_colleagues=52)
    assert r["first_contact_resolution"] == pytest.approx(0.7)
    assert r["failure_demand"] == pytest.approx(0.4)


def test_timing_statistics():
    step = np.full(60, 10.0)
    assert half_time(step) == 1  # a jump shows in its first week
    ramp = np.minimum(np.arange(1, 61) / 20, 1.0) * 10
    assert half_time(ramp) == pytest.approx(10, abs=2)
    assert np.isnan(half_time(np.zeros(60)))
    d = np.zeros(80)
    d[8:12] = -np.arange(1, 5) * 5  # falls for 4 weeks to -20
    d[12:] = -20 + np.arange(68) * 0.5  # recovers 0.5 a week: half the loss back in 20 weeks
    fall, rec = recovery_fall(d, 8)
    assert fall == pytest.approx(4, abs=1) and rec == pytest.approx(20, abs=2)


def test_table_columns_and_verdicts():
    rows = [{"rep": k, "pattern": p.key, "value": (p.low + p.high) / 2 if np.isfinite(p.low)
             else p.high - 1} for k in range(3) for p in PATTERNS]
    t = build_table(pd.DataFrame(rows))
    assert list(t.columns) == list(TABLE_COLUMNS)
    assert t["pass"].all() and (t["reps"] == 3).all()
    rows = [{"rep": k, "pattern": p.key,
             "value": p.high + (0.1 if p.key.endswith("_r") else 1) * (1 + k)}
            for k in range(3) for p in PATTERNS]
    t = build_table(pd.DataFrame(rows))
    assert not t["pass"].any()
    assert (t["ci_low"] < t["model_value"]).all() and (t["model_value"] < t["ci_high"]).all()
    r = t[t["pattern"].str.endswith("_r")]
    assert (r["ci_low"] >= -1).all() and (r["ci_high"] <= 1).all()
    cal = t.set_index("pattern")["calibrated_by"]
    assert cal["first_contact_resolution"] == "service.fcr_intercept"
    assert cal["churn_by_segment"] == "churn.attitude_share"  # "value: calibration to the ..."
    assert cal["pwom_share"] == "" and cal["unit_eng_csat_r"] == ""


def test_every_calibration_names_a_pattern():
    """A field whose source is a calibration is set against a pattern of the table, so the
    table can say which passes are not independent evidence."""
    from cxsim.sources import PARAMETER_SOURCES, source_kind
    from cxsim.validation import calibrated_by

    named = {f for p in PATTERNS for f in calibrated_by(p.key)}
    for f, (_, src) in PARAMETER_SOURCES.items():
        if source_kind(src) == "calibration" and not f.startswith("calibration."):
            assert f in named, f


def test_performance_link_of_colleagues_over_a_year():
    """The probe's engagement-performance link: per colleague in post all year, mean
    engagement against mean experience delivered; leavers, the back office and colleagues with
    few contacts are left out."""
    from cxsim.validation import Probe

    rng = np.random.default_rng(4)
    n = 60
    eng = rng.uniform(0.2, 0.8, n)
    quality = 0.5 * eng + rng.normal(0, 0.05, n)  # each colleague's mean experience
    out = np.r_[0:8, n - 1]
    quality[out] = 0.6 - 0.5 * eng[out]  # those left out go the other way: they must stay out
    in_post = np.ones(n, bool)
    in_post[:5] = False  # the back office
    probe = Probe()
    for week in range(52):
        who = np.repeat(np.arange(n), 2)  # two contacts each a week
        who = who[(who != n - 1) | (week % 4 == 0)]  # the last serves 13 contacts a year
        left = np.zeros(n, bool)
        if week == 30:
            left[5:8] = True
        probe._track_performance({
            "engagement": eng + rng.normal(0, 0.02, n), "in_post": in_post, "left": left,
            "served_by": who, "experience": quality[who] + rng.normal(0, 0.1, len(who))})
    assert len(probe.performance_r) == 1 and not probe._year
    kept = np.arange(8, n - 1)
    expected = np.corrcoef(eng[kept], quality[kept])[0, 1]
    assert probe.performance_r[0] == pytest.approx(expected, abs=0.05)
    assert probe.performance_r[0] > 0.6


def test_diary_share_of_colleagues_over_a_quarter():
    """The probe's within-person share: per quarter of weekly engagement, colleagues in post
    all quarter only (a leaver's post refilled by a hire is another person), 1 - ICC(1) by
    person."""
    from cxsim.validation import DIARY_WEEKS, Probe

    rng = np.random.default_rng(5)
    n = 80
    usual = rng.normal(0.6, 0.1, n)  # person variance 0.01; weekly variance 0.0025
    in_post = np.ones(n, bool)
    in_post[:10] = False  # the back office, whose weeks swing widely: it must stay out
    probe = Probe()
    for week in range(2 * DIARY_WEEKS):
        left = np.zeros(n, bool)
        if week == 3:
            left[10:20] = True  # ... and their posts' new people start far off
        eng = usual + rng.normal(0, 0.05, n)
        eng[:10] += rng.normal(0, 0.5, 10)
        if week > 3:
            eng[10:20] += 0.5
        probe._track_diary({"engagement": eng, "in_post": in_post, "left": left})
    assert len(probe.within_share) == 2 and not probe._diary
    # the first quarter leaves out the posts whose holder left (counted as one person, their
    # jump of 0.5 would take the share to about 0.35): 0.0025 / (0.0025 + 0.01)
    assert probe.within_share[0] == pytest.approx(0.2, abs=0.06)
    # the second counts the hires as people of their own, 0.5 above the rest: the spread
    # between persons grows to 0.01 + 0.25 x 1/7 x 6/7, the share falls to about 0.06
    assert probe.within_share[1] == pytest.approx(0.0025 / 0.0431, abs=0.02)


def test_variants_share_everything_but_their_event():
    sc = load_scenario("baseline")
    v = variants(sc)
    assert set(v) == {"reference", "culture_change", "failure"}
    for name in ("culture_change", "failure"):
        assert len(v[name].events) == len(sc.events) + 1
        assert v[name].size == sc.size and v[name].levers == sc.levers


@pytest.mark.slow
def test_validate_end_to_end_writes_every_file(tmp_path):
    sc = load_scenario("baseline", {"size.customers": 3000, "size.prospects": 3000,
                                    "size.colleagues": 200, "steps": 52})
    v = run_validation(sc, reps=2, seed=5)
    write_validation(tmp_path, v)
    t = pd.read_csv(tmp_path / "validation.csv")
    assert list(t.columns) == list(TABLE_COLUMNS) and len(t) == len(PATTERNS)
    assert t["model_value"].notna().sum() >= 12
    assert (tmp_path / "validation.md").read_text().count("![") == len(PATTERNS)
    for p in PATTERNS:
        assert (tmp_path / f"fig_{p.key}.png").stat().st_size > 1000
    # word of mouth of both valences comes from every segment (no longer by construction from
    # promoters and detractors only)
    by = t.set_index("pattern")["model_value"]
    assert 0.0 < by["pwom_from_non_promoters"] < 1.0
    assert 0.0 < by["nwom_from_non_detractors"] < 1.0
    # teams share their engagement: a share of its variance between teams, 0..1
    assert 0.0 < by["engagement_team_icc"] < 1.0
    # a person's own trait explains part of their engagement; engaged colleagues serve better
    assert 0.0 < by["engagement_person_share"] < 1.0
    assert 0.0 < by["engagement_performance_r"] < 1.0
    md = (tmp_path / "validation.md").read_text()
    assert "The unit-level links from the true values" in md


def test_validate_cli_rejects_bad_input_before_any_work(tmp_path):
    runner = CliRunner()
    f = tmp_path / "file"
    f.write_text("x")
    for args in (["validate", "nosuch"], ["validate", "--steps", "10"],
                 ["validate", "--out", str(f)], ["validate", "--reps", "0"]):
        res = runner.invoke(app, args)
        assert res.exit_code == 2, args
    assert not (tmp_path / "out").exists()


def test_unit_icc_matches_the_anova_formula_with_unequal_units():
    """ICC(1) = (MSB - MSW) / (MSB + (n0 - 1) MSW) with n0 the adjusted mean unit size, on
    unequal units; units under the minimum and unit -1 are left out, also when the last unit
    is the small one (it once read past the counts)."""
    from cxsim.validation import unit_icc

    rng = np.random.default_rng(3)
    sizes = [40, 90, 200, 35, 120, 60]
    unit = np.concatenate([np.full(s, k) for k, s in enumerate(sizes)] + [np.full(12, 6),
                                                                          np.full(30, -1)])
    x = rng.normal(0, 0.4, 7)[np.maximum(unit, 0)] + rng.normal(0, 1, len(unit))
    keep = (unit >= 0) & (unit < 6)
    groups = [x[keep & (unit == k)] for k in range(6)]
    n = np.array([len(g) for g in groups])
    big_n, k = n.sum(), len(n)
    grand = np.concatenate(groups).mean()
    msb = sum(len(g) * (g.mean() - grand) ** 2 for g in groups) / (k - 1)
    msw = sum(((g - g.mean()) ** 2).sum() for g in groups) / (big_n - k)
    n0 = (big_n - (n ** 2).sum() / big_n) / (k - 1)
    assert unit_icc(x, unit) == pytest.approx((msb - msw) / (msb + (n0 - 1) * msw), rel=1e-12)
    assert np.isnan(unit_icc(x[:40], unit[:40]))  # one unit only
    assert np.isnan(unit_icc(x[:0], unit[:0]))


def test_customer_mix_sets_stores_apart_without_moving_the_company():
    """The customer mix shifts each catchment's disposition, centred, from a stream of its own:
    the company's mean disposition and every other draw are unchanged; a company with one
    store has nothing to set apart."""
    from cxsim.model import CXModel

    def build(customers: int, spread: float) -> CXModel:
        return CXModel("baseline", seed=5, create_agents=False, overrides={
            "size.customers": customers, "size.prospects": customers, "burn_in": 0,
            "steps": 1, "perception.mix_spread": spread})

    off, on = build(20_000, 0.0), build(20_000, 0.3)
    assert len(on.store_teams) > 5
    shift = on.customers.disposition - off.customers.disposition
    assert abs(shift.mean()) < 1e-9 and shift.std() > 0.1
    home = on.customers.home_store
    for h in np.unique(home):  # one shift per catchment
        assert np.ptp(shift[home == h]) < 1e-9
    np.testing.assert_array_equal(on.customers.personality, off.customers.personality)
    np.testing.assert_array_equal(on.colleagues.personality, off.colleagues.personality)
    one_store = build(3000, 0.3)
    assert len(one_store.store_teams) == 1
    np.testing.assert_allclose(one_store.customers.disposition,
                               build(3000, 0.0).customers.disposition, atol=1e-12)


def test_after_gap_reads_the_long_run_after_the_failure():
    """The restoration statistic: the paired gap over the second half-year of restored service,
    never the failure's weeks (about -25 there) nor the first half-year's rebound; nan when the
    run ends first."""
    from cxsim.validation import FAILURE_END, FAILURE_STEP, after_gap

    weeks = np.arange(104)
    reference = np.full(104, 60.0)
    failure = reference.copy()
    failure[FAILURE_STEP:FAILURE_END] -= 25.0  # the failure itself
    failure[FAILURE_END:FAILURE_END + 26] += 5.0  # the rebound
    failure[FAILURE_END + 26:] -= 1.0 + 0.01 * (weeks[FAILURE_END + 26:] % 3)  # a lasting loss
    got = after_gap(failure, reference)
    assert got == pytest.approx(-1.0 - 0.01 * np.mean(weeks[FAILURE_END + 26:FAILURE_END + 52] % 3))
    assert after_gap(failure, reference, window=(0, 26)) == pytest.approx(5.0)
    assert np.isnan(after_gap(failure[:60], reference[:60]))
