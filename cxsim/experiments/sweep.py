"""Parameter sweeps: a TOML spec, a design, one seed per run, resumable Parquet results on Dask.

A sweep spec names a base scenario, the keys to vary (dotted scenario keys such as
``levers.empowerment``), a design (``grid``, ``lhs``, ``sobol``, ``morris``), replications and
steps. Every (design row, replication) gets its own seed spawned from one root seed with numpy's
SeedSequence, keyed by (row, rep), so a resumed sweep gives the same seeds.

Runs go to a Dask cluster: an embedded LocalCluster by default, or an existing scheduler. The
workers only compute; this process writes every result, one Parquet file per run under
``OUT/runs/`` (aside, then renamed), and at the end ``OUT/runs.parquet`` with one row per run.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import time
import tomllib
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..cache import CacheArg, resolve
from ..io import write_json, write_text, write_with
from ..scenario import (
    Scenario,
    ScenarioError,
    format_loc,
    load_scenario,
    one_line,
    read_toml_text,
    validate_scenario,
)

DESIGNS = ("grid", "lhs", "sobol", "morris")
ID_COLUMNS = ("run_id", "row", "rep", "seed")
STATUS_COLUMNS = ("status", "error", "wall_s")
DEFAULT_OUTPUTS = ("nps", "csat", "engagement", "active_customers", "trust",
                   "brand_consistency", "cumulative_profit")


class SweepError(ValueError):
    """A sweep spec or output folder that cannot be used; the message says what and why."""

    def __init__(self, message: str):
        super().__init__(one_line(str(message)))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class Range(_Strict):
    """A continuous range for one varied key; `levels` evenly spaced values in a grid."""

    low: float
    high: float
    levels: int | None = Field(None, ge=2, le=1000,
                               description="Grid only: evenly spaced values from low to high")

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if not self.low < self.high:
            raise ValueError(f"low = {self.low} must be below high = {self.high}")
        return self


class Design(_Strict):
    """How rows are drawn: full factorial, Latin hypercube, Saltelli/Sobol' or Morris."""

    kind: Literal["grid", "lhs", "sobol", "morris"] = "grid"
    samples: int | None = Field(
        None, ge=1, le=1_000_000,
        description="lhs: rows; sobol: base samples N (rows N*(D+2)); morris: trajectories")
    second_order: bool = Field(False, description="sobol: second-order indices too")
    num_levels: int = Field(4, ge=2, le=100, description="morris: grid levels")


class SweepSpec(_Strict):
    """A whole sweep, as read from its TOML file."""

    name: str = "sweep"
    description: str = ""
    scenario: str = Field("baseline", description="Built-in scenario name or TOML path")
    overrides: dict[str, Any] = Field(
        default_factory=dict, description="Fixed dotted overrides applied to the base scenario")
    vary: dict[str, list[float | int | bool] | Range] = Field(
        ..., description="Dotted key -> list of values, or {low, high[, levels]}")
    design: Design = Design()
    replications: int = Field(1, ge=1, le=10_000)
    steps: int | None = Field(None, ge=1, le=100_000, description="Default: the scenario's")
    record: Literal["final", "every_step"] = "final"
    engine: Literal["numba", "reference"] = "numba"
    seed: int = Field(20240601, ge=0, le=2**63 - 1, description="Root seed of every run seed")
    common_random_numbers: bool = Field(
        False, description="true: replication k gets the same seed in every row")
    outputs: list[str] = Field(default_factory=lambda: list(DEFAULT_OUTPUTS),
                               description="Figures that `cxsim analyze` reports")

    @model_validator(mode="after")
    def _check(self) -> SweepSpec:
        if not self.vary:
            raise ValueError("vary: name at least one key to vary, e.g. "
                             "\"levers.empowerment\" = [0.2, 0.5, 0.8]")
        if self.design.kind != "grid" and self.design.samples is None:
            raise ValueError(f"design.samples is required for design {self.design.kind!r}")
        for key, v in self.vary.items():
            if isinstance(v, list) and not v:
                raise ValueError(f"vary.{key}: empty list of values")
            if self.design.kind == "grid" and isinstance(v, Range) and v.levels is None:
                raise ValueError(f"vary.{key}: a range in a grid needs `levels`")
            if self.design.kind != "grid" and not isinstance(v, Range):
                raise ValueError(f"vary.{key}: design {self.design.kind!r} needs a range "
                                 "{low = .., high = ..}, not a list of values")
        if self.design.kind in ("sobol", "morris") and len(self.vary) < 2:
            raise ValueError(f"design {self.design.kind!r} needs at least two varied keys")
        return self


