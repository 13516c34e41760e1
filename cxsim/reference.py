"""Plain numpy twins of the kernels: the specification of each rule, written for reading.

Each function has the name and the arguments of its kernel (or inlined rule) in
`cxsim.kernels` and the same effect, vectorised over agents. ``CXModel(..., engine=
"reference")`` runs the whole model on these and never imports numba.

Shapes: n customer nodes, c colleagues, m contacts this step, d = 5 personality dimensions.
Records (`cus`, `col`, `con`, `net`, `draws`, ...) are those of `cxsim.state`; parameter
records (`p`) those of `cxsim.params`.

>>> import numpy as np
>>> round(float(affect(0.2, -0.5, 0.4)), 12)
-0.08
>>> ltr_score(np.zeros(2), 0.5, 0.5, np.array([0.0, 1.0]),
...           customer_params(ltr_memory=3.5, ltr_trust=2.0, ltr_empathy=3.0, ltr_bias=4.3,
...                           ltr_spread=2.5))
array([ 9.3, 11.8])
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .constants import (
    ACTIVE,
    CHURNED,
    CONTACT_CENTRE,
    DETRACTOR_MAX,
    DIGITAL,
    I_DISTANCE,
    I_SQUARED,
    I_X,
    LTR_MID,
    MISFIT,
    NEUTRAL,
    PROMOTER_MIN,
    PROSPECT,
    S_EMPATHY,
    S_EXPECTATION,
    S_HEARD_NEG,
    S_HEARD_POS,
    S_REVENUE,
    S_SPREAD,
    S_TRUST,
    STORE,
    T_ACTIVE,
    T_CHURNED,
    T_DETRACTORS,
    T_PROMOTERS,
    T_PROSPECTS,
    T_SEEN,
    U_CUSTOMERS,
    U_DETRACTORS,
    U_PROMOTERS,
)
from .params import CustomerParams
from .rng import uniform_array


def customer_params(**kw: float) -> CustomerParams:
    """A CustomerParams with zeros for what is not given (for examples)."""
    return CustomerParams(**(dict.fromkeys(CustomerParams._fields, 0.0) | kw))


def _matrix(indptr, indices, data=None):
    n = len(indptr) - 1
    if data is None:
        data = np.ones(len(indices))
    return sp.csr_matrix((data, indices, indptr), shape=(n, n))


# -- rules --------------------------------------------------------------------------------------

def similarity(a: np.ndarray, b: np.ndarray, bandwidth: float) -> np.ndarray:
    """Gaussian similarity of personality vectors (last axis): 1 when equal.

    Parameters
    ----------
    a, b : (..., d) float
        Personalities, broadcast against each other.
    bandwidth : float
        Distance at which similarity has fallen to exp(-1/2).
    """
    d2 = np.sum((np.asarray(a) - np.asarray(b)) ** 2, axis=-1)
    return np.exp(-d2 / (2.0 * bandwidth * bandwidth))


def distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distance of personality vectors (last axis)."""
    return np.sqrt(np.sum((np.asarray(a) - np.asarray(b)) ** 2, axis=-1))


def affect(memory, peak, peak_weight):
    """What a customer feels: emotional memory blended with its most intense moment."""
    return (1 - peak_weight) * memory + peak_weight * peak


def ltr_score(feeling, trust, empathy, disposition, p):
    """Likelihood to recommend (0-10 scale, before clipping) from affect, trust, felt empathy
    and a personal disposition (p: CustomerParams)."""
    return (LTR_MID + p.ltr_memory * feeling + p.ltr_trust * (trust - NEUTRAL)
            + p.ltr_empathy * (empathy - NEUTRAL) + p.ltr_bias + p.ltr_spread * disposition)


def advocacy(score, engagement, p):
    """A customer who is also a colleague recommends partly as engaged as they are."""
    return (1 - p.colleague_advocacy) * score + p.colleague_advocacy * 10 * engagement


def talk_probability(ltr, p):
    """Weekly chance an active customer talks: talk_base + talk_extremity x (distance of LTR
    from the scale's middle, as a share of half the scale)^2, times (1 + negative_talk_boost)
    on the dissatisfied side, times social amplification, at most 1 (Anderson 1998: a U,
    steeper for the dissatisfied)."""
    d = (ltr - LTR_MID) / LTR_MID
    boost = np.where(d < 0, 1 + p.negative_talk_boost, 1.0)
    return np.minimum(1.0, p.amplification * (p.talk_base + p.talk_extremity * d * d * boost))


def positive_valence(ltr, p):
    """Chance that what a talker says is good: logistic in LTR around `valence_midpoint`."""
    return 1 / (1 + np.exp(-(ltr - p.valence_midpoint) / p.valence_spread))


def speaker(status, ltr, u, p):
    """+1 where a node speaks well this step, -1 where it speaks ill, else 0 (int8).

    Active customers talk with `talk_probability`, churned ones `churned_talk` times as often,
    prospects never; of those who talk (u < rate), a share `positive_valence` speak well
    (u < rate x positive_valence).
    """
    scale = np.where(status == ACTIVE, 1.0, np.where(status == CHURNED, p.churned_talk, 0.0))
    rate = talk_probability(ltr, p) * scale
    talks = u < rate
    good = u < rate * positive_valence(ltr, p)
    return (2 * good.astype(np.int8) - talks.astype(np.int8)).astype(np.int8)


def self_congruity(image, personality, p):
    """Pull of a brand image like oneself (Sirgy 1982): exp(self_congruity x (similarity of
    image and personality - congruity_centre)), centred on the market's mean similarity at
    the start; multiplies adoption, divides churn. Rows of (.., d)."""
    return np.exp(p.self_congruity * (similarity(image, personality, p.bandwidth)
                                      - p.congruity_centre))


