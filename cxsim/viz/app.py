"""The live workshop dashboard (`cxsim serve` runs it with solara), laid out for a projector.

The page never touches the model: a `session.Session` per browser (kept server-side, so a reload
returns to the same run) steps it in its own thread and publishes snapshots; the page renders
the newest one. Buttons and levers only queue requests, which the session applies between steps
(levers debounced). Curves and the network are Vega-Lite specs drawn by the browser.

Why not Mesa's SolaraViz frame: its controller steps the model from the page's own thread and
shows developer controls (play/render interval, threads, page tabs) that a facilitator should
not see; the model is still a Mesa model and the page is still solara.

Start-up settings come from the environment (`cxsim serve` sets them): CXSIM_SCENARIO (a
built-in name or a TOML path), CXSIM_CUSTOMERS, CXSIM_SEED and CXSIM_STORYBOARD (a TOML of
captions).
"""

from __future__ import annotations

import math
import os

import solara

from ..scenario import Levers, builtin_scenarios
from . import charts, profile
from .session import SPEEDS, Session, Snapshot, get_session, load_storyboard, prebuild
from .widgets import NetworkMap, Opaque, VegaView

DEFAULT_SCENARIO = os.environ.get("CXSIM_SCENARIO", "baseline")
DEFAULT_CUSTOMERS = int(os.environ.get("CXSIM_CUSTOMERS", "2000"))
DEFAULT_SEED = int(os.environ.get("CXSIM_SEED", "42"))
STORYBOARD = load_storyboard(os.environ.get("CXSIM_STORYBOARD"))
if os.environ.get("CXSIM_PREBUILD", "1") == "1":  # solara imports this module at start-up
    prebuild(DEFAULT_SCENARIO, DEFAULT_CUSTOMERS, DEFAULT_SEED)

# levers shown as live sliders (name, label) and switches; tooltips from the scenario schema
SLIDERS = (
    ("leadership_commitment", "Leadership commitment"),
    ("empowerment", "Empowerment"),
    ("productivity_pressure", "Productivity pressure"),
    ("cx_metrics_weight", "CX metrics weight"),
    ("pay_alignment", "Pay aligned to CX"),
    ("training", "Training"),
    ("co_creation", "Co-creation"),
    ("complaints_first", "Complaints first"),
    ("silo", "Silos"),
    ("hiring_for_fit", "Hiring for fit"),
    ("social_amplification", "Social amplification"),
)
SWITCHES = (("board_cx_role", "Board-level CX role"), ("digital_channel", "Digital channel"))
LEVER_HELP = {name: f.description or "" for name, f in Levers.model_fields.items()}
EVENTS = (
    ("failure", "Service failure", "error",
     "Half of all contacts go badly for 4 weeks (severity 0.4): a crisis hits customers."),
    ("kpi", "Knee-jerk KPI dashboard", "warning",
     "Management tightens control: productivity pressure 0.9, empowerment 0.15, "
     "CX metrics weight 0.1."),
    ("complaints", "Complaints-first response", "success",
     "Management starts from complaints and the front line: complaints first 0.9, "
     "co-creation 0.6, empowerment 0.6."),
)

CSS = """
.cx-root { font-size: 16px; color: #1b1b1b; max-width: 100%; }
.cx-header { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 20px;
             border-bottom: 2px solid #ddd; padding-bottom: 6px; margin-bottom: 8px; }
.cx-title { flex: 1 1 420px; min-width: 0; }
.cx-scenario { font-size: 26px; font-weight: 700; line-height: 1.15; }
.cx-description { font-size: 16px; color: #444; line-height: 1.25; }
.cx-controls { display: flex; flex-wrap: wrap; align-items: center; gap: 6px; }
.cx-controls .v-btn { font-size: 16px !important; }
.cx-main { display: grid; grid-template-columns: minmax(360px, 400px) minmax(0, 1fr);
           gap: 14px; align-items: start; }
.cx-left, .cx-right { min-width: 0; display: flex; flex-direction: column; gap: 10px; }
.cx-step { font-size: 44px; font-weight: 800; line-height: 1; }
.cx-kpis { display: grid; grid-template-columns: 1fr 1fr; gap: 6px 14px; margin-top: 6px; }
.cx-kpi-label { font-size: 16px; color: #555; line-height: 1.1; }
.cx-kpi-value { font-size: 34px; font-weight: 700; line-height: 1.1; white-space: nowrap; }
.cx-kpi-delta { display: block; font-size: 17px; font-weight: 600; color: #e66100;
                line-height: 1.1; }
.cx-caption { font-size: 20px; font-weight: 600; background: #fff3cd; border-left: 6px solid
              #f0ad4e; padding: 6px 10px; }
.cx-events { display: flex; flex-wrap: wrap; gap: 6px; }
.cx-events .v-btn { font-size: 15px !important; text-transform: none; }
.cx-log, .cx-planned { font-size: 16px; line-height: 1.3; }
.cx-lever { display: grid; grid-template-columns: 1fr 52px; align-items: center;
            column-gap: 8px; }
.cx-lever-label { font-size: 16px; line-height: 1.1; }
.cx-lever-value { font-size: 18px; font-weight: 700; text-align: right; }
.cx-lever .v-input__slot { min-height: 26px; }
.cx-lever .v-slider { margin: 0; min-width: 120px; }
.cx-levers-grid { display: grid; grid-template-columns: 1fr; gap: 2px; }
.cx-curves { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 10px; }
.cx-chart { min-width: 0; }
.cx-chart .width-container, .cx-chart > div { width: 100%; }
.cx-scenario, .cx-description, .cx-step, .cx-kpi-label, .cx-kpi-value, .cx-caption, .cx-log,
.cx-planned, .cx-lever-label, .cx-box-title, .cx-building { display: block; }
.cx-chart .vega-embed, .cx-chart .width-container { width: 100%; }
.cx-error { color: #b00020; white-space: pre-wrap; font-size: 14px; }
.cx-box { border: 1px solid #ddd; border-radius: 6px; padding: 8px 10px; }
.cx-box-title { font-size: 18px; font-weight: 700; margin-bottom: 4px; }
@media (min-width: 1800px) {
  .cx-main { grid-template-columns: 440px minmax(0, 1fr); }
  .cx-root { font-size: 18px; }
}
"""