_WRONG_MEMBER = ("list_type", "model_type", "model_attributes_type", "dict_type")


def _format(exc: ValidationError) -> str:
    msgs = []
    seen: set[str] = set()
    errors = exc.errors()
    locs = [format_loc(e["loc"]) for e in errors]
    for err, loc in zip(errors, locs, strict=True):
        # a union (list of values or a range) fails once per member: a "wrong kind" error is
        # left out when the other member says what is wrong inside the value
        if err["type"] in _WRONG_MEMBER and any(
                other.startswith(loc) and e["type"] not in _WRONG_MEMBER
                for e, other in zip(errors, locs, strict=True)):
            continue
        if loc in seen:
            continue
        seen.add(loc)
        if err["type"] == "finite_number":
            msgs.append(f"{loc} = {err.get('input')!r}: not a finite number")
        elif err["type"] in ("bool_type", "bool_parsing"):
            msgs.append(f"{loc} = {err.get('input')!r}: not a boolean; allowed: true | false")
        elif err["type"] == "extra_forbidden":
            msgs.append(f"{loc}: unknown key")
        elif err["type"] == "missing":
            msgs.append(f"{loc}: required field is missing")
        elif err["type"] == "value_error":
            msg = err["msg"].removeprefix("Value error, ")
            msgs.append(f"{loc}: {msg}" if loc and not msg.startswith(loc) else msg)
        else:
            value = err.get("input")
            shown = value if not isinstance(value, dict) else "{...}"
            msgs.append(f"{loc} = {shown!r}: {err['msg']}")
    return "; ".join(dict.fromkeys(msgs))


def load_spec(path: str | os.PathLike) -> tuple[SweepSpec, str]:
    """Read and validate a sweep spec; returns it and its text. Raises SweepError."""
    p = Path(path)
    try:
        text = read_toml_text(p)
    except UnicodeError as exc:
        raise SweepError(f"{p}: {exc}") from None
    except OSError as exc:
        raise SweepError(f"{p}: cannot read spec: {exc.strerror}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SweepError(f"{p}: broken TOML: {exc}") from None
    try:
        spec = SweepSpec.model_validate(data)
    except ValidationError as exc:
        raise SweepError(f"{p}: {_format(exc)}") from None
    scen = Path(spec.scenario)
    if not scen.is_absolute() and (p.parent / scen).is_file():
        spec = spec.model_copy(update={"scenario": str((p.parent / scen).resolve())})
    return spec, text


# -- seeds and design ---------------------------------------------------------------------------

def run_seed(root: int, row: int, rep: int, common_random_numbers: bool = False) -> int:
    """The seed of (row, rep), spawned from `root`; the same whatever else the sweep holds.

    >>> run_seed(1, 2, 3) == run_seed(1, 2, 3) != run_seed(1, 3, 2)
    True
    """
    key = (rep,) if common_random_numbers else (row, rep)
    return int(np.random.SeedSequence(root, spawn_key=key).generate_state(1)[0])


def _problem(spec: SweepSpec) -> dict[str, Any]:
    names = list(spec.vary)
    bounds = [[v.low, v.high] for v in spec.vary.values()]  # type: ignore[union-attr]
    return {"num_vars": len(names), "names": names, "bounds": bounds}


def design_matrix(spec: SweepSpec) -> list[dict[str, Any]]:
    """The design rows as {key: value}, in a fixed order for a given spec."""
    names = list(spec.vary)
    kind = spec.design.kind
    if kind == "grid":
        axes = []
        for v in spec.vary.values():
            if isinstance(v, Range):
                axes.append([float(x) for x in np.linspace(v.low, v.high, v.levels or 2)])
            else:
                axes.append(list(v))
        return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*axes)]
    n = int(spec.design.samples or 1)
    problem = _problem(spec)
    if kind == "lhs":
        from scipy.stats import qmc

        unit = qmc.LatinHypercube(d=len(names), seed=np.random.default_rng(spec.seed)).random(n)
        lo = np.array([b[0] for b in problem["bounds"]])
        hi = np.array([b[1] for b in problem["bounds"]])
        x = qmc.scale(unit, lo, hi) if len(names) else unit
    elif kind == "sobol":
        import warnings

        from SALib.sample import sobol

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            x = sobol.sample(problem, n, calc_second_order=spec.design.second_order,
                             seed=spec.seed % 2**32)
    else:
        from SALib.sample import morris

        x = morris.sample(problem, n, num_levels=spec.design.num_levels, seed=spec.seed % 2**32)
    return [{k: float(val) for k, val in zip(names, r, strict=True)} for r in x]


