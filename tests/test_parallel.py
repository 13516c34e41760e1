"""Determinism at scale: parallel kernels give exactly the serial numbers, for any thread count.

Also checks the paths that must not change results: the bulk and lazy Mesa agent views, and
the whole model on the kernels vs on the numpy twins.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import numba
import numpy as np
import pytest

from cxsim import engine, kernels
from cxsim.agents import Colleague, Customer
from cxsim.model import CXModel

SIZE = {"size.customers": 3000, "size.prospects": 1500, "burn_in": 2, "steps": 4}


def _state(m: CXModel) -> dict[str, np.ndarray]:
    arrays = {f"cus.{f.name}": getattr(m.customers, f.name)
              for f in dataclasses.fields(m.customers) }
    arrays |= {f"col.{f.name}": getattr(m.colleagues, f.name)
               for f in dataclasses.fields(m.colleagues)}
    arrays["quality"] = m.process.quality
    return arrays


def _assert_same(a: CXModel, b: CXModel) -> None:
    sa, sb = _state(a), _state(b)
    for k in sa:
        assert np.array_equal(sa[k], sb[k]), k
    ta, tb = a.timeseries(), b.timeseries()
    assert ta.equals(tb)


def _run(parallel: bool, swap: str | None = None) -> CXModel:
    m = CXModel("baseline", overrides=SIZE, parallel=parallel, create_agents=False)
    if swap is not None:  # serial everywhere except one parallel kernel
        m.engine = dataclasses.replace(m.engine, **{swap: getattr(kernels, swap)})
    m.run()
    return m


@pytest.mark.parametrize("name", engine.PARALLEL_KERNELS)
def test_each_parallel_kernel_equals_serial(name):
    serial = _run(False)
    mixed = _run(False, swap=name)
    assert getattr(mixed.engine, name) is getattr(kernels, name)
    assert getattr(serial.engine, name) is getattr(kernels, name + "_serial")
    _assert_same(serial, mixed)


def test_serial_and_parallel_builds_are_distinct():
    # numba's disk cache ignores the `parallel` flag: each build needs its own name
    for name in engine.PARALLEL_KERNELS:
        par, ser = getattr(kernels, name), getattr(kernels, f"{name}_serial")
        assert par.py_func.__qualname__ != ser.py_func.__qualname__
        assert par.targetoptions.get("parallel") and not ser.targetoptions.get("parallel")


def test_parallel_model_equals_serial_model():
    _assert_same(_run(True), _run(False))


def test_thread_count_does_not_change_results():
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("numba has a single thread here")
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = _run(True)
        numba.set_num_threads(2)
        two = _run(True)
    finally:
        numba.set_num_threads(before)
    _assert_same(one, two)


def test_kernels_equal_twins_whole_model():
    a = CXModel("baseline", overrides=SIZE, engine="numba", create_agents=False)
    b = CXModel("baseline", overrides=SIZE, engine="reference", create_agents=False)
    a.run()
    b.run()
    ta, tb = a.timeseries(), b.timeseries()
    num = ta.select_dtypes("number").columns
    np.testing.assert_allclose(ta[num].to_numpy(float), tb[num].to_numpy(float), rtol=1e-9,
                               atol=1e-9)
    for k, v in _state(a).items():
        np.testing.assert_allclose(np.asarray(v, float), np.asarray(_state(b)[k], float),
                                   rtol=1e-9, atol=1e-9, err_msg=k)


def test_reference_engine_imports_no_numba():
    code = ("import sys; from cxsim.model import CXModel; "
            "m = CXModel('baseline', engine='reference', overrides={'size.customers': 300, "
            "'size.prospects': 100, 'size.colleagues': 40, 'burn_in': 1, 'steps': 2}); "
            "m.run(); "
            "print(sorted(k for k in sys.modules if k.split('.')[0] in ('numba', 'llvmlite')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("mode", [True, "lazy"])
def test_bulk_and_lazy_agents_match_mesa(mode):
    m = CXModel("baseline", overrides=SIZE, create_agents=mode)
    if mode == "lazy":
        assert m._agents_pending
        m.step()  # stepping never needs the views
        assert m._agents_pending
    customers = m.agents_by_type[Customer]
    colleagues = m.agents_by_type[Colleague]
    assert len(customers) == m.social.n and len(colleagues) == m.org.n
    assert len(m.agents) == m.social.n + m.org.n
    ids = [a.unique_id for a in m.agents]
    assert ids == list(range(1, len(ids) + 1))
    assert [a.index for a in colleagues] == list(range(m.org.n))
    c = customers[5]
    c.trust = 0.125
    assert m.customers.trust[c.index] == 0.125
    assert m.colleague_agents[3] is colleagues[3]
    c.remove()
    assert len(m.agents_by_type[Customer]) == m.social.n - 1


def test_use_parallel_switches_kernels():
    m = CXModel("baseline", overrides=SIZE, parallel=False, create_agents=False)
    m.use_parallel(True)
    assert m.parallel and m.engine.customer_pass_b is kernels.customer_pass_b
    m.use_parallel(False)
    assert not m.parallel and m.engine.customer_pass_b is kernels.customer_pass_b_serial


def test_no_agents():
    m = CXModel("baseline", overrides=SIZE, create_agents=False)
    assert len(m.agents) == 0 and m.colleague_agents == []
    with pytest.raises(ValueError):
        CXModel("baseline", overrides=SIZE, create_agents="sometimes")
