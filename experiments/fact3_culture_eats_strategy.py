"""Fact 3, culture eats strategy: with a poor process chain, culture levers move NPS more than a
digital channel (which costs far more to run).

Every back-office step at quality 0.6. Culture: empowerment, CX metrics, less productivity
pressure, some co-creation. Digital: a channel with a good front end on the same broken chain.
Run: python experiments/fact3_culture_eats_strategy.py [--quick]
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
from common import band_figure, paired, parse, run, scen, size  # noqa: E402

POOR = {"process.steps": {"onboarding": 0.6, "fulfilment": 0.6, "billing": 0.6, "claims": 0.6}}


def main() -> None:
    args = parse(__doc__)
    sz = size(args, **POOR)
    culture = scen("baseline", "culture_levers", sz, events=[
        {"type": "set", "step": 0, "set": {"empowerment": 0.8, "cx_metrics_weight": 0.7,
                                           "productivity_pressure": 0.3, "co_creation": 0.3}}])
    digital = scen("baseline", "digital_channel", sz, events=[
        {"type": "set", "step": 0, "set": {"digital_channel": True, "digital_front_end": 0.85}}])
    names = ["poor_chain", "culture_levers", "digital_channel"]
    cmp = run([scen("baseline", "poor_chain", sz), culture, digital], args)
    for col in ("mean_nps", "final_nps", "total_cost", "final_cumulative_profit"):
        paired(cmp, "poor_chain", "culture_levers", col)
        paired(cmp, "poor_chain", "digital_channel", col)
        paired(cmp, "digital_channel", "culture_levers", col)
    title = (f"Poor process chain (all steps 0.6): culture levers vs a digital channel "
             f"({args.reps} reps, 95% bands)")
    band_figure(cmp, names, [
        ("nps", "NPS"),
        ("trust", "Customer trust"),
        ("cumulative_profit", "Cumulative profit"),
    ], title, args.out, "fact3_culture_eats_strategy.png")


if __name__ == "__main__":
    main()
