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


def kpi_dashboard(ts: pd.DataFrame, path: str | os.PathLike, title: str = "cxsim",
                  fmt: str | None = None) -> None:
    """Six KPI panels (mean and 95% band over replications), saved to `path`."""
    fig, axes = plt.subplots(2, 3, figsize=(13, 7), constrained_layout=True)
    reps = ts["rep"].nunique() if "rep" in ts else 1
    for ax, (col, label, second) in zip(axes.ravel(), PANELS, strict=True):
        for c, style in ((col, "-"), (second, "--")):
            if c is None:
                continue
            b = band(ts, c)
            ax.plot(b.index, b["mean"], style, lw=1.8, label=c.replace("_", " "))
            ax.fill_between(b.index, b["low"], b["high"], alpha=0.25)
        ax.set_title(label)
        ax.set_xlabel("week")
        ax.grid(alpha=0.3)
        if second:
            ax.legend(fontsize=8)
    fig.suptitle(f"{title} ({reps} replication{'s' if reps != 1 else ''}; band = 95% CI)")
    fig.savefig(path, dpi=110, format=fmt)
    plt.close(fig)
