"""The dashboard's session without a browser: snapshots stay consistent while the session's
thread steps, lever changes are debounced, repeated event clicks coalesce, captions come from
events and storyboards, and reset honours any size (no slider maximum)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from cxsim.scenario import load_scenario
from cxsim.viz import charts
from cxsim.viz.session import Session, Snapshot, load_storyboard
from tests.conftest import SMALL


def small_factory(sc, seed):
    from cxsim.model import CXModel

    return CXModel(sc.with_overrides({k: v for k, v in SMALL.items() if k != "steps"}),
                   seed=seed)


def ready(s: Session, timeout: float = 60) -> Snapshot:
    deadline = time.time() + timeout
    while time.time() < deadline:
        snap = s.snapshot
        if not snap.building:
            return snap
        s.wait_newer(snap.version, 0.5)
    raise AssertionError("session never finished building")


def until(s: Session, ok, timeout: float = 20) -> Snapshot:
    deadline = time.time() + timeout
    while time.time() < deadline:
        snap = s.snapshot
        if ok(snap):
            return snap
        s.wait_newer(snap.version, 0.2)
    raise AssertionError(f"condition not met; week {s.snapshot.week}")


@pytest.fixture
def session():
    s = Session("crisis_complaints_first", 1000, 3, model_factory=small_factory)
    ready(s)
    yield s
    s.close()


def test_snapshots_consistent_while_playing(session):
    session.step()  # the first step may compile kernels: not part of the timed window
    until(session, lambda s: s.week == 1, timeout=120)
    session.set_speed(50)
    session.play(True)
    seen = [0]
    stop = time.time() + 120.0  # a bound for a stuck run, not a speed requirement
    while seen[-1] <= 20 and time.time() < stop:  # read often while it steps
        snap = session.snapshot
        for name, values in snap.series.items():
            assert len(values) == snap.week + 1, name  # week 0 .. week N, never torn
        specs = charts.panel_specs(snap)
        for _, _, _, data in specs:
            main = data["main"]
            assert main[-1]["week"] == snap.week  # the curve ends where the counter is
        seen.append(snap.week)
        # as the page polls: wait briefly for a newer snapshot. A loop that never waits holds
        # the GIL and starves the session's thread (each numba kernel releases and re-takes
        # it): with the event labels' layout it crawled at ~10 s a week under load
        session.wait_newer(snap.version, 0.005)
    session.play(False)
    assert seen[-1] > 20 and seen == sorted(seen)


def test_lever_changes_debounced_and_applied_between_steps(session):
    applied = []
    model = session.model
    real = model.set_levers
    model.set_levers = lambda ch: (applied.append(dict(ch)), real(ch))[1]
    for v in (0.1, 0.2, 0.3, 0.45, 0.7):  # a drag: five values in quick succession
        session.set_lever("empowerment", v)
        assert session.lever_value("empowerment") == v  # the page shows the newest at once
    snap = until(session, lambda s: s.levers.get("empowerment") == 0.7, timeout=5)
    assert applied == [{"empowerment": 0.7}]
    assert snap.week == 0  # paused: applied without stepping
    with pytest.raises(KeyError):
        session.set_lever("not_a_lever", 1.0)


def test_repeated_event_clicks_coalesce(session):
    session.model.step = (lambda real: (lambda: (time.sleep(0.3), real())[1]))(
        session.model.step)
    session.step()  # hold the thread inside a slow step while the clicks arrive
    time.sleep(0.05)
    for _ in range(20):
        session.fire("failure")
    snap = until(session, lambda s: any(lab == "service failure" for _, lab, _ in s.fired))
    assert sum(lab == "service failure" for _, lab, _ in snap.fired) == 1
    with pytest.raises(KeyError):
        session.fire("asteroid")


def test_many_threads_hammering_do_not_break_the_run(session):
    session.set_speed(50)
    session.play(True)
    errors = []

    def hammer(k: int) -> None:
        try:
            for i in range(200):
                session.set_lever("silo", (i % 20) / 20)
                session.fire(("failure", "kpi", "complaints")[(i + k) % 3])
                charts.panel_specs(session.snapshot)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=hammer, args=(k,)) for k in range(4)]
    week0 = session.snapshot.week
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    snap = until(session, lambda s: s.week > week0 + 10)
    session.play(False)
    assert not errors and snap.error is None


def test_reset_above_the_old_slider_maximum():
    built = []

    def fake(sc, seed):
        built.append((sc.size.customers, seed))
        return small_factory(sc, seed)

    s = Session("baseline", 1000, 1, model_factory=fake)
    try:
        ready(s)
        s.reset(customers=50_000, seed=7)
        snap = until(s, lambda x: not x.building and x.customers == 50_000)
        assert built[-1] == (50_000, 7) and snap.seed == 7
    finally:
        s.close()


def test_event_captions_and_storyboard(tmp_path: Path):
    toml = tmp_path / "story.toml"
    toml.write_text('[[captions]]\nstep = 2\ntext = "Week 2: the board hires a CX lead"\n')
    assert load_storyboard(str(toml)) == {2: "Week 2: the board hires a CX lead"}
    bad = tmp_path / "bad.toml"
    bad.write_text('[[captions]]\nstep = "two"\ntext = "x"\n')
    with pytest.raises(ValueError, match="captions\\[0\\]"):
        load_storyboard(str(bad))

    sc = tmp_path / "sc.toml"
    sc.write_text('extends = "baseline"\nname = "capt"\ndescription = "d"\n'
                  '[[events]]\ntype = "service_failure"\nstep = 4\nduration = 2\n'
                  'caption = "Week 4: the billing system fails"\n')
    assert load_scenario(sc).events[0].caption == "Week 4: the billing system fails"
    s = Session(str(sc), 1000, 1, captions=load_storyboard(str(toml)),
                model_factory=small_factory)
    try:
        snap = ready(s)
        assert snap.planned[0].caption == "Week 4: the billing system fails"
        assert snap.caption_now() is None
        for _ in range(3):
            s.step()
        snap = until(s, lambda x: x.week == 3)
        assert snap.caption_now() == "Week 2: the board hires a CX lead"
        for _ in range(2):
            s.step()
        snap = until(s, lambda x: x.week == 5)
        assert snap.fired[0] == (4, "service failure", "Week 4: the billing system fails")
        assert snap.caption_now() == "Week 4: the billing system fails"
    finally:
        s.close()


def test_money_and_moving_average():
    assert charts.money(12345.6) == "£12,346"
    assert charts.money(-1234.4, "€") == "-€1,234"
    from cxsim.viz.session import currency_symbol

    assert currency_symbol(load_scenario("baseline")) == "£"  # the project's default, GBP
    assert charts.moving_average([4, 8, 0, 4, 12]) == [4, 6, 4, 4, 6]


def test_side_by_side_runs_in_lock_step_with_the_same_seed(session):
    for _ in range(3):
        session.step()
    until(session, lambda s: s.week == 3)
    session.compare("baseline")
    snap = until(session, lambda s: s.series_b is not None)
    assert snap.compare == "baseline"
    assert len(snap.series_b["nps"]) == len(snap.series["nps"]) == 4  # caught up to week 3
    session.fire("failure")  # a live event acts on the chosen run only
    for _ in range(3):
        session.step()
    snap = until(session, lambda s: s.week == 6)
    assert len(snap.series_b["nps"]) == 7
    # before the event the two runs share the seed and the scenario's first weeks
    assert snap.series_b["nps"][:4] == snap.series["nps"][:4]
    assert snap.series_b["nps"][-1] != snap.series["nps"][-1]
    specs = charts.panel_specs(snap)
    assert all(len(data["b"]) == 7 for _, _, _, data in specs)
    session.compare(None)
    assert until(session, lambda s: s.series_b is None).compare is None


def test_example_storyboard_loads():
    root = Path(__file__).resolve().parents[1]
    captions = load_storyboard(str(root / "docs" / "storyboard_crisis.toml"))
    assert 26 in captions and len(captions) == 4


def test_serve_and_animate_refuse_a_bad_storyboard(tmp_path: Path):
    """Exit 2 with one line naming the problem, before any server or frame is started."""
    from typer.testing import CliRunner

    from cxsim.cli import app

    bad = tmp_path / "bad.toml"
    bad.write_text('[[captions]]\nstep = -1\ntext = "x"\n')
    runner = CliRunner()
    for args in (["serve", "baseline", "--storyboard", str(bad), "--port", "1"],
                 ["animate", "baseline", "--out", str(tmp_path / "a.gif"), "--storyboard",
                  str(tmp_path / "missing.toml")]):
        res = runner.invoke(app, args)
        assert res.exit_code == 2, res.output
        assert "--storyboard" in res.output
    assert not (tmp_path / "a.gif").exists()


def test_a_session_continues_a_saved_model_and_reset_returns_to_it(tmp_path, monkeypatch):
    """`cxsim serve --state FILE`: the start-up model is the saved one, at its week, with its
    curves so far; Reset returns to the saved state."""
    from cxsim.model import CXModel
    from cxsim.viz import session as session_mod

    sc = load_scenario("baseline").with_overrides(
        {**{k: v for k, v in SMALL.items() if k != "steps"}, "size.customers": 1000,
         "size.prospects": 1000, "name": "client_x"})
    saved = CXModel(sc, seed=5)
    saved.run(6)
    state = saved.save(tmp_path / "client.cxstate")
    toml = tmp_path / "client_x.toml"
    toml.write_text(sc.to_toml(), encoding="utf-8")
    monkeypatch.setattr(session_mod, "STATE", str(state))
    s = Session(str(toml), 1000, 5)
    try:
        snap = ready(s)
        assert snap.week == 6 and len(snap.series["nps"]) == 7  # week 0 .. 6
        assert snap.series["nps"][1:] == tuple(saved.timeseries()["nps"])
        s.step()
        snap = until(s, lambda x: x.week == 7)
        saved.step()
        assert snap.series["nps"][-1] == saved.kpis["nps"]  # continues exactly
        s.reset()
        snap = until(s, lambda x: not x.building and x.week == 6)
    finally:
        s.close()


def test_serve_refuses_a_file_that_is_not_a_saved_model(tmp_path):
    from typer.testing import CliRunner

    from cxsim.cli import app

    bad = tmp_path / "notes.txt"
    bad.write_text("hello", encoding="utf-8")
    res = CliRunner().invoke(app, ["serve", "--state", str(bad)])
    assert res.exit_code == 2
    assert "--state" in res.output and "not a cxsim state file" in res.output


def test_dashboard_models_fork_from_the_burn_in_cache(tmp_path, monkeypatch):
    """The page's model comes from the burn-in cache (the first page at 100k no longer waits
    for a burn-in run before), with the same numbers as a model built from scratch, and with
    Mesa's agent views made on first use."""
    from cxsim.model import CXModel
    from cxsim.viz import session as sess

    monkeypatch.setattr(sess, "CACHE", str(tmp_path))
    monkeypatch.setattr(sess, "STATE", None)
    sc = load_scenario("baseline").with_overrides(
        {"size.customers": 600, "size.prospects": 300, "size.colleagues": 40, "burn_in": 4})
    first = sess._build_model(sc, 9)
    assert len(list(tmp_path.glob("*.cxstate"))) == 1  # built once, saved
    second = sess._build_model(sc, 9)  # forked from the saved state
    fresh = CXModel(sc, seed=9, create_agents=False)
    for m in (first, second, fresh):
        m.run(3)
    for k in ("nps", "engagement", "active_customers", "profit"):
        assert first.kpis[k] == second.kpis[k] == fresh.kpis[k], k
    assert len(second.agents) == sc.size.customers + sc.size.prospects + second.org.n
    assert second._viz_map is not None  # the network map is ready with the model


