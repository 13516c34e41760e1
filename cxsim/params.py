"""Parameter records for the kernels and their twins, built in one place by keyword.

`build(scenario, levers, ...)` turns the validated scenario and the levers in force this step
into the records (NamedTuples numba accepts), so an event that changes a lever is seen by the
next step, and no record is ever filled by position: the model and the tests call `build`.

>>> from cxsim.scenario import load_scenario
>>> import numpy as np
>>> sc = load_scenario("baseline")
>>> p = build(sc, sc.levers, is_leader=np.array([True, False]), edge_kind=np.zeros(0, np.int8))
>>> p.customer.talk_base == sc.word_of_mouth.talk_base
True
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .constants import CHANNELS, CROSS_TEAM, NEUTRAL, WITHIN_TEAM
from .scenario import SCOPABLE_LEVERS, Levers, Scenario, ServiceFailure


class CultureParams(NamedTuple):
    """Friedkin-Johnsen weights; `brand` (d,) the target personality; `top_down` and
    `brand_pull` (c,) each colleague's weight on the manager and on the brand this step."""

    stubbornness: float
    self_weight: float
    peer_weight: float
    brand: np.ndarray
    top_down: np.ndarray
    brand_pull: np.ndarray


class EngagementParams(NamedTuple):
    """Engagement target weights (scenario.culture) and the levers they act through, each
    colleague's own (c,): scoped levers and the unit manager's control differ by colleague
    (`cxsim.scopes`, `cxsim.management`)."""

    rate: float
    peers: float
    base: float
    w_empowerment: float
    w_pressure: float
    w_pay: float
    w_co_creation: float
    w_mirror: float
    w_workload: float
    week_spread: float
    empowerment: np.ndarray
    productivity_pressure: np.ndarray
    cx_metrics_weight: np.ndarray
    pay_alignment: np.ndarray
    co_creation: np.ndarray
    control: np.ndarray
    headroom_pressure_loss: float
    training: np.ndarray
    training_cost_headroom: float
    habit_rate: float
    role_modelling: float


class ContactParams(NamedTuple):
    """Who contacts the company and who serves them; `recontact` is the weekly contact chance
    of a customer whose issue is still open."""

    rate: float
    relationship: float
    digital_on: bool
    recontact: float


class ServiceParams(NamedTuple):
    """Experience weights; `brand` (d,); the service failure in force (`shock_*`)."""

    w_engagement: float
    w_brand_fit: float
    w_empowerment: float
    w_homophily: float
    w_process: float
    rush_penalty: float
    noise: float
    bandwidth: float
    digital_front_end: float
    digital_self_service: float
    consistency_rate: float
    brand: np.ndarray
    shock_active: bool
    shock_share: float
    shock_channel: int
    shock_severity: float


class ResolutionParams(NamedTuple):
    """Whether a contact resolves the issue (first-contact resolution), what an unresolved or
    repeat contact costs the experience, and the learning curve of skill with tenure."""

    fcr_intercept: float
    fcr_skill: float
    fcr_headroom: float
    fcr_process: float
    fcr_pressure: float
    fcr_overload: float
    fcr_repeat: float
    unresolved_penalty: float
    repeat_penalty: float
    persistence: float
    new_hire_skill: float
    skill_weeks: float


class PerceptionParams(NamedTuple):
    """Disconfirmation, emotional memory, trust and empathy (scenario.perception)."""

    slope: float
    tolerance: float
    negativity_bias: float
    memory_rate: float
    expectation_adaptation: float
    expectation_anchor: float
    trust_gain: float
    trust_loss: float
    inconsistency_penalty: float
    empathy_rate: float
    empathy_similarity_share: float
    image_contact: float
    misselling_trust_loss: float
    undelivered_badness: float


class FeedbackParams(NamedTuple):
    """What colleagues take from the contacts they served: complaints, mirror, overload."""

    complaint_threshold: float
    mirror_rate: float
    capacity: float
    digital_effort: float


