"""Markdown tables from the saved benchmark results (for README.md and docs/performance.md).

    python benchmarks/report.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
from cxsim.model import PHASES  # noqa: E402  ("customers": attitude, word of mouth, churn)

MODES = ("serial", "parallel")


def scale_table(data: dict) -> str:
    rows = ["| customers (nodes, edges) | kernels | step ms | "
            + " | ".join(PHASES) + " | edge sweep ms | step / sweep |",
            "|---" * (len(PHASES) + 5) + "|"]
    for r in data["records"]:
        for mode in MODES:
            if mode not in r["modes"]:
                continue
            m = r["modes"][mode]
            ph = " | ".join(f"{1e3 * m['phases_min_s'][p]:.2f}"
                            if m["phases_min_s"].get(p, 0.0) > 0.0 else "-" for p in PHASES)
            rows.append(f"| {r['customers']:,} ({r['nodes']:,}, {r['edges']:,}) | {mode} | "
                        f"{1e3 * m['step_min_s']:.1f} | {ph} | {1e3 * m['sweep_s']:.2f} | "
                        f"{m['step_in_sweeps']:.1f} |")
    return "\n".join(rows)


def summary_table(data: dict, cold: dict | None) -> str:
    rows = ["| customers | build s (networks+arrays / Mesa agents) | build s, lazy views | "
            "peak RSS MB | "
            "plain Mesa s/step | cxsim ms/step (best) | speed-up | twin / kernel |",
            "|---|---|---|---|---|---|---|---|"]
    for r in data["records"]:
        b = r["build_parts_s"]
        best = min(r["modes"]["serial"]["step_min_s"], r["modes"]["parallel"]["step_min_s"])
        pm = r.get("plain_mesa")
        tw = r.get("twin")
        rows.append(
            f"| {r['customers']:,} | {r['build_s']:.2f} ({b['networks_and_arrays']:.2f} / "
            f"{b['mesa_agents']:.2f}) | {r['build_lazy_s']:.2f} | {r['peak_rss_mb']:.0f} | "
            f"{pm['step_s']:.2f} | {1e3 * best:.1f} | x{pm['speedup_best']:.0f} |"
            if pm else
            f"| {r['customers']:,} | {r['build_s']:.2f} ({b['networks_and_arrays']:.2f} / "
            f"{b['mesa_agents']:.2f}) | {r['build_lazy_s']:.2f} | {r['peak_rss_mb']:.0f} | - | "
            f"{1e3 * best:.1f} | - |")
        rows[-1] += f" x{tw['twin_over_kernel']:.1f} |" if tw else " - |"
    text = "\n".join(rows)
    if cold:
        text += (f"\n\nCold start, `cxsim run` on a 2,000-customer scenario (10 + 52 weeks), "
                 f"fresh process: {cold['no_cache_min_s']:.1f} s without the numba cache, "
                 f"{cold['cached_min_s']:.1f} s with it; `cxsim --help` {cold['help_s']:.2f} s.")
    m = data["machine"]
    text += (f"\n\nMachine: {m['cpus']} cores, numba {m['numba']} with {m['numba_threads']} "
             f"threads, load average during the run {m['loadavg'][0]:.1f}.")
    return text


def growth_table(data: dict) -> str:
    """Build, step and memory of each size, and how they grew against the edges."""
    rows = ["| customers (edges) | build s, lazy views | step ms serial / parallel | "
            "ns per edge serial / parallel | peak RSS MB | index dtype |",
            "|---|---|---|---|---|---|"]
    for r in data["records"]:
        s, p = r["modes"]["serial"], r["modes"]["parallel"]
        rows.append(f"| {r['customers']:,} ({r['edges']:,}) | {r['build_lazy_s']:.2f} | "
                    f"{1e3 * s['step_min_s']:.1f} / {1e3 * p['step_min_s']:.1f} | "
                    f"{1e9 * s['step_min_s'] / r['edges']:.0f} / "
                    f"{1e9 * p['step_min_s'] / r['edges']:.0f} | {r['peak_rss_mb']:.0f} | "
                    f"{r.get('index_dtype', 'int64')} |")
    for g in data.get("scaling", []):
        rows.append(f"\n{g['from']:,} -> {g['to']:,}: edges x{g['edges_ratio']:.2f}, step "
                    f"x{g['step_ratio_serial']:.2f} serial / x{g['step_ratio_parallel']:.2f} "
                    f"parallel (per edge x{g['step_per_edge_ratio_serial']:.2f} / "
                    f"x{g['step_per_edge_ratio_parallel']:.2f}), edge sweep "
                    f"x{g['sweep_ratio_serial']:.2f} / x{g['sweep_ratio_parallel']:.2f}, lazy "
                    f"build x{g['build_lazy_ratio']:.2f}, peak memory "
                    f"x{g['peak_rss_ratio']:.2f}.")
    return "\n".join(rows)


def sweep_table(data: dict) -> str:
    """Runs per minute with 1 and 2 Dask workers, without and with the burn-in cache."""
    rows = ["| workers | no cache runs/min | cold cache | warm cache | start-up s | "
            "no cache, start-up included | load average (1 min) |",
            "|---|---|---|---|---|---|---|"]
    for k in ("1", "2"):
        w = data["workers"][k]
        c = w["cache"]
        loads = [x[0] for m in ("off", "cold", "warm") for x in c[m]["loadavg_before_after"]]
        rows.append(f"| {k} | {c['off']['runs_per_minute']:.0f} | "
                    f"{c['cold']['runs_per_minute']:.0f} | {c['warm']['runs_per_minute']:.0f} | "
                    f"{w.get('startup_s', float('nan')):.1f} | "
                    f"{c['off'].get('runs_per_minute_with_startup', float('nan')):.0f} | "
                    f"{min(loads):.1f}-{max(loads):.1f} |")
    rows.append(f"\n2 workers / 1: x{data['scaling_ratio']:.2f} without the cache, "
                f"x{data.get('scaling_ratio_warm_cache', float('nan')):.2f} with a warm one, "
                f"x{data.get('scaling_ratio_with_startup', float('nan')):.2f} counting the "
                f"cluster start-up.")
    return "\n".join(rows)


def main() -> None:
    scale = json.loads((RESULTS / "scale.json").read_text())
    cold_p = RESULTS / "cold_start.json"
    cold = json.loads(cold_p.read_text()) if cold_p.exists() else None
    sys.stdout.write(summary_table(scale, cold) + "\n\n" + scale_table(scale) + "\n\n"
                     + growth_table(scale) + "\n")
    sweeps = sorted(RESULTS.glob("sweep_*.json"))
    if sweeps:
        sys.stdout.write(f"\n{sweeps[-1].name}:\n\n"
                         + sweep_table(json.loads(sweeps[-1].read_text())) + "\n")


if __name__ == "__main__":
    main()
