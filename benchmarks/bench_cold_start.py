"""Cold start of `cxsim run` on a small scenario, without and with the numba cache.

    python benchmarks/bench_cold_start.py

"Without cache" points NUMBA_CACHE_DIR at a fresh empty folder, so every kernel the run uses
is compiled; "with cache" runs again with the same folder, so they are loaded from disk. Each
is a fresh process timed from launch to exit (wall clock), as a user sees it. Also times
`cxsim --help`. Saves benchmarks/results/cold_start.json.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine, save  # noqa: E402

SMALL = """extends = "baseline"
name = "bench-small"
description = "Small scenario for the cold-start benchmark"
steps = 52
burn_in = 10

[size]
customers = 2000
prospects = 1000
"""


def _cxsim() -> list[str]:
    exe = Path(sys.executable).with_name("cxsim")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "cxsim.cli"]


CPU: list[float] = []  # CPU seconds (user + system) of each timed process, in order


def timed(cmd: list[str], env: dict[str, str]) -> float:
    """Wall seconds of one fresh process; its CPU seconds are appended to CPU (on a shared
    machine the wall time includes waiting for a core, the CPU time does not)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    if res.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{res.stderr}")
    return wall


def main(repeat: int = 3) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="cxsim-cold-"))
    try:
        scen = tmp / "small.toml"
        scen.write_text(SMALL)
        cache = tmp / "numba-cache"
        env = dict(os.environ, NUMBA_CACHE_DIR=str(cache))
        run = [*_cxsim(), "run", str(scen), "--out", str(tmp / "out")]
        help_s = min(timed([*_cxsim(), "--help"], env) for _ in range(repeat))
        no_cache = []
        for _ in range(repeat):
            shutil.rmtree(cache, ignore_errors=True)
            no_cache.append(timed(run, env))
        n0 = len(CPU)
        cached = [timed(run, env) for _ in range(repeat)]
        cached_cpu = CPU[n0:]
        data = {"machine": machine(), "scenario": SMALL, "help_s": help_s,
                "no_cache_s": no_cache, "cached_s": cached,
                "no_cache_min_s": min(no_cache), "cached_min_s": min(cached),
                "cached_cpu_s": cached_cpu, "cached_cpu_min_s": min(cached_cpu),
                "loadavg_end": list(os.getloadavg())}
        print(f"cxsim --help {help_s:.2f} s; cxsim run (2000 customers, 10+52 weeks): "
              f"no cache {min(no_cache):.1f} s, cached {min(cached):.1f} s (fastest of {repeat}; "
              f"CPU {min(cached_cpu):.1f} s)")
        print(f"saved {save('cold_start', data)}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
