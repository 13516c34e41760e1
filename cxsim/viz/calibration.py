"""Figures of a calibration: the posterior predictive against each target, and the posterior.

`fit_figure`: one panel per target, the fresh runs at posterior draws as dots and their 90%
range, the client's figure with bands of 1 and 2 sd. `posterior_figure`: a corner plot, the
weighted marginal of each parameter over its prior range on the diagonal, pairs below it.
"""

from __future__ import annotations

import math
import os
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from . import style  # noqa: E402


def fit_figure(targets: list[Any], predictive: pd.DataFrame, fit: pd.DataFrame,
               path: str | os.PathLike) -> None:
    """Posterior predictive (dots, 90% range) against each target (line, 1 and 2 sd bands)."""
    style.apply()
    n = len(targets)
    cols = min(3, n)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.0 * rows), squeeze=False)
    rng = np.random.default_rng(0)  # jitter only
    for ax, t in zip(axes.flat, targets, strict=False):
        x = predictive[t.key].to_numpy(float)
        r = fit[fit["target"] == t.key].iloc[0]
        ax.axhspan(t.value - 2 * t.sd, t.value + 2 * t.sd, color="#d9e8f5", zorder=0,
                   label="target ± 2 sd")
        ax.axhspan(t.value - t.sd, t.value + t.sd, color="#a9cbe8", zorder=0,
                   label="target ± 1 sd")
        ax.axhline(t.value, color="#1f5f99", lw=1.5, label="target")
        ax.scatter(rng.uniform(-0.25, 0.25, len(x)), x, s=12, color="#333333", alpha=0.6,
                   label="posterior predictive", zorder=3)
        ax.errorbar([0.5], [r.predictive_median],
                    yerr=[[r.predictive_median - r.predictive_low],
                          [r.predictive_high - r.predictive_median]],
                    fmt="o", color="#c0392b" if not r.reached else "#2d7d46", capsize=4,
                    zorder=4, label="median, 90% range")
        ax.set_xlim(-0.6, 1.0)
        ax.set_xticks([])
        verdict = "reached" if r.reached else "NOT reached"
        ax.set_title(f"{t.key}: {verdict} ({r.miss_sd:+.1f} sd)", fontsize=10)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=5, fontsize=8, frameon=False)
    fig.suptitle("Posterior predictive against each target")
    fig.tight_layout(rect=(0, 0.06, 1, 0.95))
    style.savefig(fig, path, "png")
    plt.close(fig)


def posterior_figure(priors: list[Any], posterior: pd.DataFrame,
                     path: str | os.PathLike) -> None:
    """Corner plot: weighted marginals on the diagonal (prior range as the axis), pairs below."""
    style.apply()
    k = len(priors)
    size = max(2.6, min(3.2, 10 / k))
    fig, axes = plt.subplots(k, k, figsize=(size * k + 0.6, size * k + 0.4), squeeze=False)
    w = posterior["weight"].to_numpy(float)
    for i, pi in enumerate(priors):
        xi = posterior[pi.key].to_numpy(float)
        for j, pj in enumerate(priors):
            ax = axes[i, j]
            if j > i:
                ax.axis("off")
                continue
            if i == j:
                ax.hist(xi, bins=20, range=(pi.low, pi.high), weights=w, density=True,
                        color="#2d7d46", alpha=0.8)
                ax.axhline(1.0 / pi.width, color="#777777", ls="--", lw=1, label="prior")
                ax.set_xlim(pi.low, pi.high)
                ax.set_yticks([])
            else:
                xj = posterior[pj.key].to_numpy(float)
                ax.scatter(xj, xi, s=6 + 400 * w / w.sum(), color="#1f5f99", alpha=0.5)
                ax.set_xlim(pj.low, pj.high)
                ax.set_ylim(pi.low, pi.high)
            if i == k - 1:
                ax.set_xlabel(pj.key, fontsize=8)
            if j == 0 and i > 0:
                ax.set_ylabel(pi.key, fontsize=8)
            ax.tick_params(labelsize=7)
    fig.suptitle("Posterior: marginals (dashed: the uniform prior) and pairs")
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    style.savefig(fig, path, "png")
    plt.close(fig)
