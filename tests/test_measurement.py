"""Measurement: samples, ordered answers, non-response, pooling; it never changes behaviour."""

from __future__ import annotations

import numpy as np
import pytest

from cxsim.constants import ACTIVE, PROSPECT
from cxsim.measurement import Surveys, answers, margin, nps_of, respondents, response_chance
from cxsim.model import CXModel
from cxsim.rng import ASK, stream_key
from cxsim.scenario import Measurement

SMALL = {"size.customers": 2000, "size.prospects": 500, "burn_in": 4, "steps": 10}


def test_ordered_answers_cut_at_the_integers():
    m = Measurement(answer_noise=0.0)
    np.testing.assert_array_equal(answers(np.array([0.0, 6.99, 7.0, 8.99, 9.0, 10.0]),
                                          np.zeros(6), m), [0, 6, 7, 8, 9, 10])
    # with noise, the share answering 9-10 is P(ltr + noise >= 9): unbiased around the cut
    rng = np.random.default_rng(0)
    y = answers(np.full(200_000, 9.0), rng.standard_normal(200_000), Measurement())
    assert np.mean(y >= 9) == pytest.approx(0.5, abs=0.01)
    assert y.min() >= 0 and y.max() <= 10


def test_respondents_follow_the_response_chance_and_its_bias():
    rng = np.random.default_rng(1)
    n = 400_000
    status = np.where(rng.random(n) < 0.8, ACTIVE, PROSPECT).astype(np.int8)
    ltr = rng.uniform(0, 10, n)
    m = Measurement(nps_response_rate=0.05)  # the defaults' J shape
    who = respondents(status, ltr, m, rng)
    assert np.all(status[who] == ACTIVE) and len(np.unique(who)) == len(who)
    got = {}
    for lo, hi in ((0, 1), (3, 7), (4.5, 5.5), (9, 10)):
        band = (status == ACTIVE) & (ltr >= lo) & (ltr < hi)
        got[lo] = np.isin(np.flatnonzero(band), who).mean()
        want = response_chance(ltr[band], m).mean()
        assert got[lo] == pytest.approx(want, rel=0.05), (lo, hi)
    # J-shaped (Perneger et al. 2020): flat and lowest from 3 to 7, the most delighted answer
    # 3.5 times as often, the most dissatisfied a little more often than the middle
    assert got[3] == pytest.approx(got[4.5], rel=0.05)
    assert got[9] > 2.5 * got[4.5] and got[4.5] < got[0] < 1.5 * got[4.5]
    ends = response_chance(np.array([0.0, 5.0, 10.0]), m)
    assert ends[2] == pytest.approx(3.5 * ends[1]) and ends[0] == pytest.approx(1.25 * ends[1])


def test_margin_of_error_covers_the_truth():
    rng = np.random.default_rng(2)
    truth = rng.choice(11, size=1_000_000, p=np.r_[np.full(7, 0.03), 0.1, 0.15, 0.24, 0.3])
    true_nps = nps_of(truth)
    inside = 0
    for _ in range(400):
        s = rng.choice(truth, 300)
        p, d = np.mean(s >= 9), np.mean(s < 7)
        inside += abs(nps_of(s) - true_nps) <= margin(p, d, len(s))
    assert 0.92 <= inside / 400 <= 0.98  # a 95% margin


def test_units_pool_the_window_and_the_company_pools_everyone():
    m = Measurement(nps_response_rate=1.0, response_lift_top=0.0, response_lift_bottom=0.0,
                    answer_noise=0.0,
                    csat_response_rate=1.0, csat_noise=0.0, pulse_rate=1.0, pulse_noise=0.0,
                    window=2)
    s = Surveys(m, n_units=2, rng=np.random.default_rng(3))
    status = np.full(4, ACTIVE, np.int8)
    ltr = np.array([10.0, 9.0, 3.0, 8.0])
    unit_of = np.array([0, 0, 1, -1])

    def week(sat):
        return s.week(status, ltr, lambda who: unit_of[who], np.array(sat), np.array([0, 1]),
                      np.array([0.2, 0.6]), np.array([0, 1]))

    r = week([1.0, 0.0])
    assert r.nps == pytest.approx(25.0)  # 2 promoters, 1 detractor, 1 passive (no unit)
    np.testing.assert_allclose(r.unit_nps, [100.0, -100.0])
    np.testing.assert_allclose(r.unit_csat, [100.0, 0.0])
    np.testing.assert_allclose(r.unit_engagement, [0.2, 0.6])
    r = week([0.0, 0.0])
    np.testing.assert_allclose(r.unit_csat, [50.0, 0.0])  # two weeks pooled
    np.testing.assert_array_equal(r.unit_csat_n, [2, 2])
    r = week([0.0, 0.0])
    np.testing.assert_allclose(r.unit_csat, [0.0, 0.0])  # the first week left the window


