"""Rank the behavioural parameters of a finished Morris sweep over all its outputs.

    cxsim sweep experiments/morris_behaviour.toml --out out/morris_behaviour --workers 2
    python experiments/morris_behaviour_figure.py out/morris_behaviour docs/img/morris_behaviour.png

Each output's mu* (mean absolute elementary effect) is divided by its largest mu*, so outputs in
different units weigh alike; the overall rank is the mean of these normalised mu*. Writes the
figure (one panel per output, plus the overall ranking) and prints the ranking as Markdown.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from cxsim.experiments.analyze import load_sweep, sensitivity  # noqa: E402


def ranking(out: Path) -> tuple[pd.DataFrame, list[str]]:
    """mu* per output (normalised to the output's largest) and their mean, sorted."""
    meta, table = load_sweep(out)
    outputs = list(meta.get("outputs") or ["nps", "churned", "engagement", "cumulative_profit"])
    cols = {}
    for o in outputs:
        idx = sensitivity(meta, table, o)
        cols[o] = idx["mu_star"] / idx["mu_star"].max()
    norm = pd.DataFrame(cols)
    norm["overall"] = norm.mean(axis=1)
    return norm.sort_values("overall", ascending=False), outputs


def main(argv: list[str]) -> int:
    out, fig_path = Path(argv[0]), Path(argv[1])
    norm, outputs = ranking(out)
    fig, axes = plt.subplots(1, len(outputs) + 1, figsize=(3.2 * (len(outputs) + 1), 7),
                             sharey=True)
    order = norm.index[::-1]
    for ax, col in zip(axes, outputs + ["overall"], strict=True):
        ax.barh(range(len(order)), norm.loc[order, col],
                color="tab:blue" if col != "overall" else "tab:purple")
        ax.set_title(f"{col}\n(mu*, share of max)" if col != "overall" else "mean over outputs",
                     fontsize=9)
        ax.set_xlim(0, 1.05)
    axes[0].set_yticks(range(len(order)), order, fontsize=7)
    fig.suptitle("Morris screening of behavioural parameters (experiments/morris_behaviour.toml)",
                 fontsize=10)
    fig.tight_layout()
    fig_path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(fig_path, dpi=90)
    print("| rank | parameter | " + " | ".join(outputs) + " | overall |")
    print("|---|---|" + "---|" * (len(outputs) + 1))
    for i, (name, r) in enumerate(norm.head(10).iterrows(), start=1):
        print(f"| {i} | `{name}` | " + " | ".join(f"{r[o]:.2f}" for o in outputs)
              + f" | {r['overall']:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
