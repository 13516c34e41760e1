"""Fact 1, the service-profit chain: engagement -> CSAT -> retention -> profit across companies.

Draws culture-lever settings at random (empowerment, productivity pressure, CX metrics, pay
alignment, co-creation, training), runs each for the whole history, and plots each link of the
chain with its Spearman correlation.
Run: python experiments/fact1_service_profit_chain.py [--quick]
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from common import parse, run, save, scen, size  # noqa: E402

from cxsim.viz.style import currency_symbol, wrap  # noqa: E402


def main() -> None:
    args = parse(__doc__, reps=2)
    design = np.random.default_rng(7)
    n = 8 if args.quick else 16
    scs = []
    for i in range(n):
        scs.append(scen("baseline", f"mix{i}", size(args), steps=104, **{
            "levers.empowerment": design.uniform(0.1, 0.9),
            "levers.productivity_pressure": design.uniform(0.1, 0.9),
            "levers.cx_metrics_weight": design.uniform(0.1, 0.8),
            "levers.pay_alignment": design.uniform(0.0, 0.8),
            "levers.co_creation": design.uniform(0.0, 0.6),
            "levers.training": design.uniform(0.1, 0.7)}))
    cmp = run(scs, args)
    s = cmp.summary
    sym = currency_symbol(scs[0].money.currency).strip()
    pts = pd.DataFrame({"Colleague engagement (index 0-100, mean)": 100 * s["mean_engagement"],
                        "CSAT (% satisfied, mean)": s["mean_csat"],
                        "Retention (% of customers kept a year)":
                            100 * (1.0 - s["annual_churn_rate"]),
                        f"Cumulative profit ({sym} million)": s["final_cumulative_profit"] / 1e6})
    cols = list(pts.columns)
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2), constrained_layout=True)
    for ax, (a, b) in zip(axes, zip(cols[:-1], cols[1:], strict=True), strict=True):
        rho = pts[a].corr(pts[b], method="spearman")
        ax.scatter(pts[a], pts[b], s=18, alpha=0.8)
        ax.set_xlabel(a)
        ax.set_ylabel(b)
        ax.set_title(f"Spearman rho = {rho:.2f}")
        ax.grid(alpha=0.3)
        print(f"spearman({a}, {b}) = {rho:.3f} over {len(pts)} runs")
    fig.suptitle(wrap(f"Service-profit chain: {n} culture-lever settings x {args.reps} "
                      f"replications, {scs[0].size.customers} customers, 104 weeks; "
                      "one dot per run"))
    save(fig, args.out, "fact1_service_profit_chain.png")


if __name__ == "__main__":
    main()
