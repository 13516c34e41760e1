"""units.csv holds the simulated weeks only, labelled with the org file's own units."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cxsim.experiments.run import rep_seeds, run_reps, write_run_outputs
from cxsim.model import CXModel
from cxsim.networks import FRONTLINE
from cxsim.scenario import load_scenario

DATA = Path(__file__).parent / "data"
SMALL = {"size.customers": 600, "size.prospects": 300, "size.colleagues": 60}


def test_units_hold_only_the_reported_weeks():
    m = CXModel("baseline", seed=3, overrides={**SMALL, "burn_in": 7, "steps": 5},
                create_agents=False)
    m.run()
    u = m.units()
    n_units = len(np.unique(m.org.team[m.org.role == FRONTLINE]))
    assert len(u) == 5 * n_units  # before the fix: (7 + 5) * n_units, burn-in rows at step 0
    assert sorted(u["step"].unique()) == [0, 1, 2, 3, 4]
    assert (u.groupby("unit")["step"].nunique() == 5).all()
    assert not u.duplicated(["step", "unit"]).any()


def test_units_csv_of_a_run_has_one_row_per_unit_and_week(tmp_path):
    sc = load_scenario("baseline", {**SMALL, "burn_in": 6, "steps": 4})
    results = run_reps(sc, 11, 2)
    write_run_outputs(tmp_path, sc, results, 11, "numba", 0.0, sc.n_colleagues)
    u = pd.read_csv(tmp_path / "units.csv")
    assert not u.duplicated(["rep", "step", "unit"]).any()
    assert set(u["step"]) == {0, 1, 2, 3}
    per_rep = u.groupby("rep").size()
    assert (per_rep == per_rep.iloc[0]).all() and per_rep.iloc[0] % 4 == 0
    assert results[0].seed == rep_seeds(11, 2)[0]


def test_units_use_the_org_files_own_labels():
    sc = load_scenario("baseline", {"organisation.file": str(DATA / "org.graphml"),
                                    "size.customers": 200, "size.prospects": 50,
                                    "burn_in": 3, "steps": 2})
    res = run_reps(sc, 5, 1)[0]
    labels = set(res.units["unit"])
    assert labels and labels <= {"s1", "c1", "b1", "board", "team"}
    assert "s1" in labels  # the store team of the file, not a number
    assert len(res.units) == 2 * len(labels)