# -- the plan: every run with its seed, and a hash of what makes the runs ------------------------

@dataclass
class RunTask:
    """One run: design row, replication, seed and the varied values."""

    run_id: str
    row: int
    rep: int
    seed: int
    params: dict[str, Any]


@dataclass
class Plan:
    """A validated sweep: base scenario, design rows, runs and the hash of what they compute."""

    spec: SweepSpec
    spec_text: str
    base: Scenario
    steps: int
    rows: list[dict[str, Any]]
    runs: list[RunTask] = field(default_factory=list)
    plan_hash: str = ""

    @property
    def varied(self) -> list[str]:
        return list(self.spec.vary)


def _get_dotted(data: dict, key: str) -> Any:
    node: Any = data
    for p in key.split("."):
        if not isinstance(node, dict) or p not in node:
            return None
        node = node[p]
    return node


def _schema_key_problem(key: str) -> str | None:
    """Why a dotted key names no scenario field ('allowed here: ...'), or None if it does."""
    import difflib

    model: type[BaseModel] = Scenario
    parts = key.split(".")
    for i, part in enumerate(parts):
        fields = model.model_fields
        if part not in fields:
            close = difflib.get_close_matches(part, list(fields), n=1)
            hint = f"did you mean {'.'.join([*parts[:i], close[0]])!r}? " if close else ""
            return f"{hint}allowed here: {', '.join(fields)}"
        ann = fields[part].annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            model = ann
            continue
        # a table of names (process.steps.billing) takes one more part; a value takes none
        rest = len(parts) - i - 1
        if rest > (1 if "dict[" in str(ann) else 0):
            return f"{'.'.join(parts[:i + 1])} is a value, not a section"
        return None
    return f"{key} is a section; name one of its fields"


def make_plan(spec: SweepSpec, spec_text: str = "",
              overrides: dict[str, Any] | None = None) -> Plan:
    """Resolve the base scenario, draw the design, check every row, spawn every seed.

    Every row's scenario is validated here, before anything is launched (staffing included),
    so a spec whose rows cannot run is refused with the row, the field and what is allowed.
    `overrides` (from `--set`) apply to the base scenario after the spec's own.
    """
    try:
        base = load_scenario(spec.scenario, spec.overrides or None)
        if overrides:
            base = base.with_overrides(overrides, source="--set")
    except ScenarioError as exc:
        raise SweepError(f"scenario: {exc}") from None
    steps = spec.steps if spec.steps is not None else base.steps
    try:
        base = base.with_overrides({"steps": steps}, source="sweep steps")
    except ScenarioError as exc:
        raise SweepError(str(exc)) from None
    base_dict = base.to_dict()
    for key in spec.vary:
        if key.split(".")[0] in ("steps", "seed", "name", "description", "extends", "events"):
            raise SweepError(f"vary.{key}: cannot be varied; use the spec's steps/seed fields")
        problem = _schema_key_problem(key)
        if problem:
            raise SweepError(f"vary.{key}: no such scenario key; {problem}")
    rows = design_matrix(spec)
    for i, row in enumerate(rows):
        for key, val in row.items():
            cur = _get_dotted(base_dict, key)
            if isinstance(cur, int) and not isinstance(cur, bool) and isinstance(val, float):
                row[key] = int(round(val))
        try:
            base.with_overrides(row, source=f"design row {i}")
        except ScenarioError as exc:
            shown = ", ".join(f"{k} = {v!r}" for k, v in row.items())
            detail = str(exc).removeprefix(f"design row {i}: ")
            raise SweepError(f"vary: design row {i} ({shown}) cannot run: {detail}; nothing "
                             f"was launched") from None
    plan = Plan(spec, spec_text, base, steps, rows)
    width = max(5, len(str(len(rows) - 1)))
    rwidth = max(3, len(str(spec.replications - 1)))
    for i, row in enumerate(rows):
        for k in range(spec.replications):
            plan.runs.append(RunTask(f"r{i:0{width}d}-k{k:0{rwidth}d}", i, k,
                                     run_seed(spec.seed, i, k, spec.common_random_numbers),
                                     row))
    blob = json.dumps({"base": base_dict, "record": spec.record, "engine": spec.engine,
                       "runs": [(r.run_id, r.seed, r.params) for r in plan.runs]},
                      sort_keys=True, default=str).encode()
    plan.plan_hash = hashlib.sha256(blob).hexdigest()[:16]
    return plan


# -- one run, on a worker ----------------------------------------------------------------------