def kpi_tiles(snap: Snapshot, s: dict | None = None) -> list[tuple[str, str, str]]:
    """(key, label, text) of the headline numbers: the last point of each curve."""
    s = snap.series if s is None else s

    def last(k: str) -> float | None:
        v = s.get(k, ())
        return v[-1] if v and math.isfinite(v[-1]) else None

    def pct(v: float | None) -> str:
        return "-" if v is None else f"{100 * v:.1f}%"

    nps, prof = last("nps"), last("profit")
    return [
        ("nps", "NPS", "-" if nps is None else f"{nps:+.0f}"),
        ("engagement", "Engagement", pct(last("engagement"))),
        ("active_customers", "Active customers",
         "-" if last("active_customers") is None else f"{last('active_customers'):,.0f}"),
        ("profit", "Profit / week (4-wk avg)",
         charts.money(charts.moving_average(s["profit"])[-1], snap.currency)
         if prof is not None else "-"),
        ("cumulative_profit", "Profit since week 0",
         "-" if last("cumulative_profit") is None
         else charts.money(last("cumulative_profit"), snap.currency)),
        ("brand_alignment", "Brand alignment", pct(last("brand_alignment"))),
    ]


@solara.component
def Chart(spec: Opaque, datasets: Opaque, classes: list[str]) -> solara.Element:
    """A Vega-Lite view drawn by the browser; a new week swaps the rows into the live view.
    Spec and rows come wrapped (`Opaque`): reacton would walk and copy them every render."""
    with solara.Div(classes=["cx-chart", *classes]) as div:
        VegaView.element(spec_in=spec, data_in=datasets)
    return div


@solara.component
def Header(session: Session, snap: Snapshot) -> None:
    """Scenario name and description; play, step, speed and reset."""
    scenario, set_scenario = solara.use_state(snap.scenario_source or DEFAULT_SCENARIO)
    customers, set_customers = solara.use_state(snap.customers)
    seed, set_seed = solara.use_state(snap.seed)
    with solara.Div(classes=["cx-header"]):
        with solara.Div(classes=["cx-title"]):
            solara.Text(f"Scenario: {snap.scenario}", classes=["cx-scenario"])
            solara.Text(snap.description or "(no description)", classes=["cx-description"])
        with solara.Div(classes=["cx-controls"]):
            if snap.playing:
                solara.Button("Pause", icon_name="mdi-pause", color="primary",
                              on_click=lambda: session.play(False), classes=["cx-pause"])
            else:
                solara.Button("Play", icon_name="mdi-play", color="primary",
                              on_click=lambda: session.play(True), classes=["cx-play"],
                              disabled=snap.building)
            solara.Button("Step", icon_name="mdi-skip-next", on_click=session.step,
                          classes=["cx-step-button"], disabled=snap.building or snap.playing)
            solara.ToggleButtonsSingle(
                value=snap.speed, values=list(SPEEDS), on_value=session.set_speed,
                classes=["cx-speed"])
            solara.Text("weeks/s", style={"font-size": "16px"})
            with solara.Tooltip("Rebuild the model from week 0 with these settings"):
                solara.Button("Reset", icon_name="mdi-restore", classes=["cx-reset"],
                              on_click=lambda: session.reset(scenario, customers, seed))
            with solara.Tooltip("Side by side with the baseline: run it beside this scenario, "
                                "week by week with "
                                "the same seed: the curves show both, the numbers the "
                                "difference"):
                with solara.Div(classes=["cx-compare"]):
                    solara.Switch(label="Side by side",
                                  value=snap.compare is not None,
                                  on_value=lambda on: session.compare(
                                      "baseline" if on else None),
                                  disabled=snap.building)
            solara.Select("Scenario", value=scenario, values=scenario_choices(snap),
                          on_value=set_scenario, classes=["cx-scenario-select"],
                          style={"max-width": "190px", "min-width": "170px"})
            solara.InputInt("Customers", value=customers, on_value=set_customers,
                            classes=["cx-customers"], style={"max-width": "100px"})
            solara.InputInt("Seed", value=seed, on_value=set_seed, classes=["cx-seed"],
                            style={"max-width": "64px"})


