"""The burn-in cache: the right key, the same numbers as without it, safe under concurrency."""

from __future__ import annotations

import os
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cxsim import cache as cx_cache
from cxsim.cache import BurnInCache, burn_in_key
from cxsim.checkpoint import SUFFIX
from cxsim.cli import app
from cxsim.experiments.compare import run_comparison
from cxsim.experiments.sweep import execute_run
from cxsim.explain import run_explain
from cxsim.scenario import load_scenario

TINY = {"size.customers": 800, "size.prospects": 200, "size.colleagues": 40, "burn_in": 6,
        "steps": 30}


def tiny(name: str, **over) -> object:
    return load_scenario(name, {**TINY, **over})


def states(folder: Path) -> list[Path]:
    return sorted(folder.glob(f"*{SUFFIX}"))


# -- the key ---------------------------------------------------------------------------------------

def test_scenarios_differing_only_in_events_horizon_and_labels_share_a_key():
    base = burn_in_key(tiny("baseline"), 7, "numba")
    for name in ("culture_first", "crisis_knee_jerk", "silos", "pay_alignment"):
        assert burn_in_key(tiny(name), 7, "numba") == base, name
    other = tiny("baseline", steps=30)
    other.name, other.description = "renamed", "another text"
    assert burn_in_key(other, 7, "numba") == base
    assert burn_in_key(tiny("baseline", seed=1), 7, "numba") == base  # the model's seed counts


@pytest.mark.parametrize("change", [{"levers.empowerment": 0.41}, {"burn_in": 7},
                                    {"perception.trust_gain": 0.011}, {"size.customers": 801},
                                    {"churn.base": 0.0021}])
def test_anything_the_burn_in_reads_changes_the_key(change):
    base = tiny("baseline")
    assert burn_in_key(base.with_overrides(change), 7, "numba") != burn_in_key(base, 7, "numba")


def test_seed_and_engine_change_the_key_a_digital_launch_by_event_does_not():
    base = burn_in_key(tiny("baseline"), 7, "numba")
    assert burn_in_key(tiny("baseline"), 8, "numba") != base
    assert burn_in_key(tiny("baseline"), 7, "reference") != base
    # digital_bolt_on launches the channel by an event: the launch redeploys staff when it
    # fires, the organisation and burn-in are baseline's (compare below checks the numbers)
    assert burn_in_key(tiny("digital_bolt_on"), 7, "numba") == base
    assert burn_in_key(tiny("baseline", **{"levers.digital_channel": True}), 7, "numba") != base


def test_organisation_file_contents_are_part_of_the_key(tmp_path):
    src = Path(__file__).parent / "data"
    graphml = next(iter(sorted(src.glob("*.graphml"))), None)
    assert graphml is not None, "tests/data has an organisation GraphML file"
    org = tmp_path / "org.graphml"
    org.write_bytes(graphml.read_bytes())
    sc = tiny("baseline", **{"organisation.file": str(org)})
    k1 = burn_in_key(sc, 7, "numba")
    org.write_bytes(graphml.read_bytes().replace(b"</graphml>", b"<!-- x --></graphml>"))
    assert burn_in_key(sc, 7, "numba") != k1
    org.unlink()
    assert burn_in_key(sc, 7, "numba") is None  # unreadable: not cached, the build says why


# -- same numbers ----------------------------------------------------------------------------------

def test_compare_with_cache_equals_compare_without_it_bit_for_bit(tmp_path):
    names = ("baseline", "culture_first", "digital_bolt_on", "crisis_knee_jerk")
    scs = [tiny(n) for n in names]
    folder = tmp_path / "cache"
    without = run_comparison(scs, reps=2, cache=False)
    cold = run_comparison(scs, reps=2, cache=folder)
    # the four differ only in events: one burn-in per seed
    assert len(states(folder)) == 2
    warm = run_comparison(scs, reps=2, cache=folder)
    assert len(states(folder)) == 2
    for got in (cold, warm):
        pd.testing.assert_frame_equal(without.timeseries, got.timeseries, check_exact=True)
        pd.testing.assert_frame_equal(without.table, got.table, check_exact=True)


@pytest.mark.slow
def test_explain_with_cache_equals_explain_without_it(tmp_path):
    a, b = tiny("baseline", steps=12), tiny("culture_first", steps=12)
    without = run_explain(a, b, reps=2, seed=4, cache=False)
    with_cache = run_explain(a, b, reps=2, seed=4, cache=tmp_path)
    pd.testing.assert_frame_equal(without.runs, with_cache.runs, check_exact=True)
    pd.testing.assert_frame_equal(without.costs, with_cache.costs, check_exact=True)
    # A and B share a burn-in per seed; a path switched off by a lever does not
    assert 2 <= len(states(tmp_path)) < len(without.runs)


