"""Burn-in cache: wall time of a 104-week `compare` of three scenarios with and without it.

baseline, culture_first and crisis_knee_jerk differ only in their events, so they share one
burn-in per replication seed. Three modes, interleaved round by round so that a change in the
machine's load hits them alike, each figure the fastest of `--rounds`:

- off:  ``cache=False``, every run burns in (what compare did before the cache);
- cold: an empty cache folder, so the first scenario's runs burn in and save, the others fork;
- warm: the folder the cold run filled (a second comparison over the same base scenario).

Speed-ups are given from the fastest and from the median round, and from the process's CPU
time (everything runs in this process, one thread: the figure least moved by other load).
With three scenarios sharing a burn-in of as many weeks as the horizon, a cold cache cannot
do better than about
3 x (build + 208 weeks) / (build + 104 + 3 x 104 weeks), i.e. x1.5 plus the builds it saves.

The three must give the same numbers (checked). Load average before and after each mode.

Usage: .venv/bin/python benchmarks/bench_burn_in_cache.py [--reps 4] [--rounds 4]
Writes benchmarks/results/burn_in_cache.json.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd
from _common import machine, save

from cxsim.cache import BurnInCache, burn_in_key
from cxsim.checkpoint import SUFFIX
from cxsim.experiments.compare import run_comparison
from cxsim.experiments.run import rep_seeds
from cxsim.scenario import load_scenario

SCENARIOS = ("baseline", "culture_first", "crisis_knee_jerk")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--reps", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=4, help="timings per mode (fastest kept)")
    ap.add_argument("--steps", type=int, default=104)
    args = ap.parse_args()
    scs = [load_scenario(n).with_overrides({"steps": args.steps}) for n in SCENARIOS]
    base = scs[0]
    keys = {burn_in_key(sc, 1, "numba") for sc in scs}
    assert len(keys) == 1, "the three scenarios must share the burn-in"
    # compile every kernel the comparison calls (events included) so no mode pays for it
    small = {"size.customers": 2000, "size.prospects": 100, "burn_in": 1}
    run_comparison([sc.with_overrides(small) for sc in scs], reps=2, cache=False)
    tmp = Path(tempfile.mkdtemp(prefix="cxsim-bench-cache-"))
    times: dict[str, list[float]] = {"off": [], "cold": [], "warm": []}
    cpu: dict[str, list[float]] = {m: [] for m in times}
    loads: dict[str, list[list[float]]] = {m: [] for m in times}
    frames: dict[str, pd.DataFrame] = {}
    try:
        for r in range(args.rounds):
            folder = tmp / f"round{r}"
            for mode in ("off", "cold", "warm"):
                cache = False if mode == "off" else folder
                before = list(os.getloadavg())
                t0, c0 = time.perf_counter(), time.process_time()
                cmp = run_comparison(scs, reps=args.reps, workers=1, cache=cache)
                wall = time.perf_counter() - t0
                times[mode].append(wall)
                cpu[mode].append(time.process_time() - c0)
                loads[mode].append(before + list(os.getloadavg()))
                frames.setdefault(mode, cmp.timeseries)
                print(f"round {r}: {mode:4s} {wall:6.1f} s  load {os.getloadavg()[0]:.2f}",
                      flush=True)
        for mode in ("cold", "warm"):
            pd.testing.assert_frame_equal(frames["off"], frames[mode], check_exact=True)
        states = sorted((tmp / "round0").glob(f"*{SUFFIX}"))
        size = states[0].stat().st_size if states else 0
        seed = rep_seeds(base.seed, args.reps)[0]
        t0 = time.perf_counter()
        model, _ = BurnInCache(tmp / "round0").model(base, seed)
        load_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        model.save(tmp / f"again{SUFFIX}")
        save_s = time.perf_counter() - t0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    best = {m: min(v) for m, v in times.items()}
    median = {m: statistics.median(v) for m, v in times.items()}
    result = {
        "scenarios": list(SCENARIOS), "reps": args.reps, "steps": args.steps,
        "burn_in": base.burn_in, "customers": base.size.customers,
        "prospects": base.size.prospects, "colleagues": base.n_colleagues, "workers": 1,
        "rounds": args.rounds, "wall_s": {m: [round(x, 2) for x in v] for m, v in times.items()},
        "best_s": {m: round(v, 2) for m, v in best.items()},
        "speedup_cold": round(best["off"] / best["cold"], 3),
        "speedup_warm": round(best["off"] / best["warm"], 3),
        "median_s": {m: round(v, 2) for m, v in median.items()},
        "cpu_s": {m: [round(x, 2) for x in v] for m, v in cpu.items()},
        "speedup_cold_cpu": round(min(cpu["off"]) / min(cpu["cold"]), 3),
        "speedup_warm_cpu": round(min(cpu["off"]) / min(cpu["warm"]), 3),
        "speedup_cold_median": round(median["off"] / median["cold"], 3),
        "speedup_warm_median": round(median["off"] / median["warm"], 3),
        "state_files": len(states), "state_file_mb": round(size / 1e6, 2),
        "fork_from_file_s": round(load_s, 3), "save_s": round(save_s, 3), "same_numbers": True,
        "loadavg_before_after": loads, "machine": machine(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    print(f"off {best['off']:.1f} s, cold cache {best['cold']:.1f} s "
          f"(x{result['speedup_cold']:.2f}), warm cache {best['warm']:.1f} s "
          f"(x{result['speedup_warm']:.2f}); {len(states)} states of {size / 1e6:.1f} MB, "
          f"fork {load_s * 1000:.0f} ms, save {save_s * 1000:.0f} ms; "
          f"medians: cold x{result['speedup_cold_median']:.2f}, "
          f"warm x{result['speedup_warm_median']:.2f}; CPU time: cold "
          f"x{result['speedup_cold_cpu']:.2f}, warm x{result['speedup_warm_cpu']:.2f}")
    print(f"wrote {save('burn_in_cache', result)}")


if __name__ == "__main__":
    main()
