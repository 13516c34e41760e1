"""A client's figures to fit: `targets.csv` and the same figures computed from a model run.

A targets file has the columns ``metric,value`` and optionally ``sd``, ``week`` and ``unit``::

    metric,value,sd
    nps,18,4
    csat,78,1.5
    annual_churn,0.16,0.015

Each row is one figure the client measures, in the model's own measured terms: NPS, CSAT and
engagement as the company's surveys report them (`cxsim.measurement`: a sample with
non-response and answer noise, never the true value), churn, staff attrition, active customers,
margin and revenue from the company's books. A figure describes the client's last year: the
model is compared over the ``calibration.weeks`` weeks after its burn-in (52 by default), the
scenario's events left out (they are what-ifs, not the past). A row with a ``week`` gives the
figure in that week of the year instead (weekly figures only); a row with a ``unit`` (a
front-line team's label in the org chart, or its number in a generated organisation) gives the
figure the unit's own customers and colleagues answer (measured NPS, CSAT, engagement).

``sd`` is the uncertainty of the client's figure (a survey's 95% margin of error is 1.96 sd);
the calibration measures distance in these units. Left out, it is `default_sd`: the sampling
error of a year of the scenario's surveys (`[measurement]`), but never below a floor that
stands for what no model reproduces exactly (2 NPS points, 1 CSAT point, 0.01 engagement), and
5% of the value for figures from the books (2% for active customers).

CSV as Excel saves it loads: UTF-8 with or without a byte-order mark, commas or semicolons,
CRLF line ends, a decimal comma with semicolons. Bad input raises TargetsError with one line
naming the file, the row, the field, the value and what is allowed.

>>> t = Target("nps", 20.0, 4.0)
>>> t.key
'nps'
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .scenario import Scenario


@dataclass(frozen=True)
class Metric:
    """A figure a client can give: how it is computed from a run, its range and unit."""

    name: str
    description: str
    unit: str
    low: float
    high: float
    weekly: bool  # a per-week figure (a row may give a `week`); else a figure of the year
    survey: bool  # measured by a survey (default sd from the measurement settings)


METRICS: dict[str, Metric] = {m.name: m for m in (
    Metric("nps", "Measured NPS: the relationship survey, pooled over `measurement.window` "
           "weeks; mean over the year (or that week)", "points", -100, 100, True, True),
    Metric("csat", "Measured CSAT: the transactional survey, mean satisfaction; mean over the "
           "year (or that week)", "% (0-100)", 0, 100, True, True),
    Metric("engagement", "Measured engagement: the pulse survey; mean over the year (or that "
           "week)", "0..1", 0, 1, True, True),
    Metric("annual_churn", "Customers lost in the year over the mean number of active "
           "customers (above 1 when the base turns over more than once a year)",
           "share per year (0.15 = 15%)", 0, 5, False, False),
    Metric("staff_attrition", "Colleagues who left in the year over the number of posts",
           "share per year (0.15 = 15%)", 0, 5, False, False),
    Metric("active_customers", "Active customers: mean over the year (or that week)",
           "customers", 0, 1e9, True, False),
    Metric("margin", "Operating margin: profit over revenue in the year", "share (0.1 = 10%)",
           -10, 1, False, False),
    Metric("revenue", "Revenue in the year", "scenario currency", 0, 1e15, False, False),
)}

#: other names accepted in a targets file (those of `cxsim compare` and the time series)
ALIASES = {"nps_measured": "nps", "csat_measured": "csat", "engagement_measured": "engagement",
           "annual_churn_rate": "annual_churn", "churn": "annual_churn",
           "annual_staff_attrition_rate": "staff_attrition", "attrition": "staff_attrition",
           "customers": "active_customers", "operating_margin": "margin"}

#: floors of the default sd: what no model reproduces exactly (absolute, relative to value)
SD_FLOOR = {"nps": (2.0, 0.0), "csat": (1.0, 0.0), "engagement": (0.01, 0.0),
            "annual_churn": (0.005, 0.05), "staff_attrition": (0.005, 0.05),
            "active_customers": (1.0, 0.02), "margin": (0.01, 0.05), "revenue": (1.0, 0.05)}

COLUMNS = ("metric", "value", "sd", "week", "unit")
#: figures the surveys also give per unit
UNIT_METRICS = ("nps", "csat", "engagement")


class TargetsError(ValueError):
    """A targets file that cannot be used; one line naming file, row, field, value, allowed."""

    def __init__(self, message: str):
        super().__init__(str(message).replace("\r", "\\r").replace("\n", "\\n"))


@dataclass(frozen=True)
class Target:
    """One figure to fit: metric, value, sd, the week (None: the whole year) and the unit
    (None: the company)."""

    metric: str
    value: float
    sd: float
    week: int | None = None
    sd_given: bool = True
    unit: str | None = None

    @property
    def key(self) -> str:
        """The summary statistic's name: `nps`, `nps@w12` for a week, `nps@Leeds` for a unit."""
        key = self.metric if self.unit is None else f"{self.metric}@{self.unit}"
        return key if self.week is None else f"{key}@w{self.week}"


