"""Shared helpers of the benchmark scripts: sizes, the benchmark scenario, the edge sweep."""

from __future__ import annotations

import json
import os
import platform
import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from numba import prange

from cxsim.kernels import _jit

RESULTS = Path(__file__).resolve().parent / "results"
SIZES = (10_000, 100_000, 1_000_000)


def overrides(customers: int, steps: int = 10) -> dict[str, Any]:
    """Benchmark scenario: baseline levers, prospects 20% of customers, no burn-in.

    Colleagues follow the baseline's 1 per 50 customers and social ties its mean degree of 5.
    """
    return {"size.customers": customers, "size.prospects": customers // 5, "burn_in": 0,
            "steps": steps}


def _neighbour_mean(indptr, indices, x, out):
    """The memory-bound floor: one pass over every edge, each node averages its neighbours."""
    n = indptr.shape[0] - 1
    for i in prange(n):
        acc = 0.0
        for e in range(indptr[i], indptr[i + 1]):
            acc += x[indices[e]]
        d = indptr[i + 1] - indptr[i]
        out[i] = acc / d if d > 0 else x[i]


# the same source compiled twice, each build with its own cache entry (see kernels._jit)
neighbour_mean = _jit(_neighbour_mean, parallel=True)
neighbour_mean_serial = _jit(_neighbour_mean)


def best_of(fn, repeat: int) -> float:
    """Fastest of `repeat` calls, in seconds (the least disturbed by other load)."""
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def max_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def machine() -> dict[str, Any]:
    import numba

    try:
        load = os.getloadavg()
    except OSError:  # pragma: no cover
        load = (float("nan"),) * 3
    return {"python": sys.version.split()[0], "platform": platform.platform(),
            "cpus": os.cpu_count(), "numba_threads": numba.get_num_threads(),
            "numba": numba.__version__, "numpy": np.__version__, "loadavg": list(load)}


def save(name: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    tmp.replace(path)
    return path
