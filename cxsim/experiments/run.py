"""Runs of one scenario with replications, and the files `cxsim run` writes."""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import __version__
from ..cache import CacheArg, start_model
from ..io import write_json, write_text, write_with
from ..scenario import Scenario

HEADLINE = ("nps", "csat", "engagement", "frontline_engagement", "active_customers", "trust",
            "empathy", "brand_alignment", "brand_consistency", "profit")
TOTALS = ("acquisitions", "churned", "staff_attrition", "wom_positive", "wom_negative",
          "revenue", "cost", "profit")


def rep_seeds(seed: int, reps: int) -> list[int]:
    """Independent seeds for replications, spawned from one root seed (numpy SeedSequence).

    Replication k gets the same seed whatever the scenario, so comparisons use common random
    numbers.

    >>> rep_seeds(42, 3) == rep_seeds(42, 3)
    True
    """
    return [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(seed).spawn(reps)]


@dataclass
class RunResult:
    """One replication: its time series, unit table and timings."""

    rep: int
    seed: int
    timeseries: pd.DataFrame
    units: pd.DataFrame
    timings: dict[str, Any] = field(default_factory=dict)
    probe: Any = None  # what a probe recorded (see run_one), else None


def run_one(scenario: Scenario, seed: int, rep: int = 0, steps: int | None = None,
            engine: str = "numba", progress: Callable[[], None] | None = None,
            units: bool = True, probe: Any = None, cache: CacheArg = None) -> RunResult:
    """Build and run one model; returns its tables with `rep` and `seed` columns.

    With `cache` (True: the default folder, or a folder; see `cxsim.cache`), the model is
    forked from the burned-in state it shares with other scenarios and seeds' runs, built and
    saved on the first use: same numbers, one burn-in.

    A `probe` (an object with ``after_step(model)`` and ``result()``, picklable for worker
    processes) reads the model's state after every simulated week; its ``result()`` comes back
    as ``RunResult.probe``.
    """
    t0 = time.perf_counter()
    model, cached = start_model(scenario, seed, engine, cache=cache)
    t1 = time.perf_counter()
    if probe is None:
        model.run(steps, progress=progress)
    else:
        for _ in range(scenario.steps if steps is None else steps):
            model.step()
            probe.after_step(model)
            if progress is not None:
                progress()
    t2 = time.perf_counter()
    ts = model.timeseries()
    ts.insert(0, "rep", rep)
    ut = unit_table(model) if units else pd.DataFrame()
    if units:
        ut.insert(0, "rep", rep)
    timings = {"build_s": t1 - t0, "run_s": t2 - t1, "burn_in_cache": cached,
               "build": model.build_seconds,
               "phases_s": dict(model.phase_seconds)}
    return RunResult(rep, seed, ts, ut, timings, probe.result() if probe is not None else None)


def unit_table(model: Any) -> pd.DataFrame:
    """The model's unit figures of the simulated weeks, labelled with the organisation file's
    own team names when one was loaded (built organisations number their units 0..n-1)."""
    ut = model.units()
    names = getattr(model.org, "team_names", None)
    if names is not None and len(ut):
        ut["unit"] = np.asarray(names, dtype=object)[ut["unit"].to_numpy()]
    return ut


def _run_task(args: tuple) -> RunResult:
    return run_one(*args)


def map_tasks(fn: Callable[[Any], Any], tasks: Sequence[Any], workers: int = 1,
              progress: Callable[[int], None] | None = None,
              weight: int = 1) -> Iterator[Any]:
    """`fn` over `tasks` in order, here or in `workers` spawned processes (same results).

    `fn` must be a module-level function (picklable); `progress(weight)` is called as each
    result arrives. Every command that runs replications (run, compare, explain, validate)
    goes through this one loop.
    """
    if workers <= 1 or len(tasks) <= 1:
        results: Iterator[Any] = map(fn, tasks)
        pool = None
    else:
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"))
        results = pool.map(fn, tasks)
    try:
        for res in results:
            if progress:
                progress(weight)
            yield res
    finally:
        if pool is not None:
            pool.shutdown()


