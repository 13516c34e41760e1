"""Static figures a consultant can put in a deck."""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from . import style  # noqa: E402

#: (column, panel title, second column plotted with a legend or None)
PANELS = (
    ("nps", "Net Promoter Score: true and as measured", "nps_measured"),
    ("csat", "Customer satisfaction: true and as measured", "csat_measured"),
    ("engagement", "Colleague engagement", "frontline_engagement"),
    ("active_customers", "Active customers", None),
    ("trust", "Customer trust and felt empathy", "empathy"),
    ("cumulative_profit", "Cumulative profit", None),
)


def band(ts: pd.DataFrame, column: str, level: float = 0.95) -> pd.DataFrame:
    """Mean over replications per step with a t-based confidence band (none for one rep)."""
    g = ts.groupby("step")[column]
    mean, sd, n = g.mean(), g.std(ddof=1), g.count()
    if (n > 1).any():
        from scipy import stats  # about a second to import: only when there is a band

        half = stats.t.ppf(0.5 + level / 2, np.maximum(n - 1, 1)) * sd / np.sqrt(n)
        half = half.where(n > 1, 0.0).fillna(0.0)
    else:
        half = pd.Series(0.0, index=mean.index)
    return pd.DataFrame({"mean": mean, "low": mean - half, "high": mean + half})


def event_spans(events) -> list[tuple[int, int, str]]:
    """(first week, last week, label) of a scenario's events, for marking them on plots."""
    spans = []
    for ev in events:
        if ev.type == "service_failure":
            where = ev.channel or f"{ev.share:.0%} of contacts"
            spans.append((ev.step, ev.step + ev.duration - 1, f"service failure ({where})"))
        elif ev.type == "set":
            spans.append((ev.step, ev.step, "set " + ", ".join(ev.set)))
        else:
            spans.append((ev.step, ev.step, f"{ev.type.replace('_', ' ')} armed"))
    return spans


def _label(column: str) -> str:
    m = style.METRICS.get(column)
    return m.label if m else column.replace("_", " ")


def kpi_dashboard(ts: pd.DataFrame, path: str | os.PathLike, title: str = "cxsim",
                  fmt: str | None = None, events=(), currency: str = "GBP") -> None:
    """Six KPI panels (mean, and a 95% band when there are replications), events marked."""
    fig = dashboard_figure(ts, title, events, currency)
    style.savefig(fig, path, fmt)
    plt.close(fig)


def close_figure(fig: plt.Figure) -> None:
    """Release a figure made here (pyplot keeps every figure until it is closed)."""
    plt.close(fig)


def dashboard_figure(ts: pd.DataFrame, title: str = "cxsim", events=(),
                     currency: str = "GBP") -> plt.Figure:
    """The figure of kpi_dashboard, unsaved (tests read its axes)."""
    style.apply()
    fig, axes = plt.subplots(2, 3, figsize=(13, 7.4), constrained_layout=True)
    spans = event_spans(events)
    reps = ts["rep"].nunique() if "rep" in ts else 1
    for ax, (col, label, second) in zip(axes.ravel(), PANELS, strict=True):
        shown = []
        for c, ls in ((col, "-"), (second, "--")):
            if c is None or c not in ts:  # a run written before the figure existed
                continue
            b = band(ts, c) * style.scale(c)
            ax.plot(b.index, b["mean"], ls, lw=1.8, label=_label(c))
            if reps > 1:
                ax.fill_between(b.index, b["low"], b["high"], alpha=0.25)
            shown.extend(b["mean"])
        style.mark_events(ax, spans)
        ax.set_title(label)
        style.style_axis(ax, col, currency, data=shown)
        if second and second in ts:  # two figures on one axis: the legend names them
            ax.set_ylabel(style.METRICS[col].unit if col in style.METRICS else col)
            ax.legend(loc="lower left")
    sub = style.band_label(reps)
    note = style.events_note(spans)
    fig.suptitle(style.wrap(f"{title}: {reps} replication{'s' if reps != 1 else ''}; {sub}"
                            + (f"\nEvents: {note}" if note else "")))
    return fig


COMPARE_PANELS = (
    ("nps", "Net Promoter Score"),
    ("csat", "Customer satisfaction"),
    ("engagement", "Colleague engagement"),
    ("active_customers", "Active customers"),
    ("brand_alignment", "Brand alignment of colleagues"),
    ("cumulative_profit", "Cumulative profit"),
)


def comparison_curves(ts: pd.DataFrame, names: list[str], path: str | os.PathLike,
                      title: str = "cxsim compare", fmt: str | None = None,
                      panels: tuple[tuple[str, str], ...] = COMPARE_PANELS,
                      smooth: int = 4, events=(), currency: str = "GBP") -> None:
    """One line per scenario with its 95% band over replications, one panel per figure.

    `ts` has a `scenario` column; weekly CSAT is smoothed over `smooth` weeks (a rolling mean
    per replication) because one week's contacts are few. `events` maps a scenario name to its
    events; every panel marks them (numbered, listed under the title).
    """
    fig = comparison_figure(ts, names, title, panels, smooth, events, currency)
    style.savefig(fig, path, fmt)
    plt.close(fig)