def test_charts_are_sent_only_the_rows_that_changed(session):
    """A new week sends the new rows of each curve (and the one-row sources that changed),
    not the whole series again; a view that asks gets everything."""
    from cxsim.viz.widgets import Opaque, VegaView

    snap = ready(session)
    (_, _, spec, rows), *_ = charts.panel_specs(snap)
    w = VegaView(spec_in=Opaque(spec), data_in=Opaque(rows))
    assert w.patch["full"] and w.patch["replace"]["main"] == rows["main"]
    session.step()
    snap = until(session, lambda s: s.week == snap.week + 1, timeout=120)
    (_, _, spec2, rows2), *_ = charts.panel_specs(snap)
    w.data_in = Opaque(rows2)
    p = w.patch
    assert not p["full"] and (p["seq"], p["base"]) == (2, 1)
    assert p["append"]["main"] == rows2["main"][-1:]  # one new week
    assert set(p["replace"]) == {"last"}  # the marked last point moved; events unchanged
    w.data_in = Opaque(rows2)  # the same rows again: nothing sent
    assert w.patch["seq"] == 2
    w.data_in = Opaque({**rows2, "main": rows2["main"][:1]})  # a reset: shorter, replaced
    assert w.patch["replace"]["main"] == rows2["main"][:1]
    w.vue_resend()
    assert w.patch["full"] and w.patch["replace"]["main"] == rows2["main"][:1]
