"""The burn-in cache: burn in once per (what the burn-in depends on, seed), fork every run.

Every run of `compare`, `sweep` and `explain` starts with ``burn_in`` weeks (104 by default)
that run the scenario's levers and behavioural parameters *without* its events. Scenarios
that differ only in their events, horizon, name or description therefore share the burn-in:
it is run once, saved (`cxsim.checkpoint`) under a key that hashes exactly what it depends on,
and every later run loads that state and continues under its own scenario. The numbers are
the same as without the cache (tested bit for bit).

The key (`burn_in_inputs`) hashes the scenario without ``name``, ``description``,
``extends``, ``steps``, ``seed`` and ``events`` (the build and the burn-in read none of
these: a digital launch by event redeploys staff when it fires, it does not build another
organisation); the contents of an organisation file; the seed; the engine; and the code:
cxsim's version and a hash of its source files, numpy's and numba's versions and the state
file format. Any change to the rules therefore misses the cache instead of reusing a stale
state. Should the build ever read an event again, its key must say so (the bit-for-bit test
of `compare` with a digital launch would catch it).

The cache is a folder of state files the user can clear (``cxsim cache clear``): by default
``$CXSIM_CACHE_DIR``, else ``$XDG_CACHE_HOME/cxsim/burn_in``, else ``~/.cache/cxsim/burn_in``.
Several processes may ask for the same burn-in at once: files are written aside and renamed
into place, and a lock file per key makes the others wait for the first and load its state
(without ``fcntl``, they each build it, and the last rename wins: same bytes).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata as md
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .checkpoint import FORMAT_VERSION, SUFFIX, CheckpointError

if TYPE_CHECKING:
    from .model import CXModel
    from .scenario import Scenario

ENV = "CXSIM_CACHE_DIR"
#: what a function taking ``cache=`` accepts: True (the default folder), False or None (no
#: cache) or a folder
CacheArg = bool | str | os.PathLike | None
#: scenario fields the burn-in does not read (it runs without events; the seed is keyed as
#: the model's seed, which may differ from the scenario's)
NOT_BURN_IN = ("name", "description", "extends", "steps", "seed", "events")


def default_dir() -> Path:
    """``$CXSIM_CACHE_DIR``, else ``$XDG_CACHE_HOME/cxsim/burn_in``, else ~/.cache/..."""
    env = os.environ.get(ENV)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "cxsim" / "burn_in"


def resolve(cache: CacheArg) -> Path | None:
    """The cache folder for a ``cache=`` argument, or None for no cache."""
    if cache is True:
        return default_dir()
    if cache is None or cache is False:
        return None
    return Path(cache).expanduser()


@functools.cache
def code_hash() -> str:
    """Hash of cxsim's source files: a change to any rule gives new keys (no stale states)."""
    root = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for p in sorted(root.rglob("*.py")):
        h.update(p.relative_to(root).as_posix().encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def _version(pkg: str) -> str:
    try:
        return md.version(pkg)
    except md.PackageNotFoundError:
        return "missing"


def _file_hash(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def burn_in_inputs(sc: Scenario, seed: int, engine: str) -> dict[str, Any] | None:
    """Everything the burn-in's state depends on, as JSON-able data; None when it cannot be
    known (an organisation file that cannot be read: the build will say why)."""
    data = sc.to_dict()
    for key in NOT_BURN_IN:
        data.pop(key, None)
    files: dict[str, str | None] = {}
    if sc.organisation.file:
        p = Path(sc.organisation.file)
        files["organisation"] = _file_hash(p)
        if p.suffix.lower() == ".csv":
            files["nodes"] = _file_hash(p.with_name(p.stem + "_nodes.csv"))
        if files["organisation"] is None:
            return None
    return {"scenario": data, "files": files,
            "seed": int(seed), "engine": engine, "cxsim": __version__, "code": code_hash(),
            "numpy": _version("numpy"), "numba": _version("numba"),
            "format": FORMAT_VERSION}


def burn_in_key(sc: Scenario, seed: int, engine: str) -> str | None:
    """The cache key: a hash of `burn_in_inputs` (None: do not cache)."""
    inputs = burn_in_inputs(sc, seed, engine)
    if inputs is None:
        return None
    blob = json.dumps(inputs, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:32]


def fork(model: CXModel, sc: Scenario) -> CXModel:
    """Continue a burned-in `model` (at step 0) under `sc`, a scenario with the same key:
    its name, events and horizon; the levers are the ones the burn-in ran."""
    from .events import Timeline

    if model.t != 0:
        raise ValueError(f"fork needs a model at step 0 (after its burn-in), not {model.t}")
    model.scenario = sc
    model.levers = sc.levers.model_copy()
    model.timeline = Timeline(sc.events)
    return model


@contextmanager
def _lock(path: Path) -> Iterator[None]:
    """An exclusive lock on `path` (a lock file beside the state) where the OS has flock."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no lock, the rename keeps files whole
        yield
        return
    with open(path, "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


@dataclass(frozen=True)
class BurnInCache:
    """A folder of burned-in states, one file per key.

    >>> import tempfile
    >>> from cxsim.scenario import load_scenario
    >>> cache = BurnInCache(tempfile.mkdtemp())
    >>> sc = load_scenario("baseline").with_overrides({"size.customers": 300,
    ...     "size.prospects": 50, "size.colleagues": 20, "burn_in": 3, "steps": 4})
    >>> m, status = cache.model(sc, seed=1)
    >>> status, cache.model(sc.with_overrides({"steps": 9}), seed=1)[1]
    ('miss', 'hit')
    """

    root: Path

    def __init__(self, root: str | os.PathLike):
        object.__setattr__(self, "root", Path(root).expanduser())

    def path(self, key: str) -> Path:
        return self.root / f"{key}{SUFFIX}"

    def model(self, sc: Scenario, seed: int, engine: str = "numba",
              parallel: bool | str = "auto", create_agents: bool | str = False
              ) -> tuple[CXModel, str]:
        """A model of `sc` at step 0, after its burn-in, and "hit" (loaded from the cache),
        "miss" (built and saved) or "off" (not cacheable: built). `create_agents` as for
        `CXModel` (the dashboard asks for "lazy" Mesa views)."""
        from .model import PARALLEL_MIN_NODES, CXModel

        if parallel == "auto":
            parallel = sc.size.customers + sc.size.prospects >= PARALLEL_MIN_NODES
        key = burn_in_key(sc, seed, engine)
        if key is None:
            return CXModel(sc, seed=seed, engine=engine, parallel=parallel,
                           create_agents=create_agents), "off"
        path = self.path(key)
        model = self._load(path, engine, bool(parallel), create_agents)
        if model is None:
            self.root.mkdir(parents=True, exist_ok=True)
            with _lock(self.root / f"{key}.lock"):
                # built while we waited?
                model = self._load(path, engine, bool(parallel), create_agents)
                if model is None:
                    model = CXModel(sc, seed=seed, engine=engine, parallel=parallel,
                                    create_agents=create_agents)
                    model.save(path)
                    return fork(model, sc), "miss"
        return fork(model, sc), "hit"

    @staticmethod
    def _load(path: Path, engine: str, parallel: bool,
              create_agents: bool | str = False) -> CXModel | None:
        from .model import CXModel

        if not path.is_file():
            return None
        try:
            return CXModel.load(path, engine=engine, parallel=parallel,
                                create_agents=create_agents)
        except (CheckpointError, OSError):  # damaged or foreign: rebuilt and replaced
            return None

    def info(self) -> dict[str, Any]:
        """Folder, number of states and their total size in bytes."""
        files = sorted(self.root.glob(f"*{SUFFIX}")) if self.root.is_dir() else []
        return {"folder": str(self.root), "states": len(files),
                "bytes": sum(f.stat().st_size for f in files)}

    def clear(self) -> int:
        """Remove every state, lock and leftover partial file; returns the states removed."""
        if not self.root.is_dir():
            return 0
        n = 0
        for f in self.root.iterdir():
            if f.name.endswith(SUFFIX):
                n += 1
            if f.name.endswith((SUFFIX, ".lock", ".partial")) and f.is_file():
                f.unlink(missing_ok=True)
        with suppress(OSError):  # the folder goes too when nothing else is in it
            self.root.rmdir()
        return n


def start_model(sc: Scenario, seed: int, engine: str = "numba", parallel: bool | str = "auto",
                cache: CacheArg = None, create_agents: bool | str = False
                ) -> tuple[CXModel, str]:
    """A model of `sc` ready for step 0 (headless unless `create_agents`): forked from the
    burn-in cache in `cache` (see `resolve`) or built from scratch ("off"); same numbers
    either way."""
    from .model import CXModel

    root = resolve(cache)
    if root is None:
        return CXModel(sc, seed=seed, engine=engine, parallel=parallel,
                       create_agents=create_agents), "off"
    return BurnInCache(root).model(sc, seed, engine, parallel, create_agents)
