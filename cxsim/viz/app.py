"""The live workshop dashboard: a Mesa SolaraViz page (`cxsim serve` runs it with solara).

Sidebar: Mesa's play / step / reset controls and the model parameters used on reset (scenario,
size, seed). Main area: the headline numbers and event buttons, the levers (they act on the
running model at once, so a facilitator can turn one mid-run), the network and the curves.

The scenario and size to start from come from the environment (`cxsim serve` sets them):
CXSIM_SCENARIO (a built-in name or a TOML path) and CXSIM_CUSTOMERS.
"""

from __future__ import annotations

import os
from typing import Any

import solara
from mesa.visualization import SolaraViz
from mesa.visualization.utils import force_update, update_counter

from ..model import CXModel
from ..scenario import ComplaintsFirst, KpiDashboard, builtin_scenarios
from . import draw

DEFAULT_SCENARIO = os.environ.get("CXSIM_SCENARIO", "baseline")
DEFAULT_CUSTOMERS = int(os.environ.get("CXSIM_CUSTOMERS", "2000"))
DEFAULT_SEED = int(os.environ.get("CXSIM_SEED", "42"))

# levers shown as live sliders (name, label) and switches
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


class DashboardModel(CXModel):
    """CXModel with keyword parameters for SolaraViz's reset (scenario, customers, seed)."""

    def __init__(self, scenario: str = DEFAULT_SCENARIO, customers: int = DEFAULT_CUSTOMERS,
                 seed: int = DEFAULT_SEED, **kwargs: Any):
        kwargs.pop("rng", None)  # SolaraViz may pass Mesa's own seed keyword
        n = int(customers)
        super().__init__(scenario, seed=int(seed),
                         overrides={"size.customers": n, "size.prospects": n})


def scenario_choices() -> list[str]:
    names = list(builtin_scenarios())
    if DEFAULT_SCENARIO not in names:
        names.insert(0, DEFAULT_SCENARIO)
    return names


MODEL_PARAMS: dict[str, Any] = {
    "scenario": {"type": "Select", "value": DEFAULT_SCENARIO, "values": scenario_choices(),
                 "label": "Scenario (applied on Reset)"},
    "customers": {"type": "SliderInt", "value": DEFAULT_CUSTOMERS, "min": 1000, "max": 20000,
                  "step": 500, "label": "Customers (and as many prospects)"},
    "seed": {"type": "SliderInt", "value": DEFAULT_SEED, "min": 0, "max": 999, "step": 1,
             "label": "Seed"},
}


def _fmt(model: CXModel, key: str) -> str:
    v = model.kpis.get(key)
    if v is None:
        return "-"
    if key in ("engagement", "brand_alignment", "trust"):
        return f"{v:.3f}"
    if key in ("profit", "cumulative_profit"):
        return f"{v:,.0f}"
    return f"{v:,.1f}" if key == "nps" else f"{v:,.0f}"


HEADLINE = (("nps", "NPS"), ("engagement", "Engagement"), ("active_customers", "Active customers"),
            ("profit", "Profit / week"), ("cumulative_profit", "Cumulative profit"),
            ("brand_alignment", "Brand alignment"))


def Headline(model: CXModel) -> solara.Element:
    """Step counter, headline numbers, event buttons and the events so far."""
    update_counter.get()

    def failure() -> None:
        model.inject_service_failure(severity=0.4, duration=4, share=0.5)
        force_update()

    def kpi_dashboard() -> None:
        model.respond(KpiDashboard(type="kpi_dashboard", step=model.t))
        force_update()

    def complaints_first() -> None:
        model.respond(ComplaintsFirst(type="complaints_first", step=model.t))
        force_update()

    with solara.Card("Now") as card:
        solara.Text(f"Week {model.steps}", classes=["cx-step"],
                    style={"font-size": "1.6em", "font-weight": "bold"})
        with solara.Row(style={"flex-wrap": "wrap"}):
            for key, label in HEADLINE:
                with solara.Column(gap="0px", style={"min-width": "9em"}):
                    solara.Text(label, style={"font-size": "0.8em", "color": "#666"})
                    solara.Text(_fmt(model, key), classes=[f"cx-kpi-{key}"],
                                style={"font-size": "1.3em"})
        solara.Text("Events (take effect from the next step)", style={"font-weight": "bold"})
        with solara.Row(style={"flex-wrap": "wrap"}):
            solara.Button("Service failure", color="error", on_click=failure,
                          classes=["cx-event-failure"])
            solara.Button("Knee-jerk KPI dashboard", color="warning", on_click=kpi_dashboard,
                          classes=["cx-event-kpi"])
            solara.Button("Complaints-first response", color="success",
                          on_click=complaints_first, classes=["cx-event-complaints"])
        lv = model.levers
        with solara.Column(gap="2px"):
            solara.Text(f"Levers now: empowerment {lv.empowerment:.2f} · productivity "
                        f"pressure {lv.productivity_pressure:.2f} · CX metrics "
                        f"{lv.cx_metrics_weight:.2f} · complaints first "
                        f"{lv.complaints_first:.2f}", classes=["cx-levers-now"],
                        style={"font-size": "0.85em"})
            log = "; ".join(f"week {t}: {what}" for t, what in model.events_log[-4:])
            solara.Text(f"Events: {log or 'none yet'}", classes=["cx-events-log"],
                        style={"font-size": "0.85em"})
    return card


def Levers(model: CXModel) -> solara.Element:
    """Live lever sliders and switches: they change the running model immediately."""
    update_counter.get()

    def setter(name: str):
        def set_(value: Any) -> None:
            model.set_levers({name: value})
            force_update()

        return set_

    with solara.Card("Levers (act now)") as card:
        with solara.Row(style={"flex-wrap": "wrap"}):
            for name, label in SWITCHES:
                with solara.Div(classes=[f"cx-lever-{name}"]):
                    solara.Switch(label=label, value=bool(getattr(model.levers, name)),
                                  on_value=setter(name))
        with solara.Columns([1, 1]):
            for half in (SLIDERS[::2], SLIDERS[1::2]):
                with solara.Column(gap="0px"):
                    for name, label in half:
                        with solara.Div(classes=[f"cx-lever-{name}"]):
                            solara.SliderFloat(label, value=float(getattr(model.levers, name)),
                                               min=0.0, max=1.0, step=0.05,
                                               on_value=setter(name), thumb_label=True)
    return card


def NetworkPanel(model: CXModel) -> solara.Element:
    """Colleagues by role and department coloured by brand fit; a sample of customers."""
    update_counter.get()
    fig = draw.network_figure(model)
    return solara.FigureMatplotlib(fig, format="png", dependencies=[update_counter.value,
                                                                    id(model)])


def Curves(model: CXModel) -> solara.Element:
    """NPS, engagement, active customers and profit so far, events dashed."""
    update_counter.get()
    fig = draw.curves_figure(model)
    return solara.Div(children=[solara.FigureMatplotlib(
        fig, format="png", dependencies=[update_counter.value, id(model)])],
        classes=["cx-curves"])


COMPONENTS = [Headline, NetworkPanel, Levers, Curves]


@solara.component
def Page() -> None:
    """One model per browser session, built once."""
    model = solara.use_memo(lambda: DashboardModel(), [])
    SolaraViz(model, components=COMPONENTS, model_params=MODEL_PARAMS,
              name="cxsim: brand personality from the top to the customer", play_interval=250)
