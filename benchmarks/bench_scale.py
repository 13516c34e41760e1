"""Step time per phase, edge-sweep floor, plain-Mesa speed-up, build time and peak memory.

    python benchmarks/bench_scale.py                  # 10k, 100k, 1M customers (a few minutes)
    python benchmarks/bench_scale.py --sizes 10000    # one size

Each size runs in its own process (so that its peak memory is its own) and prints one JSON
record; the parent saves them all to benchmarks/results/scale.json and draws scale.png.
Times are the fastest of several steps (the least disturbed by other load); medians are saved
too. The edge sweep is a numba neighbour average over the same customer CSR graph, run in the
same process with the same threading as the model step.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    SIZES,
    best_of,
    machine,
    max_rss_mb,
    neighbour_mean,
    neighbour_mean_serial,
    overrides,
    save,
)


def _time_steps(model, steps: int) -> dict[str, Any]:
    """Per-phase and total step times over `steps` steps (seconds): min and median."""
    rows, totals = [], []
    for _ in range(steps):
        before = dict(model.phase_seconds)
        t = time.perf_counter()
        model.step()
        totals.append(time.perf_counter() - t)
        rows.append({k: model.phase_seconds[k] - before[k] for k in before})
    return {"step_min_s": min(totals), "step_median_s": median(totals),
            "phases_min_s": {k: min(r[k] for r in rows) for k in rows[0]},
            "phases_median_s": {k: median(r[k] for r in rows) for k in rows[0]}}


def one_size(customers: int, steps: int, mesa_steps: int, twin: bool,
             agents: str) -> dict[str, Any]:
    """Everything measured at one size, in this process."""
    import numpy as np

    t0 = time.perf_counter()
    from cxsim.model import CXModel

    import_s = time.perf_counter() - t0
    # load the cached kernels (both threadings) on a tiny model, so the build below is the build
    t0 = time.perf_counter()
    for par in (False, True):
        CXModel("baseline", overrides=overrides(2000, 2), parallel=par, create_agents=False).run()
    warm_s = time.perf_counter() - t0
    rss_before = max_rss_mb()
    # headless build first (agent views and networkx view left to first use), then the full
    # one; above --eager-max only the lazy build (a Python object per agent would not fit)
    t0 = time.perf_counter()
    lazy = CXModel("baseline", overrides=overrides(customers, steps), create_agents="lazy")
    lazy_s = time.perf_counter() - t0
    lazy_parts = dict(lazy.build_seconds)
    rss_lazy_build = max_rss_mb()
    if agents == "lazy":
        model, build_s = lazy, lazy_s
    else:
        del lazy
        t0 = time.perf_counter()
        model = CXModel("baseline", overrides=overrides(customers, steps),
                        create_agents={"eager": True, "none": False}[agents])
        build_s = time.perf_counter() - t0
    rec: dict[str, Any] = {
        "customers": customers, "nodes": model.social.n, "colleagues": model.org.n,
        "edges": int(model.social.indices.shape[0] // 2), "import_s": import_s,
        "kernel_load_s": warm_s, "build_s": build_s, "build_lazy_s": lazy_s,
        "build_parts_s": dict(model.build_seconds), "build_lazy_parts_s": lazy_parts,
        "rss_after_lazy_build_mb": rss_lazy_build,
        "index_dtype": str(model.social.indices.dtype),
        "networkx_view_built": model.social._graph is not None,
        "agents": agents,
        # counting lazy views would create them: only the eager build reports its agents
        "n_agents": len(model.agents) if agents == "eager" else 0}
    model.step()  # first step touches every array once
    net = model.social
    x = np.random.default_rng(0).random(net.n)
    out = np.empty_like(x)
    modes = {}
    for par, sweep in ((False, neighbour_mean_serial), (True, neighbour_mean)):
        model.use_parallel(par)
        sweep(net.indptr, net.indices, x, out)
        sw = best_of(lambda s=sweep: s(net.indptr, net.indices, x, out), 7)
        st = _time_steps(model, steps)
        st["sweep_s"] = sw
        st["step_in_sweeps"] = st["step_min_s"] / sw
        modes["parallel" if par else "serial"] = st
    rec["modes"] = modes
    rec["agent_views_created"] = not model._agents_pending and agents != "none"
    rec["peak_rss_mb"] = max_rss_mb()
    rec["rss_before_build_mb"] = rss_before
    if mesa_steps:
        from plain_mesa import PlainModel

        t0 = time.perf_counter()
        pm = PlainModel(net.indptr, net.indices, customers, model.org.n)
        mesa_build = time.perf_counter() - t0
        pm.step()
        mesa_step = best_of(pm.step, mesa_steps)
        best = min(modes["serial"]["step_min_s"], modes["parallel"]["step_min_s"])
        rec["plain_mesa"] = {"build_s": mesa_build, "step_s": mesa_step,
                             "speedup_serial": mesa_step / modes["serial"]["step_min_s"],
                             "speedup_best": mesa_step / best}
        del pm
    if twin:
        ref = CXModel("baseline", overrides=overrides(customers, steps), engine="reference",
                      create_agents=False)
        ref.step()
        tw = _time_steps(ref, steps)
        num = modes["serial"]
        rec["twin"] = {"reference_step_s": tw["step_min_s"],
                       "reference_phases_s": tw["phases_min_s"],
                       "numba_serial_step_s": num["step_min_s"],
                       "twin_over_kernel": tw["step_min_s"] / num["step_min_s"]}
    return rec


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    ap.add_argument("--steps", type=int, default=8, help="timed steps per size and threading")
    ap.add_argument("--mesa-max", type=int, default=100_000,
                    help="largest size at which the plain-Mesa twin runs")
    ap.add_argument("--mesa-steps", type=int, default=2)
    ap.add_argument("--agents", choices=("eager", "lazy", "none"), default="eager",
                    help="Mesa agent views: built in the build (eager), on first use, or none")
    ap.add_argument("--eager-max", type=int, default=1_000_000,
                    help="above this many customers the model is built with lazy views only")
    ap.add_argument("--min-free-gb", type=float, default=3.0,
                    help="stop a size's process if the machine's available memory drops below")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--out", default="scale")
    a = ap.parse_args()
    if a.one is not None:
        rec = one_size(a.one, a.steps, a.mesa_steps if a.one <= a.mesa_max else 0,
                       a.one == min(SIZES), a.agents)
        print(json.dumps(rec))
        return
    records = []
    load_before = machine()["loadavg"]
    for n in a.sizes:
        agents = a.agents if n <= a.eager_max else "lazy"
        cmd = [sys.executable, __file__, "--one", str(n), "--steps", str(a.steps),
               "--mesa-max", str(a.mesa_max), "--mesa-steps", str(a.mesa_steps),
               "--agents", agents]
        rc, out, err = _run_guarded(cmd, a.min_free_gb)
        if rc != 0:
            print(err, file=sys.stderr)
            raise SystemExit(f"size {n} failed (exit {rc})")
        rec = json.loads(out.strip().splitlines()[-1])
        rec["loadavg_after"] = list(os.getloadavg())
        records.append(rec)
        print(summary_line(rec), flush=True)
    data = {"machine": machine(), "loadavg_before": load_before, "records": records,
            "scaling": scaling(records)}
    path = save(a.out, data)
    print(f"saved {path}")
    from plot import plot_scale

    print(f"saved {plot_scale(data, path.with_suffix('.png'))}")


def _available_gb() -> float:
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 2**20
    return float("inf")  # pragma: no cover


def _run_guarded(cmd: list[str], min_free_gb: float) -> tuple[int, str, str]:
    """Run one size's process; stop it if the machine runs short of memory (other sessions
    share it), rather than let the kernel's OOM killer pick a victim."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True)
        low = None
        while proc.poll() is None:
            free = _available_gb()
            if free < min_free_gb:
                low = free
                proc.kill()
                proc.wait()
                break
            time.sleep(0.5)
        out.seek(0)
        err.seek(0)
        text_err = err.read()
        if low is not None:
            text_err += f"\nstopped: available memory {low:.1f} GB < {min_free_gb} GB"
        return proc.returncode, out.read(), text_err