def execute_run(base: dict[str, Any], task: dict[str, Any], record: str,
                engine: str, cache: str | None = None) -> pd.DataFrame:
    """Run one task on a worker; a model error becomes a one-row table with status 'failed'.

    With `cache` (a folder, `cxsim.cache`), the run forks from its cached burn-in when one
    with the same key exists (a re-run, more replications, another horizon, other events).
    """
    t0 = time.perf_counter()
    ident = {c: task[c] for c in ID_COLUMNS}
    params = task["params"]
    try:
        from ..cache import start_model

        if engine == "numba":  # parallelism comes from the runs; one kernel thread each
            import numba

            numba.set_num_threads(1)
        sc = validate_scenario(base, source="sweep base").with_overrides(
            params, source=f"run {task['run_id']}")
        model, _ = start_model(sc, task["seed"], engine, parallel=False, cache=cache)
        model.run(sc.steps)
        ts = model.timeseries()
        if record == "final":
            ts = ts.iloc[[-1]].reset_index(drop=True)
        status, error = "done", ""
    except Exception as exc:  # noqa: BLE001 - a failed run is recorded, the sweep carries on
        ts = pd.DataFrame(index=[0])
        status = "failed"
        error = f"{type(exc).__name__}: {exc}"
        tb = traceback.format_exc(limit=3)
        error = error if len(tb) > 4000 else f"{error}\n{tb}"
    head = pd.DataFrame({**ident, **params, "status": status, "error": error,
                         "wall_s": time.perf_counter() - t0}, index=ts.index)
    return pd.concat([head, ts.drop(columns=[c for c in head.columns if c in ts])], axis=1)


# -- the output folder ---------------------------------------------------------------------------

def run_path(out: Path, run_id: str) -> Path:
    return out / "runs" / f"{run_id}.parquet"


def clean_partials(out: Path) -> int:
    """Remove half-written files left by a killed sweep; returns how many."""
    n = 0
    for d in (out, out / "runs"):
        if d.is_dir():
            for p in d.glob(".*.partial"):
                p.unlink(missing_ok=True)
                n += 1
    return n


def prepare_out(plan: Plan, out: Path, restart: bool = False) -> None:
    """Check `out` against the plan (refuse a changed sweep) and store the spec in it."""
    if out.exists() and not out.is_dir():
        raise SweepError(f"--out = {str(out)!r} is a file; allowed: a folder (new or existing)")
    meta_path = out / "sweep.json"
    if out.is_dir() and not meta_path.exists():
        other = sorted(p.name for p in out.iterdir() if p.name not in ("runs", "spec.toml"))
        if other:
            shown = ", ".join(other[:3]) + (", ..." if len(other) > 3 else "")
            raise SweepError(f"--out = {str(out)!r} holds files that are not a sweep's "
                             f"({shown}); allowed: a new or empty folder, or a sweep's folder "
                             "to resume")
    if meta_path.exists():
        old = json.loads(meta_path.read_text())
        if old.get("plan_hash") != plan.plan_hash:
            if not restart:
                raise SweepError(
                    f"{out} holds a different sweep (plan {old.get('plan_hash')}, this spec "
                    f"gives {plan.plan_hash}): the spec changes the runs. Use a new --out, "
                    "or --restart to discard the runs in this folder")
            for p in (out / "runs").glob("*.parquet"):
                p.unlink()
            (out / "runs.parquet").unlink(missing_ok=True)
    elif restart and (out / "runs").is_dir():
        for p in (out / "runs").glob("*.parquet"):
            p.unlink()
    (out / "runs").mkdir(parents=True, exist_ok=True)
    clean_partials(out)
    spec_hash = hashlib.sha256(plan.spec_text.encode()).hexdigest()[:16]
    write_text(out / "spec.toml", plan.spec_text)
    write_json(meta_path, {
        "name": plan.spec.name, "spec_hash": spec_hash, "plan_hash": plan.plan_hash,
        "design": plan.spec.design.model_dump(), "varied": plan.varied,
        "problem": _problem(plan.spec) if plan.spec.design.kind != "grid" else None,
        "rows": plan.rows, "replications": plan.spec.replications, "steps": plan.steps,
        "record": plan.spec.record, "engine": plan.spec.engine, "seed": plan.spec.seed,
        "outputs": plan.spec.outputs, "n_runs": len(plan.runs),
        "base_scenario": plan.base.name, "base_scenario_hash": plan.base.hash(),
    })
    write_text(out / "base_scenario.toml", plan.base.to_toml())


