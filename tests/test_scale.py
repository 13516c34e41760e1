"""What lets a large model build and step (issue 14, scale): no per-agent Python objects or
networkx views in a headless build or step, int32 network indices, no per-node draw arrays.

The sizes themselves (1M, 10M customers) are measured in benchmarks/bench_scale.py; these
tests check, on small models, the properties that make those sizes fit.
"""

from __future__ import annotations

import numpy as np
import pytest

from cxsim import kernels, reference
from cxsim.model import CXModel
from cxsim.networks import csr_from_edges, index_dtype

SIZE = {"size.customers": 1500, "size.prospects": 300, "size.colleagues": 60, "burn_in": 2,
        "steps": 3}


@pytest.mark.parametrize("mode", ["lazy", False])
def test_headless_build_and_step_create_no_agent_objects_or_networkx_view(mode):
    # below networkx_max_nodes, where an eager build would make the networkx view
    m = CXModel("baseline", overrides=SIZE, create_agents=mode)
    assert m.social.n <= m.scenario.social.networkx_max_nodes
    m.run()
    assert len(m._agents) == 0  # Mesa's registry of agent objects
    assert m.social._graph is None and m.org._graph is None
    if mode == "lazy":  # first use still creates them
        assert len(m.agents) == m.social.n + m.org.n


def test_eager_build_makes_the_views():
    m = CXModel("baseline", overrides=SIZE, create_agents=True)
    assert len(m._agents) == m.social.n + m.org.n and m.social._graph is not None


def test_network_indices_are_int32_while_they_fit():
    m = CXModel("baseline", overrides=SIZE, create_agents=False)
    assert m.social.indices.dtype == np.int32 and m.org.indices.dtype == np.int32
    assert m.social.indptr.dtype == np.int64
    assert index_dtype(2**31 - 2) is np.int32 and index_dtype(2**31 - 1) is np.int64


@pytest.mark.parametrize("impl", [kernels, reference])
def test_int32_csr_equals_int64(impl):
    rng = np.random.default_rng(3)
    n = 200
    src, dst = rng.integers(0, n, 900), rng.integers(0, n, 900)
    wide = impl.csr_from_edges(n, np.concatenate([src, dst]), np.concatenate([dst, src]))
    narrow = csr_from_edges(n, src.astype(np.int32), dst.astype(np.int32),
                            "numba" if impl is kernels else "reference")
    assert narrow[1].dtype == np.int32 and narrow[2].dtype == np.int32
    for a, b in zip(wide, narrow, strict=True):
        np.testing.assert_array_equal(a, b)


def test_per_node_draws_are_streams_of_seed_and_week_not_arrays(tmp_path):
    """The model keeps no n-sized draw buffers: week w's contacts are those the (seed, w)
    stream selects (`rng`), also for a model loaded from a checkpoint."""
    from cxsim.state import CustomerKeys

    m = CXModel("baseline", overrides=SIZE, create_agents=False)
    assert not any(isinstance(v, np.ndarray) and v.shape == (m.social.n,) and v.dtype == float
                   for v in vars(m).values())
    loaded = CXModel.load(m.save(tmp_path / "s.cxstate"))
    for model in (m, loaded):
        week = model.week_index
        status, pending = model.customers.status.copy(), model.customers.pending.copy()
        p = model._params().contact
        expected = reference.select_contacts(
            status, pending, CustomerKeys.for_week(model.seed, week).contact, p)
        model.step()
        np.testing.assert_array_equal(np.sort(np.unique(model.contacts.customer)),
                                      np.sort(np.unique(expected)))
