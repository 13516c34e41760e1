"""The run contract: the same scenario and seed give the same timeseries and units.

The golden files in tests/golden/ were written by `tests/golden/make_golden.py` and pin every
figure of a few short runs that exercise every phase and every kind of event. A refactoring
must leave them as they are; a change to the model's rules regenerates them in the same
commit, which says why. Integers must match exactly; floats to 1e-9 (another CPU may round a
libm call differently in the last bit).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from golden.make_golden import CASES, run_case

GOLDEN = Path(__file__).parent / "golden"


def _check(frame: pd.DataFrame, path: Path) -> None:
    want = pd.read_csv(path)
    got = pd.read_csv(pd.io.common.StringIO(frame.to_csv(index=False, float_format="%.17g")))
    assert list(got.columns) == list(want.columns)
    assert got.shape == want.shape
    for col in want.columns:
        a, b = got[col], want[col]
        if a.dtype.kind in "iub" and b.dtype.kind in "iub":
            assert (a == b).all(), col
        elif a.dtype.kind in "fiu":
            np.testing.assert_allclose(a.to_numpy(float), b.to_numpy(float), rtol=1e-9,
                                       atol=1e-9, err_msg=col)
        else:
            assert (a.astype(str) == b.astype(str)).all(), col


@pytest.mark.parametrize("name, scenario, seed, extra", CASES, ids=[c[0] for c in CASES])
def test_numba_engine_reproduces_golden_outputs(name, scenario, seed, extra):
    m = run_case(scenario, seed, extra)
    _check(m.timeseries(), GOLDEN / f"{name}.timeseries.csv")
    _check(m.units(), GOLDEN / f"{name}.units.csv")


@pytest.mark.parametrize("name, scenario, seed, extra", CASES[-1:], ids=[CASES[-1][0]])
def test_reference_and_parallel_engines_reproduce_golden_outputs(name, scenario, seed, extra):
    for kw in ({"engine": "reference"}, {"parallel": True}):
        m = run_case(scenario, seed, extra, **kw)
        _check(m.timeseries(), GOLDEN / f"{name}.timeseries.csv")
        _check(m.units(), GOLDEN / f"{name}.units.csv")
