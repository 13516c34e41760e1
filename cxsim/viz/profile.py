"""Where a dashboard week's time goes, on the server: `CXSIM_PROFILE=FILE` makes the session's
thread and the page's panels append one line per piece of work (``kind seconds``) to FILE.

Why: the play and first-page targets are measured through a browser on shared cores; without
the server's own share the benchmark could not say whether the model, the snapshot, the
page's render or the browser is the bottleneck (benchmarks/bench_dashboard.py reads it).
Off (no file, no cost beyond one test) unless the variable is set.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

PATH = os.environ.get("CXSIM_PROFILE") or None
_LOCK = threading.Lock()
_FH = open(PATH, "a", buffering=1) if PATH else None  # noqa: SIM115 (kept for the process)


@contextmanager
def timed(kind: str) -> Iterator[None]:
    """Append ``kind seconds`` to the profile file for the work inside the block."""
    if _FH is None:
        yield
        return
    t0 = time.perf_counter()
    try:
        yield
    finally:
        dt = time.perf_counter() - t0
        with _LOCK:
            _FH.write(f"{kind} {dt:.6f}\n")


def mark(kind: str, seconds: float) -> None:
    """Append a time measured elsewhere (e.g. a build that reports its own)."""
    if _FH is not None:
        with _LOCK:
            _FH.write(f"{kind} {seconds:.6f}\n")