def scenario_choices(snap: Snapshot) -> list[str]:
    names = list(builtin_scenarios())
    for extra in (DEFAULT_SCENARIO, snap.scenario_source):
        if extra and extra not in names:
            names.insert(0, extra)
    return names


def deltas(snap: Snapshot) -> dict[str, str]:
    """Chosen run minus the run beside it, per headline number, formatted like the number."""
    if not snap.series_b:
        return {}
    a, b = snap.series, snap.series_b
    out = {}
    for key, scale, fmt in (("nps", 1, "{:+.0f}"), ("engagement", 100, "{:+.1f} pts"),
                            ("active_customers", 1, "{:+,.0f}"),
                            ("brand_alignment", 100, "{:+.1f} pts")):
        if a.get(key) and b.get(key) and math.isfinite(a[key][-1] - b[key][-1]):
            out[key] = fmt.format(scale * (a[key][-1] - b[key][-1]))
    for key, series in (("profit", lambda s: charts.moving_average(s["profit"])[-1]),
                        ("cumulative_profit", lambda s: s["cumulative_profit"][-1])):
        if a.get(key) and b.get(key):
            d = series(a) - series(b)
            out[key] = ("+" if d >= 0 else "") + charts.money(d, snap.currency)
    return out


@solara.component
def Now(session: Session, snap: Snapshot) -> None:
    """The week counter, headline numbers and the caption of the moment."""
    diff = deltas(snap)
    with solara.Div(classes=["cx-box"]):
        solara.Text(f"Week {snap.week}", classes=["cx-step"])
        with solara.Div(classes=["cx-kpis"]):
            for key, label, text in kpi_tiles(snap):
                with solara.Div():
                    solara.Text(label, classes=["cx-kpi-label"])
                    solara.Text(text, classes=["cx-kpi-value", f"cx-kpi-{key}"])
                    if key in diff:
                        solara.Text(f"{diff[key]} vs {snap.compare}",
                                    classes=["cx-kpi-delta", f"cx-delta-{key}"])
    cap = snap.caption_now()
    if cap:
        solara.Text(cap, classes=["cx-caption"])


def events_ahead(snap: Snapshot) -> tuple[str, ...]:
    """Scheduled events and storyboard captions still to come, in order."""
    ahead = sorted([(e.step, e.caption or e.label) for e in snap.planned if e.step >= snap.week]
                   + [(t, c) for t, c in snap.captions.items() if t >= snap.week])
    return tuple(f"week {t}: {what}" for t, what in ahead)


@solara.component
def Events(session: Session, snap: Snapshot) -> None:
    """The event buttons, the events so far and those scheduled. A panel of its own: it
    re-renders when these change, not every week (widgets left alone cost no server time)."""
    with solara.Div(classes=["cx-box"]):
        solara.Text("Events (take effect in the next week)", classes=["cx-box-title"])
        with solara.Div(classes=["cx-events"]):
            for kind, label, color, help_ in EVENTS:
                with solara.Tooltip(help_):
                    solara.Button(label, color=color, classes=[f"cx-event-{kind}"],
                                  on_click=lambda k=kind: session.fire(k),
                                  disabled=snap.building)
        fired = [f"week {t}: {cap or lab}" for t, lab, cap in snap.fired[-4:]]
        solara.Text("So far: " + ("; ".join(fired) if fired else "none yet"),
                    classes=["cx-log", "cx-events-log"])
        ahead = events_ahead(snap)
        solara.Text("Scheduled: " + ("; ".join(ahead) if ahead else "nothing ahead"),
                    classes=["cx-planned"])


