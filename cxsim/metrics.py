"""The figures the model reports each step, computed from the arrays.

`snapshot` gives the company-wide figures (the DataCollector's model reporters read them);
`unit_snapshot` gives per-unit figures (front-line teams and stores) for unit-level studies.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .constants import (
    CHANNELS,
    DETRACTOR_MAX,
    FRONTLINE,
    I_DISTANCE,
    I_SQUARED,
    I_X,
    PROMOTER_MIN,
    S_EMPATHY,
    S_EXPECTATION,
    S_HEARD_NEG,
    S_HEARD_POS,
    S_SPREAD,
    S_TRUST,
    T_ACTIVE,
    T_CHURNED,
    T_DETRACTORS,
    T_PROMOTERS,
    T_PROSPECTS,
    T_SEEN,
    U_CUSTOMERS,
    U_DETRACTORS,
    U_PROMOTERS,
)
from .measurement import Measured
from .networks import Organisation
from .scenario import Levers, Scenario
from .state import ColleagueState, Contacts, CustomerFigures

TIMESERIES_COLUMNS = (
    "nps", "nps_measured", "nps_margin", "csat", "csat_measured", "csat_margin", "engagement",
    "frontline_engagement", "active_customers", "prospects", "acquisitions", "churned",
    "promoters", "passives", "detractors", "wom_positive", "wom_negative", "staff_attrition",
    "brand_alignment", "brand_consistency", "trust", "empathy", "expectation",
    "process_quality", "revenue", "cost", "profit", "cumulative_profit",
    "productivity_pressure", "empowerment", "shock", "engagement_measured",
    "engagement_margin", "brand_image_distance", "brand_image_spread", "management_control",
    "sales", "mis_sold", "first_contact_resolution", "first_contact_closure", "failure_demand",
    "vacancies",
)

UNIT_COLUMNS = ("unit", "department", "engagement", "csat", "nps", "staff_leavers",
                "colleagues", "customers", "contacts", "engagement_measured", "csat_measured",
                "nps_measured", "csat_respondents", "nps_respondents", "brand_image_distance",
                "brand_image_spread", "first_contact_resolution", "failure_demand", "vacancies")


def nps(ltr: np.ndarray) -> float:
    """Net Promoter Score: % promoters (9-10) minus % detractors (0-6); 0 with nobody."""
    if len(ltr) == 0:
        return 0.0
    return 100.0 * (np.count_nonzero(ltr >= PROMOTER_MIN)
                    - np.count_nonzero(ltr < DETRACTOR_MAX)) / len(ltr)


def weekly_cost(sc: Scenario, lv: Levers, colleague: dict[str, np.ndarray],
                pay_multiple: np.ndarray, contacts_by_channel, leavers: int, acquisitions: int,
                revenue: float, sales: int = 0) -> float:
    """Costs of a week: goods, staff, culture programmes (each colleague's own levers,
    `colleague`), contacts, digital, hiring, marketing (acquisitions and advertising) and
    sales commission."""
    mo = sc.money
    contact = sum(mo.contact_cost.get(c, 0.0) * float(contacts_by_channel[i])
                  for i, c in enumerate(CHANNELS))
    return (mo.cost_of_sales * revenue
            + mo.salary * float(pay_multiple.sum())
            + mo.training_cost * float(colleague["training"].sum())
            + mo.pay_alignment_cost * float(colleague["pay_alignment"].sum())
            + mo.co_creation_cost * float(colleague["co_creation"].sum())
            + mo.board_cx_cost * lv.board_cx_role
            + contact
            + mo.digital_fixed_cost * lv.digital_channel
            + mo.hiring_cost * leavers
            + mo.acquisition_cost * acquisitions
            + mo.advertising_cost * lv.advertising
            + sc.selling.commission * mo.sale_value * sales)


@dataclass(eq=False)
class StepResult:
    """What a step produced, beyond the state: the inputs of the week's figures.

    `figures` are the customer passes' totals (`state.CustomerFigures`), `satisfaction` (m,)
    that of each contact; money in the scenario's units per week.
    """

    step: int
    figures: CustomerFigures
    satisfaction: np.ndarray
    revenue: float
    cost: float
    acquisitions: int
    leavers: int
    cumulative_profit: float
    brand_alignment: float
    process_quality: float
    shock: float
    productivity_pressure: float
    empowerment: float
    management_control: float
    sales: int
    mis_sold: int
    measured: Measured
    first_contact_resolution: float = float("nan")
    failure_demand: float = float("nan")
    first_contact_closure: float = float("nan")


def last_unit(last_colleague: np.ndarray, team: np.ndarray) -> np.ndarray:
    """The unit (team) of the colleague who served each customer last, -1 for never served.

    >>> last_unit(np.array([2, -1, 0]), np.array([5, 6, 7])).tolist()
    [7, -1, 5]
    """
    return np.where(last_colleague >= 0, team[np.maximum(last_colleague, 0)], -1)


def resolution_figures(con: Contacts, pending: np.ndarray) -> tuple[float, float, float]:
    """(first-contact resolution, failure demand, first-contact closure) of a week's contacts.

    First-contact resolution is the share of first contacts about an issue that resolved it at
    the contact, as the customer would say in a survey straight after (how SQM Group measures
    it). First-contact closure is the share of first contacts after which the customer does not
    come back about the issue (the repeat-call measure): it also counts the back office failing
    to deliver what was agreed, and counts a customer who gives up as closed. Failure demand is
    the share of all contacts that were repeats about an issue still open. `pending`: each
    customer's open-issue counter after the week's service (nan without contacts).

    >>> from types import SimpleNamespace
    >>> con = SimpleNamespace(attempt=np.array([0, 0, 1]), resolved=np.array([True, False, True]),
    ...                       customer=np.array([0, 1, 2]))
    >>> resolution_figures(con, np.array([1, 0, 0]))
    (0.5, 0.3333333333333333, 0.5)
    """
    first = con.attempt == 0
    n_first = int(np.count_nonzero(first))
    nan = float("nan")
    fcr = float(np.count_nonzero(con.resolved & first)) / n_first if n_first else nan
    closed = float(np.count_nonzero(first & (pending[con.customer] == 0))) / n_first \
        if n_first else nan
    m = len(con.attempt)
    return fcr, (float(np.count_nonzero(~first)) / m if m else nan), closed


def brand_image(images: np.ndarray, customers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean distance of the customers' brand images from the intended brand, and their spread
    (root mean squared distance from their own centre: low = a clear brand), from the sums
    of `CustomerFigures.images` (columns: units or the company) and the customers counted;
    nan where there are none."""
    n = np.where(customers > 0, customers, np.nan)
    centre = images[I_X:] / n
    spread2 = images[I_SQUARED] / n - (centre * centre).sum(axis=0)
    return images[I_DISTANCE] / n, np.sqrt(np.maximum(spread2, 0.0))


