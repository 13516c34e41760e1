"""What a model change costs per step: two versions of cxsim, timed in turns in one session.

Each git ref is checked out into a temporary worktree; a child process per ref and round
builds the benchmark company at `--customers` (as many prospects), runs two warm-up steps,
then measures the CPU time (process time, serial kernels) of `--steps` steps. The rounds
alternate the refs, so both see the same load; the ratio of the medians is the figure.

    python benchmarks/bench_step_versions.py 80af483 HEAD --customers 500000

Prints a line per round and the ratio; saves results/step_versions_<stamp>.json (with
`_common.machine()`, load included).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine, save  # noqa: E402

CHILD = """
import sys, time, json
from cxsim.scenario import load_scenario
from cxsim.model import CXModel
n, steps = int(sys.argv[1]), int(sys.argv[2])
sc = load_scenario("baseline").with_overrides(
    {"size.customers": n, "size.prospects": n, "burn_in": 0, "steps": steps + 2})
m = CXModel(sc, seed=1, create_agents=False, parallel=False)
m.step(); m.step()
t = time.process_time()
for _ in range(steps):
    m.step()
print(json.dumps({"cpu_per_step": (time.process_time() - t) / steps}))
"""


def _worktree(ref: str, where: Path) -> Path:
    path = where / ref.replace("/", "_")
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(path), ref],
                   check=True)
    return path


def _time(tree: Path, customers: int, steps: int) -> float:
    env = {**os.environ, "PYTHONPATH": str(tree), "NUMBA_CACHE_DIR": str(tree / ".numba")}
    out = subprocess.run([sys.executable, "-c", CHILD, str(customers), str(steps)], cwd=tree,
                         env=env, check=True, capture_output=True, text=True).stdout
    return float(json.loads(out.strip().splitlines()[-1])["cpu_per_step"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--customers", type=int, default=500_000)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    times: dict[str, list[float]] = {args.old: [], args.new: []}
    with tempfile.TemporaryDirectory() as tmp:
        trees = {ref: _worktree(ref, Path(tmp)) for ref in times}
        try:
            for ref in times:  # compile each version's kernels once, untimed
                _time(trees[ref], 1_000, 1)
            for r in range(args.rounds):
                for ref in (times if r % 2 == 0 else reversed(list(times))):
                    times[ref].append(_time(trees[ref], args.customers, args.steps))
                    print(f"round {r}: {ref:>10}  {times[ref][-1]:.3f} s CPU per step",
                          flush=True)
        finally:
            for tree in trees.values():
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                                str(tree)], check=False)
    med = {ref: statistics.median(v) for ref, v in times.items()}
    ratio = med[args.new] / med[args.old]
    load = os.getloadavg()[0]
    print(f"median CPU per step: {args.old} {med[args.old]:.3f} s, {args.new} "
          f"{med[args.new]:.3f} s (x{ratio:.2f}); nodes {2 * args.customers:,}, load {load:.1f}")
    save(f"step_versions_{time.strftime('%Y%m%dT%H%M%S')}",
         {"old": args.old, "new": args.new, "customers": args.customers, "steps": args.steps,
          "times": times, "median": med, "ratio": ratio, "machine": machine()})

if __name__ == "__main__":
    main()
