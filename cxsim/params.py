"""Flat parameter records passed to kernels and their twins (numba accepts namedtuples).

They are built from a validated Scenario by `cxsim.model` each step, so an event that changes a
lever is seen by the next kernel call.
"""

from __future__ import annotations

from typing import NamedTuple


class CultureParams(NamedTuple):
    stubbornness: float
    self_weight: float
    peer_weight: float


class EngagementParams(NamedTuple):
    rate: float
    peers: float
    base: float
    w_empowerment: float
    w_pressure: float
    w_pay: float
    w_co_creation: float
    w_mirror: float
    w_workload: float
    empowerment: float
    productivity_pressure: float
    cx_metrics_weight: float
    pay_alignment: float
    co_creation: float
    headroom_pressure_loss: float
    training: float
    training_cost_headroom: float


class ServiceParams(NamedTuple):
    w_engagement: float
    w_brand_fit: float
    w_empowerment: float
    w_homophily: float
    w_process: float
    rush_penalty: float
    noise: float
    bandwidth: float
    productivity_pressure: float
    cx_metrics_weight: float
    digital_front_end: float
    digital_self_service: float
    consistency_rate: float
    shock_active: bool
    shock_share: float
    shock_channel: int
    shock_severity: float


class PerceptionParams(NamedTuple):
    slope: float
    tolerance: float
    negativity_bias: float
    memory_rate: float
    expectation_adaptation: float
    expectation_anchor: float
    expectation_norm: float
    trust_gain: float
    trust_loss: float
    inconsistency_penalty: float
    empathy_rate: float


class AttitudeParams(NamedTuple):
    memory_decay: float
    peak_weight: float
    peak_decay: float
    ltr_memory: float
    ltr_trust: float
    ltr_empathy: float
    ltr_bias: float
    ltr_spread: float
    colleague_advocacy: float


class WomParams(NamedTuple):
    promoter_talk: float
    detractor_talk: float
    churned_talk: float
    second_hop: float
    attitude_weight: float
    expectation_weight: float
    marketing: float
    adoption_q: float
    detractor_repel: float
    winback: float
    expectation_norm: float
    trust_initial: float
    empathy_initial: float


class ChurnParams(NamedTuple):
    base: float
    memory_sensitivity: float
    trust_sensitivity: float
    peak_weight: float


class StaffParams(NamedTuple):
    attrition_base: float
    attrition_engagement: float
    tenure_protection: float
    onboarding_engagement: float
    hiring_for_fit: float
    market_centre: float
    personality_spread: float


class LearningParams(NamedTuple):
    intensity: float
    learning_rate: float
    decay: float
    engagement_lift: float


class MoneyParams(NamedTuple):
    promoter_premium: float
    detractor_discount: float
