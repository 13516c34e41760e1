"""Managers who chase their units' measured scores (issue 11, item 3): the knee-jerk story."""

from __future__ import annotations

import numpy as np
import pytest

from cxsim.management import UnitManagement
from cxsim.measurement import Surveys
from cxsim.model import CXModel
from cxsim.scenario import Management, Measurement


def test_only_lagging_units_are_chased_and_control_eases_when_they_catch_up():
    unit = UnitManagement(Management(chase_scale=10.0, reaction_rate=0.5), n_units=3)
    for _ in range(20):
        unit.review(20.0, np.array([25.0, 10.0, np.nan]), chasing=np.ones(3))
    assert unit.control == pytest.approx([0.0, 1.0, 0.0], abs=1e-5)  # no answers: no chase
    for _ in range(20):
        unit.review(20.0, np.array([25.0, 30.0, np.nan]), chasing=np.ones(3))
    assert unit.control[1] < 1e-5


def test_asking_for_the_score_lifts_the_measured_score_not_the_feeling():
    """Two units with the same customers' feelings; staff of unit 1 beg for the score."""
    m = Measurement(nps_response_rate=0.5, response_lift_top=0.0,
                    response_lift_bottom=0.0, score_begging=2.0)
    n = 40_000
    ltr = np.random.default_rng(0).uniform(0, 10, n)
    unit = np.arange(n) % 2
    s = Surveys(m, 2, np.random.default_rng(1))
    got = s.week(np.ones(n, np.int8), ltr, lambda who: unit[who], np.full(10, 0.7),
                 np.zeros(10, np.int64), np.full(4, 0.5), np.zeros(4, np.int64),
                 begging=np.array([0.0, 1.0]))
    assert got.unit_nps[1] > got.unit_nps[0] + 15  # 2 points lift on a uniform 0-10 spread


@pytest.mark.slow
def test_chasing_scores_widens_the_gap_between_measured_and_true_and_costs_engagement():
    """Goodhart at work, over 3 seeds: with managers chasing measured scores, the measured NPS
    runs further above the true one (staff ask for scores) and engagement falls (control in
    lagging units), with the same customers, colleagues and random draws."""
    ov = {"size.customers": 3000, "size.prospects": 1500, "size.customers_per_colleague": 15,
          "burn_in": 52, "steps": 52}
    for seed in range(3):
        runs = {}
        for chasing in (0.0, 0.9):
            m = CXModel("baseline", seed=seed, create_agents=False,
                        overrides={**ov, "levers.score_chasing": chasing})
            m.run()
            runs[chasing] = m.timeseries()
        calm, chased = runs[0.0], runs[0.9]
        assert (chased.nps_measured - chased.nps).mean() > (calm.nps_measured - calm.nps).mean() + 2
        assert chased.engagement.mean() < calm.engagement.mean() - 0.01
        assert chased.management_control.mean() > 0.1 > calm.management_control.mean()
