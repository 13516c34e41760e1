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


def main() -> None:
    scale = json.loads((RESULTS / "scale.json").read_text())
    cold_p = RESULTS / "cold_start.json"
    cold = json.loads(cold_p.read_text()) if cold_p.exists() else None
    sys.stdout.write(summary_table(scale, cold) + "\n\n" + scale_table(scale) + "\n")


if __name__ == "__main__":
    main()
