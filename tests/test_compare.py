"""`cxsim compare`: common random numbers, worker-independent numbers, files, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cxsim.cli import app
from cxsim.experiments.compare import (
    CompareError,
    comparison_table,
    load_scenarios,
    mean_ci,
    paired_diff_ci,
    run_comparison,
)
from cxsim.scenario import builtin_scenarios, load_scenario

TINY = {"size.customers": 800, "size.prospects": 200, "burn_in": 4, "steps": 6}
LIBRARY = ("baseline", "culture_first", "digital_bolt_on", "board_level_cx", "silos",
           "hire_like_customers", "pay_alignment", "crisis_knee_jerk", "crisis_complaints_first")


def tiny(name: str) -> object:
    return load_scenario(name, TINY)


def test_library_complete_and_valid() -> None:
    found = builtin_scenarios()
    for name in LIBRARY:
        assert name in found, name
        sc = load_scenario(name)
        assert sc.description, name
        assert sc.steps == load_scenario("baseline").steps, name  # comparable horizons
        if name != "baseline":
            text = found[name].read_text()
            assert text.startswith("#") and 'extends = "baseline"' in text, name


def test_stats_helpers() -> None:
    m, lo, hi = mean_ci([1.0, 2.0, 3.0, 4.0])
    assert m == 2.5 and lo < 2.5 < hi
    d, dlo, dhi = paired_diff_ci([1.0, 2.0, 3.0], [2.0, 3.1, 3.9])
    assert d == pytest.approx(1.0) and dlo > 0  # the shared noise cancels when paired


@pytest.mark.slow
def test_common_random_numbers_and_workers() -> None:
    """Same seeds whatever the process count; identical scenarios differ by exactly zero."""
    base = tiny("baseline")
    twin = tiny("baseline")
    twin.name = "twin"
    a = run_comparison([base, twin], reps=2, workers=1)
    b = run_comparison([base, twin], reps=2, workers=2)
    pd.testing.assert_frame_equal(a.table, b.table)
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries)
    twin_rows = a.table[a.table.scenario == "twin"]
    assert np.all(twin_rows.diff_vs_first == 0.0)
    assert np.all(twin_rows.diff_ci_low == 0.0) and np.all(twin_rows.diff_ci_high == 0.0)
    assert not twin_rows["clear"].any()


def test_table_columns_and_paired_difference() -> None:
    summary = pd.DataFrame({"scenario": ["a"] * 3 + ["b"] * 3, "rep": [0, 1, 2] * 2})
    from cxsim.experiments.compare import METRICS

    for col, _ in METRICS:
        summary[col] = [1.0, 5.0, 9.0, 2.0, 6.0, 10.0]
    t = comparison_table(summary, ["a", "b"])
    row = t[(t.scenario == "b") & (t.metric == "final_nps")].iloc[0]
    assert row.diff_vs_first == pytest.approx(1.0)
    assert row.diff_ci_low == pytest.approx(1.0) and row["clear"]
    assert row.ci_low < 6.0 < row.ci_high
    for c in ("scenario", "metric", "mean", "ci_low", "ci_high", "diff_vs_first",
              "diff_ci_low", "diff_ci_high"):
        assert c in t.columns


def test_cli_writes_files(tmp_path, monkeypatch) -> None:
    scen = tmp_path / "scen"  # a tiny baseline, and the real culture_first on top of it
    scen.mkdir()
    real = builtin_scenarios()
    (scen / "baseline.toml").write_text(
        f'name = "baseline"\nextends = {str(real["baseline"])!r}\nsteps = 6\nburn_in = 4\n'
        "[size]\ncustomers = 800\nprospects = 200\n")
    (scen / "culture_first.toml").write_text(real["culture_first"].read_text())
    monkeypatch.setenv("CXSIM_SCENARIOS", str(scen))
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["compare", "baseline", "culture_first", "--reps", "2",
                                   "--out", str(out)])
    assert res.exit_code == 0, res.output
    for f in ("comparison.csv", "comparison.png", "report.md", "timeseries.csv"):
        assert (out / f).stat().st_size > 0, f
    csv = pd.read_csv(out / "comparison.csv")
    assert set(csv.scenario) == {"baseline", "culture_first"}
    assert {"final_nps", "final_cumulative_profit", "total_churned"} <= set(csv.metric)
    report = (out / "report.md").read_text()
    assert "comparison.png" in report and "Within noise" in report
    assert not list(out.glob("*.partial"))


@pytest.mark.parametrize("args, needle", [
    (["baseline", "no_such_scenario"], "no_such_scenario"),
    (["baseline", "culture_first", "--reps", "1"], "at least 2"),
    (["baseline"], "at least two"),
    (["baseline", "baseline"], "named twice"),
])
def test_cli_bad_input(tmp_path, args, needle) -> None:
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["compare", *args, "--out", str(out)])
    assert res.exit_code == 2, res.output
    assert needle in res.output
    assert "Traceback" not in res.output
    assert not out.exists()


def test_different_horizons(tmp_path) -> None:
    other = tmp_path / "long.toml"
    other.write_text('name = "long"\nextends = "baseline"\nsteps = 300\n')
    with pytest.raises(CompareError, match="different horizons"):
        load_scenarios(["baseline", str(other)], reps=3)
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["compare", "baseline", str(other), "--out", str(out)])
    assert res.exit_code == 2 and "different horizons" in res.output
    assert "Traceback" not in res.output and not out.exists()
    # --steps puts every scenario on the same horizon
    assert [s.steps for s in load_scenarios(["baseline", str(other)], 2, steps=20)] == [20, 20]


def test_time_scales_time_a_slow_gain_and_a_fast_fall_with_a_slow_recovery():
    """A made-up comparison: scenario "slow" gains 10 NPS points linearly over 40 weeks; "hit"
    has a failure at week 20 that takes 10 points in 4 weeks and gives them back over 40."""
    import pandas as pd

    from cxsim.experiments.compare import Comparison, time_scales
    from cxsim.scenario import ServiceFailure

    steps = np.arange(104)
    rows = []
    for rep in range(3):
        noise = 0.01 * rep
        base = {"nps": 10.0 + noise + 0 * steps, "csat": 70.0 + 0 * steps,
                "engagement": 0.5 + 0 * steps}
        slow = dict(base, nps=base["nps"] + 10 * np.minimum(steps / 40, 1))
        dip = np.where(steps < 20, 0, np.where(steps < 24, -2.5 * (steps - 19),
                       np.minimum(0, -10 + 0.25 * (steps - 24))))
        hit = dict(base, nps=base["nps"] + dip)
        for name, d in (("base", base), ("slow", slow), ("hit", hit)):
            rows.append(pd.DataFrame({"scenario": name, "rep": rep, "step": steps, **d}))
    cmp = Comparison(names=["base", "slow", "hit"], seed=1, reps=3, steps=104,
                     timeseries=pd.concat(rows), summary=pd.DataFrame(), table=pd.DataFrame(),
                     events={"hit": [ServiceFailure(type="service_failure", step=20)]})
    t = time_scales(cmp).set_index(["scenario", "metric", "time"])["mean"]
    assert 18 <= t["slow", "nps", "weeks_to_half_effect"] <= 24
    assert 3 <= t["hit", "nps", "weeks_to_trough"] <= 6
    assert 18 <= t["hit", "nps", "weeks_to_recover_half"] <= 24
    assert np.isnan(t["slow", "csat", "weeks_to_half_effect"])  # no effect, nothing timed


def _failure_comparison(never: dict[str, set[int]], reps: int = 5, steps: int = 60):
    """A made-up comparison: in each scenario a failure at week 10 takes 10 NPS points in 4
    weeks; a replication gives them back over 20 weeks, except those in `never[name]`, which
    are still 10 points down when the run ends (censored recoveries)."""
    import pandas as pd

    from cxsim.experiments.compare import Comparison
    from cxsim.scenario import ServiceFailure

    t = np.arange(steps)
    fall = np.where(t < 10, 0.0, np.maximum(-10.0, -2.5 * (t - 9)))
    back = np.minimum(0.0, -10.0 + 0.5 * np.maximum(0, t - 14))
    rows = []
    for rep in range(reps):
        base = {"nps": 10.0 + 0 * t, "csat": 70.0 + 0 * t, "engagement": 0.5 + 0 * t}
        rows.append(pd.DataFrame({"scenario": "base", "rep": rep, "step": t, **base}))
        for name, stuck in never.items():
            dip = fall if rep in stuck else np.maximum(fall, back)
            rows.append(pd.DataFrame({"scenario": name, "rep": rep, "step": t,
                                      **dict(base, nps=base["nps"] + 0.01 * rep + dip)}))
    return Comparison(names=["base", *never], seed=1, reps=reps, steps=steps,
                      timeseries=pd.concat(rows), summary=pd.DataFrame(), table=pd.DataFrame(),
                      events={n: [ServiceFailure(type="service_failure", step=10)]
                              for n in never})


def test_time_scales_keep_censored_replications_out_of_the_mean_and_say_so():
    """A replication still down at the end of the run has not recovered: its 'recovery' (the
    weeks left) is a lower bound, not a time. It is counted as censored and kept out of the
    mean; when most replications are censored the report says "more than N weeks"."""
    from cxsim.experiments.compare import _time_scales_markdown, time_scales

    cmp = _failure_comparison({"few": {4}, "most": {1, 2, 4}, "none": set()})
    t = time_scales(cmp).set_index(["scenario", "metric", "time"])
    none, few, most = (t.loc[n, "nps", "weeks_to_recover_half"] for n in ("none", "few", "most"))
    assert (none.reps, none.censored) == (5, 0) and np.isnan(none.censored_after)
    assert (few.reps, few.censored) == (4, 1)
    assert (most.reps, most.censored) == (2, 3)
    # the recovered replications recover alike: a censored one does not drag the mean along
    assert few["mean"] == pytest.approx(none["mean"]) == pytest.approx(most["mean"])
    assert 10 <= none["mean"] <= 15
    # watched from the trough (week 14: the first at the full loss, 2-week mean) to the end
    assert most.censored_after == 60 - 14
    assert t.loc["most", "nps", "weeks_to_trough"].censored == 0  # every trough was seen
    text = "\n".join(_time_scales_markdown(time_scales(cmp), "base"))
    lines = {ln.split("**")[1]: ln for ln in text.splitlines() if ln.startswith("- **")}
    assert "recovery to half more than 46 weeks (3 of 5 replications" in lines["most, NPS"]
    assert f"recovery to half {few['mean']:.0f} weeks" in lines["few, NPS"]
    assert "1 of 5 replications not there by the end, left out" in lines["few, NPS"]
    assert "not there" not in lines["none, NPS"] and "more than" not in lines["none, NPS"]


def test_censored_summary_counts_censored_times_apart():
    from cxsim.experiments.compare import censored_summary

    s = censored_summary([(4.0, False), (6.0, False), (30.0, True), (25.0, True),
                          (float("nan"), False)])
    assert (s["mean"], s["reps"], s["censored"], s["censored_after"]) == (5.0, 2, 2, 25.0)
    s = censored_summary([(40.0, True)])
    assert np.isnan(s["mean"]) and (s["reps"], s["censored"]) == (0, 1)
