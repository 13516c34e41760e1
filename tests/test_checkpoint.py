"""Checkpoints: a saved and loaded model continues bit for bit as the uninterrupted one."""

from __future__ import annotations

import dataclasses
import json
import random
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import SMALL
from pydantic import BaseModel

from cxsim import checkpoint
from cxsim.agents import Colleague, Customer
from cxsim.checkpoint import CheckpointError
from cxsim.model import CXModel

EVENTS = Path(__file__).parent / "golden" / "golden_events.toml"
#: timings differ between any two runs; the agent and networkx views are rebuilt on demand
NOT_STATE = ({"phase_seconds", "build_seconds", "_graph", "_agents_pending", "_eager_views"}
             | checkpoint.REBUILT)


def events_model(engine: str = "numba", parallel: bool = False, **kw: Any) -> CXModel:
    """golden_events (a failure at week 2, another at 4, a lever change at 6, crisis responses
    from 8 and 15) on the small test size with a short burn-in."""
    ov = dict(SMALL, burn_in=3, steps=20)
    return CXModel(str(EVENTS), seed=5, engine=engine, parallel=parallel, overrides=ov, **kw)


def assert_same(a: Any, b: Any, where: str = "model") -> None:
    """Bit-for-bit equality of two states, walking records, containers and objects."""
    if isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape, where
        assert np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"), where
    elif isinstance(a, np.random.Generator):
        assert a.bit_generator.state == b.bit_generator.state, where
    elif isinstance(a, random.Random):
        assert a.getstate() == b.getstate(), where
    elif isinstance(a, BaseModel):
        assert a == b, where
    elif dataclasses.is_dataclass(a):
        assert type(a) is type(b), where
        for f in dataclasses.fields(a):
            if f.name not in NOT_STATE:
                assert_same(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
    elif isinstance(a, dict):
        assert sorted(map(str, a)) == sorted(map(str, b)), where
        for k in a:
            if k not in NOT_STATE:
                assert_same(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, list | tuple | deque):
        assert type(a) is type(b) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, float):
        assert a == b or (np.isnan(a) and np.isnan(b)), where
    elif callable(a) and hasattr(a, "func"):  # the DataCollector's reporters (partials)
        assert (a.func, a.args, a.keywords) == (b.func, b.args, b.keywords), where
    elif hasattr(a, "__dict__") and not isinstance(a, type):
        assert type(a) is type(b), where
        assert_same(vars(a), vars(b), where)
    else:
        assert a == b, where


def _interrupted(make, k: int, m: int, path: Path, **load_kw: Any) -> CXModel:
    first = make()
    first.run(3)
    first.inject_service_failure(severity=0.6, duration=5, share=0.3)  # live, before the save
    first.run(k - 3)
    first.save(path)
    del first
    second = CXModel.load(path, **load_kw)
    second.run(m)
    return second


@pytest.mark.parametrize("engine,parallel", [("numba", False), ("numba", True),
                                             ("reference", False)])
def test_save_load_continues_bit_for_bit(tmp_path, engine, parallel):
    def make() -> CXModel:
        return events_model(engine, parallel, create_agents=False)

    k, m = 5, 13  # the lever change (6) and both crisis responses (8, 15) fire after the save
    whole = make()
    whole.run(3)
    whole.inject_service_failure(severity=0.6, duration=5, share=0.3)
    whole.run(k + m - 3)
    resumed = _interrupted(make, k, m, tmp_path / "state.cxstate")
    assert resumed.engine.name == engine and resumed.parallel == parallel
    pd.testing.assert_frame_equal(whole.timeseries(), resumed.timeseries(), check_exact=True)
    pd.testing.assert_frame_equal(whole.units(), resumed.units(), check_exact=True)
    assert_same(whole.__dict__, resumed.__dict__)
    # the run is long enough for events after the save to have fired
    fired = [what for step, what in resumed.events_log if step >= k]
    assert any("set" in w for w in fired) and "complaints-first response" in fired
    assert len(resumed.timeline.injected) == 1


