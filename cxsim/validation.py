"""Pattern-oriented validation: the model's figures against patterns published in field studies.

`cxsim validate` runs a scenario R times (plus two paired variants: the culture-first levers
switched on at week 0, and a four-week service failure at week 8, both with the same seeds) and
computes each pattern's statistic the way the study did: unit-level correlations from annual
unit aggregates, company rates from the simulated weeks only (the burn-in is never recorded).
Each statistic gets a 95% t-interval over replications and passes when the mean lies in the
target band. The bands, their sources and how each band was set are in docs/validation.md.

The model is *not* tuned to these patterns: the table shows today's failures honestly.

>>> from cxsim.validation import PATTERNS, SOURCES
>>> len(PATTERNS) >= 12 and len({p.source for p in PATTERNS}) >= 6
True
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .measurement import answers as survey_answers
from .metrics import last_unit
from .scenario import CHANNELS, Scenario, validate_scenario
from .sources import PARAMETER_SOURCES

LEVELS = ("individual", "unit", "company")
SEGMENTS = ("detractor", "passive", "promoter")
WEEKS_PER_YEAR = 52
# the within-person share: weekly engagement over a quarter (an assumption; weekly diary studies
# run 5-15 weeks, and with a slowly drifting level the share grows with the window)
DIARY_WEEKS = 13
FAILURE_STEP = 8  # week of the service failure of the recovery pattern
PROBE_STREAM = 7  # the census survey's answer noise: a stream of the run's seed no model draw uses
FAILURE = {"type": "service_failure", "step": FAILURE_STEP, "duration": 4, "severity": 0.4,
           "share": 0.5}
FAILURE_END = FAILURE_STEP + FAILURE["duration"]  # the first week of restored service
#: the long run after a failure: the second half-year after the service is restored
LONG_RUN = (26, 52)
# the culture change of the timing pattern: the levers of the built-in culture_first scenario
CULTURE_CHANGE_FALLBACK = {"empowerment": 0.8, "productivity_pressure": 0.2,
                           "cx_metrics_weight": 0.7, "co_creation": 0.5,
                           "complaints_first": 0.5, "training": 0.4}

#: Published sources: key -> full reference (cited in docs/validation.md).
SOURCES: dict[str, str] = {
    "Harter2002": "Harter, J. K., Schmidt, F. L., & Hayes, T. L. (2002). Business-unit-level "
                  "relationship between employee satisfaction, employee engagement, and business "
                  "outcomes: A meta-analysis. Journal of Applied Psychology, 87(2), 268-279.",
    "BrownLam2008": "Brown, S. P., & Lam, S. K. (2008). A meta-analysis of relationships "
                    "linking employee satisfaction to customer responses. Journal of Retailing, "
                    "84(3), 243-255.",
    "East2007": "East, R., Hammond, K., & Wright, M. (2007). The relative incidence of positive "
                "and negative word of mouth: A multi-category study. International Journal of "
                "Research in Marketing, 24(2), 175-184.",
    "East2008": "East, R., Hammond, K., & Lomax, W. (2008). Measuring the impact of positive "
                "and negative word of mouth on brand purchase probability. International "
                "Journal of Research in Marketing, 25(3), 215-224.",
    "East2011": "East, R., Romaniuk, J., & Lomax, W. (2011). The NPS and the ACSI: A critique "
                "and an alternative metric. International Journal of Market Research, 53(3), "
                "327-346.",
    "PetersonWilson1992": "Peterson, R. A., & Wilson, W. R. (1992). Measuring customer "
                          "satisfaction: Fact and artifact. Journal of the Academy of Marketing "
                          "Science, 20(1), 61-71.",
    "Gustafsson2005": "Gustafsson, A., Johnson, M. D., & Roos, I. (2005). The effects of "
                      "customer satisfaction, relationship commitment dimensions, and triggers "
                      "on customer retention. Journal of Marketing, 69(4), 210-218.",
    "ReichheldSasser1990": "Reichheld, F. F., & Sasser, W. E. (1990). Zero defections: Quality "
                           "comes to services. Harvard Business Review, 68(5), 105-111.",
    "Reichheld2003": "Reichheld, F. F. (2003). The one number you need to grow. Harvard "
                     "Business Review, 81(12), 46-54.",
    "Batt2002": "Batt, R. (2002). Managing customer services: Human resource practices, quit "
                "rates, and sales growth. Academy of Management Journal, 45(3), 587-597.",
    "BLS_JOLTS": "U.S. Bureau of Labor Statistics, Job Openings and Labor Turnover Survey "
                 "(JOLTS), quits rates by industry (retail trade; accommodation and food "
                 "services), 2019-2024.",
    "Damodaran2024": "Damodaran, A. (2024). Operating and net margins by industry sector (US), "
                     "NYU Stern data set, January 2024 update.",
    "Kotter1995": "Kotter, J. P. (1995). Leading change: Why transformation efforts fail. "
                  "Harvard Business Review, 73(2), 59-67.",
    "Buell2021": "Buell, R. W., Campbell, D., & Frei, F. X. (2021). The customer may not always "
                 "be right: Customer compatibility and service performance. Management Science, "
                 "67(3), 1468-1488.",
    "Roland2009": "Roland, M., Elliott, M., Lyratzopoulos, G., et al. (2009). Reliability of "
                  "patient responses in pay for performance schemes: analysis of national "
                  "General Practitioner Patient Survey data in England. BMJ, 339, b3851.",
    "Young2018": "Young, H. R., Glerum, D. R., Wang, W., & Joseph, D. L. (2018). Who are the "
                 "most engaged at work? A meta-analysis of personality and employee engagement. "
                 "Journal of Organizational Behavior, 39(10), 1330-1346.",
    "Estabrooks2011": "Estabrooks, C. A., Squires, J. E., Hutchinson, A. M., Scott, S., "
                      "Cummings, G. G., Kang, S. H., Midodzi, W. K., & Stevens, B. (2011). "
                      "Assessment of variation in the Alberta Context Tool: the contribution of "
                      "unit level contextual factors and specialty in Canadian pediatric acute "
                      "care settings. BMC Health Services Research, 11, 251.",
    "Corbeanu2023": "Corbeanu, A., & Iliescu, D. (2023). The link between work engagement and "
                    "job performance: A meta-analysis. Journal of Personnel Psychology, 22(3), "
                    "111-122.",
    "Christian2011": "Christian, M. S., Garza, A. S., & Slaughter, J. E. (2011). Work "
                     "engagement: A quantitative review and test of its relations with task and "
                     "contextual performance. Personnel Psychology, 64(1), 89-136.",
    "Slovic1993": "Slovic, P. (1993). Perceived risk, trust, and democracy. Risk Analysis, "
                  "13(6), 675-682.",
    "Gijsenberg2015": "Gijsenberg, M. J., van Heerde, H. J., & Verhoef, P. C. (2015). Losses "
                      "loom longer than gains: Modeling the impact of service crises on "
                      "perceived service quality over time. Journal of Marketing Research, "
                      "52(5), 642-656.",
    "SQM2022": "SQM Group (2022). Call center industry FCR benchmark: a good first call "
               "resolution rate is 70-79% (post-call surveys of over 500 North American call "
               "centres; average 72%). sqmgroup.com.",
    "Seddon2003": "Seddon, J. (2003). Freedom from Command and Control: A Better Way to Make "
                  "the Work Work. Buckingham: Vanguard Education.",
}


@dataclass(frozen=True)
class Pattern:
    """One empirical pattern: what is computed, from which study, and the band it must hit."""

    key: str
    name: str
    level: str  # individual | unit | company
    source: str  # key of SOURCES (the first one when several)
    year: int
    statistic: str  # how the model's value is computed, in words
    low: float
    high: float
    mechanism: str  # which mechanism of the model produces it
    extra_sources: tuple[str, ...] = ()

    @property
    def band(self) -> str:
        def f(x: float) -> str:
            return "-inf" if x == -np.inf else "inf" if x == np.inf else f"{x:g}"
        return f"[{f(self.low)}, {f(self.high)}]"

    @property
    def source_label(self) -> str:
        keys = (self.source,) + self.extra_sources
        return "; ".join(_short(k) for k in keys)


#: Short in-text labels of the sources.
SHORT: dict[str, str] = {
    "Harter2002": "Harter, Schmidt & Hayes 2002", "BrownLam2008": "Brown & Lam 2008",
    "East2007": "East, Hammond & Wright 2007", "East2008": "East, Hammond & Lomax 2008",
    "East2011": "East, Romaniuk & Lomax 2011",
    "PetersonWilson1992": "Peterson & Wilson 1992", "Gustafsson2005": "Gustafsson et al. 2005",
    "ReichheldSasser1990": "Reichheld & Sasser 1990", "Reichheld2003": "Reichheld 2003",
    "Batt2002": "Batt 2002", "BLS_JOLTS": "BLS JOLTS 2019-2024",
    "Damodaran2024": "Damodaran 2024", "Kotter1995": "Kotter 1995", "Slovic1993": "Slovic 1993",
    "Buell2021": "Buell, Campbell & Frei 2021", "Roland2009": "Roland et al. 2009",
    "SQM2022": "SQM Group 2022", "Seddon2003": "Seddon 2003",
    "Young2018": "Young et al. 2018", "Estabrooks2011": "Estabrooks et al. 2011",
    "Corbeanu2023": "Corbeanu & Iliescu 2023", "Christian2011": "Christian, Garza & Slaughter 2011",
    "Gijsenberg2015": "Gijsenberg, van Heerde & Verhoef 2015",
}


def _short(key: str) -> str:
    return SHORT[key]


PATTERNS: tuple[Pattern, ...] = (
    # -- individual ------------------------------------------------------------------------------
    Pattern("answer_skew", "0-10 answers are negatively skewed", "individual",
            "PetersonWilson1992", 1992,
            "skewness of the 0-10 recommend answers of active customers (every 4th week)",
            -np.inf, -0.2,
            "attitude: ltr = weighted memory, trust, empathy plus a personal disposition"),
    Pattern("top_box_10", "Share answering exactly 10 is a minority", "individual",
            "PetersonWilson1992", 1992,
            "share of active customers' 0-10 answers equal to 10", 0.05, 0.25,
            "attitude: clipping of the continuous score at 10 (floor of ltr)"),
    Pattern("churn_by_segment", "Detractors churn more than promoters", "individual",
            "Gustafsson2005", 2005,
            "weekly churn hazard of detractors / that of promoters (segment when churning)",
            1.5, 10.0, "churn: hazard falls with emotional memory and trust",
            ("Reichheld2003",)),
    Pattern("pwom_from_non_promoters", "Positive WoM also comes from non-promoters",
            "individual", "East2011", 2011,
            "share of positive speakers who are not promoters (answer < 9)", 0.2, 0.7,
            "word of mouth: who talks, and with which valence", ("East2008",)),
    Pattern("nwom_from_non_detractors", "Negative WoM also comes from non-detractors",
            "individual", "East2011", 2011,
            "share of negative speakers who are not detractors (answer >= 7)", 0.1, 0.6,
            "word of mouth: who talks, and with which valence"),
    Pattern("engagement_person_share", "Much of a person's engagement is their own",
            "individual", "Young2018", 2018,
            "share of the variance of front-line colleagues' engagement explained by their own "
            "trait (r squared across colleagues in post, every 4th week)", 0.30, 0.55,
            "engagement: each person's own trait in the engagement target, drawn for each hire"),
    Pattern("engagement_performance_r", "Engagement goes with the service a colleague gives",
            "individual", "Corbeanu2023", 2023,
            "Pearson r across front-line colleagues in post all year of their mean engagement "
            "and the mean experience they delivered (20 contacts or more), per year", 0.30, 0.45,
            "service: engagement's weight in the experience", ("Christian2011",)),
    # -- unit ------------------------------------------------------------------------------------
    Pattern("unit_eng_csat_r", "Unit engagement correlates weakly with customer satisfaction",
            "unit", "Harter2002", 2002,
            "Pearson r across front-line units of annual mean engagement and annual CSAT, "
            "averaged over years (Fisher z)", 0.10, 0.40,
            "service (engagement -> experience) and the mirror (satisfaction -> engagement)"),
    Pattern("unit_eng_nps_r", "Unit engagement correlates weakly with NPS", "unit",
            "BrownLam2008", 2008,
            "Pearson r across units of annual mean engagement and annual unit NPS",
            0.05, 0.40, "service, perception and attitude of the unit's last-served customers"),
    Pattern("unit_eng_turnover_r", "Engaged units lose fewer staff", "unit", "Harter2002", 2002,
            "Pearson r across units of annual mean engagement and annual staff turnover rate",
            -0.45, -0.05, "staff: attrition falls with engagement; onboarding engagement of hires",
            ("Batt2002",)),
    Pattern("unit_answer_icc", "Units differ little in what their customers answer", "unit",
            "Buell2021", 2021,
            "ICC(1) of active customers' 0-10 answers by the store that last served them (every "
            "4th week)", 0.008, 0.07,
            "staff, local market and customer mix by catchment (perception.mix_spread is "
            "calibrated to about 1%)", ("Roland2009",)),
    Pattern("engagement_team_icc", "Colleagues differ more than teams do in engagement",
            "unit", "Estabrooks2011", 2011,
            "ICC(1) by team of the true engagement of front-line colleagues in post (every 4th "
            "week; teams of at least 3)", 0.05, 0.30,
            "engagement: each person's trait against what a team shares (the levers as "
            "practised, the unit's manager, peers pulling colleagues together, the customers "
            "served)"),
    Pattern("unit_quartile_csat_gap", "Top- vs bottom-quartile engagement units differ modestly "
            "in CSAT", "unit", "Harter2002", 2002,
            "annual CSAT (points) of the top engagement quartile of units minus the bottom",
            1.0, 8.0, "service: engagement's weight in the experience"),
    # -- company ---------------------------------------------------------------------------------
    Pattern("nps", "Company NPS in the range of typical firms", "company", "Reichheld2003", 2003,
            "mean weekly NPS of active customers over the simulated weeks", 0.0, 50.0,
            "attitude: ltr offset and weights; promoters 9-10, detractors 0-6"),
    Pattern("customer_churn", "Annual customer churn of a service firm", "company",
            "ReichheldSasser1990", 1990,
            "customers churned per year / mean active customers", 0.05, 0.30,
            "churn: base hazard and its sensitivity to memory and trust"),
    Pattern("staff_attrition", "Annual staff attrition in customer service", "company",
            "Batt2002", 2002, "leavers per year / colleagues", 0.15, 0.50,
            "staff: base attrition, engagement, tenure protection", ("BLS_JOLTS",)),
    Pattern("margin", "Operating margin of a service business", "company", "Damodaran2024", 2024,
            "profit / revenue over the simulated weeks", 0.02, 0.15,
            "money: cost of sales, salaries, contacts, hiring, acquisition"),
    Pattern("first_contact_resolution", "About 70-80% of contacts are resolved first time",
            "company", "SQM2022", 2022,
            "first contacts about an issue resolved at the contact (as a survey straight after "
            "finds) / first contacts, over the simulated weeks", 0.65, 0.80,
            "resolution: skill, headroom and process chain against felt pressure and overload "
            "(fcr_intercept is calibrated to this band)"),
    Pattern("failure_demand", "A large share of demand is failure demand", "company",
            "Seddon2003", 2003,
            "repeat contacts about an open issue / all contacts, over the simulated weeks",
            0.30, 0.60,
            "capacity loop: unresolved contacts and failed back-office deliveries come back "
            "(progress chasing), load lowers resolution"),
    Pattern("pwom_share", "Positive WoM outnumbers negative about 3:1", "company", "East2007",
            2007, "positive speaker-weeks / all speaker-weeks", 0.60, 0.85,
            "word of mouth: talk rates by segment and amplification"),
    Pattern("culture_half_time", "A culture change takes months to show in CSAT", "company",
            "Kotter1995", 1995,
            "weeks until the CSAT gain of the culture-first levers (set at week 0, paired "
            "seeds) reaches half its final size", 8.0, 78.0,
            "culture and engagement dynamics (engagement_rate), training, turnover"),
    Pattern("recovery_vs_fall", "After a failure, recovery takes longer than the fall",
            "company", "Slovic1993", 1993,
            "weeks from the NPS trough back to half the loss / weeks from the failure to the "
            "trough (4-week failure at week 8, paired seeds)", 2.0, 50.0,
            "perception: trust gain vs trust loss, negativity bias, memory and peak decay"),
    Pattern("restoration_csat_gap", "A restored service does not win satisfaction back",
            "company", "Gijsenberg2015", 2015,
            "mean CSAT (points) in the second half-year after a 4-week failure ends (weeks "
            "27-52 of restored service), minus the same weeks of the paired run without it",
            -np.inf, 0.0,
            "perception: expectation adapts to experience and acts by contrast (a failure "
            "lowers it, so restored service exceeds it), emotional memory and trust; churn "
            "of the unhappiest"),
)

PATTERN_KEYS = tuple(p.key for p in PATTERNS)
TABLE_COLUMNS = ("pattern", "name", "level", "source", "year", "statistic", "band_low",
                 "band_high", "model_value", "ci_low", "ci_high", "reps", "pass", "mechanism",
                 "calibrated_by")


def calibrated_by(key: str) -> tuple[str, ...]:
    """The scenario fields set against pattern `key`: those whose source in
    `cxsim.sources` names it in a calibration ("calibration: key ..." or "value: calibration
    to the key pattern"). Such a pattern's pass is not independent evidence, and the table
    says so.

    >>> calibrated_by("first_contact_resolution")
    ('service.fcr_intercept',)
    >>> calibrated_by("pwom_share")
    ()
    """
    named = re.compile(rf"calibration[^;]*?\b{re.escape(key)}\b")
    return tuple(f for f, (_, src) in PARAMETER_SOURCES.items() if named.search(src))


# -- the one place that reads the model's state ---------------------------------------------------

def read_state(model: Any) -> dict[str, Any]:
    """The model state the validation and explain instruments read after a step.

    Only this function knows the model's attribute names, so a change of the state's layout
    is fixed here.
    """
    cus, col, lv = model.customers, model.colleagues, model.levers
    per = model.colleague_levers()  # scoped levers differ by colleague: costs use their mean
    return {
        "status": cus.status, "ltr": cus.ltr, "speak": cus.speak, "churned": cus.churned,
        "adopted": cus.adopted, "value": cus.value, "left": col.left,
        "channel": model.contacts.channel, "pay_units": float(model.pay_multiple.sum()),
        "n_colleagues": int(model.org.n), "measurement": model.scenario.measurement,
        "store": _last_store(cus.last_colleague, model.org.team, model.store_teams),
        "engagement": col.engagement, "team": model.org.team,
        "engagement_trait": col.engagement_trait, "served_by": model.contacts.colleague,
        "experience": model.contacts.experience,
        "in_post": model.frontline_mask & (col.vacant == 0),
        "sales": float(np.count_nonzero(model.contacts.sold)),
        "levers": {"training": float(per["training"].mean()),
                   "pay_alignment": float(per["pay_alignment"].mean()),
                   "co_creation": float(per["co_creation"].mean()),
                   "board_cx_role": float(lv.board_cx_role),
                   "advertising": float(lv.advertising),
                   "digital_channel": float(lv.digital_channel)},
    }


def _last_store(last_colleague: np.ndarray, team: np.ndarray, stores: np.ndarray) -> np.ndarray:
    """The store whose colleague served each customer last, -1 when it was no store (or none):
    the location units field studies group customers by (branches, practices)."""
    unit = last_unit(last_colleague, team)
    return np.where(np.isin(unit, stores), unit, -1)


def answers(ltr: np.ndarray) -> np.ndarray:
    """The 0-10 segment score of each customer's latent likelihood to recommend (its floor).

    The distribution of answers (answer_skew, top_box_10) uses what customers would answer a
    survey instead: the ordered response model with answer noise of `cxsim.measurement`.
    """
    return np.clip(np.floor(ltr), 0, 10).astype(np.int64)


def segment_of(answer: np.ndarray) -> np.ndarray:
    """0 detractor (0-6), 1 passive (7-8), 2 promoter (9-10)."""
    return np.where(answer >= 9, 2, np.where(answer >= 7, 1, 0))


class Probe:
    """Accumulates, after every simulated week, what the individual-level patterns need, the
    two unit-level ICCs (customers' answers by store, colleagues' engagement by team, every
    `every` weeks) and the weekly cost drivers (contacts per channel, leavers, levers, value of
    churned customers). `seed` keys the census answer noise: a stream of its own
    (`PROBE_STREAM`), not any of the model's."""

    def __init__(self, every: int = 4, seed: int = 0):
        self.every = every
        self.t = 0
        self.rng = np.random.default_rng([seed, PROBE_STREAM])  # the census answer noise
        self.engagement_icc: list[float] = []
        self.hist = np.zeros(11)
        self.at_risk = np.zeros(3)
        self.churned = np.zeros(3)
        self.speak_pos = np.zeros(3)
        self.speak_neg = np.zeros(3)
        self.icc: list[float] = []
        self.person_share: list[float] = []
        self.performance_r: list[float] = []
        self.performance_points: tuple[np.ndarray, np.ndarray] | None = None  # the first year's
        self._year: dict[str, np.ndarray] = {}  # per colleague, this year so far
        self._year_weeks = 0
        self.within_share: list[float] = []
        self._diary: list[np.ndarray] = []  # this quarter's weekly engagement, per colleague
        self._diary_stayed: np.ndarray | None = None
        self.weekly: list[dict[str, float]] = []

    def after_step(self, model: Any) -> None:
        s = read_state(model)
        status, ans = s["status"], answers(s["ltr"])
        seg = segment_of(ans)
        active = status == 1
        if self.t % self.every == 0:  # what every active customer would answer a survey
            x = s["ltr"][active]
            said = survey_answers(x, self.rng.standard_normal(len(x)), s["measurement"])
            self.hist += np.bincount(said, minlength=11)
            self.icc.append(unit_icc(said, s["store"][active]))
            staff = s["in_post"]  # the front line's engagement, by team
            self.engagement_icc.append(unit_icc(s["engagement"][staff], s["team"][staff],
                                                min_size=3))
            self.person_share.append(_r(s["engagement"][staff], s["engagement_trait"][staff])**2)
        self._track_performance(s)
        self._track_diary(s)
        risk = (active & ~s["adopted"]) | s["churned"]
        self.at_risk += np.bincount(seg[risk], minlength=3)
        self.churned += np.bincount(seg[s["churned"]], minlength=3)
        self.speak_pos += np.bincount(seg[s["speak"] > 0], minlength=3)
        self.speak_neg += np.bincount(seg[s["speak"] < 0], minlength=3)
        by_ch = np.bincount(s["channel"], minlength=len(CHANNELS))
        row = {f"contacts_{c}": float(by_ch[i]) for i, c in enumerate(CHANNELS)}
        row.update(s["levers"])
        row.update(leavers=float(np.count_nonzero(s["left"])), pay_units=s["pay_units"],
                   sales=s["sales"],
                   n_colleagues=float(s["n_colleagues"]),
                   churned_value=float(s["value"][s["churned"]].sum()))
        self.weekly.append(row)
        self.t += 1

    def _track_performance(self, s: dict[str, Any]) -> None:
        """Per colleague and year of 52 weeks: mean engagement and mean experience delivered;
        at the year's end, their correlation across the front-line colleagues in post all year
        who served at least 20 contacts (job performance as field studies rate it)."""
        n = len(s["engagement"])
        y = self._year
        if not y:
            y.update(eng=np.zeros(n), exp=np.zeros(n), served=np.zeros(n),
                     stayed=np.ones(n, bool))
        y["stayed"] &= s["in_post"] & ~s["left"]
        y["eng"] += s["engagement"]
        self._year_weeks += 1
        who = s["served_by"]
        y["exp"] += np.bincount(who, weights=s["experience"], minlength=n)
        y["served"] += np.bincount(who, minlength=n)
        if self._year_weeks >= WEEKS_PER_YEAR:
            keep = y["stayed"] & (y["served"] >= 20)
            if keep.sum() >= 10:
                eng, exp = y["eng"][keep] / self._year_weeks, y["exp"][keep] / y["served"][keep]
                self.performance_r.append(_r(eng, exp))
                if self.performance_points is None:
                    self.performance_points = (eng, exp)
            y.clear()
            self._year_weeks = 0

    def _track_diary(self, s: dict[str, Any]) -> None:
        """Each quarter of weeks, the share of the variance of front-line colleagues' weekly
        engagement that lies within persons (1 - ICC(1) by person, colleagues in post all
        quarter): what a weekly diary study reports."""
        stay = s["in_post"] & ~s["left"]
        self._diary_stayed = stay if self._diary_stayed is None else self._diary_stayed & stay
        self._diary.append(np.asarray(s["engagement"], float).copy())
        if len(self._diary) < DIARY_WEEKS:
            return
        who = np.flatnonzero(self._diary_stayed)
        if len(who) >= 10:
            self.within_share.append(within_person_share(np.stack(self._diary)[:, who]))
        self._diary.clear()
        self._diary_stayed = None

    def result(self) -> dict[str, Any]:
        return {"hist": self.hist, "at_risk": self.at_risk, "churned": self.churned,
                "speak_pos": self.speak_pos, "speak_neg": self.speak_neg,
                "icc": np.asarray(self.icc), "engagement_icc": np.asarray(self.engagement_icc),
                "person_share": np.asarray(self.person_share),
                "performance_r": np.asarray(self.performance_r),
                "performance_points": self.performance_points,
                "within_share": np.asarray(self.within_share),
                "weekly": pd.DataFrame(self.weekly)}


# -- statistics (pure functions of the recorded data; tested on synthetic inputs) -----------------

def _nanmean(x: Sequence[float]) -> float:
    """Mean of the finite values; nan when there are none."""
    x = np.asarray(x, float)
    return float(np.mean(x[np.isfinite(x)])) if np.isfinite(x).any() else float("nan")


def _r(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson r; nan when either has no spread or there are fewer than 3 values."""
    if len(x) < 3 or np.std(x) == 0 or np.std(y) == 0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


def hist_skewness(hist: Sequence[float]) -> float:
    """Skewness (population moments) of a 0-10 answer distribution given as counts."""
    h = np.asarray(hist, float)
    n = h.sum()
    if n <= 0:
        return float("nan")
    x = np.arange(len(h))
    m = (h * x).sum() / n
    v = (h * (x - m) ** 2).sum() / n
    if v <= 0:
        return 0.0
    return float((h * (x - m) ** 3).sum() / n / v ** 1.5)


def top_box_share(hist: Sequence[float]) -> float:
    """Share of answers equal to 10."""
    h = np.asarray(hist, float)
    return float(h[10] / h.sum()) if h.sum() > 0 else float("nan")


def churn_ratio(at_risk: Sequence[float], churned: Sequence[float]) -> float:
    """Churn hazard of detractors divided by that of promoters (segments 0 and 2)."""
    a, c = np.asarray(at_risk, float), np.asarray(churned, float)
    if a[0] <= 0 or a[2] <= 0 or c[2] <= 0:
        return float("nan") if a[0] <= 0 or a[2] <= 0 else float("inf")
    return float((c[0] / a[0]) / (c[2] / a[2]))


def share_outside(counts: Sequence[float], segment: int) -> float:
    """Share of speakers who are not in `segment` (e.g. positive speakers not promoters)."""
    c = np.asarray(counts, float)
    return float(1.0 - c[segment] / c.sum()) if c.sum() > 0 else float("nan")


def unit_icc(values: np.ndarray, unit: np.ndarray, min_size: int = 30) -> float:
    """ICC(1), the one-way ANOVA estimate of the between-unit share of the variance, of
    `values` grouped by `unit` (units with fewer than `min_size` values, and unit -1, left
    out; nan with fewer than two units).

    >>> rng = np.random.default_rng(0)
    >>> unit = np.repeat(np.arange(40), 200)
    >>> x = rng.normal(0, 0.3, 40)[unit] + rng.normal(0, 1, len(unit))
    >>> abs(unit_icc(x, unit) - 0.09 / 1.09) < 0.03  # the true share, within sampling error
    True
    """
    keep = unit >= 0
    x, g = np.asarray(values, float)[keep], unit[keep]
    _, g, n = np.unique(g, return_inverse=True, return_counts=True)
    big = n >= min_size
    if np.count_nonzero(big) < 2:
        return float("nan")
    x, g = x[big[g]], g[big[g]]
    _, g, n = np.unique(g, return_inverse=True, return_counts=True)  # units 0..k-1
    means = np.bincount(g, x) / n
    k = len(n)
    grand = x.mean()
    between = float(np.sum(n * (means - grand) ** 2)) / (k - 1)
    within = float(np.sum((x - means[g]) ** 2)) / (len(x) - k)
    n0 = (len(x) - np.sum(n * n) / len(x)) / (k - 1)
    return float((between - within) / (between + (n0 - 1) * within))


def within_person_share(x: np.ndarray) -> float:
    """The share of the variance of repeated measures `x` (occasions x persons) that lies
    within persons: 1 - ICC(1) by person, what a diary study's null model reports.

    >>> rng = np.random.default_rng(1)
    >>> x = rng.normal(0, 1, 400) + rng.normal(0, 0.5, (20, 400))  # person + occasion
    >>> abs(within_person_share(x) - 0.25 / 1.25) < 0.03
    True
    """
    x = np.asarray(x, float)
    if x.ndim != 2 or min(x.shape) < 2:
        return float("nan")
    person = np.broadcast_to(np.arange(x.shape[1]), x.shape)
    return 1.0 - unit_icc(x.ravel(), person.ravel(), min_size=x.shape[0])


def positive_share(pos: float, neg: float) -> float:
    """Positive WoM as a share of all WoM."""
    return float(pos / (pos + neg)) if pos + neg > 0 else float("nan")


def unit_years(units: pd.DataFrame, weeks: int = WEEKS_PER_YEAR,
               measured: bool = True) -> pd.DataFrame:
    """Annual unit aggregates as unit-level studies compute them, from a weekly unit table.

    Columns of `units`: step, unit, engagement, csat, nps, staff_leavers, colleagues, customers,
    contacts, and when present the survey measures (engagement_measured, csat_measured,
    nps_measured with their respondents), which are then used, as field studies use surveys.
    Returns one row per (year, unit): engagement (mean), csat (contact-weighted),
    nps (customer-weighted), turnover (leavers per colleague, annualised). Only whole years are
    used; a run shorter than a year counts as one period. With `measured` false the true
    values are used even where survey measures exist (what no survey can see).
    """
    u = units.copy()
    n_steps = int(u["step"].max()) + 1 if len(u) else 0
    span = weeks if n_steps >= weeks else max(n_steps, 1)
    u["year"] = u["step"] // span
    u = u[u["year"] < max(n_steps // span, 1)]
    if measured and "csat_measured" in u:  # as the studies did: from the surveys
        eng, csat, nps = "engagement_measured", "csat_measured", "nps_measured"
        csat_n, nps_n = "csat_respondents", "nps_respondents"
    else:
        eng, csat, nps, csat_n, nps_n = "engagement", "csat", "nps", "contacts", "customers"
    u["csat_w"] = u[csat].fillna(0.0) * u[csat_n]
    u["nps_w"] = u[nps].fillna(0.0) * u[nps_n]
    g = u.groupby(["year", "unit"], sort=True)
    out = pd.DataFrame({
        "engagement": g[eng].mean(),
        "csat": g["csat_w"].sum() / g[csat_n].sum().replace(0, np.nan),
        "nps": g["nps_w"].sum() / g[nps_n].sum().replace(0, np.nan),
        "turnover": g["staff_leavers"].sum() / g["colleagues"].mean() * weeks / g.size(),
    }).reset_index()
    return out


def unit_correlation(years: pd.DataFrame, x: str, y: str, min_units: int = 4) -> float:
    """Pearson r across units within each year, averaged over years with Fisher's z."""
    zs = []
    for _, g in years.groupby("year"):
        g = g[[x, y]].dropna()
        if len(g) < min_units or g[x].std() == 0 or g[y].std() == 0:
            continue
        r = float(np.corrcoef(g[x], g[y])[0, 1])
        zs.append(np.arctanh(np.clip(r, -0.999999, 0.999999)))
    return float(np.tanh(np.mean(zs))) if zs else float("nan")


def true_links(units: pd.DataFrame) -> list[float]:
    """The unit-level links of engagement with CSAT, NPS and staff turnover computed from the
    true values, without the surveys' sampling and answer noise."""
    y = unit_years(units, measured=False)
    return [unit_correlation(y, "engagement", k) for k in ("csat", "nps", "turnover")]


def quartile_gap(years: pd.DataFrame, x: str = "engagement", y: str = "csat") -> float:
    """Mean `y` of the top quartile of units by `x` minus the bottom one, averaged over years."""
    gaps = []
    for _, g in years.groupby("year"):
        g = g[[x, y]].dropna().sort_values(x)
        if len(g) < 4:
            continue
        k = max(1, len(g) // 4)
        gaps.append(g[y].iloc[-k:].mean() - g[y].iloc[:k].mean())
    return float(np.mean(gaps)) if gaps else float("nan")


def company_rates(ts: pd.DataFrame, n_colleagues: int) -> dict[str, float]:
    """NPS, annual customer churn, annual staff attrition, margin, first-contact resolution and
    failure demand from one run's weeks (the last two nan when the table lacks them)."""
    weeks = len(ts)
    active = float(ts["active_customers"].mean())
    rev = float(ts["revenue"].sum())
    nan = float("nan")
    return {
        "first_contact_resolution": float(ts["first_contact_resolution"].mean())
        if "first_contact_resolution" in ts else nan,
        "failure_demand": float(ts["failure_demand"].mean()) if "failure_demand" in ts else nan,
        "nps": float(ts["nps_measured"].mean() if "nps_measured" in ts else ts["nps"].mean()),
        "customer_churn": float(ts["churned"].sum()) / max(active, 1.0) * WEEKS_PER_YEAR / weeks,
        "staff_attrition": float(ts["staff_attrition"].sum()) / max(n_colleagues, 1)
        * WEEKS_PER_YEAR / weeks,
        "margin": float(ts["profit"].sum()) / rev if rev else float("nan"),
    }


def _rolling(x: np.ndarray, k: int = 4) -> np.ndarray:
    s = pd.Series(np.asarray(x, float))
    return s.rolling(k, min_periods=1).mean().to_numpy()


def half_time(diff: Sequence[float], tail: int = 13, min_effect: float = 0.5) -> float:
    """Weeks until a paired difference (scenario - reference, starting at week 0) reaches half
    its final size (mean of the last `tail` weeks; 4-week rolling mean); nan if no effect."""
    return half_time_observed(diff, tail, min_effect)[0]


def half_time_observed(diff: Sequence[float], tail: int = 13,
                       min_effect: float = 0.5) -> tuple[float, bool]:
    """`half_time` and whether it is censored: half the effect is never reached within the run,
    so the weeks returned (the weeks run) are only a lower bound."""
    d = _rolling(np.asarray(diff, float))
    final = float(np.mean(np.asarray(diff, float)[-tail:]))
    if not np.isfinite(final) or abs(final) < min_effect:
        return float("nan"), False
    reached = np.flatnonzero(np.sign(final) * d >= abs(final) / 2)
    return (float(reached[0] + 1), False) if len(reached) else (float(len(d)), True)


def recovery_fall(diff: Sequence[float], start: int, window: int = 26) -> tuple[float, float]:
    """(fall weeks, recovery weeks) of a paired difference after a failure starting at `start`:
    fall = weeks from the start to the trough (within `window` weeks), recovery = weeks from the
    trough until the loss is back to half its depth (2-week rolling mean; censored at the end)."""
    fall, recovery, _ = recovery_fall_observed(diff, start, window)
    return fall, recovery


def recovery_fall_observed(diff: Sequence[float], start: int,
                           window: int = 26) -> tuple[float, float, bool]:
    """`recovery_fall` and whether the recovery is censored: the loss is not back to half its
    depth by the end of the run, so the recovery weeks returned are only a lower bound."""
    d = _rolling(np.asarray(diff, float), 2)
    seg = d[start: start + window]
    if len(seg) == 0:
        return float("nan"), float("nan"), False
    trough = start + int(np.argmin(seg))
    depth = d[trough]
    if depth >= 0:
        return float("nan"), float("nan"), False
    back = np.flatnonzero(d[trough:] >= depth / 2)
    if len(back):
        return float(trough - start + 1), float(back[0]), False
    return float(trough - start + 1), float(len(d) - trough), True


def after_gap(failure: Sequence[float], reference: Sequence[float],
              window: tuple[int, int] = LONG_RUN, end: int = FAILURE_END) -> float:
    """Mean of the paired difference `failure` - `reference` over the weeks `window` counted
    from `end`, the first week of restored service (the long run after the failure); nan when
    the run ends before the window does.

    >>> after_gap([0, -5, -5, 2, 1, 0], [0, 0, 0, 0, 0, 1], window=(0, 3), end=3)
    0.6666666666666666
    """
    d = np.asarray(failure, float) - np.asarray(reference, float)
    lo, hi = end + window[0], end + window[1]
    return float(d[lo:hi].mean()) if len(d) >= hi else float("nan")


def ci95(values: Sequence[float]) -> tuple[float, float, float]:
    """Mean and 95% t-interval over replications (finite values only)."""
    from .experiments.compare import mean_ci

    x = np.asarray([v for v in values if np.isfinite(v)], float)
    if len(x) == 0:
        return float("nan"), float("nan"), float("nan")
    return mean_ci(x)


# -- running --------------------------------------------------------------------------------------

def _with_event(sc: Scenario, event: dict[str, Any], name: str) -> Scenario:
    data = sc.to_dict()
    data["events"] = list(data.get("events", [])) + [event]
    data["name"] = name
    return validate_scenario(data, source=f"{sc.name} + {name}")


def culture_change_levers() -> dict[str, Any]:
    """The lever changes of the built-in culture_first scenario (its event at week 0)."""
    from .scenario import SetEvent, load_scenario

    try:
        ev = [e for e in load_scenario("culture_first").events if isinstance(e, SetEvent)]
        return dict(ev[0].set) if ev else dict(CULTURE_CHANGE_FALLBACK)
    except Exception:  # noqa: BLE001 - built-ins moved: fall back to the documented levers
        return dict(CULTURE_CHANGE_FALLBACK)


def variants(sc: Scenario) -> dict[str, Scenario]:
    """The reference run and the two paired variants of the timing patterns."""
    return {"reference": sc,
            "culture_change": _with_event(sc, {"type": "set", "step": 0,
                                               "set": culture_change_levers()},
                                          f"{sc.name}+culture_change"),
            "failure": _with_event(sc, dict(FAILURE), f"{sc.name}+failure")}


def _task(args: tuple) -> tuple[str, int, Any]:
    from .experiments.run import run_one

    kind, sc, seed, rep = args
    probe = Probe(seed=seed) if kind == "reference" else None
    res = run_one(sc, seed, rep, sc.steps, "numba", None, units=kind == "reference",
                  probe=probe)
    return kind, rep, res


@dataclass
class Validation:
    """A validation run: the table, per-replication values and what the figures draw."""

    scenario: str
    reps: int
    seed: int
    table: pd.DataFrame
    values: pd.DataFrame  # rep, pattern, value
    context: dict[str, Any] = field(default_factory=dict)
    wall_s: float = 0.0


def rep_values(ref: Any, culture: Any, failure: Any, n_colleagues: int) -> dict[str, float]:
    """Every pattern's statistic for one replication (three paired RunResults)."""
    pr = ref.probe
    years = unit_years(ref.units)
    comp = company_rates(ref.timeseries, n_colleagues)
    csat_diff = (culture.timeseries["csat"].to_numpy() - ref.timeseries["csat"].to_numpy())
    nps_diff = (failure.timeseries["nps"].to_numpy() - ref.timeseries["nps"].to_numpy())
    fall, rec = recovery_fall(nps_diff, FAILURE_STEP)
    return {
        "answer_skew": hist_skewness(pr["hist"]),
        "top_box_10": top_box_share(pr["hist"]),
        "churn_by_segment": churn_ratio(pr["at_risk"], pr["churned"]),
        "pwom_from_non_promoters": share_outside(pr["speak_pos"], 2),
        "nwom_from_non_detractors": share_outside(pr["speak_neg"], 0),
        "engagement_person_share": _nanmean(pr["person_share"]),
        "engagement_performance_r": _nanmean(pr["performance_r"]),
        "unit_eng_csat_r": unit_correlation(years, "engagement", "csat"),
        "unit_eng_nps_r": unit_correlation(years, "engagement", "nps"),
        "unit_eng_turnover_r": unit_correlation(years, "engagement", "turnover"),
        "unit_answer_icc": _nanmean(pr["icc"]),
        "engagement_team_icc": _nanmean(pr["engagement_icc"]),
        "unit_quartile_csat_gap": quartile_gap(years),
        **comp,
        "pwom_share": positive_share(pr["speak_pos"].sum(), pr["speak_neg"].sum()),
        "culture_half_time": half_time(csat_diff),
        "recovery_vs_fall": rec / fall if fall and np.isfinite(fall) else float("nan"),
        "restoration_csat_gap": after_gap(failure.timeseries["csat"].to_numpy(),
                                          ref.timeseries["csat"].to_numpy()),
    }


def build_table(values: pd.DataFrame) -> pd.DataFrame:
    """The validation table from per-replication values (columns rep, pattern, value)."""
    rows = []
    for p in PATTERNS:
        v = values.loc[values["pattern"] == p.key, "value"].to_numpy(float)
        m, lo, hi = ci95(v)
        if p.key.endswith("_r"):  # a correlation's interval stays inside [-1, 1]
            lo, hi = max(lo, -1.0), min(hi, 1.0)
        ok = bool(np.isfinite(m) and p.low <= m <= p.high)
        rows.append({"pattern": p.key, "name": p.name, "level": p.level,
                     "source": f"{p.source_label}", "year": p.year, "statistic": p.statistic,
                     "band_low": p.low, "band_high": p.high, "model_value": m, "ci_low": lo,
                     "ci_high": hi, "reps": int(np.isfinite(v).sum()), "pass": ok,
                     "mechanism": p.mechanism, "calibrated_by": "; ".join(calibrated_by(p.key))})
    return pd.DataFrame(rows, columns=list(TABLE_COLUMNS))


def run_validation(sc: Scenario, reps: int = 3, seed: int | None = None, workers: int = 1,
                   progress: Callable[[int], None] | None = None) -> Validation:
    """Run the reference scenario and its two paired variants `reps` times; build the table."""
    from .experiments.run import map_tasks, rep_seeds

    root = sc.seed if seed is None else int(seed)
    seeds = rep_seeds(root, reps)
    scs = variants(sc)
    tasks = [(kind, s, seed_k, k) for k, seed_k in enumerate(seeds) for kind, s in scs.items()]
    t0 = time.perf_counter()
    got = {(kind, k): res for kind, k, res in map_tasks(_task, tasks, workers, progress)}
    rows = []
    for k in range(reps):
        vals = rep_values(got["reference", k], got["culture_change", k], got["failure", k],
                          sc.n_colleagues)
        rows += [{"rep": k, "pattern": key, "value": v} for key, v in vals.items()]
    values = pd.DataFrame(rows)
    ref0 = got["reference", 0]
    context = {
        "hist": sum(got["reference", k].probe["hist"] for k in range(reps)),
        "at_risk": sum(got["reference", k].probe["at_risk"] for k in range(reps)),
        "churned": sum(got["reference", k].probe["churned"] for k in range(reps)),
        "speak_pos": sum(got["reference", k].probe["speak_pos"] for k in range(reps)),
        "speak_neg": sum(got["reference", k].probe["speak_neg"] for k in range(reps)),
        "icc": [got["reference", k].probe["icc"] for k in range(reps)],
        "engagement_icc": [got["reference", k].probe["engagement_icc"] for k in range(reps)],
        "person_share": [got["reference", k].probe["person_share"] for k in range(reps)],
        "within_share": [got["reference", k].probe["within_share"] for k in range(reps)],
        "performance_points": ref0.probe["performance_points"],
        "unit_years": unit_years(ref0.units),
        "true_links": np.nanmean([true_links(got["reference", k].units) for k in range(reps)],
                                 axis=0),
        "timeseries": {kind: pd.concat([got[kind, k].timeseries for k in range(reps)])
                       for kind in scs},
    }
    return Validation(sc.name, reps, root, build_table(values), values, context,
                      time.perf_counter() - t0)


# -- output ---------------------------------------------------------------------------------------

def _fmt(x: float) -> str:
    if not np.isfinite(x):
        return "n/a" if np.isnan(x) else ("inf" if x > 0 else "-inf")
    return f"{x:.3g}" if abs(x) < 1000 else f"{x:,.0f}"


def _beside_table(v: Validation) -> list[str]:
    """Figures that qualify a pattern: first contacts resolved at the contact (the pattern,
    as a survey straight after would find) against first contacts never chased again (the
    repeat-call measure, which also counts failed back-office deliveries)."""
    ts = v.context.get("timeseries", {}).get("reference")
    if ts is None or "first_contact_closure" not in ts:
        return []
    fcr = float(ts["first_contact_resolution"].mean())
    closed = float(ts["first_contact_closure"].mean())
    return ["", "## Beside the table", "",
            f"First contacts resolved at the contact (`first_contact_resolution`, the "
            f"customer's view straight after, as SQM Group surveys it): {_fmt(fcr)}. First "
            f"contacts the customer never comes back about (`first_contact_closure`, the "
            f"repeat-call measure: a failed back-office delivery counts against it, a customer "
            f"who gives up counts for it): {_fmt(closed)}."] + _true_links(v) + _within(v)


def _within(v: Validation) -> list[str]:
    """The within-person share of weekly engagement, the figure a diary study would report,
    which `culture.engagement_week_spread` sets and no pattern bands (none could be sourced)."""
    shares = [x for rep in v.context.get("within_share", []) for x in rep]
    if not shares:
        return []
    return ["", f"Within-person share of front-line colleagues' weekly engagement (1 - ICC(1) by "
            f"person over each quarter of {DIARY_WEEKS} weeks, colleagues in post all "
            f"quarter; what a weekly diary study reports): {_fmt(_nanmean(shares))}. It is "
            f"set by `culture.engagement_week_spread` and is not a pattern: no share for work "
            f"engagement could be sourced (docs/validation.md)."]


def _true_links(v: Validation) -> list[str]:
    """The unit links as no survey can see them, beside the measured ones of the table."""
    links = v.context.get("true_links")
    if links is None or len(links) != 3:
        return []
    csat, nps, turnover = (float(x) for x in links)
    return ["", f"The unit-level links from the true values, without the surveys (sampling, "
            f"non-response, answer noise, score begging): engagement with CSAT r = "
            f"{_fmt(csat)}, with NPS {_fmt(nps)}, with staff turnover {_fmt(turnover)}. The "
            f"table's links come from the surveys, as field studies' do. Where the two are "
            f"close, the surveys measured the units almost without error, and the "
            f"meta-analyses' values corrected for measurement error (Harter et al. 2002) are "
            f"the ones to compare with."]


def report_markdown(v: Validation) -> str:
    """validation.md: the table with verdicts and the figure of each pattern."""
    t = v.table
    n_pass = int(t["pass"].sum())
    lines = [f"# Validation of `{v.scenario}` against published patterns", "",
             f"{v.reps} replication(s), root seed {v.seed}; statistics computed on the simulated "
             f"weeks only (burn-in excluded). **{n_pass} of {len(t)} patterns pass.** "
             "A pattern passes when the mean over replications lies in its band; the 95% "
             "interval is a t-interval over replications. Sources and how each band was set: "
             "docs/validation.md.", "",
             "| level | pattern | source | band | model (95% CI) | pass |",
             "|---|---|---|---|---|---|"]
    for _, r in t.iterrows():
        p = next(q for q in PATTERNS if q.key == r["pattern"])
        verdict = "pass" if r["pass"] else "**FAIL**"
        if r["calibrated_by"]:
            verdict += f" (calibrated: `{r['calibrated_by']}`)"
        lines.append(f"| {r['level']} | {r['name']} (`{p.key}`) | {r['source']} | {p.band} | "
                     f"{_fmt(r['model_value'])} [{_fmt(r['ci_low'])}, {_fmt(r['ci_high'])}] | "
                     f"{verdict} |")
    lines += _beside_table(v)
    lines += ["", "## Figures", ""]
    for p in PATTERNS:
        lines += [f"### {p.name}", "", f"Statistic: {p.statistic}. Mechanism: {p.mechanism}.", "",
                  f"![{p.key}](fig_{p.key}.png)", ""]
    return "\n".join(lines)


def pattern_figure(v: Validation, p: Pattern, path: Path) -> None:
    """One figure per pattern: band and model values (left), the data behind it (right)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ctx = v.context
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(9, 3.2), gridspec_kw={"width_ratios": [1, 1.4]})
    vals = v.values.loc[v.values["pattern"] == p.key, "value"].to_numpy(float)
    row = v.table.set_index("pattern").loc[p.key]
    finite = vals[np.isfinite(vals)]
    lo = p.low if np.isfinite(p.low) else min([p.high - 1] + list(finite))
    hi = p.high if np.isfinite(p.high) else max([p.low + 1] + list(finite))
    ax.axhspan(lo, hi, color="tab:green", alpha=0.2, label="target band")
    ax.scatter(np.zeros(len(finite)), finite, color="k", s=14, label="replications", zorder=3)
    if np.isfinite(row["model_value"]):
        err = None
        if np.isfinite(row["ci_low"]):
            err = [[row["model_value"] - row["ci_low"]], [row["ci_high"] - row["model_value"]]]
        ax.errorbar([0.3], [row["model_value"]], yerr=err, fmt="o",
                    color="tab:green" if row["pass"] else "tab:red", capsize=4,
                    label="mean, 95% CI")
    ax.set_xlim(-0.5, 0.8)
    ax.set_xticks([])
    ax.set_title(f"{'PASS' if row['pass'] else 'FAIL'}: {p.key}", fontsize=9)
    ax.legend(fontsize=6, loc="best")
    _context_panel(bx, p, ctx)
    fig.suptitle(f"{p.name}\n({p.source_label})", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=90, format="png")
    plt.close(fig)


#: the patterns read every 4th week (the two ICCs, the person share): their series in the
#: figures' context and their axis labels
_SERIES = {"unit_answer_icc": ("icc", "ICC(1) of the 0-10 answers by unit"),
           "engagement_team_icc": ("engagement_icc", "ICC(1) of engagement by team"),
           "engagement_person_share": ("person_share", "r squared of engagement on the trait")}


def _context_panel(bx: Any, p: Pattern, ctx: dict[str, Any]) -> None:
    k = p.key
    if k in ("answer_skew", "top_box_10"):
        h = np.asarray(ctx["hist"], float)
        bx.bar(np.arange(11), h / max(h.sum(), 1), color="tab:blue")
        bx.set_xlabel("0-10 answer")
        bx.set_ylabel("share of active customers")
    elif k == "churn_by_segment":
        rate = np.asarray(ctx["churned"]) / np.maximum(ctx["at_risk"], 1) * WEEKS_PER_YEAR
        bx.bar(SEGMENTS, rate, color=["tab:red", "tab:gray", "tab:green"])
        bx.set_ylabel("annualised churn hazard")
    elif k in ("pwom_from_non_promoters", "nwom_from_non_detractors", "pwom_share"):
        x = np.arange(3)
        bx.bar(x - 0.2, ctx["speak_pos"], 0.4, label="positive", color="tab:green")
        bx.bar(x + 0.2, ctx["speak_neg"], 0.4, label="negative", color="tab:red")
        bx.set_xticks(x, SEGMENTS)
        bx.set_ylabel("speaker-weeks")
        bx.legend(fontsize=7)
    elif k in _SERIES:
        series, label = _SERIES[k]
        for rep, icc in enumerate(ctx.get(series, [])):
            bx.plot(4 * np.arange(len(icc)), icc, label=f"replication {rep + 1}")
        bx.axhspan(p.low, p.high, color="tab:green", alpha=0.1, label="band")
        bx.set_xlabel("week (every 4th)")
        bx.legend(fontsize=6)
        bx.set_ylabel(label)
    elif k == "engagement_performance_r" and ctx.get("performance_points") is not None:
        eng, exp = ctx["performance_points"]
        bx.scatter(eng, exp, s=6, alpha=0.5, color="tab:blue")
        bx.set_xlabel("colleague's mean engagement (first year, replication 1)")
        bx.set_ylabel("mean experience delivered")
    elif k.startswith("unit_"):
        uy = ctx["unit_years"]
        y = {"unit_eng_nps_r": "nps", "unit_eng_turnover_r": "turnover"}.get(k, "csat")
        for yr, g in uy.groupby("year"):
            bx.scatter(g["engagement"], g[y], s=12, label=f"year {yr + 1}")
        bx.set_xlabel("unit engagement (annual mean)")
        bx.set_ylabel(f"unit {y} (annual)")
        bx.legend(fontsize=6)
    elif k == "culture_half_time":
        ts = ctx["timeseries"]
        for kind, c in (("reference", "tab:gray"), ("culture_change", "tab:green")):
            bx.plot(ts[kind].groupby("step")["csat"].mean(), color=c, label=kind)
        bx.set_xlabel("week")
        bx.set_ylabel("CSAT (mean over reps)")
        bx.legend(fontsize=7)
    elif k in ("recovery_vs_fall", "restoration_csat_gap"):
        ts = ctx["timeseries"]
        col = "nps" if k == "recovery_vs_fall" else "csat"
        for kind, c in (("reference", "tab:gray"), ("failure", "tab:red")):
            bx.plot(ts[kind].groupby("step")[col].mean(), color=c, label=kind)
        bx.axvspan(FAILURE_STEP, FAILURE_END, color="tab:red", alpha=0.1)
        if col == "csat":
            lo, hi = (FAILURE_END + w for w in LONG_RUN)
            bx.axvspan(lo, hi, color="tab:blue", alpha=0.06, label="the long run")
        bx.set_xlabel("week")
        bx.set_ylabel(f"{col.upper()} (mean over reps)")
        bx.legend(fontsize=7)
    else:
        ts = ctx["timeseries"]["reference"]
        col = {"nps": "nps", "customer_churn": "churned", "staff_attrition": "staff_attrition",
               "margin": "profit", "first_contact_resolution": "first_contact_resolution",
               "failure_demand": "failure_demand"}.get(k, "nps")
        bx.plot(ts.groupby("step")[col].mean(), color="tab:blue")
        bx.set_xlabel("week")
        bx.set_ylabel(f"{col} (weekly, mean over reps)")


def write_validation(out: Path, v: Validation) -> list[Path]:
    """validation.csv, validation.md and fig_<pattern>.png, each written atomically."""
    from .io import write_text, write_with

    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "validation.csv", out / "validation.md"]
    write_with(paths[0], lambda p: v.table.to_csv(p, index=False))
    write_text(paths[1], report_markdown(v))
    for pat in PATTERNS:
        path = out / f"fig_{pat.key}.png"
        write_with(path, lambda p, pat=pat: pattern_figure(v, pat, p))
        paths.append(path)
    write_with(out / "validation_reps.csv", lambda p: v.values.to_csv(p, index=False))
    return paths


__all__ = ["PATTERNS", "SOURCES", "Pattern", "Probe", "Validation", "build_table", "read_state",
           "run_validation", "write_validation"]