def adoption_hazard(share_pos, share_neg, churned, congruity, p):
    """Bass adoption: marketing p + imitation q x share of promoter neighbours, minus the
    repulsion of detractors, times `congruity` (`self_congruity`); churned customers come
    back at `winback` times the rate."""
    hazard = (p.marketing + p.adoption_q * share_pos - p.detractor_repel * share_neg) * congruity
    return np.where(churned, hazard * p.winback, hazard)


def image_shift(x, promised, heard, speakers, deg, p):
    """A customer's brand image after a week (elementwise: broadcast dimensions as columns):
    pulled toward the advertised promise and toward the images of the `speakers` neighbours
    who talked (`heard`: the sum of their images) out of `deg`, clipped to 0..1."""
    x = x + p.image_advertising * (promised - x) + p.image_wom * (heard - speakers * x) / deg
    return np.clip(x, 0.0, 1.0)


def heard_shift(share_pos, share_neg, p):
    """Shift of emotional memory from what the neighbours said."""
    return p.attitude_weight * (share_pos - share_neg)


def lifted_expectation(expectation, share_pos, p):
    """Praise from neighbours raises expectation (capped at 1)."""
    return np.minimum(1, expectation + p.expectation_weight * share_pos)


def churn_probability(feeling, trust, disposition, congruity, p):
    """Weekly chance an active customer leaves: base x exp(-affect, -trust above neutral,
    -the stable attitude k x disposition, centred by -k^2/2 so its mean factor over customers
    is 1), divided by the pull of a brand image like oneself (`self_congruity`)."""
    k = p.churn_disposition
    return p.churn_base * np.exp(-p.memory_sensitivity * feeling - p.trust_sensitivity
                                 * (trust - NEUTRAL) - k * disposition - 0.5 * k * k) / congruity


def spend(value, ltr, p):
    """Weekly spend: promoters pay a premium, detractors spend less."""
    return np.where(ltr >= PROMOTER_MIN, value * (1 + p.promoter_premium),
                    np.where(ltr < DETRACTOR_MAX, value * (1 - p.detractor_discount), value))


def attrition_probability(engagement, tenure, p):
    """Weekly chance a colleague leaves: falls with engagement and with tenure."""
    return p.attrition_base * np.exp(-p.attrition_engagement * (engagement - NEUTRAL)) / (
        1 + p.tenure_protection * tenure)


def hire_trait(noise, fit_trait, p):
    """Personality of a hire: the labour market (centre + spread x noise) or, with hiring for
    fit, a customer's personality with a smaller spread; clipped to 0..1."""
    market = p.market_centre + p.personality_spread * noise
    fit = fit_trait + p.hire_fit_noise * p.personality_spread * noise
    return np.clip((1 - p.hiring_for_fit) * market + p.hiring_for_fit * fit, 0, 1)


def skill_level(tenure, p):
    """Skill 0..1 of an experienced colleague's: `new_hire_skill` at hire, closing the gap
    along an exponential learning curve with time constant `skill_weeks` (p:
    ResolutionParams)."""
    return p.new_hire_skill + (1 - p.new_hire_skill) * (1 - np.exp(-tenure / p.skill_weeks))


def resolution_probability(skill, headroom, chain_q, pressure, overload, attempt, p):
    """Chance a contact resolves the issue: logistic in skill, headroom and process-chain
    quality (up) and felt pressure, the share of the colleague's contacts beyond capacity
    (overload / (1 + overload)) and earlier failed attempts (down)."""
    z = (p.fcr_intercept + p.fcr_skill * skill + p.fcr_headroom * headroom
         + p.fcr_process * chain_q - p.fcr_pressure * pressure
         - p.fcr_overload * overload / (1 + overload) - p.fcr_repeat * attempt)
    return 1 / (1 + np.exp(-z))


def delivery_fails(v, chain_q):
    """The back-office chain fails to deliver a resolved contact's work: `v` >= `chain_q`."""
    return v >= chain_q


def chases(u, prob, v, chain_q, persistence):
    """The issue stays open and the customer chases it: the contact failed (`u` >= `prob`) or
    it resolved and the chain failed to deliver (`v` >= `chain_q`); chased with chance
    `persistence` by the same draw."""
    return np.where(u < prob, delivery_fails(v, chain_q)
                    & (v - chain_q < persistence * (1.0 - chain_q)),
                    u - prob < persistence * (1.0 - prob))


def delivered_quality(quality, engagement, overload, p):
    """Quality a step delivers: its process quality + internal_engagement x (department
    engagement - 0.5) - internal_overload x department overload, within 0..1 (Heskett et al.
    1994: internal service quality)."""
    return np.clip(quality + p.internal_engagement * (engagement - NEUTRAL)
                   - p.internal_overload * overload, 0, 1)


def chain_quality(effective, chain, handoff_success):
    """Quality of each channel's process chain (3,): the product of what its steps deliver,
    times `handoff_success` for each step (each is a hand-off to another department, which
    silos make fail more often). Both engines use this numpy rule (three numbers a week)."""
    steps = np.where(chain, effective[None, :], 1.0)
    return np.prod(steps, axis=1) * handoff_success ** chain.sum(axis=1)


# -- networks -----------------------------------------------------------------------------------

def csr_from_edges(n, src, dst):
    order = np.argsort(src, kind="stable")
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
    return indptr, dst[order], order.astype(dst.dtype)


