"""numba kernels: the rules of the step as pure functions of numpy arrays (no Mesa here).

Every kernel, and every small rule it is built from, has a plain numpy twin of the same name
and arguments in `cxsim.reference`; the twin is the specification, the kernel is the speed.
Arrays come grouped in records (`cxsim.state`), parameters in records built by
`cxsim.params.build`. The per-node random numbers (contact, talk, adopt, churn) are computed
inside the kernels from counter-based streams (`cxsim.rng`: a pure function of seed, week,
stream and node), the twins compute the same draws vectorised, and only nodes that can act
draw; the per-contact and per-colleague draws (few) are drawn by the model and passed in.
Kernels that sweep all customers run with ``prange``; each iteration writes only its own
slots, integer totals are the only free reductions and float sums are taken in fixed chunks,
so results do not depend on the number of threads.

Kernels whose name ends in ``_serial`` are the same source compiled without threads; the model
runs them below `model.PARALLEL_MIN_NODES` and the tests check that both builds agree.

Parallel kernels take the arrays they use out of their records before the ``prange`` loop, one
assignment per line: numba 0.68's parfors lose writes made through a record's field inside the
loop, and mis-map arrays unpacked together (``a, b = r.a, r.b``). Both gave wrong numbers, not
errors (caught by tests/test_parallel.py).

The customer side of the step after perception runs as three loops over the nodes:
  `customer_pass_a` (per node): attitude (fading, LTR) and who speaks this step;
  `customer_hear` (per node, reading neighbours' pass A results): word-of-mouth receipt;
  `customer_pass_b` (per node): what the node does about it (memory, expectation, adoption),
  churn, the step's customer figures and revenue.
Receipt cannot join A: it reads the neighbours' speaker flags, which need their LTR. It could
join B (one pass fewer over the nodes) but measured slower that way: see `customer_hear`.
"""

from __future__ import annotations

import math
import types

import numpy as np
from numba import njit, prange

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
    TOTAL_CHUNKS,
    U_CUSTOMERS,
    U_DETRACTORS,
    U_PROMOTERS,
)


def _jit(fn, parallel=False):
    """Compile `fn` with numba; the serial build gets its own name, hence its own cache entry.

    numba's on-disk cache is keyed by the function's qualified name and signature, not by the
    `parallel` flag: two builds of one function would load each other's machine code.
    """
    if not parallel:
        fn = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__ + "_serial",
                                fn.__defaults__, fn.__closure__)
        fn.__qualname__ = fn.__name__
        fn.__doc__ = fn.__doc__
    return njit(cache=True, parallel=parallel, nogil=True)(fn)


def _rule(fn):
    """A small rule, inlined into the kernels that use it (also callable from Python)."""
    return njit(cache=True, inline="always")(fn)


# -- rules --------------------------------------------------------------------------------------

@_rule
def mix(z):
    """SplitMix64's finaliser (the counter-based generator of `cxsim.rng`): a bijection of
    64-bit integers that scrambles every bit.

    Every operand is cast to uint64: numba types a module-level numpy constant as a signed
    integer, and a signed shift would differ from numpy's."""
    z = np.uint64(z)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@_rule
