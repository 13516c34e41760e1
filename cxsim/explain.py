"""Why scenario B differs from A: each causal path switched off in turn, with common random numbers.

A *path* is a mechanism of the model expressed as scenario overrides that switch it off (for
example the mirror: ``culture.engagement_mirror = 0``). For each replication k (seed k shared by
every run) the command runs A and B as they are and A and B with each path off. The path's
effect on a metric is the part of the B - A difference that disappears when the path is off:

    effect_p = (B - A) - (B_off_p - A_off_p)

and its share is effect_p / (B - A). Paths overlap and interact, so the shares need not add to
one; the rest is reported as "interaction / other". A cost and revenue breakdown by driver
(from the scenario's money section and what each week's contacts, leavers and levers were)
traces a profit difference to its sources.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .cache import CacheArg, resolve
from .scenario import CHANNELS, ComplaintsFirst, KpiDashboard, Scenario, validate_scenario

#: Causal paths: name -> (what it is, in words; overrides that switch it off).
PATHS: dict[str, tuple[str, dict[str, Any]]] = {
    # staff -> experience, split in two: engagement is behaviour; headroom is mostly the
    # empowerment lever itself (headroom = empowerment x (1 - pressure loss) x aptitude)
    "engagement_to_experience": (
        "engaged colleagues deliver a better experience",
        {"service.weight_engagement": 0.0}),
    "headroom_to_experience": (
        "headroom (empowerment less what productivity metrics take) lets colleagues resolve",
        {"service.weight_empowerment": 0.0}),
    "levers_to_engagement": (
        "management practice (empowerment, pressure, pay, co-creation) moves engagement",
        {"culture.engagement_empowerment": 0.0, "culture.engagement_pressure": 0.0,
         "culture.engagement_pay": 0.0, "culture.engagement_co_creation": 0.0}),
    "mirror": ("satisfied customers lift the engagement of those who served them",
               {"culture.engagement_mirror": 0.0}),
    "rushing": ("productivity pressure rushes contacts and lowers the experience",
                {"service.rush_penalty": 0.0}),
    "brand_fit": ("colleagues who live the brand deliver a better experience",
                  {"service.weight_brand_fit": 0.0}),
    "homophily": ("customers served by people like themselves feel understood",
                  {"service.weight_homophily": 0.0}),
    "word_of_mouth": ("customers talk: promoters and detractors sway their network",
                      {"word_of_mouth.talk_base": 0.0, "word_of_mouth.talk_extremity": 0.0}),
    "process_learning": ("complaints and co-creation fix back-office process steps",
                         {"process.learning_rate": 0.0}),
    "brand_image": ("customers' image of the brand: the gap between it and the colleagues met "
                    "costs trust, and a brand like oneself draws and keeps customers",
                    {"perception.inconsistency_penalty": 0.0, "image.self_congruity": 0.0}),
    "score_chasing": ("unit managers chase measured scores: control in lagging units, staff "
                      "asking for the score", {"management.reaction_rate": 0.0}),
    "selling": ("sales pay: products pushed at contacts bring revenue now, misfits cost trust",
                {"selling.push_rate": 0.0}),
    "failure_demand": (
        "unresolved contacts and failed deliveries cost experience and trust and come back as "
        "repeats that load the front line",
        {"service.unresolved_penalty": 0.0, "service.repeat_penalty": 0.0,
         "service.persistence": 0.0}),
    "capacity_to_resolution": (
        "targets and overload cut contacts short, so fewer are resolved first time",
        {"service.fcr_pressure": 0.0, "service.fcr_overload": 0.0}),
    "workload_to_engagement": ("overload wears colleagues' engagement down",
                               {"culture.engagement_workload": 0.0}),
    "internal_service": (
        "back-office departments deliver as engaged and as loaded as they are; silos break "
        "hand-offs",
        {"process.internal_engagement": 0.0, "process.internal_overload": 0.0,
         "process.handoff_failure": 0.0}),
    "management_response": ("management's crisis response (knee-jerk or complaints-first)",
                            {"__drop_responses__": True}),
}

#: the paths that run through what colleagues do (not the levers' own arithmetic: headroom and
#: rushing follow the levers by habit); switched off together as one more path, so that their
#: joint share is measured, not summed over paths that overlap
COLLEAGUE_PATHS = ("engagement_to_experience", "levers_to_engagement", "mirror", "brand_fit",
                   "homophily", "capacity_to_resolution", "workload_to_engagement",
                   "internal_service")
PATHS["colleague_behaviour"] = (
    "everything that runs through what colleagues do, switched off together: engagement and "
    "what moves it, the mirror, brand fit, similarity, resolution under load, internal service",
    {k: v for p in COLLEAGUE_PATHS for k, v in PATHS[p][1].items()})

#: (column of the run summary, label, unit)
METRICS: tuple[tuple[str, str, str], ...] = (
    ("nps", "NPS (last 13 weeks)", "points"),
    ("churn", "Annual customer churn", "share"),
    ("profit", "Cumulative profit", "money"),
    ("csat", "CSAT (last 13 weeks)", "points"),
    ("engagement", "Engagement (last 13 weeks)", "0..1"),
)
EXPLAIN_COLUMNS = ("path", "metric", "effect", "share", "ci_low", "ci_high", "description")


class ExplainError(ValueError):
    """Bad input to explain (the CLI prints it and exits with code 2)."""


def switch_off(sc: Scenario, path: str) -> Scenario:
    """The scenario with one causal path switched off (validated)."""
    _, over = PATHS[path]
    data = sc.to_dict()
    if over.get("__drop_responses__"):
        data["events"] = [e for e in data.get("events", [])
                          if e.get("type") not in ("kpi_dashboard", "complaints_first")]
        over = {}
    out = validate_scenario(data, source=f"{sc.name} without {path}")
    return out.with_overrides(over, source=f"{sc.name} without {path}") if over else out


def applicable_paths(a: Scenario, b: Scenario) -> list[str]:
    """Paths that exist in these scenarios (the response path only when one has a response)."""
    has_resp = any(isinstance(e, KpiDashboard | ComplaintsFirst) for e in a.events + b.events)
    return [p for p in PATHS if p != "management_response" or has_resp]


# -- cost breakdown -------------------------------------------------------------------------------

DRIVERS = ("revenue", "goods_and_delivery", "salaries", "training", "pay_alignment",
           "co_creation", "board_cx") + tuple(f"contacts_{c}" for c in CHANNELS) + (
    "digital_fixed", "hiring", "acquisition", "advertising", "commission", "profit",
    "revenue_lost_to_churn")


def cost_breakdown(sc: Scenario, weekly: pd.DataFrame, ts: pd.DataFrame) -> dict[str, float]:
    """Totals over a run by driver, from the money section and each week's drivers.

    `weekly` is the validation Probe's weekly table (contacts per channel, leavers, levers,
    value of churned customers); `ts` the run's timeseries (revenue, acquisitions). The costs
    add up to the timeseries' cost (see metrics.weekly_cost); revenue_lost_to_churn is the
    weekly spend of the customers who churned, counted until the end of the run.
    """
    mo = sc.money
    n = weekly["n_colleagues"].to_numpy()
    rev = ts["revenue"].to_numpy(float)
    out = {
        "revenue": float(rev.sum()),
        "goods_and_delivery": float(mo.cost_of_sales * rev.sum()),
        "salaries": float(mo.salary * weekly["pay_units"].sum()),
        "training": float((n * mo.training_cost * weekly["training"]).sum()),
        "pay_alignment": float((n * mo.pay_alignment_cost * weekly["pay_alignment"]).sum()),
        "co_creation": float((n * mo.co_creation_cost * weekly["co_creation"]).sum()),
        "board_cx": float((mo.board_cx_cost * weekly["board_cx_role"]).sum()),
    }
    for c in CHANNELS:
        out[f"contacts_{c}"] = float(mo.contact_cost.get(c, 0.0) * weekly[f"contacts_{c}"].sum())
    out["digital_fixed"] = float((mo.digital_fixed_cost * weekly["digital_channel"]).sum())
    out["hiring"] = float(mo.hiring_cost * weekly["leavers"].sum())
    out["acquisition"] = float(mo.acquisition_cost * ts["acquisitions"].sum())
    out["advertising"] = float((mo.advertising_cost * weekly["advertising"]).sum())
    out["commission"] = float(sc.selling.commission * mo.sale_value * weekly["sales"].sum())
    costs = sum(v for k, v in out.items() if k != "revenue")
    out["profit"] = out["revenue"] - costs
    remaining = len(weekly) - 1 - np.arange(len(weekly))
    out["revenue_lost_to_churn"] = float((weekly["churned_value"].to_numpy() * remaining).sum())
    return out


# -- running --------------------------------------------------------------------------------------

def _metrics(ts: pd.DataFrame) -> dict[str, float]:
    weeks = len(ts)
    return {"nps": float(ts["nps"].iloc[-13:].mean()),
            "churn": float(ts["churned"].sum()) / max(float(ts["active_customers"].mean()), 1.0)
            * 52 / weeks,
            "profit": float(ts["cumulative_profit"].iloc[-1]),
            "csat": float(ts["csat"].iloc[-13:].mean()),
            "engagement": float(ts["engagement"].iloc[-13:].mean())}


def _task(args: tuple) -> tuple[str, str, int, dict[str, float], dict[str, float] | None]:
    from .experiments.run import run_one
    from .validation import Probe

    side, path, sc, seed, rep, cache = args
    probe = Probe(every=10**9) if path == "" else None
    res = run_one(sc, seed, rep, sc.steps, "numba", None, units=False, probe=probe, cache=cache)
    costs = cost_breakdown(sc, res.probe["weekly"], res.timeseries) if probe else None
    return side, path, rep, _metrics(res.timeseries), costs


@dataclass
class Explanation:
    """What explain produced: per-path effects, per-replication values and the cost table."""

    a: str
    b: str
    reps: int
    seed: int
    paths: list[str]
    table: pd.DataFrame  # EXPLAIN_COLUMNS
    runs: pd.DataFrame  # side, path, rep and one column per metric (METRICS)
    costs: pd.DataFrame  # driver, a, b, diff, ci_low, ci_high
    wall_s: float = 0.0


def effects_table(runs: pd.DataFrame, paths: list[str]) -> pd.DataFrame:
    """Each path's effect on each metric with a 95% CI over paired replications.

    `runs` has columns side ("A"/"B"), path ("" for the full model), rep and the metrics.
    """
    from .experiments.compare import mean_ci

    def get(side: str, path: str, m: str) -> np.ndarray:
        r = runs[(runs["side"] == side) & (runs["path"] == path)].sort_values("rep")
        return r[m].to_numpy(float)

    rows = []
    for m, _label, _unit in METRICS:
        d = get("B", "", m) - get("A", "", m)
        total, tlo, thi = mean_ci(d)
        rows.append({"path": "total (B - A)", "metric": m, "effect": total, "share": 1.0,
                     "ci_low": tlo, "ci_high": thi, "description": "the whole difference"})
        explained = np.zeros_like(d)
        for p in paths:
            e = d - (get("B", p, m) - get("A", p, m))
            explained += e
            mu, lo, hi = mean_ci(e)
            rows.append({"path": p, "metric": m, "effect": mu,
                         "share": mu / total if total else float("nan"), "ci_low": lo,
                         "ci_high": hi, "description": PATHS[p][0]})
        rest = d - explained
        mu, lo, hi = mean_ci(rest)
        rows.append({"path": "interaction / other", "metric": m, "effect": mu,
                     "share": mu / total if total else float("nan"), "ci_low": lo,
                     "ci_high": hi,
                     "description": "levers' direct arithmetic, overlaps and interactions"})
    return pd.DataFrame(rows, columns=list(EXPLAIN_COLUMNS))


def run_explain(a: Scenario, b: Scenario, reps: int = 3, seed: int | None = None,
                workers: int = 1, progress: Callable[[int], None] | None = None,
                cache: CacheArg = True) -> Explanation:
    """Run A, B and both with each path off, `reps` times with shared seeds.

    With `cache` (default: the user's burn-in cache, `cxsim.cache`), variants that share a
    burn-in (those differing only in events) burn in once per seed: same numbers.
    """
    from .experiments.compare import mean_ci
    from .experiments.run import map_tasks, rep_seeds

    if reps < 2:
        raise ExplainError(f"--reps = {reps}: a confidence interval needs at least 2 "
                           "replications; allowed: 2 or more")
    if a.steps != b.steps:
        raise ExplainError(f"scenarios have different horizons ({a.name}: {a.steps}, "
                           f"{b.name}: {b.steps}); give --steps N")
    root = a.seed if seed is None else int(seed)
    seeds = rep_seeds(root, reps)
    paths = applicable_paths(a, b)
    variants = {("A", ""): a, ("B", ""): b}
    for p in paths:
        variants["A", p] = switch_off(a, p)
        variants["B", p] = switch_off(b, p)
    folder = resolve(cache)
    where = str(folder) if folder is not None else None
    tasks = [(side, p, sc, s, k, where) for k, s in enumerate(seeds)
             for (side, p), sc in variants.items()]
    t0 = time.perf_counter()
    out = list(map_tasks(_task, tasks, workers, progress))
    runs = pd.DataFrame([{"side": s, "path": p, "rep": k, **m} for s, p, k, m, _ in out])
    cost_a = pd.DataFrame([c for s, p, k, _, c in sorted(out, key=lambda r: r[2])
                           if s == "A" and p == ""])
    cost_b = pd.DataFrame([c for s, p, k, _, c in sorted(out, key=lambda r: r[2])
                           if s == "B" and p == ""])
    crow = []
    for drv in DRIVERS:
        d = cost_b[drv].to_numpy() - cost_a[drv].to_numpy()
        mu, lo, hi = mean_ci(d)
        crow.append({"driver": drv, a.name: float(cost_a[drv].mean()),
                     b.name if b.name != a.name else "B": float(cost_b[drv].mean()),
                     "diff": mu, "ci_low": lo, "ci_high": hi})
    return Explanation(a.name, b.name, reps, root, paths, effects_table(runs, paths), runs,
                       pd.DataFrame(crow), time.perf_counter() - t0)


# -- output ---------------------------------------------------------------------------------------

def _num(x: float, metric: str) -> str:
    if not np.isfinite(x):
        return "n/a"
    if metric == "churn":
        return f"{100 * x:+.1f} pts"
    if metric == "profit":
        return f"{x:+,.0f}"
    if metric == "engagement":
        return f"{x:+.3f}"
    return f"{x:+.1f}"


def narrative(e: Explanation) -> str:
    """A paragraph in plain words a consultant can read out."""
    t = e.table
    parts = []
    for m, label, _ in METRICS:
        sub = t[t["metric"] == m]
        tot = sub[sub["path"] == "total (B - A)"].iloc[0]
        paths = sub[~sub["path"].isin(["total (B - A)", "interaction / other"])]
        clear = paths[(paths["ci_low"] > 0) | (paths["ci_high"] < 0)]
        top = clear.reindex(clear["effect"].abs().sort_values(ascending=False).index).head(3)
        rest = sub[sub["path"] == "interaction / other"].iloc[0]
        said = "; ".join(f"{r.path.replace('_', ' ')} {_num(r.effect, m)} "
                         f"({100 * r.share:.0f}%)" for r in top.itertuples()) or \
            "no single path has an effect clearly different from zero"
        parts.append(f"{label}: {e.b} differs from {e.a} by {_num(tot.effect, m)} "
                     f"[{_num(tot.ci_low, m)}, {_num(tot.ci_high, m)}]. Largest clear paths: "
                     f"{said}. Not carried by any single path (levers' direct arithmetic, "
                     f"overlaps and interactions): {_num(rest.effect, m)} "
                     f"({100 * rest.share:.0f}%).")
    return " ".join(parts)


def report_markdown(e: Explanation) -> str:
    lines = [f"# Why {e.b} differs from {e.a}", "",
             f"{e.reps} paired replications (root seed {e.seed}); each path switched off in "
             "both scenarios in turn; effect = (B - A) - (B - A with the path off); intervals "
             "are 95% t-intervals over replications. Paths overlap, so shares need not add "
             "to 100%.", "", narrative(e), "", "![waterfall](explain.png)", "",
             "| path | metric | effect | share | 95% CI |", "|---|---|---|---|---|"]
    for r in e.table.itertuples():
        lines.append(f"| {r.path} | {r.metric} | {_num(r.effect, r.metric)} | "
                     f"{100 * r.share:.0f}% | [{_num(r.ci_low, r.metric)}, "
                     f"{_num(r.ci_high, r.metric)}] |")
    lines += ["", "## Cost and revenue by driver (totals over the run, mean over replications)",
              "", f"| driver | {e.a} | {e.b} | B - A | 95% CI |", "|---|---|---|---|---|"]
    for r in e.costs.itertuples(index=False):
        lines.append(f"| {r[0]} | {r[1]:,.0f} | {r[2]:,.0f} | {r[3]:+,.0f} | "
                     f"[{r[4]:+,.0f}, {r[5]:+,.0f}] |")
    lines += ["", "Paths and their switches:", ""]
    for p in e.paths:
        desc, over = PATHS[p]
        sw = "crisis-response events removed" if "__drop_responses__" in over else \
            ", ".join(f"`{k} = {v}`" for k, v in over.items())
        lines.append(f"- **{p}**: {desc} (off: {sw})")
    return "\n".join(lines) + "\n"


def waterfall(e: Explanation, path: Path) -> None:
    """Waterfall per metric: A, each path's effect, the rest, B."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(METRICS), figsize=(5 * len(METRICS), 4.8))
    for ax, (m, label, _) in zip(axes, METRICS, strict=True):
        sub = e.table[e.table["metric"] == m]
        a_val = float(e.runs[(e.runs.side == "A") & (e.runs.path == "")][m].mean())
        steps = [r for r in sub.itertuples() if r.path != "total (B - A)"]
        names, level, levels = [e.a], a_val, [a_val]
        ax.bar(0, a_val, color="tab:gray")
        for i, r in enumerate(steps, start=1):
            ax.bar(i, r.effect, bottom=level, color="tab:green" if r.effect >= 0 else "tab:red")
            if np.isfinite(r.ci_low):
                ax.errorbar(i, level + r.effect, yerr=[[r.effect - r.ci_low],
                                                      [r.ci_high - r.effect]],
                            color="k", capsize=2, lw=0.8)
            level += r.effect
            levels.append(level)
            names.append(r.path.replace("_", " "))
        ax.bar(len(names), level, color="tab:blue")
        names.append(e.b)
        ax.set_xticks(range(len(names)), names, rotation=60, ha="right", fontsize=7)
        ax.set_title(label, fontsize=9)
        lo, hi = min(levels), max(levels)
        pad = 0.4 * (hi - lo) + 1e-9
        ax.set_ylim(lo - pad, hi + pad)
    fig.suptitle(f"Why {e.b} differs from {e.a} ({e.reps} paired reps; bars: path effects)",
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=90, format="png")
    plt.close(fig)


def write_explain(out: Path, e: Explanation) -> list[Path]:
    """explain.csv, explain.png, explain.md, costs.csv and runs.csv, each written atomically."""
    from .io import write_text, write_with

    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "explain.csv", out / "explain.png", out / "explain.md", out / "costs.csv",
             out / "runs.csv"]
    write_with(paths[0], lambda p: e.table.to_csv(p, index=False))
    write_with(paths[1], lambda p: waterfall(e, p))
    write_text(paths[2], report_markdown(e))
    write_with(paths[3], lambda p: e.costs.to_csv(p, index=False))
    write_with(paths[4], lambda p: e.runs.to_csv(p, index=False))
    return paths


__all__ = ["PATHS", "ExplainError", "Explanation", "cost_breakdown", "effects_table",
           "run_explain", "switch_off", "write_explain"]
