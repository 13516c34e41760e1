"""Shared helpers of the stylized-fact scripts: arguments, scenarios, runs, figures.

Each `factN_*.py` script reproduces one stylized fact of docs/design.md at a realistic size, prints
the effect sizes (paired differences with 95% CIs over replications with common random
numbers) and saves its figure under docs/gallery/.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import numpy as np

from cxsim.experiments.compare import Comparison, mean_ci, run_comparison
from cxsim.scenario import Scenario, load_scenario

GALLERY = Path(__file__).resolve().parent.parent / "docs" / "gallery"


def parse(doc: str, reps: int = 5) -> argparse.Namespace:
    """--quick (small, for a smoke run), --reps, --workers, --seed, --out."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small populations, few replications")
    ap.add_argument("--reps", type=int, default=reps)
    ap.add_argument("--workers", type=int, default=max(1, min(4, os.cpu_count() or 1)))
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--out", type=Path, default=GALLERY)
    a = ap.parse_args()
    if a.quick:
        a.reps = min(a.reps, 3)
    return a


def size(args: argparse.Namespace, **extra: Any) -> dict[str, Any]:
    """Realistic size (5000 customers, 100 colleagues), or a small one with --quick."""
    s = ({"size.customers": 1500, "size.prospects": 1500} if args.quick
         else {"size.customers": 5000, "size.prospects": 5000})
    s.update({k.replace("__", "."): v for k, v in extra.items()})
    return s


def scen(name: str, label: str | None, sz: dict[str, Any], **overrides: Any) -> Scenario:
    ov = dict(sz)
    ov.update({k.replace("__", "."): v for k, v in overrides.items()})
    sc = load_scenario(name, ov)
    sc.name = label or name
    return sc


def run(scs: list[Scenario], args: argparse.Namespace) -> Comparison:
    return run_comparison(scs, args.reps, seed=args.seed, workers=args.workers)


def per_rep(cmp: Comparison, name: str, column: str) -> np.ndarray:
    s = cmp.summary[cmp.summary.scenario == name].sort_values("rep")
    return s[column].to_numpy(dtype=float)


def paired(cmp: Comparison, a: str, b: str, column: str) -> tuple[float, float, float]:
    """Print and return mean (b - a) with its 95% CI over paired replications."""
    m, lo, hi = mean_ci(per_rep(cmp, b, column) - per_rep(cmp, a, column))
    print(f"{column}: {b} - {a} = {m:+.4g} [{lo:+.4g}, {hi:+.4g}]")
    return m, lo, hi


def curves(cmp: Comparison, name: str, column: str) -> np.ndarray:
    ts = cmp.timeseries[cmp.timeseries.scenario == name]
    return ts.pivot(index="rep", columns="step", values=column).sort_index().to_numpy(float)


def save(fig, out: Path, name: str) -> Path:
    """Save a matplotlib figure atomically as PNG (and its SVG twin) under `out`."""
    from cxsim.viz import style

    path = out / name
    style.save(fig, path)
    print(f"wrote {path}")
    return path


def band_plot(ax, cmp: Comparison, names: list[str], column: str, title: str,
              smooth: int = 1) -> None:
    """Mean curve per scenario on one axis, with its 95% band when there are replications.

    Units, fixed ranges, currency and event markers come from cxsim.viz.style, as in every
    other figure of the project.
    """
    from scipy import stats

    from cxsim.viz import style
    from cxsim.viz.plots import event_spans

    style.apply()
    k = style.scale(column)
    shown: list[float] = []
    for name in names:
        c = curves(cmp, name, column) * k
        if smooth > 1:
            kernel = np.ones(smooth) / smooth
            c = np.array([np.convolve(np.pad(r, (smooth - 1, 0), mode="edge"), kernel, "valid")
                          for r in c])
        m = c.mean(axis=0)
        x = np.arange(c.shape[1])
        ax.plot(x, m, lw=1.8, label=name)
        if len(c) > 1:
            half = (stats.t.ppf(0.975, len(c) - 1) * c.std(axis=0, ddof=1) / np.sqrt(len(c)))
            ax.fill_between(x, m - half, m + half, alpha=0.2)
        shown.extend(m)
    spans = sorted({sp for name in names for sp in event_spans(cmp.events.get(name, ()))})
    style.mark_events(ax, spans)
    ax.set_title(title + (f" ({smooth}-week rolling mean)" if smooth > 1 else ""))
    style.style_axis(ax, column, cmp.currency, data=shown)


def band_figure(cmp: Comparison, names: list[str], panels: list[tuple], title: str,
                out: Path, filename: str) -> Path:
    """One row of band plots, one per (column, title[, smooth]) panel; legend on the first."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(4.7 * len(panels), 4.2),
                             constrained_layout=True)
    for ax, panel in zip(axes, panels, strict=True):
        band_plot(ax, cmp, names, *panel)
    from cxsim.viz import style

    axes[0].legend()
    fig.suptitle(style.wrap(f"{title}; {style.band_label(cmp.reps)}"))
    return save(fig, out, filename)