def snapshot(r: StepResult, col: ColleagueState, frontline: np.ndarray) -> dict[str, float]:
    """The company-wide figures of the step just run (TIMESERIES_COLUMNS).

    Parameters
    ----------
    r : StepResult
        The step's results.
    col : ColleagueState
        The colleagues after the step.
    frontline : (c,) bool
        Which colleagues are on the front line.
    """
    counts, sums = r.figures.counts, r.figures.sums
    n_active = int(counts[T_ACTIVE])
    promoters = int(counts[T_PROMOTERS])
    detractors = int(counts[T_DETRACTORS])
    n_seen = int(counts[T_SEEN])
    sat = r.satisfaction
    image_distance, image_spread = brand_image(r.figures.images[:, -1:], np.array([n_active]))
    filled = col.vacant == 0  # engagement is that of the people in post
    front = frontline & filled
    return {
        "nps": 100.0 * (promoters - detractors) / n_active if n_active else 0.0,
        "csat": 100.0 * float(np.mean(sat)) if len(sat) else float("nan"),
        "engagement": float(col.engagement[filled].mean()) if filled.any() else 0.0,
        "frontline_engagement": float(col.engagement[front].mean()) if front.any() else 0.0,
        "active_customers": n_active,
        "prospects": int(counts[T_PROSPECTS]),
        "acquisitions": r.acquisitions,
        "churned": int(counts[T_CHURNED]),
        "promoters": promoters,
        "passives": n_active - promoters - detractors,
        "detractors": detractors,
        "wom_positive": float(sums[S_HEARD_POS]),
        "wom_negative": float(sums[S_HEARD_NEG]),
        "staff_attrition": r.leavers,
        "brand_alignment": r.brand_alignment,
        "brand_consistency": 1.0 - sums[S_SPREAD] / n_seen if n_seen else 1.0,
        "trust": sums[S_TRUST] / n_active if n_active else 0.0,
        "empathy": sums[S_EMPATHY] / n_active if n_active else 0.0,
        "expectation": sums[S_EXPECTATION] / n_active if n_active else 0.0,
        "process_quality": r.process_quality,
        "revenue": r.revenue,
        "cost": r.cost,
        "profit": r.revenue - r.cost,
        "cumulative_profit": r.cumulative_profit,
        "productivity_pressure": r.productivity_pressure,
        "empowerment": r.empowerment,
        "shock": r.shock,
        "nps_measured": r.measured.nps,
        "nps_margin": r.measured.nps_margin,
        "csat_measured": r.measured.csat,
        "csat_margin": r.measured.csat_margin,
        "engagement_measured": r.measured.engagement,
        "engagement_margin": r.measured.engagement_margin,
        "brand_image_distance": float(image_distance[0]),
        "brand_image_spread": float(image_spread[0]),
        "management_control": r.management_control,
        "sales": r.sales,
        "mis_sold": r.mis_sold,
        "first_contact_resolution": r.first_contact_resolution,
        "first_contact_closure": r.first_contact_closure,
        "failure_demand": r.failure_demand,
        "vacancies": int(np.count_nonzero(~filled)),
    }


