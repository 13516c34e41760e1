"""The population at the start: colleagues, customers, who serves whom, who is hired from where.

Each function draws from the model's generator in a fixed order (so a seed gives the same
company), and returns typed state (`cxsim.state`); nothing here runs during the step except
`hire_sources`, which the staff phase calls.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .constants import (
    ACTIVE,
    CHANNELS,
    CONTACT_CENTRE,
    DIGITAL,
    FRONTLINE,
    LEADER,
    LTR_MID,
    MANAGER,
    NEUTRAL,
    PROSPECT,
    STORE,
)
from .networks import Organisation, SocialNetwork
from .params import churn_disposition
from .scenario import Scenario
from .state import ColleagueState, CustomerState, Pools


@dataclass(eq=False)
class Catchments:
    """Customers by home store (CSR over teams), for hiring from the community served."""

    indptr: np.ndarray
    members: np.ndarray


def colleagues(sc: Scenario, org: Organisation, rng: np.random.Generator) -> ColleagueState:
    """Colleagues at the start: department subcultures around the labour market, individual
    spread around them, engagement, aptitude, the engagement trait and tenure drawn from the
    scenario's spreads."""
    n = org.n
    cu = sc.culture
    centre = np.clip(cu.labour_market_centre + cu.department_spread * rng.standard_normal(
        (len(org.department_names), 5)), 0, 1)
    personality = np.clip(centre[org.department] + cu.personality_spread
                          * rng.standard_normal((n, 5)), 0, 1)
    engagement = np.clip(cu.engagement_initial + cu.engagement_initial_spread
                         * rng.standard_normal(n), 0, 1)
    aptitude = np.clip(1.0 + cu.aptitude_spread * rng.standard_normal(n), 0.3, 1.7)
    trait = cu.engagement_trait_spread * rng.standard_normal(n)
    tenure = rng.exponential(sc.staff.tenure_initial_mean, n).astype(np.int64)
    # how they work at the start is what the starting levers ask (habits already formed)
    # units differ in their manager (Beck & Harter 2015: managers explain most of the variance
    # of engagement between units)
    manager = cu.manager_spread * rng.standard_normal(org.n_teams)
    lv = sc.levers
    pressure = lv.productivity_pressure * (1.0 - lv.cx_metrics_weight)
    room = lv.empowerment * (1.0 - cu.headroom_pressure_loss * pressure) * (
        1.0 - cu.training_cost_headroom * lv.training)
    return ColleagueState(
        personality=personality, personality0=personality.copy(), engagement=engagement,
        engagement_level=engagement.copy(), aptitude=aptitude, engagement_trait=trait,
        manager_quality=manager[org.team],
        headroom=np.clip(room * aptitude, 0, 1),
        pressure=np.full(n, pressure), mirror=np.full(n, NEUTRAL), overload=np.zeros(n),
        tenure=tenure, left=np.zeros(n, np.bool_), served=np.zeros(n, np.int64),
        complaints=np.zeros(n, np.int64), satisfaction_sum=np.zeros(n),
        manager=org.manager.astype(np.int64), team=org.team.astype(np.int64),
        channel=org.channel.astype(np.int64), department=org.department.astype(np.int64),
        vacant=np.zeros(n, np.int64))


def _csr_groups(keys: np.ndarray, members: np.ndarray, n_groups: int) -> tuple[np.ndarray,
                                                                             np.ndarray]:
    """(indptr, members sorted stably by key): the members of each group, in index order."""
    order = np.argsort(keys, kind="stable")
    indptr = np.zeros(n_groups + 1, np.int64)
    np.cumsum(np.bincount(keys, minlength=n_groups), out=indptr[1:])
    return indptr, members[order].astype(np.int64)


def service_pools(org: Organisation, vacant: np.ndarray | None = None) -> Pools:
    """Front-line colleagues in filled posts (`vacant` == 0) by team (stores) and by channel."""
    filled = np.ones(org.n, np.bool_) if vacant is None else vacant == 0
    front = np.flatnonzero((org.role == FRONTLINE) & filled)
    team_indptr, team_members = _csr_groups(org.team[front], front, org.n_teams)
    ch_indptr, ch_members = _csr_groups(org.channel[front], front, len(CHANNELS))
    return Pools(team_indptr=team_indptr, team_members=team_members, channel_indptr=ch_indptr,
                 channel_members=ch_members)


def store_teams(org: Organisation) -> np.ndarray:
    """Teams with front-line store staff: the stores."""
    front = org.role == FRONTLINE
    return np.flatnonzero(np.bincount(org.team[front], weights=(org.channel[front] == STORE),
                                      minlength=org.n_teams) > 0)


