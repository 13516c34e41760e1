"""Capacity, back office and turnover as behaviour (issue 11, items 4, 5 and 8).

Each claim is checked over several seeds with common random numbers: the paired difference
must have the stated sign in every replication (small models, so a margin of several seeds
rather than one lucky one). Rule-level agreement with the numpy twins is in test_kernels.py.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from cxsim import kernels, population, reference
from cxsim.constants import CONTACT_CENTRE, DIGITAL
from cxsim.model import CXModel
from cxsim.params import ResolutionParams

SEEDS = (11, 12, 13)
SIZE = {"size.customers": 1500, "size.prospects": 500, "size.colleagues": 60, "burn_in": 20,
        "steps": 30}


def _run(seed: int, **overrides) -> CXModel:
    ov = dict(SIZE)
    ov.update({k.replace("__", "."): v for k, v in overrides.items()})
    m = CXModel("baseline", seed=seed, overrides=ov, create_agents=False)
    m.run()
    return m


def _mean_overload(seed: int, last: int = 20, **overrides) -> tuple[CXModel, float, float]:
    """A run, the colleagues' mean overload and the contacts served per filled front-line post
    (its load) over its last weeks (one week's overload is near zero at this size, so a single
    snapshot compares noise)."""
    ov = dict(SIZE)
    ov.update({k.replace("__", "."): v for k, v in overrides.items()})
    m = CXModel("baseline", seed=seed, overrides=ov, create_agents=False)
    steps = SIZE["steps"]
    overload = load = 0.0
    for week in range(steps):
        m.step()
        if week >= steps - last:
            col = m.colleagues
            overload += float(col.overload.mean())
            posts = m.frontline_mask & (col.vacant == 0)
            load += float(col.served[posts].mean())
    return m, overload / last, load / last


def _mean(m: CXModel, column: str, last: int = 20) -> float:
    return float(m.timeseries()[column].iloc[-last:].mean())


def test_resolution_rules_have_the_documented_signs():
    rp = ResolutionParams(fcr_intercept=-2.1, fcr_skill=2.0, fcr_headroom=2.0, fcr_process=2.0,
                          fcr_pressure=2.0, fcr_overload=2.0, fcr_repeat=0.3,
                          unresolved_penalty=0.1, repeat_penalty=0.05, persistence=0.7,
                          new_hire_skill=0.55, skill_weeks=13.0)
    base = dict(skill=0.9, headroom=0.3, chain_q=0.7, pressure=0.35, overload=0.2, attempt=0)
    p0 = kernels.resolution_probability(*base.values(), rp)
    for key, step, sign in (("skill", 0.1, 1), ("headroom", 0.2, 1), ("chain_q", 0.2, 1),
                            ("pressure", 0.2, -1), ("overload", 0.5, -1), ("attempt", 1, -1)):
        moved = dict(base, **{key: base[key] + step})
        assert sign * (kernels.resolution_probability(*moved.values(), rp) - p0) > 0, key
    # the learning curve: a new hire starts at new_hire_skill and approaches 1
    weeks = np.array([0, 4, 13, 52, 520])
    skill = reference.skill_level(weeks, rp)
    assert skill[0] == pytest.approx(0.55) and np.all(np.diff(skill) > 0) and skill[-1] <= 1
    assert skill[2] == pytest.approx(0.55 + 0.45 * (1 - np.exp(-1)))


def test_productivity_pressure_lowers_resolution_and_raises_failure_demand():
    """Handle-time targets cut contacts short: fewer resolved first time, more repeats, more
    load (contacts per post) and lower engagement, in every replication. Overload (contacts
    beyond capacity) is a handful of colleague-weeks at this size, so it is compared pooled."""
    overload = np.zeros(2)
    for seed in SEEDS:
        low, low_overload, low_load = _mean_overload(seed, levers__productivity_pressure=0.2)
        high, high_overload, high_load = _mean_overload(seed, levers__productivity_pressure=0.9)
        assert _mean(high, "first_contact_resolution") < _mean(low, "first_contact_resolution")
        assert _mean(high, "failure_demand") > _mean(low, "failure_demand")
        assert high_load > 1.1 * low_load
        assert _mean(high, "engagement") < _mean(low, "engagement")
        overload += (low_overload, high_overload)
    assert overload[1] > overload[0]


def test_failure_demand_is_repeat_contacts_of_open_issues():
    """Failure demand counts the contacts of customers whose issue is still open. With
    first-contact resolution certain, what is left is progress chasing after the back office
    failed to deliver, and with a flawless back office (every step perfect, no silos to fail
    a hand-off) there is none."""
    m = _run(SEEDS[0], steps=8)
    con = m.contacts
    fd = float(np.mean(con.attempt > 0))
    assert m.timeseries()["failure_demand"].iloc[-1] == pytest.approx(fd)
    assert 0.05 < fd < 0.8
    sure = {"service__fcr_intercept": 20.0, "levers__digital_channel": False}
    chasing = _run(SEEDS[0], steps=8, **sure).timeseries()
    assert chasing["first_contact_resolution"].iloc[1:].min() == 1.0
    assert chasing["failure_demand"].iloc[1:].min() > 0.05  # the back office fails some
    flawless = {k: 1.0 for k in ("onboarding", "fulfilment", "billing", "claims")}
    perfect = _run(SEEDS[0], steps=8, process__steps=flawless, levers__silo=0.0,
                   process__internal_overload=0.0, process__internal_engagement=0.0,
                   **sure).timeseries()
    assert perfect["failure_demand"].iloc[1:].max() == 0.0
    assert perfect["first_contact_resolution"].iloc[1:].min() == 1.0


def test_broken_process_behind_digital_sends_contacts_back_to_the_contact_centre():
    """Digital deflects contacts; with a broken process behind it they fail and come back to
    the contact centre as repeats (more failure demand there than with a sound process)."""
    poor = {"onboarding": 0.5, "fulfilment": 0.5, "billing": 0.5, "claims": 0.5}
    for seed in SEEDS:
        runs = {}
        for label, steps in (("good", None), ("poor", poor)):
            ov = {"levers__digital_channel": True, "steps": 12}
            if steps:
                ov["process__steps"] = steps
            runs[label] = _run(seed, **ov)
        shares = {}
        for label, m in runs.items():
            con = m.contacts
            cc = con.channel == CONTACT_CENTRE
            shares[label] = float(np.mean(con.attempt[cc] > 0))
        assert shares["poor"] > shares["good"]


def test_bounced_digital_contacts_go_to_the_contact_centre():
    m = _run(SEEDS[1], levers__digital_channel=True, steps=6)
    before = copy.deepcopy(m.customers)
    m.step()
    con = m.contacts
    came_back = (before.pending[con.customer] > 0) & (
        before.pending_channel[con.customer] == DIGITAL)
    assert came_back.any()
    assert (con.channel[came_back] == CONTACT_CENTRE).all()
    assert (con.attempt[came_back] > 0).all()


def test_vacant_posts_serve_nobody_and_load_the_others():
    """A leaver's post stays vacant for weeks: it serves no contacts and the others' load
    rises (compared with posts refilled at once, same seeds, raised attrition)."""
    for seed in SEEDS:
        kw = {"staff__attrition_base": 0.03, "steps": 16}
        slow = _run(seed, staff__vacancy_weeks=8.0, **kw)
        fast = _run(seed, staff__vacancy_weeks=0.0, **kw)
        assert _mean(slow, "vacancies") > 1.0 and _mean(fast, "vacancies") == 0.0
        vacant_now = slow.colleagues.vacant > 0
        assert vacant_now.any()
        slow.step()  # posts vacant during the week serve nobody
        assert slow.colleagues.served[vacant_now].sum() == 0
        front = slow.frontline_mask
        load = {}
        for name, m in (("slow", slow), ("fast", fast)):  # contacts per colleague in post
            per = []
            for _ in range(8):
                m.step()
                filled = front & (m.colleagues.vacant == 0)
                per.append(m.colleagues.served[filled].mean())
            load[name] = np.mean(per)
        assert load["slow"] > load["fast"], load
        units = slow.units()
        assert units["vacancies"].sum() > 0


def test_vacancy_weeks_draw():
    m = _run(SEEDS[0], steps=1)
    rng = np.random.default_rng(0)
    u = rng.random((400, m.org.n))
    weeks = np.stack([population.vacancy_weeks(m.org, 5.0, x) for x in u])
    front = m.frontline_mask
    assert weeks[:, front].min() >= 1
    assert weeks[:, front].mean() == pytest.approx(5.0, rel=0.05)  # geometric, mean 5
    assert (weeks[:, ~front & (m.org.role <= 1)] == 0).all()  # leaders, managers covered
    assert (population.vacancy_weeks(m.org, 0.0, u[0]) == 0).all()


def test_new_hires_resolve_less():
    """Skill grows with tenure: with a steep learning curve and high turnover, resolution is
    lower than when new hires are as skilled as anyone."""
    for seed in SEEDS:
        kw = {"staff__attrition_base": 0.03, "staff__vacancy_weeks": 0.0}
        green = _run(seed, staff__new_hire_skill=0.1, staff__skill_weeks=26.0, **kw)
        expert = _run(seed, staff__new_hire_skill=1.0, **kw)
        assert (_mean(green, "first_contact_resolution")
                < _mean(expert, "first_contact_resolution"))


def test_silos_break_hand_offs_and_slow_learning():
    """Silos make hand-offs fail (lower chain quality) and hold back learning from
    complaints across departments."""
    for seed in SEEDS:
        kw = {"levers__complaints_first": 0.8, "process__learning_rate": 0.2}
        open_ = _run(seed, levers__silo=0.0, **kw)
        siloed = _run(seed, levers__silo=1.0, **kw)
        assert (siloed.chain_quality() < open_.chain_quality()).all()
        gain_open = open_.process.quality - open_.process.quality0
        gain_siloed = siloed.process.quality - siloed.process.quality0
        assert gain_siloed.sum() < gain_open.sum()


def test_back_office_delivers_what_its_department_can():
    """Internal service quality: a step delivers more with an engaged department and less
    when its department is overloaded or half vacant."""
    m = _run(SEEDS[0], steps=2)
    p = m._params().learning
    complaints, contacts = np.zeros(3), np.array([100.0, 100.0, 0.0])

    def delivered(engagement=None, vacant_share=0.0, cap=None):
        proc, col = copy.deepcopy(m.process), copy.deepcopy(m.colleagues)
        back = m.process.department_step[col.department] >= 0
        if engagement is not None:
            col.engagement[back] = engagement
        idx = np.flatnonzero(back)
        col.vacant[idx[: int(vacant_share * len(idx))]] = 4
        q = p if cap is None else p._replace(backoffice_capacity=cap)
        kernels.learning(proc.arrays(), complaints, contacts, col.arrays(), q)
        return proc.effective.copy()

    assert (delivered(0.8) > delivered(0.3)).all()
    assert (delivered(cap=5.0) < delivered(cap=1e6)).all()
    assert (delivered(vacant_share=0.6, cap=20.0) <= delivered(cap=20.0)).all()
    assert (delivered(vacant_share=0.6, cap=20.0) < delivered(cap=20.0)).any()
