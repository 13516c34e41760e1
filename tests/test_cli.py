"""`cxsim run` and `cxsim scenarios`: outputs, atomic writes, and bad input (issue 2, 7-8)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cxsim.cli import app
from cxsim.scenario import load_scenario

CXSIM = Path(sys.executable).with_name("cxsim")
runner = CliRunner()

TIMESERIES = ("rep, step, nps, csat, engagement, frontline_engagement, active_customers, "
              "acquisitions, churned, promoters, passives, detractors, wom_positive, "
              "wom_negative, staff_attrition, brand_alignment, brand_consistency, trust, "
              "empathy, revenue, cost, profit").split(", ")
FILES = ("timeseries.csv", "timeseries.parquet", "units.csv", "summary.csv", "dashboard.png",
         "dashboard.svg", "scenario.toml", "manifest.json")


def test_scenarios_lists_baseline_with_description():
    res = runner.invoke(app, ["scenarios"], terminal_width=200)
    assert res.exit_code == 0, res.output
    desc = load_scenario("baseline").description
    line = next(ln for ln in res.output.splitlines() if "baseline" in ln)
    assert desc[:40] in line


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run") / "out"
    proc = subprocess.run([str(CXSIM), "run", "--steps", "8", "--reps", "2", "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "NPS (points" in proc.stdout and "Traceback" not in proc.stdout + proc.stderr
    assert "£" in proc.stdout  # money in the scenario's currency (GBP by default)
    return out


def test_run_writes_every_file(run_dir):
    for name in FILES:
        assert (run_dir / name).is_file() and (run_dir / name).stat().st_size > 0, name
    assert not list(run_dir.glob("*.partial")) and not list(run_dir.glob(".*"))
    assert (run_dir / "dashboard.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_timeseries_columns_and_rows(run_dir):
    csv = pd.read_csv(run_dir / "timeseries.csv")
    pq = pd.read_parquet(run_dir / "timeseries.parquet")
    for c in TIMESERIES:
        assert c in csv.columns, c
    assert len(csv) == 16
    assert sorted(set(zip(csv["rep"], csv["step"], strict=True))) == [
        (r, s) for r in (0, 1) for s in range(8)]
    pd.testing.assert_frame_equal(csv, pq, check_dtype=False, rtol=1e-9)
    # the two replications are different runs
    a, b = csv[csv["rep"] == 0], csv[csv["rep"] == 1]
    assert not (a["csat"].to_numpy() == b["csat"].to_numpy()).all()


def test_units_and_summary(run_dir):
    units = pd.read_csv(run_dir / "units.csv")
    for c in ("rep", "step", "unit", "engagement", "csat", "nps", "staff_leavers", "colleagues",
              "customers"):
        assert c in units.columns, c
    assert set(units["rep"]) == {0, 1} and units["step"].nunique() == 8
    assert units["unit"].nunique() > 5
    summary = pd.read_csv(run_dir / "summary.csv")
    assert list(summary["rep"]) == [0, 1]
    for c in ("final_nps", "mean_csat", "total_profit", "annual_churn_rate"):
        assert c in summary.columns


def test_scenario_toml_and_manifest(run_dir):
    sc = load_scenario(run_dir / "scenario.toml")
    manifest = json.loads((run_dir / "manifest.json").read_text())
    expected = load_scenario("baseline").with_overrides({"steps": 8})
    assert sc.hash() == manifest["scenario_hash"] == expected.hash()
    assert manifest["seed"] == 42 and manifest["reps"] == 2 and manifest["steps"] == 8
    assert manifest["cxsim_version"]
    assert len(manifest["rep_seeds"]) == 2
    assert manifest["timings"]["wall_s"] > 0
    assert set(manifest["timings"]["reps"][0]["phases_s"]) >= {"culture", "service", "money"}


def test_rerun_replaces_files_atomically(run_dir, tmp_path):
    old = (run_dir / "manifest.json").read_text()
    (run_dir / "timeseries.csv").write_text("stale\n")
    res = runner.invoke(app, ["run", "--steps", "3", "--seed", "7", "--out", str(run_dir)])
    assert res.exit_code == 0, res.output
    assert json.loads((run_dir / "manifest.json").read_text())["seed"] == 7 != json.loads(old)[
        "seed"]
    assert len(pd.read_csv(run_dir / "timeseries.csv")) == 3
    assert sorted(p.name for p in run_dir.iterdir()) == sorted(FILES)


BAD = {
    "unknown key": ("[levers]\nbogus = 1\n", ["levers.bogus", "unknown key", "empowerment"]),
    "wrong type": ('[levers]\nempowerment = "high"\n',
                   ["levers.empowerment", "'high'", "valid number"]),
    "out of range": ("[levers]\nsilo = 1.5\n", ["levers.silo", "1.5", "less than or equal to 1"]),
    "broken toml": ("[levers\nsilo = 0.5\n", ["broken TOML", "line 2"]),
    "event after last step": ('steps = 10\n[[events]]\ntype = "set"\nstep = 12\n'
                              "set = {silo = 0.5}\n", ["events[0].step", "12", "0 to 9"]),
    "negative size": ("[size]\ncustomers = -5\n",
                      ["size.customers", "-5", "greater than or equal to 1"]),
    "unknown lever in event": ('steps = 10\n[[events]]\ntype = "set"\nstep = 2\n'
                               "set = {happiness = 0.5}\n",
                               ["events[0].set", "happiness", "not a lever", "silo"]),
}


def _check_one_error(output: str, needles: list[str]) -> None:
    assert "Traceback" not in output
    lines = [ln for ln in output.splitlines() if ln.strip()]
    assert len(lines) == 1, output
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_scenario_exits_2_with_one_message(tmp_path, case):
    text, needles = BAD[case]
    p = tmp_path / "bad.toml"
    p.write_text('extends = "baseline"\n' + text)
    out = tmp_path / "out"
    res = runner.invoke(app, ["run", str(p), "--steps", "3", "--out", str(out)],
                        terminal_width=1000)
    assert res.exit_code == 2
    _check_one_error(res.output, [str(p), *needles])
    assert not out.exists()


def test_missing_file_exits_2(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "manifest.json").write_text("{}")  # an earlier run's folder
    res = runner.invoke(app, ["run", str(tmp_path / "nope.toml"), "--out", str(out)],
                        terminal_width=1000)
    assert res.exit_code == 2
    _check_one_error(res.output, ["nope.toml", "built-in scenarios", "baseline"])
    assert [p.name for p in out.iterdir()] == ["manifest.json"]  # nothing written or removed
    assert (out / "manifest.json").read_text() == "{}"


def test_bad_input_through_the_console_script(tmp_path):
    """The real entry point: exit code 2 on stderr, no traceback, nothing written."""
    p = tmp_path / "bad.toml"
    p.write_text('extends = "baseline"\n[levers]\nsilo = 1.5\n')
    out = tmp_path / "out"
    proc = subprocess.run([str(CXSIM), "run", str(p), "--out", str(out)], capture_output=True,
                          text=True, timeout=120, env={"COLUMNS": "1000", "PATH": "/usr/bin"})
    assert proc.returncode == 2
    assert proc.stdout == ""
    _check_one_error(proc.stderr, [str(p), "levers.silo", "1.5"])
    assert not out.exists()


def test_steps_option_that_strands_an_event_is_refused(tmp_path):
    p = tmp_path / "ev.toml"
    p.write_text('extends = "baseline"\nsteps = 20\n[[events]]\ntype = "set"\nstep = 12\n'
                 "set = {silo = 0.5}\n")
    out = tmp_path / "out"
    res = runner.invoke(app, ["run", str(p), "--steps", "5", "--out", str(out)],
                        terminal_width=1000)
    assert res.exit_code == 2
    _check_one_error(res.output, ["events[0].step", "12", "0 to 4"])
    assert not out.exists()
