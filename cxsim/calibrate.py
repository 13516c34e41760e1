"""Fit a scenario to a client's figures: ABC-SMC (pyABC) on Dask, resumable from its history.

``cxsim calibrate SCENARIO --targets targets.csv --params KEY,KEY --out DIR`` draws the named
parameters from uniform priors over their range in the scenario schema (or a narrower range
given as ``KEY=LOW:HIGH``), runs the scenario for each draw (its burn-in, then
``calibration.weeks`` weeks without its events) and compares the *measured* figures of that
year (`cxsim.targets`) with the client's. The distance is the Euclidean norm of the misses in
units of each target's sd, so every figure counts by how precisely the client knows it. pyABC's
sequential Monte Carlo narrows the tolerance generation by generation.

Simulations run on the same Dask machinery as `sweep` (an embedded LocalCluster, or an
existing scheduler) through pyABC's DaskDistributedSampler. pyABC's SQLite history in
``DIR/history.db`` is the record of the fit: a calibration that was stopped resumes from its
last finished generation when run again with the same inputs.

At the end come the outputs (`cxsim.fit_report`), each written atomically:
``posterior.parquet`` (one row per particle, with its weight and its simulated figures),
``predictive.parquet`` (fresh runs at draws from the posterior), ``calibrated.toml``
(SCENARIO with the posterior medians, pointing at DIR), ``fit.png``, ``posterior.png`` and
``report.md`` (what is identified, what is not, which targets the model cannot reach).

Reproducibility: a given parameter draw always runs with the same model seed (hashed from the
root seed and the values), but pyABC's Dask sampler seeds each job's proposals from the
operating system, so two calibrations give statistically equivalent, not identical,
posteriors.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel

from .io import write_json, write_with
from .scenario import Scenario, ScenarioError, load_scenario, resolve_path
from .targets import Target, load_targets, statistics, targets_frame

#: defaults: 4 parameters and 6 targets at the default size finish well inside an hour on
#: two cores (docs/calibration.md, benchmarks/bench_calibration_recovery.py)
DEFAULT_POPULATION = 200
DEFAULT_BUDGET = 3000
DEFAULT_GENERATIONS = 8
DEFAULT_PREDICTIVE = 40


class CalibrationError(ValueError):
    """Bad input to a calibration (the CLI prints it and exits with code 2)."""

    def __init__(self, message: str):
        super().__init__(str(message).replace("\r", "\\r").replace("\n", "\\n"))


# -- parameters and priors ----------------------------------------------------------------------

@dataclass(frozen=True)
class Prior:
    """A parameter to fit: its dotted key, uniform prior range and where the range came from."""

    key: str
    low: float
    high: float
    given: bool = False  # range given on the command line (else the schema's)

    @property
    def width(self) -> float:
        return self.high - self.low


def _float_fields(model: type[BaseModel] = Scenario, prefix: str = "") -> dict[str, Any]:
    """Every number field of the schema (dotted key -> FieldInfo), sections walked."""
    out: dict[str, Any] = {}
    for name, f in model.model_fields.items():
        ann = f.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out |= _float_fields(ann, f"{prefix}{name}.")
        else:
            out[prefix + name] = f
    return out


def _schema_bounds(info: Any) -> tuple[float, float]:
    lo, hi = -math.inf, math.inf
    for m in info.metadata:
        for attr in ("ge", "gt"):
            if getattr(m, attr, None) is not None:
                lo = float(getattr(m, attr))
        for attr in ("le", "lt"):
            if getattr(m, attr, None) is not None:
                hi = float(getattr(m, attr))
    return lo, hi


def resolve_key(name: str) -> str:
    """A dotted scenario key from a key or a field name unique in the schema."""
    fields = _float_fields()
    if name in fields:
        return name
    matches = [k for k in fields if k.split(".")[-1] == name]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise CalibrationError(f"--params: {name!r} names several fields "
                               f"({', '.join(matches)}); give the dotted key")
    import difflib

    close = difflib.get_close_matches(name, list(fields), n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise CalibrationError(f"--params: {name!r} is not a scenario field; {hint}allowed: a "
                           "number field such as levers.empowerment (docs/parameters.md)")


def parse_params(text: str) -> list[Prior]:
    """`--params` as priors: ``KEY[=LOW:HIGH],...``; uniform over the schema range by default.

    >>> [p.key for p in parse_params("empowerment,churn.base=0.001:0.01")]
    ['levers.empowerment', 'churn.base']
    """
    items = [s.strip() for s in str(text).split(",") if s.strip()]
    if not items:
        raise CalibrationError("--params: name at least one parameter, e.g. "
                               "--params levers.empowerment,churn.base=0.001:0.01")
    fields = _float_fields()
    out: list[Prior] = []
    for item in items:
        name, sep, rng = item.partition("=")
        key = resolve_key(name.strip())
        info = fields[key]
        if info.annotation is not float:
            raise CalibrationError(f"--params: {key} is not a number field (it is "
                                   f"{getattr(info.annotation, '__name__', info.annotation)}); "
                                   "allowed: a number field such as levers.empowerment")
        lo, hi = _schema_bounds(info)
        if sep:
            m = re.fullmatch(r"\s*([-+0-9.eE]+)\s*:\s*([-+0-9.eE]+)\s*", rng)
            try:
                glo, ghi = (float(m.group(1)), float(m.group(2))) if m else (None, None)
            except ValueError:
                glo = ghi = None
            if glo is None or ghi is None or not (math.isfinite(glo) and math.isfinite(ghi)):
                raise CalibrationError(f"--params: {item!r}: expected KEY=LOW:HIGH, e.g. "
                                       f"{key}=0.2:0.8")
            if not glo < ghi:
                raise CalibrationError(f"--params: {item!r}: LOW = {glo:g} must be below "
                                       f"HIGH = {ghi:g}")
            if glo < lo or ghi > hi:
                raise CalibrationError(f"--params: {item!r} leaves the range of {key}; "
                                       f"allowed: {lo:g} .. {hi:g}")
            lo, hi, given = glo, ghi, True
        else:
            given = False
            if not (math.isfinite(lo) and math.isfinite(hi)):
                raise CalibrationError(f"--params: {key} has no finite range in the schema "
                                       f"({lo:g} .. {hi:g}); allowed: give one as "
                                       f"{key}=LOW:HIGH")
        if any(p.key == key for p in out):
            raise CalibrationError(f"--params: {key} is named twice; name each parameter once")
        out.append(Prior(key, lo, hi, given))
    return out


# -- one simulation, on a worker ----------------------------------------------------------------

def particle_seed(root: int, values: dict[str, float]) -> int:
    """The model seed of a parameter draw: the same values always run with the same seed."""
    blob = json.dumps([root, sorted((k, float(v)) for k, v in values.items())]).encode()
    return int.from_bytes(hashlib.sha256(blob).digest()[:8], "little") >> 1


def calibration_scenario(sc: Scenario, values: dict[str, float] | None = None) -> Scenario:
    """The scenario a calibration runs: `values` set, `calibration.weeks` weeks, no events."""
    over: dict[str, Any] = {"steps": sc.calibration.weeks, "events": []}
    over.update(values or {})
    return sc.with_overrides(over, source="calibration")


def simulate(base: dict[str, Any], values: dict[str, float], targets: list[Target],
             seed: int, engine: str = "numba") -> dict[str, float]:
    """Run `base` with `values` for its calibration year; the targets' figures (measured)."""
    from .model import CXModel

    if engine == "numba":  # parallelism comes from the simulations; one kernel thread each
        import numba

        numba.set_num_threads(1)
    sc = calibration_scenario(Scenario.model_validate(base), values)
    model = CXModel(sc, seed=seed, engine=engine, parallel=False, create_agents=False)
    model.run(sc.steps)
    units = None
    if any(t.unit is not None for t in targets):
        from .experiments.run import unit_table

        units = unit_table(model)
    return statistics(model.timeseries(), targets, sc.n_colleagues, units)


