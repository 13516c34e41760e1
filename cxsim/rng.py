"""Counter-based random numbers: each draw a pure function of (seed, step, stream, index).

A kernel that needs a random number for node `i` at step `t` computes it where it uses it,
``kernels.uniform(key, i)`` with ``key = stream_key(seed, t, stream)``, instead of reading it
from an array the model filled before: no draw arrays are written or read, a thread's draws do not
depend on which thread runs which node (parallel == serial by construction), and the numpy
twins compute the same draws vectorised (`uniform_array`).

The generator is SplitMix64's finaliser (Steele, Lea & Flood 2014, "Fast splittable
pseudorandom number generators", OOPSLA; the output function of Java's SplittableRandom) on a
Weyl sequence: ``mix(key + (i + 1) * GOLDEN)``. Keys are themselves mixed from the seed, the
step and the stream, so streams and steps do not overlap. This module is numpy only (the
reference engine imports no numba); the kernels' versions are `kernels.mix`, `kernels.uniform`
and `kernels.normal`. Its statistical quality is tested in
tests/test_rng.py (uniformity and independence over millions of draws).

>>> k = stream_key(42, 0, 1)
>>> float(uniform_array(k, np.array([7]))[0])  # the same in a kernel: kernels.uniform(k, 7)
0.4978647563460744
"""

from __future__ import annotations

import numpy as np

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53

#: the streams of a step (one per kind of decision)
CONTACT, TALK, ADOPT, CHURN = range(4)
#: whether staff of a chased unit ask a surveyed customer for the score (`measurement`);
#: numbered apart from the kernels' streams so that new kernel streams can follow CHURN
ASK = 16
#: each colleague's circumstances of the week (`culture.engagement_week_spread`): a stream of
#: its own, so that the draw moves no other and a run with the spread at 0 is the run without it
CIRCUMSTANCE = 17


def stream_key(seed: int, step: int, stream: int) -> np.uint64:
    """The key of one stream at one step of a run: mixed from all three, so that no two
    (seed, step, stream) share a sequence."""
    with np.errstate(over="ignore"):
        s = _mix_array(np.uint64(int(seed) & 0xFFFFFFFFFFFFFFFF) + GOLDEN)
        c = _mix_array(np.uint64(((int(step) & 0xFFFFFFFFFF) << 16) | (int(stream) & 0xFFFF))
                       * GOLDEN + np.uint64(1))
        return np.uint64(_mix_array(s ^ c))


def _mix_array(z):
    """`mix` in numpy (scalars or arrays of uint64; wraps around like the kernel)."""
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        return z ^ (z >> np.uint64(31))


def uniform_array(key: np.uint64, i: np.ndarray) -> np.ndarray:
    """`uniform` vectorised over indices `i` (the numpy twin)."""
    with np.errstate(over="ignore"):
        z = np.asarray(i).astype(np.uint64) + np.uint64(1)
        z = _mix_array(np.uint64(key) + z * GOLDEN)
    return (z >> np.uint64(11)).astype(np.float64) * _TO_UNIT


def normal_array(key: np.uint64, i: np.ndarray) -> np.ndarray:
    """`normal` vectorised over indices `i` (the numpy twin)."""
    i = np.asarray(i, dtype=np.int64)
    u1 = 1.0 - uniform_array(key, 2 * i)
    u2 = uniform_array(key, 2 * i + 1)
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)
