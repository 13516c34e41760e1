"""Fact 7, knee-jerk KPIs: a crisis answered with micro-managing dashboards ends worse (NPS,
engagement, staff attrition) than a complaints-first response.

The library's crisis_knee_jerk and crisis_complaints_first (same shock, same NPS threshold).
Run: python experiments/fact7_knee_jerk_kpis.py [--quick]
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from common import band_plot, paired, parse, run, save, scen, size  # noqa: E402


def main() -> None:
    args = parse(__doc__)
    sz = size(args)
    names = ["crisis_knee_jerk", "crisis_complaints_first"]
    cmp = run([scen(n, None, sz) for n in names], args)
    for col in ("final_nps", "final_engagement", "total_staff_attrition", "annual_churn_rate",
                "final_cumulative_profit"):
        paired(cmp, *names, col)
    fig, axes = plt.subplots(1, 4, figsize=(17, 4.2), constrained_layout=True)
    band_plot(axes[0], cmp, names, "nps", "NPS")
    band_plot(axes[1], cmp, names, "engagement", "Colleague engagement")
    band_plot(axes[2], cmp, names, "process_quality", "Process quality")
    band_plot(axes[3], cmp, names, "cumulative_profit", "Cumulative profit")
    for ax in axes:
        ax.axvspan(26, 32, color="red", alpha=0.08)
    axes[0].legend(fontsize=8)
    fig.suptitle(f"Crisis response: KPI dashboards vs complaints first ({args.reps} reps)")
    save(fig, args.out, "fact7_knee_jerk_kpis.png")


if __name__ == "__main__":
    main()