@dataclass
class Simulator:
    """pyABC's model: parameters in, the targets' figures out (a picklable callable)."""

    base: dict[str, Any]
    targets: list[Target]
    seed: int
    engine: str = "numba"

    def __call__(self, pars: Any) -> dict[str, float]:
        values = {k: float(pars[k]) for k in pars}
        stats = simulate(self.base, values, self.targets, particle_seed(self.seed, values),
                         self.engine)
        # a figure with no answers cannot be compared: a miss far outside any tolerance
        return {k: (v if math.isfinite(v) else 1e12) for k, v in stats.items()}


# -- the calibration ----------------------------------------------------------------------------

@dataclass
class Settings:
    """How hard to look: particles per generation, simulation budget, generations."""

    population: int = DEFAULT_POPULATION
    budget: int = DEFAULT_BUDGET
    generations: int = DEFAULT_GENERATIONS
    min_acceptance: float = 0.005
    predictive: int = DEFAULT_PREDICTIVE
    seed: int | None = None  # default: the scenario's
    engine: str = "numba"


@dataclass
class Problem:
    """A validated calibration: scenario, where it came from, targets, priors, settings."""

    scenario: Scenario
    scenario_ref: str  # a built-in name, or the absolute path of the file
    targets_path: Path
    targets: list[Target]
    priors: list[Prior]
    settings: Settings = field(default_factory=Settings)

    @property
    def seed(self) -> int:
        return self.scenario.seed if self.settings.seed is None else int(self.settings.seed)

    def fingerprint(self) -> str:
        """A hash of what the fit depends on: a folder resumes only the same calibration."""
        blob = json.dumps({"scenario": calibration_scenario(self.scenario).to_dict(),
                           "targets": [asdict(t) for t in self.targets],
                           "priors": [asdict(p) for p in self.priors],
                           "population": self.settings.population, "seed": self.seed,
                           "engine": self.settings.engine}, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def make_problem(scenario: str, targets: str | Path, params: str,
                 settings: Settings | None = None) -> Problem:
    """Load and check everything before any simulation; CalibrationError says what is wrong."""
    from .targets import TargetsError

    settings = settings or Settings()
    try:
        sc = load_scenario(scenario)
        path = resolve_path(scenario)
        calibration_scenario(sc)  # the calibration year must be a valid run
    except ScenarioError as exc:
        raise CalibrationError(str(exc)) from None
    ref = scenario if scenario in _builtin_names() and not Path(scenario).is_file() \
        else str(path.resolve())
    try:
        tg = load_targets(targets, sc, lambda: unit_labels(sc))
    except TargetsError as exc:
        raise CalibrationError(str(exc)) from None
    priors = parse_params(params)
    for p in priors:  # every corner of the prior box must be a valid scenario
        for v in (p.low, p.high):
            try:
                sc.with_overrides({p.key: v}, source=f"--params {p.key}")
            except ScenarioError as exc:
                raise CalibrationError(str(exc)) from None
    if settings.population < 10:
        raise CalibrationError(f"--population = {settings.population}; allowed: 10 or more")
    if settings.budget < 2 * settings.population:
        raise CalibrationError(f"--budget = {settings.budget}: fewer simulations than two "
                               f"generations of {settings.population}; allowed: at least "
                               f"{2 * settings.population}")
    return Problem(sc, ref, Path(targets), tg, priors, settings)


def unit_labels(sc: Scenario) -> list[str]:
    """Labels of the front-line units a unit target may name: the org chart's team names, or
    the team numbers of a generated organisation (as in units.csv)."""
    from .constants import FRONTLINE
    from .networks import build_organisation

    org = build_organisation(sc, np.random.default_rng(0))
    front = np.unique(org.team[org.role == FRONTLINE])
    names = getattr(org, "team_names", None)
    return [str(names[i]) if names is not None else str(int(i)) for i in front]


def _builtin_names() -> set[str]:
    from .scenario import builtin_scenarios

    return set(builtin_scenarios())


class _CountingClient:
    """The Dask client as pyABC's sampler sees it, counting the simulations it submits (for
    progress within a long generation)."""

    def __init__(self, client: Any):
        self._client = client
        self.submitted = 0

    def submit(self, *args: Any, **kwargs: Any) -> Any:
        self.submitted += 1
        return self._client.submit(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def _abcsmc(problem: Problem, client: Any) -> Any:
    """The pyABC set-up: uniform priors, sd-scaled Euclidean distance, the Dask sampler."""
    import pyabc
    from pyabc.sampler import DaskDistributedSampler

    prior = pyabc.Distribution(**{p.key: pyabc.RV("uniform", p.low, p.width)
                                  for p in problem.priors})
    weights = {t.key: 1.0 / t.sd for t in problem.targets}
    model = Simulator(problem.scenario.to_dict(), problem.targets, problem.seed,
                      problem.settings.engine)
    sampler = DaskDistributedSampler(dask_client=client, batch_size=1)
    return pyabc.ABCSMC(model, prior, pyabc.PNormDistance(p=2, fixed_weights=weights),
                        population_size=problem.settings.population, sampler=sampler)


@dataclass
class Generation:
    """One finished generation, as progress reports it."""

    t: int
    epsilon: float
    accepted: int
    simulations: int

    @property
    def acceptance_rate(self) -> float:
        return self.accepted / self.simulations if self.simulations else float("nan")


class _Progress(logging.Handler):
    """Reads pyABC's log ("t: 3, eps: ...", "Accepted: 200 / 812 = ...") into Generations,
    and says every `every` seconds how many simulations the running generation has sent."""

    def __init__(self, on_generation: Callable[[Generation], None] | None,
                 on_tick: Callable[[int, int, float], None] | None = None,
                 counter: _CountingClient | None = None, every: float = 30.0):
        super().__init__(logging.INFO)
        self.on_generation, self.on_tick, self.counter = on_generation, on_tick, counter
        self.t, self.eps = -1, float("nan")
        self.start_count, self.start_time = 0, time.perf_counter()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if on_tick is not None and counter is not None:
            self._thread = threading.Thread(target=self._tick, args=(every,), daemon=True)
            self._thread.start()

    def _tick(self, every: float) -> None:
        while not self._stop.wait(every):
            if self.t >= 0 and self.on_tick and self.counter:
                self.on_tick(self.t, self.counter.submitted - self.start_count,
                             time.perf_counter() - self.start_time)

    def stop(self) -> None:
        self._stop.set()

    def emit(self, record: logging.LogRecord) -> None:
        msg = record.getMessage()
        m = re.match(r"t: (\d+), eps: ([-+0-9.eEinfa]+)", msg)
        if m:
            self.t, self.eps = int(m.group(1)), float(m.group(2).rstrip("."))
            self.start_count = self.counter.submitted if self.counter else 0
            self.start_time = time.perf_counter()
            return
        m = re.match(r"Accepted: (\d+) / (\d+)", msg)
        if m and self.on_generation is not None:
            self.on_generation(Generation(self.t, self.eps, int(m.group(1)), int(m.group(2))))


def prepare_out(problem: Problem, out: Path, restart: bool = False) -> bool:
    """Check DIR for this calibration; True when it holds generations to resume from."""
    if out.exists() and not out.is_dir():
        raise CalibrationError(f"--out = {str(out)!r} is a file; allowed: a folder (new, or "
                               "one of this calibration's to resume)")
    meta = out / "calibration.json"
    db = out / "history.db"
    if out.is_dir() and not meta.exists():
        other = sorted(p.name for p in out.iterdir())
        if other:
            shown = ", ".join(other[:3]) + (", ..." if len(other) > 3 else "")
            raise CalibrationError(f"--out = {str(out)!r} holds files that are not a "
                                   f"calibration's ({shown}); allowed: a new or empty folder, "
                                   "or a calibration's folder to resume")
    if meta.exists():
        old = json.loads(meta.read_text())
        if old.get("fingerprint") != problem.fingerprint():
            if not restart:
                raise CalibrationError(
                    f"--out = {str(out)!r} holds a different calibration (scenario, targets, "
                    "parameters, population or seed changed); allowed: a new --out, or "
                    "--restart to discard it")
        if restart:
            for p in out.iterdir():
                if p.is_file():
                    p.unlink()
    out.mkdir(parents=True, exist_ok=True)
    if db.exists() and _finished_generations(db) == 0:
        db.unlink()  # stopped before its first generation: nothing to resume, start afresh
    return db.exists()


def _finished_generations(db: Path) -> int:
    import sqlite3

    try:
        with sqlite3.connect(db) as con:
            row = con.execute("select count(*) from populations where t >= 0").fetchone()
            return int(row[0])
    except sqlite3.Error:
        return 0


@dataclass
class Result:
    """What a calibration produced (the history is in DIR/history.db)."""

    posterior: pd.DataFrame  # one row per particle: parameters, weight, distance, figures
    predictive: pd.DataFrame  # fresh runs at posterior draws: draw, parameters, figures
    generations: pd.DataFrame  # t, epsilon, samples, particles, acceptance_rate
    resumed_from: int
    wall_s: float
    total_simulations: int
    stopped: str = ""


def run_calibration(problem: Problem, out: str | Path, workers: int = 1,
                    scheduler: str | None = None, restart: bool = False,
                    on_start: Callable[[int], None] | None = None,
                    on_generation: Callable[[Generation], None] | None = None,
                    max_generations: int | None = None, client: Any = None,
                    on_tick: Callable[[int, int, float], None] | None = None) -> Result:
    """Run (or resume) the fit in `out`, then write every output file.

    `max_generations` stops after that many new generations; the settings' generations and
    budget still bound the whole fit. `client`: a Dask client to use (and leave open), e.g.
    one shared by many calibrations; by default one is made from `workers` or `scheduler`.
    `on_tick(generation, simulations, seconds)` is called every 30 s within a generation.
    """
    from .experiments.sweep import make_client

    t0 = time.perf_counter()
    out = Path(out)
    resume = prepare_out(problem, out, restart)
    write_json(out / "calibration.json", _meta(problem))
    write_with(out / "targets.csv", lambda p: targets_frame(problem.targets).to_csv(
        p, index=False))
    db = out / "history.db"
    done = _finished_generations(db) if resume else 0
    if on_start:
        on_start(done)
    own_client = client is None
    client = make_client(workers, scheduler) if own_client else client
    import pyabc  # noqa: F401 - imported first: it installs its log handler on import

    counting = _CountingClient(client)
    handler = _Progress(on_generation, on_tick, counting)
    logger = logging.getLogger("ABC")
    old_level, old_handlers = logger.level, list(logger.handlers)
    for h in old_handlers:  # pyABC's own log lines: progress says it in one line per generation
        logger.removeHandler(h)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    for name in ("ABC.Sampler", "ABC.History", "ABC.Population", "ABC.Distance"):
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        np.random.seed(problem.seed % 2**32)
        abc = _abcsmc(problem, counting)
        if resume:
            abc.load(f"sqlite:///{db}", 1)
        else:
            abc.new(f"sqlite:///{db}", {t.key: t.value for t in problem.targets},
                    meta_info={"fingerprint": problem.fingerprint()})
        left = problem.settings.generations - done
        if max_generations is not None:
            left = min(left, max_generations)
        history = abc.history
        if left > 0 and history.total_nr_simulations < problem.settings.budget:
            history = abc.run(max_nr_populations=left,
                              max_total_nr_simulations=problem.settings.budget,
                              min_acceptance_rate=problem.settings.min_acceptance)
        posterior = posterior_table(history, problem)
        predictive = run_predictive(problem, posterior, client)
        generations = generations_table(history)
        total = int(history.total_nr_simulations)
    finally:
        handler.stop()
        logger.removeHandler(handler)
        for h in old_handlers:
            logger.addHandler(h)
        logger.setLevel(old_level)
        if own_client:
            _close(client, scheduler)
    from .fit_report import write_outputs

    res = Result(posterior, predictive, generations, done, time.perf_counter() - t0, total,
                 _stop_reason(problem, generations, total))
    write_outputs(out, problem, res)
    return res


def _close(client: Any, scheduler: str | None) -> None:
    """Close the client (and the embedded cluster): a worker still finishing a simulation
    pyABC no longer needs is stopped without a warning."""
    nanny = logging.getLogger("distributed.nanny")
    level = nanny.level
    nanny.setLevel(logging.ERROR)
    try:
        cluster = getattr(client, "cluster", None)
        client.close(timeout=20)  # after Ctrl-C workers may be mid-simulation: do not wait
        if cluster is not None and scheduler is None:
            cluster.close(timeout=20)
    finally:
        nanny.setLevel(level)


def _meta(problem: Problem) -> dict[str, Any]:
    return {"fingerprint": problem.fingerprint(), "scenario": problem.scenario_ref,
            "scenario_name": problem.scenario.name,
            "targets": [asdict(t) for t in problem.targets],
            "params": [asdict(p) for p in problem.priors],
            "settings": asdict(problem.settings), "seed": problem.seed,
            "weeks": problem.scenario.calibration.weeks}


def _stop_reason(problem: Problem, gens: pd.DataFrame, total: int) -> str:
    s = problem.settings
    if len(gens) >= s.generations:
        return f"{s.generations} generations reached"
    if total >= s.budget:
        return f"budget of {s.budget} simulations spent"
    if len(gens) and gens["acceptance_rate"].iloc[-1] < s.min_acceptance:
        return f"acceptance rate below {s.min_acceptance}"
    return "stopped early (resume by running the same command again)"


def posterior_table(history: Any, problem: Problem) -> pd.DataFrame:
    """The last generation: one row per particle, parameters, weight, distance, figures."""
    pop = history.get_population_extended(m=0, t=history.max_t).reset_index()
    keys = [p.key for p in problem.priors]
    df = pop.rename(columns={"particle_id": "particle", "w": "weight",
                             **{f"par_{k}": k for k in keys}})
    df.columns = [c.replace("sumstat_", "sim_", 1) for c in df.columns]
    df["weight"] = df["weight"] / df["weight"].sum()
    df.insert(1, "generation", int(history.max_t))
    cols = ["particle", "generation", *keys, "weight", "distance"]
    return df[cols + [c for c in df.columns if c not in cols]].reset_index(drop=True)


def generations_table(history: Any) -> pd.DataFrame:
    """t, epsilon, simulations, particles and acceptance rate of every generation."""
    pops = history.get_all_populations()
    pops = pops[pops["t"] >= 0].copy()
    pops["acceptance_rate"] = pops["particles"] / pops["samples"]
    return pops[["t", "epsilon", "samples", "particles", "acceptance_rate"]].reset_index(
        drop=True)


def weighted_quantile(x: np.ndarray, w: np.ndarray, q: float | list[float]) -> np.ndarray:
    """Quantiles of a weighted sample (the weighted empirical distribution, midpoints).

    >>> float(weighted_quantile(np.array([1.0, 2.0, 3.0]), np.ones(3), 0.5))
    2.0
    """
    order = np.argsort(x)
    x, w = np.asarray(x, float)[order], np.asarray(w, float)[order]
    cw = (np.cumsum(w) - 0.5 * w) / w.sum()
    return np.interp(q, cw, x)


def draw_posterior(posterior: pd.DataFrame, keys: list[str], n: int,
                   seed: int) -> list[dict[str, float]]:
    """`n` parameter sets resampled from the particles by weight, with a fixed seed."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0xCA11B]))
    w = posterior["weight"].to_numpy(float)
    idx = rng.choice(len(posterior), size=n, replace=True, p=w / w.sum())
    return [{k: float(posterior[k].iloc[i]) for k in keys} for i in idx]


def run_predictive(problem: Problem, posterior: pd.DataFrame, client: Any) -> pd.DataFrame:
    """Fresh runs at `settings.predictive` posterior draws (new seeds): the posterior
    predictive distribution of every target."""
    keys = [p.key for p in problem.priors]
    n = problem.settings.predictive
    draws = draw_posterior(posterior, keys, n, problem.seed)
    seeds = [int(s.generate_state(1)[0]) for s in
             np.random.SeedSequence([problem.seed, 0x9BED]).spawn(n)]
    base = problem.scenario.to_dict()
    futures = [client.submit(simulate, base, d, problem.targets, s, problem.settings.engine,
                             pure=False) for d, s in zip(draws, seeds, strict=True)]
    rows = []
    for i, (d, fut) in enumerate(zip(draws, futures, strict=True)):
        rows.append({"draw": i, "seed": seeds[i], **d, **fut.result()})
    return pd.DataFrame(rows)


def synthetic_targets(sc: Scenario, values: dict[str, float], metrics: list[str],
                      seed: int, reps: int = 8, engine: str = "numba") -> list[Target]:
    """A synthetic client made from known parameter values: the figures of one run (the
    client's year) as targets, each with the sd of that figure over `reps` other seeds (the
    noise a real client's figure carries), for recovery tests and benchmarks."""
    probe = [Target(m, 0.0, 1.0) for m in metrics]
    base = sc.to_dict()
    seeds = [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(seed).spawn(reps + 1)]
    runs = pd.DataFrame([simulate(base, values, probe, s, engine) for s in seeds])
    from .targets import SD_FLOOR

    out = []
    for m in metrics:
        x = runs[m].to_numpy(float)
        floor = SD_FLOOR[m][0]
        out.append(Target(m, float(x[0]), max(float(np.std(x[1:], ddof=1)), floor)))
    return out


def recover(scenario: str, truth: dict[str, float], metrics: list[str], params: str,
            seed: int, out: str | Path, settings: Settings | None = None, workers: int = 1,
            scheduler: str | None = None, reps: int = 8, client: Any = None) -> pd.DataFrame:
    """Recovery check: a synthetic client from `truth`, calibrated; the parameter table with
    the true values and whether each lies inside its 90% interval.

    Run it before fitting a real client: a parameter the targets cannot recover from a
    synthetic client will not be learnt from the real one either.
    """
    from .targets import write_targets

    out = Path(out)
    sc = load_scenario(scenario)
    targets = synthetic_targets(calibration_scenario(sc), truth, metrics, seed, reps)
    out.mkdir(parents=True, exist_ok=True)
    write_targets(out / "synthetic_targets.csv", targets)
    settings = settings or Settings()
    settings.seed = seed
    problem = make_problem(scenario, out / "synthetic_targets.csv", params, settings)
    from .fit_report import parameter_table

    res = run_calibration(problem, out / "fit", workers, scheduler, client=client)
    table = parameter_table(problem, res.posterior)
    table["truth"] = [truth[k] for k in table["parameter"]]
    table["inside"] = (table["ci90_low"] <= table["truth"]) & (table["truth"]
                                                              <= table["ci90_high"])
    table["simulations"] = res.total_simulations
    table["wall_s"] = res.wall_s
    return table
