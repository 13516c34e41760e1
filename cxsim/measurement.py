"""Measurement as it is done: surveys answered by a sample, with noise and non-response.

The model knows every customer's latent likelihood to recommend and every colleague's
engagement; a company does not. Each week a sample answers:

- the relationship survey: active customers respond with a chance that is lowest for middling
  feelings and highest for the delighted (J-shaped non-response, `response_lift`) and answer
  an integer 0-10 from an ordered response model of their latent LTR (cut points at the
  integers, normal answer noise);
- the transactional survey: the week's contacts rate their satisfaction (noisy), with the same
  J-shaped chance of answering;
- the engagement pulse: a share of colleagues rate their engagement (noisy).

Measured figures pool the answers of the last `window` weeks, company-wide and per unit, with a
95% margin of error. Management and dashboards see these, never the true values.

Survey draws come from their own random stream (`survey_rng`), so how a company measures never
changes what its customers and colleagues do, only what it sees.

Staff of a unit its manager chases for the score ask customers for it (score begging): each
surveyed customer of such a unit was asked with chance equal to the unit's control, and an asked
customer's answer is lifted by `score_begging` points (a rated contact's CSAT by a tenth of
that); customers not asked answer what they feel. Who was asked is a counter-based draw
(`cxsim.rng`, stream `ASK`) of the seed, the week and the customer (or contact), so it is the
same on any engine and does not depend on the order of the other survey draws.

>>> import numpy as np
>>> float(nps_of(np.array([10, 9, 8, 3])))
25.0
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from .constants import ACTIVE, DETRACTOR_MAX, PROMOTER_MIN
from .rng import uniform_array
from .scenario import Measurement

#: per-unit sums of one week's answers: respondents, promoters, detractors (relationship);
#: respondents and satisfaction (transactional); respondents and engagement (pulse)
FIELDS = ("nps_n", "nps_prom", "nps_det", "csat_n", "csat_sum", "csat_sq", "eng_n", "eng_sum",
          "eng_sq")


def nps_of(answers: np.ndarray) -> float:
    """NPS of integer answers 0-10: % 9-10 minus % 0-6 (0 with no answers)."""
    if len(answers) == 0:
        return 0.0
    return 100.0 * (np.count_nonzero(answers >= PROMOTER_MIN)
                    - np.count_nonzero(answers < DETRACTOR_MAX)) / len(answers)


def answers(ltr: np.ndarray, noise: np.ndarray, m: Measurement) -> np.ndarray:
    """Ordered response: the integer k with k <= ltr + answer_noise x noise < k + 1, in 0..10.

    The cut points are the integers, the same cuts as the true segments (a latent 9.0 or more
    is a promoter), so answering adds noise but does not move the definition.
    """
    return np.clip(np.floor(ltr + m.answer_noise * noise), 0, 10).astype(np.int64)


#: the likelihood to recommend between which the response chance is flat and lowest
#: (Perneger et al. 2020: response "lowest (around 20%) for satisfaction scores between 3 and 7")
RESPONSE_FLAT = (3.0, 7.0)


def response_lift(score: np.ndarray, m: Measurement) -> np.ndarray:
    """How much more often a customer answers a survey than one in the middle, J-shaped in
    how they feel (`score` on 0-10: the likelihood to recommend, or ten times a contact's
    satisfaction): 1 and lowest from 3 to 7, rising linearly to `1 + response_lift_top` at 10
    and to `1 + response_lift_bottom` at 0 (Perneger et al. 2020: "about 70% for those
    maximally satisfied", around 20% for scores 3 to 7, slightly more for the least
    satisfied).

    >>> m = Measurement()
    >>> [round(float(x), 3) for x in response_lift(np.array([0.0, 5.0, 8.5, 10.0]), m)]
    [1.25, 1.0, 2.25, 3.5]
    """
    low, high = RESPONSE_FLAT
    top = np.clip((score - high) / (10.0 - high), 0.0, 1.0)
    bottom = np.clip((low - score) / low, 0.0, 1.0)
    return 1.0 + m.response_lift_top * top + m.response_lift_bottom * bottom


def response_chance(ltr: np.ndarray, m: Measurement) -> np.ndarray:
    """Chance an active customer answers the relationship survey this week:
    `nps_response_rate` times `response_lift` of their likelihood to recommend, at most 1."""
    return np.minimum(1.0, m.nps_response_rate * response_lift(ltr, m))


def bernoulli_indices(n: int, p: float, rng: np.random.Generator) -> np.ndarray:
    """Ascending indices of 0..n-1, each included independently with chance `p`.

    The gaps between included indices are geometric, so the work is proportional to the
    number included, not to n.
    """
    parts, last = [], -1
    while True:
        gaps = rng.geometric(p, size=int(p * (n - last) * 1.1) + 16)
        idx = last + np.cumsum(gaps)
        parts.append(idx[idx < n])
        if idx[-1] >= n:
            return np.concatenate(parts)
        last = int(idx[-1])


def respondents(status: np.ndarray, ltr: np.ndarray, m: Measurement,
                rng: np.random.Generator) -> np.ndarray:
    """Indices of the active customers who answer this week (each with `response_chance`).

    Drawn by thinning, in time proportional to the sample rather than to the customer base: a
    binomial number of candidate nodes at the highest chance, of which the active customers are
    each kept with their own chance over it.
    """
    top = min(1.0, m.nps_response_rate * (1.0 + max(m.response_lift_top,
                                                     m.response_lift_bottom)))
    n = len(status)
    if top <= 0 or n == 0:
        return np.zeros(0, np.int64)
    cand = bernoulli_indices(n, top, rng)
    cand = cand[status[cand] == ACTIVE]  # the survey goes to customers only
    keep = rng.random(len(cand)) * top < response_chance(ltr[cand], m)
    return cand[keep]


def was_asked(key: np.uint64, counter: np.ndarray, chance: np.ndarray) -> np.ndarray:
    """Whether staff asked each customer for the score, each with its unit's `chance`.

    A counter-based draw (`cxsim.rng`): the same customer in the same week of the same run is
    asked or not whatever else was drawn, and nothing is drawn where no unit is chased.
    """
    if not np.any(chance > 0):
        return np.zeros(len(counter), bool)
    return uniform_array(key, counter) < chance


def margin(p: float, d: float, n: int) -> float:
    """95% margin of error of an NPS from n answers with shares p promoters, d detractors."""
    if n == 0:
        return float("nan")
    return 196.0 * np.sqrt(max(p + d - (p - d) ** 2, 0.0) / n)


@dataclass
class Measured:
    """The measured figures of a week, company-wide and per unit (n_units,)."""

    nps: float
    nps_margin: float
    csat: float
    csat_margin: float
    engagement: float
    engagement_margin: float
    unit_nps: np.ndarray
    unit_csat: np.ndarray
    unit_engagement: np.ndarray
    unit_nps_n: np.ndarray
    unit_csat_n: np.ndarray


class Surveys:
    """Runs the week's surveys and pools the last `window` weeks of answers."""

    def __init__(self, m: Measurement, n_units: int, rng: np.random.Generator):
        self.m = m
        self.n_units = n_units
        self.rng = rng
        self.weeks: deque[dict[str, np.ndarray]] = deque(maxlen=m.window)

    def week(self, status: np.ndarray, ltr: np.ndarray, customer_unit,
             satisfaction: np.ndarray, contact_unit: np.ndarray, engagement: np.ndarray,
             colleague_unit: np.ndarray, begging: np.ndarray | None = None,
             ask_key: int = 0) -> Measured:
        """Survey this week's sample and return the pooled figures.

        Parameters
        ----------
        status, ltr : (n,) arrays
            Customer status and latent LTR.
        customer_unit : callable
            The unit of the colleague who served each of the given customers last (-1 if
            none; those answer for the company only).
        satisfaction, contact_unit : (m,) arrays
            Satisfaction 0..1 of this week's contacts and the unit that served each.
        engagement, colleague_unit : (c,) arrays
            Colleagues' engagement and unit.
        begging : (units,) array, optional
            The chance, 0..1, that each unit's staff asked a customer they served for the
            score: an asked respondent's answer is lifted by `score_begging` points (NPS), an
            asked contact's rating by a tenth of that (CSAT); not what anyone feels.
        ask_key : np.uint64 or int
            This week's key of the draws of who was asked,
            ``rng.stream_key(seed, week, rng.ASK)``.
        """
        m, rng, nu = self.m, self.rng, self.n_units
        ask = np.zeros(nu + 1) if begging is None else np.append(begging, 0.0)
        who = respondents(status, ltr, m, rng)
        unit = customer_unit(who)
        # even counters: respondents by customer node; odd: this week's contacts by row
        asked = was_asked(ask_key, 2 * who, ask[np.where(unit >= 0, unit, nu)])
        y = answers(ltr[who] + m.score_begging * asked, rng.standard_normal(len(who)), m)
        rec = {"nps_n": _by_unit(unit, 1.0, nu), "nps_prom": _by_unit(unit, y >= PROMOTER_MIN, nu),
               "nps_det": _by_unit(unit, y < DETRACTOR_MAX, nu)}
        rated = was_asked(ask_key, 2 * np.arange(len(satisfaction)) + 1, ask[contact_unit])
        # contacts answer as customers do, more often the more satisfied (or the less)
        csat_chance = np.minimum(1.0, m.csat_response_rate * response_lift(10.0 * satisfaction,
                                                                           m))
        rec |= self._rating("csat", satisfaction + m.score_begging / 10.0 * rated,
                            contact_unit, csat_chance, m.csat_noise)
        rec |= self._rating("eng", engagement, colleague_unit, m.pulse_rate, m.pulse_noise)
        self.weeks.append(rec)
        return self._pooled()

    def _rating(self, name: str, truth: np.ndarray, unit: np.ndarray,
                rate: float | np.ndarray, noise: float) -> dict[str, np.ndarray]:
        """A 0..1 rating survey (transactional CSAT, engagement pulse): each rater answers with
        chance `rate` (one for all, or each their own), the true value plus noise, clipped;
        respondents, sum and sum of squares per unit."""
        took = self.rng.random(len(truth)) < rate
        x = np.clip(truth[took] + noise * self.rng.standard_normal(int(took.sum())), 0, 1)
        u, nu = unit[took], self.n_units
        return {f"{name}_n": _by_unit(u, 1.0, nu), f"{name}_sum": _by_unit(u, x, nu),
                f"{name}_sq": _by_unit(u, x * x, nu)}

    def _pooled(self) -> Measured:
        tot = {k: np.sum([w[k] for w in self.weeks], axis=0) for k in FIELDS}
        all_ = {k: float(v.sum()) for k, v in tot.items()}  # column n_units: no unit
        n = int(all_["nps_n"])
        p = all_["nps_prom"] / n if n else 0.0
        d = all_["nps_det"] / n if n else 0.0
        csat, csat_moe = _mean_moe(all_["csat_sum"], all_["csat_sq"], all_["csat_n"])
        eng, eng_moe = _mean_moe(all_["eng_sum"], all_["eng_sq"], all_["eng_n"])
        un, cn = tot["nps_n"][:-1], tot["csat_n"][:-1]
        with np.errstate(invalid="ignore", divide="ignore"):
            unit_nps = np.where(un > 0, 100.0 * (tot["nps_prom"][:-1] - tot["nps_det"][:-1])
                                / un, np.nan)
            unit_csat = np.where(cn > 0, 100.0 * tot["csat_sum"][:-1] / cn, np.nan)
            en = tot["eng_n"][:-1]
            unit_eng = np.where(en > 0, tot["eng_sum"][:-1] / en, np.nan)
        return Measured(nps=100.0 * (p - d) if n else float("nan"), nps_margin=margin(p, d, n),
                        csat=100.0 * csat, csat_margin=100.0 * csat_moe, engagement=eng,
                        engagement_margin=eng_moe, unit_nps=unit_nps, unit_csat=unit_csat,
                        unit_engagement=unit_eng, unit_nps_n=un.astype(np.int64),
                        unit_csat_n=cn.astype(np.int64))


def _by_unit(unit: np.ndarray, weights, n_units: int) -> np.ndarray:
    """Sums per unit, with one extra slot (index n_units) for answers with no unit (-1)."""
    idx = np.where(unit >= 0, unit, n_units)
    w = np.broadcast_to(np.asarray(weights, dtype=float), idx.shape)
    return np.bincount(idx, weights=w, minlength=n_units + 1)


def _mean_moe(s: float, sq: float, n: float) -> tuple[float, float]:
    """Mean and 95% margin of error from a sum, a sum of squares and a count."""
    if n < 1:
        return float("nan"), float("nan")
    mean = s / n
    var = max(sq / n - mean * mean, 0.0)
    return mean, 1.96 * np.sqrt(var / n)
