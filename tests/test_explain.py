"""cxsim explain: path switches, effect arithmetic, cost breakdown, files and CLI errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cxsim.cli import app
from cxsim.experiments.run import run_one
from cxsim.explain import (
    DRIVERS,
    EXPLAIN_COLUMNS,
    PATHS,
    applicable_paths,
    cost_breakdown,
    effects_table,
    run_explain,
    switch_off,
    write_explain,
)
from cxsim.scenario import load_scenario
from cxsim.validation import Probe

SMALL = {"size.customers": 1500, "size.prospects": 1500, "size.colleagues": 60, "burn_in": 20,
         "steps": 30}


def test_every_path_switch_is_a_valid_scenario_that_changes_something():
    sc = load_scenario("crisis_knee_jerk")
    for p in PATHS:
        off = switch_off(sc, p)
        assert off.to_dict() != sc.to_dict(), p
    assert "management_response" in applicable_paths(sc, sc)
    base = load_scenario("baseline")
    assert "management_response" not in applicable_paths(base, load_scenario("culture_first"))
    assert switch_off(base, "mirror").culture.engagement_mirror == 0.0


def test_effects_arithmetic_on_synthetic_runs():
    # B - A = 10 in every rep; with path p off it is 4, with q off 10: p explains 6 (60%)
    rows = []
    for k in range(4):
        noise = 0.1 * k
        for side, base in (("A", 0.0), ("B", 10.0 + noise)):
            rows.append({"side": side, "path": "", "rep": k, "nps": base, "churn": base / 100,
                         "profit": base * 1000, "csat": base, "engagement": base / 10})
            rows.append({"side": side, "path": "engagement_to_experience", "rep": k,
                         "nps": base - 6 * (side == "B"), "churn": base / 100,
                         "profit": base * 1000, "csat": base, "engagement": base / 10})
            rows.append({"side": side, "path": "mirror", "rep": k, "nps": base,
                         "churn": base / 100, "profit": base * 1000, "csat": base,
                         "engagement": base / 10})
    t = effects_table(pd.DataFrame(rows), ["engagement_to_experience", "mirror"])
    assert list(t.columns) == list(EXPLAIN_COLUMNS)
    n = t[t.metric == "nps"].set_index("path")
    assert n.loc["total (B - A)", "effect"] == pytest.approx(10.15)
    assert n.loc["engagement_to_experience", "effect"] == pytest.approx(6.0)
    assert n.loc["engagement_to_experience", "share"] == pytest.approx(6 / 10.15)
    assert n.loc["mirror", "effect"] == pytest.approx(0.0)
    assert n.loc["interaction / other", "effect"] == pytest.approx(4.15)
    assert n.loc["total (B - A)", "ci_low"] < 10.15 < n.loc["total (B - A)", "ci_high"]


@pytest.mark.parametrize("name", ["baseline", "digital_bolt_on"])
def test_cost_breakdown_adds_up_to_the_models_cost(name):
    sc = load_scenario(name, {**SMALL, "levers.board_cx_role": True})
    probe = Probe()
    res = run_one(sc, 7, 0, sc.steps, units=False, probe=probe)
    ts = res.timeseries
    c = cost_breakdown(sc, res.probe["weekly"], ts)
    assert set(c) == set(DRIVERS)
    assert c["revenue"] == pytest.approx(ts["revenue"].sum())
    assert c["profit"] == pytest.approx(ts["profit"].sum(), rel=1e-9)
    assert c["salaries"] > 0 and c["board_cx"] > 0 and c["revenue_lost_to_churn"] >= 0
    if name == "digital_bolt_on":
        assert c["contacts_digital"] > 0 and c["digital_fixed"] > 0


def test_explain_end_to_end_writes_its_files(tmp_path):
    a = load_scenario("baseline", SMALL)
    b = load_scenario("culture_first", SMALL)
    e = run_explain(a, b, reps=2, seed=3)
    write_explain(tmp_path, e)
    t = pd.read_csv(tmp_path / "explain.csv")
    assert list(t.columns) == list(EXPLAIN_COLUMNS)
    assert set(t["metric"]) == {"nps", "churn", "profit", "csat", "engagement"}
    assert set(e.paths) <= set(t["path"])
    # the effects and the rest add up to the total, replication by replication and on average
    for m in ("nps", "churn", "profit", "csat", "engagement"):
        s = t[t.metric == m].set_index("path")["effect"]
        assert s.drop("total (B - A)").sum() == pytest.approx(s["total (B - A)"], rel=1e-6,
                                                               abs=1e-9)
    assert (tmp_path / "explain.png").stat().st_size > 1000
    md = (tmp_path / "explain.md").read_text()
    assert "culture_first differs from baseline" in md and "revenue_lost_to_churn" in md
    costs = pd.read_csv(tmp_path / "costs.csv")
    assert list(costs["driver"]) == list(DRIVERS)
    assert np.isfinite(costs["diff"]).all()


def test_explain_cli_rejects_bad_input(tmp_path):
    runner = CliRunner()
    f = tmp_path / "file"
    f.write_text("x")
    for args in (["explain", "baseline", "nosuch"], ["explain", "baseline", "baseline"],
                 ["explain", "baseline", "culture_first", "--reps", "1"],
                 ["explain", "baseline", "culture_first", "--out", str(f)]):
        res = runner.invoke(app, args)
        assert res.exit_code == 2, args


def test_common_random_numbers_a_scenario_against_itself_differs_by_exactly_zero():
    a = load_scenario("baseline", {**SMALL, "steps": 12})
    b = a.model_copy(update={"name": "same_again"})
    e = run_explain(a, b, reps=2, seed=9)
    assert (e.table["effect"] == 0).all()
    assert (e.costs["diff"] == 0).all()


@pytest.mark.slow
def test_culture_first_works_mostly_through_what_colleagues_do():
    """Issue 11: at least half of culture-first's NPS effect runs through colleagues'
    behaviour, measured by switching all those paths off together (not by adding up paths
    that overlap), over 3 paired replications."""
    a = load_scenario("baseline", {"size.customers": 3000, "size.prospects": 3000})
    b = load_scenario("culture_first", {"size.customers": 3000, "size.prospects": 3000})
    e = run_explain(a, b, reps=3, seed=4)
    nps = e.table[e.table.metric == "nps"].set_index("path")
    total = nps.loc["total (B - A)", "effect"]
    assert total > 5
    joint = nps.loc["colleague_behaviour"]
    assert joint["effect"] >= 0.5 * total, nps["effect"].round(2).to_dict()
    assert joint["ci_low"] > 0


@pytest.mark.slow
def test_digital_bolt_on_story_runs_through_failure_demand():
    """Issue 11: the digital bolt-on (a channel and training while productivity targets
    tighten) lowers engagement and CSAT a little, and a clear share of its NPS loss and of its
    churn rise comes through the capacity loop: switching failure demand off removes it (10
    paired replications at the scenario's size: with 3, managers reacting to noisy measured
    scores left the NPS share unclear at seed 42, and with 5 so did the stores' customer mix
    of the fifth round, at 24% [-4.2, +0.5 points]; its share of the CSAT loss, about 35%, is
    not asserted)."""
    e = run_explain(load_scenario("baseline"), load_scenario("digital_bolt_on"), reps=10,
                    seed=42)
    t = e.table.set_index(["metric", "path"])
    assert t.loc[("engagement", "total (B - A)"), "ci_high"] < 0
    assert t.loc[("csat", "total (B - A)"), "effect"] < 0
    nps = t.loc[("nps", "total (B - A)")]
    fd = t.loc[("nps", "failure_demand")]
    assert nps["ci_high"] < 0
    assert fd["ci_high"] < 0 and fd["effect"] <= 0.2 * nps["effect"], fd.to_dict()
    assert t.loc[("churn", "failure_demand"), "ci_low"] > 0