def pay_multiple(sc: Scenario, org: Organisation) -> np.ndarray:
    """Salary of each colleague relative to the front line."""
    return np.where((org.role == LEADER) | (org.role == MANAGER),
                    sc.money.manager_salary_multiple, 1.0)


def brand_images(sc: Scenario, n: int, rng: np.random.Generator) -> np.ndarray:
    """Each customer's first image of the brand: the advertised promise, seen a little
    differently by each (`image.initial_spread`); contacts and word of mouth then form it."""
    promise = np.array(sc.brand.promised())
    return np.clip(promise + sc.image.initial_spread * rng.standard_normal((n, 5)), 0, 1)


def catchment_mix(spread: float, home: np.ndarray, n_teams: int,
                  rng: np.random.Generator) -> np.ndarray:
    """Each node's shift of disposition by the customer mix of its home catchment: one draw
    N(0, spread) per catchment, centred over the nodes so that it only sets catchments apart
    (where the company as a whole stands is `perception.ltr_bias`'s).

    >>> shift = catchment_mix(0.2, np.array([0, 0, 1, 1, 1]), 2, np.random.default_rng(0))
    >>> bool(abs(shift.mean()) < 1e-12), bool(shift[0] == shift[1]), bool(shift[2] == shift[4])
    (True, True, True)
    """
    mix = spread * rng.standard_normal(n_teams)[home]
    return mix - mix.mean()


def customers(sc: Scenario, net: SocialNetwork, org: Organisation, stores: np.ndarray,
              rng: np.random.Generator, mix_rng: np.random.Generator,
              ) -> tuple[CustomerState, Catchments, np.ndarray]:
    """Customer nodes at the start, their catchments, and which colleague is which node.

    `mix_rng` draws the catchments' customer mix: a stream of its own, so the mix's spread
    changes no other draw.

    Returns (state, catchments, colleague_node): `colleague_node[i]` is the node colleague i
    is in the social network, -1 for those who are not customers.
    """
    n = net.n
    pe = sc.perception
    personality = np.clip(net.tribe_centre[net.tribe] + sc.social.personality_spread
                          * rng.standard_normal((n, 5)), 0, 1)
    base = np.array([sc.service.channel_preference.get(c, 0.0) for c in CHANNELS])
    prefs = base[None, :] * rng.lognormal(0.0, sc.service.preference_spread, size=(n, 3))
    status = np.full(n, PROSPECT, np.int8)
    status[rng.permutation(n)[: sc.size.customers]] = ACTIVE
    sigma = sc.money.value_spread
    value = sc.money.revenue_per_customer * rng.lognormal(-sigma**2 / 2, sigma, n)
    home = home_stores(net.tribe, rng.random(n), stores, sc.social.tribes,
                       sc.social.store_locality)
    catchments = Catchments(*_csr_groups(home, np.arange(n), org.n_teams))
    disposition = rng.standard_normal(n)
    # the customers of a going concern have been sorted by churn for years: with hazard
    # proportional to exp(-k x disposition) and newcomers drawn N(0, 1), the stationary
    # dispositions of the base are N(k, 1); prospects are newcomers
    disposition[status == ACTIVE] += churn_disposition(sc)
    # local markets differ: what competitors offer near each store sets what its customers expect
    market = pe.market_spread * rng.standard_normal(org.n_teams)
    norm = np.clip(pe.expectation_initial + market[home], 0, 1)
    # and so do the people who live there: the customer mix of a catchment shifts the stable
    # disposition of its customers and prospects alike (`catchment_mix`)
    disposition += catchment_mix(pe.mix_spread, home, org.n_teams, mix_rng)
    state = CustomerState(
        personality=personality, prefs=prefs, status=status, value=value,
        home_store=home.astype(np.int64), last_colleague=np.full(n, -1, np.int64),
        disposition=disposition, norm=norm, expectation=norm.copy(),
        memory=np.zeros(n), peak=np.zeros(n), trust=np.full(n, pe.trust_initial),
        empathy=np.full(n, pe.empathy_initial), ltr=np.full(n, LTR_MID),
        met_mean=np.zeros((n, 5)), met_spread=np.full(n, -1.0),
        acquired_step=np.full(n, -1, np.int64), neg_prev=np.zeros(n), neg_now=np.zeros(n),
        pos_prev=np.zeros(n), pos_now=np.zeros(n),
        contacted=np.zeros(n, np.bool_), node_colleague=np.full(n, -1, np.int64),
        speak=np.zeros(n, np.int8), heard_pos=np.zeros(n), heard_neg=np.zeros(n),
        adopted=np.zeros(n, np.bool_), churned=np.zeros(n, np.bool_), voice=np.zeros((n, 3)),
        image=brand_images(sc, n, rng), heard_image=np.zeros((n, 5)),
        missold=np.zeros(n, np.bool_),
        pending=np.zeros(n, np.int64), pending_channel=np.full(n, -1, np.int64))
    # some colleagues are customers too
    k = int(round(sc.social.colleague_members * org.n))
    active = np.flatnonzero(status == ACTIVE)
    k = min(k, len(active))
    cols = rng.choice(org.n, size=k, replace=False)
    nodes = rng.choice(active, size=k, replace=False)
    state.node_colleague[nodes] = cols
    colleague_node = np.full(org.n, -1, np.int64)
    colleague_node[cols] = nodes
    return state, catchments, colleague_node


