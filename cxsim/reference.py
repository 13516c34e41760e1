"""Plain numpy twins of the kernels: the specification of each rule, written for reading.

Each function takes the same arguments as its kernel in `cxsim.kernels` and has the same effect.
`CXModel(..., engine="reference")` runs the whole model on these.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .kernels import (
    ACTIVE,
    CHURNED,
    CONTACT_CENTRE,
    DETRACTOR_MAX,
    DIGITAL,
    PROMOTER_MIN,
    PROSPECT,
    STORE,
)


def similarity(a: np.ndarray, b: np.ndarray, bandwidth: float) -> np.ndarray:
    """Gaussian similarity of personality vectors (last axis): 1 when equal."""
    d2 = np.sum((np.asarray(a) - np.asarray(b)) ** 2, axis=-1)
    return np.exp(-d2 / (2.0 * bandwidth * bandwidth))


def distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sqrt(np.sum((np.asarray(a) - np.asarray(b)) ** 2, axis=-1))


def _matrix(indptr, indices, data=None):
    n = len(indptr) - 1
    if data is None:
        data = np.ones(len(indices))
    return sp.csr_matrix((data, indices, indptr), shape=(n, n))


# -- networks -----------------------------------------------------------------------------------

def csr_from_edges(n, src, dst):
    order = np.argsort(src, kind="stable")
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
    return indptr, dst[order].astype(np.int64), order.astype(np.int64)


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

def culture(personality, personality0, manager, top_down_w, brand_w, brand, indptr, indices,
            edge_w, p, out):
    deg = np.diff(indptr).astype(float)
    scale = np.divide(p.peer_weight, deg, out=np.zeros_like(deg), where=deg > 0)
    row = np.repeat(np.arange(len(deg)), np.diff(indptr))
    w = edge_w * scale[row]
    peers = _matrix(indptr, indices, w)
    has_mgr = manager >= 0
    td = np.where(has_mgr, top_down_w, 0.0)
    acc = (p.self_weight * personality + brand_w[:, None] * brand[None, :]
           + td[:, None] * personality[np.where(has_mgr, manager, 0)] + peers @ personality)
    wsum = p.self_weight + brand_w + td + np.asarray(peers.sum(axis=1)).ravel()
    out[:] = p.stubbornness * personality0 + (1 - p.stubbornness) * acc / wsum[:, None]


def engagement_step(engagement, aptitude, mirror, overload, indptr, indices, edge_w, p,
                    headroom_out, out):
    pressure = p.productivity_pressure * (1 - p.cx_metrics_weight)
    room = p.empowerment * (1 - p.headroom_pressure_loss * pressure) * (
        1 - p.training_cost_headroom * p.training)
    base = (p.base - p.w_pressure * pressure + p.w_pay * p.pay_alignment
            + p.w_co_creation * p.co_creation)
    h = np.clip(room * aptitude, 0, 1)
    target = np.clip(base + p.w_empowerment * h + p.w_mirror * (mirror - 0.5)
                     - p.w_workload * overload, 0, 1)
    a = _matrix(indptr, indices, edge_w)
    ws = np.asarray(a.sum(axis=1)).ravel()
    peer_mean = np.divide(a @ engagement, ws, out=engagement.copy(), where=ws > 0)
    new = engagement + p.rate * (target - engagement) + np.where(
        ws > 0, p.rate * p.peers * (peer_mean - engagement), 0.0)
    headroom_out[:] = h
    out[:] = np.clip(new, 0, 1)


# -- 2. service ---------------------------------------------------------------------------------

def assign_contacts(contacts, prefs, home_store, last_colleague, colleague_team,
                    colleague_channel, team_indptr, team_members, pool_indptr, pool_members,
                    relationship, digital_on, u_channel, u_rel, u_pick):
    pr = prefs[contacts]
    total = pr[:, 0] + pr[:, 1] + (pr[:, 2] if digital_on else 0.0)
    r = u_channel * total
    ch = np.where(r < pr[:, 0], STORE,
                  np.where((r < pr[:, 0] + pr[:, 1]) | (not digital_on), CONTACT_CENTRE, DIGITAL))
    empty = pool_indptr[ch + 1] == pool_indptr[ch]
    ch = np.where(empty, CONTACT_CENTRE, ch)
    last = last_colleague[contacts]
    safe_last = np.maximum(last, 0)
    keep = ((last >= 0) & (u_rel < relationship) & (colleague_channel[safe_last] == ch)
            & ((ch != STORE) | (colleague_team[safe_last] == home_store[contacts])))
    t = home_store[contacts]
    store_pick = team_members[np.minimum(
        team_indptr[t] + (u_pick * (team_indptr[t + 1] - team_indptr[t])).astype(np.int64),
        len(team_members) - 1)]
    pool_pick = pool_members[np.minimum(
        pool_indptr[ch] + (u_pick * (pool_indptr[ch + 1] - pool_indptr[ch])).astype(np.int64),
        len(pool_members) - 1)]
    colleague = np.where(keep, last, np.where(ch == STORE, store_pick, pool_pick))
    return colleague.astype(np.int64), ch.astype(np.int64)


def service(contacts, colleague, channel, noise, u_fail, cust_personality, col_personality,
            col_engagement, headroom, brand, chain_q, met_mean, met_spread, p,
            experience, homophily, inconsistency):
    rush = p.rush_penalty * p.productivity_pressure * (1 - p.cx_metrics_weight)
    cp, kp = col_personality[colleague], cust_personality[contacts]
    h = similarity(cp, kp, p.bandwidth)
    fit = similarity(cp, brand, p.bandwidth)
    q = chain_q[channel]
    x = (p.w_engagement * col_engagement[colleague] + p.w_brand_fit * fit
         + p.w_empowerment * headroom[colleague] + p.w_homophily * h + p.w_process * q
         - rush + p.noise * noise)
    digital = channel == DIGITAL
    x = np.where(digital, (1 - p.digital_self_service) * x + p.digital_self_service * (
        np.minimum(p.digital_front_end, q) + p.noise * noise), x)
    if p.shock_active:
        hit = (channel == p.shock_channel) | ((p.shock_channel < 0) & (u_fail < p.shock_share))
        x = np.where(hit, x - p.shock_severity, x)
    experience[:] = np.clip(x, 0, 1)
    homophily[:] = h
    first = met_spread[contacts] < 0
    d = np.where(first, 0.0, distance(cp, met_mean[contacts]))
    r = p.consistency_rate
    mm, ms = met_mean[contacts], met_spread[contacts]
    met_mean[contacts] = np.where(first[:, None], cp, mm + r * (cp - mm))
    met_spread[contacts] = np.where(first, 0.0, ms + r * (d - ms))
    inconsistency[:] = d


def select_contacts(status, u, contact_rate):
    """Indices of active customers whose draw is under the contact rate (ascending)."""
    return np.flatnonzero((status == ACTIVE) & (u < contact_rate))


# -- 3. perception ------------------------------------------------------------------------------

def perception(contacts, experience, homophily, inconsistency, served_engagement, expectation,
               memory, peak, trust, empathy, p, satisfaction):
    c = contacts
    x = experience
    d = x - expectation[c]
    satisfaction[:] = 1 / (1 + np.exp(-p.slope * (d + p.tolerance)))
    v = np.where(d >= 0, d, p.negativity_bias * d)
    memory[c] += p.memory_rate * (v - memory[c])
    peak[c] = np.where(np.abs(v) > np.abs(peak[c]), v, peak[c])
    t = trust[c]
    t = np.where(d >= 0, t + p.trust_gain * (1 - t),
                 t - t * np.minimum(1, p.trust_loss * p.negativity_bias * -d))
    t = t - t * np.minimum(1, p.trust_gain * p.inconsistency_penalty * inconsistency)
    trust[c] = np.clip(t, 0, 1)
    felt = 0.5 * homophily + 0.5 * served_engagement
    empathy[c] += p.empathy_rate * (felt - empathy[c])
    expectation[c] += (p.expectation_adaptation * (x - expectation[c])
                       + p.expectation_anchor * (p.expectation_norm - expectation[c]))


def attitude(status, contacted, memory, peak, trust, empathy, disposition, node_colleague,
             col_engagement, p, ltr):
    known = status != PROSPECT
    memory[known & ~contacted] *= 1 - p.memory_decay
    peak[known] *= 1 - p.peak_decay
    affect = (1 - p.peak_weight) * memory + p.peak_weight * peak
    score = (5 + p.ltr_memory * affect + p.ltr_trust * (trust - 0.5)
             + p.ltr_empathy * (empathy - 0.5) + p.ltr_bias + p.ltr_spread * disposition)
    j = node_colleague
    score = np.where(j >= 0, (1 - p.colleague_advocacy) * score
                     + p.colleague_advocacy * 10 * col_engagement[np.maximum(j, 0)], score)
    ltr[:] = np.where(known, np.clip(score, 0, 10), 5.0)


# -- 4. word of mouth ---------------------------------------------------------------------------

def wom(indptr, indices, status, ltr, u_talk, u_adopt, neg_prev, memory, peak, expectation,
        trust, empathy, acquired_step, step, amplification, p, speak, heard_pos, heard_neg,
        neg_now, adopted, told=None):
    pt = min(1.0, p.promoter_talk * amplification)
    dt = min(1.0, p.detractor_talk * amplification)
    active, churned = status == ACTIVE, status == CHURNED
    pos_speaker = active & (ltr >= PROMOTER_MIN) & (u_talk < pt)
    neg_speaker = ((active & (ltr < PROMOTER_MIN) & (ltr < DETRACTOR_MAX) & (u_talk < dt))
                   | (churned & (ltr < DETRACTOR_MAX) & (u_talk < dt * p.churned_talk)))
    speak[:] = np.where(pos_speaker, 1, np.where(neg_speaker, -1, 0))
    a = _matrix(indptr, indices)
    pos = a @ (speak > 0).astype(float)
    neg = a @ (speak < 0).astype(float)
    deg = np.diff(indptr)
    retold = a @ (neg_prev / np.maximum(deg, 1))
    neg_total = neg + p.second_hop * retold
    heard_pos[:] = pos
    heard_neg[:] = neg_total
    neg_now[:] = neg
    safe = np.maximum(deg, 1)
    share_pos = np.where(deg > 0, pos / safe, 0.0)
    share_neg = np.where(deg > 0, neg_total / safe, 0.0)
    memory[active] += p.attitude_weight * (share_pos - share_neg)[active]
    expectation[active] = np.minimum(
        1, expectation[active] + p.expectation_weight * share_pos[active])
    hazard = p.marketing + p.adoption_q * share_pos - p.detractor_repel * share_neg
    hazard = np.where(churned, hazard * p.winback, hazard)
    new = ~active & (u_adopt < hazard)
    adopted[:] = new
    status[new] = ACTIVE
    acquired_step[new] = step
    memory[new] = p.attitude_weight * (share_pos - share_neg)[new]
    peak[new] = 0.0
    expectation[new] = np.minimum(1, p.expectation_norm + p.expectation_weight * share_pos[new])
    trust[new] = p.trust_initial
    empathy[new] = p.empathy_initial


# -- 5. churn -----------------------------------------------------------------------------------

def churn(status, memory, peak, trust, u, acquired_step, step, p, churned):
    affect = (1 - p.peak_weight) * memory + p.peak_weight * peak
    prob = p.base * np.exp(-p.memory_sensitivity * affect - p.trust_sensitivity * (trust - 0.5))
    leave = (status == ACTIVE) & (acquired_step != step) & (u < prob)
    status[leave] = CHURNED
    churned[:] = leave


# -- 6. staff -----------------------------------------------------------------------------------

def staff(engagement, tenure, personality, personality0, mirror, u_leave, hire_noise,
          hire_customer, cust_personality, p, left):
    prob = p.attrition_base * np.exp(-p.attrition_engagement * (engagement - 0.5)) / (
        1 + p.tenure_protection * tenure)
    leave = u_leave < prob
    market = p.market_centre + p.personality_spread * hire_noise
    fit = cust_personality[hire_customer] + 0.25 * p.personality_spread * hire_noise
    new = np.clip((1 - p.hiring_for_fit) * market + p.hiring_for_fit * fit, 0, 1)
    personality[leave] = new[leave]
    personality0[leave] = new[leave]
    engagement[leave] = p.onboarding_engagement
    tenure[:] = np.where(leave, 0, tenure + 1)
    mirror[leave] = 0.5
    left[:] = leave


# -- 7. learning --------------------------------------------------------------------------------

def learning(quality, quality0, chain, complaints, contacts, step_of_department,
             colleague_department, complaints_handled, engagement, p):
    c = chain.T.astype(float) @ complaints
    t = chain.T.astype(float) @ contacts
    share = np.divide(c, t, out=np.zeros_like(c), where=t > 0)
    q = quality + p.learning_rate * p.intensity * share * (1 - quality)
    q = q + p.decay * (quality0 - q)
    quality[:] = np.clip(q, 0, 1)
    if p.intensity <= 0 or p.engagement_lift <= 0:
        return
    s = step_of_department[colleague_department]
    lift = np.where(s >= 0, share[np.maximum(s, 0)], 0.0)
    lift = np.where(complaints_handled > 0, 1.0, lift)
    engagement += np.where(lift > 0, p.engagement_lift * p.intensity * lift * (1 - engagement), 0)


# -- 8. money -----------------------------------------------------------------------------------

def revenue(status, value, ltr, p):
    v = np.where(ltr >= PROMOTER_MIN, value * (1 + p.promoter_premium),
                 np.where(ltr < DETRACTOR_MAX, value * (1 - p.detractor_discount), value))
    return float(np.sum(np.where(status == ACTIVE, v, 0.0)))
