"""Fact 6, people buy from people like themselves: hiring for fit raises empathy and NPS.

Hiring acts only through turnover, so the lever is set for the whole history with a three-year
burn-in; stores serve local catchments (one per customer tribe) and hire from them.
Run: python experiments/fact6_hire_like_customers.py [--quick]
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
from common import band_figure, paired, parse, run, scen, size  # noqa: E402


def main() -> None:
    args = parse(__doc__, reps=6)
    sz = size(args, burn_in=156, steps=104, **{"size.customers_per_colleague": 15})
    if args.quick:
        sz.update({"size.customers": 2000, "size.prospects": 1000})
    names = ["baseline", "hire_for_fit"]
    cmp = run([scen("baseline", None, sz),
               scen("baseline", "hire_for_fit", sz, levers__hiring_for_fit=1.0)], args)
    for col in ("mean_empathy", "mean_nps", "mean_csat", "annual_churn_rate"):
        paired(cmp, *names, col)
    title = (f"Hiring for fit with the customer base ({args.reps} reps, 95% bands)")
    band_figure(cmp, names, [
        ("empathy", "Felt empathy"),
        ("nps", "NPS"),
        ("active_customers", "Active customers"),
    ], title, args.out, "fact6_hire_like_customers.png")


if __name__ == "__main__":
    main()
