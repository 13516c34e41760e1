"""One running model per browser session, stepped in one place, read as immutable snapshots.

Why: the dashboard used to let Mesa's play thread append to the model's figures while the page
read them (`ValueError: Length of values (177) does not match length of index (176)`), and
every lever move or event button touched the model from the UI thread in the middle of a step.
Here a `Session` owns the model and the only thread that touches it (`_run`): it applies queued
lever changes (debounced: only the last value of each lever counts) and events between steps,
steps when asked or when playing, and after each change publishes a new `Snapshot` built from
copies. Pages only read snapshots, so they can neither see a half-written step nor block one.

Sessions live in a module-level store keyed by the browser's session cookie, so a reload or a
reconnect returns to the same run.
"""

from __future__ import annotations

import os
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..scenario import (
    ComplaintsFirst,
    KpiDashboard,
    Scenario,
    ServiceFailure,
    SetEvent,
    load_scenario,
)
from . import profile
from .network import frame_of, map_of

#: the burn-in cache the dashboard's models are forked from (`cxsim serve --no-cache`: "0")
CACHE: bool = os.environ.get("CXSIM_CACHE", "1") != "0"
#: a saved model (`cxsim serve --state FILE`) that the start-up model continues from, and a
#: reset to the start-up settings returns to
STATE = os.environ.get("CXSIM_STATE") or None

# the figures kept per week for the curves (copied from model.kpis after each step)
SERIES = ("nps", "engagement", "active_customers", "profit", "cumulative_profit",
          "brand_alignment", "staff_attrition", "prospects")
LEVER_NAMES = ("leadership_commitment", "empowerment", "productivity_pressure",
               "cx_metrics_weight", "pay_alignment", "training", "co_creation",
               "complaints_first", "silo", "hiring_for_fit", "social_amplification",
               "board_cx_role", "digital_channel")
EVENT_KINDS = {
    "failure": "service failure",
    "kpi": "knee-jerk KPI dashboard",
    "complaints": "complaints-first response",
}
SPEEDS = (1.0, 2.0, 5.0, 10.0)  # weeks per second the facilitator can choose
DEBOUNCE_S = 0.04  # a lever change waits this long for a newer one before it is applied


@dataclass(frozen=True)
class PlannedEvent:
    """An event from the scenario's timeline, known before it happens."""

    step: int
    label: str
    caption: str | None


@dataclass(frozen=True, eq=False)  # compared by identity: a new snapshot is a new state
class Snapshot:
    """Everything a page shows, copied out of the model between steps (never mutated)."""

    version: int
    week: int  # steps run; the curves' last point is at this week
    scenario: str  # the scenario's own name
    scenario_source: str  # what it was loaded from (built-in name or TOML path)
    description: str
    customers: int
    seed: int
    building: bool
    playing: bool
    speed: float
    kpis: dict[str, float]
    series: dict[str, tuple[float, ...]]  # week 0 (start) .. week `week`
    levers: dict[str, float | bool]
    fired: tuple[tuple[int, str, str | None], ...]  # (step, label, caption)
    planned: tuple[PlannedEvent, ...]
    captions: dict[int, str]
    network: Any  # network.MapFrame of this week, None while building
    error: str | None = None
    compare: str | None = None  # the scenario run beside, in lock step
    currency: str = "£"  # symbol of the scenario's money
    series_b: dict[str, tuple[float, ...]] | None = None
    map_layout: Any = None  # network.MapLayout of the running model (positions, sent once)

    @property
    def weeks(self) -> tuple[int, ...]:
        return tuple(range(len(self.series.get("nps", ()))))

    def caption_now(self, within: int = 6) -> str | None:
        """The newest caption (an event's own or the storyboard's) of the last `within` weeks."""
        items = [(s, c) for s, _, c in self.fired if c] + list(self.captions.items())
        recent = [(s, c) for s, c in items if self.week - within <= s < self.week]
        return max(recent)[1] if recent else None


