"""The model's state: typed records of numpy arrays, one row per agent.

State has one home. `CustomerState` and `ColleagueState` hold every array a rule reads or
writes; Mesa agents are views on their rows (`cxsim.agents`). The kernels take the same arrays
grouped as records (`state.arrays()`, a NamedTuple numba can type), so a kernel takes a few
records instead of twenty loose arrays, and a record's field is the dataclass field of the
same name: there is one list of fields, here.

Shapes: n customers (nodes of the social network, prospects included), c colleagues, m
contacts of the step, d = 5 personality dimensions (`constants.DIMENSIONS`).
"""

from __future__ import annotations

import dataclasses
import sys
from typing import Any, NamedTuple

import numpy as np


def _record_type(cls: type) -> type:
    """The NamedTuple type with the dataclass's fields, for numba (defined in this module).

    Numba caches compiled kernels by argument type; a NamedTuple type defined at module level
    under its own name pickles by reference, so the cache stays valid across processes.
    """
    name = cls.__name__.removesuffix("State") + "Arrays"
    rec = NamedTuple(name, [(f.name, np.ndarray) for f in dataclasses.fields(cls)])
    rec.__module__ = __name__
    setattr(sys.modules[__name__], name, rec)
    return rec


class _Arrays:
    """Mixin: `arrays()` gives the record the kernels take (the same arrays, no copies)."""

    _record: type

    def arrays(self) -> Any:
        return self._record(*(getattr(self, f.name) for f in dataclasses.fields(self)))


@dataclasses.dataclass(eq=False)
class CustomerState(_Arrays):
    """Every customer node: prospects, active and churned customers.

    Attributes
    ----------
    personality : (n, d) float
        The customer's own personality, 0..1 per dimension.
    prefs : (n, 3) float
        Relative preference for each channel (`constants.CHANNELS`).
    status : (n,) int8
        `PROSPECT`, `ACTIVE` or `CHURNED`.
    value : (n,) float
        Weekly spend at neutral attitude, in money units.
    home_store : (n,) int64
        Team index of the store the customer visits.
    last_colleague : (n,) int64
        Colleague who served the last contact, -1 before the first.
    disposition : (n,) float
        Standard-normal personal disposition to recommend.
    norm : (n,) float
        The expectation the customer's local market sets (industry norm plus the home store's
        market), 0..1.
    expectation, memory, peak, trust, empathy : (n,) float
        Perception state: expectation 0..1, emotional memory and its peak (signed), trust and
        felt empathy 0..1.
    ltr : (n,) float
        Likelihood to recommend, 0..10.
    met_mean : (n, d) float
        Running mean of the personalities met at contacts.
    met_spread : (n,) float
        Running mean distance of a new touchpoint from `met_mean`; -1 before the first.
    acquired_step : (n,) int64
        Step of the last adoption, -1 if none.
    neg_prev, neg_now, pos_prev, pos_now : (n,) float
        Bad / good stories heard first-hand last step and this step (for the second hop).
    contacted : (n,) bool
        Contacted this step.
    node_colleague : (n,) int64
        The colleague this node is, -1 for customers who are not colleagues.
    speak : (n,) int8
        +1 spoke well, -1 spoke ill this step, 0 silent.
    heard_pos, heard_neg : (n,) float
        Positive and negative word of mouth heard this step.
    adopted, churned : (n,) bool
        Adopted / churned this step.
    image : (n, d) float
        The brand personality the customer perceives, 0..1 per dimension: formed from the
        colleagues met, what neighbours say and the advertised promise.
    heard_image : (n, d) float
        Sum of the brand images of the neighbours who spoke this step.
    missold : (n,) bool
        Holds a product that does not fit them and has not yet found out (at the next contact).
    voice : (n, 3) float
        What each node says this step, side by side for the receipt pass: its speak (+1, -1,
        0) and the bad and good stories it passes on to the second hop (its share of what it
        heard first-hand last step). Three slots of one node share a cache line, so a
        neighbour's voice costs one memory access (measured at 1M customers: 88 ms for the
        receipt pass against 141 ms with three separate arrays).
    pending : (n,) int64
        Failed contacts about the customer's open issue: 0 when none is open; a customer
        with one contacts again (failure demand) until it is resolved.
    pending_channel : (n,) int64
        Channel of the last failed contact (-1 before any): an issue digital failed to
        resolve comes back to the contact centre.
    """

    personality: np.ndarray
    prefs: np.ndarray
    status: np.ndarray
    value: np.ndarray
    home_store: np.ndarray
    last_colleague: np.ndarray
    disposition: np.ndarray
    norm: np.ndarray
    expectation: np.ndarray
    memory: np.ndarray
    peak: np.ndarray
    trust: np.ndarray
    empathy: np.ndarray
    ltr: np.ndarray
    met_mean: np.ndarray
    met_spread: np.ndarray
    acquired_step: np.ndarray
    neg_prev: np.ndarray
    neg_now: np.ndarray
    pos_prev: np.ndarray
    pos_now: np.ndarray
    contacted: np.ndarray
    node_colleague: np.ndarray
    speak: np.ndarray
    heard_pos: np.ndarray
    heard_neg: np.ndarray
    adopted: np.ndarray
    churned: np.ndarray
    voice: np.ndarray
    image: np.ndarray
    heard_image: np.ndarray
    missold: np.ndarray
    pending: np.ndarray
    pending_channel: np.ndarray

    def swap_stories(self) -> None:
        """This step's stories become last step's (read by the second hop)."""
        self.neg_prev, self.neg_now = self.neg_now, self.neg_prev
        self.pos_prev, self.pos_now = self.pos_now, self.pos_prev


