"""Sweep throughput: runs per minute with 1 and 2 local Dask workers on the same sweep, with
and without the burn-in cache.

Each worker count runs the sweep three times: without the cache ("off"), with an empty cache
folder ("cold": every run burns in and saves its state; the sweep varies a lever, so no two
runs share a burn-in) and again with the folder the cold sweep filled ("warm": a re-run, e.g.
with another horizon or more weeks recorded, forks every run). The load average is recorded
before and after each sweep: the machine may be shared.

Each worker count gets its own real LocalCluster on 127.0.0.1 (processes, one thread each),
started and warmed (every worker imports cxsim and loads the kernels, `Client.run`) before the
three sweeps, which connect to it by address: "runs per minute" is the sweep's throughput with
the workers up, and the start-up (cluster start and warm-up, paid once per `cxsim sweep`
command) is reported beside it, with the figure it gives when included.

Usage: .venv/bin/python benchmarks/bench_sweep.py [--runs 24] [--customers 5000] [--steps 52]
       [--rounds 2]
Prints the figures and writes benchmarks/results/sweep_<host>_<time>.json.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

from cxsim.experiments.run import run_one
from cxsim.experiments.sweep import run_sweep
from cxsim.io import write_json
from cxsim.scenario import load_scenario

SPEC = """
name = "bench"
scenario = "baseline"
replications = {reps}
steps = {steps}
engine = "numba"
seed = 1
[overrides]
"size.customers" = {customers}
"size.prospects" = {customers}
[vary]
"levers.empowerment" = {{ low = 0.1, high = 0.9, levels = 4 }}
"""


def _warm_worker() -> str:
    """Runs on each worker: import cxsim and load the kernels a sweep run uses."""
    from cxsim.model import CXModel
    from cxsim.scenario import load_scenario

    sc = load_scenario("baseline").with_overrides(
        {"size.customers": 300, "size.prospects": 300, "size.colleagues": 20, "steps": 2,
         "burn_in": 1})
    CXModel(sc, seed=1, create_agents=False).run(2)
    return "ok"


def start_cluster(workers: int):
    """A real LocalCluster of `workers` processes on 127.0.0.1, every worker warmed."""
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                           host="127.0.0.1", dashboard_address=None)
    client = Client(cluster)
    client.wait_for_workers(workers)
    assert set(client.run(_warm_worker).values()) == {"ok"}
    return cluster, client


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=24, help="runs per sweep (multiple of 4)")
    ap.add_argument("--customers", type=int, default=5000, help="customers (and prospects)")
    ap.add_argument("--steps", type=int, default=52)
    ap.add_argument("--rounds", type=int, default=2, help="timings per setting (fastest kept)")
    args = ap.parse_args()
    # compile (and cache) the numba kernels once so neither timing pays for it
    sc = load_scenario("baseline").with_overrides(
        {"size.customers": 300, "size.prospects": 300, "size.colleagues": 20, "steps": 2})
    run_one(sc, 1, steps=2, units=False)
    from cxsim.model import CXModel

    CXModel(sc, seed=1, parallel=False, create_agents=False).run(2)  # the kernels sweeps use
    tmp = Path(tempfile.mkdtemp(prefix="cxsim-bench-"))
    spec = tmp / "bench.toml"
    spec.write_text(SPEC.format(reps=max(1, args.runs // 4), steps=args.steps,
                                customers=args.customers))
    result: dict = {"rounds": args.rounds, "runs": args.runs, "customers": args.customers,
                    "steps": args.steps,
                    "burn_in": load_scenario("baseline").burn_in,
                    "cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform(), "host": platform.node(),
                    "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "workers": {}}
    walls: dict[tuple[int, str], list[float]] = {}
    loads: dict[tuple[int, str], list[list[float]]] = {}
    starts: dict[int, list[float]] = {}
    ran = 0
    try:
        for r in range(args.rounds):  # rounds interleave the configurations: load hits all
            for workers in (1, 2):
                t0 = time.perf_counter()
                cluster, client = start_cluster(workers)
                starts.setdefault(workers, []).append(time.perf_counter() - t0)
                try:
                    for mode in ("off", "cold", "warm"):
                        cache = False if mode == "off" else tmp / f"cache{workers}-r{r}"
                        before = list(os.getloadavg())
                        t0 = time.perf_counter()
                        summary = run_sweep(spec, tmp / f"w{workers}-{mode}-r{r}",
                                            workers=workers, cache=cache,
                                            scheduler=cluster.scheduler_address)
                        wall = time.perf_counter() - t0
                        assert summary.failed == 0, summary.table["error"].dropna().tolist()
                        ran = summary.ran
                        walls.setdefault((workers, mode), []).append(wall)
                        loads.setdefault((workers, mode), []).append(
                            before + list(os.getloadavg()))
                        print(f"round {r}, {workers} worker(s), cache {mode}: {ran} runs in "
                              f"{wall:.1f} s = {ran / wall * 60:.1f} runs/min "
                              f"(load {os.getloadavg()[0]:.2f})", flush=True)
                finally:
                    client.close()
                    cluster.close()
        for workers in (1, 2):
            entry = {}
            start = min(starts[workers])
            for mode in ("off", "cold", "warm"):
                best = min(walls[workers, mode])
                entry[mode] = {"wall_s": round(best, 2),
                               "runs_per_minute": round(ran / best * 60, 2),
                               "runs_per_minute_with_startup": round(
                                   ran / (best + start) * 60, 2),
                               "wall_s_rounds": [round(x, 2) for x in walls[workers, mode]],
                               "loadavg_before_after": loads[workers, mode]}
            result["workers"][str(workers)] = {
                **entry["off"], "cache": entry, "startup_s": round(start, 2),
                "startup_s_rounds": [round(x, 2) for x in starts[workers]]}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    w = result["workers"]
    result["scaling_ratio"] = round(w["2"]["runs_per_minute"] / w["1"]["runs_per_minute"], 3)
    result["scaling_ratio_warm_cache"] = round(
        w["2"]["cache"]["warm"]["runs_per_minute"] / w["1"]["cache"]["warm"]["runs_per_minute"],
        3)
    result["scaling_ratio_with_startup"] = round(
        w["2"]["runs_per_minute_with_startup"] / w["1"]["runs_per_minute_with_startup"], 3)
    result["loadavg_end"] = list(os.getloadavg())
    for k in ("1", "2"):
        c = w[k]["cache"]
        w[k]["cache_speedup"] = {m: round(c[m]["runs_per_minute"] / c["off"]["runs_per_minute"],
                                          3) for m in ("cold", "warm")}
    print(f"scaling ratio (2 workers / 1 worker, no cache): {result['scaling_ratio']:.2f} "
          f"({result['scaling_ratio_with_startup']:.2f} with start-up; warm cache "
          f"{result['scaling_ratio_warm_cache']:.2f}); cache speed-up 1 worker "
          f"{w['1']['cache_speedup']}, 2 workers {w['2']['cache_speedup']}; start-up "
          f"{w['1']['startup_s']} s / {w['2']['startup_s']} s")
    out = Path(__file__).parent / "results" / (
        f"sweep_{platform.node()}_{time.strftime('%Y%m%dT%H%M%S')}.json")
    write_json(out, result)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
