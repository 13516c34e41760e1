"""Scenario schema, loading and validation: the one place where levers get defaults and ranges.

A scenario is a TOML file. Every number a consultant might want to change lives here, with a
range and a one-line description; the rest of the code reads it from the validated object and
never hides a constant of its own.

Example
-------
>>> sc = load_scenario("baseline")
>>> sc.levers.empowerment
0.4
>>> sc2 = sc.with_overrides({"levers.empowerment": 0.8})
>>> sc2.levers.empowerment
0.8
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
import os
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from .constants import CHANNELS

Unit = Annotated[float, Field(ge=0.0, le=1.0)]


class ScenarioError(ValueError):
    """A scenario that cannot be used; the message names file, field, value and what is allowed."""

    def __init__(self, message: str, *, source: str | None = None):
        self.source = source
        text = f"{source}: {message}" if source else message
        super().__init__(one_line(text))


def one_line(text: str) -> str:
    """`text` on one line whatever the input: line breaks and other control characters in a
    key or value (anything not printable) are shown escaped (``\\n``, ``\\x1f``)."""
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode()
                   for ch in text)


class _Section(BaseModel):
    # strict: "yes" is not a boolean and "0.5" is not a number; nan and inf are refused
    model_config = ConfigDict(extra="forbid", validate_assignment=True, strict=True,
                              allow_inf_nan=False)


def _f(default: Any, description: str, **kw: Any) -> Any:
    return Field(default, description=description, **kw)


class Sizes(_Section):
    customers: int = _f(5_000, "Active customers at week 0, exactly (the burn-in holds the "
                        "base)", ge=1, le=50_000_000)
    prospects: int = _f(5_000, "Prospects in the social network who may adopt", ge=0,
                        le=50_000_000)
    customers_per_colleague: float = _f(
        50.0, "Customers per colleague when `colleagues` is not given", gt=0, le=10_000)
    colleagues: int | None = _f(
        None, "Colleagues (default: customers / customers_per_colleague)", ge=12, le=5_000_000)


class Brand(_Section):
    personality: list[Unit] = _f(
        [0.85, 0.45, 0.75, 0.4, 0.35],
        "Target brand personality (Aaker 1997: sincerity, excitement, competence, "
        "sophistication, ruggedness), each 0..1", min_length=5, max_length=5)
    promise: list[Unit] | None = _f(
        None, "Brand personality the advertising promises, each 0..1 (default: the target "
        "personality; a promise the colleagues do not live is the say-do gap)",
        min_length=5, max_length=5)

    def promised(self) -> list[float]:
        """The advertised personality: `promise`, or the target personality without one."""
        return list(self.personality if self.promise is None else self.promise)


class Levers(_Section):
    """What leadership decides. Events may change any of these at a given step."""

    leadership_commitment: Unit = _f(0.5, "How strongly leaders and managers model the brand")
    board_cx_role: bool = _f(False, "A board-level customer-experience role")
    empowerment: Unit = _f(0.4, "Headroom the front line has to do the right thing")
    productivity_pressure: Unit = _f(0.5, "Weight of productivity targets (handle time, sales)")
    cx_metrics_weight: Unit = _f(0.3, "Weight of customer-experience metrics in management")
    pay_alignment: Unit = _f(0.2, "Share of pay and goals tied to CX outcomes")
    training: Unit = _f(0.3, "Brand and service training intensity")
    co_creation: Unit = _f(0.1, "Co-creation of service with front-line advisors and customers")
    complaints_first: Unit = _f(0.1, "Use complaints and front-line intelligence to fix processes")
    silo: Unit = _f(0.4, "Strength of silos between departments and channels")
    hiring_for_fit: Unit = _f(0.0, "How much hiring selects people like the customer base")
    social_amplification: Unit = _f(0.5, "How loudly customers talk (social media reach)")
    negativity_bias: float = _f(2.0, "How much more a bad experience weighs than a good one",
                                ge=1.0, le=6.0)
    digital_channel: bool = _f(False, "A digital/social channel is offered")
    digital_front_end: Unit = _f(0.75, "Quality of the digital front end (app, web, chat)")
    marketing: float = _f(0.004, "Bass innovation rate p: weekly adoption chance from marketing",
                          ge=0.0, le=1.0)
    advertising: Unit = _f(0.5, "Reach of brand advertising: share of the market that sees the "
                           "promise each week, relative to full coverage")
    sales_incentive: Unit = _f(
        0.3, "Share of front-line pay tied to sales: the more, the more often staff push "
        "products at a contact")
    score_chasing: Unit = _f(
        0.2, "How hard unit managers chase their unit's measured scores (league tables): a "
        "unit whose measured NPS falls behind the company's gets tighter targets, scripts and "
        "monitoring")


class Organisation(_Section):
    file: str | None = _f(
        None, "The client's org chart, CSV or GraphML, relative to the scenario file "
        "(see docs/clients.md)")
    leaders: int | None = _f(None, "Leaders (default: one per 150 colleagues, at least 3)",
                             ge=1, le=100_000)
    team_size: int = _f(10, "Colleagues per team, manager included", ge=2, le=1_000)
    frontline_share: Unit = _f(
        0.7, "Share of the headcount (leaders aside, managers included) in front-line teams")
    channel_staff: dict[str, Annotated[float, Field(ge=0)]] = _f(
        {"store": 0.55, "contact_centre": 0.35, "digital": 0.10},
        "Relative front-line headcount per channel; digital's share of the contact centre serves "
        "digital while it is offered")
    cross_team_ties: float = _f(4.0, "Mean cross-team ties per colleague with no silos",
                                ge=0, le=100)
    within_department_bias: Unit = _f(
        0.5, "Share of cross-team ties that stay inside the department at silo 0")

    @field_validator("file")
    @classmethod
    def _absolute(cls, v: str | None) -> str | None:
        """An absolute path, so the scenario written to an output folder loads from anywhere.

        A scenario file's own relative path was already taken relative to that file
        (`load_raw`); what is left relative (a --set, a dict in code) is relative to the
        working folder.
        """
        return os.path.abspath(v) if v else v


class Process(_Section):
    steps: dict[str, Unit] = _f(
        {"onboarding": 0.9, "fulfilment": 0.85, "billing": 0.9, "claims": 0.85},
        "Quality 0..1 of each back-office process step: the chance it does its part of a "
        "case right (a chain delivers when every step and hand-off does)")
    chains: dict[str, list[str]] = _f(
        {"store": ["fulfilment", "billing"],
         "contact_centre": ["onboarding", "billing", "claims"],
         "digital": ["onboarding", "fulfilment", "billing", "claims"]},
        "Ordered back-office steps behind each channel")
    learning_rate: Unit = _f(0.02, "Weekly process improvement per unit of complaints learning")
    decay: Unit = _f(0.002, "Weekly drift of process quality back toward its starting value")
    co_creation_learning: Unit = _f(0.5, "Learning from co-creation relative to complaints-first")
    engagement_lift: Unit = _f(0.02, "Engagement lift of colleagues involved in fixing complaints")
    internal_engagement: float = _f(
        0.3, "Change of a step's delivered quality per unit of its department's mean engagement "
        "above 0.5 (internal service quality)", ge=0, le=5)
    internal_overload: float = _f(
        0.3, "Loss of a step's delivered quality per unit of its department's overload (cases "
        "beyond capacity, as a share of capacity)", ge=0, le=5)
    backoffice_capacity: float = _f(
        150.0, "Cases (contacts whose channel runs through the step) a back-office colleague "
        "handles per week without overload", gt=0, le=100_000)
    handoff_failure: Unit = _f(
        0.05, "Chance a hand-off between departments fails at full silo (each step of a chain "
        "is one hand-off)")
    silo_learning: Unit = _f(
        0.5, "Share of learning from complaints lost at full silo (complaints reach the step's "
        "owner in another department)")


class Social(_Section):
    kind: Literal["tribal", "random"] = _f(
        "tribal", "tribal: clustered heavy-tailed tribes; random: well-mixed Erdos-Renyi")
    mean_degree: float = _f(5.0, "Mean social ties per customer", ge=0, le=1_000)
    triad_probability: Unit = _f(0.5, "Chance a new tie closes a triangle (clustering)")
    tribes: int = _f(6, "Customer tribes (segments)", ge=1, le=10_000)
    homophily: Unit = _f(0.85, "Share of ties inside a customer's own tribe")
    personality_spread: float = _f(0.12, "Spread of personalities around a tribe's centre",
                                   ge=0, le=1)
    colleague_members: Unit = _f(0.3, "Share of colleagues who are also customers in the network")
    store_locality: Unit = _f(
        0.8, "Share of a tribe's members whose home store is in the tribe's catchment")
    tribe_centre_low: Unit = _f(0.15, "Lowest value of a tribe's centre on each dimension")
    tribe_centre_high: Unit = _f(0.85, "Highest value of a tribe's centre on each dimension")
    networkx_max_nodes: int = _f(
        200_000, "Above this many nodes the networkx view is built only on demand", ge=0)


class Culture(_Section):
    stubbornness: Unit = _f(0.2, "Friedkin-Johnsen pull toward one's own starting personality")
    manager_weight: float = _f(1.0, "Weight of the manager's personality at full commitment",
                               ge=0, le=10)
    peer_weight: float = _f(0.6, "Weight of peers' personality", ge=0, le=10)
    brand_weight: float = _f(0.6, "Weight of the brand at full training", ge=0, le=10)
    self_weight: float = _f(4.0, "Inertia: weight of one's own current personality", ge=0, le=100)
    board_boost: float = _f(1.0, "Extra top-down weight with a board-level CX role", ge=0, le=10)
    cross_silo_weight: Unit = _f(1.0, "Influence of a cross-department tie at silo 0")
    cross_team_silo_loss: Unit = _f(
        0.5, "Share of a cross-team tie's influence (same department) lost at full silo")
    silo_top_down: Unit = _f(0.8, "Share of the manager's (top-down) pull lost at full silo")
    personality_spread: float = _f(0.2, "Spread of colleagues' personalities at hire", ge=0, le=1)
    department_spread: float = _f(0.15, "Spread of departments' subcultures at the start", ge=0,
                                  le=1)
    labour_market_centre: Unit = _f(0.5, "Centre of the personalities of people hired unaligned")
    mirror_rate: Unit = _f(0.3, "How fast a colleague feels the satisfaction of those served")
    engagement_rate: Unit = _f(0.05, "Weekly speed at which engagement moves to its target")
    engagement_base: Unit = _f(0.45, "Engagement target with all levers at zero")
    engagement_empowerment: float = _f(0.35, "Engagement gain from headroom", ge=0, le=5)
    engagement_pressure: float = _f(0.35, "Engagement loss from productivity pressure", ge=0, le=5)
    engagement_pay: float = _f(0.1, "Engagement gain from pay aligned to CX", ge=0, le=5)
    engagement_co_creation: float = _f(0.15, "Engagement gain from co-creation", ge=0, le=5)
    engagement_mirror: float = _f(0.3, "Engagement gain from satisfied customers served",
                                  ge=0, le=5)
    engagement_peers: Unit = _f(0.3, "Pull of peers' engagement (emotional contagion)")
    engagement_workload: float = _f(0.1, "Engagement loss per unit of overload", ge=0, le=5)
    headroom_pressure_loss: Unit = _f(0.6, "Share of headroom removed by productivity metrics")
    training_cost_headroom: Unit = _f(0.0, "Headroom lost to time spent in training")
    manager_spread: float = _f(
        0.08, "Spread (sd) across units of what their manager adds to the engagement target",
        ge=0, le=1)
    engagement_trait_spread: float = _f(
        0.115, "Spread (sd) of a person's own offset to the engagement target (personality: "
        "some engage more than others under the same conditions), drawn for each hire",
        ge=0, le=1)
    engagement_week_spread: float = _f(
        0.0, "Spread (sd) of a week's engagement around the person's usual level: the week's "
        "own circumstances (recovery, events at work and at home) that diary studies find",
        ge=0, le=1)
    habit_rate: Unit = _f(
        0.28, "Weekly share of the gap closed between how colleagues work (headroom in use, "
        "pressure felt) and what the levers now ask (habit)")
    role_modelling: Unit = _f(
        1.0, "How far colleagues work the way their own manager still does: the share of the "
        "manager's lag behind what the levers ask that is passed down (1 = a change reaches the "
        "front line level by level; 0 = everyone follows the levers at once)")
    engagement_initial: Unit = _f(0.55, "Mean engagement of colleagues at the start")
    engagement_initial_spread: float = _f(
        0.1, "Spread (sd) of colleagues' engagement at the start", ge=0, le=1)
    aptitude_spread: float = _f(
        0.2, "Spread (sd) of colleagues' aptitude around 1 (kept within 0.3..1.7)", ge=0, le=1)


class Service(_Section):
    contact_rate: Unit = _f(0.12, "Weekly chance an active customer contacts the company")
    channel_preference: dict[str, Annotated[float, Field(ge=0)]] = _f(
        {"store": 0.55, "contact_centre": 0.45, "digital": 0.35},
        "Relative preference for each channel (digital only when offered)")
    relationship: Unit = _f(0.3, "Chance to be served by the same colleague as last time")
    weight_engagement: float = _f(0.11, "Experience weight of colleague engagement", ge=0, le=5)
    weight_brand_fit: float = _f(0.15, "Experience weight of colleague brand fit", ge=0, le=5)
    weight_empowerment: float = _f(0.25, "Experience weight of headroom to resolve", ge=0, le=5)
    weight_homophily: float = _f(0.35, "Experience weight of colleague-customer similarity",
                                 ge=0, le=5)
    weight_process: float = _f(0.4, "Experience weight of process-chain quality", ge=0, le=5)
    rush_penalty: float = _f(0.08, "Experience loss from productivity pressure (rushing)",
                             ge=0, le=5)
    noise: float = _f(0.12, "Spread of experience from unmodelled causes", ge=0, le=2)
    homophily_bandwidth: float = _f(0.35, "Personality distance at which similarity fades",
                                    gt=0, le=5)
    digital_self_service: Unit = _f(
        0.8, "Share of a digital contact's quality from the front end and process, not staff")
    capacity: float = _f(15.0, "Contacts a front-line colleague handles per week without overload",
                         gt=0, le=10_000)
    preference_spread: float = _f(
        0.5, "Spread of customers' channel preferences around the mean (lognormal sigma)",
        ge=0, le=3)
    fcr_intercept: float = _f(
        -2.1, "First-contact resolution: log-odds with every factor at zero", ge=-20, le=20)
    fcr_skill: float = _f(2.0, "First-contact resolution: log-odds per unit of skill", ge=0,
                          le=20)
    fcr_headroom: float = _f(2.0, "First-contact resolution: log-odds per unit of headroom",
                             ge=0, le=20)
    fcr_process: float = _f(
        2.0, "First-contact resolution: log-odds per unit of process-chain quality", ge=0,
        le=20)
    fcr_pressure: float = _f(
        2.0, "First-contact resolution: log-odds lost per unit of felt productivity pressure "
        "(contacts cut short)", ge=0, le=20)
    fcr_overload: float = _f(
        2.0, "First-contact resolution: log-odds lost as the share of a colleague's contacts "
        "handled beyond capacity (overload / (1 + overload)) goes from 0 to 1", ge=0, le=20)
    fcr_repeat: float = _f(
        0.3, "First-contact resolution: log-odds lost per earlier failed attempt at the same "
        "issue (what is left is harder)", ge=0, le=20)
    unresolved_penalty: Unit = _f(
        0.1, "Experience lost when a contact leaves the customer's issue unresolved")
    repeat_penalty: Unit = _f(
        0.05, "Experience lost per earlier failed attempt: a repeat contact starts annoyed")
    persistence: Unit = _f(
        0.7, "Chance a customer whose contact failed keeps chasing the issue (else gives up on "
        "it, unresolved)")
    recontact_rate: Unit = _f(
        0.5, "Weekly chance a customer whose issue is still open contacts the company again "
        "(failure demand)")


class Perception(_Section):
    expectation_initial: Unit = _f(0.52, "Expectation of a new customer (industry norm)")
    market_spread: float = _f(
        0.04, "Spread (sd) across store catchments of the expectation local competitors set",
        ge=0, le=1)
    mix_spread: float = _f(
        0.085, "Spread (sd, in units of the personal disposition) across store catchments of "
        "their customers' stable disposition to the brand (local customer mix)", ge=0, le=2)
    expectation_adaptation: Unit = _f(0.3, "How fast expectation moves toward experience")
    expectation_anchor: Unit = _f(0.08, "Pull of expectation back to the industry norm")
    satisfaction_slope: float = _f(10.0, "Steepness of satisfaction around expectation", gt=0,
                                   le=100)
    tolerance: Unit = _f(0.1, "Zone of tolerance: shortfall below expectation still accepted")
    memory_rate: Unit = _f(0.35, "Weight of the latest experience in emotional memory (end)")
    memory_decay: Unit = _f(0.01, "Weekly fading of emotional memory without contact")
    peak_weight: Unit = _f(0.4, "Weight of the most intense remembered moment (peak)")
    peak_decay: Unit = _f(0.02, "Weekly fading of the peak moment")
    trust_gain: Unit = _f(0.1, "Trust gained after a good, consistent experience")
    trust_loss: Unit = _f(0.3, "Share of trust lost after a bad experience, times its badness")
    trust_initial: Unit = _f(0.5, "Trust of a new customer")
    inconsistency_penalty: float = _f(
        0.2, "Share of trust lost at a contact per unit of distance between the personality of "
        "the colleague met and the customer's image of the brand (inconsistency; the say-do "
        "gap)", ge=0, le=5)
    consistency_rate: Unit = _f(0.3, "Weight of the latest touchpoint in the personality met")
    empathy_rate: Unit = _f(0.15, "How fast felt empathy moves toward what was felt")
    empathy_initial: Unit = _f(0.45, "Felt empathy of a new customer")
    empathy_similarity_share: Unit = _f(
        0.5, "Share of the empathy felt at a contact that comes from similarity to the "
        "colleague (the rest from the colleague's engagement)")
    complaint_threshold: Unit = _f(
        0.5, "Satisfaction below which a contact counts as a complaint")
    ltr_memory: float = _f(3.5, "Likelihood to recommend: weight of emotional memory", ge=0,
                           le=100)
    ltr_trust: float = _f(2.0, "Likelihood to recommend: weight of trust", ge=0, le=100)
    ltr_empathy: float = _f(3.0, "Likelihood to recommend: weight of empathy", ge=0, le=100)
    ltr_bias: float = _f(3.2, "Likelihood to recommend: offset", ge=-100, le=100)
    ltr_spread: float = _f(2.5, "Individual spread of likelihood to recommend (points)", ge=0,
                           le=10)
    colleague_advocacy: Unit = _f(
        0.6, "How much a colleague-customer's recommendation follows their engagement")


class WordOfMouth(_Section):
    talk_base: Unit = _f(0.04, "Weekly chance a customer with neutral feelings (LTR 5) talks")
    talk_extremity: Unit = _f(
        0.3, "Extra weekly chance to talk at the strongest feeling (LTR 0 or 10); it grows "
        "with the square of the distance from neutral")
    negative_talk_boost: float = _f(
        1.0, "How much more the dissatisfied talk than the satisfied at equal strength of "
        "feeling (0 = as much)", ge=0, le=10)
    valence_midpoint: float = _f(
        6.5, "LTR at which what a talker says is as likely good as bad", ge=0, le=10)
    valence_spread: float = _f(
        1.0, "LTR points over which the valence of what is said turns from bad to good "
        "(logistic scale; small = only attitude decides)", gt=0, le=10)
    second_hop: Unit = _f(
        0.5, "Chance a story heard (good or bad) is retold to one more neighbour a step later")
    attitude_weight: float = _f(0.02, "Emotional-memory shift when every neighbour speaks well",
                                ge=0, le=5)
    expectation_weight: float = _f(0.02, "Expectation lift when every neighbour speaks well", ge=0,
                                   le=5)
    adoption_q: float = _f(0.1, "Bass imitation rate q: adoption from promoter neighbours", ge=0,
                           le=10)
    detractor_repel: float = _f(0.05, "Adoption lost per share of detractor neighbours", ge=0,
                                le=10)
    winback: Unit = _f(1.0, "Adoption rate of churned customers relative to prospects")
    churned_talk: Unit = _f(0.5, "Talk rate of churned customers relative to active ones")


class Image(_Section):
    """The brand image each customer holds: a personality (5 dimensions) formed from the
    colleagues met, what others say and the advertised promise."""

    contact_weight: Unit = _f(
        0.2, "Share of a customer's brand image replaced by the personality of the colleague "
        "met at a contact")
    wom_weight: Unit = _f(
        0.3, "Shift of a customer's brand image toward the images of the neighbours who talk "
        "about the brand, when every neighbour talks")
    advertising_weight: Unit = _f(
        0.02, "Weekly pull of a customer's brand image toward the promise at full advertising")
    self_congruity: float = _f(
        1.0, "Preference for brands like oneself: log-change of the adoption hazard (and, "
        "reversed, of churn) per unit of similarity between one's personality and one's "
        "image of the brand, around the market's mean similarity at the start", ge=0, le=10)
    initial_spread: float = _f(
        0.1, "Spread (sd) of customers' brand images around the promise at the start",
        ge=0, le=1)


class Selling(_Section):
    """What pay makes staff do at a contact: push products (`levers.sales_incentive`), and
    push only what fits when pay is tied to customer outcomes (`levers.pay_alignment`)."""

    push_rate: Unit = _f(
        0.3, "Share of contacts at which a colleague paid wholly on sales offers a product")
    acceptance: Unit = _f(0.25, "Share of offers the customer takes")
    fit_share: Unit = _f(
        0.5, "Share of offered products that fit the customer (staff paid on customer "
        "outcomes hold back, with the chance of their pay alignment, an offer that does not)")
    commission: Unit = _f(0.1, "Share of a sale's revenue paid to the colleague as commission")
    misselling_trust_loss: Unit = _f(
        0.3, "Share of trust a customer loses on finding, at their next contact, that a "
        "product they were sold does not fit them")


class Management(_Section):
    """How unit managers react to their unit's measured scores (`levers.score_chasing`)."""

    chase_scale: float = _f(
        20.0, "Shortfall of a unit's measured NPS behind the company's (points) at which its "
        "manager chases at full strength", gt=0, le=200)
    reaction_rate: Unit = _f(
        0.25, "Weekly share of the gap closed between a unit's control and what its manager "
        "now wants (monthly reviews)")


