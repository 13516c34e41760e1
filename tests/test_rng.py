"""Counter-based random numbers (issue 14): quality and kernel/twin agreement."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit
from scipy import stats

from cxsim import rng

N = 2_000_000


@njit(cache=True)
def _fill(key, n, normal):
    out = np.empty(n)
    for i in range(n):
        out[i] = rng.normal(key, i) if normal else rng.uniform(key, i)
    return out


def test_kernel_draws_equal_their_numpy_twins():
    key = rng.stream_key(7, 3, rng.TALK)
    i = np.arange(N)
    assert np.array_equal(_fill(key, N, False), rng.uniform_array(key, i))  # bit for bit
    assert np.allclose(_fill(key, 100_000, True), rng.normal_array(key, i[:100_000]),
                       rtol=0, atol=1e-12)


def test_uniform_draws_are_uniform():
    u = rng.uniform_array(rng.stream_key(1, 0, rng.CONTACT), np.arange(N))
    assert u.min() >= 0.0 and u.max() < 1.0
    counts = np.bincount((u * 1000).astype(np.int64), minlength=1000)
    chi2 = stats.chisquare(counts)
    assert chi2.pvalue > 1e-3, chi2
    assert stats.kstest(u[:200_000], "uniform").pvalue > 1e-3


def test_normal_draws_are_standard_normal():
    z = rng.normal_array(rng.stream_key(2, 5, rng.NOISE), np.arange(500_000))
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01
    assert stats.kstest(z[:200_000], "norm").pvalue > 1e-3


@pytest.mark.parametrize("other", [
    (1, 0, rng.TALK),  # another stream, same seed and step
    (0, 1, rng.CONTACT),  # the next step
    (1, 1, rng.CONTACT),  # another seed
])
def test_streams_steps_and_seeds_are_independent(other):
    i = np.arange(N)
    a = rng.uniform_array(rng.stream_key(0, 0, rng.CONTACT), i)
    b = rng.uniform_array(rng.stream_key(*other), i)
    se = 1 / np.sqrt(N)
    assert abs(np.corrcoef(a, b)[0, 1]) < 4 * se
    # no shared subsequences either: the first draws of one are not found in the other
    assert not np.isin(a[:1000], b).any()


def test_neighbouring_draws_are_uncorrelated():
    u = rng.uniform_array(rng.stream_key(3, 0, rng.ADOPT_OR_CHURN), np.arange(N))
    se = 1 / np.sqrt(N)
    for lag in (1, 2, 7, 64):
        assert abs(np.corrcoef(u[:-lag], u[lag:])[0, 1]) < 4 * se, lag
    pairs = np.histogram2d(u[::2], u[1::2], bins=20)[0].ravel()  # pairs fill the square
    assert stats.chisquare(pairs).pvalue > 1e-3