class CustomerParams(NamedTuple):
    """Everything the customer passes read, in one flat record (numba's parfors cannot take
    a record nested in another): fading memories and likelihood to recommend
    (scenario.perception), word of mouth and adoption (scenario.word_of_mouth, the marketing
    and amplification levers, the starting state of a new customer), the brand image
    (scenario.image: word of mouth, the advertised `promise` (d,) reaching a share
    `image_advertising` a week, self-congruity with the `brand` (d,) as perceived), churn and
    spend."""

    memory_decay: float
    peak_weight: float
    peak_decay: float
    ltr_memory: float
    ltr_trust: float
    ltr_empathy: float
    ltr_bias: float
    ltr_spread: float
    colleague_advocacy: float
    talk_base: float
    talk_extremity: float
    negative_talk_boost: float
    valence_midpoint: float
    valence_spread: float
    churned_talk: float
    amplification: float
    second_hop: float
    attitude_weight: float
    expectation_weight: float
    marketing: float
    adoption_q: float
    detractor_repel: float
    winback: float
    trust_initial: float
    empathy_initial: float
    churn_base: float
    memory_sensitivity: float
    trust_sensitivity: float
    churn_disposition: float
    promoter_premium: float
    detractor_discount: float
    image_wom: float
    image_advertising: float
    self_congruity: float
    congruity_centre: float
    bandwidth: float
    promise: np.ndarray
    brand: np.ndarray


class StaffParams(NamedTuple):
    attrition_base: float
    attrition_engagement: float
    tenure_protection: float
    onboarding_lift: float
    hiring_for_fit: float
    market_centre: float
    personality_spread: float
    hire_fit_noise: float
    engagement_trait_spread: float


class LearningParams(NamedTuple):
    """Learning from complaints (`across`: the share that crosses the silo to the step's
    department) and the internal service each department delivers."""

    intensity: float
    learning_rate: float
    decay: float
    engagement_lift: float
    across: float
    internal_engagement: float
    internal_overload: float
    backoffice_capacity: float


class StepParams(NamedTuple):
    """All records of one step, and the organisation's tie weights under the current silo."""

    culture: CultureParams
    engagement: EngagementParams
    contact: ContactParams
    service: ServiceParams
    resolution: ResolutionParams
    perception: PerceptionParams
    feedback: FeedbackParams
    customer: CustomerParams
    staff: StaffParams
    learning: LearningParams
    tie_weight: np.ndarray
    handoff_success: float


def tie_weights(edge_kind: np.ndarray, sc: Scenario, silo: float) -> np.ndarray:
    """Influence of each tie between colleagues: silos weaken ties across teams and more so
    across departments."""
    cu = sc.culture
    return np.where(edge_kind == WITHIN_TEAM, 1.0, np.where(
        edge_kind == CROSS_TEAM, 1.0 - cu.cross_team_silo_loss * silo,
        cu.cross_silo_weight * (1.0 - silo)))


def culture_params(sc: Scenario, lv: Levers, is_leader: np.ndarray,
                   colleague: dict[str, np.ndarray]) -> CultureParams:
    """Top-down pull (leadership commitment, boosted by a board CX role, partly lost between
    levels to silos) and the brand's pull (training; leaders also through commitment), per
    colleague (`colleague`: the scopable levers as (c,) arrays)."""
    cu = sc.culture
    commitment = colleague["leadership_commitment"] * (1.0 + cu.board_boost * lv.board_cx_role)
    top_down = cu.manager_weight * commitment * (1.0 - cu.silo_top_down * lv.silo)
    brand_pull = cu.brand_weight * (colleague["training"] + is_leader * commitment)
    return CultureParams(stubbornness=cu.stubbornness, self_weight=cu.self_weight,
                         peer_weight=cu.peer_weight, brand=np.array(sc.brand.personality),
                         top_down=top_down, brand_pull=brand_pull)


def churn_disposition(sc: Scenario) -> float:
    """How strongly churn sorts customers by their disposition (log-hazard per sd): the
    attitude share of the individual spread of likelihood to recommend, weighted as emotional
    memory of the same weight in the score is (`churn.attitude_share`)."""
    pe, ch = sc.perception, sc.churn
    if pe.ltr_memory <= 0:
        return 0.0
    return ch.memory_sensitivity * ch.attitude_share * pe.ltr_spread / pe.ltr_memory


def engagement_params(sc: Scenario, colleague: dict[str, np.ndarray],
                      control: np.ndarray) -> EngagementParams:
    """Engagement weights and each colleague's levers; the unit manager's `control` (c,)
    tightens the pressure a colleague is asked to work under, after any softening by CX
    metrics (a manager chasing scores is itself the CX-metrics regime gone wrong)."""
    cu = sc.culture
    return EngagementParams(
        rate=cu.engagement_rate, peers=cu.engagement_peers, base=cu.engagement_base,
        w_empowerment=cu.engagement_empowerment, w_pressure=cu.engagement_pressure,
        w_pay=cu.engagement_pay, w_co_creation=cu.engagement_co_creation,
        w_mirror=cu.engagement_mirror, w_workload=cu.engagement_workload,
        week_spread=cu.engagement_week_spread, empowerment=colleague["empowerment"],
        productivity_pressure=colleague["productivity_pressure"], control=control,
        cx_metrics_weight=colleague["cx_metrics_weight"],
        pay_alignment=colleague["pay_alignment"], co_creation=colleague["co_creation"],
        headroom_pressure_loss=cu.headroom_pressure_loss, training=colleague["training"],
        training_cost_headroom=cu.training_cost_headroom,
        habit_rate=cu.habit_rate, role_modelling=cu.role_modelling)


