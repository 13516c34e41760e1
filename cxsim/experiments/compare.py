"""What-if comparisons: several scenarios, R replications each, common random numbers.

Replication k of every scenario runs with the same seed (``rep_seeds(root, R)[k]``), so the
difference between two scenarios in replication k is a paired difference: the noise they share
cancels and the confidence interval of the difference is much tighter than the two intervals of
the means suggest. Runs go over local processes (spawn); the numbers do not depend on how many.

>>> from cxsim.experiments.compare import mean_ci
>>> m, lo, hi = mean_ci([1.0, 2.0, 3.0])
>>> round(m, 1), bool(lo < m < hi)
(2.0, True)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..cache import CacheArg, resolve
from ..io import write_text, write_with
from ..scenario import Scenario, ScenarioError, load_scenario
from .run import map_tasks, rep_seeds, run_one, summarise

#: (summary column, label for the deck) of every figure the comparison table reports.
METRICS: tuple[tuple[str, str], ...] = (
    ("final_nps", "NPS (final week)"),
    ("mean_nps", "NPS (mean over run)"),
    ("final_csat", "CSAT % (final week)"),
    ("mean_csat", "CSAT % (mean over run)"),
    ("final_engagement", "Engagement (final)"),
    ("final_frontline_engagement", "Front-line engagement (final)"),
    ("final_active_customers", "Active customers (final)"),
    ("final_trust", "Trust (final)"),
    ("final_empathy", "Empathy (final)"),
    ("final_brand_alignment", "Brand alignment (final)"),
    ("final_brand_consistency", "Brand consistency (final)"),
    ("total_acquisitions", "Acquisitions (total)"),
    ("total_churned", "Customers churned (total)"),
    ("annual_churn_rate", "Annual churn rate"),
    ("total_staff_attrition", "Staff leavers (total)"),
    ("annual_staff_attrition_rate", "Annual staff attrition rate"),
    ("total_revenue", "Revenue (total)"),
    ("total_cost", "Cost (total)"),
    ("final_cumulative_profit", "Cumulative profit"),
)

#: Figures that grow with the size of the customer base: when the scenarios differ in size they
#: are also reported per 1,000 customers at the start (suffix ``_per_1000``).
SIZE_DEPENDENT = ("final_active_customers", "total_acquisitions", "total_churned",
                  "total_revenue", "total_cost", "final_cumulative_profit",
                  "total_staff_attrition")
PER_1000: tuple[tuple[str, str], ...] = tuple(
    (f"{c}_per_1000", f"{label} per 1,000 customers") for c, label in METRICS
    if c in SIZE_DEPENDENT)

#: Figures the report lists first when it says what is clear and what is noise.
HEADLINE_METRICS = ("final_nps", "mean_csat", "final_engagement", "final_active_customers",
                    "annual_churn_rate", "annual_staff_attrition_rate",
                    "final_cumulative_profit")


class CompareError(ValueError):
    """Bad input to a comparison (the CLI prints it and exits with code 2)."""


@dataclass
class Comparison:
    """Everything a comparison produced: per-step series, per-replication summary, the table."""

    names: list[str]
    seed: int
    reps: int
    steps: int
    timeseries: pd.DataFrame  # scenario, rep, step, figures...
    summary: pd.DataFrame  # scenario, rep, summary columns
    table: pd.DataFrame  # scenario, metric, mean, ci_low, ci_high, diff_vs_first, ...
    wall_s: float = 0.0
    events: dict[str, list[Any]] = field(default_factory=dict)  # scenario name -> its events
    currency: str = "GBP"
    sizes: dict[str, int] = field(default_factory=dict)  # scenario name -> customers at start
    tomls: dict[str, str] = field(default_factory=dict)  # scenario name -> its TOML (as run)

    @property
    def sizes_differ(self) -> bool:
        return len(set(self.sizes.values())) > 1

    def size_warning(self) -> str | None:
        """The loud warning a comparison of different sizes needs, or None."""
        if not self.sizes_differ:
            return None
        listed = ", ".join(f"{k} = {v:,}" for k, v in self.sizes.items())
        return (f"the scenarios differ in size (customers at the start: {listed}): totals such "
                "as active customers, revenue and profit differ because of size alone; read "
                "the per-1,000-customer rows")


# -- statistics -----------------------------------------------------------------------------------

def mean_ci(values: Sequence[float], level: float = 0.95) -> tuple[float, float, float]:
    """Mean and t-based confidence interval; a zero-width interval when all values are equal."""
    from scipy import stats

    x = np.asarray(values, dtype=float)
    n = len(x)
    m = float(x.mean())
    if n < 2:
        return m, float("nan"), float("nan")
    sd = float(x.std(ddof=1))
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * sd / np.sqrt(n)
    return m, m - half, m + half


def paired_diff_ci(a: Sequence[float], b: Sequence[float],
                   level: float = 0.95) -> tuple[float, float, float]:
    """Mean of b - a over paired replications with its t confidence interval."""
    return mean_ci(np.asarray(b, float) - np.asarray(a, float), level)


def clear(lo: float, hi: float) -> bool:
    """A difference is clear when its confidence interval excludes zero."""
    return bool(np.isfinite(lo) and np.isfinite(hi) and (lo > 0 or hi < 0))


# -- input ----------------------------------------------------------------------------------------

def load_scenarios(names: Sequence[str], reps: int, steps: int | None = None,
                   overrides: dict[str, Any] | None = None) -> list[Scenario]:
    """Load and check the scenarios of a comparison; CompareError says what is wrong."""
    if len(names) < 2:
        raise CompareError(f"compare needs at least two scenarios, got {len(names)}; "
                           "e.g. `cxsim compare baseline culture_first`")
    if reps < 2:
        raise CompareError(f"--reps = {reps}: a confidence interval needs at least 2 "
                           "replications; allowed: 2 or more")
    dup = sorted({n for n in names if list(names).count(n) > 1})
    if dup:
        raise CompareError(f"scenario {dup[0]!r} is named twice; name each scenario once")
    out = []
    for name in names:
        try:
            sc = load_scenario(name)
            if overrides:
                sc = sc.with_overrides(overrides, source=f"{name} with --set")
            if steps is not None:
                sc = sc.with_overrides({"steps": steps}, source=f"{name} with --steps")
        except ScenarioError as exc:
            raise CompareError(str(exc)) from None
        out.append(sc)
    horizons = {sc.name: sc.steps for sc in out}
    if len(set(horizons.values())) > 1:
        listed = ", ".join(f"{k} = {v}" for k, v in horizons.items())
        raise CompareError(f"scenarios have different horizons (steps: {listed}); compare "
                           "like with like, or give --steps N to run them all for N weeks")
    labels = [sc.name for sc in out]
    if len(set(labels)) < len(labels):  # two files with the same `name`: label them by argument
        for sc, name in zip(out, names, strict=True):
            sc.name = str(name)
    return out


# -- running --------------------------------------------------------------------------------------

def _task(args: tuple[int, Scenario, int, int, int, str, str | None, dict[str, Any] | None]
          ) -> tuple[int, int, pd.DataFrame]:
    i, sc, seed, rep, steps, engine, cache, draw = args
    if draw:  # this replication's parameters, drawn from a calibration's posterior
        sc = sc.with_overrides(draw, source=f"{sc.name}, posterior draw {rep}")
    res = run_one(sc, seed, rep, steps, engine, None, units=False, cache=cache)
    return i, rep, res.timeseries


def run_comparison(scenarios: Sequence[Scenario], reps: int, seed: int | None = None,
                   workers: int = 1, engine: str = "numba",
                   progress: Callable[[int], None] | None = None,
                   cache: CacheArg = True,
                   draws: Sequence[Sequence[dict[str, Any]]] | None = None) -> Comparison:
    """Run every scenario `reps` times with common random numbers and tabulate the results.

    `draws[i][k]`: parameter values replication k of scenario i runs with (a posterior draw,
    `cxsim.experiments.posterior`); None runs every scenario as it is.

    With `cache` (default: the user's burn-in cache, `cxsim.cache`), scenarios that share a
    burn-in (same levers and parameters, other events) burn in once per replication and fork
    from it: same numbers, less time.
    """
    root = scenarios[0].seed if seed is None else int(seed)
    seeds = rep_seeds(root, reps)
    steps = scenarios[0].steps
    folder = resolve(cache)
    where = str(folder) if folder is not None else None
    tasks = [(i, sc, s, k, steps, engine, where, draws[i][k] if draws else None)
             for i, sc in enumerate(scenarios) for k, s in enumerate(seeds)]
    t0 = time.perf_counter()
    frames = {(i, k): ts for i, k, ts in map_tasks(_task, tasks, workers, progress)}
    names = [sc.name for sc in scenarios]
    ts_all, sums = [], []
    for i, sc in enumerate(scenarios):
        ts = pd.concat([frames[i, k] for k in range(reps)], ignore_index=True)
        summ = summarise(ts)
        summ["annual_staff_attrition_rate"] = (
            summ["total_staff_attrition"] / sc.n_colleagues * 52 / summ["steps"])
        for c in SIZE_DEPENDENT:
            summ[f"{c}_per_1000"] = summ[c] / sc.size.customers * 1000
        ts.insert(0, "scenario", sc.name)
        summ.insert(0, "scenario", sc.name)
        ts_all.append(ts)
        sums.append(summ)
    summary = pd.concat(sums, ignore_index=True)
    sizes = {sc.name: sc.size.customers for sc in scenarios}
    metrics = METRICS + (PER_1000 if len(set(sizes.values())) > 1 else ())
    return Comparison(names, root, reps, steps, pd.concat(ts_all, ignore_index=True), summary,
                      comparison_table(summary, names, metrics), time.perf_counter() - t0,
                      events={sc.name: list(sc.events) for sc in scenarios},
                      currency=scenarios[0].money.currency, sizes=sizes,
                      tomls={sc.name: sc.to_toml() for sc in scenarios})


def comparison_table(summary: pd.DataFrame, names: Sequence[str],
                     metrics: Sequence[tuple[str, str]] = METRICS) -> pd.DataFrame:
    """Mean and 95% CI of each metric per scenario, and the paired difference vs the first."""
    rows = []
    first = summary[summary["scenario"] == names[0]].sort_values("rep")
    for name in names:
        s = summary[summary["scenario"] == name].sort_values("rep")
        for col, label in metrics:
            m, lo, hi = mean_ci(s[col].to_numpy())
            d, dlo, dhi = paired_diff_ci(first[col].to_numpy(), s[col].to_numpy())
            rows.append({"scenario": name, "metric": col, "label": label, "mean": m,
                         "ci_low": lo, "ci_high": hi, "diff_vs_first": d,
                         "diff_ci_low": dlo, "diff_ci_high": dhi,
                         "clear": name != names[0] and clear(dlo, dhi)})
    return pd.DataFrame(rows)


#: figures whose time scales the comparison reports, with the smallest effect worth timing
TIMED = (("nps", "NPS", 1.0), ("csat", "CSAT", 0.5), ("engagement", "engagement", 0.005))


def time_scales(cmp: Comparison) -> pd.DataFrame:
    """How long each scenario's effect takes, against the first scenario (paired by rep).

    For each figure of `TIMED`: weeks until the paired difference reaches half its final size
    (mean of the last 13 weeks), and, where the difference dips (a failure), weeks from the
    scenario's first service failure (or week 0) to its trough and from the trough back to
    half the loss. A replication that has not got there by the end of the run is censored: it
    is counted (`censored`, and `censored_after`, the fewest weeks any of them was watched)
    but kept out of the mean and 95% interval, which are over the replications that got there
    (`reps`); a censored time is a lower bound, not a time. nan where there is no effect.
    """
    from ..validation import half_time_observed, recovery_fall_observed

    ts = cmp.timeseries
    base = ts[ts.scenario == cmp.names[0]]
    rows = []
    for name in cmp.names[1:]:
        other = ts[ts.scenario == name]
        failures = [getattr(ev, "step", 0) for ev in cmp.events.get(name, [])
                    if getattr(ev, "type", "") == "service_failure"]
        start = min(failures, default=0)
        for col, label, smallest in TIMED:
            times: dict[str, list[tuple[float, bool]]] = {w: [] for w in TIME_SCALES}
            for rep in sorted(set(other.rep)):
                a = base[base.rep == rep].sort_values("step")[col].to_numpy(float)
                b = other[other.rep == rep].sort_values("step")[col].to_numpy(float)
                n = min(len(a), len(b))
                diff = b[:n] - a[:n]
                times["weeks_to_half_effect"].append(half_time_observed(diff, min_effect=smallest))
                f, r, cens = recovery_fall_observed(diff, start, window=n - start)
                deep = np.isfinite(f) and np.min(diff) < -smallest
                times["weeks_to_trough"].append((f if deep else float("nan"), False))
                times["weeks_to_recover_half"].append((r if deep else float("nan"), cens))
            for what, observed in times.items():
                rows.append({"scenario": name, "metric": col, "label": label, "time": what,
                             **censored_summary(observed)})
    return pd.DataFrame(rows, columns=["scenario", "metric", "label", "time", "mean", "ci_low",
                                       "ci_high", "reps", "censored", "censored_after"])


#: the times `time_scales` reports, in order
TIME_SCALES = ("weeks_to_half_effect", "weeks_to_trough", "weeks_to_recover_half")


def censored_summary(observed: Sequence[tuple[float, bool]]) -> dict[str, float]:
    """Mean and 95% interval of the times that were reached, the number reached (`reps`), the
    number censored (not reached by the end of the run) and the fewest weeks a censored one
    was watched (`censored_after`, nan if none); nan times (no effect) count in neither.

    >>> s = censored_summary([(10.0, False), (12.0, False), (52.0, True), (float("nan"), False)])
    >>> s["mean"], s["reps"], s["censored"], s["censored_after"]
    (11.0, 2, 1, 52.0)
    """
    t = np.asarray([v for v, _ in observed], float)
    cens = np.asarray([c for _, c in observed], bool) & np.isfinite(t)
    done = t[np.isfinite(t) & ~cens]
    m, lo, hi = mean_ci(done) if len(done) else (float("nan"),) * 3
    return {"mean": m, "ci_low": lo, "ci_high": hi, "reps": len(done),
            "censored": int(cens.sum()),
            "censored_after": float(t[cens].min()) if cens.any() else float("nan")}


# -- output ---------------------------------------------------------------------------------------

_MONEY = ("revenue", "cost", "profit")


def _fmt(v: float, metric: str, currency: str | None = None) -> str:
    """A figure as the table and report show it: rates in %, money with the currency."""
    if not np.isfinite(v):
        return "n/a"
    if "rate" in metric:
        return f"{100 * v:.1f}%"
    if currency and any(m in metric for m in _MONEY):
        from ..viz.style import fmt_money

        return fmt_money(v, currency)
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 1:
        return f"{v:.1f}"
    return f"{v:.3f}"


def report_markdown(cmp: Comparison, figure: str = "comparison.png", extra: str = "") -> str:
    """A short deck-ready summary: set-up, table, figure, what is clear and what is noise."""
    t = cmp.table
    base = cmp.names[0]
    lines = [
        f"# What-if comparison: {', '.join(cmp.names)}",
        "",
        f"{cmp.reps} replications of {cmp.steps} weeks per scenario, common random numbers "
        f"(replication k of every scenario uses the same seed; root seed {cmp.seed}). "
        f"Intervals are 95% t-intervals over replications; differences are paired differences "
        f"against **{base}**. A difference is *clear* when its interval excludes zero.",
        "",
        *([f"> **Warning:** {cmp.size_warning()}.", ""] if cmp.sizes_differ else []),
        "## Headline figures",
        "",
        "| figure | " + " | ".join(cmp.names) + " |",
        "|---|" + "---|" * len(cmp.names),
    ]
    metrics = [(c, lab) for c, lab in METRICS + PER_1000 if c in set(t.metric)]
    for col, label in metrics:
        cells = []
        for name in cmp.names:
            r = t[(t.scenario == name) & (t.metric == col)].iloc[0]
            cur = cmp.currency
            cell = (f"{_fmt(r['mean'], col, cur)} [{_fmt(r.ci_low, col, cur)}, "
                    f"{_fmt(r.ci_high, col, cur)}]")
            if name != base:
                mark = " **clear**" if r["clear"] else ""
                cell += f"<br>Δ {_fmt(r.diff_vs_first, col, cmp.currency)}{mark}"
            cells.append(cell)
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += ["", f"![Curves with 95% bands]({figure})", "", "## What is clear, what is noise",
              ""]
    labels = dict(metrics)
    for name in cmp.names[1:]:
        sub = t[t.scenario == name].set_index("metric")
        ordered = list(HEADLINE_METRICS) + [c for c, _ in metrics if c not in HEADLINE_METRICS]
        if cmp.sizes_differ:  # a size artefact is not a finding: per-1,000 figures instead
            ordered = [f"{c}_per_1000" if c in SIZE_DEPENDENT else c for c in ordered]
            ordered = list(dict.fromkeys(c for c in ordered if c in labels))
        up = [c for c in ordered if sub.loc[c, "clear"] and sub.loc[c, "diff_vs_first"] > 0]
        down = [c for c in ordered if sub.loc[c, "clear"] and sub.loc[c, "diff_vs_first"] < 0]
        noise = [c for c in ordered if not sub.loc[c, "clear"]]

        def say(cols: list[str], sub: pd.DataFrame = sub) -> str:
            return "; ".join(
                f"{labels[c]} {_fmt(sub.loc[c, 'diff_vs_first'], c, cmp.currency)} "
                f"[{_fmt(sub.loc[c, 'diff_ci_low'], c, cmp.currency)}, "
                f"{_fmt(sub.loc[c, 'diff_ci_high'], c, cmp.currency)}]"
                for c in cols) or "none"

        lines += [f"**{name} vs {base}**", "",
                  f"- Clearly higher: {say(up)}",
                  f"- Clearly lower: {say(down)}",
                  f"- Within noise: {', '.join(labels[c] for c in noise) or 'none'}", ""]
    if len(cmp.names) > 1:
        lines += _time_scales_markdown(time_scales(cmp), base)
    if extra:
        lines += [extra, ""]
    lines += ["Files: `comparison.csv` (every figure: mean, CI, paired difference and its CI), "
              "`comparison.png` (curves), `timescales.csv` (how long each effect takes), "
              "`timeseries.csv` (every replication, every week).", ""]
    return "\n".join(lines)


def _time_scales_markdown(times: pd.DataFrame, base: str) -> list[str]:
    """The report's "How long it takes" section: one line per scenario and figure timed."""
    lines = ["## How long it takes", "",
             f"Weeks until the difference from **{base}** reaches half its final size, and, "
             "where it dips, weeks from the first service failure (or week 0) to the trough "
             "and from the trough back to half the loss "
             "(mean [95% interval] over the replications that got there by the end of the run; "
             "\"more than N weeks\": most had not got there after N weeks; "
             "n/a: no effect worth timing).", ""]
    for (name, label), g in times.groupby(["scenario", "label"], sort=False):
        cells = []
        for what, text in (("weeks_to_half_effect", "half the effect"),
                           ("weeks_to_trough", "trough"),
                           ("weeks_to_recover_half", "recovery to half")):
            cell = _time_cell(g[g.time == what].iloc[0])
            if cell:
                cells.append(f"{text} {cell}")
        lines.append(f"- **{name}, {label}**: " + ("; ".join(cells) or "n/a"))
    return lines + [""]


def _time_cell(r: pd.Series) -> str:
    """One time of the report: "more than N weeks" when most replications are censored (not
    there by the end of the run), else the mean and interval of those that got there, saying
    how many were left out; "" when there is no effect to time."""
    cens = int(r.get("censored", 0))
    total = int(r.reps) + cens
    if total == 0:
        return ""
    if 2 * cens > total:
        return (f"more than {r.censored_after:.0f} weeks ({cens} of {total} replications "
                "not there by the end)")
    ci = (f" [{r.ci_low:.0f}, {r.ci_high:.0f}]" if np.isfinite(r.ci_low)
          else " (from 1 replication)" if r.reps == 1 else "")
    left = f" ({cens} of {total} replications not there by the end, left out)" if cens else ""
    return f"{r['mean']:.0f} weeks{ci}{left}"


def write_comparison(out: Path, cmp: Comparison, extra: str = "") -> list[Path]:
    """Write comparison.csv, comparison.png, report.md, timeseries.csv, differences.png and
    the scenarios' TOML, each atomically; `extra` is a report section (markdown)."""
    from ..viz.plots import comparison_curves

    out.mkdir(parents=True, exist_ok=True)
    cols = ["scenario", "metric", "label", "mean", "ci_low", "ci_high", "diff_vs_first",
            "diff_ci_low", "diff_ci_high", "clear"]
    paths = [out / "comparison.csv", out / "comparison.png", out / "report.md",
             out / "timeseries.csv"]
    write_with(paths[0], lambda p: cmp.table[cols].to_csv(p, index=False))
    for path in (paths[1], out / "comparison.svg"):
        write_with(path, lambda p, path=path: comparison_curves(
            cmp.timeseries, cmp.names, p, title=f"{' vs '.join(cmp.names)}",
            fmt=path.suffix[1:], events=cmp.events, currency=cmp.currency))
    write_text(paths[2], report_markdown(cmp, extra=extra))
    write_with(paths[3], lambda p: cmp.timeseries.to_csv(p, index=False))
    if len(cmp.names) > 1:
        paths.append(out / "timescales.csv")
        write_with(paths[-1], lambda p: time_scales(cmp).to_csv(p, index=False))
        from ..viz.plots import differences_figure
        from ..viz.style import save as save_figure

        fig = differences_figure(cmp.table, cmp.names, cmp.currency, cmp.sizes_differ)
        paths += save_figure(fig, out / "differences.png")
    for name, text in cmp.tomls.items():  # the assumptions, for `cxsim report`
        write_text(out / "scenarios" / f"{safe_name(name)}.toml", text)
    return paths


def safe_name(name: str) -> str:
    """A scenario name usable as a file name (a path given as a name keeps its stem)."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name).strip(".") or "_"
