"""Calibration: does it recover known parameters (coverage), and how fast is it?

Recovery (default): `--trials` synthetic clients, each made from parameter values drawn from
the priors (so the 90% credible intervals should hold the truth about 90% of the time; ABC's
non-zero tolerance makes them somewhat wider, so coverage at or above 90% is the expected
outcome, well below it a failure). Each client is the small scenario of tests/test_calibrate.py
(800 customers, a 26-week year) with empowerment and churn.base to recover from measured NPS,
CSAT, engagement and annual churn, every target with the sd of its figure over other seeds.

Speed (`--speed`): 4 parameters and 6 targets on the default size (baseline, 5,000 customers,
104 weeks of burn-in and a 52-week year), two short generations with 1 and then 2 local Dask
workers. Throughput is simulations per second of generation wall time (pyABC's history; the
cluster's start is reported apart) and the time the default budget would take follows from it.
The machine is shared: the load average is recorded before and after each measurement.

Usage: .venv/bin/python benchmarks/bench_calibration_recovery.py [--trials 20] [--workers 2]
       [--resume results/calibration_recovery_<...>.json]
       .venv/bin/python benchmarks/bench_calibration_recovery.py --speed [--population 50]
Prints the figures and writes benchmarks/results/calibration_{recovery,speed}_<host>_<time>.json
(after every trial, so a stopped run keeps what it measured).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import tempfile
import time
from pathlib import Path

import numpy as np

from cxsim.calibrate import DEFAULT_BUDGET, Settings, make_problem, recover, run_calibration
from cxsim.io import write_json
from cxsim.targets import Target, write_targets

RESULTS = Path(__file__).resolve().parent / "results"
#: the small synthetic client tests/test_calibrate.py uses too
SMALL = (Path(__file__).resolve().parents[1] / "examples" / "small_client"
         / "scenario.toml").read_text()
PRIORS = {"levers.empowerment": (0.0, 1.0), "churn.base": (0.0005, 0.008)}
METRICS = ["nps", "csat", "engagement", "annual_churn"]
SPEED_PARAMS = ("levers.empowerment,levers.productivity_pressure,churn.base=0.0005:0.006,"
                "staff.attrition_base=0.001:0.01")
SPEED_TARGETS = [Target("nps", 18, 4), Target("csat", 66, 1.5), Target("engagement", 0.52, 0.02),
                 Target("annual_churn", 0.18, 0.02), Target("staff_attrition", 0.18, 0.03),
                 Target("active_customers", 7500, 150)]


def _stamp() -> str:
    return f"{platform.node()}_{time.strftime('%Y%m%dT%H%M%S')}"


def recovery(args: argparse.Namespace) -> None:
    from distributed import Client, LocalCluster

    tmp = Path(tempfile.mkdtemp(prefix="cxsim-recovery-"))
    (tmp / "small.toml").write_text(SMALL)
    params = ",".join(f"{k}={lo}:{hi}" for k, (lo, hi) in PRIORS.items())
    rng = np.random.default_rng(args.seed)
    path = Path(args.resume) if args.resume else RESULTS / f"calibration_recovery_{_stamp()}.json"
    trials = json.loads(path.read_text())["runs"] if args.resume else []
    settings = dict(population=args.population, budget=args.budget,
                    generations=args.generations, predictive=5)
    with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        for i in range(args.trials):
            truth = {k: float(rng.uniform(lo, hi)) for k, (lo, hi) in PRIORS.items()}
            if i < len(trials):  # resumed: this trial is in the file (same truth, same seed)
                continue
            load0 = os.getloadavg()[0]
            table = recover(str(tmp / "small.toml"), truth, METRICS, params, args.seed + i,
                            tmp / f"t{i}", Settings(**settings), reps=6, client=client)
            rows = table[["parameter", "truth", "median", "ci90_low", "ci90_high",
                          "width_ratio", "inside"]].to_dict("records")
            trials.append({"trial": i, "parameters": rows,
                           "simulations": int(table["simulations"].iloc[0]),
                           "wall_s": float(table["wall_s"].iloc[0]),
                           "load_before": load0, "load_after": os.getloadavg()[0]})
            marks = ", ".join(f"{r['parameter']} {r['truth']:.4g} in [{r['ci90_low']:.4g}, "
                              f"{r['ci90_high']:.4g}]: {'yes' if r['inside'] else 'NO'}"
                              for r in rows)
            print(f"trial {i}: {marks} ({trials[-1]['wall_s']:.0f} s)", flush=True)
            write_json(path, _recovery_summary(trials, settings, args))
    s = _recovery_summary(trials, settings, args)
    print(f"coverage of the 90% intervals: {s['coverage']} over {len(trials)} trials "
          f"(overall {s['coverage_all']:.0%}); mean width vs prior {s['width_ratio']}")
    print(f"wrote {path}")


def _recovery_summary(trials: list[dict], settings: dict, args: argparse.Namespace) -> dict:
    cover, width = {}, {}
    for k in PRIORS:
        inside = [r["inside"] for t in trials for r in t["parameters"] if r["parameter"] == k]
        ratio = [r["width_ratio"] for t in trials for r in t["parameters"] if r["parameter"] == k]
        cover[k] = float(np.mean(inside))
        width[k] = float(np.mean(ratio))
    every = [r["inside"] for t in trials for r in t["parameters"]]
    return {"benchmark": "calibration_recovery", "trials": len(trials), "settings": settings,
            "workers": args.workers, "metrics": METRICS, "priors": PRIORS,
            "coverage": cover, "coverage_all": float(np.mean(every)), "width_ratio": width,
            "runs": trials, "host": platform.node(), "cpus": os.cpu_count()}


def speed(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="cxsim-calspeed-"))
    write_targets(tmp / "targets.csv", SPEED_TARGETS)
    out = {"benchmark": "calibration_speed", "scenario": "baseline", "params": SPEED_PARAMS,
           "targets": [t.metric for t in SPEED_TARGETS], "population": args.population,
           "default_budget": DEFAULT_BUDGET, "host": platform.node(), "cpus": os.cpu_count(),
           "runs": []}
    path = RESULTS / f"calibration_speed_{_stamp()}.json"
    for workers in (1, 2):
        problem = make_problem("baseline", tmp / "targets.csv", SPEED_PARAMS,
                               Settings(population=args.population, budget=10 * args.population,
                                        generations=2, predictive=4))
        load0 = os.getloadavg()[0]
        t0 = time.perf_counter()
        res = run_calibration(problem, tmp / f"w{workers}", workers)
        wall = time.perf_counter() - t0
        with sqlite3.connect(tmp / f"w{workers}" / "history.db") as con:
            gens = con.execute("select t, nr_samples, wall_time from populations where t >= 0"
                               ).fetchall()
        sims = sum(g[1] for g in gens)
        gen_s = sum(g[2] for g in gens)
        rate = sims / gen_s
        run = {"workers": workers, "generation_simulations": sims, "generation_s": gen_s,
               "simulations_per_s": rate, "total_simulations": res.total_simulations,
               "wall_s": wall, "overhead_s": wall - gen_s, "load_before": load0,
               "load_after": os.getloadavg()[0],
               "default_budget_hours": DEFAULT_BUDGET / rate / 3600}
        out["runs"].append(run)
        print(f"{workers} worker(s): {sims} simulations in {gen_s:.0f} s of generations = "
              f"{rate:.2f}/s (wall {wall:.0f} s; the rest {wall - gen_s:.0f} s is the cluster's "
              f"start, the calibration sample from the priors and the predictive runs; "
              f"load {load0:.1f} -> {run['load_after']:.1f}); the default budget of "
              f"{DEFAULT_BUDGET} simulations: {run['default_budget_hours']:.2f} h", flush=True)
        write_json(path, out)
    r1, r2 = out["runs"]
    out["speedup_2_vs_1"] = r2["simulations_per_s"] / r1["simulations_per_s"]
    write_json(path, out)
    print(f"2 workers vs 1: x{out['speedup_2_vs_1']:.2f}; wrote {path}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--speed", action="store_true", help="measure speed, not recovery")
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--population", type=int, default=None)
    ap.add_argument("--generations", type=int, default=3)
    ap.add_argument("--budget", type=int, default=1200)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--resume", metavar="JSON", help="a recovery file to add the missing "
                    "trials to (same --seed and settings)")
    args = ap.parse_args()
    RESULTS.mkdir(exist_ok=True)
    if args.speed:
        args.population = args.population or 50
        speed(args)
    else:
        args.population = args.population or 30
        recovery(args)


if __name__ == "__main__":
    main()