def test_satisfied_contacts_answer_the_csat_survey_more_often():
    """The transactional survey has the relationship survey's J-shaped non-response: with
    satisfaction uniform on 0..1, respondents are more satisfied than the contacts, and the
    delighted answer 3.5 times as often as the middling; without the lifts the sample is fair."""
    rng = np.random.default_rng(4)
    n = 200_000
    sat = rng.random(n)
    means = {}
    for lift in (0.0, 2.5):
        m = Measurement(nps_response_rate=0.0, csat_response_rate=0.1, csat_noise=0.0,
                        pulse_rate=0.0, response_lift_top=lift, response_lift_bottom=0.0,
                        window=1)
        s = Surveys(m, n_units=1, rng=np.random.default_rng(5))
        r = s.week(np.zeros(0, np.int8), np.zeros(0), lambda who: who, sat, np.zeros(n, int),
                   np.zeros(0), np.zeros(0, int))
        means[lift] = (r.csat, int(r.unit_csat_n[0]))
    assert means[0.0][0] == pytest.approx(50.0, abs=0.5)
    assert means[0.0][1] == pytest.approx(0.1 * n, rel=0.03)
    # chance 0.1 from 0.3 to 0.7, rising to 0.35 at 1: respondents' mean about 58
    assert 55.0 < means[2.5][0] < 62.0
    assert means[2.5][1] == pytest.approx(0.1 * n * (1 + 2.5 * 0.15), rel=0.03)


def test_measuring_changes_behaviour_only_through_managers_who_chase_scores():
    """Surveys draw from their own stream: when no manager chases scores, how the company
    measures changes no true figure; when managers chase their units' measured scores, a
    noisier survey changes what they do, and so what colleagues and customers do."""
    noisy = {"measurement.nps_response_rate": 0.2, "measurement.answer_noise": 3.0,
             "measurement.window": 1}
    true = ["nps", "csat", "engagement", "active_customers", "profit", "trust"]
    for chasing, same in ((0.0, True), (0.9, False)):
        ov = {**SMALL, "levers.score_chasing": chasing}
        a = CXModel("baseline", seed=5, overrides=ov, create_agents=False)
        b = CXModel("baseline", seed=5, create_agents=False, overrides={**ov, **noisy})
        a.run()
        b.run()
        ta, tb = a.timeseries(), b.timeseries()
        assert ta[true].equals(tb[true]) is same, chasing
        assert not ta["nps_measured"].equals(tb["nps_measured"])
        assert (tb["nps_margin"] < ta["nps_margin"]).all()  # ten times the sample


def test_measured_figures_track_the_true_ones():
    """Without answer noise and non-response bias a sample is unbiased; answer noise pulls the
    measured NPS toward the middle (extreme answers are censored at 0 and 10)."""
    # no score chasing: measured scores would change what managers do, and so the true ones
    ov = {**SMALL, "measurement.response_lift_top": 0.0,
          "measurement.response_lift_bottom": 0.0, "measurement.nps_response_rate": 0.2,
          "levers.score_chasing": 0.0}
    errs, limits, pulls = [], [], []
    for seed in (6, 7, 8):  # one seed's mean error is too noisy a test of bias
        m = CXModel("baseline", seed=seed, create_agents=False,
                    overrides={**ov, "measurement.answer_noise": 0.0})
        m.run()
        ts = m.timeseries()
        window = m.scenario.measurement.window  # the measure pools the last weeks: compare alike
        err = ts["nps_measured"] - ts["nps"].rolling(window, min_periods=1).mean()
        errs.append(err.mean())
        limits.append(ts["nps_margin"].mean() / 1.96 / np.sqrt(len(ts) / window))
        noisy = CXModel("baseline", seed=seed, create_agents=False, overrides=ov)
        noisy.run()
        tn = noisy.timeseries()
        assert tn["nps"].equals(ts["nps"])  # the survey changes no true figure here
        pulls.append((tn["nps_measured"] - ts["nps"].rolling(window, min_periods=1).mean()).mean()
                     - err.mean())  # each survey against the same pooled truth
        if seed == 6:
            ts6 = ts
    assert abs(np.mean(errs)) < 3 * np.mean(limits) / np.sqrt(len(errs)), (errs, limits)
    assert max(pulls) < -1.5 and np.mean(pulls) < -3, pulls  # every seed, with a margin
    ts = ts6
    # the CSAT survey pools the window's answers: within its own margin (95%) most weeks
    csat_err = (ts["csat_measured"] - ts["csat"].rolling(window, min_periods=1).mean()).abs()
    assert (csat_err < ts["csat_margin"]).mean() >= 0.7, (csat_err, ts["csat_margin"])
    # a pulse of a few dozen colleagues: within its own margin of error (95%) most weeks
    eng_err = (ts["engagement_measured"] - ts["engagement"]).abs()
    assert (eng_err < ts["engagement_margin"]).mean() >= 0.7, (eng_err, ts["engagement_margin"])