class Churn(_Section):
    base: Unit = _f(0.002, "Weekly churn chance of a neutral customer")
    memory_sensitivity: float = _f(2.5, "Churn reduction per unit of emotional memory", ge=0,
                                   le=50)
    trust_sensitivity: float = _f(2.5, "Churn reduction per unit of trust above 0.5", ge=0,
                                  le=50)
    attitude_share: Unit = _f(
        0.25, "Share of customers' individual spread of likelihood to recommend "
        "(`perception.ltr_spread`) that is a stable attitude to the brand and lowers churn as "
        "emotional memory of the same weight does; the rest is how they use the answer scale "
        "(response style)")


class Staff(_Section):
    attrition_base: Unit = _f(0.0075, "Weekly leaving chance at engagement 0.5")
    attrition_engagement: float = _f(4.0, "Attrition change per unit of engagement", ge=0, le=50)
    onboarding_lift: float = _f(
        0.05, "A new hire's engagement above the unit's mean engagement (honeymoon)", ge=-1,
        le=1)
    tenure_protection: float = _f(0.004, "Attrition divided by (1 + this x weeks of tenure)",
                                  ge=0, le=1)
    tenure_initial_mean: float = _f(
        150.0, "Mean tenure (weeks) of colleagues at the start (exponential)", ge=0, le=5_000)
    hire_fit_noise: Unit = _f(
        0.25, "Personality spread of a hire for fit, relative to the labour market's")
    new_hire_skill: Unit = _f(
        0.55, "Skill of a new hire relative to an experienced colleague (learning curve start)")
    skill_weeks: float = _f(
        13.0, "Weeks of tenure in which a new hire closes 63% of the skill gap (exponential "
        "learning curve)", gt=0, le=520)
    vacancy_weeks: float = _f(
        5.0, "Mean weeks a post of a leaver stays vacant before the hire starts (geometric; "
        "below 1: refilled at once); leaders' and managers' posts are covered at once",
        ge=0, le=104)