def scaling(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each size against the previous one: how step time, build time and memory grew against
    the number of edges (goal: step time no faster than the edges)."""
    rows = []
    for a, b in zip(records, records[1:], strict=False):
        edges = b["edges"] / a["edges"]
        row = {"from": a["customers"], "to": b["customers"], "edges_ratio": edges,
               "build_lazy_ratio": b["build_lazy_s"] / a["build_lazy_s"],
               "peak_rss_ratio": b["peak_rss_mb"] / a["peak_rss_mb"]}
        for mode in ("serial", "parallel"):
            st = b["modes"][mode]["step_min_s"] / a["modes"][mode]["step_min_s"]
            row[f"step_ratio_{mode}"] = st
            row[f"step_per_edge_ratio_{mode}"] = st / edges
            sw = b["modes"][mode]["sweep_s"] / a["modes"][mode]["sweep_s"]
            row[f"sweep_ratio_{mode}"] = sw
        rows.append(row)
    return rows


def summary_line(r: dict[str, Any]) -> str:
    s, p = r["modes"]["serial"], r["modes"]["parallel"]
    text = (f"{r['customers']:>9,} customers: build {r['build_s']:.2f} s "
            f"(lazy views {r['build_lazy_s']:.2f} s), "
            f"peak {r['peak_rss_mb']:.0f} MB; step serial {1e3 * s['step_min_s']:.1f} ms "
            f"= {s['step_in_sweeps']:.1f} sweeps ({1e3 * s['sweep_s']:.1f} ms), parallel "
            f"{1e3 * p['step_min_s']:.1f} ms = {p['step_in_sweeps']:.1f} sweeps "
            f"({1e3 * p['sweep_s']:.1f} ms)")
    if "plain_mesa" in r:
        text += (f"; plain Mesa {r['plain_mesa']['step_s']:.2f} s/step, "
                 f"x{r['plain_mesa']['speedup_best']:.0f}")
    if "twin" in r:
        text += f"; twin/kernel x{r['twin']['twin_over_kernel']:.1f}"
    return text


if __name__ == "__main__":
    main()