def test_bernoulli_indices_include_each_index_with_its_chance():
    from cxsim.measurement import bernoulli_indices

    rng = np.random.default_rng(4)
    counts = np.zeros(500)
    for _ in range(4000):
        idx = bernoulli_indices(500, 0.2, rng)
        assert np.all(np.diff(idx) > 0) and (len(idx) == 0 or (idx[0] >= 0 and idx[-1] < 500))
        counts[idx] += 1
    share = counts / 4000
    assert abs(share.mean() - 0.2) < 0.003
    assert share.std() < 0.01  # binomial sd 0.0063: no index favoured
    assert len(bernoulli_indices(10, 1.0, rng)) == 10


def test_staff_of_a_chased_unit_ask_some_respondents_for_the_score_and_lift_only_theirs():
    """Unit 1's staff ask each customer with chance 0.4 (its control), unit 0's never. Every
    customer feels 6.5 and answers without noise: a customer not asked answers 6 (detractor),
    an asked one 6 + 3 = 9 (promoter). Lifting everyone by 3 x 0.4 instead would make them all
    7 (passives). Over five seeds the mean lift of all answers is score_begging x control x the
    share of respondents the chased unit served; the chased unit keeps its detractors."""
    begging, control = 3.0, 0.4
    m = Measurement(nps_response_rate=0.5, response_lift_top=0.0, response_lift_bottom=0.0,
                    answer_noise=0.0,
                    csat_response_rate=1.0, csat_noise=0.0, score_begging=begging)
    n = 30_000
    unit = np.arange(n) % 2
    lifts, wants, csat = [], [], []
    for seed in range(5):
        s = Surveys(m, 2, np.random.default_rng(seed))
        got = s.week(np.full(n, ACTIVE, np.int8), np.full(n, 6.5), lambda who: unit[who],
                     np.full(n, 0.5), unit, np.full(4, 0.5), np.zeros(4, np.int64),
                     begging=np.array([0.0, control]), ask_key=stream_key(seed, 3, ASK))
        assert got.unit_nps[0] == -100.0  # nobody asked: every answer is the feeling, 6
        promoted = (got.unit_nps[1] / 100.0 + 1.0) / 2.0  # 9s; the rest answered 6
        assert 0.3 < promoted < 0.5  # about the control: some lifted, most not
        lifts.append(begging * promoted * got.unit_nps_n[1] / got.unit_nps_n.sum())
        wants.append(begging * control * got.unit_nps_n[1] / got.unit_nps_n.sum())
        csat.append(got.unit_csat - 50.0)  # an asked contact's rating rises 0.3 (30 points)
    assert np.mean(lifts) == pytest.approx(np.mean(wants), abs=0.03)  # sd of the mean ~0.005
    np.testing.assert_allclose(np.mean(csat, axis=0), [0.0, 30.0 * control], atol=1.0)


def test_who_is_asked_is_a_counter_based_draw_of_seed_week_and_customer():
    from cxsim.measurement import was_asked

    who = np.arange(0, 200_000, 2)
    chance = np.full(len(who), 0.3)
    a = was_asked(stream_key(7, 10, ASK), who, chance)
    assert a.mean() == pytest.approx(0.3, abs=0.005)
    np.testing.assert_array_equal(a, was_asked(stream_key(7, 10, ASK), who, chance))
    b = was_asked(stream_key(7, 11, ASK), who, chance)  # next week: others are asked
    assert (a & b).mean() == pytest.approx(0.09, abs=0.005)
    assert not was_asked(stream_key(7, 10, ASK), who, np.zeros(len(who))).any()