def service_params(sc: Scenario, lv: Levers, shock: ServiceFailure | None) -> ServiceParams:
    se = sc.service
    return ServiceParams(
        w_engagement=se.weight_engagement, w_brand_fit=se.weight_brand_fit,
        w_empowerment=se.weight_empowerment, w_homophily=se.weight_homophily,
        w_process=se.weight_process, rush_penalty=se.rush_penalty, noise=se.noise,
        bandwidth=se.homophily_bandwidth, digital_front_end=lv.digital_front_end,
        digital_self_service=se.digital_self_service,
        consistency_rate=sc.perception.consistency_rate, brand=np.array(sc.brand.personality),
        shock_active=shock is not None, shock_share=shock.share if shock else 0.0,
        shock_channel=CHANNELS.index(shock.channel) if shock and shock.channel else -1,
        shock_severity=shock.severity if shock else 0.0)


def resolution_params(sc: Scenario) -> ResolutionParams:
    se, st = sc.service, sc.staff
    return ResolutionParams(
        fcr_intercept=se.fcr_intercept, fcr_skill=se.fcr_skill, fcr_headroom=se.fcr_headroom,
        fcr_process=se.fcr_process, fcr_pressure=se.fcr_pressure,
        fcr_overload=se.fcr_overload, fcr_repeat=se.fcr_repeat,
        unresolved_penalty=se.unresolved_penalty, repeat_penalty=se.repeat_penalty,
        persistence=se.persistence, new_hire_skill=st.new_hire_skill, skill_weeks=st.skill_weeks)


def perception_params(sc: Scenario, lv: Levers) -> PerceptionParams:
    pe = sc.perception
    return PerceptionParams(
        slope=pe.satisfaction_slope, tolerance=pe.tolerance, negativity_bias=lv.negativity_bias,
        memory_rate=pe.memory_rate, expectation_adaptation=pe.expectation_adaptation,
        expectation_anchor=pe.expectation_anchor,
        trust_gain=pe.trust_gain, trust_loss=pe.trust_loss,
        inconsistency_penalty=pe.inconsistency_penalty, empathy_rate=pe.empathy_rate,
        empathy_similarity_share=pe.empathy_similarity_share,
        image_contact=sc.image.contact_weight,
        misselling_trust_loss=sc.selling.misselling_trust_loss,
        undelivered_badness=sc.service.unresolved_penalty)


def customer_params(sc: Scenario, lv: Levers, burn_in: bool = False,
                    congruity_centre: float = NEUTRAL) -> CustomerParams:
    """The customer record; in the burn-in nobody adopts and nobody churns (`build`)."""
    pe, wm, ch, mo = sc.perception, sc.word_of_mouth, sc.churn, sc.money
    hold = 0.0 if burn_in else 1.0
    return CustomerParams(
        memory_decay=pe.memory_decay, peak_weight=pe.peak_weight, peak_decay=pe.peak_decay,
        ltr_memory=pe.ltr_memory, ltr_trust=pe.ltr_trust, ltr_empathy=pe.ltr_empathy,
        ltr_bias=pe.ltr_bias, ltr_spread=pe.ltr_spread,
        colleague_advocacy=pe.colleague_advocacy,
        talk_base=wm.talk_base, talk_extremity=wm.talk_extremity,
        negative_talk_boost=wm.negative_talk_boost, valence_midpoint=wm.valence_midpoint,
        valence_spread=wm.valence_spread, churned_talk=wm.churned_talk,
        amplification=lv.social_amplification,
        second_hop=wm.second_hop, attitude_weight=wm.attitude_weight,
        expectation_weight=wm.expectation_weight, marketing=hold * lv.marketing,
        adoption_q=hold * wm.adoption_q, detractor_repel=wm.detractor_repel, winback=wm.winback,
        trust_initial=pe.trust_initial,
        empathy_initial=pe.empathy_initial,
        churn_base=hold * ch.base, memory_sensitivity=ch.memory_sensitivity,
        trust_sensitivity=ch.trust_sensitivity,
        churn_disposition=churn_disposition(sc),
        promoter_premium=mo.promoter_premium, detractor_discount=mo.detractor_discount,
        image_wom=sc.image.wom_weight,
        image_advertising=sc.image.advertising_weight * lv.advertising,
        self_congruity=sc.image.self_congruity, congruity_centre=congruity_centre,
        bandwidth=sc.service.homophily_bandwidth,
        promise=np.array(sc.brand.promised()), brand=np.array(sc.brand.personality))


