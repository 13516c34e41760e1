"""Checkpoints: a model's whole state in one file, and a model continued from it.

A saved model continues exactly as the uninterrupted one would (tested bit for bit), so a long
burn-in can be run once and every scenario that shares it forked from the file
(`cxsim.cache`). The state is saved *generically*: everything in the model's ``__dict__`` is
pickled (every array of every state record, the organisation and social network, levers,
step counter, both random generators, the timeline, the figures, the DataCollector's rows,
timings) except what is rebuilt on load, listed in `REBUILT`. A field or state array added to
the model later is saved without a change here.

File layout: one line ``CXSIM-STATE``, one line of JSON (format version, cxsim version,
engine, step, ...) readable without unpickling, then the pickle. A file of another format
version is refused with one line. Pickle runs code named in the file: load only files you or
this machine's cache wrote.

>>> import tempfile, pathlib
>>> from cxsim.model import CXModel
>>> m = CXModel("baseline", overrides={"size.customers": 500, "size.prospects": 100,
...             "size.colleagues": 30, "burn_in": 2, "steps": 4}, create_agents=False)
>>> m.run(2)
>>> path = pathlib.Path(tempfile.mkdtemp()) / "m.cxstate"
>>> _ = m.save(path)
>>> m2 = CXModel.load(path)
>>> m.run(2); m2.run(2)
>>> m.timeseries().equals(m2.timeseries())
True
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import pickle
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .io import atomic_path

if TYPE_CHECKING:
    from .model import CXModel

MAGIC = b"CXSIM-STATE\n"
#: bump when the layout or the meaning of a saved state changes; other versions are refused
#: (4: colleagues carry an engagement trait and a usual engagement level beside this week's)
FORMAT_VERSION = 4
#: file suffix used by the burn-in cache (any name works for `save`)
SUFFIX = ".cxstate"

#: model attributes not pickled: the engine (numba dispatchers; reloaded by name and parallel
#: flag), Mesa's step wrapper (bound methods) and agent registry with our agent views (rebuilt
#: on demand from the arrays they view)
REBUILT = frozenset({"engine", "_user_step", "step", "_agents", "_agents_by_type",
                     "_all_agents", "_colleague_agents"})


class CheckpointError(ValueError):
    """A state file that cannot be read (the CLI prints it as one line and exits with 2)."""


def _without_views(value: Any) -> Any:
    """`value`, or a shallow copy of it with its cached networkx view (``_graph``) dropped:
    the view is rebuilt from the arrays on first use and would dominate the file."""
    if getattr(value, "_graph", None) is not None:
        value = copy.copy(value)
        value._graph = None
    return value


def header(model: CXModel) -> dict[str, Any]:
    """The JSON line of a state file: what it is, without unpickling it."""
    return {"format": "cxsim-state", "format_version": FORMAT_VERSION,
            "cxsim_version": __version__, "engine": model.engine.name,
            "parallel": bool(model.engine.parallel), "scenario": model.scenario.name,
            "seed": int(model.seed), "t": int(model.t),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


def save(model: CXModel, path: str | os.PathLike) -> Path:
    """Write the model's whole state to `path` atomically (a reader never sees half a file)."""
    state = {k: _without_views(v) for k, v in model.__dict__.items() if k not in REBUILT}
    blob = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fh.write(MAGIC)
        fh.write(json.dumps(header(model), sort_keys=True).encode() + b"\n")
        fh.write(blob)
    return path


def read_header(path: str | os.PathLike) -> dict[str, Any]:
    """The header of a state file; CheckpointError (one line) if it is not one we can read."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            magic = fh.read(len(MAGIC))
            line = fh.readline(65536)
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot read state file: {exc.strerror}") from None
    if magic != MAGIC:
        raise CheckpointError(f"{path}: not a cxsim state file (written by model.save)")
    try:
        head = json.loads(line)
    except ValueError:
        raise CheckpointError(f"{path}: damaged cxsim state file (unreadable header)") from None
    version = head.get("format_version")
    if version != FORMAT_VERSION:
        raise CheckpointError(
            f"{path}: state file format {version} (cxsim {head.get('cxsim_version')}); this "
            f"cxsim {__version__} reads format {FORMAT_VERSION} only: save the state again")
    return head


def load(path: str | os.PathLike, engine: str | None = None, parallel: bool | None = None,
         create_agents: bool | str = "lazy") -> CXModel:
    """A model that continues from the state in `path`.

    Parameters
    ----------
    path : path-like
        A file written by `save` (`CXModel.save`).
    engine : {"numba", "reference"}, optional
        The engine to continue with (default: the saved one). The engines agree to 1e-9, not
        bit for bit, so only the saved engine continues bit for bit.
    parallel : bool, optional
        Parallel kernels (default: as saved). Serial and parallel give the same numbers.
    create_agents : bool or "lazy"
        Mesa agent views: created now (True), on first use ("lazy", default) or never (False).
        They are views on the arrays, so the numbers do not depend on it.
    """
    from . import engine as engines
    from .model import CXModel

    path = Path(path)
    head = read_header(path)
    if create_agents not in (True, False, "lazy"):
        raise ValueError(f"create_agents = {create_agents!r}; allowed: True, False, 'lazy'")
    with open(path, "rb") as fh:
        fh.readline()
        fh.readline()
        try:
            state = pickle.load(fh)
        except Exception as exc:  # noqa: BLE001 - any unpickling failure is a damaged file
            raise CheckpointError(f"{path}: damaged cxsim state file "
                                  f"({type(exc).__name__}: {exc})") from None
    _check_records(path, head, state)
    model = CXModel.__new__(CXModel)
    # Mesa's own set-up (step wrapper, empty agent registry), then the saved state over it;
    # the Python RNG keeps its identity (the AgentSets hold it) and takes the saved state
    import mesa

    mesa.Model.__init__(model, seed=0)
    rnd = model.random
    rnd.setstate(state.pop("random").getstate())
    model.__dict__.update(state)
    model.random = rnd
    model.engine = engines.load(engine or head["engine"],
                                head["parallel"] if parallel is None else bool(parallel))
    model._colleague_agents = []
    model._agents_pending = create_agents == "lazy"
    model._eager_views = create_agents is True
    if create_agents is True:
        model._create_agents()
    return model


def _check_records(path: Path, head: dict[str, Any], state: dict[str, Any]) -> None:
    """Every saved state record has every field its class has now (a state saved before a
    field was added cannot continue: say so in one line)."""
    for name, value in state.items():
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            missing = [f.name for f in dataclasses.fields(value) if f.name not in vars(value)]
            if missing:
                raise CheckpointError(
                    f"{path}: saved by cxsim {head.get('cxsim_version')}, its {name} lacks "
                    f"{', '.join(missing)}; save the state again with cxsim {__version__}")