def unit_snapshot(r: StepResult, org: Organisation, col: ColleagueState,
                  con: Contacts) -> dict[str, np.ndarray]:
    """Per-unit figures: a unit is a team; customers belong to the unit that served them last;
    colleagues and engagement count the filled posts."""
    nt = org.n_teams
    team = org.team
    filled = col.vacant == 0
    staff = np.bincount(team, weights=filled, minlength=nt).astype(np.int64)
    eng = np.bincount(team, weights=col.engagement * filled, minlength=nt) / np.maximum(staff, 1)
    served_team = team[con.colleague]
    contacts = np.bincount(served_team, minlength=nt)
    first = con.attempt == 0
    n_first = np.bincount(served_team, weights=first, minlength=nt)
    fcr = np.bincount(served_team, weights=first & con.resolved, minlength=nt)
    fcr = np.where(n_first > 0, fcr / np.maximum(n_first, 1), np.nan)
    repeats = np.bincount(served_team, weights=~first, minlength=nt)
    failure_demand = np.where(contacts > 0, repeats / np.maximum(contacts, 1), np.nan)
    csat = 100.0 * np.bincount(served_team, weights=con.satisfaction, minlength=nt) / np.maximum(
        contacts, 1)
    csat = np.where(contacts > 0, csat, np.nan)
    customers, prom, det = r.figures.units[[U_CUSTOMERS, U_PROMOTERS, U_DETRACTORS]]
    unit_nps = np.where(customers > 0, 100.0 * (prom - det) / np.maximum(customers, 1), np.nan)
    leavers = np.bincount(team, weights=col.left, minlength=nt).astype(np.int64)
    m = r.measured
    image_distance, image_spread = brand_image(r.figures.images[:, :nt], customers)
    return {"step": np.full(nt, r.step), "engagement": eng, "csat": csat, "nps": unit_nps,
            "staff_leavers": leavers, "colleagues": staff, "customers": customers.copy(),
            "contacts": contacts, "engagement_measured": m.unit_engagement,
            "csat_measured": m.unit_csat, "nps_measured": m.unit_nps,
            "csat_respondents": m.unit_csat_n, "nps_respondents": m.unit_nps_n,
            "brand_image_distance": image_distance, "brand_image_spread": image_spread,
            "first_contact_resolution": fcr, "failure_demand": failure_demand,
            "vacancies": np.bincount(team, weights=~filled, minlength=nt).astype(np.int64)}


def units_frame(rows: list[dict[str, np.ndarray]], org) -> pd.DataFrame:
    """Stack the per-step unit records into a table, keeping units that serve customers."""
    if not rows:
        return pd.DataFrame(columns=("step",) + UNIT_COLUMNS)
    cols = {k: np.concatenate([r[k] for r in rows]) for k in rows[0]}
    nt = org.n_teams
    unit = np.tile(np.arange(nt), len(rows))
    dept = np.array(org.department_names, dtype=object)[org.team_department[unit]]
    df = pd.DataFrame({"step": cols["step"], "unit": unit, "department": dept,
                       **{k: cols[k] for k in UNIT_COLUMNS[2:]}})
    front_teams = np.unique(org.team[org.role == FRONTLINE])
    return df[df["unit"].isin(front_teams)].reset_index(drop=True)


__all__ = ["TIMESERIES_COLUMNS", "UNIT_COLUMNS", "StepResult", "last_unit", "nps",
           "resolution_figures",
           "snapshot", "unit_snapshot", "units_frame", "weekly_cost"]
