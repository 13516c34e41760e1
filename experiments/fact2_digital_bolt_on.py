"""Fact 2, the digital bolt-on: a digital channel and training under productivity metrics leave
CSAT and NPS nearly flat and lower engagement; empowerment with CX metrics raises both.

Compares the library's baseline and digital_bolt_on with an "empowerment + CX metrics" change.
Run: python experiments/fact2_digital_bolt_on.py [--quick]
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
from common import band_figure, paired, parse, run, scen, size  # noqa: E402


def main() -> None:
    args = parse(__doc__)
    sz = size(args)
    empower = scen("baseline", "empowerment_cx_metrics", sz, events=[
        {"type": "set", "step": 0, "set": {"empowerment": 0.8, "cx_metrics_weight": 0.7}}])
    names = ["baseline", "digital_bolt_on", "empowerment_cx_metrics"]
    cmp = run([scen("baseline", None, sz), scen("digital_bolt_on", None, sz), empower], args)
    for col in ("mean_csat", "mean_nps", "final_engagement"):
        for b in names[1:]:
            paired(cmp, "baseline", b, col)
    title = (f"Digital bolt-on vs empowerment with CX metrics (change at week 0; "
             f"{args.reps} reps, 95% bands)")
    band_figure(cmp, names, [
        ("csat", "CSAT %", 4),
        ("nps", "NPS"),
        ("engagement", "Colleague engagement"),
    ], title, args.out, "fact2_digital_bolt_on.png")


if __name__ == "__main__":
    main()
