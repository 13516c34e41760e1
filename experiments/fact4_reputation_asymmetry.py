"""Fact 4, reputation asymmetry: after a short service failure NPS falls within a few weeks and
takes many times longer to recover.

A 3-week failure from week 20 hits 60% of contacts (severity 0.5); the same seeds without the
failure give the counterfactual, so the gap isolates the shock.
Run: python experiments/fact4_reputation_asymmetry.py [--quick]
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from common import band_plot, curves, parse, run, save, scen, size  # noqa: E402

from cxsim.experiments.compare import mean_ci  # noqa: E402

START = 20


def fall_and_recovery(gap: np.ndarray) -> tuple[float, int, int]:
    """Trough, weeks to fall to half the trough, weeks from trough back above half of it."""
    after = gap[START:]
    t_min = int(np.argmin(after))
    trough = float(after[t_min])
    fall = int(np.argmax(after <= trough / 2)) + 1
    back = np.flatnonzero(after[t_min:] > trough / 2)
    return trough, fall, int(back[0]) if len(back) else len(after) - t_min


def main() -> None:
    args = parse(__doc__, reps=6)
    sz = size(args, steps=104)
    shock = scen("baseline", "service_failure", sz, events=[
        {"type": "service_failure", "step": START, "duration": 3, "severity": 0.5,
         "share": 0.6}])
    cmp = run([scen("baseline", None, sz), shock], args)
    gap = curves(cmp, "service_failure", "nps") - curves(cmp, "baseline", "nps")
    gap = pd.DataFrame(gap.T).rolling(3, center=True, min_periods=1).mean().to_numpy().T
    res = np.array([fall_and_recovery(g) for g in gap], dtype=float)
    for i, label in enumerate(("trough (NPS points)", "fall to half (weeks)",
                               "recover half (weeks)")):
        m, lo, hi = mean_ci(res[:, i])
        print(f"{label}: {m:.1f} [{lo:.1f}, {hi:.1f}]")
    m, lo, hi = mean_ci(res[:, 2] / res[:, 1])
    print(f"recovery / fall: {m:.1f} [{lo:.1f}, {hi:.1f}]")
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2), constrained_layout=True)
    band_plot(axes[0], cmp, ["baseline", "service_failure"], "nps", "NPS")
    axes[0].axvspan(START, START + 3, color="red", alpha=0.1, label="failure")
    axes[0].legend(fontsize=8)
    x = np.arange(gap.shape[1])
    axes[1].plot(x, gap.T, color="grey", alpha=0.4, lw=0.8)
    axes[1].plot(x, gap.mean(axis=0), lw=2, color="C1", label="mean gap")
    axes[1].axvspan(START, START + 3, color="red", alpha=0.1)
    axes[1].axhline(0, color="k", lw=0.6)
    axes[1].set_title(f"NPS gap vs no failure: falls in ~{res[:, 1].mean():.0f} wk, "
                      f"half-recovers in ~{res[:, 2].mean():.0f} wk")
    axes[1].set_xlabel("week")
    axes[1].set_ylabel("NPS gap (points, shock minus no shock)")
    axes[1].grid(alpha=0.3)
    axes[1].legend(fontsize=8)
    fig.suptitle(f"Reputation asymmetry: a 3-week service failure ({args.reps} paired reps)")
    save(fig, args.out, "fact4_reputation_asymmetry.png")


if __name__ == "__main__":
    main()