class Measurement(_Section):
    """How the company measures: survey samples, answer noise, the pooling window."""

    nps_response_rate: Unit = _f(
        0.02, "Weekly chance an active customer with middling feelings (LTR 3-7) answers the "
        "relationship (NPS) survey")
    response_lift_top: float = _f(
        2.5, "Extra chance of answering a survey (NPS or CSAT) of the most delighted (LTR 10, "
        "satisfaction 1) over those in the middle (3-7 of 10), relative; rising from 7",
        ge=0, le=10)
    response_lift_bottom: float = _f(
        0.25, "Extra chance of answering a survey (NPS or CSAT) of the most dissatisfied (0 of "
        "10) over those in the middle (3-7 of 10), relative; rising below 3", ge=0, le=10)
    answer_noise: float = _f(
        1.0, "Spread (sd, 0-10 points) of an answer around the latent likelihood to recommend",
        ge=0, le=5)
    csat_response_rate: Unit = _f(
        0.15, "Share of contacts with middling satisfaction (0.3-0.7) that answer the "
        "satisfaction survey")
    csat_noise: float = _f(0.1, "Spread (sd, 0..1) of a satisfaction answer", ge=0, le=1)
    pulse_rate: Unit = _f(0.1, "Weekly share of colleagues who answer the engagement pulse")
    pulse_noise: float = _f(0.1, "Spread (sd, 0..1) of an engagement answer", ge=0, le=1)
    window: int = _f(4, "Weeks of answers pooled into each measured figure", ge=1, le=104)
    score_begging: float = _f(
        1.0, "Lift (0-10 points) of the NPS answer of a customer whom staff asked for the "
        "score; a chased unit's staff ask each customer with chance = its control (an asked "
        "contact's CSAT lifts a tenth of it, 0..1 scale)",
        ge=0, le=10)


