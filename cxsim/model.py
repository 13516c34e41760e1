"""CXModel: the Mesa model that owns the state and runs the phases of a week, in order.

The model orchestrates: it builds the population (`cxsim.population`), fires the timeline's
events (`cxsim.events`), builds the parameter records from the levers in force
(`cxsim.params.build`), draws the random numbers, calls the engine's rules phase by phase
(numba kernels, or the numpy twins with ``engine="reference"``) and records the figures
(`cxsim.metrics`) with a Mesa DataCollector. It never loops over agent objects.

>>> m = CXModel("baseline", overrides={"size.customers": 1000, "size.prospects": 200,
...             "burn_in": 0, "steps": 5})
>>> m.run()
>>> len(m.timeseries())
5
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import mesa
import numpy as np
import pandas as pd

from . import engine as engines
from . import metrics, params, population, selling
from .agents import Colleague, Customer, bulk_create
from .constants import (
    ACTIVE,
    CHURNED,
    CONTACT_CENTRE,
    DIGITAL,
    FRONTLINE,
    LEADER,
    MISFIT,
    S_REVENUE,
)
from .events import Response, Timeline, response_levers, response_name
from .management import UnitManagement
from .measurement import Surveys
from .networks import (
    Organisation,
    SocialNetwork,
    build_organisation,
    build_social,
    chain_matrix,
    service_graph,
)
from .reference import chain_quality, colleague_feedback, similarity
from .rng import ASK, CIRCUMSTANCE, normal_array, stream_key
from .scenario import SCOPABLE_LEVERS, Levers, Scenario, ScenarioError, ServiceFailure
from .scenario import load_scenario as _load
from .scopes import Scoped, colleague_levers, scope_mask
from .state import (
    ContactDraws,
    Contacts,
    CustomerFigures,
    CustomerKeys,
    Graph,
    Process,
    StaffDraws,
)

#: the survey draws come from their own stream of the seed: measuring never changes behaviour
SURVEY_STREAM = 1
#: so do the catchments' customer mix: its spread changes no other draw of a run
MIX_STREAM = 2

# below this many customer nodes, "auto" runs the serial kernels: a parallel launch costs more
# than it saves on small arrays (same numbers either way)
PARALLEL_MIN_NODES = 50_000

#: the phases of a week, in order; "customers" is attitude, word of mouth, adoption, churn and
#: the customer figures (three passes over the nodes, see `cxsim.kernels`)
PHASES = ("culture", "service", "perception", "customers", "staff", "learning", "money")


class CXModel(mesa.Model):
    """Brand personality spreading through colleagues and customers.

    Parameters
    ----------
    scenario : Scenario or str
        A Scenario, or a built-in scenario name / TOML path.
    seed : int, optional
        Random seed (default: the scenario's). Same scenario and seed, same numbers.
    engine : {"numba", "reference"}
        The kernels, or their numpy twins (slower, same numbers to 1e-9; imports no numba).
    parallel : bool or "auto"
        Run the kernels that sweep all agents on all cores; "auto" from PARALLEL_MIN_NODES
        customer nodes up. Same numbers either way.
    overrides : dict, optional
        Dotted overrides applied to the scenario, e.g. ``{"levers.silo": 0.8}``.
    create_agents : bool or "lazy"
        Create the Mesa agent views: True (in the build), "lazy" (on first use of `agents`,
        `agents_by_type` or `colleague_agents`) or False (headless batch runs). Unless True,
        the social network's networkx view is also left to its first use. The step reads
        neither, so the numbers are the same in all three cases.
    """

    def __init__(self, scenario: Scenario | str = "baseline", seed: int | None = None,
                 engine: str = "numba", parallel: bool | str = "auto",
                 overrides: dict[str, Any] | None = None, create_agents: bool | str = True):
        sc = _load(scenario) if isinstance(scenario, str) else scenario
        if overrides:
            sc = sc.with_overrides(overrides)
        if create_agents not in (True, False, "lazy"):
            raise ValueError(f"create_agents = {create_agents!r}; allowed: True, False, 'lazy'")
        seed = sc.seed if seed is None else int(seed)
        super().__init__(rng=seed)
        self.seed = seed
        self.scenario = sc
        if parallel == "auto":
            parallel = sc.size.customers + sc.size.prospects >= PARALLEL_MIN_NODES
        elif not isinstance(parallel, bool):
            raise ValueError(f"parallel = {parallel!r}; allowed: True, False, 'auto'")
        self.engine = engines.load(engine, parallel)
        self.levers = sc.levers.model_copy()
        self.timeline = Timeline(sc.events)
        self.t = 0  # index of the next step to run (0-based, events use it)
        self.shock: ServiceFailure | None = None
        self.phase_seconds = dict.fromkeys(PHASES, 0.0)
        self._eager_views = create_agents is True
        t0 = time.perf_counter()
        self._build()
        self.build_seconds = {"networks_and_arrays": time.perf_counter() - t0,
                              "mesa_agents": 0.0}
        self._colleague_agents: list[Colleague] = []
        self._agents_pending = create_agents == "lazy"
        if create_agents is True:
            self._create_agents()
        self.kpis: dict[str, float] = {}
        self.unit_rows: list[dict[str, np.ndarray]] = []
        self.datacollector = mesa.DataCollector(
            model_reporters={name: _reporter(name) for name in metrics.TIMESERIES_COLUMNS})
        t2 = time.perf_counter()
        for _ in range(sc.burn_in):
            self._advance(apply_events=False)
        # self-congruity sorts customers around the market's mean similarity to the brand as
        # seen at week 0 (the burn-in holds adoption and churn, so it acts from week 0 on)
        self.congruity_centre = self._mean_congruity()
        self.cumulative_profit = 0.0
        self.unit_rows.clear()  # units() reports the simulated weeks only, not the burn-in
        if self.kpis:  # the figures shown before the first step: burn-in's, profit restarting
            self.kpis["cumulative_profit"] = 0.0
        self.build_seconds["burn_in"] = time.perf_counter() - t2

    @property
    def parallel(self) -> bool:
        return self.engine.parallel

    @property
    def engine_name(self) -> str:
        return self.engine.name

    def use_parallel(self, parallel: bool) -> None:
        """Switch between the parallel and serial kernels from the next step (same numbers)."""
        self.engine = engines.load(self.engine.name, bool(parallel))

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
        self.social: SocialNetwork = build_social(sc, n_nodes, rng, self.engine.name,
                                                  eager_graph=self._eager_views)
        org, net = self.org, self.social
        self.colleagues = population.colleagues(sc, org, rng)
        self.digital_staff = population.digital_redeployment(sc, org)
        self._staff_digital(bool(self.levers.digital_channel))  # also builds the pools
        self.store_teams = population.store_teams(org)
        self.pay_multiple = population.pay_multiple(sc, org)
        self.customers, self.catchments, self.colleague_node = population.customers(
            sc, net, org, self.store_teams, rng, np.random.default_rng([self.seed, MIX_STREAM]))
        self.congruity_centre = self._mean_congruity()
        steps, chain = chain_matrix(sc)
        self.process_steps = steps
        quality = np.array([sc.process.steps[s] for s in steps], dtype=float)
        self.process = Process(quality=quality, quality0=quality.copy(), chain=chain,
                               department_step=np.array(
                                   [steps.index(d) if d in steps else -1
                                    for d in org.department_names], np.int64),
                               effective=quality.copy())
        self.org_graph = Graph(org.indptr, org.indices, weight=np.empty(0))
        self.net = Graph(net.indptr, net.indices, weight=np.empty(0))
        self.frontline_mask = org.role == FRONTLINE
        self.is_leader = org.role == LEADER
        for i, sl in enumerate(sc.scoped_levers):  # checked against the organisation now
            scope_mask(sl.scope, org, f"scoped_levers[{i}].scope")
        self.scoped: list[Scoped] = [(sl.scope, dict(sl.set)) for sl in sc.scoped_levers]
        for i, ev in enumerate(sc.events):  # scopes of later events, checked before any step
            if getattr(ev, "scope", None) is not None:
                scope_mask(ev.scope, org, f"events[{i}].scope")
        self.management = UnitManagement(sc.management, org.n_teams)
        # weeks run so far, burn-in included: the counter of the per-node random streams
        # (`cxsim.rng`), so that no two weeks share draws
        self.week_index = 0
        self.figures = CustomerFigures.zeros(org.n_teams)
        self.contacts = Contacts.empty()
        self.surveys = Surveys(sc.measurement, org.n_teams,
                               np.random.default_rng([self.seed, SURVEY_STREAM]))
        self.measured_nps: list[float] = []  # every week's, burn-in included
        self.cumulative_profit = 0.0
        # likelihood to recommend before the first week (no fading yet, nobody speaks)
        self.customers.contacted[:] = True
        silent = self._params().customer._replace(talk_base=0.0, talk_extremity=0.0)
        self.engine.customer_pass_a(self.customers.arrays(), self.colleagues.arrays(),
                                    self.net.arrays(), self._keys().arrays(), silent)

    def _keys(self) -> CustomerKeys:
        """This week's per-node random streams (contact, talk, adopt, churn)."""
        return CustomerKeys.for_week(self.seed, self.week_index)

    def _mean_congruity(self) -> float:
        """Mean similarity of every customer node's personality to its image of the brand:
        the centre of `self_congruity`, which then changes who adopts and stays more than how
        many."""
        cus = self.customers
        return float(similarity(cus.image, cus.personality,
                                self.scenario.service.homophily_bandwidth).mean())

    def _staff_digital(self, on: bool) -> None:
        """Redeploy `digital_staff` to the digital channel while it is offered (back to the
        contact centre when it is withdrawn), and rebuild who can serve which channel."""
        ch = DIGITAL if on else CONTACT_CENTRE
        self.org.channel[self.digital_staff] = ch
        self.colleagues.channel[self.digital_staff] = ch
        self.pools = population.service_pools(self.org, self.colleagues.vacant)
        self._digital_on = on

    def colleague_levers(self) -> dict[str, np.ndarray]:
        """Each colleague's scopable levers now (c,): company-wide values, then scoped ones."""
        return colleague_levers(self.levers, self.scoped, self.org)

    def _params(self, shock: ServiceFailure | None = None, burn_in: bool = False,
                colleague: dict[str, np.ndarray] | None = None) -> params.StepParams:
        if colleague is None:
            colleague = self.colleague_levers()
        return params.build(self.scenario, self.levers, is_leader=self.is_leader,
                            edge_kind=self.org.edge_kind, shock=shock, colleague=colleague,
                            control=self.management.control[self.org.team], burn_in=burn_in,
                            congruity_centre=self.congruity_centre)

    @property
    def quality(self) -> np.ndarray:
        """Quality of each back-office process step (`process_steps`), 0..1."""
        return self.process.quality

    def brand_fit(self) -> np.ndarray:
        """Each colleague's fit to the brand personality, 0..1."""
        return similarity(self.colleagues.personality, np.array(self.scenario.brand.personality),
                          self.scenario.service.homophily_bandwidth)

    def chain_quality(self, handoff_success: float | None = None) -> np.ndarray:
        """Quality of each channel's process chain (3,): the product of what its steps deliver
        this week, times the chance each hand-off between departments works (silos)."""
        if handoff_success is None:
            handoff_success = 1.0 - self.scenario.process.handoff_failure * self.levers.silo
        return chain_quality(self.process.effective, self.process.chain, handoff_success)

    # -- events ----------------------------------------------------------------------------------
    @property
    def events_log(self) -> list[tuple[int, str]]:
        """(step, what) for every event that fired, in order."""
        return self.timeline.log

    def _nps_before(self, step: int, weeks: int = 8) -> float:
        """Mean measured NPS of the `weeks` weeks before reported week `step` (burn-in
        included): the level a crisis response compares with."""
        end = self.scenario.burn_in + step
        seen = self.measured_nps[max(0, end - weeks):end]
        return float(np.nanmean(seen)) if seen else float("nan")

    def respond(self, ev: Response) -> None:
        """Management's response to a crisis: the knee-jerk dashboard or complaints-first."""
        self.set_levers(response_levers(ev))
        self.timeline.log.append((self.t, response_name(ev)))

    def set_levers(self, changes: dict[str, Any], scope: str | None = None) -> None:
        """Change levers now: {"empowerment": 0.7} or {"process.billing": 0.6}.

        With `scope` ("channel:contact_centre", "department:claims", "unit:LABEL") only the
        levers that act through colleagues (`scenario.SCOPABLE_LEVERS`) may be given, and they
        change for that part of the organisation only (validated: ScenarioError).
        """
        if scope is not None:
            scope_mask(scope, self.org)  # a scope this organisation lacks is refused now
            for key, value in changes.items():
                name = key.removeprefix("levers.")
                if name not in SCOPABLE_LEVERS:
                    raise ScenarioError(f"{key!r} cannot be set for a scope; allowed: "
                                        + ", ".join(SCOPABLE_LEVERS))
                Levers(**{name: value})  # validates the value like a company-wide change
            self.scoped.append((scope, dict(changes)))
            return
        for key, value in changes.items():
            if key.startswith("process."):
                s = self.process_steps.index(key.split(".", 1)[1])
                self.process.quality[s] = self.process.quality0[s] = float(value)
                self.process.effective[s] = float(value)  # the department moves it from here
            else:
                setattr(self.levers, key.removeprefix("levers."), value)

    def inject_service_failure(self, severity: float = 0.4, duration: int = 4,
                               share: float = 0.5, channel: str | None = None) -> None:
        """Start a service failure now (used by the dashboard's button)."""
        self.timeline.inject(ServiceFailure(type="service_failure", step=self.t,
                                            duration=duration, severity=severity, share=share,
                                            channel=channel))

    # -- the step ------------------------------------------------------------------------------
    def step(self) -> None:
        """One week: the phases, then the figures."""
        self._advance(apply_events=True)
        self.datacollector.collect(self)
        self.t += 1

    def run(self, steps: int | None = None, progress=None) -> None:
        """Run `steps` weeks (default: the scenario's)."""
        for _ in range(self.scenario.steps if steps is None else steps):
            self.step()
            if progress is not None:
                progress()

    @contextmanager
    def _timed(self, phase: str) -> Iterator[None]:
        t0 = time.perf_counter()
        yield
        self.phase_seconds[phase] += time.perf_counter() - t0

    def _advance(self, apply_events: bool) -> None:
        """The phases of a week (the burn-in runs them without the scenario's events)."""
        self.shock = None
        if apply_events:
            self.timeline.fire(self.t, self.kpis.get("nps_measured", float("nan")),
                               self.set_levers, self.respond, self._nps_before)
            self.shock = self.timeline.active_shock(self.t)
        if bool(self.levers.digital_channel) != self._digital_on:
            self._staff_digital(bool(self.levers.digital_channel))
        # the burn-in holds the customer base: size.customers are active at week 0
        # each colleague's levers for the week: the step's records, selling and costs share them
        levers = self.colleague_levers()
        p = self._params(self.shock, burn_in=not apply_events, colleague=levers)
        # a vacant post influences nobody (its ties carry no weight until the hire starts)
        self.org_graph.weight = p.tie_weight * (self.colleagues.vacant[self.org.indices] == 0)
        with self._timed("culture"):
            self._culture(p)
        with self._timed("service"):
            self._service(p, levers)
        with self._timed("perception"):
            complaint = self._perception(p)
        with self._timed("customers"):
            self._customers(p)
        with self._timed("staff"):
            self._staff(p)
        with self._timed("learning"):
            self._learning(complaint, p)
        with self._timed("money"):
            self._record(levers)
        self.week_index += 1

    def _culture(self, p: params.StepParams) -> None:
        """1. Personalities move (manager, peers, brand); how colleagues work moves toward what the
        levers and their manager ask (habit, role modelling); the usual engagement moves to its
        target and the week's circumstances move this week's around it."""
        col, org = self.colleagues, self.org_graph.arrays()
        new_p = np.empty_like(col.personality)
        self.engine.culture(col.arrays(), org, p.culture, new_p)
        col.personality[:] = new_p
        felt, headroom = np.empty_like(col.pressure), np.empty_like(col.headroom)
        self.engine.practice(col.arrays(), p.engagement, felt, headroom)
        col.pressure[:] = felt
        col.headroom[:] = headroom
        level, week = np.empty_like(col.engagement), np.empty_like(col.engagement)
        circumstance = normal_array(stream_key(self.seed, self.week_index, CIRCUMSTANCE),
                                    np.arange(len(week)))
        self.engine.engagement_step(col.arrays(), org, p.engagement, circumstance, level, week)
        col.engagement_level[:] = level
        col.engagement[:] = week

    def _service(self, p: params.StepParams, levers: dict[str, np.ndarray]) -> None:
        """2. Who contacts the company, through which channel, who serves them, how it goes."""
        rng, cus, col = self.rng, self.customers, self.colleagues
        customer = self.engine.select_contacts(cus.status, cus.pending, self._keys().contact,
                                               p.contact)
        m = len(customer)
        con = Contacts.empty(m)
        con.customer = customer
        draws = ContactDraws(*rng.random((4, m)), noise=rng.standard_normal(m),
                             resolve=rng.random(m), fulfil=rng.random(m))
        self.engine.assign_contacts(con.arrays(), cus.arrays(), col.arrays(),
                                    self.pools.arrays(), draws.arrays(), p.contact)
        self.engine.service(con.arrays(), draws.arrays(), cus.arrays(), col.arrays(),
                            self.chain_quality(p.handoff_success), p.service, p.resolution)
        u_push, u_fit, u_accept = rng.random((3, m))
        con.sold = selling.sales(con.colleague, levers["sales_incentive"],
                                 levers["pay_alignment"], u_push, u_fit, u_accept,
                                 self.scenario.selling)
        self.contacts = con

    def _perception(self, p: params.StepParams) -> np.ndarray:
        """3. Customers respond to their experience; colleagues feel what they served."""
        cus, con = self.customers, self.contacts
        self.engine.perception(con.arrays(), cus.arrays(), self.colleagues.arrays(),
                               p.perception)
        cus.contacted[:] = False
        cus.contacted[con.customer] = True
        cus.last_colleague[con.customer] = con.colleague
        return colleague_feedback(con, self.colleagues, p.feedback)

    def _customers(self, p: params.StepParams) -> None:
        """4-5. Attitude, word of mouth, adoption, churn and the customer figures."""
        keys = self._keys().arrays()
        cus, col, net = self.customers.arrays(), self.colleagues.arrays(), self.net.arrays()
        self.engine.customer_pass_a(cus, col, net, keys, p.customer)
        self.engine.customer_hear(net, cus, p.customer)
        self.engine.customer_pass_b(cus, col, net, keys, self.t, p.customer,
                                    self.figures.arrays())
        self.customers.swap_stories()

    def _staff(self, p: params.StepParams) -> None:
        """6. Colleagues leave; posts stay vacant for weeks, then hires start (for fit, from
        the catchment); the pools of who serves are rebuilt when a vacancy opens or closes."""
        rng, n, col = self.rng, self.org.n, self.colleagues
        u_leave = rng.random(n)
        hire_noise = rng.standard_normal((n, 5))
        hire_customer = population.hire_sources(self.org, self.catchments, self.social.n,
                                                rng.random(n))
        vacancy = population.vacancy_weeks(self.org, self.scenario.staff.vacancy_weeks,
                                           rng.random(n))
        draws = StaffDraws(u_leave, hire_noise, hire_customer, vacancy, rng.standard_normal(n))
        was_filled = col.vacant == 0
        self.engine.staff(col.arrays(), draws.arrays(), self.customers.arrays(), p.staff)
        if not np.array_equal(was_filled, col.vacant == 0):
            self.pools = population.service_pools(self.org, col.vacant)

    def _learning(self, complaint: np.ndarray, p: params.StepParams) -> None:
        """7. Complaints improve the process steps behind the channels that drew them."""
        con = self.contacts
        self.engine.learning(self.process.arrays(), con.by_channel(complaint), con.by_channel(),
                             self.colleagues.arrays(), p.learning)

    def _record(self, levers: dict[str, np.ndarray]) -> None:
        """8. Money and the week's figures."""
        sc, lv, con, fig = self.scenario, self.levers, self.contacts, self.figures
        sales = int(np.count_nonzero(con.sold))
        revenue = float(fig.sums[S_REVENUE]) + sc.money.sale_value * sales
        acquisitions = int(np.count_nonzero(self.customers.adopted))
        leavers = int(np.count_nonzero(self.colleagues.left))
        cost = metrics.weekly_cost(sc, lv, levers, self.pay_multiple, con.by_channel(), leavers,
                                   acquisitions, revenue, sales)
        self.cumulative_profit += revenue - cost
        quality = self.process.quality
        col, team = self.colleagues, self.org.team
        last = self.customers.last_colleague
        control = self.management.control
        filled = col.vacant == 0  # the pulse asks the people in post
        measured = self.surveys.week(
            self.customers.status, self.customers.ltr,
            lambda who: metrics.last_unit(last[who], team),
            con.satisfaction, team[con.colleague], col.engagement[filled], team[filled],
            begging=control, ask_key=stream_key(self.seed, self.week_index, ASK))
        fcr, failure_demand, closure = metrics.resolution_figures(con, self.customers.pending)
        self.measured_nps.append(measured.nps)
        front = self.frontline_mask
        asked_pressure = float(levers["productivity_pressure"][front].mean()) if front.any() \
            else 0.0
        empowerment = float(levers["empowerment"][front].mean()) if front.any() else 0.0
        unit_control = float(control[team[front]].mean()) if front.any() else 0.0
        self.management.review(measured.nps, measured.unit_nps, _unit_mean(
            levers["score_chasing"], team, self.org.n_teams))
        result = metrics.StepResult(
            step=self.t, figures=fig, satisfaction=con.satisfaction, revenue=revenue, cost=cost,
            acquisitions=acquisitions, leavers=leavers, cumulative_profit=self.cumulative_profit,
            brand_alignment=float(self.brand_fit().mean()),
            process_quality=float(quality.mean()) if len(quality) else 1.0,
            shock=float(self.shock.severity) if self.shock is not None else 0.0,
            productivity_pressure=asked_pressure, empowerment=empowerment,
            management_control=unit_control, sales=sales,
            mis_sold=int(np.count_nonzero(con.sold == MISFIT)), measured=measured,
            first_contact_resolution=fcr, failure_demand=failure_demand,
            first_contact_closure=closure)
        self.kpis = metrics.snapshot(result, self.colleagues, self.frontline_mask)
        self.unit_rows.append(metrics.unit_snapshot(result, self.org, self.colleagues, con))

    # -- checkpoints -----------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        """Write the whole state to `path` (atomically); `CXModel.load` continues from it
        exactly as this model would. See `cxsim.checkpoint`."""
        from . import checkpoint

        return checkpoint.save(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike, engine: str | None = None,
             parallel: bool | None = None, create_agents: bool | str = "lazy") -> CXModel:
        """The model saved in `path`, ready to continue (see `cxsim.checkpoint.load`)."""
        from . import checkpoint

        return checkpoint.load(path, engine=engine, parallel=parallel,
                               create_agents=create_agents)

    # -- results ---------------------------------------------------------------------------------
    def timeseries(self) -> pd.DataFrame:
        """One row per step with every figure of `metrics.TIMESERIES_COLUMNS`."""
        df = self.datacollector.get_model_vars_dataframe().reset_index(drop=True)
        df.insert(0, "step", np.arange(len(df)))
        return df

    def units(self) -> pd.DataFrame:
        """One row per step and unit (front-line team or store)."""
        return metrics.units_frame(self.unit_rows, self.org)

    def service_graph(self):
        """networkx bipartite graph of the last step's service contacts."""
        c = self.contacts
        return service_graph(c.customer, c.colleague, c.channel, c.experience)

    @property
    def n_active(self) -> int:
        return int(np.count_nonzero(self.customers.status == ACTIVE))

    @property
    def n_churned(self) -> int:
        return int(np.count_nonzero(self.customers.status == CHURNED))


def _unit_mean(values: np.ndarray, team: np.ndarray, n_units: int) -> np.ndarray:
    """Mean of a per-colleague value in each unit (0 for a unit with nobody)."""
    count = np.bincount(team, minlength=n_units)
    total = np.bincount(team, weights=values, minlength=n_units)
    return np.divide(total, count, out=np.zeros(n_units), where=count > 0)


def _kpi(model: CXModel, name: str) -> float:
    return model.kpis[name]


def _reporter(name: str) -> functools.partial:
    """The DataCollector's reporter of figure `name`: a partial of a module function, so the
    collector pickles with the model (`save`)."""
    return functools.partial(_kpi, name=name)
