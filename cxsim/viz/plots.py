"""Static figures a consultant can put in a deck."""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

PANELS = (
    ("nps", "NPS", None),
    ("csat", "CSAT (mean satisfaction, %)", None),
    ("engagement", "Colleague engagement", "frontline_engagement"),
    ("active_customers", "Active customers", None),
    ("trust", "Customer trust", "empathy"),
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


def kpi_dashboard(ts: pd.DataFrame, path: str | os.PathLike, title: str = "cxsim",
                  fmt: str | None = None, events=()) -> None:
    """Six KPI panels (mean and 95% band over replications), events marked, saved to `path`."""
    fig, axes = plt.subplots(2, 3, figsize=(13, 7), constrained_layout=True)
    spans = event_spans(events)
    reps = ts["rep"].nunique() if "rep" in ts else 1
    for ax, (col, label, second) in zip(axes.ravel(), PANELS, strict=True):
        for c, style in ((col, "-"), (second, "--")):
            if c is None:
                continue
            b = band(ts, c)
            ax.plot(b.index, b["mean"], style, lw=1.8, label=c.replace("_", " "))
            ax.fill_between(b.index, b["low"], b["high"], alpha=0.25)
        for first, last, _ in spans:
            if last > first:
                ax.axvspan(first, last + 1, color="tab:red", alpha=0.12, lw=0)
            else:
                ax.axvline(first, color="grey", ls=":", lw=1)
        ax.set_title(label)
        ax.set_xlabel("week")
        ax.grid(alpha=0.3)
        if second:
            ax.legend(fontsize=8)
    note = "; ".join(f"wk {a}: {t}" for a, _, t in spans[:4])
    fig.suptitle(f"{title} ({reps} replication{'s' if reps != 1 else ''}; band = 95% CI)"
                 + (f"\n{note}" if note else ""))
    fig.savefig(path, dpi=110, format=fmt)
    plt.close(fig)


COMPARE_PANELS = (
    ("nps", "NPS"),
    ("csat", "CSAT (mean satisfaction, %)"),
    ("engagement", "Colleague engagement"),
    ("active_customers", "Active customers"),
    ("brand_alignment", "Brand alignment of colleagues"),
    ("cumulative_profit", "Cumulative profit"),
)


def comparison_curves(ts: pd.DataFrame, names: list[str], path: str | os.PathLike,
                      title: str = "cxsim compare", fmt: str | None = None,
                      panels: tuple[tuple[str, str], ...] = COMPARE_PANELS,
                      smooth: int = 4) -> None:
    """One line per scenario with its 95% band over replications, one panel per figure.

    `ts` has a `scenario` column; weekly CSAT is smoothed over `smooth` weeks (a rolling mean
    per replication) because one week's contacts are few.
    """
    ncol = 3
    nrow = -(-len(panels) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(13, 3.6 * nrow), constrained_layout=True)
    for ax, (col, label) in zip(np.ravel(axes), panels, strict=False):
        for name in names:
            sub = ts[ts["scenario"] == name]
            if col == "csat" and smooth > 1:
                sub = sub.sort_values(["rep", "step"]).copy()
                sub[col] = sub.groupby("rep")[col].transform(
                    lambda s: s.rolling(smooth, min_periods=1).mean())
            b = band(sub, col)
            ax.plot(b.index, b["mean"], lw=1.8, label=name)
            ax.fill_between(b.index, b["low"], b["high"], alpha=0.2)
        ax.set_title(label)
        ax.set_xlabel("week")
        ax.grid(alpha=0.3)
    for ax in np.ravel(axes)[len(panels):]:
        ax.set_visible(False)
    np.ravel(axes)[0].legend(fontsize=8)
    fig.suptitle(title)
    fig.savefig(path, dpi=110, format=fmt)
    plt.close(fig)