def tribal_powerlaw_cluster(tribe, slots, half_degree, triad_p, homophily, u):
    """Same growth rule as the kernel, one node and one draw at a time."""
    n = len(tribe)
    targets = np.full((n, slots), -1, np.int64)
    members: dict[int, list[int]] = {}
    nu = len(u)
    k = 0

    def draw() -> float:
        nonlocal k
        r = u[k % nu]
        k += 1
        return r

    base_m = int(np.floor(half_degree))
    frac = half_degree - base_m
    for v in range(n):
        own = members.setdefault(int(tribe[v]), [])
        m_v = min(slots, base_m + (1 if draw() < frac else 0))
        chosen: list[int] = []
        last = -1
        for _ in range(m_v):
            for _attempt in range(8):
                r = draw()
                triad = last >= 0 and r < triad_p
                if triad:
                    cand = targets[last, int(draw() * slots)]
                else:
                    r2 = draw()
                    if r2 < homophily and own:
                        base = own[int(draw() * len(own))]
                    elif v > 0:
                        base = int(draw() * v)
                    else:
                        break
                    coin, pick = u[k % nu], u[(k + 1) % nu]
                    k += 2
                    cand = base if coin < 0.5 else targets[base, int(pick * slots)]
                    if cand < 0:
                        cand = base
                if cand < 0 or cand == v:
                    continue
                # a triangle across tribes is kept only with probability 1 - homophily
                if triad and tribe[cand] != tribe[v] and not draw() < 1.0 - homophily:
                    continue
                if cand in chosen:
                    continue
                targets[v, len(chosen)] = cand
                chosen.append(int(cand))
                last = int(cand)
                break
        own.append(v)
    return targets


# -- 1. culture ---------------------------------------------------------------------------------

def culture(col, org, p, out):
    """Friedkin-Johnsen step: each colleague's new personality (into `out`, (c, d)) is the
    stubborn pull to the hire-time anchor plus the weighted mean of own current personality,
    the manager's (top-down), the peers' (silo-weighted ties, sharing `peer_weight`) and the
    brand's.

    Parameters
    ----------
    col : ColleagueState or its record
        Reads personality (c, d), personality0 (c, d) and manager (c,).
    org : Graph
        The organisation's ties (CSR) with this step's silo-weighted `weight` per tie.
    p : CultureParams
        Weights, the brand (d,) and each colleague's top-down and brand pull (c,).
    out : (c, d) float
        Receives the new personalities, 0..1.
    """
    indptr = org.indptr
    deg = np.diff(indptr).astype(float)
    scale = np.divide(p.peer_weight, deg, out=np.zeros_like(deg), where=deg > 0)
    row = np.repeat(np.arange(len(deg)), np.diff(indptr))
    peers = _matrix(indptr, org.indices, org.weight * scale[row])
    personality, manager = col.personality, col.manager
    has_mgr = manager >= 0
    td = np.where(has_mgr, p.top_down, 0.0)
    acc = (p.self_weight * personality + p.brand_pull[:, None] * p.brand[None, :]
           + td[:, None] * personality[np.where(has_mgr, manager, 0)] + peers @ personality)
    wsum = p.self_weight + p.brand_pull + td + np.asarray(peers.sum(axis=1)).ravel()
    out[:] = p.stubbornness * col.personality0 + (1 - p.stubbornness) * acc / wsum[:, None]


def asked_pressure(pressure, cx_weight, control):
    """Pressure asked: productivity pressure not offset by CX metrics, tightened by control."""
    asked = pressure * (1 - cx_weight)
    return asked + control * (1 - asked)


def headroom_target(empowerment, felt, training, aptitude, p):
    """Headroom a colleague would use: empowerment less felt pressure and training time."""
    room = empowerment * (1 - p.headroom_pressure_loss * felt) * (
        1 - p.training_cost_headroom * training)
    return np.clip(room * aptitude, 0, 1)


def practice(col, p, felt_out, headroom_out):
    """How colleagues work: habit and role modelling.

    Felt pressure and headroom in use move a share `habit_rate` of the way each week (Lally et
    al. 2010: habits form over weeks to months) toward what the levers ask: felt pressure toward
    productivity pressure not offset by CX metrics and tightened by the unit manager's control,
    headroom toward empowerment less what felt pressure and training time take, times aptitude.
    Each target is shifted by `role_modelling` times how far the colleague's manager still lags
    behind what is asked of the manager (last week): people work as their manager does (the
    "falling dominoes" of Bass et al. 1987), so a change made at the top reaches the front line
    level by level.

    Parameters
    ----------
    col : ColleagueState or its record
        Reads pressure, headroom (last week), aptitude, manager (c,).
    p : EngagementParams
        `habit_rate`, `role_modelling` and each colleague's levers in force (c,).
    felt_out, headroom_out : (c,) float
        Receive this week's felt pressure and headroom in use, 0..1.
    """
    m = col.manager
    has = m >= 0
    mm = np.where(has, m, 0)
    lag_f = np.where(has, col.pressure[mm] - asked_pressure(
        p.productivity_pressure[mm], p.cx_metrics_weight[mm], p.control[mm]), 0.0)
    lag_h = np.where(has, col.headroom[mm] - headroom_target(
        p.empowerment[mm], col.pressure[mm], p.training[mm], col.aptitude[mm], p), 0.0)
    target_f = np.clip(asked_pressure(p.productivity_pressure, p.cx_metrics_weight, p.control)
                       + p.role_modelling * lag_f, 0, 1)
    f = col.pressure + p.habit_rate * (target_f - col.pressure)
    target_h = np.clip(headroom_target(p.empowerment, f, p.training, col.aptitude, p)
                       + p.role_modelling * lag_h, 0, 1)
    felt_out[:] = f
    headroom_out[:] = col.headroom + p.habit_rate * (target_h - col.headroom)