def run_reps(scenario: Scenario, seed: int, reps: int, steps: int | None = None,
             workers: int = 1, engine: str = "numba",
             progress: Callable[[int], None] | None = None) -> list[RunResult]:
    """Run `reps` replications (in `workers` processes); same numbers for any worker count."""
    seeds = rep_seeds(seed, reps)
    n_steps = scenario.steps if steps is None else steps
    if workers <= 1 or reps == 1:  # here: progress week by week
        return [run_one(scenario, s, k, n_steps, engine,
                        (lambda: progress(1)) if progress else None)
                for k, s in enumerate(seeds)]
    tasks = [(scenario, s, k, n_steps, engine) for k, s in enumerate(seeds)]
    return list(map_tasks(_run_task, tasks, workers, progress, weight=n_steps))


def summarise(ts: pd.DataFrame) -> pd.DataFrame:
    """Final and mean figures per replication, plus totals over the run."""
    rows = []
    for rep, g in ts.groupby("rep", sort=True):
        g = g.sort_values("step")
        row: dict[str, Any] = {"rep": rep, "steps": len(g)}
        for c in HEADLINE:
            row[f"final_{c}"] = g[c].iloc[-1]
            row[f"mean_{c}"] = g[c].mean()
        for c in TOTALS:
            row[f"total_{c}"] = g[c].sum()
        row["final_cumulative_profit"] = g["cumulative_profit"].iloc[-1]
        weeks = len(g)
        act = g["active_customers"].mean()
        row["annual_churn_rate"] = g["churned"].sum() / max(act, 1) * 52 / weeks
        rows.append(row)
    return pd.DataFrame(rows)


def write_run_outputs(out: Path, scenario: Scenario, results: Sequence[RunResult], seed: int,
                      engine: str, wall_s: float, n_colleagues: int | None = None) -> dict:
    """Write every file of `cxsim run` into `out`, each one atomically."""
    from ..viz.plots import close_figure, dashboard_figure
    from ..viz.style import savefig

    ts = pd.concat([r.timeseries for r in results], ignore_index=True)
    units = pd.concat([r.units for r in results], ignore_index=True)
    summary = summarise(ts)
    if n_colleagues:
        summary["annual_staff_attrition_rate"] = (
            summary["total_staff_attrition"] / n_colleagues * 52 / summary["steps"])
    out.mkdir(parents=True, exist_ok=True)
    write_with(out / "timeseries.csv", lambda p: ts.to_csv(p, index=False))
    write_with(out / "timeseries.parquet", lambda p: ts.to_parquet(p, index=False))
    # with a byte-order mark: Excel then shows a client's unit names ("Café", "–") as written
    write_with(out / "units.csv", lambda p: units.to_csv(p, index=False, encoding="utf-8-sig"))
    write_with(out / "summary.csv", lambda p: summary.to_csv(p, index=False))
    fig = dashboard_figure(ts, title=f"cxsim: {scenario.name}", events=scenario.events,
                           currency=scenario.money.currency)
    try:  # one figure for both files, laid out once (the first save): a third of cold start
        for fmt in ("png", "svg"):
            write_with(out / f"dashboard.{fmt}", lambda p, fmt=fmt: savefig(fig, p, fmt))
            fig.set_layout_engine("none")
    finally:
        close_figure(fig)
    write_text(out / "scenario.toml", scenario.to_toml())
    manifest = {
        "cxsim_version": __version__,
        "scenario": scenario.name,
        "scenario_hash": scenario.hash(),
        "seed": seed,
        "rep_seeds": [r.seed for r in results],
        "reps": len(results),
        "steps": int(ts["step"].max() + 1) if len(ts) else 0,
        "engine": engine,
        "timings": {"wall_s": wall_s, "reps": [r.timings for r in results]},
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": _versions(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    if scenario.organisation.file:
        manifest["organisation_files"] = org_file_digests(scenario.organisation.file)
    write_json(out / "manifest.json", manifest)
    return {"timeseries": ts, "units": units, "summary": summary, "manifest": manifest}


def org_file_digests(path: str) -> dict[str, str]:
    """SHA-256 of each file of the org chart the run read, by absolute path: scenario.toml
    names the file by its absolute path, and this says whether it is still the one run."""
    import hashlib

    from ..orgfile import files

    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files(path)}


def _versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {}
    for pkg in ("mesa", "numpy", "numba", "networkx", "pandas", "pydantic"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = "missing"
    return out


def load_manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text())