def finished(plan: Plan, out: Path, retry_failed: bool = False) -> set[str]:
    """Run ids whose file is complete (failed ones too, unless retry_failed)."""
    done = set()
    for r in plan.runs:
        p = run_path(out, r.run_id)
        if not p.exists():
            continue
        if retry_failed:
            st = pd.read_parquet(p, columns=["status"])["status"]
            if (st == "failed").any():
                continue
        done.add(r.run_id)
    return done


def collect(out: Path, plan: Plan | None = None) -> pd.DataFrame:
    """One row per run (its last recorded step), written atomically to OUT/runs.parquet."""
    ids = [r.run_id for r in plan.runs] if plan else sorted(
        p.stem for p in (out / "runs").glob("*.parquet"))
    frames = []
    for rid in ids:
        p = run_path(out, rid)
        if p.exists():
            df = pd.read_parquet(p)
            frames.append(df.iloc[[-1]])
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=list(ID_COLUMNS) + list(STATUS_COLUMNS))
    write_with(out / "runs.parquet", lambda p: table.to_parquet(p, index=False))
    return table


@dataclass
class SweepSummary:
    """What a sweep did."""

    total: int
    skipped: int
    ran: int
    done: int
    failed: int
    wall_s: float
    table: pd.DataFrame


def make_client(workers: int = 1, scheduler: str | None = None) -> Any:
    """A Dask client: on `scheduler` if given, else on an embedded LocalCluster of processes."""
    from distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler, timeout="20s")
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                           dashboard_address=None)
    return Client(cluster)


def execute(plan: Plan, out: Path, todo: list[RunTask], workers: int = 1,
            scheduler: str | None = None,
            on_result: Callable[[str], None] | None = None,
            cache: CacheArg = True) -> tuple[int, int]:
    """Run `todo` on Dask and write each result as it arrives; returns (done, failed).

    `cache`: the burn-in cache (`cxsim.cache`; default the user's), None or False for none.
    """
    from distributed import as_completed

    if not todo:
        return 0, 0
    done = failed = 0
    base = plan.base.to_dict()
    folder = resolve(cache)
    where = str(folder) if folder is not None else None
    client = make_client(workers, scheduler)
    try:
        futures = {}
        for t in todo:
            task = {"run_id": t.run_id, "row": t.row, "rep": t.rep, "seed": t.seed,
                    "params": t.params}
            fut = client.submit(execute_run, base, task, plan.spec.record, plan.spec.engine,
                                where, key=f"cxsim-run-{plan.plan_hash}-{t.run_id}", pure=False)
            futures[fut] = t
        for fut in as_completed(futures):
            t = futures[fut]
            try:
                df = fut.result()
            except Exception as exc:  # noqa: BLE001 - e.g. KilledWorker: record and carry on
                df = pd.DataFrame({"run_id": [t.run_id], "row": t.row, "rep": t.rep,
                                   "seed": t.seed, **{k: [v] for k, v in t.params.items()},
                                   "status": "failed",
                                   "error": f"{type(exc).__name__}: {exc}", "wall_s": np.nan})
            status = str(df["status"].iloc[-1])
            write_with(run_path(out, t.run_id), lambda p, df=df: df.to_parquet(p, index=False))
            fut.release()
            if status == "done":
                done += 1
            else:
                failed += 1
            if on_result:
                on_result(status)
    finally:
        cluster = getattr(client, "cluster", None)
        client.close()
        if cluster is not None and scheduler is None:
            cluster.close()
    return done, failed


def run_sweep(spec_path: str | os.PathLike, out: str | os.PathLike, workers: int = 1,
              scheduler: str | None = None, restart: bool = False, retry_failed: bool = False,
              on_start: Callable[[int, int], None] | None = None,
              on_result: Callable[[str], None] | None = None,
              overrides: dict[str, Any] | None = None,
              cache: CacheArg = True) -> SweepSummary:
    """Plan, check the folder, run what is not finished, collect runs.parquet (`cache`: see
    `execute`)."""
    t0 = time.perf_counter()
    spec, text = load_spec(spec_path)
    plan = make_plan(spec, text, overrides)
    out = Path(out)
    prepare_out(plan, out, restart)
    skip = finished(plan, out, retry_failed)
    todo = [r for r in plan.runs if r.run_id not in skip]
    if on_start:
        on_start(len(plan.runs), len(skip))
    execute(plan, out, todo, workers, scheduler, on_result, cache)
    table = collect(out, plan)
    n_failed = int((table["status"] == "failed").sum()) if len(table) else 0
    n_done = int((table["status"] == "done").sum()) if len(table) else 0
    return SweepSummary(len(plan.runs), len(skip), len(todo), n_done, n_failed,
                        time.perf_counter() - t0, table)