# -- reading ------------------------------------------------------------------------------------

def _sniff(text: str) -> str:
    head = text.split("\n", 1)[0]
    return ";" if head.count(";") > head.count(",") else ","


#: metrics given as a share, where "16%" means 0.16 (elsewhere a % sign is only dropped)
SHARES = ("engagement", "annual_churn", "staff_attrition", "margin")


def _number(raw: str, delim: str, share: bool = False) -> float:
    s = raw.strip().replace("\u00a0", "").replace(" ", "")
    if delim == ";" and "," in s and "." not in s:
        s = s.replace(",", ".")  # decimal comma, as Excel writes it beside semicolons
    pct = s.endswith("%")
    x = float(s.rstrip("%"))
    return x / 100 if pct and share else x


def read_rows(path: str | os.PathLike) -> tuple[list[dict[str, str]], str]:
    """The rows of a targets CSV as text, keyed by lower-case column; and the delimiter."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise TargetsError(f"{p}: cannot read targets file: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TargetsError(f"{p}: not UTF-8 text (byte {exc.start} is {raw[exc.start]:#04x}); "
                           "allowed: a UTF-8 CSV file (Excel: CSV UTF-8)") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise TargetsError(f"{p}: the targets file is empty; allowed: a header "
                           "metric,value[,sd][,week] and one row per figure")
    delim = _sniff(text)
    reader = csv.reader(io.StringIO(text), delimiter=delim)
    header = [h.strip().lower() for h in next(reader)]
    for h in header:
        if h not in COLUMNS:
            raise TargetsError(f"{p}: row 1 (header): unknown column {h!r}; allowed: "
                               f"{', '.join(COLUMNS)}")
    for need in ("metric", "value"):
        if need not in header:
            raise TargetsError(f"{p}: row 1 (header): column {need!r} is missing; allowed: "
                               "a header metric,value[,sd][,week]")
    if len(set(header)) < len(header):
        dup = next(h for h in header if header.count(h) > 1)
        raise TargetsError(f"{p}: row 1 (header): column {dup!r} is named twice")
    rows = []
    for cells in reader:
        if not any(c.strip() for c in cells):
            rows.append({})  # a blank line keeps its row number
            continue
        cells = cells + [""] * (len(header) - len(cells))
        rows.append(dict(zip(header, cells, strict=False)))
    return rows, delim


def load_targets(path: str | os.PathLike, scenario: Scenario | None = None,
                 units: Callable[[], list[str]] | None = None) -> list[Target]:
    """Read and check a targets file; TargetsError names the file, row and field.

    Parameters
    ----------
    path : path-like
        The CSV file.
    scenario : Scenario, optional
        Gives the calibration window (weeks a `week` may name) and the default sd of survey
        figures; without it, 52 weeks and the default measurement settings.
    units : callable, optional
        Gives the front-line units' labels a `unit` may name, called at the first unit row
        (unchecked when None).
    """
    p = Path(path)
    rows, delim = read_rows(p)
    weeks = scenario.calibration.weeks if scenario is not None else 52
    out: list[Target] = []
    seen: dict[str, int] = {}
    known_units: list[str] | None = None
    for i, row in enumerate(rows, start=2):
        if not row:
            continue
        where = f"{p}: row {i}"
        name = row.get("metric", "").strip()
        metric = ALIASES.get(name.lower(), name.lower())
        if metric not in METRICS:
            import difflib

            close = difflib.get_close_matches(name.lower(), list(METRICS) + list(ALIASES), 1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise TargetsError(f"{where}: metric = {name!r} is not a figure the model "
                               f"reports; {hint}allowed: {', '.join(METRICS)}")
        m = METRICS[metric]
        share = metric in SHARES
        value = _field(row, "value", delim, where, share)
        if not m.low <= value <= m.high:
            raise TargetsError(f"{where}: value = {row['value'].strip()!r} for {metric} is "
                               f"outside {m.low:g} .. {m.high:g} ({m.unit})")
        week = None
        if row.get("week", "").strip():
            w = _field(row, "week", delim, where)
            if not m.weekly:
                raise TargetsError(f"{where}: week = {row['week'].strip()!r} given for "
                                   f"{metric}, a figure of the whole year; allowed: week only "
                                   "for " + ", ".join(k for k, v in METRICS.items() if v.weekly))
            if w != int(w) or not 0 <= w < weeks:
                raise TargetsError(f"{where}: week = {row['week'].strip()!r}; allowed: a whole "
                                   f"number 0 .. {weeks - 1} (calibration.weeks = {weeks})")
            week = int(w)
        unit = row.get("unit", "").strip() or None
        if unit is not None:
            if metric not in UNIT_METRICS:
                raise TargetsError(f"{where}: unit = {unit!r} given for {metric}, a figure of "
                                   f"the company only; allowed: unit only for "
                                   f"{', '.join(UNIT_METRICS)}")
            labels = known_units if known_units is not None else (
                units() if units is not None else None)
            known_units = labels
            if labels is not None and unit not in labels:
                shown = ", ".join(labels[:8]) + (", ..." if len(labels) > 8 else "")
                raise TargetsError(f"{where}: unit = {unit!r} is not a front-line unit of the "
                                   f"scenario's organisation; allowed: {shown}")
        sd_raw = row.get("sd", "").strip()
        if sd_raw:
            sd = _field(row, "sd", delim, where, share)
            if not sd > 0:
                raise TargetsError(f"{where}: sd = {sd_raw!r}; allowed: a number above 0 (in "
                                   f"the unit of {metric}: {m.unit}), or empty for the default")
            given = True
        else:
            sd, given = default_sd(metric, value, scenario, unit is not None), False
        t = Target(metric, value, sd, week, given, unit)
        if t.key in seen:
            raise TargetsError(f"{where}: {t.key} is already given in row {seen[t.key]}; "
                               "allowed: each figure once")
        seen[t.key] = i
        out.append(t)
    if not out:
        raise TargetsError(f"{p}: no targets (only a header); allowed: one row per figure, "
                           "e.g. nps,20,4")
    return out


def _field(row: Mapping[str, str], name: str, delim: str, where: str,
           share: bool = False) -> float:
    raw = row.get(name, "")
    if not raw.strip():
        raise TargetsError(f"{where}: {name} is empty; allowed: a number")
    try:
        x = _number(raw, delim, share)
    except ValueError:
        raise TargetsError(f"{where}: {name} = {raw.strip()!r} is not a number; allowed: a "
                           "number such as 18, 0.16 or 16%") from None
    if not math.isfinite(x):
        raise TargetsError(f"{where}: {name} = {raw.strip()!r} is not a finite number")
    return x


# -- defaults -----------------------------------------------------------------------------------

def default_sd(metric: str, value: float, scenario: Scenario | None = None,
               unit: bool = False) -> float:
    """The sd of a figure given without one: survey sampling error of a year, with a floor.

    A unit's figure (`unit`) gets twice the company's floor: fewer answers, and the model's
    units are coarser than the client's.

    Survey figures: the standard error of a year of the scenario's survey (respondents from
    its response rates and sizes; NPS with the worst-case spread of answers, CSAT and
    engagement with their answer noise plus a spread of 0.15 between people). The NPS and
    CSAT response rates are those of the middling (the delighted answer more often), so this
    counts fewer respondents than the survey gets and errs wide. The floor (`SD_FLOOR`) stands
    for what no model reproduces exactly; it usually wins.
    """
    from .scenario import Scenario as _Sc

    sc = scenario if scenario is not None else _Sc()
    ms, weeks = sc.measurement, sc.calibration.weeks
    absolute, relative = SD_FLOOR[metric]
    floor = max(absolute, relative * abs(value)) * (2.0 if unit else 1.0)
    if metric == "nps":
        n = max(1.0, ms.nps_response_rate * sc.size.customers * weeks)
        return max(floor, 100.0 / math.sqrt(n))
    if metric == "csat":
        contacts = sc.service.contact_rate * sc.size.customers * weeks
        n = max(1.0, ms.csat_response_rate * contacts)
        return max(floor, 100.0 * math.hypot(ms.csat_noise, 0.15) / math.sqrt(n))
    if metric == "engagement":
        n = max(1.0, ms.pulse_rate * sc.n_colleagues * weeks)
        return max(floor, math.hypot(ms.pulse_noise, 0.15) / math.sqrt(n))
    return floor


# -- the same figures from a run ----------------------------------------------------------------

def statistics(ts: pd.DataFrame, targets: list[Target], n_colleagues: int,
               units: pd.DataFrame | None = None) -> dict[str, float]:
    """The figures of `targets` computed from a run's weekly time series (the year to fit).

    `ts` holds the calibration window's weeks (step 0..weeks-1); measured columns are used
    for survey figures; `units` (the run's unit table, labelled) gives unit targets. A figure
    that cannot be computed (no answers) is nan.
    """
    weeks = len(ts)
    out: dict[str, float] = {}
    for t in targets:
        if t.unit is None:
            out[t.key] = _one(ts, t, n_colleagues, weeks)
        else:
            if units is None:
                raise ValueError(f"{t.key}: a unit target needs the run's unit table")
            u = units[units["unit"].astype(str) == t.unit].sort_values("step")
            out[t.key] = _one(u.reset_index(drop=True), t, n_colleagues, weeks)
    return out


_WEEKLY_COLUMN = {"nps": "nps_measured", "csat": "csat_measured",
                  "engagement": "engagement_measured", "active_customers": "active_customers"}


def _one(ts: pd.DataFrame, t: Target, n_colleagues: int, weeks: int) -> float:
    if t.metric in _WEEKLY_COLUMN:
        col = ts[_WEEKLY_COLUMN[t.metric]].to_numpy(float)
        if t.week is not None:
            return float(col[t.week])
        with np.errstate(all="ignore"):
            return float(np.nanmean(col)) if np.isfinite(col).any() else float("nan")
    per_year = 52.0 / weeks
    if t.metric == "annual_churn":
        return float(ts["churned"].sum() / max(ts["active_customers"].mean(), 1.0) * per_year)
    if t.metric == "staff_attrition":
        return float(ts["staff_attrition"].sum() / max(n_colleagues, 1) * per_year)
    if t.metric == "margin":
        rev = float(ts["revenue"].sum())
        return float(ts["profit"].sum()) / rev if rev else float("nan")
    if t.metric == "revenue":
        return float(ts["revenue"].sum() * per_year)
    raise KeyError(t.metric)


def targets_frame(targets: list[Target]) -> pd.DataFrame:
    """The targets as a table (key, metric, unit, week, value, sd, sd_given, scale)."""
    return pd.DataFrame([{"key": t.key, "metric": t.metric, "unit": t.unit, "week": t.week,
                          "value": t.value,
                          "sd": t.sd, "sd_given": t.sd_given, "scale": METRICS[t.metric].unit}
                         for t in targets])


def write_targets(path: str | os.PathLike, targets: list[Target]) -> None:
    """Write targets as a targets file (metric,value,sd,week,unit), atomically."""
    from .io import write_text

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["metric", "value", "sd", "week", "unit"])
    for t in targets:
        w.writerow([t.metric, repr(t.value), repr(t.sd), "" if t.week is None else t.week,
                    t.unit or ""])
    lines = [buf.getvalue().rstrip("\n")]
    write_text(path, "\n".join(lines) + "\n")


__all__ = ["ALIASES", "METRICS", "Metric", "Target", "TargetsError", "default_sd",
           "load_targets", "statistics", "targets_frame", "write_targets"]