def engagement_step(col, org, p, circumstance, level_out, out):
    """The usual engagement level (into `level_out`, (c,)) moves at `rate` toward a target set
    by the person's own trait, how colleagues work (headroom in use and felt pressure,
    `practice`), pay, co-creation, the manager, the satisfaction mirrored by customers served
    and overload, and toward the mean of peers' usual levels (emotional contagion). This
    week's engagement (into `out`) is that level moved by the week's circumstances.

    Parameters
    ----------
    col : ColleagueState or its record
        Reads engagement_level, engagement_trait, pressure, headroom, manager_quality, mirror,
        overload (c,).
    org : Graph
        The organisation's ties (CSR) with this step's `weight` per tie.
    p : EngagementParams
        Weights (per week), `week_spread` and each colleague's levers in force (c,).
    circumstance : (c,) float
        This week's circumstances of each colleague, standard normal (recovery, events at
        work and at home: what diary studies see vary from week to week).
    level_out, out : (c,) float
        Receive the new usual level and this week's engagement, 0..1.
    """
    base = p.base + p.w_pay * p.pay_alignment + p.w_co_creation * p.co_creation
    target = np.clip(base + col.manager_quality + col.engagement_trait
                     - p.w_pressure * col.pressure
                     + p.w_empowerment * col.headroom
                     + p.w_mirror * (col.mirror - NEUTRAL) - p.w_workload * col.overload, 0, 1)
    level = col.engagement_level
    a = _matrix(org.indptr, org.indices, org.weight)
    ws = np.asarray(a.sum(axis=1)).ravel()
    peer_mean = np.divide(a @ level, ws, out=level.copy(), where=ws > 0)
    new = np.clip(level + p.rate * (target - level) + np.where(
        ws > 0, p.rate * p.peers * (peer_mean - level), 0.0), 0, 1)
    level_out[:] = new
    out[:] = np.clip(new + p.week_spread * circumstance, 0, 1)


# -- 2. service ---------------------------------------------------------------------------------

def select_contacts(status, pending, key, p):
    """Indices of active customers who contact the company (ascending): draw (stream `key`,
    `rng.uniform_array`) under the contact rate, or under `p.recontact` while an issue is open
    (failure demand)."""
    rate = np.where(pending > 0, p.recontact, p.rate)
    u = uniform_array(key, np.arange(len(status)))
    return np.flatnonzero((status == ACTIVE) & (u < rate))


def staffed_channel(ch, indptr):
    """The channel that serves a contact asked of `ch`: itself when any of its posts is
    filled, else the contact centre, else the stores, else digital; -1 when none is."""
    ch = np.asarray(ch)
    filled = indptr[1:] > indptr[:-1]
    fallback = next((alt for alt in (CONTACT_CENTRE, STORE, DIGITAL) if filled[alt]), -1)
    return np.where(filled[ch], ch, fallback)


def assign_contacts(con, cus, col, pools, draws, p):
    """Channel of each contact (by the customer's preferences; digital only when offered; an
    issue digital failed to resolve comes back to the contact centre; an unstaffed channel
    falls back to the contact centre) and the colleague who serves it: the last one with
    chance `p.relationship` when they serve that channel (and that store) and the post is not
    vacant, else a random member of the home store's team (of any store when all its posts are
    vacant) or of the channel's pool. The pools hold only filled posts: a channel with none
    passes its contacts on (`staffed_channel`)."""
    c = con.customer
    pr = cus.prefs[c]
    total = pr[:, 0] + pr[:, 1] + (pr[:, 2] if p.digital_on else 0.0)
    r = draws.channel * total
    ch = np.where(r < pr[:, 0], STORE, np.where(
        (r < pr[:, 0] + pr[:, 1]) | (not p.digital_on), CONTACT_CENTRE, DIGITAL))
    bounced = (cus.pending[c] > 0) & (cus.pending_channel[c] == DIGITAL)
    ch = np.where(bounced, CONTACT_CENTRE, ch)
    ptr, members = pools.channel_indptr, pools.channel_members
    ch = staffed_channel(ch, ptr)
    nobody = ch < 0  # every front-line post vacant: the first colleague (a leader) answers
    ch = np.where(nobody, CONTACT_CENTRE, ch)
    last = cus.last_colleague[c]
    safe_last = np.maximum(last, 0)
    home = cus.home_store[c]
    keep = ((last >= 0) & (draws.relationship < p.relationship) & (col.channel[safe_last] == ch)
            & (col.vacant[safe_last] == 0) & ((ch != STORE) | (col.team[safe_last] == home)))
    tptr = pools.team_indptr
    size = tptr[home + 1] - tptr[home]
    store_pick = pools.team_members[np.minimum(
        tptr[home] + (draws.pick * size).astype(np.int64),
        max(len(pools.team_members) - 1, 0))] if len(pools.team_members) else np.zeros_like(c)
    pool_pick = members[np.minimum(
        ptr[ch] + (draws.pick * (ptr[ch + 1] - ptr[ch])).astype(np.int64), len(members) - 1)] \
        if len(members) else np.zeros_like(c)
    chosen = np.where(keep, last, np.where((ch == STORE) & (size > 0), store_pick, pool_pick))
    con.colleague[:] = np.where(nobody, 0, chosen)
    con.channel[:] = ch