def test_the_cache_is_used_not_just_filled(tmp_path):
    """A state in the cache is what the next run starts from (poisoned here on purpose)."""
    folder = tmp_path / "c"
    sc = tiny("baseline")
    cache = BurnInCache(folder)
    model, status = cache.model(sc, 3)
    assert status == "miss"
    model.customers.trust[:] = 0.0
    model.save(cache.path(burn_in_key(sc, 3, "numba")))
    forked, status = cache.model(tiny("culture_first"), 3)
    assert status == "hit" and forked.scenario.name == "culture_first"
    assert (forked.customers.trust == 0.0).all()
    assert len(forked.timeline.events) == 1 and forked.t == 0


def test_reference_engine_and_sweep_runs_equal_uncached(tmp_path):
    folder = str(tmp_path / "c")
    base = tiny("baseline").to_dict()
    task = {"run_id": "r0-k0", "row": 0, "rep": 0, "seed": 11,
            "params": {"levers.silo": 0.6}}
    a = execute_run(base, task, "all", "reference", None)
    b = execute_run(base, task, "all", "reference", folder)
    c = execute_run(base, task, "all", "reference", folder)
    assert (a.status == "done").all() and len(states(Path(folder))) == 1
    for got in (b, c):
        pd.testing.assert_frame_equal(a.drop(columns="wall_s"), got.drop(columns="wall_s"),
                                      check_exact=True)


def test_damaged_state_is_rebuilt(tmp_path):
    cache = BurnInCache(tmp_path)
    sc = tiny("baseline")
    ref, _ = cache.model(sc, 5)
    path = cache.path(burn_in_key(sc, 5, "numba"))
    path.write_bytes(path.read_bytes()[:1000])
    model, status = cache.model(sc, 5)
    assert status == "miss"
    assert (model.customers.trust == ref.customers.trust).all()
    assert cache.model(sc, 5)[1] == "hit"


def _ask(folder: str, start_at: float) -> tuple[str, float]:
    sc = tiny("baseline", **{"size.customers": 6000, "size.prospects": 2000, "burn_in": 25})
    time.sleep(max(0.0, start_at - time.time()))  # both ask at the same moment
    model, status = BurnInCache(folder).model(sc, 21)
    return status, float(model.customers.trust.sum())


@pytest.mark.slow
def test_two_processes_asking_at_once_get_one_burn_in(tmp_path):
    start_at = time.time() + 6  # after both workers have started and imported cxsim
    with ProcessPoolExecutor(2, mp_context=get_context("spawn")) as pool:
        got = list(pool.map(_ask, [str(tmp_path)] * 2, [start_at] * 2))
    assert sorted(s for s, _ in got) == ["hit", "miss"]  # the second waited for the first
    assert got[0][1] == got[1][1]
    assert len(states(tmp_path)) == 1 and not list(tmp_path.glob("*.partial"))


# -- the commands ----------------------------------------------------------------------------------

def test_cache_info_and_clear(tmp_path):
    cache = BurnInCache(tmp_path / "c")
    cache.model(tiny("baseline"), 1)
    runner = CliRunner()
    res = runner.invoke(app, ["cache", "info", "--dir", str(tmp_path / "c")])
    assert res.exit_code == 0 and "1 burned-in state" in res.output
    res = runner.invoke(app, ["cache", "clear", "--dir", str(tmp_path / "c")])
    assert res.exit_code == 0 and "removed 1" in res.output
    assert not (tmp_path / "c").exists()
    (tmp_path / "f").write_text("x")
    res = runner.invoke(app, ["cache", "info", "--dir", str(tmp_path / "f")])
    assert res.exit_code == 2 and "is a file" in res.output


def test_default_folder_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("CXSIM_CACHE_DIR", str(tmp_path / "x"))
    assert cx_cache.default_dir() == tmp_path / "x"
    monkeypatch.delenv("CXSIM_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cx_cache.default_dir() == tmp_path / "xdg" / "cxsim" / "burn_in"
    assert cx_cache.resolve(False) is None and cx_cache.resolve(None) is None


def test_compare_no_cache_writes_no_state(tmp_path):
    env = Path(os.environ["CXSIM_CACHE_DIR"])
    runner = CliRunner()
    args = ["compare", "baseline", "culture_first", "--reps", "2", "--steps", "3",
            "--out", str(tmp_path / "o")]
    small = str(tmp_path / "small.toml")
    Path(small).write_text('extends = "baseline"\nname = "small"\nburn_in = 2\n'
                           '[size]\ncustomers = 400\nprospects = 100\ncolleagues = 20\n')
    args[1:3] = [small, small.replace("small.toml", "small2.toml")]
    Path(args[2]).write_text(Path(small).read_text().replace('"small"', '"small2"'))
    res = runner.invoke(app, [*args, "--no-cache"])
    assert res.exit_code == 0, res.output
    assert not states(env)
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert len(states(env)) == 2  # two scenarios, one burn-in per replication seed
