"""CXModel: the Mesa model that owns the arrays and runs the eight phases of a week.

The model orchestrates: it draws the random numbers, builds parameter records from the current
levers, calls one kernel per phase (numba, or the numpy twins with ``engine="reference"``) and
records the figures with a Mesa DataCollector. It never loops over agent objects.

>>> m = CXModel("baseline", overrides={"size.customers": 500, "size.prospects": 200,
...             "burn_in": 0, "steps": 5})
>>> m.run()
>>> len(m.timeseries())
5
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import mesa
import numpy as np
import pandas as pd

from . import kernels, metrics, reference
from .agents import Colleague, Customer, bulk_create
from .kernels import ACTIVE, CHURNED, PROSPECT
from .networks import (
    CROSS_TEAM,
    FRONTLINE,
    LEADER,
    MANAGER,
    WITHIN_TEAM,
    Organisation,
    SocialNetwork,
    build_organisation,
    build_social,
    chain_matrix,
    service_graph,
)
from .params import (
    AttitudeParams,
    ChurnParams,
    CultureParams,
    EngagementParams,
    LearningParams,
    MoneyParams,
    PerceptionParams,
    ServiceParams,
    StaffParams,
    WomParams,
)
from .scenario import CHANNELS, ComplaintsFirst, KpiDashboard, Scenario, ServiceFailure, SetEvent
from .scenario import load_scenario as _load

# below this many customer nodes, "auto" runs the serial kernels: a parallel launch costs more
# than it saves on small arrays (same numbers either way)
PARALLEL_MIN_NODES = 50_000

PHASES = ("culture", "service", "perception", "word_of_mouth", "churn", "staff", "learning",
          "money")
# the numba engine runs attitude, word of mouth, churn, the customer figures and revenue as fused
# loops over the customers (kernels.customer_pass_a, customer_hear, customer_pass_b); their time
# is reported as one phase, "customers" (per phase, attitude is part of "perception" and revenue
# and the figures part of "money")
FUSED_PHASES = ("culture", "service", "perception", "customers", "staff", "learning", "money")


@dataclass
class _Engine:
    culture: Any
    engagement_step: Any
    assign_contacts: Any
    service: Any
    perception: Any
    attitude: Any
    wom: Any
    churn: Any
    staff: Any
    learning: Any
    revenue: Any
    select_contacts: Any
    # fused customer passes (None: run attitude, wom, churn, figures, revenue one by one)
    customer_pass_a: Any = None
    customer_hear: Any = None
    customer_pass_b: Any = None


def _engine(name: str, parallel: bool, fused: bool = True) -> _Engine:
    if name == "reference":
        r = reference
        return _Engine(r.culture, r.engagement_step, r.assign_contacts, r.service, r.perception,
                       r.attitude, r.wom, r.churn, r.staff, r.learning, r.revenue,
                       r.select_contacts)
    if name != "numba":
        raise ValueError(f"engine = {name!r}; allowed: numba, reference")
    k = kernels
    if parallel:
        e = _Engine(k.culture, k.engagement_step, k.assign_contacts, k.service, k.perception,
                    k.attitude, k.wom, k.churn, k.staff, k.learning, k.revenue,
                    k.select_contacts)
        if fused:
            e.customer_pass_a, e.customer_hear = k.customer_pass_a, k.customer_hear
            e.customer_pass_b = k.customer_pass_b
        return e
    e = _Engine(k.culture_serial, k.engagement_step_serial, k.assign_contacts,
                k.service_serial, k.perception_serial, k.attitude_serial, k.wom_serial,
                k.churn_serial, k.staff, k.learning, k.revenue, k.select_contacts)
    if fused:
        e.customer_pass_a = k.customer_pass_a_serial
        e.customer_hear = k.customer_hear_serial
        e.customer_pass_b = k.customer_pass_b_serial
    return e


class CXModel(mesa.Model):
    """Brand personality spreading through colleagues and customers.

    Args:
        scenario: a Scenario, or a built-in scenario name / TOML path.
        seed: random seed (default: the scenario's). Same scenario and seed, same numbers.
        engine: "numba" (kernels) or "reference" (numpy twins; slower, same numbers).
        parallel: run the customer-sweeping kernels on all cores: True, False, or "auto"
            (parallel from PARALLEL_MIN_NODES customer nodes up). Same numbers either way.
        overrides: dotted lever overrides applied to the scenario, e.g. {"levers.silo": 0.8}.
        create_agents: create the Mesa agent views: True (in the build), "lazy" (on first use
            of `agents`, `agents_by_type` or `colleague_agents`; a 1M-customer model builds in
            a few seconds instead of ~10), or False (headless batch runs). Unless True, the
            social network's networkx view is also left to its first use (`social.graph()`).
            The step reads neither, so the numbers are the same in all three cases.
        fused: with engine="numba", run attitude, word of mouth, churn, the customer figures
            and revenue as two fused passes over the customers (the default; same numbers as
            the per-phase kernels, which run with fused=False). Ignored by "reference".
    """

    def __init__(self, scenario: Scenario | str = "baseline", seed: int | None = None,
                 engine: str = "numba", parallel: bool | str = "auto",
                 overrides: dict[str, Any] | None = None, create_agents: bool | str = True,
                 fused: bool = True):
        sc = _load(scenario) if isinstance(scenario, str) else scenario
        if overrides:
            sc = sc.with_overrides(overrides)
        seed = sc.seed if seed is None else int(seed)
        super().__init__(rng=seed)
        self.seed = seed
        self.scenario = sc
        self.engine_name = engine
        if parallel == "auto":
            parallel = sc.size.customers + sc.size.prospects >= PARALLEL_MIN_NODES
        elif not isinstance(parallel, bool):
            raise ValueError(f"parallel = {parallel!r}; allowed: True, False, 'auto'")
        self.parallel = parallel
        self.fused = bool(fused)
        self.k = _engine(engine, parallel, self.fused)
        self.levers = sc.levers.model_copy()
        self.t = 0  # index of the next step to run (0-based, events use it)
        self.phases = FUSED_PHASES if self.k.customer_pass_a is not None else PHASES
        self.phase_seconds = dict.fromkeys(self.phases, 0.0)
        self.events_log: list[tuple[int, str]] = []
        self._responded: set[int] = set()  # crisis responses that have fired
        self._extra_events: list[ServiceFailure] = []  # failures injected live (dashboard)
        self._eager_views = create_agents is True
        t0 = time.perf_counter()
        self._build()
        self.build_seconds = {"networks_and_arrays": time.perf_counter() - t0}
        if create_agents not in (True, False, "lazy"):
            raise ValueError(f"create_agents = {create_agents!r}; allowed: True, False, 'lazy'")
        self._colleague_agents: list[Colleague] = []
        self._agents_pending = create_agents == "lazy"
        self.build_seconds["mesa_agents"] = 0.0
        if create_agents is True:
            self._create_agents()
        self.kpis: dict[str, float] = {}
        self.unit_rows: list[dict[str, np.ndarray]] = []
        self.datacollector = mesa.DataCollector(
            model_reporters={name: _reporter(name) for name in metrics.TIMESERIES_COLUMNS})
        t2 = time.perf_counter()
        for _ in range(sc.burn_in):
            self._advance(apply_events=False)
        self.cumulative_profit = 0.0
        self.unit_rows.clear()  # units() reports the simulated weeks only, not the burn-in
        if self.kpis:  # the figures shown before the first step: burn-in's, profit restarting
            self.kpis["cumulative_profit"] = 0.0
        self.build_seconds["burn_in"] = time.perf_counter() - t2

    def use_parallel(self, parallel: bool) -> None:
        """Switch between the parallel and serial kernels from the next step (same numbers)."""
        self.parallel = bool(parallel)
        self.k = _engine(self.engine_name, self.parallel, self.fused)

    def use_fused(self, fused: bool) -> None:
        """Switch between the fused customer passes and the per-phase kernels (same numbers,
        but for the last bits of revenue, summed in chunks by the fused pass)."""
        self.fused = bool(fused)
        self.k = _engine(self.engine_name, self.parallel, self.fused)
        self.phases = FUSED_PHASES if self.k.customer_pass_a is not None else PHASES
        for name in self.phases:
            self.phase_seconds.setdefault(name, 0.0)

    # -- Mesa agent views ----------------------------------------------------------------------
    def _create_agents(self) -> None:
        t = time.perf_counter()
        self._agents_pending = False
        self._colleague_agents = bulk_create(Colleague, self, self.org.n)
        bulk_create(Customer, self, self.social.n)
        self.build_seconds["mesa_agents"] = time.perf_counter() - t

    @property
    def agents(self) -> mesa.agent.AgentSet:
        """All agents (Mesa); with create_agents="lazy" they are created here, once."""
        if self._agents_pending:
            self._create_agents()
        return self._all_agents

    @agents.setter
    def agents(self, value: Any) -> None:
        mesa.Model.agents.fset(self, value)

    @property
    def agents_by_type(self) -> dict[type[mesa.Agent], mesa.agent.AgentSet]:
        """Agents by type (Mesa); with create_agents="lazy" they are created here, once."""
        if self._agents_pending:
            self._create_agents()
        return self._agents_by_type

    @property
    def colleague_agents(self) -> list[Colleague]:
        """Colleague views in index order (empty with create_agents=False)."""
        if self._agents_pending:
            self._create_agents()
        return self._colleague_agents

    # -- construction -------------------------------------------------------------------------
    def _build(self) -> None:
        sc, rng = self.scenario, self.rng
        self.org: Organisation = build_organisation(sc, rng)
        n_nodes = sc.size.customers + sc.size.prospects
        # headless runs (no agent views) get the networkx view on demand, not in the build
        self.social: SocialNetwork = build_social(sc, n_nodes, rng, self.engine_name,
                                                  eager_graph=self._eager_views)
        self._init_colleagues()
        self._init_customers()
        self.customers.contacted[:] = True  # no fading before the first week
        self._attitude()
        steps, chain = chain_matrix(sc)
        self.process_steps = steps
        self.chain = chain
        self.quality = np.array([sc.process.steps[s] for s in steps], dtype=float)
        self.quality0 = self.quality.copy()
        # int64 copies of the organisation's columns the kernels read, made once (not per step)
        org = self.org
        self.colleague_manager = org.manager.astype(np.int64)
        self.colleague_team = org.team.astype(np.int64)
        self.colleague_channel = org.channel.astype(np.int64)
        self.colleague_department = org.department.astype(np.int64)
        self.frontline_mask = org.role == FRONTLINE
        self.step_of_department = np.array(
            [steps.index(d) if d in steps else -1 for d in self.org.department_names], np.int64)
        self._edge_w_silo: float | None = None
        # per-step buffers of n floats, kept: the WoM scratch (see kernels.wom) and the draws
        # (rng.random(out=...) gives the numbers rng.random(n) would)
        n_nodes = self.social.n
        self._scratch = np.empty(n_nodes)
        self._u_contact, self._u_talk, self._u_adopt, self._u_churn = np.empty((4, n_nodes))
        self.cumulative_profit = 0.0
        self.last_contacts = SimpleNamespace(
            customers=np.empty(0, np.int64), colleagues=np.empty(0, np.int64),
            channel=np.empty(0, np.int64), experience=np.empty(0))

    def _init_colleagues(self) -> None:
        sc, rng, org = self.scenario, self.rng, self.org
        n = org.n
        cu = sc.culture
        centre = np.clip(cu.labour_market_centre + cu.department_spread * rng.standard_normal(
            (len(org.department_names), 5)), 0, 1)
        pers = np.clip(centre[org.department] + cu.personality_spread
                       * rng.standard_normal((n, 5)), 0, 1)
        self.colleagues = SimpleNamespace(
            personality=pers,
            personality0=pers.copy(),
            engagement=np.clip(0.55 + 0.1 * rng.standard_normal(n), 0, 1),
            aptitude=np.clip(1.0 + 0.2 * rng.standard_normal(n), 0.3, 1.7),
            headroom=np.zeros(n),
            mirror=np.full(n, 0.5),
            overload=np.zeros(n),
            tenure=rng.exponential(150.0, n).astype(np.int64),
            left=np.zeros(n, np.bool_),
            served=np.zeros(n, np.int64),
            complaints=np.zeros(n, np.int64),
            satisfaction_sum=np.zeros(n),
        )
        # front-line pools: by team (stores) and by channel
        front = np.flatnonzero(org.role == FRONTLINE)
        by_team = front[np.argsort(org.team[front], kind="stable")]
        self.team_indptr = np.zeros(org.n_teams + 1, np.int64)
        np.cumsum(np.bincount(org.team[front], minlength=org.n_teams), out=self.team_indptr[1:])
        self.team_members = by_team.astype(np.int64)
        by_ch = front[np.argsort(org.channel[front], kind="stable")]
        self.pool_indptr = np.zeros(len(CHANNELS) + 1, np.int64)
        np.cumsum(np.bincount(org.channel[front], minlength=len(CHANNELS)),
                  out=self.pool_indptr[1:])
        self.pool_members = by_ch.astype(np.int64)
        store = CHANNELS.index("store")
        self.store_teams = np.flatnonzero(
            np.bincount(org.team[front], weights=(org.channel[front] == store),
                         minlength=org.n_teams) > 0)
        self.pay_multiple = np.where((org.role == LEADER) | (org.role == MANAGER),
                                     sc.money.manager_salary_multiple, 1.0)

    def _init_customers(self) -> None:
        sc, rng, net = self.scenario, self.rng, self.social
        n = net.n
        pe = sc.perception
        pers = np.clip(net.tribe_centre[net.tribe] + sc.social.personality_spread
                       * rng.standard_normal((n, 5)), 0, 1)
        base = np.array([sc.service.channel_preference.get(c, 0.0) for c in CHANNELS])
        prefs = base[None, :] * rng.lognormal(0.0, 0.5, size=(n, 3))
        status = np.full(n, PROSPECT, np.int8)
        status[rng.permutation(n)[: sc.size.customers]] = ACTIVE
        sigma = sc.money.value_spread
        value = sc.money.revenue_per_customer * rng.lognormal(-sigma**2 / 2, sigma, n)
        home = self._home_stores(net.tribe, rng.random(n))
        self.customers = SimpleNamespace(
            personality=pers, prefs=prefs, status=status, value=value,
            home_store=home.astype(np.int64),
            last_colleague=np.full(n, -1, np.int64),
            disposition=rng.standard_normal(n),
            expectation=np.full(n, pe.expectation_initial),
            memory=np.zeros(n), peak=np.zeros(n),
            trust=np.full(n, pe.trust_initial), empathy=np.full(n, pe.empathy_initial),
            ltr=np.full(n, 5.0), met_mean=np.zeros((n, 5)), met_spread=np.full(n, -1.0),
            acquired_step=np.full(n, -1, np.int64), neg_prev=np.zeros(n),
            contacted=np.zeros(n, np.bool_), node_colleague=np.full(n, -1, np.int64),
            speak=np.zeros(n, np.int8), heard_pos=np.zeros(n), heard_neg=np.zeros(n),
            neg_now=np.zeros(n), adopted=np.zeros(n, np.bool_), churned=np.zeros(n, np.bool_),
        )
        # some colleagues are customers too
        k = int(round(sc.social.colleague_members * self.org.n))
        active = np.flatnonzero(status == ACTIVE)
        k = min(k, len(active))
        cols = rng.choice(self.org.n, size=k, replace=False)
        nodes = rng.choice(active, size=k, replace=False)
        self.customers.node_colleague[nodes] = cols
        self.colleague_node = np.full(self.org.n, -1, np.int64)
        self.colleague_node[cols] = nodes

    def _home_stores(self, tribe: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Home store of each customer: stores serve local communities (catchments).

        A share `social.store_locality` of a tribe's members use a store of the tribe's
        catchment (stores are split evenly over tribes); the rest use any store. Also builds the
        catchment lists that hiring for fit draws from.
        """
        ns, n_tribes = len(self.store_teams), self.scenario.social.tribes
        if ns == 0:
            home = np.zeros(len(tribe), np.int64)
        else:
            loc = self.scenario.social.store_locality
            lo = (tribe * ns) // n_tribes
            hi = np.maximum(((tribe + 1) * ns) // n_tribes, lo + 1)
            local = u < loc
            v = np.where(local, u / max(loc, 1e-12), (u - loc) / max(1.0 - loc, 1e-12))
            idx = np.where(local, lo + (v * (hi - lo)).astype(np.int64),
                           (v * ns).astype(np.int64))
            home = self.store_teams[np.minimum(idx, np.where(local, hi - 1, ns - 1))]
        order = np.argsort(home, kind="stable")
        self.catchment_members = order.astype(np.int64)
        self.catchment_indptr = np.zeros(self.org.n_teams + 1, np.int64)
        np.cumsum(np.bincount(home, minlength=self.org.n_teams), out=self.catchment_indptr[1:])
        return home

    def _hire_sources(self, u: np.ndarray) -> np.ndarray:
        """The customer each new hire resembles under hiring for fit: one from the post's own
        store catchment for store staff (hire from the community you serve), else anyone."""
        team = self.org.team
        lo, hi = self.catchment_indptr[team], self.catchment_indptr[team + 1]
        anyone = np.minimum((u * self.social.n).astype(np.int64), self.social.n - 1)
        store = (self.org.role == FRONTLINE) & (self.org.channel == CHANNELS.index("store"))
        local = store & (hi > lo)
        pick = self.catchment_members[np.minimum(lo + (u * (hi - lo)).astype(np.int64),
                                                 np.maximum(hi - 1, 0))]
        return np.where(local, pick, anyone)

    def _attitude_params(self) -> AttitudeParams:
        pe = self.scenario.perception
        return AttitudeParams(pe.memory_decay, pe.peak_weight, pe.peak_decay, pe.ltr_memory,
                              pe.ltr_trust, pe.ltr_empathy, pe.ltr_bias, pe.ltr_spread,
                              pe.colleague_advocacy)

    def _attitude(self) -> None:
        """Fade memories without contact and recompute likelihood to recommend."""
        cus = self.customers
        ap = self._attitude_params()
        self.k.attitude(cus.status, cus.contacted, cus.memory, cus.peak, cus.trust, cus.empathy,
                        cus.disposition, cus.node_colleague, self.colleagues.engagement, ap,
                        cus.ltr)

    # -- parameters from the current levers ----------------------------------------------------
    def _edge_weights(self) -> np.ndarray:
        silo = self.levers.silo
        if self._edge_w_silo != silo:
            kind = self.org.edge_kind
            self._edge_w = np.where(kind == WITHIN_TEAM, 1.0, np.where(
                kind == CROSS_TEAM, 1.0 - 0.5 * silo,
                self.scenario.culture.cross_silo_weight * (1.0 - silo)))
            self._edge_w_silo = silo
        return self._edge_w

    def _top_down(self) -> tuple[np.ndarray, np.ndarray]:
        lv, cu = self.levers, self.scenario.culture
        commitment = lv.leadership_commitment * (1.0 + cu.board_boost * lv.board_cx_role)
        n = self.org.n
        # silos slow the brand filtering down: part of the top-down pull is lost between levels
        top_down = np.full(n, cu.manager_weight * commitment * (1.0 - cu.silo_top_down * lv.silo))
        brand_w = cu.brand_weight * (lv.training + (self.org.role == LEADER) * commitment)
        return top_down, brand_w

    def brand_fit(self) -> np.ndarray:
        """Each colleague's fit to the brand personality, 0..1."""
        return reference.similarity(self.colleagues.personality,
                                    np.array(self.scenario.brand.personality),
                                    self.scenario.service.homophily_bandwidth)

    def chain_quality(self) -> np.ndarray:
        """Quality of each channel's process chain: the product of its steps' qualities."""
        return np.prod(np.where(self.chain, self.quality[None, :], 1.0), axis=1)

    # -- events ----------------------------------------------------------------------------------
    def _apply_events(self) -> None:
        t = self.t
        self.shock = None
        for i, ev in enumerate(self.scenario.events):
            if isinstance(ev, SetEvent) and ev.step == t:
                self.set_levers(ev.set)
                self.events_log.append((t, f"set {ev.set}"))
            elif isinstance(ev, ServiceFailure) and ev.step <= t < ev.step + ev.duration:
                if self.shock is None or ev.severity > self.shock.severity:
                    self.shock = ev
                if ev.step == t:
                    self.events_log.append((t, "service failure"))
            elif isinstance(ev, KpiDashboard | ComplaintsFirst) and t >= ev.step:
                if i in self._responded or self.kpis.get("nps", 100.0) >= ev.nps_threshold:
                    continue
                self._responded.add(i)
                self.respond(ev)

    def respond(self, ev: KpiDashboard | ComplaintsFirst) -> None:
        """Management's response to a crisis: the knee-jerk dashboard or complaints-first."""
        if isinstance(ev, KpiDashboard):
            self.set_levers({"productivity_pressure": ev.productivity_pressure,
                             "empowerment": ev.empowerment,
                             "cx_metrics_weight": ev.cx_metrics_weight})
            self.events_log.append((self.t, "knee-jerk KPI dashboard"))
        else:
            self.set_levers({"complaints_first": ev.complaints_first,
                             "co_creation": ev.co_creation, "empowerment": ev.empowerment})
            self.events_log.append((self.t, "complaints-first response"))

    def set_levers(self, changes: dict[str, Any]) -> None:
        """Change levers now (validated): {"empowerment": 0.7} or {"process.billing": 0.6}."""
        for key, value in changes.items():
            if key.startswith("process."):
                s = self.process_steps.index(key.split(".", 1)[1])
                self.quality[s] = self.quality0[s] = float(value)
            else:
                setattr(self.levers, key.removeprefix("levers."), value)

    def inject_service_failure(self, severity: float = 0.4, duration: int = 4,
                               share: float = 0.5, channel: str | None = None) -> None:
        """Start a service failure now (used by the dashboard's button)."""
        ev = ServiceFailure(type="service_failure", step=self.t, duration=duration,
                            severity=severity, share=share, channel=channel)
        self._extra_events.append(ev)
        self.events_log.append((self.t, "service failure"))

    # -- the step ------------------------------------------------------------------------------
    def step(self) -> None:
        """One week: the eight phases, then the figures."""
        self._advance(apply_events=True)
        self.datacollector.collect(self)
        self.t += 1

    def run(self, steps: int | None = None, progress=None) -> None:
        """Run `steps` weeks (default: the scenario's)."""
        for _ in range(self.scenario.steps if steps is None else steps):
            self.step()
            if progress is not None:
                progress()

    def _advance(self, apply_events: bool) -> None:
        self.shock = None
        if apply_events:
            self._apply_events()
            for ev in self._extra_events:
                if ev.step <= self.t < ev.step + ev.duration and (
                        self.shock is None or ev.severity > self.shock.severity):
                    self.shock = ev
        sc, lv, k, rng = self.scenario, self.levers, self.k, self.rng
        col, cus, org, net = self.colleagues, self.customers, self.org, self.social
        ph = self.phase_seconds
        clock = time.perf_counter

        # 1. culture
        t0 = clock()
        edge_w = self._edge_weights()
        top_down, brand_w = self._top_down()
        brand = np.array(sc.brand.personality)
        cu = sc.culture
        new_p = np.empty_like(col.personality)
        k.culture(col.personality, col.personality0, self.colleague_manager, top_down,
                  brand_w, brand, org.indptr, org.indices, edge_w,
                  CultureParams(cu.stubbornness, cu.self_weight, cu.peer_weight), new_p)
        col.personality[:] = new_p
        new_e = np.empty_like(col.engagement)
        ep = EngagementParams(
            cu.engagement_rate, cu.engagement_peers, cu.engagement_base,
            cu.engagement_empowerment, cu.engagement_pressure, cu.engagement_pay,
            cu.engagement_co_creation, cu.engagement_mirror, cu.engagement_workload,
            lv.empowerment, lv.productivity_pressure, lv.cx_metrics_weight, lv.pay_alignment,
            lv.co_creation, cu.headroom_pressure_loss, lv.training, cu.training_cost_headroom)
        k.engagement_step(col.engagement, col.aptitude, col.mirror, col.overload, org.indptr,
                          org.indices, edge_w, ep, col.headroom, new_e)
        col.engagement[:] = new_e
        t1 = clock()
        ph["culture"] += t1 - t0

        # 2. service
        se = sc.service
        u = rng.random(out=self._u_contact)
        contacts = k.select_contacts(cus.status, u, se.contact_rate)
        m = len(contacts)
        u_channel, u_rel, u_pick, u_fail = rng.random((4, m))
        noise = rng.standard_normal(m)
        colleague, channel = k.assign_contacts(
            contacts, cus.prefs, cus.home_store, cus.last_colleague, self.colleague_team,
            self.colleague_channel, self.team_indptr, self.team_members,
            self.pool_indptr, self.pool_members, se.relationship, lv.digital_channel,
            u_channel, u_rel, u_pick)
        shock = self.shock
        sp = ServiceParams(
            se.weight_engagement, se.weight_brand_fit, se.weight_empowerment,
            se.weight_homophily, se.weight_process, se.rush_penalty, se.noise,
            se.homophily_bandwidth, lv.productivity_pressure, lv.cx_metrics_weight,
            lv.digital_front_end, se.digital_self_service, sc.perception.consistency_rate,
            shock is not None, shock.share if shock else 0.0,
            CHANNELS.index(shock.channel) if shock and shock.channel else -1,
            shock.severity if shock else 0.0)
        experience, homophily, inconsistency = np.empty(m), np.empty(m), np.empty(m)
        k.service(contacts, colleague, channel, noise, u_fail, cus.personality,
                  col.personality, col.engagement, col.headroom, brand, self.chain_quality(),
                  cus.met_mean, cus.met_spread, sp, experience, homophily, inconsistency)
        t2 = clock()
        ph["service"] += t2 - t1

        # 3. perception
        pe = sc.perception
        satisfaction = np.empty(m)
        k.perception(contacts, experience, homophily, inconsistency, col.engagement[colleague],
                     cus.expectation, cus.memory, cus.peak, cus.trust, cus.empathy,
                     PerceptionParams(pe.satisfaction_slope, pe.tolerance, lv.negativity_bias,
                                      pe.memory_rate,
                                      pe.expectation_adaptation, pe.expectation_anchor,
                                      pe.expectation_initial, pe.trust_gain, pe.trust_loss,
                                      pe.inconsistency_penalty, pe.empathy_rate),
                     satisfaction)
        cus.contacted[:] = False
        cus.contacted[contacts] = True
        cus.last_colleague[contacts] = colleague
        n_c = org.n
        col.served = np.bincount(colleague, minlength=n_c)
        col.satisfaction_sum = np.bincount(colleague, weights=satisfaction, minlength=n_c)
        complaint = satisfaction < 0.5
        col.complaints = np.bincount(colleague[complaint], minlength=n_c)
        served = col.served > 0
        col.mirror[served] += cu.mirror_rate * (
            col.satisfaction_sum[served] / col.served[served] - col.mirror[served])
        col.overload[:] = np.maximum(0.0, col.served / se.capacity - 1.0)
        wm, ch, mo = sc.word_of_mouth, sc.churn, sc.money
        wp = WomParams(wm.promoter_talk, wm.detractor_talk, wm.churned_talk, wm.second_hop,
                       wm.attitude_weight, wm.expectation_weight, lv.marketing, wm.adoption_q,
                       wm.detractor_repel, wm.winback, pe.expectation_initial,
                       pe.trust_initial, pe.empathy_initial)
        cp = ChurnParams(ch.base, ch.memory_sensitivity, ch.trust_sensitivity, pe.peak_weight)
        mp = MoneyParams(mo.promoter_premium, mo.detractor_discount)
        fused = k.customer_pass_a is not None
        if not fused:
            self._attitude()
        t3 = clock()
        ph["perception"] += t3 - t2
        # the step's draws for word of mouth and churn, in the order the phases take them
        u_talk = rng.random(out=self._u_talk)
        u_adopt = rng.random(out=self._u_adopt)
        u_churn = rng.random(out=self._u_churn)
        if fused:
            # 3b-5 (+ the figures and revenue of 8): attitude, word of mouth, churn, fused
            k.customer_pass_a(cus.status, cus.contacted, cus.memory, cus.peak, cus.trust,
                              cus.empathy, cus.disposition, cus.node_colleague, col.engagement,
                              self._attitude_params(), net.indptr, u_talk, cus.neg_prev,
                              lv.social_amplification, wp, cus.ltr, cus.speak, self._scratch)
            k.customer_hear(net.indptr, net.indices, cus.speak, self._scratch, wp.second_hop,
                            cus.heard_pos, cus.heard_neg, cus.neg_now)
            *fig, rev = k.customer_pass_b(
                net.indptr, cus.status, cus.ltr, u_adopt, u_churn, cus.memory, cus.peak,
                cus.expectation, cus.trust, cus.empathy, cus.acquired_step, self.t, wp, cp,
                cus.heard_pos, cus.heard_neg, cus.adopted, cus.churned, cus.met_spread,
                cus.last_colleague, self.colleague_team, org.n_teams, cus.value, mp)
            totals = metrics.CustomerTotals(*fig)
            cus.neg_prev, cus.neg_now = cus.neg_now, cus.neg_prev
            t5 = clock()
            ph["customers"] += t5 - t3
        else:
            # 4. word of mouth
            k.wom(net.indptr, net.indices, cus.status, cus.ltr, u_talk, u_adopt, cus.neg_prev,
                  cus.memory, cus.peak, cus.expectation, cus.trust, cus.empathy,
                  cus.acquired_step, self.t, lv.social_amplification, wp, cus.speak,
                  cus.heard_pos, cus.heard_neg, cus.neg_now, cus.adopted, self._scratch)
            cus.neg_prev, cus.neg_now = cus.neg_now, cus.neg_prev
            t4 = clock()
            ph["word_of_mouth"] += t4 - t3

            # 5. churn
            k.churn(cus.status, cus.memory, cus.peak, cus.trust, u_churn, cus.acquired_step,
                    self.t, cp, cus.churned)
            t5 = clock()
            ph["churn"] += t5 - t4

        # 6. staff
        st = sc.staff
        k.staff(col.engagement, col.tenure, col.personality, col.personality0, col.mirror,
                rng.random(n_c), rng.standard_normal((n_c, 5)),
                self._hire_sources(rng.random(n_c)), cus.personality,
                StaffParams(st.attrition_base, st.attrition_engagement, st.tenure_protection,
                            st.onboarding_engagement, lv.hiring_for_fit,
                            cu.labour_market_centre, cu.personality_spread), col.left)
        t6 = clock()
        ph["staff"] += t6 - t5

        # 7. learning
        pr = sc.process
        by_channel = np.bincount(channel, minlength=len(CHANNELS)).astype(float)
        complaints_ch = np.bincount(channel[complaint], minlength=len(CHANNELS)).astype(float)
        intensity = min(1.0, lv.complaints_first + pr.co_creation_learning * lv.co_creation)
        k.learning(self.quality, self.quality0, self.chain, complaints_ch, by_channel,
                   self.step_of_department, self.colleague_department, col.complaints,
                   col.engagement, LearningParams(intensity, pr.learning_rate, pr.decay,
                                                  pr.engagement_lift))
        t7 = clock()
        ph["learning"] += t7 - t6

        # 8. money
        if not fused:
            rev = k.revenue(cus.status, cus.value, cus.ltr, mp)
            totals = metrics.customer_totals(self)
        acquisitions = int(np.count_nonzero(cus.adopted))
        leavers = int(np.count_nonzero(col.left))
        cost = metrics.weekly_cost(sc, lv, self.pay_multiple, by_channel, leavers, acquisitions,
                                   rev)
        self.cumulative_profit += rev - cost
        self.last_contacts = SimpleNamespace(customers=contacts, colleagues=colleague,
                                             channel=channel, experience=experience,
                                             satisfaction=satisfaction)
        self.kpis = metrics.snapshot(self, satisfaction=satisfaction, revenue=rev, cost=cost,
                                     acquisitions=acquisitions, leavers=leavers,
                                     inconsistency=inconsistency, totals=totals)
        self.unit_rows.append(metrics.unit_snapshot(self, colleague, satisfaction, totals))
        ph["money"] += clock() - t7

    # -- results ---------------------------------------------------------------------------------
    def timeseries(self) -> pd.DataFrame:
        """One row per step with every figure of MODEL.md's 'What it reports'."""
        df = self.datacollector.get_model_vars_dataframe().reset_index(drop=True)
        df.insert(0, "step", np.arange(len(df)))
        return df

    def units(self) -> pd.DataFrame:
        """One row per step and unit (front-line team or store)."""
        return metrics.units_frame(self.unit_rows, self.org)

    def service_graph(self):
        """networkx bipartite graph of the last step's service contacts."""
        lc = self.last_contacts
        return service_graph(lc.customers, lc.colleagues, lc.channel, lc.experience)

    @property
    def n_active(self) -> int:
        return int(np.count_nonzero(self.customers.status == ACTIVE))

    @property
    def n_churned(self) -> int:
        return int(np.count_nonzero(self.customers.status == CHURNED))


def _reporter(name: str):
    def report(model: CXModel) -> float:
        return model.kpis[name]

    report.__name__ = f"report_{name}"
    return report