def service(con, draws, cus, col, chain_q, p, rp):
    """Experience of each contact, 0..1: the colleague's engagement, brand fit, headroom and
    similarity to the customer, the quality of the channel's process chain, less rushing under
    productivity pressure, plus noise; digital contacts depend mostly on the front end and the
    process; a service failure takes `shock_severity` off the contacts it hits. Also moves the
    personality each customer has met (`met_mean`) and its spread (`met_spread`, the
    inconsistency of touchpoints).

    Each contact resolves the customer's issue with `resolution_probability` (of the
    colleague's skill, headroom, felt pressure and overload, the chain's quality and the
    earlier failed attempts); a digital contact mostly by self-service, which resolves as far
    as the front end works. An unresolved contact loses `unresolved_penalty` of experience and
    leaves the issue open (`cus.pending` counts the failed attempts) unless the customer gives
    up on it (chance 1 - `persistence`, decided by the same draw: above `prob` it is uniform
    again). A resolved contact is delivered by the channel's process chain with probability
    `chain_q` (draw `fulfil`); an undelivered one is open again and chased with the same
    `persistence` (`chases`). A repeat contact loses `repeat_penalty` per earlier failed
    attempt (the customer starts annoyed).

    Parameters
    ----------
    con : Contacts
        customer, colleague, channel (m,) in; experience, homophily, inconsistency, attempt,
        resolved (m,) out.
    draws : ContactDraws
        noise (m,) standard normal, failure and resolve (m,) uniform.
    cus, col : CustomerState, ColleagueState (or records)
        Personalities (n, d) and (c, d); engagement, headroom, pressure, tenure, overload
        (c,); met_mean (n, d), met_spread, pending and pending_channel (n,) updated in place.
    chain_q : (3,) float
        Quality of each channel's process chain, 0..1.
    p : ServiceParams
    rp : ResolutionParams
    """
    c, j, channel, noise = con.customer, con.colleague, con.channel, draws.noise
    cp, kp = col.personality[j], cus.personality[c]
    h = similarity(cp, kp, p.bandwidth)
    fit = similarity(cp, p.brand, p.bandwidth)
    q = chain_q[channel]
    x = (p.w_engagement * col.engagement[j] + p.w_brand_fit * fit
         + p.w_empowerment * col.headroom[j] + p.w_homophily * h + p.w_process * q
         - p.rush_penalty * col.pressure[j] + p.noise * noise)
    a = cus.pending[c]
    prob = resolution_probability(skill_level(col.tenure[j], rp), col.headroom[j], q,
                                  col.pressure[j], col.overload[j], a, rp)
    digital = channel == DIGITAL
    x = np.where(digital, (1 - p.digital_self_service) * x + p.digital_self_service
                 * (np.minimum(p.digital_front_end, q) + p.noise * noise), x)
    prob = np.where(digital, (1 - p.digital_self_service) * prob
                    + p.digital_self_service * p.digital_front_end, prob)
    if p.shock_active:
        hit = (channel == p.shock_channel) | ((p.shock_channel < 0)
                                              & (draws.failure < p.shock_share))
        x = np.where(hit, np.minimum(x, 1.0) - p.shock_severity, x)
    u = draws.resolve
    ok = u < prob
    chase = chases(u, prob, draws.fulfil, q, rp.persistence)
    x = x - (rp.repeat_penalty * a + np.where(ok, 0.0, rp.unresolved_penalty))
    con.experience[:] = np.clip(x, 0, 1)
    con.attempt[:] = a
    con.resolved[:] = ok
    con.undelivered[:] = ok & delivery_fails(draws.fulfil, q)
    cus.pending[c] = np.where(chase, a + 1, 0)
    cus.pending_channel[c] = np.where(chase, channel, -1)
    con.homophily[:] = h
    first = cus.met_spread[c] < 0
    d = np.where(first, 0.0, distance(cp, cus.met_mean[c]))
    r = p.consistency_rate
    mm, ms = cus.met_mean[c], cus.met_spread[c]
    cus.met_mean[c] = np.where(first[:, None], cp, mm + r * (cp - mm))
    cus.met_spread[c] = np.where(first, 0.0, ms + r * (d - ms))
    con.inconsistency[:] = d


# -- 3. perception ------------------------------------------------------------------------------

