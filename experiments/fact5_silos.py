"""Fact 5, silos: more silo lowers brand consistency across channels and lowers NPS.

Silo 0.1 vs 0.9 for the whole history (so each company is in its own steady state).
Run: python experiments/fact5_silos.py [--quick]
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
from common import band_figure, paired, parse, run, scen, size  # noqa: E402


def main() -> None:
    args = parse(__doc__, reps=6)
    sz = size(args)
    names = ["open (silo 0.1)", "siloed (silo 0.9)"]
    cmp = run([scen("baseline", names[0], sz, levers__silo=0.1),
               scen("baseline", names[1], sz, levers__silo=0.9)], args)
    for col in ("mean_brand_consistency", "mean_brand_alignment", "mean_trust", "mean_nps"):
        paired(cmp, names[0], names[1], col)
    title = (f"Silos ({args.reps} reps, 95% bands)")
    band_figure(cmp, names, [
        ("brand_consistency", "Brand consistency customers see"),
        ("brand_alignment", "Colleagues' brand alignment"),
        ("nps", "NPS"),
    ], title, args.out, "fact5_silos.png")


if __name__ == "__main__":
    main()