class Calibration(_Section):
    """How a scenario meets a client's figures (`cxsim calibrate`, docs/calibration.md)."""

    weeks: int = _f(52, "Weeks after the burn-in that a client's targets describe (the year "
                    "to fit); the scenario's events are left out of a calibration run",
                    ge=1, le=1_000)
    posterior: str | None = _f(
        None, "Folder of the calibration this scenario's values come from (posterior.parquet, "
        "history.db); `cxsim compare --posterior` draws parameters from it")


#: Currency codes with the symbol charts and reports show (others are shown as the code).
CURRENCY_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$", "JPY": "¥", "CNY": "¥", "INR": "₹",
                    "CHF": "CHF ", "AUD": "A$", "CAD": "C$", "SEK": "kr ", "NOK": "kr ",
                    "DKK": "kr ", "PLN": "zł ", "BRL": "R$", "ZAR": "R "}


class Money(_Section):
    currency: str = _f("GBP", "Currency of every money figure (ISO 4217 code, e.g. GBP, EUR, "
                       "USD); charts and reports show its symbol", pattern=r"^[A-Z]{3}$")
    revenue_per_customer: float = _f(40.0, "Weekly spend of an average active customer", ge=0)
    value_spread: float = _f(0.5, "Spread of spend across customers (lognormal sigma)", ge=0,
                             le=3)
    promoter_premium: float = _f(0.15, "Extra spend of promoters", ge=0, le=5)
    detractor_discount: float = _f(0.1, "Spend lost with detractors", ge=0, le=1)
    cost_of_sales: Unit = _f(0.55, "Share of revenue spent on goods and delivery")
    salary: float = _f(700.0, "Weekly cost of a colleague", ge=0)
    manager_salary_multiple: float = _f(1.6, "Manager and leader salary relative", ge=0, le=100)
    hiring_cost: float = _f(4000.0, "Cost of replacing a leaver (hiring and onboarding)", ge=0)
    training_cost: float = _f(40.0, "Weekly cost per colleague at full training", ge=0)
    pay_alignment_cost: float = _f(25.0, "Weekly bonus pool per colleague at full alignment",
                                   ge=0)
    co_creation_cost: float = _f(15.0, "Weekly cost per colleague at full co-creation", ge=0)
    board_cx_cost: float = _f(6000.0, "Weekly cost of a board-level CX role and its office",
                              ge=0)
    contact_cost: dict[str, Annotated[float, Field(ge=0)]] = _f(
        {"store": 4.0, "contact_centre": 6.0, "digital": 1.0},
        "Variable cost of one contact per channel")
    digital_fixed_cost: float = _f(8000.0, "Weekly cost of running the digital channel", ge=0)
    acquisition_cost: float = _f(60.0, "Marketing cost per acquisition", ge=0)
    sale_value: float = _f(60.0, "Revenue of one product sold at a contact (one-off)", ge=0)
    advertising_cost: float = _f(
        0.0, "Weekly cost of brand advertising at full reach (default 0: acquisition_cost "
        "already carries the marketing spend; set it to price a brand campaign)", ge=0)