def perception(con, cus, col, p):
    """Each contacted customer's response to the experience.

    Satisfaction is a logistic of disconfirmation (experience - expectation) within a zone of
    tolerance; emotional memory follows it with bad weighing `negativity_bias` times more,
    remembering its peak; trust rises after a good experience and falls after a bad one and
    with the distance between the colleague met and the customer's image of the brand
    (inconsistency, the say-do gap), and when the back office failed to deliver what a
    resolved contact agreed (`con.undelivered`: a broken promise, a share `trust_loss x
    negativity_bias x undelivered_badness`); felt empathy moves toward similarity and the
    colleague's engagement; expectation adapts to experience and is anchored to the industry
    norm; the brand image moves toward the personality met. A customer sold a product that
    does not fit (`con.sold` == MISFIT) finds out at the next contact and loses a share
    `misselling_trust_loss` of trust.

    Parameters
    ----------
    con : Contacts
        customer, colleague, experience, homophily, sold (m,) in; satisfaction (m,) out, 0..1.
    cus : CustomerState or its record
        expectation, norm, memory, peak, trust, empathy, missold (n,) and image (n, d)
        updated for the contacted.
    col : ColleagueState or its record
        engagement (c,) and personality (c, d) of the colleague who served.
    p : PerceptionParams
    """
    c, x = con.customer, con.experience
    d = x - cus.expectation[c]
    con.satisfaction[:] = 1 / (1 + np.exp(-p.slope * (d + p.tolerance)))
    v = np.where(d >= 0, d, p.negativity_bias * d)
    cus.memory[c] += p.memory_rate * (v - cus.memory[c])
    cus.peak[c] = np.where(np.abs(v) > np.abs(cus.peak[c]), v, cus.peak[c])
    t = cus.trust[c]
    t = np.where(d >= 0, t + p.trust_gain * (1 - t),
                 t - t * np.minimum(1, p.trust_loss * p.negativity_bias * -d))
    met = col.personality[con.colleague]
    gap = distance(met, cus.image[c])
    t = t - t * np.minimum(1, p.inconsistency_penalty * gap)
    t = np.where(con.undelivered, t - t * np.minimum(
        1, p.trust_loss * p.negativity_bias * p.undelivered_badness), t)
    t = np.where(cus.missold[c], t - t * p.misselling_trust_loss, t)
    cus.missold[c] = con.sold == MISFIT
    cus.trust[c] = np.clip(t, 0, 1)
    cus.image[c] += p.image_contact * (met - cus.image[c])
    felt = (p.empathy_similarity_share * con.homophily
            + (1 - p.empathy_similarity_share) * col.engagement[con.colleague])
    cus.empathy[c] += p.empathy_rate * (felt - cus.empathy[c])
    cus.expectation[c] += (p.expectation_adaptation * (x - cus.expectation[c])
                           + p.expectation_anchor * (cus.norm[c] - cus.expectation[c]))


def colleague_feedback(con, col, p) -> np.ndarray:
    """What colleagues take from the contacts they served this step (both engines run this
    numpy rule; it is a few bincounts over the m contacts).

    Fills `col.served`, `col.satisfaction_sum`, `col.complaints`; the mirror of those who
    served moves toward the mean satisfaction they saw; overload is the load beyond capacity,
    where a digital contact takes only the staff's share of it (`digital_effort`: self-service
    deflects the rest). Returns the (m,) bool mask of contacts that were complaints.
    """
    n = col.served.shape[0]
    col.served[:] = np.bincount(con.colleague, minlength=n)
    col.satisfaction_sum[:] = np.bincount(con.colleague, weights=con.satisfaction, minlength=n)
    complaint = con.satisfaction < p.complaint_threshold
    col.complaints[:] = np.bincount(con.colleague[complaint], minlength=n)
    served = col.served > 0
    col.mirror[served] += p.mirror_rate * (
        col.satisfaction_sum[served] / col.served[served] - col.mirror[served])
    effort = np.where(con.channel == DIGITAL, p.digital_effort, 1.0)
    load = np.bincount(con.colleague, weights=effort, minlength=n)
    col.overload[:] = np.maximum(0.0, load / p.capacity - 1.0)
    return complaint


# -- 4-5. the customers: attitude, word of mouth, adoption, churn, figures ----------------------

def customer_pass_a(cus, col, net, keys, p):
    """Attitude and speakers: memories of known customers fade without contact and peaks fade;
    LTR follows (`ltr_score`, `advocacy` for colleague-customers, clipped 0..10; prospects
    show LTR_MID); then `speaker` decides who talks this step; `voice` holds that and what
    each node passes on to the second hop (its share of last step's bad and good stories).

    Parameters
    ----------
    cus : CustomerState or its record
        Reads status, contacted, trust, empathy, disposition, node_colleague, neg_prev,
        pos_prev (n,); writes memory, peak, ltr (0..10), speak (int8) (n,) and voice (n, 3).
    col : ColleagueState or its record
        engagement (c,) of colleague-customers.
    net : Graph
        The social network (CSR; `weight` unused).
    keys : CustomerKeys
        The stream of the talk draws (`rng.uniform_array(keys.talk, node)`).
    p : CustomerParams
    """
    known = cus.status != PROSPECT
    cus.memory[known & ~cus.contacted] *= 1 - p.memory_decay
    cus.peak[known] *= 1 - p.peak_decay
    score = ltr_score(affect(cus.memory, cus.peak, p.peak_weight), cus.trust, cus.empathy,
                      cus.disposition, p)
    j = cus.node_colleague
    score = np.where(j >= 0, advocacy(score, col.engagement[np.maximum(j, 0)], p), score)
    cus.ltr[:] = np.where(known, np.clip(score, 0, 10), LTR_MID)
    deg = np.maximum(np.diff(net.indptr), 1)
    u_talk = np.where(known, uniform_array(keys.talk, np.arange(len(known))), 1.0)
    cus.speak[:] = speaker(cus.status, cus.ltr, u_talk, p)
    cus.voice[:, 0] = cus.speak
    cus.voice[:, 1] = cus.neg_prev / deg
    cus.voice[:, 2] = cus.pos_prev / deg


def customer_hear(net, cus, p):
    """What each node hears from its neighbours: good and bad voices, plus a share
    `second_hop` of the good and bad stories its neighbours heard first-hand last step
    (retold), and the brand images of those who spoke (word of mouth carries the teller's
    image).

    Parameters
    ----------
    net : Graph
        The social network (CSR).
    cus : CustomerState or its record
        Reads voice (n, 3), image (n, d); writes heard_pos, heard_neg, pos_now, neg_now (n,)
        and heard_image (n, d): the sum of the images of the neighbours who spoke.
    p : CustomerParams
    """
    a = _matrix(net.indptr, net.indices)
    pos = a @ (cus.voice[:, 0] > 0).astype(float)
    neg = a @ (cus.voice[:, 0] < 0).astype(float)
    cus.heard_pos[:] = pos + p.second_hop * (a @ cus.voice[:, 2])
    cus.heard_neg[:] = neg + p.second_hop * (a @ cus.voice[:, 1])
    cus.pos_now[:] = pos
    cus.neg_now[:] = neg
    cus.heard_image[:] = a @ (cus.image * (cus.voice[:, :1] != 0))


