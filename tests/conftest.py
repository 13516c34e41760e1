"""Shared fixtures: small models, kept small because the test machine is shared."""

from __future__ import annotations

import os

import pytest

from cxsim.model import CXModel

SMALL = {"size.customers": 600, "size.prospects": 300, "size.colleagues": 60, "burn_in": 0,
         "steps": 12}


def small_model(engine: str = "numba", seed: int = 3, **overrides) -> CXModel:
    """A small model; `overrides` use dotted keys with '__' for '.' (levers__silo=0.8)."""
    ov = dict(SMALL)
    ov.update({k.replace("__", "."): v for k, v in overrides.items()})
    return CXModel("baseline", seed=seed, engine=engine, overrides=ov)


@pytest.fixture(autouse=True, scope="session")
def _session_burn_in_cache(tmp_path_factory):
    """A burn-in cache folder for the session, set before any module-scoped fixture runs (a
    function-scoped fixture comes too late for those): no test reads or fills the user's."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CXSIM_CACHE_DIR", str(tmp_path_factory.mktemp("session_burn_in_cache")))
        yield


@pytest.fixture(autouse=True)
def _private_burn_in_cache(tmp_path_factory, monkeypatch):
    """Every test gets its own burn-in cache folder (tests count what the cache holds)."""
    monkeypatch.setenv("CXSIM_CACHE_DIR", str(tmp_path_factory.mktemp("burn_in_cache")))


@pytest.fixture(scope="module")
def warm_model() -> CXModel:
    """A small model with the digital channel on, run a few weeks so arrays are realistic."""
    m = small_model(levers__digital_channel=True, burn_in=6)
    m.run(4)
    return m


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """With CXSIM_NO_SKIP=1 (set by CI), a skipped test is a failure: nothing passes by skipping."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CXSIM_NO_SKIP") == "1" and report.skipped:
        report.outcome = "failed"
        report.longrepr = f"skipped under CXSIM_NO_SKIP=1: {report.longrepr}"