def comparison_figure(ts: pd.DataFrame, names: list[str], title: str = "cxsim compare",
                      panels: tuple[tuple[str, str], ...] = COMPARE_PANELS, smooth: int = 4,
                      events=(), currency: str = "GBP") -> plt.Figure:
    """The figure of comparison_curves, unsaved (tests read its axes)."""
    style.apply()
    ncol = 3
    nrow = -(-len(panels) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(13, 3.8 * nrow + 0.6),
                             constrained_layout=True)
    reps = int(ts.groupby("scenario")["rep"].nunique().min()) if len(ts) else 0
    ev = dict(events) if not isinstance(events, dict) else events
    per = {name: event_spans(ev.get(name, ())) for name in names}
    spans = sorted({(a, b, t if all((a, b, t) in per[n] for n in names) else f"{t} in {name}")
                    for name in names for a, b, t in per[name]})
    for ax, (col, label) in zip(np.ravel(axes), panels, strict=False):
        shown = []
        for name in names:
            sub = ts[ts["scenario"] == name]
            if col == "csat" and smooth > 1:
                sub = sub.sort_values(["rep", "step"]).copy()
                sub[col] = sub.groupby("rep")[col].transform(
                    lambda s: s.rolling(smooth, min_periods=1).mean())
            b = band(sub, col) * style.scale(col)
            ax.plot(b.index, b["mean"], lw=1.8, label=name)
            if reps > 1:
                ax.fill_between(b.index, b["low"], b["high"], alpha=0.2)
            shown.extend(b["mean"])
        style.mark_events(ax, spans)
        ax.set_title(label + (f" ({smooth}-week rolling mean)" if col == "csat" and smooth > 1
                              else ""))
        style.style_axis(ax, col, currency, data=shown)
    for ax in np.ravel(axes)[len(panels):]:
        ax.set_visible(False)
    np.ravel(axes)[0].legend(loc="lower left")
    note = style.events_note(spans)
    fig.suptitle(style.wrap(f"{title}; {style.band_label(reps)}"
                            + (f"\nEvents: {note}" if note else "")))
    return fig


#: (comparison metric, the style metric that gives its unit, scale) on the differences chart
DIFF_PANELS = (
    ("final_nps", "nps", 1.0), ("mean_csat", "csat", 1.0),
    ("final_engagement", "engagement", 100.0), ("annual_churn_rate", None, 100.0),
    ("final_active_customers", "active_customers", 1.0),
    ("final_cumulative_profit", "cumulative_profit", 1.0),
)


def differences_figure(table: pd.DataFrame, names: list[str], currency: str = "GBP",
                       per_1000: bool = False) -> plt.Figure:
    """Each scenario's paired difference from the first, with its 95% interval, per figure.

    A dot whose whisker crosses zero is noise; the panels keep their own units (points, %,
    customers, money), so nothing is converted into a made-up common scale.
    """
    style.apply()
    fig, axes = plt.subplots(2, 3, figsize=(13, 1.2 + 0.55 * len(names) * 2 + 2.2),
                             constrained_layout=True)
    others = names[1:]
    for ax, (metric, col, k) in zip(axes.ravel(), DIFF_PANELS, strict=True):
        if per_1000 and f"{metric}_per_1000" in set(table["metric"]):
            metric = f"{metric}_per_1000"
        sub = table[table["metric"] == metric].set_index("scenario")
        label = sub["label"].iloc[0] if len(sub) else metric
        for i, name in enumerate(others):
            if name not in sub.index:
                continue
            r = sub.loc[name]
            d, lo, hi = (k * r["diff_vs_first"], k * r["diff_ci_low"], k * r["diff_ci_high"])
            clear = bool(r["clear"])
            ax.errorbar([d], [i], xerr=[[d - lo], [hi - d]], fmt="o", capsize=4,
                        color="tab:blue" if clear else "grey")
        ax.axvline(0, color="black", lw=0.8)
        ax.set_yticks(range(len(others)), others)
        ax.set_ylim(-0.7, len(others) - 0.3)
        ax.invert_yaxis()
        ax.grid(axis="y", visible=False)
        if col is None:
            unit = "percentage points"
        elif style.METRICS[col].kind == "money":
            unit = style.currency_symbol(currency).strip()
            ax.xaxis.set_major_formatter(
                FuncFormatter(lambda v, _: style.fmt_money(v, currency)))
        else:
            unit = style.METRICS[col].unit
        ax.set_xlabel(f"difference ({unit})")
        ax.set_title(style.wrap(label, 40))
    fig.suptitle(style.wrap(f"Difference from {names[0]}, with 95% intervals over paired "
                            "replications; grey: the interval includes zero (noise)"))
    return fig