def home_stores(tribe: np.ndarray, u: np.ndarray, stores: np.ndarray, n_tribes: int,
                locality: float) -> np.ndarray:
    """Home store of each customer: stores serve local communities (catchments).

    A share `locality` of a tribe's members use a store of the tribe's catchment (stores are
    split evenly over tribes); the rest use any store. `u` holds one uniform draw per customer.
    """
    ns = len(stores)
    if ns == 0:
        return np.zeros(len(tribe), np.int64)
    lo = (tribe * ns) // n_tribes
    hi = np.maximum(((tribe + 1) * ns) // n_tribes, lo + 1)
    local = u < locality
    v = np.where(local, u / max(locality, 1e-12), (u - locality) / max(1.0 - locality, 1e-12))
    idx = np.where(local, lo + (v * (hi - lo)).astype(np.int64), (v * ns).astype(np.int64))
    return stores[np.minimum(idx, np.where(local, hi - 1, ns - 1))]


def hire_sources(org: Organisation, catchments: Catchments, n_nodes: int,
                 u: np.ndarray) -> np.ndarray:
    """The customer each new hire resembles under hiring for fit: one from the post's own
    store catchment for store staff (hire from the community you serve), else anyone."""
    team = org.team
    lo, hi = catchments.indptr[team], catchments.indptr[team + 1]
    anyone = np.minimum((u * n_nodes).astype(np.int64), n_nodes - 1)
    store = (org.role == FRONTLINE) & (org.channel == STORE)
    local = store & (hi > lo)
    pick = catchments.members[np.minimum(lo + (u * (hi - lo)).astype(np.int64),
                                         np.maximum(hi - 1, 0))]
    return np.where(local, pick, anyone)


def vacancy_weeks(org: Organisation, mean: float, u: np.ndarray) -> np.ndarray:
    """Weeks each post would stay vacant if its holder left now (int64), from one uniform draw
    per post: geometric with mean `mean` weeks (1 or more; below 1, refilled at once), so
    that a week's chance the post is filled is the same whatever its history. Leaders' and
    managers' posts are covered at once (an interim or internal promotion)."""
    if mean < 1.0:
        return np.zeros(org.n, np.int64)
    weeks = np.ones(org.n, np.int64)
    if mean > 1.0:
        q = 1.0 - 1.0 / mean  # weekly chance the post is still open
        weeks += np.floor(np.log1p(-u) / np.log(q)).astype(np.int64)
    covered = (org.role == LEADER) | (org.role == MANAGER)
    return np.where(covered, 0, weeks)


def digital_redeployment(sc: Scenario, org: Organisation) -> np.ndarray:
    """The contact-centre colleagues who serve the digital channel while it is offered.

    Digital's share of the contact centre's headcount (`organisation.channel_staff`) is
    redeployed: whole teams when the contact centre has several (the last ones; at least one
    team stays), else members spread through its one team. Deterministic, no random draws, so
    launching digital leaves the rest of a run's randomness as it was. An organisation that
    already has digital staff (loaded from a file) redeploys nobody.
    """
    front = org.role == FRONTLINE
    if np.any(front & (org.channel == DIGITAL)):
        return np.zeros(0, np.int64)
    staff = sc.organisation.channel_staff
    d, c = staff.get("digital", 0.0), staff.get("contact_centre", 0.0)
    share = d / (d + c) if d + c > 0 else 0.0
    cc = front & (org.channel == CONTACT_CENTRE)
    teams = np.unique(org.team[cc])
    if share <= 0 or len(teams) == 0:
        return np.zeros(0, np.int64)
    if len(teams) >= 2:
        k = int(np.clip(round(share * len(teams)), 1, len(teams) - 1))
        return np.flatnonzero(cc & np.isin(org.team, teams[len(teams) - k:])).astype(np.int64)
    members = np.flatnonzero(cc)
    pick = np.floor((np.arange(len(members)) + 1) * share) > np.floor(np.arange(len(members))
                                                                       * share)
    return members[pick].astype(np.int64)
