"""Print the calibration targets of docs/model.md over a few seeds, so anyone can re-check them.

    python scripts/calibrate.py [--reps 3] [--customers 3000] [--workers 2] [-o key=value ...]

Targets (see docs/model.md, "How the defaults were chosen"):

* baseline, first year after burn-in: NPS 0..40, annual churn 10..25 %, staff attrition
  10..25 %, operating margin about 10 %, NPS drift over the 104 weeks after burn-in of a few
  points (mean of the last 13 weeks minus the first 13);
* culture_first vs baseline after 104 weeks: about +10..+30 NPS;
* crisis scenarios: trough 10..30 points below the pre-crisis level;
* knee-jerk vs complaints-first at the end: complaints-first ahead by about 10..40 points.

`-o` applies dotted overrides to every scenario (e.g. `-o perception.ltr_memory=5`), for trying
a recalibration before writing it into cxsim/scenario.py.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from cxsim.experiments.compare import mean_ci, run_comparison
from cxsim.scenario import load_scenario

NAMES = ("baseline", "culture_first", "crisis_knee_jerk", "crisis_complaints_first")


def _ci(x: np.ndarray) -> str:
    m, lo, hi = mean_ci(np.asarray(x, float))
    return f"{m:+7.1f} [{lo:+6.1f}, {hi:+6.1f}]"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--customers", type=int, default=3000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("-o", "--override", action="append", default=[],
                    help="dotted override key=value (value parsed as JSON)")
    a = ap.parse_args()
    ov: dict = {"size.customers": a.customers, "size.prospects": a.customers, "steps": 104}
    for item in a.override:
        k, v = item.split("=", 1)
        ov[k] = json.loads(v)
    scs = []
    for n in NAMES:
        sc = load_scenario(n, ov)
        sc.name = n
        scs.append(sc)
    cmp = run_comparison(scs, a.reps, seed=a.seed, workers=a.workers)
    ts = cmp.timeseries

    def curve(name: str, col: str) -> np.ndarray:
        t = ts[ts.scenario == name]
        return t.pivot(index="rep", columns="step", values=col).sort_index().to_numpy(float)

    nps = {n: curve(n, "nps") for n in NAMES}
    b = nps["baseline"]
    act = curve("baseline", "active_customers")
    churn = curve("baseline", "churned")[:, :52].sum(1) / act[:, :52].mean(1)
    attr = curve("baseline", "staff_attrition")[:, :52].sum(1) / scs[0].n_colleagues
    rev, prof = curve("baseline", "revenue"), curve("baseline", "profit")
    margin = prof[:, :52].sum(1) / rev[:, :52].sum(1)
    print(f"{a.reps} reps, {a.customers} customers, overrides {a.override or 'none'}")
    print(f"baseline NPS (year 1)          {_ci(b[:, :52].mean(1))}   target 0..40")
    print(f"baseline annual churn %        {_ci(100 * churn)}   target 10..25")
    print(f"baseline staff attrition %     {_ci(100 * attr)}   target 10..25")
    print(f"baseline margin %              {_ci(100 * margin)}   target ~10, > 0")
    print(f"baseline CSAT %                {_ci(curve('baseline', 'csat')[:, :52].mean(1))}")
    drift = b[:, -13:].mean(1) - b[:, :13].mean(1)
    print(f"baseline NPS drift (104 wk)    {_ci(drift)}   target |drift| <= ~3")
    grow = act[:, -13:].mean(1) / act[:, :13].mean(1) - 1
    print(f"baseline customers drift %     {_ci(100 * grow)}   reported, not a target: the "
          "base is held until week 0 (size.customers) and then grows toward equilibrium")
    pdrift = prof[:, -13:].mean(1) / prof[:, :13].mean(1) - 1
    print(f"baseline weekly profit drift % {_ci(100 * pdrift)}")
    end = {n: v[:, -8:].mean(1) for n, v in nps.items()}
    print(f"culture_first - baseline @104  {_ci(end['culture_first'] - end['baseline'])}"
          "   target +10..+30")
    for n in ("crisis_knee_jerk", "crisis_complaints_first"):
        pre = nps[n][:, 14:26].mean(1)
        sm = np.array([np.convolve(r, np.ones(3) / 3, "valid") for r in nps[n]])
        trough = sm[:, 25:].min(1)
        print(f"{n:24s} trough   {_ci(trough - pre)}   target -10..-30"
              f"   (end {_ci(end[n] - end['baseline'])} vs baseline)")
    fired_kj = (curve("crisis_knee_jerk", "productivity_pressure")[:, -1] > 0.8).mean()
    fired_cf = (curve("crisis_complaints_first", "empowerment")[:, -1] > 0.55).mean()
    print(f"crisis responses fired in      {100 * fired_kj:.0f}% (knee-jerk), "
          f"{100 * fired_cf:.0f}% (complaints-first) of runs   target 100%")
    print(f"complaints_first - knee_jerk   "
          f"{_ci(end['crisis_complaints_first'] - end['crisis_knee_jerk'])}   target +10..+40")
    print(f"({cmp.wall_s:.0f} s)")


if __name__ == "__main__":
    main()