def uniform(key, i):
    """The i-th uniform draw in [0, 1) of the stream `key` (53 bits; twin:
    `rng.uniform_array`)."""
    z = mix(np.uint64(key) + (np.uint64(i) + np.uint64(1)) * np.uint64(0x9E3779B97F4A7C15))
    return float(z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@_rule
def normal(key, i):
    """The i-th standard normal draw of the stream `key` (Box-Muller on draws 2i and 2i+1;
    twin: `rng.normal_array`)."""
    u1 = 1.0 - uniform(key, 2 * i)  # (0, 1]: log is finite
    u2 = uniform(key, 2 * i + 1)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


@_rule
def similarity(a, b, bandwidth):
    """Gaussian similarity of two personality vectors: 1 when equal, fading with distance."""
    d2 = 0.0
    for k in range(a.shape[0]):
        diff = a[k] - b[k]
        d2 += diff * diff
    return math.exp(-d2 / (2.0 * bandwidth * bandwidth))


@_rule
def distance(a, b):
    """Euclidean distance of two personality vectors."""
    d2 = 0.0
    for k in range(a.shape[0]):
        diff = a[k] - b[k]
        d2 += diff * diff
    return math.sqrt(d2)


@_rule
def affect(memory, peak, peak_weight):
    """What a customer feels about the company: emotional memory blended with its peak."""
    return (1.0 - peak_weight) * memory + peak_weight * peak


@_rule
def ltr_score(feeling, trust, empathy, disposition, p):
    """Likelihood to recommend before clipping to 0..10 (p: CustomerParams)."""
    return (LTR_MID + p.ltr_memory * feeling + p.ltr_trust * (trust - NEUTRAL)
            + p.ltr_empathy * (empathy - NEUTRAL) + p.ltr_bias + p.ltr_spread * disposition)


@_rule
def advocacy(score, engagement, p):
    """A customer who is also a colleague recommends partly as engaged as they are."""
    return (1.0 - p.colleague_advocacy) * score + p.colleague_advocacy * 10.0 * engagement


@_rule
def talk_probability(ltr, p):
    """Weekly chance an active customer talks about the company: the stronger the feeling at
    either end, the more (a U, Anderson 1998), more at the dissatisfied end, times social
    amplification."""
    d = (ltr - LTR_MID) / LTR_MID
    boost = 1.0 + p.negative_talk_boost if d < 0.0 else 1.0
    return min(1.0, p.amplification * (p.talk_base + p.talk_extremity * d * d * boost))


@_rule
def positive_valence(ltr, p):
    """Chance that what a talker says is good: rises smoothly with LTR, so passives say good
    and bad things and promoters sometimes complain (mixed feelings)."""
    return 1.0 / (1.0 + math.exp(-(ltr - p.valence_midpoint) / p.valence_spread))


@_rule
def speaker(status, ltr, u, p):
    """+1 if the node speaks well this step, -1 if it speaks ill, else 0.

    Active customers talk with `talk_probability`, churned ones `churned_talk` times as often,
    prospects not at all; one uniform draw `u` decides both whether (u < rate) and, given that,
    the valence (u / rate is uniform again: good when below `positive_valence`).
    """
    scale = 1.0 if status == ACTIVE else (p.churned_talk if status == CHURNED else 0.0)
    rate = talk_probability(ltr, p) * scale
    talks = u < rate
    good = u < rate * positive_valence(ltr, p)
    return np.int8(2 * np.int8(good) - np.int8(talks))


@_rule
def self_congruity(image, personality, p):
    """How strongly a customer is drawn to the brand as they see it: people choose and stay
    with brands whose image resembles themselves (Sirgy 1982). A factor on the adoption
    hazard and a divisor of churn: exp(self_congruity x (similarity - congruity_centre)),
    centred on the market's mean similarity at the start, so it sorts customers without
    rescaling the average hazard."""
    return math.exp(p.self_congruity * (similarity(image, personality, p.bandwidth)
                                        - p.congruity_centre))


@_rule
def adoption_hazard(share_pos, share_neg, churned, congruity, p):
    """Bass adoption: marketing p plus imitation q of promoters, minus detractors' repulsion,
    times the pull of a brand image like oneself (`self_congruity`); churned customers come
    back at `winback` times the rate."""
    hazard = (p.marketing + p.adoption_q * share_pos - p.detractor_repel * share_neg) * congruity
    return hazard * p.winback if churned else hazard


@_rule
def image_shift(x, promised, heard, speakers, deg, p):
    """One dimension of a customer's brand image after a week: pulled toward the advertised
    promise (reach `image_advertising`) and toward the images of the neighbours who talked
    (`heard` is the sum of their images, `speakers` how many of the `deg` neighbours)."""
    x = x + p.image_advertising * (promised - x) + p.image_wom * (heard - speakers * x) / deg
    return min(1.0, max(0.0, x))


@_rule
def heard_shift(share_pos, share_neg, p):
    """Shift of emotional memory from what the neighbours said."""
    return p.attitude_weight * (share_pos - share_neg)


@_rule
def lifted_expectation(expectation, share_pos, p):
    """Praise from neighbours raises expectation."""
    return min(1.0, expectation + p.expectation_weight * share_pos)


@_rule
def churn_probability(feeling, trust, disposition, congruity, p):
    """Weekly chance an active customer leaves: falls with affect, with trust, with the
    customer's stable attitude to the brand (the attitude share of `disposition`, weighted as
    emotional memory of the same weight in likelihood to recommend; centred, so it sorts who
    leaves without changing the average) and with a brand image like oneself
    (`self_congruity`)."""
    k = p.churn_disposition
    return p.churn_base * math.exp(-p.memory_sensitivity * feeling
                                   - p.trust_sensitivity * (trust - NEUTRAL)
                                   - k * disposition - 0.5 * k * k) / congruity


@_rule
def spend(value, ltr, p):
    """A customer's weekly spend: promoters pay a premium, detractors spend less."""
    return value * (1.0 + p.promoter_premium if ltr >= PROMOTER_MIN else (
        1.0 - p.detractor_discount if ltr < DETRACTOR_MAX else 1.0))


@_rule
def attrition_probability(engagement, tenure, p):
    """Weekly chance a colleague leaves: falls with engagement and with tenure."""
    return p.attrition_base * math.exp(-p.attrition_engagement * (engagement - NEUTRAL)) \
        / (1.0 + p.tenure_protection * tenure)


@_rule
def hire_trait(noise, fit_trait, p):
    """One personality dimension of a hire: the labour market, or with hiring for fit, close
    to a customer."""
    market = p.market_centre + p.personality_spread * noise
    v = (1.0 - p.hiring_for_fit) * market + p.hiring_for_fit * (
        fit_trait + p.hire_fit_noise * p.personality_spread * noise)
    return min(1.0, max(0.0, v))


@_rule
def skill_level(tenure, p):
    """A colleague's skill, 0..1 of an experienced colleague's: new hires start at
    `new_hire_skill` and close the gap along an exponential learning curve (p:
    ResolutionParams)."""
    return p.new_hire_skill + (1.0 - p.new_hire_skill) * (1.0 - math.exp(-tenure / p.skill_weeks))


@_rule
def resolution_probability(skill, headroom, chain_q, pressure, overload, attempt, p):
    """Chance a contact with a colleague resolves the customer's issue (first-contact
    resolution): rises with skill, headroom and the quality of the process chain behind the
    channel; falls with felt productivity pressure (contacts cut short), the share of the
    colleague's contacts handled beyond capacity and the earlier failed attempts at the same
    issue (p: ResolutionParams)."""
    z = (p.fcr_intercept + p.fcr_skill * skill + p.fcr_headroom * headroom
         + p.fcr_process * chain_q - p.fcr_pressure * pressure
         - p.fcr_overload * overload / (1.0 + overload) - p.fcr_repeat * attempt)
    return 1.0 / (1.0 + math.exp(-z))


@_rule
def delivery_fails(v, chain_q):
    """Whether the back-office chain fails to deliver what a resolved contact agreed: draw `v`
    at or above the chain's quality, the chance that every step and hand-off works."""
    return v >= chain_q


@_rule
def chases(u, prob, v, chain_q, persistence):
    """Whether a customer's issue is still open after a contact and the customer will chase it
    (failure demand). Open when the contact fails to resolve it (`u` >= `prob`), or resolves
    it and the back-office chain behind the channel then fails to deliver what was agreed
    (`v` >= `chain_q`: the chain's quality is the chance that every step and hand-off works;
    Seddon's progress chasing). Either way the customer chases with chance `persistence`,
    decided by the same draw (beyond its threshold a uniform draw is uniform again)."""
    if u < prob:
        return delivery_fails(v, chain_q) and v - chain_q < persistence * (1.0 - chain_q)
    return u - prob < persistence * (1.0 - prob)


@_rule
def delivered_quality(quality, engagement, overload, p):
    """The quality a back-office step delivers this week: its process quality moved by the
    engagement of the department that runs it (internal service quality) and lowered by that
    department's overload (p: LearningParams)."""
    q = quality + p.internal_engagement * (engagement - NEUTRAL) - p.internal_overload * overload
    return min(1.0, max(0.0, q))


# -- networks -----------------------------------------------------------------------------------

@njit(cache=True)
def csr_from_edges(n, src, dst):
    """Counting sort of directed edges by source (stable): (indptr, indices, order).

    `indices` and `order` take the dtype of `dst` (int32 where the sizes allow: half the bytes
    of the network's largest arrays); `indptr` is int64.
    """
    m = src.shape[0]
    indptr = np.zeros(n + 1, np.int64)
    for e in range(m):
        indptr[src[e] + 1] += 1
    for i in range(n):
        indptr[i + 1] += indptr[i]
    fill = indptr[:-1].copy()
    indices = np.empty(m, dst.dtype)
    order = np.empty(m, dst.dtype)
    for e in range(m):
        pos = fill[src[e]]
        indices[pos] = dst[e]
        order[pos] = e
        fill[src[e]] += 1
    return indptr, indices, order


@njit(cache=True, inline="always")
def _wrap(k, nu):
    """`k % nu` without the division while the draws last (the usual case): same index."""
    return k if k < nu else k % nu


@njit(cache=True)
def tribal_powerlaw_cluster(tribe, slots, half_degree, triad_p, homophily, u):
    """Holme-Kim-style growth with tribes: returns (n, slots) targets, -1 where unused.

    Node v joins in index order and makes about `half_degree` ties to earlier nodes. Each tie
    closes a triangle with probability `triad_p` (a random target of the previous target; one
    in another tribe is accepted only with probability `1 - homophily`, so that triangle
    closure does not dilute homophily); otherwise it copies an endpoint: a random earlier node
    (of its own tribe with probability `homophily`) or, half the time, one of that node's
    targets, which gives preferential
    attachment and a heavy tail. Draws come from `u` in a fixed order (wrapping around).
    """
    n = tribe.shape[0]
    n_tribes = tribe.max() + 1 if n > 0 else 0
    targets = np.full((n, slots), -1, np.int64)
    # members of each tribe in index order, and each node's position among them
    count = np.zeros(n_tribes + 1, np.int64)
    for v in range(n):
        count[tribe[v] + 1] += 1
    for t in range(n_tribes):
        count[t + 1] += count[t]
    members = np.empty(n, np.int64)
    pos = np.empty(n, np.int64)
    fill = count[:-1].copy()
    for v in range(n):
        t = tribe[v]
        members[fill[t]] = v
        pos[v] = fill[t] - count[t]
        fill[t] += 1
    nu = u.shape[0]
    k_u = 0
    base_m = int(math.floor(half_degree))
    frac = half_degree - base_m
    for v in range(n):
        m_v = base_m
        if u[_wrap(k_u, nu)] < frac:
            m_v += 1
        k_u += 1
        if m_v > slots:
            m_v = slots
        last = -1
        filled = 0
        for _k in range(m_v):
            for _attempt in range(8):
                cand = -1
                triad = False
                r = u[_wrap(k_u, nu)]
                k_u += 1
                if last >= 0 and r < triad_p:
                    j = int(u[_wrap(k_u, nu)] * slots)
                    k_u += 1
                    cand = targets[last, j]
                    triad = True
                else:
                    r2 = u[_wrap(k_u, nu)]
                    k_u += 1
                    t = tribe[v]
                    if r2 < homophily and pos[v] > 0:
                        base = members[count[t] + int(u[_wrap(k_u, nu)] * pos[v])]
                        k_u += 1
                    elif v > 0:
                        base = int(u[_wrap(k_u, nu)] * v)
                        k_u += 1
                    else:
                        break
                    if u[_wrap(k_u, nu)] < 0.5:
                        cand = base
                    else:
                        cand = targets[base, int(u[_wrap(k_u + 1, nu)] * slots)]
                        if cand < 0:
                            cand = base
                    k_u += 2
                if cand < 0 or cand == v:
                    continue
                if triad and tribe[cand] != tribe[v]:
                    # a triangle across tribes is kept only as often as homophily allows
                    accept = u[_wrap(k_u, nu)] < 1.0 - homophily
                    k_u += 1
                    if not accept:
                        continue
                dup = False
                for q in range(filled):
                    if targets[v, q] == cand:
                        dup = True
                if dup:
                    continue
                targets[v, filled] = cand
                filled += 1
                last = cand
                break
    return targets


# -- 1. culture ---------------------------------------------------------------------------------

def _culture(col, org, p, out):
    """Friedkin-Johnsen step of each colleague's personality: own anchor, manager, peers
    (silo-weighted ties), brand. Writes the new personalities into `out` (c, d)."""
    personality = col.personality
    personality0 = col.personality0
    manager = col.manager
    indptr = org.indptr
    indices = org.indices
    weight = org.weight
    brand = p.brand
    top_down = p.top_down
    brand_pull = p.brand_pull
    self_weight = p.self_weight
    peer_weight = p.peer_weight
    s = p.stubbornness
    n, dims = personality.shape
    for i in prange(n):
        deg = indptr[i + 1] - indptr[i]
        wsum = self_weight + brand_pull[i]
        acc = np.empty(dims)
        for k in range(dims):
            acc[k] = self_weight * personality[i, k] + brand_pull[i] * brand[k]
        m = manager[i]
        if m >= 0:
            wsum += top_down[i]
            for k in range(dims):
                acc[k] += top_down[i] * personality[m, k]
        if deg > 0:
            scale = peer_weight / deg
            for e in range(indptr[i], indptr[i + 1]):
                w = weight[e] * scale
                j = indices[e]
                wsum += w
                for k in range(dims):
                    acc[k] += w * personality[j, k]
        for k in range(dims):
            out[i, k] = s * personality0[i, k] + (1.0 - s) * acc[k] / wsum


culture = _jit(_culture, parallel=True)
culture_serial = _jit(_culture)


@_rule
def asked_pressure(pressure, cx_weight, control):
    """The pressure a colleague is asked to work under: productivity pressure not offset by CX
    metrics, tightened by the unit manager's control (a manager chasing scores is itself the
    CX-metrics regime gone wrong)."""
    asked = pressure * (1.0 - cx_weight)
    return asked + control * (1.0 - asked)


@_rule
def headroom_target(empowerment, felt, training, aptitude, p):
    """The headroom a colleague would use: empowerment less what felt pressure and training
    time take, times aptitude, within 0..1 (p: EngagementParams)."""
    room = empowerment * (1.0 - p.headroom_pressure_loss * felt) * (
        1.0 - p.training_cost_headroom * training)
    return min(1.0, max(0.0, room * aptitude))


def _practice(col, p, felt_out, headroom_out):
    """How each colleague works (habit, role modelling): felt pressure and headroom in use move
    a share `habit_rate` of the way each week toward what the levers now ask, shifted by how far
    the colleague's own manager still works the old way last week (`role_modelling` of the
    manager's lag), so a change made at the top reaches the front line level by level.

    Reads `col.pressure`, `col.headroom` (last week); writes this week's into `felt_out` and
    `headroom_out` (c,)."""
    felt = col.pressure
    headroom = col.headroom
    aptitude = col.aptitude
    manager = col.manager
    pressure = p.productivity_pressure
    cx_weight = p.cx_metrics_weight
    control = p.control
    empowerment = p.empowerment
    training = p.training
    n = felt.shape[0]
    for i in prange(n):
        target_f = asked_pressure(pressure[i], cx_weight[i], control[i])
        m = manager[i]
        lag_f = 0.0
        lag_h = 0.0
        if m >= 0:
            lag_f = felt[m] - asked_pressure(pressure[m], cx_weight[m], control[m])
            lag_h = headroom[m] - headroom_target(empowerment[m], felt[m], training[m],
                                                  aptitude[m], p)
        target_f = min(1.0, max(0.0, target_f + p.role_modelling * lag_f))
        f = felt[i] + p.habit_rate * (target_f - felt[i])
        target_h = headroom_target(empowerment[i], f, training[i], aptitude[i], p)
        target_h = min(1.0, max(0.0, target_h + p.role_modelling * lag_h))
        felt_out[i] = f
        headroom_out[i] = headroom[i] + p.habit_rate * (target_h - headroom[i])


practice = _jit(_practice, parallel=True)
practice_serial = _jit(_practice)


def _engagement_step(col, org, p, circumstance, level_out, out):
    """The usual engagement level moves toward a target set by the person's own trait, how
    colleagues work (felt pressure and headroom in use, `practice`), pay, co-creation, their
    manager, the customers served and overload, and toward peers' usual level (emotional
    contagion); this week's engagement is that level moved by the week's circumstances
    (`circumstance` (c,) standard normal, times `p.week_spread`). Writes the new level into
    `level_out` and this week's engagement into `out` (c,)."""
    level = col.engagement_level
    manager = col.manager_quality
    trait = col.engagement_trait
    headroom = col.headroom
    felt = col.pressure
    mirror = col.mirror
    overload = col.overload
    indptr = org.indptr
    indices = org.indices
    weight = org.weight
    n = level.shape[0]
    pay = p.pay_alignment
    co_creation = p.co_creation
    for i in prange(n):
        base = p.base + p.w_pay * pay[i] + p.w_co_creation * co_creation[i]
        target = base + manager[i] + trait[i] - p.w_pressure * felt[i] \
            + p.w_empowerment * headroom[i] + p.w_mirror * (mirror[i] - NEUTRAL) \
            - p.w_workload * overload[i]
        target = min(1.0, max(0.0, target))
        e = level[i]
        new = e + p.rate * (target - e)
        ws = 0.0
        acc = 0.0
        for k in range(indptr[i], indptr[i + 1]):
            w = weight[k]
            ws += w
            acc += w * level[indices[k]]
        if ws > 0.0:
            new += p.rate * p.peers * (acc / ws - e)
        new = min(1.0, max(0.0, new))
        level_out[i] = new
        out[i] = min(1.0, max(0.0, new + p.week_spread * circumstance[i]))


engagement_step = _jit(_engagement_step, parallel=True)
engagement_step_serial = _jit(_engagement_step)


# -- 2. service ---------------------------------------------------------------------------------

@njit(cache=True)
def select_contacts(status, pending, key, p):
    """Indices of active customers who contact the company this week (ascending): those
    whose draw (`rng.uniform(key, i)`, computed for active customers only) is under the
    contact rate, or under `p.recontact` when an issue of theirs is still open (`pending` >
    0: failure demand).

    One pass into an n-slot buffer that is never filled (only the pages written to are
    touched), then a copy of the m used slots.
    """
    n = status.shape[0]
    buf = np.empty(n, np.int64)
    m = 0
    for i in range(n):
        buf[m] = i
        if status[i] == ACTIVE:
            rate = p.recontact if pending[i] > 0 else p.rate
            m += uniform(key, i) < rate
    return buf[:m].copy()


@_rule
def staffed_channel(ch, indptr):
    """The channel that serves a contact asked of channel `ch`: `ch` itself when any of its
    front-line posts is filled (`indptr`: the channel pools' CSR offsets), else the contact
    centre, else the stores, else digital; -1 when no front-line post is filled at all."""
    if indptr[ch + 1] > indptr[ch]:
        return ch
    if indptr[CONTACT_CENTRE + 1] > indptr[CONTACT_CENTRE]:
        return CONTACT_CENTRE
    if indptr[STORE + 1] > indptr[STORE]:
        return STORE
    if indptr[DIGITAL + 1] > indptr[DIGITAL]:
        return DIGITAL
    return -1


@njit(cache=True)
def assign_contacts(con, cus, col, pools, draws, p):
    """Pick each contact's channel (by preference) and the colleague who serves it.

    Writes `con.channel` and `con.colleague`. Store contacts go to the customer's home store
    (any store when every post of it is vacant); with probability `p.relationship` the
    customer is served by the same colleague as last time when that colleague serves the
    channel (and the store) and the post is not vacant. An issue that digital failed to
    resolve comes back to the contact centre. The pools hold only filled posts; a channel with
    none passes its contacts on (`staffed_channel`).
    """
    prefs = cus.prefs
    for k in range(con.customer.shape[0]):
        c = con.customer[k]
        total = prefs[c, 0] + prefs[c, 1] + (prefs[c, 2] if p.digital_on else 0.0)
        r = draws.channel[k] * total
        if r < prefs[c, 0]:
            ch = STORE
        elif r < prefs[c, 0] + prefs[c, 1] or not p.digital_on:
            ch = CONTACT_CENTRE
        else:
            ch = DIGITAL
        if cus.pending[c] > 0 and cus.pending_channel[c] == DIGITAL:
            ch = CONTACT_CENTRE
        ch = staffed_channel(ch, pools.channel_indptr)
        if ch < 0:  # every front-line post vacant: the first colleague (a leader) answers
            con.colleague[k] = 0
            con.channel[k] = CONTACT_CENTRE
            continue
        last = cus.last_colleague[c]
        t = cus.home_store[c]
        size = pools.team_indptr[t + 1] - pools.team_indptr[t]
        if (last >= 0 and draws.relationship[k] < p.relationship and col.channel[last] == ch
                and col.vacant[last] == 0 and (ch != STORE or col.team[last] == t)):
            chosen = last
        elif ch == STORE and size > 0:
            chosen = pools.team_members[pools.team_indptr[t] + int(draws.pick[k] * size)]
        else:
            size = pools.channel_indptr[ch + 1] - pools.channel_indptr[ch]
            chosen = pools.channel_members[pools.channel_indptr[ch] + int(draws.pick[k] * size)]
        con.colleague[k] = chosen
        con.channel[k] = ch


def _service(con, draws, cus, col, chain_q, p, rp):
    """Experience and resolution of each contact (into `con`); updates the personality each
    customer has met so far (`cus.met_mean`, `cus.met_spread`) and the customer's open issue
    (`cus.pending`, `cus.pending_channel`). `chain_q` (3,): quality of each channel's process
    chain; `rp`: ResolutionParams.

    A contact resolves the issue with `resolution_probability` (digital mostly by self-service,
    which resolves as far as the front end works); an unresolved one costs `unresolved_penalty`
    of experience and leaves the issue open, unless the customer gives up on it (chance 1 -
    `persistence`). A resolved one is then delivered by the channel's process chain with
    probability `chain_q`; an undelivered one (`con.undelivered`) is open again and chased the
    same way (`chases`).
    A repeat contact starts `repeat_penalty` lower per earlier failed attempt.
    """
    customer = con.customer
    colleague = con.colleague
    channel = con.channel
    experience = con.experience
    homophily = con.homophily
    inconsistency = con.inconsistency
    attempt = con.attempt
    resolved = con.resolved
    undelivered = con.undelivered
    noise = draws.noise
    failure = draws.failure
    u_resolve = draws.resolve
    fulfil = draws.fulfil
    pending = cus.pending
    pending_channel = cus.pending_channel
    tenure = col.tenure
    overload = col.overload
    cust_personality = cus.personality
    met_mean = cus.met_mean
    met_spread = cus.met_spread
    col_personality = col.personality
    engagement = col.engagement
    headroom = col.headroom
    felt = col.pressure
    brand = p.brand
    for k in prange(customer.shape[0]):
        c = customer[k]
        j = colleague[k]
        ch = channel[k]
        h = similarity(col_personality[j], cust_personality[c], p.bandwidth)
        fit = similarity(col_personality[j], brand, p.bandwidth)
        x = (p.w_engagement * engagement[j] + p.w_brand_fit * fit
             + p.w_empowerment * headroom[j] + p.w_homophily * h
             + p.w_process * chain_q[ch] - p.rush_penalty * felt[j] + p.noise * noise[k])
        a = pending[c]
        prob = resolution_probability(skill_level(tenure[j], rp), headroom[j], chain_q[ch],
                                      felt[j], overload[j], a, rp)
        if ch == DIGITAL:
            x = (1.0 - p.digital_self_service) * x + p.digital_self_service * (
                min(p.digital_front_end, chain_q[ch]) + p.noise * noise[k])
            prob = ((1.0 - p.digital_self_service) * prob
                    + p.digital_self_service * p.digital_front_end)
        if p.shock_active and (ch == p.shock_channel or (p.shock_channel < 0
                                                           and failure[k] < p.shock_share)):
            x = min(x, 1.0) - p.shock_severity  # severity is lost from a 0..1 experience
        u = u_resolve[k]
        ok = u < prob
        chase = chases(u, prob, fulfil[k], chain_q[ch], rp.persistence)
        x -= rp.repeat_penalty * a + (0.0 if ok else rp.unresolved_penalty)
        experience[k] = min(1.0, max(0.0, x))
        attempt[k] = a
        resolved[k] = ok
        undelivered[k] = ok and delivery_fails(fulfil[k], chain_q[ch])
        pending[c] = a + 1 if chase else 0
        pending_channel[c] = ch if chase else -1
        homophily[k] = h
        if met_spread[c] < 0.0:  # first touchpoint: nothing to be inconsistent with
            d = 0.0
            for q in range(met_mean.shape[1]):
                met_mean[c, q] = col_personality[j, q]
            met_spread[c] = 0.0
        else:
            d = distance(col_personality[j], met_mean[c])
            r = p.consistency_rate
            for q in range(met_mean.shape[1]):
                met_mean[c, q] += r * (col_personality[j, q] - met_mean[c, q])
            met_spread[c] += r * (d - met_spread[c])
        inconsistency[k] = d


service = _jit(_service, parallel=True)
service_serial = _jit(_service)


# -- 3. perception ------------------------------------------------------------------------------

def _perception(con, cus, col, p):
    """Disconfirmation -> satisfaction (into `con.satisfaction`), emotional memory (bad > good,
    peak-end), trust (lost also to the distance between the colleague met and the customer's
    image of the brand: inconsistency, the say-do gap; and to a broken promise, a resolved
    contact the back office failed to deliver, `con.undelivered`, costing trust as an
    unresolved contact's badness would), felt empathy, expectation and the
    brand image (toward the personality met) of each customer contacted. A customer who was
    sold a product that does not fit finds out at this contact and loses trust; one sold such
    a product now will find out at the next (`con.sold`, `cus.missold`)."""
    customer = con.customer
    colleague = con.colleague
    experience = con.experience
    homophily = con.homophily
    satisfaction = con.satisfaction
    expectation = cus.expectation
    norm = cus.norm
    memory = cus.memory
    peak = cus.peak
    trust = cus.trust
    empathy = cus.empathy
    engagement = col.engagement
    col_personality = col.personality
    image = cus.image
    missold = cus.missold
    sold = con.sold
    undelivered = con.undelivered
    broken = min(1.0, p.trust_loss * p.negativity_bias * p.undelivered_badness)
    dims = image.shape[1]
    share = p.empathy_similarity_share
    for k in prange(customer.shape[0]):
        c = customer[k]
        j = colleague[k]
        x = experience[k]
        d = x - expectation[c]
        satisfaction[k] = 1.0 / (1.0 + math.exp(-p.slope * (d + p.tolerance)))
        v = d if d >= 0.0 else p.negativity_bias * d
        memory[c] += p.memory_rate * (v - memory[c])
        if abs(v) > abs(peak[c]):
            peak[c] = v
        t = trust[c]
        if d >= 0.0:
            t += p.trust_gain * (1.0 - t)
        else:
            t -= t * min(1.0, p.trust_loss * p.negativity_bias * (-d))
        gap = distance(col_personality[j], image[c])
        t -= t * min(1.0, p.inconsistency_penalty * gap)
        if undelivered[k]:  # a broken promise: found out, chased or not
            t -= t * broken
        if missold[c]:  # found out: what they were sold does not fit
            t -= t * p.misselling_trust_loss
        missold[c] = sold[k] == MISFIT
        trust[c] = min(1.0, max(0.0, t))
        for q in range(dims):
            image[c, q] += p.image_contact * (col_personality[j, q] - image[c, q])
        felt = share * homophily[k] + (1.0 - share) * engagement[j]
        empathy[c] += p.empathy_rate * (felt - empathy[c])
        expectation[c] += (p.expectation_adaptation * (x - expectation[c])
                           + p.expectation_anchor * (norm[c] - expectation[c]))


perception = _jit(_perception, parallel=True)
perception_serial = _jit(_perception)


# -- 4-5. the customers: attitude, word of mouth, adoption, churn, figures ----------------------

def _customer_pass_a(cus, col, net, keys, p):
    """Attitude (memories fade without contact, likelihood to recommend) and who speaks.

    Writes `cus.memory`, `cus.peak`, `cus.ltr`, `cus.speak`, and `cus.voice`
    (what each node passes on to the second hop: its share of the bad / good stories it heard
    first-hand last step).
    """
    fade = 1.0 - p.memory_decay
    peak_fade = 1.0 - p.peak_decay
    status = cus.status
    contacted = cus.contacted
    memory = cus.memory
    peak = cus.peak
    trust = cus.trust
    empathy = cus.empathy
    disposition = cus.disposition
    ltr = cus.ltr
    node_colleague = cus.node_colleague
    neg_prev = cus.neg_prev
    pos_prev = cus.pos_prev
    voice = cus.voice
    speak = cus.speak
    engagement = col.engagement
    indptr = net.indptr
    talk_key = keys.talk
    # branch-free (selects, every slot written): statuses and draws are scattered at random, so
    # branches on them are mispredicted; multiplying by 1.0 keeps a value exactly
    for i in prange(status.shape[0]):
        st = status[i]
        known = st != PROSPECT
        mem = memory[i] * (fade if known and not contacted[i] else 1.0)
        pk = peak[i] * (peak_fade if known else 1.0)
        memory[i] = mem
        peak[i] = pk
        score = ltr_score(affect(mem, pk, p.peak_weight), trust[i], empathy[i],
                          disposition[i], p)
        j = node_colleague[i]
        as_colleague = advocacy(score, engagement[max(j, 0)], p)
        score = as_colleague if j >= 0 else score
        x = min(10.0, max(0.0, score)) if known else LTR_MID
        ltr[i] = x
        di = indptr[i + 1] - indptr[i]
        # only customers who know the company can talk: the others draw nothing
        s = speaker(st, x, uniform(talk_key, i) if known else 1.0, p)
        speak[i] = s
        voice[i, 0] = s
        voice[i, 1] = neg_prev[i] / max(di, 1)
        voice[i, 2] = pos_prev[i] / max(di, 1)


customer_pass_a = _jit(_customer_pass_a, parallel=True)
customer_pass_a_serial = _jit(_customer_pass_a)


def _customer_hear(net, cus, p):
    """Word-of-mouth receipt: what each node hears from its neighbours this step.

    Writes `cus.heard_pos`, `cus.heard_neg` (own neighbours' voices plus the retold second
    hop of each valence), `cus.pos_now`, `cus.neg_now` (first-hand only, retold next step) and
    `cus.heard_image` (the sum of the brand images of the neighbours who spoke: word of mouth
    carries the teller's image).
    Kept apart from the per-node work of pass B on purpose: a lean
    gather loop like this one keeps many neighbour reads in flight; with pass B's body in the
    same loop (one pass fewer over the nodes) it measured about 1.2-1.4x slower than the two
    loops apart (1M customers, one core, also when interleaved in tiles of 256 nodes).
    """
    second_hop = p.second_hop
    indptr = net.indptr
    indices = net.indices
    voice = cus.voice
    heard_pos = cus.heard_pos
    heard_neg = cus.heard_neg
    pos_now = cus.pos_now
    neg_now = cus.neg_now
    image = cus.image
    heard_image = cus.heard_image
    dims = image.shape[1]
    for i in prange(indptr.shape[0] - 1):
        pos = 0
        neg = 0
        retold = 0.0
        retold_pos = 0.0
        for q in range(dims):
            heard_image[i, q] = 0.0
        for e in range(indptr[i], indptr[i + 1]):
            j = indices[e]
            sj = voice[j, 0]  # one node's three slots share a cache line: one miss, not three
            pos += sj > 0  # branch-free: speakers are scattered at random
            neg += sj < 0
            retold += voice[j, 1]
            retold_pos += voice[j, 2]
            if sj != 0:  # few speak: the image is read only for them
                for q in range(dims):
                    heard_image[i, q] += image[j, q]
        heard_pos[i] = pos + second_hop * retold_pos
        heard_neg[i] = neg + second_hop * retold
        pos_now[i] = pos
        neg_now[i] = neg


customer_hear = _jit(_customer_hear, parallel=True)
customer_hear_serial = _jit(_customer_hear)


def _customer_pass_b(cus, col, net, keys, step, p, fig):
    """What each node does about what it heard, churn, and the step's customer figures.

    Active customers' memory and expectation move with what they heard; prospects and churned
    customers adopt (Bass hazard); active customers acquired before this step churn. Fills
    `fig` (`state.CustomerFigures`: counts, sums with revenue, per-unit counts) in
    TOTAL_CHUNKS fixed chunks added in order, so the float sums do not depend on the number of
    threads.
    """
    status = cus.status
    memory = cus.memory
    peak = cus.peak
    expectation = cus.expectation
    norm = cus.norm
    trust = cus.trust
    empathy = cus.empathy
    disposition = cus.disposition
    ltr = cus.ltr
    value = cus.value
    heard_pos = cus.heard_pos
    heard_neg = cus.heard_neg
    adopted = cus.adopted
    churned = cus.churned
    acquired_step = cus.acquired_step
    met_spread = cus.met_spread
    last_colleague = cus.last_colleague
    personality = cus.personality
    image = cus.image
    heard_image = cus.heard_image
    pos_now = cus.pos_now
    neg_now = cus.neg_now
    promise = p.promise
    brand = p.brand
    team = col.team
    indptr = net.indptr
    adopt_key = keys.adopt
    churn_key = keys.churn
    n = status.shape[0]
    dims = image.shape[1]
    n_teams = fig.units.shape[1]
    nc = TOTAL_CHUNKS
    counts = np.zeros((nc, 6), np.int64)
    sums = np.zeros((nc, 7))
    units = np.zeros((nc, 3, n_teams), np.int64)
    images = np.zeros((nc, 7, n_teams + 1))
    size = (n + nc - 1) // nc
    for c in prange(nc):
        lo = c * size
        hi = min(n, lo + size)
        n_act = n_pro = n_chu = n_prom = n_det = n_seen = 0
        s_spread = s_trust = s_emp = s_exp = s_pos = s_neg = 0.0
        rev = 0.0
        for i in range(lo, hi):
            # word of mouth: mostly selects, every slot written (statuses are scattered at
            # random, branches on them mispredicted)
            pos = heard_pos[i]
            neg_total = heard_neg[i]
            deg = max(indptr[i + 1] - indptr[i], 1)  # pos = neg_total = 0 without ties
            st = status[i]
            share_pos = pos / deg
            share_neg = neg_total / deg
            was_active = st == ACTIVE
            # the brand image: advertising and the tellers' images, then its pull
            speakers = pos_now[i] + neg_now[i]
            for q in range(dims):
                image[i, q] = image_shift(image[i, q], promise[q], heard_image[i, q], speakers,
                                          deg, p)
            congruity = self_congruity(image[i], personality[i], p)
            hazard = adoption_hazard(share_pos, share_neg, st == CHURNED, congruity, p)
            adopt = (not was_active) and uniform(adopt_key, i) < hazard
            said = heard_shift(share_pos, share_neg, p)
            mem = memory[i]
            ex = expectation[i]
            mem = mem + said if was_active else (said if adopt else mem)
            ex = lifted_expectation(ex, share_pos, p) if was_active else (
                lifted_expectation(norm[i], share_pos, p) if adopt else ex)
            memory[i] = mem
            expectation[i] = ex
            adopted[i] = adopt
            if adopt:  # rare
                st = ACTIVE
                status[i] = ACTIVE
                acquired_step[i] = step
                peak[i] = 0.0
                trust[i] = p.trust_initial
                empathy[i] = p.empathy_initial
            # churn (exp only where it can happen)
            left = False
            tr = trust[i]
            if was_active and acquired_step[i] != step:
                prob = churn_probability(affect(mem, peak[i], p.peak_weight), tr, disposition[i],
                                         congruity, p)
                left = uniform(churn_key, i) < prob
                if left:  # rare
                    st = CHURNED
                    status[i] = CHURNED
            churned[i] = left
            # figures and revenue: masked sums (adding 0.0 leaves a sum as it is)
            act = st == ACTIVE
            s_pos += pos
            s_neg += neg_total
            n_chu += left
            n_pro += st == PROSPECT
            n_act += act
            x = ltr[i]
            prom = act & (x >= PROMOTER_MIN)
            det = act & (x < DETRACTOR_MAX)
            n_prom += prom
            n_det += det
            ms = met_spread[i]
            seen = act & (ms >= 0.0)
            n_seen += seen
            s_spread += ms if seen else 0.0
            s_trust += tr if act else 0.0
            s_emp += empathy[i] if act else 0.0
            s_exp += ex if act else 0.0
            rev += spend(value[i], x, p) if act else 0.0
            jc = last_colleague[i]
            if act:
                far = distance(image[i], brand)
                sq = 0.0
                for q in range(dims):
                    sq += image[i, q] * image[i, q]
                # the company column, then the unit's (customers never served have none)
                for r in range(2 if jc >= 0 else 1):
                    u = n_teams if r == 0 else team[jc]
                    images[c, I_DISTANCE, u] += far
                    images[c, I_SQUARED, u] += sq
                    for q in range(dims):
                        images[c, I_X + q, u] += image[i, q]
                if jc >= 0:
                    t = team[jc]
                    units[c, U_CUSTOMERS, t] += 1
                    units[c, U_PROMOTERS, t] += prom
                    units[c, U_DETRACTORS, t] += det
        counts[c, T_ACTIVE] = n_act
        counts[c, T_PROSPECTS] = n_pro
        counts[c, T_CHURNED] = n_chu
        counts[c, T_PROMOTERS] = n_prom
        counts[c, T_DETRACTORS] = n_det
        counts[c, T_SEEN] = n_seen
        sums[c, S_SPREAD] = s_spread
        sums[c, S_TRUST] = s_trust
        sums[c, S_EMPATHY] = s_emp
        sums[c, S_EXPECTATION] = s_exp
        sums[c, S_HEARD_POS] = s_pos
        sums[c, S_HEARD_NEG] = s_neg
        sums[c, S_REVENUE] = rev
    _sum_chunks(counts, sums, units, images, fig)


customer_pass_b = _jit(_customer_pass_b, parallel=True)
customer_pass_b_serial = _jit(_customer_pass_b)


@njit(cache=True)
def _sum_chunks(counts, sums, units, images, fig):
    """Add the per-chunk figures in chunk order into `fig`: totals independent of threads."""
    fig.counts[:] = 0
    fig.sums[:] = 0.0
    fig.units[:] = 0
    fig.images[:] = 0.0
    for c in range(counts.shape[0]):
        for k in range(images.shape[1]):
            for t in range(images.shape[2]):
                fig.images[k, t] += images[c, k, t]
        for k in range(counts.shape[1]):
            fig.counts[k] += counts[c, k]
        for k in range(sums.shape[1]):
            fig.sums[k] += sums[c, k]
        for k in range(units.shape[1]):
            for t in range(units.shape[2]):
                fig.units[k, t] += units[c, k, t]


# -- 6. staff -----------------------------------------------------------------------------------

@njit(cache=True)
def filled_team_engagement(engagement, team, vacant):
    """Mean engagement of the filled posts of each team (teams numbered 0..max; 0 for a team
    with none)."""
    n_teams = team.max() + 1
    total = np.zeros(n_teams)
    count = np.zeros(n_teams)
    for i in range(engagement.shape[0]):
        if vacant[i] == 0:
            total[team[i]] += engagement[i]
            count[team[i]] += 1.0
    for t in range(n_teams):
        total[t] = total[t] / count[t] if count[t] > 0 else 0.0
    return total


@njit(cache=True)
def staff(col, draws, cus, p):
    """Colleagues leave as their usual engagement falls (not on one bad week); the post stays
    vacant for `draws.vacancy` weeks, then an onboarding hire starts.

    A hire is unaligned (a draw from the labour market) or, with hiring for fit, similar to
    the customer `draws.hire_customer` names, with an engagement trait of their own; the hire
    takes on the unit's usual engagement (the mean of its filled posts before this week's
    departures) plus the honeymoon `onboarding_lift`, with no tenure (so the skill of a new
    hire). A vacant post counts down and cannot leave.
    Writes `col.left` (left this week) and `col.vacant`.
    """
    dims = col.personality.shape[1]
    mood = filled_team_engagement(col.engagement_level, col.team, col.vacant)
    for i in range(col.engagement.shape[0]):
        hire = False
        if col.vacant[i] > 0:
            col.vacant[i] -= 1
            col.left[i] = False
            hire = col.vacant[i] == 0
        elif draws.leave[i] < attrition_probability(col.engagement_level[i], col.tenure[i], p):
            col.left[i] = True
            col.tenure[i] = 0
            col.vacant[i] = draws.vacancy[i]
            hire = col.vacant[i] == 0
        else:
            col.left[i] = False
            col.tenure[i] += 1
        if hire:
            c = draws.hire_customer[i]
            for k in range(dims):
                v = hire_trait(draws.hire_noise[i, k], cus.personality[c, k], p)
                col.personality[i, k] = v
                col.personality0[i, k] = v
            col.engagement_trait[i] = p.engagement_trait_spread * draws.hire_engagement[i]
            col.engagement_level[i] = min(1.0, max(0.0, mood[col.team[i]] + p.onboarding_lift))
            col.engagement[i] = col.engagement_level[i]
            col.tenure[i] = 0
            col.mirror[i] = NEUTRAL


# -- 7. learning --------------------------------------------------------------------------------

@njit(cache=True)
def learning(proc, complaints, contacts, col, p):
    """Complaints feed back into the process steps behind each channel and lift those involved;
    each step's delivered quality follows the department that runs it.

    `complaints`, `contacts` (3,): this step's per channel. A complaint reaches the step's
    owner across a department boundary, so silos slow the learning (`p.across`). The quality a
    step delivers next week (`proc.effective`) is its process quality moved by the mean
    engagement of the department's filled posts and lowered by its overload: the cases through
    the step (this week's contacts of the channels that use it) beyond what the filled posts
    handle (`delivered_quality`). Updates `proc.quality`, `proc.effective`,
    `col.engagement_level` and `col.engagement` (being listened to lifts the usual level and,
    from now, this week's).
    """
    quality = proc.quality
    effective = proc.effective
    chain = proc.chain
    n_steps = quality.shape[0]
    share = np.zeros(n_steps)
    demand = np.zeros(n_steps)
    for s in range(n_steps):
        c = 0.0
        t = 0.0
        for ch in range(chain.shape[0]):
            if chain[ch, s]:
                c += complaints[ch]
                t += contacts[ch]
        share[s] = c / t if t > 0 else 0.0
        demand[s] = t
        q = quality[s]
        q += p.learning_rate * p.intensity * p.across * share[s] * (1.0 - q)
        q += p.decay * (proc.quality0[s] - q)
        quality[s] = min(1.0, max(0.0, q))
        effective[s] = quality[s]
    n_dept = proc.department_step.shape[0]
    eng = np.zeros(n_dept)
    staffed = np.zeros(n_dept)
    for i in range(col.engagement.shape[0]):
        if col.vacant[i] == 0:
            eng[col.department[i]] += col.engagement[i]
            staffed[col.department[i]] += 1.0
    for d in range(n_dept):
        s = proc.department_step[d]
        if s < 0:
            continue
        if staffed[d] > 0:
            over = max(0.0, demand[s] / (staffed[d] * p.backoffice_capacity) - 1.0)
            effective[s] = delivered_quality(quality[s], eng[d] / staffed[d], over, p)
        elif demand[s] > 0:
            effective[s] = 0.0  # nobody runs the step
    if p.intensity <= 0.0 or p.engagement_lift <= 0.0:
        return
    level = col.engagement_level
    engagement = col.engagement
    for i in range(level.shape[0]):
        lift = 0.0
        s = proc.department_step[col.department[i]]
        if s >= 0:
            lift = share[s]
        if col.complaints[i] > 0:
            lift = 1.0
        if lift > 0.0:
            a = p.engagement_lift * p.intensity * lift
            level[i] += a * (1.0 - level[i])
            engagement[i] += a * (1.0 - engagement[i])
