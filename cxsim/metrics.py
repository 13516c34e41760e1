"""The figures the model reports each step, computed from the arrays.

`snapshot` gives the company-wide figures (the DataCollector's model reporters read them);
`unit_snapshot` gives per-unit figures (front-line teams and stores) for unit-level studies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd

from . import kernels
from .kernels import DETRACTOR_MAX, PROMOTER_MIN
from .networks import FRONTLINE, ROLES
from .scenario import CHANNELS, Levers, Scenario

if TYPE_CHECKING:
    from .model import CXModel

TIMESERIES_COLUMNS = (
    "nps", "csat", "engagement", "frontline_engagement", "active_customers", "prospects",
    "acquisitions", "churned", "promoters", "passives", "detractors", "wom_positive",
    "wom_negative", "staff_attrition", "brand_alignment", "brand_consistency", "trust",
    "empathy", "expectation", "process_quality", "revenue", "cost", "profit",
    "cumulative_profit", "productivity_pressure", "empowerment", "shock",
)

UNIT_COLUMNS = ("unit", "department", "engagement", "csat", "nps", "staff_leavers",
                "colleagues", "customers", "contacts")


def nps(ltr: np.ndarray) -> float:
    """Net Promoter Score: % promoters (9-10) minus % detractors (0-6); 0 with nobody."""
    if len(ltr) == 0:
        return 0.0
    return 100.0 * (np.count_nonzero(ltr >= PROMOTER_MIN)
                    - np.count_nonzero(ltr < DETRACTOR_MAX)) / len(ltr)


def weekly_cost(sc: Scenario, lv: Levers, pay_multiple: np.ndarray, contacts_by_channel,
                leavers: int, acquisitions: int, revenue: float) -> float:
    """Costs of a week: goods, staff, culture programmes, contacts, digital, hiring, marketing."""
    mo = sc.money
    n = len(pay_multiple)
    contact = sum(mo.contact_cost.get(c, 0.0) * float(contacts_by_channel[i])
                  for i, c in enumerate(CHANNELS))
    return (mo.cost_of_sales * revenue
            + mo.salary * float(pay_multiple.sum())
            + n * (mo.training_cost * lv.training + mo.pay_alignment_cost * lv.pay_alignment
                   + mo.co_creation_cost * lv.co_creation)
            + mo.board_cx_cost * lv.board_cx_role
            + contact
            + mo.digital_fixed_cost * lv.digital_channel
            + mo.hiring_cost * leavers
            + mo.acquisition_cost * acquisitions)


class CustomerTotals(NamedTuple):
    """The customer-side reductions of one step (see `kernels.customer_totals`)."""

    counts: np.ndarray  # active, prospects, churned, promoters, detractors, seen
    sums: np.ndarray  # met_spread (seen), trust, empathy, expectation (active), heard +/-
    units: np.ndarray  # (3, n_teams): customers, promoters, detractors per unit


def customer_totals(model: CXModel) -> CustomerTotals:
    """All customer-side figures of a step in one numba pass (same numbers for any threads)."""
    cus, org = model.customers, model.org
    fn = kernels.customer_totals if model.parallel else kernels.customer_totals_serial
    return CustomerTotals(*fn(
        cus.status, cus.ltr, cus.met_spread, cus.trust, cus.empathy, cus.expectation,
        cus.heard_pos, cus.heard_neg, cus.churned, cus.last_colleague, model.colleague_team,
        org.n_teams))


def snapshot(model: CXModel, *, satisfaction, revenue, cost, acquisitions, leavers,
             inconsistency, totals: CustomerTotals | None = None) -> dict[str, float]:
    """The company-wide figures of the step just run (TIMESERIES_COLUMNS)."""
    col = model.colleagues
    tot = customer_totals(model) if totals is None else totals
    k = kernels
    n_active = int(tot.counts[k.T_ACTIVE])
    promoters = int(tot.counts[k.T_PROMOTERS])
    detractors = int(tot.counts[k.T_DETRACTORS])
    n_seen = int(tot.counts[k.T_SEEN])
    front = model.frontline_mask
    fit = model.brand_fit()
    profit = revenue - cost
    return {
        "nps": 100.0 * (promoters - detractors) / n_active if n_active else 0.0,
        "csat": 100.0 * float(np.mean(satisfaction)) if len(satisfaction) else float("nan"),
        "engagement": float(col.engagement.mean()),
        "frontline_engagement": float(col.engagement[front].mean()) if front.any() else 0.0,
        "active_customers": n_active,
        "prospects": int(tot.counts[k.T_PROSPECTS]),
        "acquisitions": acquisitions,
        "churned": int(tot.counts[k.T_CHURNED]),
        "promoters": promoters,
        "passives": n_active - promoters - detractors,
        "detractors": detractors,
        "wom_positive": float(tot.sums[k.S_HEARD_POS]),
        "wom_negative": float(tot.sums[k.S_HEARD_NEG]),
        "staff_attrition": leavers,
        "brand_alignment": float(fit.mean()),
        "brand_consistency": 1.0 - tot.sums[k.S_SPREAD] / n_seen if n_seen else 1.0,
        "trust": tot.sums[k.S_TRUST] / n_active if n_active else 0.0,
        "empathy": tot.sums[k.S_EMPATHY] / n_active if n_active else 0.0,
        "expectation": tot.sums[k.S_EXPECTATION] / n_active if n_active else 0.0,
        "process_quality": float(model.quality.mean()) if len(model.quality) else 1.0,
        "revenue": revenue,
        "cost": cost,
        "profit": profit,
        "cumulative_profit": model.cumulative_profit,
        "productivity_pressure": model.levers.productivity_pressure,
        "empowerment": model.levers.empowerment,
        "shock": float(model.shock.severity) if model.shock is not None else 0.0,
    }


def unit_snapshot(model: CXModel, colleague: np.ndarray, satisfaction: np.ndarray,
                  totals: CustomerTotals | None = None) -> dict[str, np.ndarray]:
    """Per-unit figures: a unit is a team; customers belong to the unit that served them last."""
    org, col = model.org, model.colleagues
    tot = customer_totals(model) if totals is None else totals
    nt = org.n_teams
    team = org.team
    staff = np.bincount(team, minlength=nt)
    eng = np.bincount(team, weights=col.engagement, minlength=nt) / np.maximum(staff, 1)
    served_team = team[colleague]
    contacts = np.bincount(served_team, minlength=nt)
    csat = 100.0 * np.bincount(served_team, weights=satisfaction, minlength=nt) / np.maximum(
        contacts, 1)
    csat = np.where(contacts > 0, csat, np.nan)
    customers, prom, det = tot.units
    unit_nps = np.where(customers > 0, 100.0 * (prom - det) / np.maximum(customers, 1), np.nan)
    leavers = np.bincount(team, weights=col.left, minlength=nt).astype(np.int64)
    return {"step": np.full(nt, model.t), "engagement": eng, "csat": csat, "nps": unit_nps,
            "staff_leavers": leavers, "colleagues": staff, "customers": customers,
            "contacts": contacts}


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


__all__ = ["ROLES", "TIMESERIES_COLUMNS", "UNIT_COLUMNS", "nps", "snapshot", "unit_snapshot",
           "units_frame", "weekly_cost"]
