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
from cxsim.io import write_with
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
    """Save a matplotlib figure atomically as PNG under `out`."""
    import matplotlib.pyplot as plt

    path = out / name
    write_with(path, lambda p: fig.savefig(p, dpi=110, format="png"))
    plt.close(fig)
    print(f"wrote {path}")
    return path


def band_plot(ax, cmp: Comparison, names: list[str], column: str, title: str,
              smooth: int = 1) -> None:
    """Mean curve with a 95% band per scenario on one axis."""
    from scipy import stats

    for name in names:
        c = curves(cmp, name, column)
        if smooth > 1:
            k = np.ones(smooth) / smooth
            c = np.array([np.convolve(np.pad(r, (smooth - 1, 0), mode="edge"), k, "valid")
                          for r in c])
        m = c.mean(axis=0)
        half = stats.t.ppf(0.975, max(len(c) - 1, 1)) * c.std(axis=0, ddof=1) / np.sqrt(len(c))
        x = np.arange(c.shape[1])
        ax.plot(x, m, lw=1.8, label=name)
        ax.fill_between(x, m - half, m + half, alpha=0.2)
    ax.set_title(title)
    ax.set_xlabel("week")
    ax.grid(alpha=0.3)


def band_figure(cmp: Comparison, names: list[str], panels: list[tuple], title: str,
                out: Path, filename: str) -> Path:
    """One row of band plots, one per (column, title[, smooth]) panel; legend on the first."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(4.7 * len(panels), 4.2),
                             constrained_layout=True)
    for ax, panel in zip(axes, panels, strict=True):
        band_plot(ax, cmp, names, *panel)
    axes[0].legend(fontsize=8)
    fig.suptitle(title)
    return save(fig, out, filename)