def customer_pass_b(cus, col, net, keys, step, p, fig):
    """What each node does about what it heard, then churn, then the step's figures.

    Every node's brand image moves with the advertising and the tellers' images
    (`image_shift`); active customers' memory shifts with the balance of what they heard and
    praise lifts their expectation; prospects and churned customers adopt with the Bass
    hazard times the pull of a brand image like themselves (`self_congruity`) and start
    afresh; active customers acquired before this step leave with `churn_probability`. Fills
    `fig` (`state.CustomerFigures`).

    Parameters
    ----------
    cus : CustomerState or its record
        Updates status, memory, expectation, peak, trust, empathy, acquired_step, adopted,
        churned (n,) and image (n, d); reads heard_image (n, d), pos_now, neg_now (n,).
    col : ColleagueState or its record
        team (c,) of the last colleague met, for the unit counts.
    net : Graph
        The social network (CSR): a node's degree turns what it heard into shares.
    keys : CustomerKeys
        The streams of the adopt and churn draws.
    step : int
        The step, recorded as the acquisition step of adopters.
    p : CustomerParams
    fig : CustomerFigures
        Receives the counts, sums (revenue in money per week) and unit counts.
    """
    deg = np.maximum(np.diff(net.indptr), 1)
    share_pos, share_neg = cus.heard_pos / deg, cus.heard_neg / deg
    active = cus.status == ACTIVE
    cus.image[:] = image_shift(cus.image, p.promise[None, :], cus.heard_image,
                               (cus.pos_now + cus.neg_now)[:, None], deg[:, None], p)
    congruity = self_congruity(cus.image, cus.personality, p)
    said = heard_shift(share_pos, share_neg, p)
    cus.memory[active] += said[active]
    cus.expectation[active] = lifted_expectation(cus.expectation[active], share_pos[active], p)
    hazard = adoption_hazard(share_pos, share_neg, cus.status == CHURNED, congruity, p)
    nodes = np.arange(len(active))
    new = ~active & (uniform_array(keys.adopt, nodes) < hazard)
    cus.adopted[:] = new
    cus.status[new] = ACTIVE
    cus.acquired_step[new] = step
    cus.memory[new] = said[new]
    cus.peak[new] = 0.0
    cus.expectation[new] = lifted_expectation(cus.norm[new], share_pos[new], p)
    cus.trust[new] = p.trust_initial
    cus.empathy[new] = p.empathy_initial
    prob = churn_probability(affect(cus.memory, cus.peak, p.peak_weight), cus.trust,
                             cus.disposition, congruity, p)
    leave = active & (cus.acquired_step != step) & (uniform_array(keys.churn, nodes) < prob)
    cus.status[leave] = CHURNED
    cus.churned[:] = leave
    customer_figures(cus, col, p, fig)


def customer_figures(cus, col, p, fig):
    """The step's customer figures into `fig`: counts of active, prospects, churned this step,
    promoters, detractors and seen (active and met someone); sums of met spread (seen), trust,
    empathy, expectation and revenue (active) and of word of mouth heard (all nodes); and per
    unit of the last colleague met, active customers, promoters and detractors; the brand-image
    sums of the active (`constants.I_*`) per unit and for the company (last column)."""
    st, x = cus.status, cus.ltr
    act = st == ACTIVE
    prom, det = act & (x >= PROMOTER_MIN), act & (x < DETRACTOR_MAX)
    seen = act & (cus.met_spread >= 0)
    fig.counts[[T_ACTIVE, T_PROSPECTS, T_CHURNED, T_PROMOTERS, T_DETRACTORS, T_SEEN]] = [
        act.sum(), (st == PROSPECT).sum(), cus.churned.sum(), prom.sum(), det.sum(), seen.sum()]
    fig.sums[S_SPREAD] = cus.met_spread[seen].sum()
    fig.sums[S_TRUST] = cus.trust[act].sum()
    fig.sums[S_EMPATHY] = cus.empathy[act].sum()
    fig.sums[S_EXPECTATION] = cus.expectation[act].sum()
    fig.sums[S_HEARD_POS] = cus.heard_pos.sum()
    fig.sums[S_HEARD_NEG] = cus.heard_neg.sum()
    fig.sums[S_REVENUE] = spend(cus.value, x, p)[act].sum()
    has = act & (cus.last_colleague >= 0)
    team = col.team[cus.last_colleague[has]]
    n_teams = fig.units.shape[1]
    fig.units[U_CUSTOMERS] = np.bincount(team, minlength=n_teams)
    fig.units[U_PROMOTERS] = np.bincount(team, weights=prom[has], minlength=n_teams)
    fig.units[U_DETRACTORS] = np.bincount(team, weights=det[has], minlength=n_teams)
    img = cus.image[act]
    rows = np.empty((len(img), fig.images.shape[0]))
    rows[:, I_DISTANCE] = distance(img, p.brand[None, :])
    rows[:, I_SQUARED] = (img * img).sum(axis=1)
    rows[:, I_X:] = img
    where = np.where(cus.last_colleague[act] >= 0,
                     col.team[np.maximum(cus.last_colleague[act], 0)], n_teams)
    fig.images[:] = 0.0
    for k in range(rows.shape[1]):
        fig.images[k] = np.bincount(where, weights=rows[:, k], minlength=n_teams + 1)
        fig.images[k, n_teams] = rows[:, k].sum()