def event_label(ev: Any) -> str:
    """A short human name for a scheduled event (lever changes spelt out)."""
    if isinstance(ev, ServiceFailure):
        where = f" ({ev.channel.replace('_', ' ')})" if ev.channel else ""
        return f"service failure{where}, {ev.duration} weeks"
    if isinstance(ev, KpiDashboard | ComplaintsFirst):
        name = "KPI dashboard" if isinstance(ev, KpiDashboard) else "complaints-first"
        drop = getattr(ev, "nps_drop", None)  # a newer schema arms on a fall of NPS
        return (f"{name} if NPS falls {drop:g} pts" if drop is not None
                else f"{name} if NPS < {ev.nps_threshold:g}")
    if isinstance(ev, SetEvent):
        parts = [f"{k.removeprefix('levers.').replace('_', ' ')} {_num(v)}"
                 for k, v in ev.set.items()]
        return "set " + ", ".join(parts)
    return str(getattr(ev, "type", "event"))


def _num(v: Any) -> str:
    if isinstance(v, bool):
        return "on" if v else "off"
    return f"{v:.2f}"


def _fired_label(what: str) -> str:
    """The model's events_log text made readable (its lever sets are Python dicts)."""
    if what.startswith("set {"):
        try:
            import ast

            d = ast.literal_eval(what[4:])
            return "set " + ", ".join(f"{k.removeprefix('levers.').replace('_', ' ')} {_num(v)}"
                                      for k, v in d.items())
        except (ValueError, SyntaxError):
            return what
    return what


def load_storyboard(path: str | None) -> dict[int, str]:
    """Captions from a storyboard TOML ([[captions]] step = 20, text = "..."), by step."""
    if not path:
        return {}
    import tomllib

    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    out: dict[int, str] = {}
    for i, c in enumerate(data.get("captions", [])):
        if not isinstance(c, dict) or not isinstance(c.get("step"), int) or c["step"] < 0 \
                or not isinstance(c.get("text"), str) or not c["text"].strip():
            raise ValueError(f"{path}: captions[{i}] needs step = <int >= 0> and text = <string>")
        out[c["step"]] = c["text"].strip()
    return out


SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$", "JPY": "¥", "CHF": "CHF "}


def currency_symbol(sc: Scenario | None) -> str:
    """The symbol of the scenario's currency (money.currency where the schema has it; GBP
    otherwise, the project's default), so the dashboard speaks the client's money."""
    code = str(getattr(getattr(sc, "money", None), "currency", None) or "GBP").upper()
    try:  # the scenario module's own table, where it has one
        from ..scenario import CURRENCY_SYMBOLS  # type: ignore[attr-defined]

        table = {**SYMBOLS, **CURRENCY_SYMBOLS}
    except ImportError:
        table = SYMBOLS
    return table.get(code, f"{code} ")


def build_scenario(name: str, customers: int) -> Scenario:
    """The scenario at the chosen size (customers and as many prospects)."""
    return load_scenario(name).with_overrides(
        {"size.customers": int(customers), "size.prospects": int(customers)})