#: levers that act through each colleague, so they can be set for part of the organisation
SCOPABLE_LEVERS = ("leadership_commitment", "empowerment", "productivity_pressure",
                   "cx_metrics_weight", "pay_alignment", "sales_incentive", "training",
                   "co_creation", "score_chasing")
#: what a scope may name: ``channel:contact_centre``, ``department:claims``, ``unit:LABEL``
SCOPE_PATTERN = r"^(channel|department|unit):.+$"


class ScopedLevers(_Section):
    """Levers for part of the organisation: the colleagues of a channel, department or unit."""

    scope: str = _f(..., "Who: channel:NAME, department:NAME or unit:LABEL (the unit's label "
                    "in the organisation file, or its number in a generated organisation)",
                    pattern=SCOPE_PATTERN)
    set: dict[str, float] = _f(
        ..., "Levers for this scope (only those acting through colleagues: "
        + ", ".join(SCOPABLE_LEVERS) + "), e.g. {productivity_pressure = 0.8}")


class SetEvent(_Section):
    type: Literal["set"] = "set"
    step: int = _f(..., "Step at which the levers change", ge=0)
    set: dict[str, float | bool] = _f(
        ..., "Levers to change, e.g. {empowerment = 0.7} or {'process.billing' = 0.6}")
    scope: str | None = _f(
        None, "Change the levers only for channel:NAME, department:NAME or unit:LABEL "
        "(levers acting through colleagues only); default: the whole company",
        pattern=SCOPE_PATTERN)
    caption: str | None = _f(None, "Shown on the dashboard and in animations when it fires")


class ServiceFailure(_Section):
    type: Literal["service_failure"]
    step: int = _f(..., "First step of the failure", ge=0)
    duration: int = _f(4, "Steps the failure lasts", ge=1)
    severity: Unit = _f(0.4, "Experience lost by an affected contact")
    share: Unit = _f(0.5, "Share of contacts hit (ignored when a channel is given)")
    channel: Literal["store", "contact_centre", "digital"] | None = _f(
        None, "Only this channel fails")
    caption: str | None = _f(None, "Shown on the dashboard and in animations when it fires")


class KpiDashboard(_Section):
    """The knee-jerk response: when measured NPS drops, managers start chasing their units'
    measured scores (`levers.score_chasing`), tightening control where a unit's score lags."""

    type: Literal["kpi_dashboard"]
    step: int = _f(..., "Step from which the response is armed", ge=0)
    nps_threshold: float = _f(0.0, "Measured NPS below which management reacts (when no "
                              "nps_drop is given)", ge=-100, le=100)
    nps_drop: float | None = _f(
        None, "Fall of measured NPS (points, against its mean over the 8 weeks before `step`) "
        "at which management reacts; replaces nps_threshold", ge=0, le=200)
    score_chasing: Unit = _f(0.9, "How hard unit managers chase measured scores after the "
                             "reaction")
    productivity_pressure: Unit | None = _f(
        None, "Company-wide productivity pressure after the reaction (default: unchanged)")
    empowerment: Unit | None = _f(None, "Company-wide empowerment after the reaction "
                                  "(default: unchanged)")
    cx_metrics_weight: Unit | None = _f(None, "Weight of CX metrics after the reaction "
                                        "(default: unchanged)")
    caption: str | None = _f(None, "Shown on the dashboard and in animations when it fires")


class ComplaintsFirst(_Section):
    """The considered response: start from complaints and the front line's intelligence."""

    type: Literal["complaints_first"]
    step: int = _f(..., "Step from which the response is armed", ge=0)
    nps_threshold: float = _f(0.0, "Measured NPS below which management reacts (when no "
                              "nps_drop is given)", ge=-100, le=100)
    nps_drop: float | None = _f(
        None, "Fall of measured NPS (points, against its mean over the 8 weeks before `step`) "
        "at which management reacts; replaces nps_threshold", ge=0, le=200)
    complaints_first: Unit = _f(0.9, "Complaints-first intensity after the reaction")
    co_creation: Unit = _f(0.6, "Co-creation after the reaction")
    empowerment: Unit = _f(0.6, "Empowerment after the reaction")
    caption: str | None = _f(None, "Shown on the dashboard and in animations when it fires")


Event = Annotated[SetEvent | ServiceFailure | KpiDashboard | ComplaintsFirst,
                  Field(discriminator="type")]