@solara.component
def LeverPanel(session: Session, snap: Snapshot) -> None:
    """Live levers; values always shown; changes are applied between two weeks."""
    def setter(name: str):
        return lambda value: session.set_lever(name, value)

    with solara.Div(classes=["cx-box", "cx-levers"]):
        solara.Text("Levers (act from the next week)", classes=["cx-box-title"])
        with solara.Row(style={"flex-wrap": "wrap", "gap": "0 16px"}):
            for name, label in SWITCHES:
                with solara.Tooltip(LEVER_HELP.get(name, "")):
                    with solara.Div(classes=[f"cx-lever-{name}"]):
                        solara.Switch(label=label, value=bool(session.lever_value(name)),
                                      on_value=setter(name), disabled=snap.building)
        with solara.Div(classes=["cx-levers-grid"]):
            for name, label in SLIDERS:
                value = float(session.lever_value(name))
                with solara.Tooltip(LEVER_HELP.get(name, "")):
                    with solara.Div(classes=["cx-lever", f"cx-lever-{name}"]):
                        with solara.Div():
                            solara.Text(label, classes=["cx-lever-label"])
                            solara.SliderFloat("", value=value, min=0.0, max=1.0, step=0.05,
                                               on_value=setter(name), thumb_label=False,
                                               disabled=snap.building)
                        solara.Text(f"{value:.2f}", classes=["cx-lever-value"])


@solara.component
def Pictures(session: Session, snap: Snapshot) -> None:
    """The four curves and the network, drawn by the browser."""
    if snap.building:
        solara.Text(f"Building the model ({snap.customers:,} customers and as many "
                    "prospects)…", classes=["cx-building"], style={"font-size": "22px"})
        return
    with solara.Div(classes=["cx-curves"]):
        for key, _title, spec, data in charts.panel_specs(snap):
            Chart(Opaque(spec), Opaque(data), classes=[f"cx-curve-{key}"])
    if snap.map_layout is not None and snap.network is not None:
        NetworkPanel(snap)


@solara.component
def NetworkPanel(snap: Snapshot) -> solara.Element:
    """The network map: positions sent once per model, then each week only what changed."""
    with solara.Div(classes=["cx-box", "cx-network"]) as div:
        NetworkMap.element(layout_in=Opaque(snap.map_layout.to_json()), week_frame=snap.network)
    return div


def _new_session() -> Session:
    return Session(DEFAULT_SCENARIO, DEFAULT_CUSTOMERS, DEFAULT_SEED, captions=STORYBOARD)


def use_snapshot(session: Session, key=lambda snap: snap.version, kind: str = "panel"
                 ) -> Snapshot:
    """The session's newest snapshot, re-rendering this component only when `key` changes.

    Why: a step should redraw the counter and the curves, not the eleven levers; each panel
    follows the session itself and ignores the snapshots that do not concern it."""
    snap, set_snap = solara.use_state(session.snapshot)

    def follow(cancel) -> None:
        last = session.snapshot
        set_snap(last)
        while not cancel.is_set():
            new = session.wait_newer(last.version, timeout=0.5)
            if new is not None and not cancel.is_set():
                changed = key(new) != key(last)
                last = new
                if changed:
                    with profile.timed(f"render_{kind}"):  # solara renders in this thread
                        set_snap(new)

    solara.use_thread(follow, dependencies=[session], intrusive_cancel=False)
    return snap


def _header_key(s: Snapshot) -> tuple:
    return (s.scenario, s.scenario_source, s.description, s.playing, s.speed, s.building,
            s.customers, s.seed, s.error, s.compare)


def _lever_key(s: Snapshot) -> tuple:
    return (s.building, tuple(s.levers.items()))


@solara.component
def HeaderPanel(session: Session) -> None:
    snap = use_snapshot(session, _header_key)
    solara.Title(f"cxsim: {snap.scenario}")
    Header(session, snap)
    if snap.error:
        solara.Text(snap.error, classes=["cx-error"])


@solara.component
def NowPanel(session: Session) -> None:
    Now(session, use_snapshot(session, kind="now"))


def _events_key(s: Snapshot) -> tuple:
    return (s.building, s.fired[-4:], events_ahead(s))


@solara.component
def EventsPanel(session: Session) -> None:
    Events(session, use_snapshot(session, _events_key, kind="events"))


@solara.component
def Levers_(session: Session) -> None:
    LeverPanel(session, use_snapshot(session, _lever_key))


@solara.component
def PicturesPanel(session: Session) -> None:
    Pictures(session, use_snapshot(session, kind="pictures"))


@solara.component
def Page() -> None:
    """One session per browser (cookie), kept across reloads; this page only renders it."""
    session = solara.use_memo(lambda: get_session(solara.get_session_id(), _new_session), [])
    solara.Style(CSS)
    with solara.Div(classes=["cx-root"]):
        HeaderPanel(session)
        with solara.Div(classes=["cx-main"]):
            with solara.Div(classes=["cx-left"]):
                NowPanel(session)
                EventsPanel(session)
                Levers_(session)
            with solara.Div(classes=["cx-right"]):
                PicturesPanel(session)