# -- 6. staff -----------------------------------------------------------------------------------

def filled_team_engagement(engagement, team, vacant):
    """Mean engagement of the filled posts of each team (0 for a team with none)."""
    filled = vacant == 0
    n_teams = team.max() + 1
    count = np.bincount(team[filled], minlength=n_teams)
    total = np.bincount(team[filled], weights=engagement[filled], minlength=n_teams)
    return np.divide(total, count, out=np.zeros(n_teams), where=count > 0)


def staff(col, draws, cus, p):
    """Colleagues in filled posts leave with `attrition_probability` of their usual engagement
    level; the post stays vacant for `draws.vacancy` weeks (it serves nobody meanwhile), then a
    hire starts (`hire_trait`, resembling customer `draws.hire_customer` under hiring for fit)
    who takes on the unit's usual engagement (the mean of its filled posts before this week's
    departures) plus the honeymoon `onboarding_lift`, with zero tenure (a new hire's skill) and
    a neutral mirror. Vacant posts count down. Writes `col.left` (left this week) and
    `col.vacant`.

    Parameters
    ----------
    col : ColleagueState or its record
        Reads engagement_level, team; updates tenure (weeks), vacant, personality,
        personality0, engagement_trait, engagement_level, engagement, mirror and left (c,).
    draws : StaffDraws
        leave (c,) uniform, hire_noise (c, d) standard normal, hire_customer (c,) indices,
        vacancy (c,) weeks, hire_engagement (c,) standard normal (the hire's engagement trait,
        times `p.engagement_trait_spread`).
    cus : CustomerState or its record
        personality (n, d) that hires for fit resemble.
    p : StaffParams
    """
    mood = filled_team_engagement(col.engagement_level, col.team, col.vacant)
    was_vacant = col.vacant > 0
    leave = ~was_vacant & (draws.leave < attrition_probability(col.engagement_level, col.tenure,
                                                                p))
    vacant = np.where(was_vacant, col.vacant - 1, np.where(leave, draws.vacancy, 0))
    hire = (was_vacant | leave) & (vacant == 0)
    new = hire_trait(draws.hire_noise, cus.personality[draws.hire_customer], p)
    col.personality[hire] = new[hire]
    col.personality0[hire] = new[hire]
    col.engagement_trait[hire] = p.engagement_trait_spread * draws.hire_engagement[hire]
    col.engagement_level[hire] = np.clip(mood[col.team[hire]] + p.onboarding_lift, 0, 1)
    col.engagement[hire] = col.engagement_level[hire]
    col.tenure[:] = np.where(leave | hire, 0, np.where(was_vacant, col.tenure, col.tenure + 1))
    col.mirror[hire] = NEUTRAL
    col.vacant[:] = vacant
    col.left[:] = leave


# -- 7. learning --------------------------------------------------------------------------------

def learning(proc, complaints, contacts, col, p):
    """Each process step improves with the share of complaints among the contacts of the
    channels that use it (at the learning intensity, less what silos hold back on the way to
    the step's department: `p.across`) and drifts back to its starting quality; colleagues
    who handled complaints, or whose department runs a step that drew some, get an engagement
    lift (being listened to).

    The quality each step delivers next week (`proc.effective`) is `delivered_quality` of its
    process quality, the mean engagement of the filled posts of the department that runs it
    and that department's overload: this week's contacts of the channels using the step beyond
    what its filled posts handle (`backoffice_capacity` each); 0 when nobody runs a step that
    has work; the process quality for steps no department runs.

    Parameters
    ----------
    proc : Process
        quality and effective (s,) updated; quality0 (s,), chain (3, s), department_step read.
    complaints, contacts : (3,) float
        This step's complaints and contacts per channel.
    col : ColleagueState or its record
        department, complaints, vacant (c,) read; engagement (this week's, read for the back
        office) and engagement_level (c,) lifted in place.
    p : LearningParams
    """
    chain = proc.chain.T.astype(float)
    c, t = chain @ complaints, chain @ contacts
    share = np.divide(c, t, out=np.zeros_like(c), where=t > 0)
    q = proc.quality + p.learning_rate * p.intensity * p.across * share * (1 - proc.quality)
    q = q + p.decay * (proc.quality0 - q)
    proc.quality[:] = np.clip(q, 0, 1)
    filled = col.vacant == 0
    n_dept = len(proc.department_step)
    staffed = np.bincount(col.department[filled], minlength=n_dept).astype(float)
    eng = np.bincount(col.department[filled], weights=col.engagement[filled], minlength=n_dept)
    effective = proc.quality.copy()
    for d in np.flatnonzero(proc.department_step >= 0):
        s = proc.department_step[d]
        if staffed[d] > 0:
            over = max(0.0, t[s] / (staffed[d] * p.backoffice_capacity) - 1)
            effective[s] = delivered_quality(proc.quality[s], eng[d] / staffed[d], over, p)
        elif t[s] > 0:
            effective[s] = 0.0
    proc.effective[:] = effective
    if p.intensity <= 0 or p.engagement_lift <= 0:
        return
    s = proc.department_step[col.department]
    lift = np.where(s >= 0, share[np.maximum(s, 0)], 0.0)
    lift = np.where(col.complaints > 0, 1.0, lift)
    a = np.where(lift > 0, p.engagement_lift * p.intensity * lift, 0.0)
    level, week = col.engagement_level, col.engagement  # records: update the arrays in place
    level += a * (1 - level)
    week += a * (1 - week)