@dataclasses.dataclass(eq=False)
class ColleagueState(_Arrays):
    """Every colleague (leaders, managers, front line, back office).

    Attributes
    ----------
    personality, personality0 : (c, d) float
        Current personality and the anchor it was hired with.
    engagement : (c,) float
        This week's engagement 0..1: the usual level moved by the week's circumstances. What
        colleagues bring to this week's work and what a pulse survey asks.
    engagement_level : (c,) float
        The person's usual engagement 0..1, which moves slowly to its target; what leaving
        and a hire's welcome read.
    aptitude : (c,) float
        Individual capability multiplier on headroom (about 1).
    engagement_trait : (c,) float
        The person's own offset to the engagement target (personality: some people engage
        more than others under the same conditions); drawn for each hire (0 = average).
    manager_quality : (c,) float
        How much the unit's manager adds to the engagement target (0 = average).
    headroom : (c,) float
        Latitude to resolve a customer's problem in use, 0..1 (moves by habit toward what
        empowerment allows).
    pressure : (c,) float
        Productivity pressure as felt and acted on, 0..1 (moves by habit toward the regime's).
    mirror : (c,) float
        Satisfaction of the customers served, as the colleague feels it, 0..1.
    overload : (c,) float
        Contacts served beyond capacity, as a share of capacity.
    tenure : (c,) int64
        Weeks in the post.
    left : (c,) bool
        Left (and was replaced) this step.
    served, complaints : (c,) int64
        Contacts served and complaints received this step.
    satisfaction_sum : (c,) float
        Sum of the satisfaction of the contacts served this step.
    manager, team, channel, department : (c,) int64
        The organisation's columns the kernels read (manager -1 at the top, channel -1 off
        the front line).
    vacant : (c,) int64
        Weeks the post stays vacant before its new hire starts; 0 when filled. A vacant post
        serves nobody, influences nobody and cannot leave.
    """

    personality: np.ndarray
    personality0: np.ndarray
    engagement: np.ndarray
    engagement_level: np.ndarray
    aptitude: np.ndarray
    engagement_trait: np.ndarray
    manager_quality: np.ndarray
    headroom: np.ndarray
    pressure: np.ndarray
    mirror: np.ndarray
    overload: np.ndarray
    tenure: np.ndarray
    left: np.ndarray
    served: np.ndarray
    complaints: np.ndarray
    satisfaction_sum: np.ndarray
    manager: np.ndarray
    team: np.ndarray
    channel: np.ndarray
    department: np.ndarray
    vacant: np.ndarray


@dataclasses.dataclass(eq=False)
class Contacts(_Arrays):
    """The service contacts of one step, one row each (m rows).

    Attributes
    ----------
    customer, colleague, channel : (m,) int64
        Who called, who served, through which channel.
    experience : (m,) float
        Quality of the experience, 0..1.
    homophily : (m,) float
        Similarity of colleague and customer, 0..1.
    inconsistency : (m,) float
        Distance of the colleague's personality from the personality met so far.
    satisfaction : (m,) float
        Satisfaction 0..1 (disconfirmation of expectation).
    sold : (m,) int8
        What was sold (`selling.NO_SALE`, `FIT`, `MISFIT`).
    attempt : (m,) int64
        Earlier failed contacts about the same issue: 0 for a first contact, more for a
        repeat (failure demand).
    resolved : (m,) bool
        The contact resolved the customer's issue.
    undelivered : (m,) bool
        It resolved the issue, and the back office then failed to deliver what was agreed:
        the customer finds out and loses trust (a broken promise), chasing it or not.
    """

    customer: np.ndarray
    colleague: np.ndarray
    channel: np.ndarray
    experience: np.ndarray
    homophily: np.ndarray
    inconsistency: np.ndarray
    satisfaction: np.ndarray
    sold: np.ndarray
    attempt: np.ndarray
    resolved: np.ndarray
    undelivered: np.ndarray

    @classmethod
    def empty(cls, m: int = 0) -> Contacts:
        return cls(*np.empty((3, m), np.int64), *np.empty((4, m)), sold=np.zeros(m, np.int8),
                   attempt=np.zeros(m, np.int64), resolved=np.zeros(m, np.bool_),
                   undelivered=np.zeros(m, np.bool_))

    def by_channel(self, mask: np.ndarray | None = None) -> np.ndarray:
        """Contacts per channel (3,) as floats, of all contacts or those in `mask`."""
        ch = self.channel if mask is None else self.channel[mask]
        return np.bincount(ch, minlength=3).astype(float)


