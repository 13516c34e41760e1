"""Fact 8, board-level commitment: a board CX role shortens the time for colleagues to align
with the brand.

Same leadership commitment (0.9) and training (0.4) from week 0, with and without a board role.
Run: python experiments/fact8_board_commitment.py [--quick]
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
from common import band_figure, curves, paired, parse, run, scen, size  # noqa: E402

from cxsim.experiments.compare import mean_ci  # noqa: E402


def main() -> None:
    args = parse(__doc__)
    sz = size(args)
    change = {"leadership_commitment": 0.9, "training": 0.4}
    names = ["commitment_only", "board_cx_role"]
    cmp = run([scen("baseline", names[0], sz,
                    events=[{"type": "set", "step": 0, "set": change}]),
               scen("baseline", names[1], sz,
                    events=[{"type": "set", "step": 0,
                             "set": {**change, "board_cx_role": True}}])], args)
    times = {}
    for n in names:
        al = curves(cmp, n, "brand_alignment")
        reached = al >= al[:, :1] + 0.04
        times[n] = np.where(reached.any(axis=1), reached.argmax(axis=1), al.shape[1])
        print(f"{n}: weeks to gain 0.04 alignment {times[n].tolist()} "
              f"({al.shape[1]} = never)")
    m, lo, hi = mean_ci(times[names[1]] - times[names[0]])
    print(f"difference (board - no board): {m:+.1f} weeks [{lo:+.1f}, {hi:+.1f}]")
    for col in ("final_brand_alignment", "final_brand_consistency", "final_nps",
                "final_cumulative_profit"):
        paired(cmp, *names, col)
    title = (f"Board-level CX role: weeks to align {times[names[0]].mean():.0f} -> "
             f"{times[names[1]].mean():.0f} ({args.reps} reps, 95% bands)")
    band_figure(cmp, names, [
        ("brand_alignment", "Colleagues' brand alignment"),
        ("brand_consistency", "Brand consistency customers see"),
        ("nps", "NPS"),
    ], title, args.out, "fact8_board_commitment.png")


if __name__ == "__main__":
    main()