def test_assert_same_sees_a_difference(tmp_path):
    """The state comparison used above can fail: one changed value deep in a record."""
    a = events_model(create_agents=False)
    a.run(2)
    a.save(tmp_path / "s.cxstate")
    b = CXModel.load(tmp_path / "s.cxstate")
    assert_same(a.__dict__, b.__dict__)
    b.customers.trust[7] = np.nextafter(b.customers.trust[7], 2.0)
    with pytest.raises(AssertionError, match="trust"):
        assert_same(a.__dict__, b.__dict__)
    b.customers.trust[7] = a.customers.trust[7]
    b.rng.random()
    with pytest.raises(AssertionError, match="rng"):
        assert_same(a.__dict__, b.__dict__)


def test_arrays_that_share_memory_still_do(tmp_path):
    """Pickling the state in one piece keeps arrays that are one object one object."""
    a = events_model(create_agents=False)
    a.run(2)
    a.save(tmp_path / "s.cxstate")
    b = CXModel.load(tmp_path / "s.cxstate")

    def arrays(m: CXModel) -> list[np.ndarray]:
        out = []
        for v in vars(m).values():
            if dataclasses.is_dataclass(v):
                out += [x for x in vars(v).values() if isinstance(x, np.ndarray)]
            elif isinstance(v, np.ndarray):
                out.append(v)
        return out

    xa, xb = arrays(a), arrays(b)
    assert len(xa) == len(xb) > 60
    for i in range(len(xa)):
        for j in range(i + 1, len(xa)):
            assert (xa[i] is xa[j]) == (xb[i] is xb[j]), (i, j)
    assert b.org_graph.indptr is b.org.indptr


def test_agent_views_after_load(tmp_path):
    a = events_model(create_agents=False)
    a.run(2)
    a.save(tmp_path / "s.cxstate")
    lazy = CXModel.load(tmp_path / "s.cxstate")
    assert lazy._agents_pending
    customers = lazy.agents_by_type[Customer]
    assert len(customers) == lazy.social.n and len(lazy.agents_by_type[Colleague]) == lazy.org.n
    c = customers[4]
    c.trust = 0.125
    assert lazy.customers.trust[c.index] == 0.125
    eager = CXModel.load(tmp_path / "s.cxstate", create_agents=True)
    assert len(eager.agents) == eager.social.n + eager.org.n
    assert eager.colleague_agents[3].index == 3
    none = CXModel.load(tmp_path / "s.cxstate", create_agents=False)
    assert not none._agents_pending and none.colleague_agents == []
    # the networkx views were not saved, and come back on demand
    assert none.social._graph is None and none.social.graph().number_of_nodes() == none.social.n


def test_header_is_readable_without_unpickling(tmp_path):
    a = events_model(create_agents=False)
    a.run(2)
    path = a.save(tmp_path / "s.cxstate")
    head = checkpoint.read_header(path)
    assert head["format_version"] == checkpoint.FORMAT_VERSION
    assert (head["engine"], head["t"], head["seed"]) == ("numba", 2, 5)
    assert not list(tmp_path.glob("*.partial"))  # written aside, then renamed


def test_other_format_version_is_refused_in_one_line(tmp_path):
    a = events_model(create_agents=False)
    path = a.save(tmp_path / "s.cxstate")
    raw = path.read_bytes()
    magic, line, rest = raw.split(b"\n", 2)
    head = json.loads(line)
    head["format_version"] = checkpoint.FORMAT_VERSION + 1
    bad = tmp_path / "other.cxstate"
    bad.write_bytes(magic + b"\n" + json.dumps(head).encode() + b"\n" + rest)
    with pytest.raises(CheckpointError) as err:
        CXModel.load(bad)
    msg = str(err.value)
    assert "\n" not in msg and f"format {checkpoint.FORMAT_VERSION + 1}" in msg
    (tmp_path / "x.txt").write_text("hello\n")
    with pytest.raises(CheckpointError, match="not a cxsim state file"):
        CXModel.load(tmp_path / "x.txt")
    trunc = tmp_path / "trunc.cxstate"
    trunc.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(CheckpointError, match="damaged"):
        CXModel.load(trunc)
