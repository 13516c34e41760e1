"""Plots of the benchmark results (benchmarks/results/*.json -> *.png)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from cxsim.model import PHASES  # noqa: E402  ("customers": attitude, word of mouth, churn)


def plot_scale(data: dict[str, Any], path: Path) -> Path:
    """Stacked per-phase step time per size and threading, with the edge sweep marked."""
    recs = data["records"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    ax = axes[0]
    labels, x = [], 0
    labelled: set[str] = set()
    for r in recs:
        for mode in ("serial", "parallel"):
            if mode not in r["modes"]:
                continue
            m = r["modes"][mode]
            sw = m["sweep_s"]
            base = 0.0
            for i, ph in enumerate(PHASES):
                if ph not in m["phases_min_s"]:
                    continue
                v = m["phases_min_s"][ph] / sw
                ax.bar(x, v, bottom=base, color=f"C{i}",
                       label=ph if ph not in labelled else None)
                labelled.add(ph)
                base += v
            labels.append(f"{r['customers']:,}\n{mode}\n{1e3 * m['step_min_s']:.1f} ms")
            x += 1
    for k in (1, 3):
        ax.axhline(k, color="k", lw=0.8, ls="-" if k == 1 else ":")
    ax.set_xticks(range(len(labels)), labels, fontsize=7)
    ax.set_ylabel("step time in edge sweeps (same graph, same threads)")
    ax.set_title("Step per phase, in one-edge-sweep units (dotted: target 3)")
    ax.legend(fontsize=7, ncol=2)
    ax = axes[1]
    ns = [r["customers"] for r in recs]
    ax.loglog(ns, [r["build_s"] for r in recs], "o-", label="model build (s)")
    ax.loglog(ns, [r["build_lazy_s"] for r in recs], "o--", label="build, lazy views (s)")
    ax.loglog(ns, [r["peak_rss_mb"] / 1e3 for r in recs], "s-", label="peak memory (GB)")
    mesa = [r for r in recs if "plain_mesa" in r]
    if mesa:
        ax.loglog([r["customers"] for r in mesa], [r["plain_mesa"]["step_s"] for r in mesa],
                  "^-", label="plain Mesa step (s)")
    ax.loglog(ns, [min(r["modes"]["serial"]["step_min_s"], r["modes"]["parallel"]["step_min_s"])
                   for r in recs], "v-", label="cxsim step (s)")
    ax.set_xlabel("customers")
    ax.set_title("Build, memory, step vs plain Mesa")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


if __name__ == "__main__":
    p = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent / "results/scale.json")
    print(plot_scale(json.loads(p.read_text()), p.with_suffix(".png")))