def staff_params(sc: Scenario, lv: Levers) -> StaffParams:
    st, cu = sc.staff, sc.culture
    return StaffParams(
        attrition_base=st.attrition_base, attrition_engagement=st.attrition_engagement,
        tenure_protection=st.tenure_protection, onboarding_lift=st.onboarding_lift,
        hiring_for_fit=lv.hiring_for_fit, market_centre=cu.labour_market_centre,
        personality_spread=cu.personality_spread, hire_fit_noise=st.hire_fit_noise,
        engagement_trait_spread=cu.engagement_trait_spread)


def learning_params(sc: Scenario, lv: Levers) -> LearningParams:
    """Learning from complaints runs at the intensity of complaints-first management, plus what
    co-creation with the front line adds; complaints reach the steps' departments through the
    silos, which hold back a share `silo_learning` at full silo."""
    pr = sc.process
    intensity = min(1.0, lv.complaints_first + pr.co_creation_learning * lv.co_creation)
    return LearningParams(intensity=intensity, learning_rate=pr.learning_rate, decay=pr.decay,
                          engagement_lift=pr.engagement_lift,
                          across=1.0 - pr.silo_learning * lv.silo,
                          internal_engagement=pr.internal_engagement,
                          internal_overload=pr.internal_overload,
                          backoffice_capacity=pr.backoffice_capacity)


def build(sc: Scenario, lv: Levers, *, is_leader: np.ndarray, edge_kind: np.ndarray,
          shock: ServiceFailure | None = None,
          colleague: dict[str, np.ndarray] | None = None,
          control: np.ndarray | None = None, burn_in: bool = False,
          congruity_centre: float = NEUTRAL) -> StepParams:
    """Every record of a step from the scenario, the levers in force and the current shock.

    Parameters
    ----------
    sc : Scenario
        The validated scenario (behavioural parameters).
    lv : Levers
        The levers in force this step (events may have changed them).
    is_leader : (c,) bool
        Which colleagues are leaders (they carry the brand through commitment).
    edge_kind : (e,) int
        Kind of each tie of the organisation's CSR (`WITHIN_TEAM`, ...).
    shock : ServiceFailure or None
        The service failure in force, if any.
    colleague : dict of (c,) float, optional
        Each colleague's scopable levers (`scopes.colleague_levers`); default: the
        company-wide levers for everyone.
    control : (c,) float, optional
        The control of each colleague's unit manager (`management`); default: none.
    congruity_centre : float
        The market's mean similarity between customers and their image of the brand at week 0
        (`self_congruity` is centred on it).
    burn_in : bool
        A burn-in week: the customer base is held (adoption and churn hazards are zero, so
        `size.customers` are the active customers at week 0) while attitudes, word of mouth,
        culture and staff settle. The draws are the same; only the hazards change.
    """
    n = len(is_leader)
    if colleague is None:
        colleague = {name: np.full(n, float(getattr(lv, name))) for name in SCOPABLE_LEVERS}
    if control is None:
        control = np.zeros(n)
    return StepParams(
        culture=culture_params(sc, lv, is_leader, colleague),
        engagement=engagement_params(sc, colleague, control),
        contact=ContactParams(rate=sc.service.contact_rate,
                              relationship=sc.service.relationship,
                              digital_on=bool(lv.digital_channel),
                              recontact=sc.service.recontact_rate),
        service=service_params(sc, lv, shock),
        resolution=resolution_params(sc),
        perception=perception_params(sc, lv),
        feedback=FeedbackParams(complaint_threshold=sc.perception.complaint_threshold,
                                mirror_rate=sc.culture.mirror_rate,
                                capacity=sc.service.capacity,
                                digital_effort=1.0 - sc.service.digital_self_service),
        customer=customer_params(sc, lv, burn_in, congruity_centre),
        staff=staff_params(sc, lv),
        learning=learning_params(sc, lv),
        tie_weight=tie_weights(edge_kind, sc, lv.silo),
        handoff_success=1.0 - sc.process.handoff_failure * lv.silo)