class Session:
    """A model, the one thread that steps it, and the latest snapshot for pages to read."""

    def __init__(self, scenario: str, customers: int, seed: int,
                 captions: dict[int, str] | None = None,
                 model_factory: Callable[[Scenario, int], Any] | None = None):
        self.captions = dict(captions or {})
        self._factory = model_factory or _default_factory
        self._cond = threading.Condition()
        self._config = (scenario, int(customers), int(seed))
        self._reset_to: tuple[str, int, int] | None = self._config
        self._pending_levers: dict[str, float | bool] = {}
        self._lever_time = 0.0
        self._pending_events: list[str] = []
        self._step_requests = 0
        self._playing = False
        self._speed = 5.0
        self._next_due = 0.0
        self._stop = False
        self._version = 0
        self.model: Any = None
        self._series: dict[str, list[float]] = {k: [] for k in SERIES}
        self._sc: Scenario | None = None
        # side by side: a second model (the baseline by default) stepped in lock step, same seed
        self._compare: str | None = None
        self._compare_dirty = False
        self.model_b: Any = None
        self._series_b: dict[str, list[float]] = {}
        self._error: str | None = None
        self._snapshot = self._make_snapshot(building=True)
        self._thread = threading.Thread(target=self._run, name="cxsim-session", daemon=True)
        self._thread.start()

    # -- requests from pages (any thread; never touch the model) ------------------------------
    @property
    def snapshot(self) -> Snapshot:
        return self._snapshot

    def play(self, on: bool) -> None:
        with self._cond:
            self._playing = bool(on)
            self._next_due = time.monotonic()
            self._cond.notify_all()

    def set_speed(self, weeks_per_second: float) -> None:
        with self._cond:
            self._speed = float(max(0.2, min(weeks_per_second, 50.0)))
            self._cond.notify_all()

    def step(self) -> None:
        with self._cond:
            self._step_requests += 1
            self._cond.notify_all()

    def set_lever(self, name: str, value: float | bool) -> None:
        """Queue a lever change; only the newest value is applied, between two steps."""
        if name not in LEVER_NAMES:
            raise KeyError(name)
        with self._cond:
            self._pending_levers[name] = value
            self._lever_time = time.monotonic()
            self._cond.notify_all()

    def lever_value(self, name: str) -> float | bool:
        """What the page should show: a queued value, else the model's."""
        with self._cond:
            if name in self._pending_levers:
                return self._pending_levers[name]
        return self._snapshot.levers.get(name, 0.0)

    def fire(self, kind: str) -> None:
        """Queue an event button; one of each kind per week (repeated clicks coalesce)."""
        if kind not in EVENT_KINDS:
            raise KeyError(kind)
        with self._cond:
            if kind not in self._pending_events:
                self._pending_events.append(kind)
            self._cond.notify_all()

    def compare(self, scenario: str | None) -> None:
        """Run `scenario` beside the chosen one (None: stop). Why: the room sees the effect of
        its choices as a live difference, with the same seed (common random numbers)."""
        with self._cond:
            self._compare = scenario
            self._compare_dirty = True
            self._cond.notify_all()

    def reset(self, scenario: str | None = None, customers: int | None = None,
              seed: int | None = None) -> None:
        """Rebuild the model (in the session's thread) with these settings."""
        s, c, d = self._config
        with self._cond:
            self._reset_to = (scenario or s, int(customers or c), int(d if seed is None else seed))
            self._playing = False
            self._cond.notify_all()

    def wait_newer(self, version: int, timeout: float) -> Snapshot | None:
        """Block until a snapshot newer than `version` exists (or timeout): for page pollers."""
        with self._cond:
            self._cond.wait_for(lambda: self._snapshot.version > version or self._stop,
                                timeout=timeout)
            snap = self._snapshot
        return snap if snap.version > version else None

    def close(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()

    # -- the session's thread: the only code that touches the model --------------------------
    def _due(self, now: float) -> bool:
        return self._playing and now >= self._next_due

    def _work_ready(self, now: float) -> bool:
        return (self._stop or self._reset_to is not None or self._step_requests > 0
                or self._compare_dirty
                or bool(self._pending_events) or self._due(now)
                or (bool(self._pending_levers) and now - self._lever_time >= DEBOUNCE_S))

    def _run(self) -> None:
        while True:
            with self._cond:
                while True:
                    now = time.monotonic()
                    if self._work_ready(now):
                        break
                    waits = [0.5]
                    if self._playing:
                        waits.append(self._next_due - now)
                    if self._pending_levers:
                        waits.append(self._lever_time + DEBOUNCE_S - now)
                    self._cond.wait(max(0.001, min(waits)))
                if self._stop:
                    return
                reset, self._reset_to = self._reset_to, None
                rebuild_b = self._compare_dirty or reset is not None
                self._compare_dirty = False
                compare = self._compare
                stepping = self._step_requests > 0 or self._due(now)
                levers = {}
                if stepping or now - self._lever_time >= DEBOUNCE_S:
                    levers, self._pending_levers = self._pending_levers, {}
                events, self._pending_events = self._pending_events, []
                if stepping:
                    if self._step_requests:
                        self._step_requests -= 1
                    if self._playing:  # a late week is made up (within half a second)
                        self._next_due = max(self._next_due + 1.0 / self._speed, now - 0.5)
            try:
                if reset is not None:
                    self._build(*reset)
                if rebuild_b and self.model is not None:
                    self._build_b(compare)
                if self.model is not None:
                    if levers:
                        self.model.set_levers(levers)
                    for kind in events:
                        self._apply_event(kind)
                    if stepping:
                        with profile.timed("step"):
                            self.model.step()
                            if self.model_b is not None:
                                self.model_b.step()
                        self._record()
                self._error = None
            except Exception:  # keep the session alive; show the error on the page
                self._error = traceback.format_exc(limit=3)
                traceback.print_exc()
                with self._cond:
                    self._playing = False
            self._publish()

    def _build(self, scenario: str, customers: int, seed: int) -> None:
        self._config = (scenario, customers, seed)
        self.model = None
        self._sc = build_scenario(scenario, customers)
        self._publish(building=True)
        self.model = self._factory(self._sc, seed)
        self._series = series_of(self.model)

    def _build_b(self, compare: str | None) -> None:
        """The comparison model, caught up to the chosen model's week (levers as scheduled)."""
        self.model_b, self._series_b = None, {}
        if not compare:
            return
        _, customers, seed = self._config
        model_b = self._factory(build_scenario(compare, customers), seed)
        series_b = {k: [float(model_b.kpis.get(k, np.nan))] for k in SERIES}
        for _ in range(self.model.t):
            model_b.step()
            for k in SERIES:
                series_b[k].append(float(model_b.kpis.get(k, np.nan)))
        self.model_b, self._series_b = model_b, series_b

    def _apply_event(self, kind: str) -> None:
        m = self.model
        if kind == "failure":
            m.inject_service_failure(severity=0.4, duration=4, share=0.5)
        elif kind == "kpi":
            m.respond(KpiDashboard(type="kpi_dashboard", step=m.t))
        else:
            m.respond(ComplaintsFirst(type="complaints_first", step=m.t))

    def _record(self) -> None:
        k = self.model.kpis
        for name in SERIES:
            self._series[name].append(float(k.get(name, np.nan)))
        if self.model_b is not None:
            kb = self.model_b.kpis
            for name in SERIES:
                self._series_b[name].append(float(kb.get(name, np.nan)))

    def _publish(self, building: bool = False) -> None:
        with profile.timed("snapshot"):
            snap = self._make_snapshot(building=building or self.model is None)
        with self._cond:
            self._snapshot = snap
            self._cond.notify_all()

    def _make_snapshot(self, building: bool) -> Snapshot:
        self._version += 1
        m, sc = self.model, self._sc
        name, customers, seed = self._config
        planned: tuple[PlannedEvent, ...] = ()
        if sc is not None:
            planned = tuple(PlannedEvent(ev.step, event_label(ev), getattr(ev, "caption", None))
                            for ev in sc.events)
        fired: tuple[tuple[int, str, str | None], ...] = ()
        kpis: dict[str, float] = {}
        levers: dict[str, float | bool] = {}
        network = map_layout = None
        week = 0
        if m is not None and not building:
            week = int(m.t)
            kpis = {k: float(v) for k, v in m.kpis.items()}
            lv = m.levers
            levers = {n: (bool(getattr(lv, n)) if isinstance(getattr(lv, n), bool)
                          else float(getattr(lv, n))) for n in LEVER_NAMES}
            fired = tuple((t, _fired_label(what), self._caption_for(t, what))
                          for t, what in m.events_log)
            map_layout = map_of(m)
            network = frame_of(m, map_layout, week)
        return Snapshot(
            version=self._version, week=week,
            scenario=sc.name if sc is not None else name, scenario_source=name,
            description=sc.description if sc is not None else "",
            customers=customers, seed=seed, building=building, playing=self._playing,
            speed=self._speed, kpis=kpis,
            series={k: tuple(v) for k, v in self._series.items()} if not building else {},
            levers=levers, fired=fired, planned=planned, captions=dict(self.captions),
            network=network, map_layout=map_layout, error=self._error,
            currency=currency_symbol(sc),
            compare=self._sc_b_name() if not building else None,
            series_b={k: tuple(v) for k, v in self._series_b.items()}
            if self.model_b is not None and not building else None)

    def _sc_b_name(self) -> str | None:
        return self.model_b.scenario.name if self.model_b is not None else None

    def _caption_for(self, step: int, what: str) -> str | None:
        """The caption of the scheduled event behind a fired one (responses fire late)."""
        for ev in self._sc.events if self._sc is not None else ():
            cap = getattr(ev, "caption", None)
            late_ok = isinstance(ev, KpiDashboard | ComplaintsFirst)
            if cap and (ev.step == step or (late_ok and ev.step <= step)) and _matches(ev, what):
                return cap
        return None


def _matches(ev: Any, what: str) -> bool:
    if isinstance(ev, ServiceFailure):
        return what == "service failure"
    if isinstance(ev, KpiDashboard):
        return what == "knee-jerk KPI dashboard"
    if isinstance(ev, ComplaintsFirst):
        return what == "complaints-first response"
    return what.startswith("set ")


def series_of(model: Any) -> dict[str, list[float]]:
    """The curves of a new model: week 0 only, or every week so far for a loaded one."""
    past = model.timeseries() if model.t else None
    out = {}
    for k in SERIES:
        weeks = [float(v) for v in past[k]] if past is not None and k in past else []
        out[k] = [weeks[0]] + weeks if weeks else [float(model.kpis.get(k, np.nan))]
    return out


def _from_state(sc: Scenario, seed: int) -> Any:
    """The saved model `STATE`, when the page asks for its scenario and seed (else None)."""
    from ..checkpoint import read_header
    from ..model import CXModel

    head = read_header(STATE)
    if head["scenario"] != sc.name or int(head["seed"]) != int(seed):
        return None
    return CXModel.load(STATE, create_agents=True)


def _build_model(sc: Scenario, seed: int) -> Any:
    from ..cache import start_model

    model = _from_state(sc, seed) if STATE else None
    if model is None:  # forked from the burn-in cache: at 100k the burn-in is most of a build
        model, _ = start_model(sc, seed, cache=CACHE, create_agents="lazy")
    map_of(model)  # the network map too, so the first snapshot does not wait for it
    return model


_PREBUILT: dict[tuple[str, int], Future] = {}
_PREBUILT_LOCK = threading.Lock()


def prebuild(scenario: str, customers: int, seed: int) -> None:
    """Start building the start-up model now (server start), for the first page to take.

    Why: at 100,000 customers a model takes several seconds to build; the facilitator starts
    the server before the room arrives, so the first page should not pay for it.
    """
    # the modules the build needs are imported here, before the thread starts: imported by
    # the thread while the first page renders, pandas was once seen half-initialised by
    # solara's render ("partially initialized module 'pandas' has no attribute 'DataFrame'")
    import pandas  # noqa: F401

    from .. import cache, checkpoint, model  # noqa: F401

    sc = build_scenario(scenario, customers)
    fut: Future = Future()
    with _PREBUILT_LOCK:
        _PREBUILT[(sc.hash(), int(seed))] = fut

    def work() -> None:
        try:
            with profile.timed("prebuild"):
                fut.set_result(_build_model(sc, int(seed)))
        except Exception as exc:  # the session builds its own and reports the error
            fut.set_exception(exc)

    threading.Thread(target=work, name="cxsim-prebuild", daemon=True).start()


def _default_factory(sc: Scenario, seed: int) -> Any:
    """A prebuilt model for these settings if one was started (used once), else a new one."""
    with _PREBUILT_LOCK:
        fut = _PREBUILT.pop((sc.hash(), int(seed)), None)
    if fut is not None:
        try:
            return fut.result()
        except Exception:
            pass
    return _build_model(sc, seed)


# -- the store: one session per browser session cookie --------------------------------------
_STORE: dict[str, Session] = {}
_STORE_LOCK = threading.Lock()
MAX_SESSIONS = 8


def get_session(key: str, factory: Callable[[], Session]) -> Session:
    """The session for this browser (made on first use); the oldest is closed past 8."""
    with _STORE_LOCK:
        s = _STORE.get(key)
        if s is None:
            s = _STORE[key] = factory()
            while len(_STORE) > MAX_SESSIONS:
                old = next(iter(_STORE))
                _STORE.pop(old).close()
        return s


def close_all() -> None:
    with _STORE_LOCK:
        for s in _STORE.values():
            s.close()
        _STORE.clear()