@dataclasses.dataclass(eq=False)
class Pools(_Arrays):
    """Who can serve a contact: CSR lists of front-line colleagues per team and per channel."""

    team_indptr: np.ndarray
    team_members: np.ndarray
    channel_indptr: np.ndarray
    channel_members: np.ndarray


@dataclasses.dataclass(eq=False)
class Graph(_Arrays):
    """A network in CSR form (both directions of every tie); `weight` per entry (or empty)."""

    indptr: np.ndarray
    indices: np.ndarray
    weight: np.ndarray


@dataclasses.dataclass(eq=False)
class Process(_Arrays):
    """The back-office process steps: quality now and at the start, and which channel uses
    which step (`chain[channel, step]`); `department_step` is the step each department runs
    (-1 for none); `effective` (s,) the quality each step delivers this week, which its
    department's engagement and workload move away from `quality` (internal service)."""

    quality: np.ndarray
    quality0: np.ndarray
    chain: np.ndarray
    department_step: np.ndarray
    effective: np.ndarray


@dataclasses.dataclass(eq=False)
class ContactDraws(_Arrays):
    """Random numbers of the service phase, one per contact (uniform, but noise ~ N(0, 1));
    `resolve` decides whether the contact resolves the issue, `fulfil` whether the back-office
    chain then delivers what was agreed."""

    channel: np.ndarray
    relationship: np.ndarray
    pick: np.ndarray
    failure: np.ndarray
    noise: np.ndarray
    resolve: np.ndarray
    fulfil: np.ndarray


@dataclasses.dataclass(eq=False)
class CustomerKeys(_Arrays):
    """The keys (np.uint64) of the week's per-node random streams: contact the company, talk,
    adopt, churn. A kernel computes node i's draw where it needs it, ``rng.uniform(key, i)``
    (`cxsim.rng`): no n-sized draw arrays, and only nodes that can act draw at all."""

    contact: np.uint64
    talk: np.uint64
    adopt: np.uint64
    churn: np.uint64

    @classmethod
    def for_week(cls, seed: int, week: int) -> CustomerKeys:
        """The keys of week `week` of the run seeded `seed` (burn-in weeks count too)."""
        from .rng import ADOPT, CHURN, CONTACT, TALK, stream_key

        return cls(*(stream_key(seed, week, s) for s in (CONTACT, TALK, ADOPT, CHURN)))


@dataclasses.dataclass(eq=False)
class StaffDraws(_Arrays):
    """Random numbers of the staff phase, per colleague: leaving (uniform), the hire's
    personality noise (c, d standard normal), the customer a hire for fit resembles, the
    weeks the post would stay vacant if its holder left now (int64, 0 = refilled at once) and
    the hire's engagement trait (standard normal)."""

    leave: np.ndarray
    hire_noise: np.ndarray
    hire_customer: np.ndarray
    vacancy: np.ndarray
    hire_engagement: np.ndarray


@dataclasses.dataclass(eq=False)
class CustomerFigures(_Arrays):
    """The customer-side totals of a step (filled by the customer passes).

    counts : (6,) int64, indexed by `constants.T_*`; sums : (7,) float, by `constants.S_*`
    (revenue included); units : (3, teams) int64, by `constants.U_*`: customers, promoters and
    detractors per unit of the colleague who served them last; images : (7, teams + 1) float,
    by `constants.I_*`: sums over active customers of their brand image's distance from the
    intended brand, its squared length and its 5 dimensions, per unit (the last column: all
    active customers, those never served included).
    """

    counts: np.ndarray
    sums: np.ndarray
    units: np.ndarray
    images: np.ndarray

    @classmethod
    def zeros(cls, n_teams: int) -> CustomerFigures:
        return cls(np.zeros(6, np.int64), np.zeros(7), np.zeros((3, n_teams), np.int64),
                   np.zeros((7, n_teams + 1)))


for _cls in (CustomerState, ColleagueState, Contacts, Pools, Graph, Process, ContactDraws,
             CustomerKeys, StaffDraws, CustomerFigures):
    _cls._record = _record_type(_cls)
del _cls