class Scenario(_Section):
    """A whole scenario: sizes, levers, networks, behavioural parameters and events."""

    name: str = _f("scenario", "Short name")
    description: str = _f("", "What the scenario represents, for the scenario list")
    extends: str | None = _f(None, "Built-in name or path of a scenario this one overrides")
    steps: int = _f(260, "Weeks to simulate", ge=1, le=100_000)
    burn_in: int = _f(104, "Weeks run before step 0 so the company starts in its steady state",
                      ge=0, le=10_000)
    seed: int = _f(42, "Root random seed", ge=0, le=2**63 - 1)
    size: Sizes = Sizes()
    brand: Brand = Brand()
    levers: Levers = Levers()
    organisation: Organisation = Organisation()
    process: Process = Process()
    social: Social = Social()
    culture: Culture = Culture()
    service: Service = Service()
    perception: Perception = Perception()
    word_of_mouth: WordOfMouth = WordOfMouth()
    image: Image = Image()
    selling: Selling = Selling()
    management: Management = Management()
    churn: Churn = Churn()
    staff: Staff = Staff()
    measurement: Measurement = Measurement()
    money: Money = Money()
    calibration: Calibration = Calibration()
    scoped_levers: list[ScopedLevers] = _f(
        [], "Levers set for part of the organisation from the start (a channel, department or "
        "unit); later ones win where scopes overlap")
    events: list[Event] = _f([], "Timeline of lever changes, shocks and responses")

    @model_validator(mode="after")
    def _check_consistency(self) -> Scenario:
        if self.social.tribe_centre_low > self.social.tribe_centre_high:
            raise ValueError(f"social.tribe_centre_low = {self.social.tribe_centre_low} is above "
                             f"social.tribe_centre_high = {self.social.tribe_centre_high}; "
                             "allowed: low <= high")
        for ch in self.organisation.channel_staff:
            if ch not in CHANNELS:
                raise ValueError(f"organisation.channel_staff has unknown channel {ch!r}; "
                                 f"allowed: {', '.join(CHANNELS)}")
        for ch in self.service.channel_preference:
            if ch not in CHANNELS:
                raise ValueError(f"service.channel_preference has unknown channel {ch!r}; "
                                 f"allowed: {', '.join(CHANNELS)}")
        for ch, chain in self.process.chains.items():
            if ch not in CHANNELS:
                raise ValueError(f"process.chains has unknown channel {ch!r}; "
                                 f"allowed: {', '.join(CHANNELS)}")
            for s in chain:
                if s not in self.process.steps:
                    raise ValueError(f"process.chains.{ch} names step {s!r} that is not in "
                                     f"process.steps ({', '.join(self.process.steps)})")
        problem = staffing_problem(self)
        if problem:
            raise ValueError(problem)
        if self.organisation.file:
            org_file_colleagues(self)  # every problem of the file, before anything runs
        for i, ev in enumerate(self.events):
            if ev.step >= self.steps:
                raise ValueError(f"events[{i}].step = {ev.step} is after the last step; "
                                 f"allowed: 0 to {self.steps - 1} (steps = {self.steps})")
            if isinstance(ev, SetEvent):
                for key, value in ev.set.items():
                    _check_settable(f"events[{i}].set", key, value, self)
                if ev.scope is not None:
                    _check_scoped(f"events[{i}]", ev.scope, ev.set, self)
        for i, sl in enumerate(self.scoped_levers):
            for key, value in sl.set.items():
                _check_settable(f"scoped_levers[{i}].set", key, value, self)
            _check_scoped(f"scoped_levers[{i}]", sl.scope, sl.set, self)
        return self

    # -- conveniences -------------------------------------------------------------------------
    @property
    def n_colleagues(self) -> int:
        """Colleagues: the org file's, else size.colleagues, else customers per colleague."""
        if self.organisation.file:
            return org_file_colleagues(self)
        if self.size.colleagues is not None:
            return self.size.colleagues
        return max(12, round(self.size.customers / self.size.customers_per_colleague))

    def to_dict(self) -> dict[str, Any]:
        d = self.model_dump(mode="json", exclude_none=True)
        d.pop("extends", None)
        return d

    def to_toml(self) -> str:
        return dumps_toml(self.to_dict())

    def hash(self) -> str:
        blob = json.dumps(self.to_dict(), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def with_overrides(self, overrides: dict[str, Any], source: str = "overrides") -> Scenario:
        """A validated copy with dotted keys replaced, e.g. {"levers.silo": 0.8, "steps": 50}."""
        data = self.to_dict()
        for key, value in overrides.items():
            _set_dotted(data, key, value, source)
        return validate_scenario(data, source=source)


def _check_settable(where: str, key: str, value: Any, sc: Scenario) -> None:
    if key.startswith("process."):
        step = key.split(".", 1)[1]
        if step not in sc.process.steps:
            raise ValueError(f"{where}: {key!r} names no process step; allowed: "
                             + ", ".join(f"process.{s}" for s in sc.process.steps))
        if not (isinstance(value, int | float) and 0 <= float(value) <= 1):
            raise ValueError(f"{where}.{key} = {value!r}; allowed: 0 to 1")
        return
    name = key.removeprefix("levers.")
    if name not in Levers.model_fields:
        raise ValueError(f"{where}: {key!r} is not a lever; allowed: "
                         + ", ".join(Levers.model_fields) + ", process.<step>")
    try:
        Levers(**{name: value})
    except ValidationError as exc:
        err = exc.errors()[0]
        raise ValueError(f"{where}.{key} = {value!r}: {err['msg']}") from None


def _check_scoped(where: str, scope: str, changes: dict[str, Any], sc: Scenario) -> None:
    """A scope names a channel, or a department of a generated organisation (a file's
    departments and every unit are checked when the organisation is built), and sets only
    levers that act through colleagues."""
    for key in changes:
        if key.removeprefix("levers.") not in SCOPABLE_LEVERS:
            raise ValueError(f"{where}.set: {key!r} cannot be set for a scope; allowed: "
                             + ", ".join(SCOPABLE_LEVERS))
    kind, name = scope.split(":", 1)
    if kind == "channel" and name not in CHANNELS:
        raise ValueError(f"{where}.scope = {scope!r} names no channel; allowed: "
                         + ", ".join(f"channel:{c}" for c in CHANNELS))
    if kind == "department" and sc.organisation.file is None:
        names = generated_departments(sc)
        if name not in names:
            raise ValueError(f"{where}.scope = {scope!r} names no department; allowed: "
                             + ", ".join(f"department:{d}" for d in names))
    if kind == "unit" and sc.organisation.file is None and staffing_problem(sc) is None:
        n_teams = _generated_sizes(sc)[1] + 1  # the leaders' team is the last unit
        if name not in {str(t) for t in range(n_teams)}:
            raise ValueError(f"{where}.scope = {scope!r} is not in this organisation; allowed: "
                             f"unit:0 .. unit:{n_teams - 1} (the units of the generated "
                             "organisation, by number)")


def generated_departments(sc: Scenario) -> list[str]:
    """Departments of a generated organisation: the channels offered, then process steps.

    The same rule as `networks._departments` (tests/test_networks.py checks they agree); it
    lives here too so that validation does not import the network code (numba, networkx).
    """
    # digital is its own department while `digital_ever` exists; where the organisation always
    # serves digital from the contact centre (no such property), it never is
    channels = [c for c in CHANNELS if c != "digital" or getattr(sc, "digital_ever", False)]
    return channels + list(sc.process.steps)


def _generated_sizes(sc: Scenario) -> tuple[int, int]:
    """Leaders and units (teams) of a generated organisation (build_organisation's rule)."""
    o, n = sc.organisation, sc.n_colleagues
    depts = len(generated_departments(sc))
    n_leaders = o.leaders if o.leaders is not None else max(3, round(n / 150))
    n_leaders = min(n_leaders, max(1, n // 4))
    rest = n - n_leaders
    return n_leaders, min(max(depts, round(rest / o.team_size)), rest // 2)


def org_file_colleagues(sc: Scenario) -> int:
    """Colleagues in the scenario's org file, checked (`cxsim.orgfile`: read once per version
    of the file); ValueError with the file, the line and the fix when it cannot be used."""
    from .orgfile import OrgFileError, check

    depts = generated_departments(sc)
    try:
        return check(str(sc.organisation.file), tuple(depts),
                     tuple(d for d in depts if d in CHANNELS))
    except OrgFileError as exc:
        raise ValueError(str(exc)) from None


def staffing_problem(sc: Scenario) -> str | None:
    """Why the colleagues cannot staff a generated organisation, or None when they can.

    Part of validation, so a sweep row or a `--set` that leaves too few colleagues is refused
    before anything runs, not when a model is built. The arithmetic is build_organisation's
    (tests/test_networks.py checks that both refuse exactly the same sizes).
    """
    o = sc.organisation
    if o.file:
        return None
    n = sc.n_colleagues
    depts = len(generated_departments(sc))
    n_leaders, n_teams = _generated_sizes(sc)
    if n_teams >= depts:
        return None
    return (f"size.colleagues: {n} colleagues cannot staff {depts} departments with teams of "
            f"{o.team_size}; allowed: at least {n_leaders + 2 * depts} colleagues (set "
            "size.colleagues, or more size.customers)")


def _plain(value: Any) -> Any:
    """numpy scalars (from code, e.g. a design drawn with numpy) as Python values.

    Validation is strict about types, which is right for files and the command line; a
    numpy.int64 from a script is still a whole number and should not be refused for its type.
    """
    if type(value).__module__ == "numpy" and hasattr(value, "tolist"):
        return value.tolist()  # a scalar becomes a Python scalar, an array a list
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _set_dotted(data: dict, key: str, value: Any, source: str) -> None:
    value = _plain(value)
    parts = key.split(".")
    node = data
    for p in parts[:-1]:
        if not isinstance(node.get(p), dict):
            if p in node:
                raise ScenarioError(f"{key}: {p!r} is not a section", source=source)
            node[p] = {}
        node = node[p]
    node[parts[-1]] = value


# -- TOML writing (tomllib reads only) ----------------------------------------------------------

def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {_toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def dumps_toml(data: dict[str, Any]) -> str:
    """Write a scenario dict as TOML: scalars first, then one table per section, then events."""
    lines: list[str] = []
    tables = {k: v for k, v in data.items() if isinstance(v, dict)}
    arrays = {k: v for k, v in data.items()
              if isinstance(v, list) and v and all(isinstance(x, dict) for x in v)}
    for k, v in data.items():
        if k not in tables and k not in arrays:
            lines.append(f"{k} = {_toml_value(v)}")
    for name, table in tables.items():
        lines.append(f"\n[{name}]")
        for k, v in table.items():
            lines.append(f"{json.dumps(k) if not k.isidentifier() else k} = {_toml_value(v)}")
    for name, items in arrays.items():
        for item in items:
            lines.append(f"\n[[{name}]]")
            for k, v in item.items():
                lines.append(f"{k} = {_toml_value(v)}")
    return "\n".join(lines) + "\n"


# -- loading --------------------------------------------------------------------------------------

def scenarios_dir() -> Path:
    """Folder of built-in scenarios: $CXSIM_SCENARIOS or the repository's `scenarios/`."""
    env = os.environ.get("CXSIM_SCENARIOS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent / "scenarios"


def builtin_scenarios() -> dict[str, Path]:
    d = scenarios_dir()
    return {p.stem: p for p in sorted(d.glob("*.toml"))} if d.is_dir() else {}


def resolve_path(name_or_path: str | os.PathLike, relative_to: Path | None = None) -> Path:
    """A scenario file from a built-in name or a path; a clear error when neither exists."""
    text = str(name_or_path)
    p = Path(text)
    candidates = []
    if relative_to is not None and not p.is_absolute():
        candidates.append(relative_to / p)
        if p.suffix != ".toml":
            candidates.append(relative_to / f"{text}.toml")
    candidates.append(p)
    for c in candidates:
        if c.is_file():
            return c
    builtins = builtin_scenarios()
    if text in builtins:
        return builtins[text]
    close = difflib.get_close_matches(text, list(builtins), n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise ScenarioError(
        f"no scenario file or built-in scenario named {text!r}; {hint}built-in scenarios: "
        f"{', '.join(builtins) or '(none found)'}", source=text)


def read_toml_text(path: Path) -> str:
    """The text of a TOML file: UTF-8, with or without a byte-order mark.

    Raises OSError when it cannot be read and UnicodeError when it is not UTF-8.
    """
    raw = Path(path).read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnicodeError(f"not UTF-8 text (byte {exc.start} is {raw[exc.start]:#04x}); "
                           "allowed: a UTF-8 text file") from None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(read_toml_text(path))
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"broken TOML: {exc}", source=str(path)) from None
    except UnicodeError as exc:
        raise ScenarioError(str(exc), source=str(path)) from None
    except OSError as exc:
        raise ScenarioError(f"cannot read file: {exc.strerror}", source=str(path)) from None


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict) and k not in {
                "steps", "chains", "channel_staff", "channel_preference", "contact_cost"}:
            out[k] = _deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def _resolve_files(data: dict[str, Any], path: Path) -> None:
    """Paths a scenario file names are relative to that file, as `extends` is: made absolute
    here, before a child's data is merged over its parent's."""
    org = data.get("organisation")
    if isinstance(org, dict) and isinstance(org.get("file"), str) and org["file"]:
        org["file"] = os.path.abspath(path.parent / os.path.expanduser(org["file"]))


def load_raw(name_or_path: str | os.PathLike, _seen: tuple[Path, ...] = ()) -> tuple[dict, Path]:
    """The merged (extends resolved) but unvalidated data of a scenario, and its file."""
    path = resolve_path(name_or_path)
    if path.resolve() in _seen:
        raise ScenarioError("extends forms a cycle: " + " -> ".join(str(p) for p in _seen),
                            source=str(path))
    data = _read_toml(path)
    if not data:
        raise ScenarioError("the scenario is empty; allowed: a scenario with at least one "
                            "field, e.g. extends = \"baseline\" and the levers to change",
                            source=str(path))
    _resolve_files(data, path)
    parent = data.get("extends")
    if parent is not None:
        if not isinstance(parent, str):
            raise ScenarioError(f"extends = {parent!r}: must be a scenario name or path",
                                source=str(path))
        try:
            ppath = resolve_path(parent, relative_to=path.parent)
        except ScenarioError as exc:
            detail = str(exc).removeprefix(f"{exc.source}: ")
            raise ScenarioError(f"extends = {parent!r}: {detail}", source=str(path)) from None
        pdata, _ = load_raw(ppath, _seen + (path.resolve(),))
        pdata.pop("name", None)
        pdata.pop("description", None)
        data = _deep_merge(pdata, data)
    return data, path


_UNION_TAGS = ("function-after", "float", "bool", "int", "str", "list[", "dict[", "Range")


def format_loc(loc: tuple) -> str:
    """`events[0].step`: list positions in brackets, the one style every message uses.

    The tags pydantic puts in a location for unions (``set``, ``float``, ...) are dropped.
    """
    out = ""
    parts = list(loc)
    for i, x in enumerate(parts):
        if isinstance(x, int):
            out += f"[{x}]"
            continue
        x = str(x)
        if x.startswith(_UNION_TAGS) and i > 0:
            continue
        if x in ("set", "service_failure", "kpi_dashboard", "complaints_first") and i > 0 \
                and isinstance(parts[i - 1], int):
            continue  # discriminated-union tag right after events[i]
        out += ("." if out else "") + x
    return out


_EVENT_TAGS = ("set", "service_failure", "kpi_dashboard", "complaints_first")


def _field_bounds(loc: tuple) -> str | None:
    """'0 .. 1' for the field at a raw pydantic location, from the schema; None if unknown."""
    model: Any = Scenario
    field = None
    for part in loc:
        if isinstance(part, int) or (isinstance(part, str) and part.startswith(_UNION_TAGS)):
            continue
        if part in _EVENT_TAGS and model is None:  # the event's type, right after events[i]
            model = {"set": SetEvent, "service_failure": ServiceFailure,
                     "kpi_dashboard": KpiDashboard, "complaints_first": ComplaintsFirst}[part]
            continue
        if model is None:
            return None
        field = model.model_fields.get(part)
        if field is None:
            return None
        ann = field.annotation
        model = ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None
    if field is None or model is not None:
        return None
    import typing

    meta = list(field.metadata)
    ann = field.annotation
    if typing.get_origin(ann) is list:  # an item of a list: the item's own bounds
        inner = typing.get_args(ann)[0]
        meta = []
        for m in typing.get_args(inner)[1:]:
            meta.extend(getattr(m, "metadata", None) or [m])
    return _bounds(meta)


def _allowed_hint(err: dict) -> str:
    """'; allowed: 0 .. 1' from the schema (or the error's context), or '' when unknown."""
    ctx = err.get("ctx") or {}
    kind = err["type"]
    if kind in ("bool_type", "bool_parsing"):
        return "; allowed: true | false"
    if kind == "literal_error" and "expected" in ctx:
        return f"; allowed: {ctx['expected']}"
    if kind in ("less_than_equal", "less_than", "greater_than_equal", "greater_than",
                "finite_number"):
        full = _field_bounds(err["loc"])
        if full:
            return f"; allowed: {full}"
    bounds = {k: ctx[k] for k in ("ge", "gt", "le", "lt") if k in ctx}
    return f"; allowed: {_bounds([type('B', (), bounds)()])}" if bounds else ""


def _format_validation_error(exc: ValidationError) -> str:
    msgs = []
    for err in _first_per_field(exc.errors()):
        loc = format_loc(err["loc"])
        kind = err["type"]
        value = err.get("input")
        shown = value if not isinstance(value, dict) else "{...}"
        if kind == "extra_forbidden":
            section = _section_for(err["loc"][:-1])
            allowed = ", ".join(section.model_fields) if section else "see docs/scenarios.md"
            msgs.append(f"{loc}: unknown key; allowed keys here: {allowed}")
        elif kind == "value_error":
            msgs.append(err["msg"].removeprefix("Value error, "))
        elif kind == "missing":
            msgs.append(f"{loc}: required field is missing")
        elif kind == "finite_number":
            msgs.append(f"{loc} = {shown!r}: not a finite number{_allowed_hint(err)}")
        elif kind == "union_tag_invalid":
            tags = ", ".join(_EVENT_TAGS)
            msgs.append(f"{loc}.type = {(err.get('ctx') or {}).get('tag')!r}: unknown event "
                        f"type; allowed: {tags}")
        else:
            msgs.append(f"{loc} = {shown!r}: {err['msg']}{_allowed_hint(err)}")
    return "; ".join(dict.fromkeys(msgs))


def _first_per_field(errors: list[dict]) -> list[dict]:
    """One error per field: a union (number or boolean) fails once per member otherwise."""
    seen: dict[str, dict] = {}
    for err in errors:
        seen.setdefault(format_loc(err["loc"]), err)
    return list(seen.values())


def _section_for(loc: tuple) -> type[BaseModel] | None:
    model: type[BaseModel] = Scenario
    for part in loc:
        if isinstance(part, int):
            continue
        if part in ("set", "service_failure", "kpi_dashboard", "complaints_first"):
            return {"set": SetEvent, "service_failure": ServiceFailure,
                    "kpi_dashboard": KpiDashboard, "complaints_first": ComplaintsFirst}[part]
        field = model.model_fields.get(part)
        if field is None:
            return None
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            model = ann
        else:
            return None
    return model


def validate_scenario(data: dict[str, Any], source: str = "<scenario>") -> Scenario:
    """Validate a scenario dict, raising ScenarioError with a readable message."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_format_validation_error(exc), source=source) from None


def load_scenario(name_or_path: str | os.PathLike = "baseline",
                  overrides: dict[str, Any] | None = None) -> Scenario:
    """Load a built-in scenario by name or a TOML file by path, resolving `extends`."""
    data, path = load_raw(name_or_path)
    for key, value in (overrides or {}).items():
        _set_dotted(data, key, value, str(path))
    return validate_scenario(data, source=str(path))


def _num(x: Any) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def _bounds(metadata: list[Any]) -> str | None:
    """'lo .. hi' from pydantic constraints; an exclusive bound reads '> lo' / '< hi'."""
    lo = hi = None
    for m in metadata:
        for attr, fmt in (("ge", "{}"), ("gt", "> {}")):
            if getattr(m, attr, None) is not None:
                lo = fmt.format(_num(getattr(m, attr)))
        for attr, fmt in (("le", "{}"), ("lt", "< {}")):
            if getattr(m, attr, None) is not None:
                hi = fmt.format(_num(getattr(m, attr)))
    if lo is None and hi is None:
        return None
    if hi is None:
        return f">= {lo}" if not lo.startswith(">") else lo
    if lo is None:
        return f"<= {hi}" if not hi.startswith("<") else hi
    return f"{lo} .. {hi}"


def _allowed(ann: Any, metadata: list[Any]) -> str:
    """A short human description of what a field accepts, for the docs table."""
    import types
    import typing

    origin, args = typing.get_origin(ann), typing.get_args(ann)
    if origin is Annotated:
        extra: list[Any] = []
        for m in args[1:]:  # Field(...) inside Annotated carries its constraints in .metadata
            extra.extend(getattr(m, "metadata", None) or [m])
        return _allowed(args[0], extra + metadata)
    if origin in (typing.Union, types.UnionType) and type(None) in args:
        inner = [a for a in args if a is not type(None)][0]
        return f"{_allowed(inner, metadata)} (optional)"
    if origin is Literal:
        return " | ".join(str(a) for a in args)
    if origin is list:
        lengths = [getattr(m, "min_length", None) for m in metadata]
        n = next((x for x in lengths if x is not None), None)
        item = _allowed(args[0], [])
        return f"{n} x ({item})" if n else f"list of ({item})"
    if origin is dict:
        return f"table: name -> ({_allowed(args[1], [])})"
    if ann is bool:
        return "true | false"
    if ann is str:
        return "text"
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return "table: " + ", ".join(ann.model_fields)
    kind = "integer" if ann is int else "number"
    b = _bounds(metadata)
    return f"{kind} {b}" if b else kind


def describe_levers() -> list[tuple[str, str, str, str]]:
    """(field, default, allowed, description) for every field of the schema, for the docs."""
    rows = []

    def walk(model: type[BaseModel], prefix: str) -> None:
        for name, field in model.model_fields.items():
            ann = field.annotation
            if isinstance(ann, type) and issubclass(ann, BaseModel):
                walk(ann, f"{prefix}{name}.")
                continue
            if name in ("events", "type"):
                continue
            rows.append((prefix + name, json.dumps(field.default),
                         _allowed(ann, list(field.metadata)), field.description or ""))

    walk(Scenario, "")
    return rows
