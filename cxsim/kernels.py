"""numba kernels: one per phase of the step, pure functions of numpy arrays (no Mesa here).

Every kernel has a plain numpy twin of the same rule in `cxsim.reference`; the twin is the
specification, the kernel is the speed. Random numbers are drawn by the model and passed in, so
kernel and twin see the same draws. Kernels that sweep all customers run with ``prange``; each
iteration writes only its own slots and integer totals are the only reductions, so results do
not depend on the number of threads.

Kernels whose name ends in ``_serial`` are the same source compiled without threads; the tests
use them to check that parallel and serial runs agree.
"""

from __future__ import annotations

import math
import types

import numpy as np
from numba import njit, prange

# status of a customer node
PROSPECT, ACTIVE, CHURNED = 0, 1, 2
PROMOTER_MIN, DETRACTOR_MAX = 9.0, 7.0  # LTR >= 9 promoter, LTR < 7 detractor (0-6 on the scale)
STORE, CONTACT_CENTRE, DIGITAL = 0, 1, 2


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


@njit(cache=True, inline="always")
def similarity(a, b, bandwidth):
    """Gaussian similarity of two personality vectors: 1 when equal, fading with distance."""
    d2 = 0.0
    for k in range(a.shape[0]):
        diff = a[k] - b[k]
        d2 += diff * diff
    return math.exp(-d2 / (2.0 * bandwidth * bandwidth))


@njit(cache=True, inline="always")
def distance(a, b):
    d2 = 0.0
    for k in range(a.shape[0]):
        diff = a[k] - b[k]
        d2 += diff * diff
    return math.sqrt(d2)


# -- networks -----------------------------------------------------------------------------------

@njit(cache=True)
def csr_from_edges(n, src, dst):
    """Counting sort of directed edges by source (stable): (indptr, indices, order)."""
    m = src.shape[0]
    indptr = np.zeros(n + 1, np.int64)
    for e in range(m):
        indptr[src[e] + 1] += 1
    for i in range(n):
        indptr[i + 1] += indptr[i]
    fill = indptr[:-1].copy()
    indices = np.empty(m, np.int64)
    order = np.empty(m, np.int64)
    for e in range(m):
        pos = fill[src[e]]
        indices[pos] = dst[e]
        order[pos] = e
        fill[src[e]] += 1
    return indptr, indices, order


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
        if u[k_u % nu] < frac:
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
                r = u[k_u % nu]
                k_u += 1
                if last >= 0 and r < triad_p:
                    j = int(u[k_u % nu] * slots)
                    k_u += 1
                    cand = targets[last, j]
                    triad = True
                else:
                    r2 = u[k_u % nu]
                    k_u += 1
                    t = tribe[v]
                    if r2 < homophily and pos[v] > 0:
                        base = members[count[t] + int(u[k_u % nu] * pos[v])]
                        k_u += 1
                    elif v > 0:
                        base = int(u[k_u % nu] * v)
                        k_u += 1
                    else:
                        break
                    if u[k_u % nu] < 0.5:
                        cand = base
                    else:
                        cand = targets[base, int(u[(k_u + 1) % nu] * slots)]
                        if cand < 0:
                            cand = base
                    k_u += 2
                if cand < 0 or cand == v:
                    continue
                if triad and tribe[cand] != tribe[v]:
                    # a triangle across tribes is kept only as often as homophily allows
                    accept = u[k_u % nu] < 1.0 - homophily
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

def _culture(personality, personality0, manager, top_down_w, brand_w, brand, indptr, indices,
             edge_w, p, out):
    """Friedkin-Johnsen step: own anchor, manager, peers (silo-weighted), brand."""
    n, dims = personality.shape
    for i in prange(n):
        deg = indptr[i + 1] - indptr[i]
        wsum = p.self_weight + brand_w[i]
        acc = np.empty(dims)
        for k in range(dims):
            acc[k] = p.self_weight * personality[i, k] + brand_w[i] * brand[k]
        m = manager[i]
        if m >= 0:
            wsum += top_down_w[i]
            for k in range(dims):
                acc[k] += top_down_w[i] * personality[m, k]
        if deg > 0:
            scale = p.peer_weight / deg
            for e in range(indptr[i], indptr[i + 1]):
                w = edge_w[e] * scale
                j = indices[e]
                wsum += w
                for k in range(dims):
                    acc[k] += w * personality[j, k]
        s = p.stubbornness
        for k in range(dims):
            out[i, k] = s * personality0[i, k] + (1.0 - s) * acc[k] / wsum


culture = _jit(_culture, parallel=True)
culture_serial = _jit(_culture)


def _engagement(engagement, aptitude, mirror, overload, indptr, indices, edge_w, p,
                headroom_out, out):
    """Engagement moves toward a target set by the levers, customers served and peers."""
    n = engagement.shape[0]
    pressure = p.productivity_pressure * (1.0 - p.cx_metrics_weight)
    room = p.empowerment * (1.0 - p.headroom_pressure_loss * pressure) * (
        1.0 - p.training_cost_headroom * p.training)
    base = (p.base - p.w_pressure * pressure + p.w_pay * p.pay_alignment
            + p.w_co_creation * p.co_creation)
    for i in prange(n):
        h = min(1.0, max(0.0, room * aptitude[i]))
        headroom_out[i] = h
        target = base + p.w_empowerment * h + p.w_mirror * (mirror[i] - 0.5) \
            - p.w_workload * overload[i]
        target = min(1.0, max(0.0, target))
        e = engagement[i]
        new = e + p.rate * (target - e)
        ws = 0.0
        acc = 0.0
        for k in range(indptr[i], indptr[i + 1]):
            w = edge_w[k]
            ws += w
            acc += w * engagement[indices[k]]
        if ws > 0.0:
            new += p.rate * p.peers * (acc / ws - e)
        out[i] = min(1.0, max(0.0, new))


engagement_step = _jit(_engagement, parallel=True)
engagement_step_serial = _jit(_engagement)


# -- 2. service ---------------------------------------------------------------------------------

@njit(cache=True)
def assign_contacts(contacts, prefs, home_store, last_colleague, colleague_team,
                    colleague_channel, team_indptr, team_members, pool_indptr, pool_members,
                    relationship, digital_on, u_channel, u_rel, u_pick):
    """Pick each contact's channel (by preference) and the colleague who serves it.

    Store contacts go to the customer's home store; with probability `relationship` the
    customer is served by the same colleague as last time when that colleague serves the
    channel (and the store). Pools are CSR lists of front-line colleagues per team / channel.
    """
    m = contacts.shape[0]
    colleague = np.empty(m, np.int64)
    channel = np.empty(m, np.int64)
    for k in range(m):
        c = contacts[k]
        total = prefs[c, 0] + prefs[c, 1] + (prefs[c, 2] if digital_on else 0.0)
        r = u_channel[k] * total
        if r < prefs[c, 0]:
            ch = STORE
        elif r < prefs[c, 0] + prefs[c, 1] or not digital_on:
            ch = CONTACT_CENTRE
        else:
            ch = DIGITAL
        if pool_indptr[ch + 1] == pool_indptr[ch]:
            ch = CONTACT_CENTRE
        last = last_colleague[c]
        if (last >= 0 and u_rel[k] < relationship and colleague_channel[last] == ch
                and (ch != STORE or colleague_team[last] == home_store[c])):
            chosen = last
        elif ch == STORE:
            t = home_store[c]
            size = team_indptr[t + 1] - team_indptr[t]
            chosen = team_members[team_indptr[t] + int(u_pick[k] * size)]
        else:
            size = pool_indptr[ch + 1] - pool_indptr[ch]
            chosen = pool_members[pool_indptr[ch] + int(u_pick[k] * size)]
        colleague[k] = chosen
        channel[k] = ch
    return colleague, channel


def _service(contacts, colleague, channel, noise, u_fail, cust_personality, col_personality,
             col_engagement, headroom, brand, chain_q, met_mean, met_spread, p,
             experience, homophily, inconsistency):
    """Experience of each contact; also updates the personality a customer has met so far."""
    m = contacts.shape[0]
    rush = p.rush_penalty * p.productivity_pressure * (1.0 - p.cx_metrics_weight)
    for k in prange(m):
        c = contacts[k]
        j = colleague[k]
        ch = channel[k]
        h = similarity(col_personality[j], cust_personality[c], p.bandwidth)
        fit = similarity(col_personality[j], brand, p.bandwidth)
        x = (p.w_engagement * col_engagement[j] + p.w_brand_fit * fit
             + p.w_empowerment * headroom[j] + p.w_homophily * h
             + p.w_process * chain_q[ch] - rush + p.noise * noise[k])
        if ch == DIGITAL:
            x = (1.0 - p.digital_self_service) * x + p.digital_self_service * (
                min(p.digital_front_end, chain_q[ch]) + p.noise * noise[k])
        if p.shock_active and (ch == p.shock_channel or (p.shock_channel < 0
                                                           and u_fail[k] < p.shock_share)):
            x -= p.shock_severity
        experience[k] = min(1.0, max(0.0, x))
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

def _perception(contacts, experience, homophily, inconsistency, served_engagement, expectation,
                memory, peak, trust, empathy, p, satisfaction):
    """Disconfirmation -> satisfaction, emotional memory (bad > good, peak-end), trust, empathy."""
    m = contacts.shape[0]
    for k in prange(m):
        c = contacts[k]
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
        t -= t * min(1.0, p.trust_gain * p.inconsistency_penalty * inconsistency[k])
        trust[c] = min(1.0, max(0.0, t))
        felt = 0.5 * homophily[k] + 0.5 * served_engagement[k]
        empathy[c] += p.empathy_rate * (felt - empathy[c])
        expectation[c] += (p.expectation_adaptation * (x - expectation[c])
                           + p.expectation_anchor * (p.expectation_norm - expectation[c]))


perception = _jit(_perception, parallel=True)
perception_serial = _jit(_perception)


def _attitude(status, contacted, memory, peak, trust, empathy, disposition, node_colleague,
              col_engagement, p, ltr):
    """Memories fade without contact; likelihood to recommend (0..10) follows them."""
    n = status.shape[0]
    for i in prange(n):
        if status[i] == PROSPECT:
            ltr[i] = 5.0
            continue
        if not contacted[i]:
            memory[i] *= 1.0 - p.memory_decay
        peak[i] *= 1.0 - p.peak_decay
        affect = (1.0 - p.peak_weight) * memory[i] + p.peak_weight * peak[i]
        score = (5.0 + p.ltr_memory * affect + p.ltr_trust * (trust[i] - 0.5)
                 + p.ltr_empathy * (empathy[i] - 0.5) + p.ltr_bias
                 + p.ltr_spread * disposition[i])
        j = node_colleague[i]
        if j >= 0:
            score = (1.0 - p.colleague_advocacy) * score \
                + p.colleague_advocacy * 10.0 * col_engagement[j]
        ltr[i] = min(10.0, max(0.0, score))


attitude = _jit(_attitude, parallel=True)
attitude_serial = _jit(_attitude)


# -- 4. word of mouth ---------------------------------------------------------------------------

def _wom(indptr, indices, status, ltr, u_talk, u_adopt, neg_prev, memory, peak, expectation,
         trust, empathy, acquired_step, step, amplification, p, speak, heard_pos, heard_neg,
         neg_now, adopted, told=None):
    """Promoters and detractors talk to neighbours; prospects adopt (Bass: p + q * share).

    Detractors talk more (higher rate) and further: a share of the stories a neighbour heard
    last step is retold this step (second hop, one step later). Returns message totals.
    `told` is optional scratch of n floats, best a numpy array the caller keeps: the edge pass
    reads it at random, and with a fresh array allocated here each call that pass measured
    about 3x slower at 1M nodes (numpy, unlike numba, asks for huge pages on large arrays).
    """
    n = status.shape[0]
    pt = min(1.0, p.promoter_talk * amplification)
    dt = min(1.0, p.detractor_talk * amplification)
    # what each node passes on: its own voice and its share of last step's negative stories,
    # precomputed so that the edge pass reads one float per neighbour (memory-bound otherwise)
    if told is None:
        told = np.empty(n)
    for i in prange(n):
        di = indptr[i + 1] - indptr[i]
        told[i] = neg_prev[i] / di if di > 0 else 0.0
        s = 0
        if status[i] == ACTIVE:
            if ltr[i] >= PROMOTER_MIN and u_talk[i] < pt:
                s = 1
            elif ltr[i] < DETRACTOR_MAX and u_talk[i] < dt:
                s = -1
        elif status[i] == CHURNED and ltr[i] < DETRACTOR_MAX and u_talk[i] < dt * p.churned_talk:
            s = -1
        speak[i] = s
    for i in prange(n):
        pos = 0
        neg = 0
        retold = 0.0
        for e in range(indptr[i], indptr[i + 1]):
            j = indices[e]
            sj = speak[j]
            pos += sj > 0  # branch-free: speakers are scattered at random
            neg += sj < 0
            retold += told[j]
        deg = indptr[i + 1] - indptr[i]
        neg_total = neg + p.second_hop * retold
        heard_pos[i] = pos
        heard_neg[i] = neg_total
        neg_now[i] = neg
        adopted[i] = False
        st = status[i]
        share_pos = pos / deg if deg > 0 else 0.0
        share_neg = neg_total / deg if deg > 0 else 0.0
        if st == ACTIVE:
            memory[i] += p.attitude_weight * (share_pos - share_neg)
            expectation[i] = min(1.0, expectation[i] + p.expectation_weight * share_pos)
        else:
            hazard = p.marketing + p.adoption_q * share_pos - p.detractor_repel * share_neg
            if st == CHURNED:
                hazard *= p.winback
            if u_adopt[i] < hazard:
                adopted[i] = True
                status[i] = ACTIVE
                acquired_step[i] = step
                memory[i] = p.attitude_weight * (share_pos - share_neg)
                peak[i] = 0.0
                expectation[i] = min(1.0, p.expectation_norm + p.expectation_weight * share_pos)
                trust[i] = p.trust_initial
                empathy[i] = p.empathy_initial


wom = _jit(_wom, parallel=True)
wom_serial = _jit(_wom)


# -- 5. churn -----------------------------------------------------------------------------------

def _churn(status, memory, peak, trust, u, acquired_step, step, p, churned):
    """Active customers leave with a chance that falls with emotional memory and trust."""
    n = status.shape[0]
    for i in prange(n):
        churned[i] = False
        if status[i] != ACTIVE or acquired_step[i] == step:
            continue
        affect = (1.0 - p.peak_weight) * memory[i] + p.peak_weight * peak[i]
        prob = p.base * math.exp(-p.memory_sensitivity * affect
                                 - p.trust_sensitivity * (trust[i] - 0.5))
        if u[i] < prob:
            status[i] = CHURNED
            churned[i] = True


churn = _jit(_churn, parallel=True)
churn_serial = _jit(_churn)


# -- 6. staff -----------------------------------------------------------------------------------

@njit(cache=True)
def staff(engagement, tenure, personality, personality0, mirror, u_leave, hire_noise,
          hire_customer, cust_personality, p, left):
    """Colleagues leave as engagement falls; each post is refilled by an onboarding hire.

    A hire is unaligned (a draw from the labour market) or, with hiring for fit, similar to a
    random customer.
    """
    n = engagement.shape[0]
    dims = personality.shape[1]
    for i in range(n):
        prob = p.attrition_base * math.exp(-p.attrition_engagement * (engagement[i] - 0.5)) \
            / (1.0 + p.tenure_protection * tenure[i])
        if u_leave[i] < prob:
            left[i] = True
            c = hire_customer[i]
            for k in range(dims):
                market = p.market_centre + p.personality_spread * hire_noise[i, k]
                v = (1.0 - p.hiring_for_fit) * market + p.hiring_for_fit * (
                    cust_personality[c, k] + 0.25 * p.personality_spread * hire_noise[i, k])
                v = min(1.0, max(0.0, v))
                personality[i, k] = v
                personality0[i, k] = v
            engagement[i] = p.onboarding_engagement
            tenure[i] = 0
            mirror[i] = 0.5
        else:
            left[i] = False
            tenure[i] += 1


# -- 7. learning --------------------------------------------------------------------------------

@njit(cache=True)
def learning(quality, quality0, chain, complaints, contacts, step_of_department,
             colleague_department, complaints_handled, engagement, p):
    """Complaints feed back into the process steps behind the channel and lift those involved."""
    n_steps = quality.shape[0]
    share = np.zeros(n_steps)
    for s in range(n_steps):
        c = 0.0
        t = 0.0
        for ch in range(chain.shape[0]):
            if chain[ch, s]:
                c += complaints[ch]
                t += contacts[ch]
        share[s] = c / t if t > 0 else 0.0
        q = quality[s]
        q += p.learning_rate * p.intensity * share[s] * (1.0 - q)
        q += p.decay * (quality0[s] - q)
        quality[s] = min(1.0, max(0.0, q))
    if p.intensity <= 0.0 or p.engagement_lift <= 0.0:
        return
    for i in range(engagement.shape[0]):
        lift = 0.0
        s = step_of_department[colleague_department[i]]
        if s >= 0:
            lift = share[s]
        if complaints_handled[i] > 0:
            lift = 1.0
        if lift > 0.0:
            engagement[i] += p.engagement_lift * p.intensity * lift * (1.0 - engagement[i])


# -- 8. money -----------------------------------------------------------------------------------

@njit(cache=True)
def revenue(status, value, ltr, p):
    """Spend of active customers; promoters pay a premium, detractors spend less."""
    total = 0.0
    for i in range(status.shape[0]):
        if status[i] == ACTIVE:
            v = value[i]
            if ltr[i] >= PROMOTER_MIN:
                v *= 1.0 + p.promoter_premium
            elif ltr[i] < DETRACTOR_MAX:
                v *= 1.0 - p.detractor_discount
            total += v
    return total


# -- figures ------------------------------------------------------------------------------------

TOTAL_CHUNKS = 64  # fixed, so that float sums do not depend on the number of threads
(T_ACTIVE, T_PROSPECTS, T_CHURNED, T_PROMOTERS, T_DETRACTORS, T_SEEN) = range(6)
(S_SPREAD, S_TRUST, S_EMPATHY, S_EXPECTATION, S_HEARD_POS, S_HEARD_NEG) = range(6)


@njit(cache=True)
def _sum_chunks(counts, sums, units):
    """Add the per-chunk figures in chunk order, so totals do not depend on the thread count."""
    tot_counts = np.zeros(counts.shape[1], np.int64)
    tot_sums = np.zeros(sums.shape[1])
    tot_units = np.zeros(units.shape[1:], np.int64)
    for c in range(counts.shape[0]):
        for k in range(counts.shape[1]):
            tot_counts[k] += counts[c, k]
        for k in range(sums.shape[1]):
            tot_sums[k] += sums[c, k]
        for k in range(units.shape[1]):
            for t in range(units.shape[2]):
                tot_units[k, t] += units[c, k, t]
    return tot_counts, tot_sums, tot_units


def _customer_totals(status, ltr, met_spread, trust, empathy, expectation, heard_pos, heard_neg,
                    churned, last_colleague, colleague_team, n_teams):
    """One pass over the customers for the step's figures.

    Returns (counts[6], sums[6], unit_counts[3, n_teams]): counts are active, prospects,
    churned this step, promoters, detractors, seen (active and met someone); sums are met_spread
    over seen, trust, empathy and expectation over active, heard_pos and heard_neg over all;
    unit_counts are customers, promoters and detractors per unit of the last colleague met.
    Sums are taken in TOTAL_CHUNKS fixed chunks added in order: the same numbers whatever the
    thread count.
    """
    n = status.shape[0]
    nc = TOTAL_CHUNKS
    counts = np.zeros((nc, 6), np.int64)
    sums = np.zeros((nc, 6))
    units = np.zeros((nc, 3, n_teams), np.int64)
    size = (n + nc - 1) // nc
    for c in prange(nc):
        lo = c * size
        hi = min(n, lo + size)
        n_act = n_pro = n_chu = n_prom = n_det = n_seen = 0
        s_spread = s_trust = s_emp = s_exp = s_pos = s_neg = 0.0
        for i in range(lo, hi):
            st = status[i]
            s_pos += heard_pos[i]
            s_neg += heard_neg[i]
            n_chu += churned[i]
            n_pro += st == PROSPECT
            if st != ACTIVE:
                continue
            n_act += 1
            x = ltr[i]
            prom = x >= PROMOTER_MIN
            det = x < DETRACTOR_MAX
            n_prom += prom
            n_det += det
            if met_spread[i] >= 0.0:
                n_seen += 1
                s_spread += met_spread[i]
            s_trust += trust[i]
            s_emp += empathy[i]
            s_exp += expectation[i]
            j = last_colleague[i]
            if j >= 0:
                t = colleague_team[j]
                units[c, 0, t] += 1
                units[c, 1, t] += prom
                units[c, 2, t] += det
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
    return _sum_chunks(counts, sums, units)


customer_totals = _jit(_customer_totals, parallel=True)
customer_totals_serial = _jit(_customer_totals)


# -- fused customer passes (engine="numba") -----------------------------------------------------
#
# The per-phase kernels above are kept, with their numpy twins, as the specification. The model's
# numba engine runs the customer side of the step after perception as three loops instead:
#   A (per node): attitude (fading, LTR) + who speaks this step + what each node retells;
#   hear (per node, reading neighbours' A results): word-of-mouth receipt, a lean edge sweep;
#   B (per node): what the node does about it (memory, expectation, adoption), churn of the node
#     (own state and own draw only), the step's customer figures and revenue.
# Receipt cannot join A: it reads the neighbours' speaker flags, which need their LTR. It could
# join B (one pass fewer over the nodes) but measured slower that way: see `customer_hear`.
# Together they equal the per-phase sequence attitude -> wom -> churn -> customer_totals ->
# revenue on the same draws (tests/test_parallel.py).

def _customer_pass_a(status, contacted, memory, peak, trust, empathy, disposition, node_colleague,
                     col_engagement, ap, indptr, u_talk, neg_prev, amplification, wp, ltr, speak,
                     told):
    """Attitude (as `attitude`) and the speaker pass of `wom`, in one sweep over the nodes."""
    n = status.shape[0]
    pt = min(1.0, wp.promoter_talk * amplification)
    dt = min(1.0, wp.detractor_talk * amplification)
    fade = 1.0 - ap.memory_decay
    peak_fade = 1.0 - ap.peak_decay
    # branch-free (selects, every slot written): statuses and draws are scattered at random, so
    # branches on them are mispredicted; multiplying by 1.0 keeps a value exactly
    for i in prange(n):
        st = status[i]
        known = st != PROSPECT
        mem = memory[i] * (fade if known and not contacted[i] else 1.0)
        pk = peak[i] * (peak_fade if known else 1.0)
        memory[i] = mem
        peak[i] = pk
        affect = (1.0 - ap.peak_weight) * mem + ap.peak_weight * pk
        score = (5.0 + ap.ltr_memory * affect + ap.ltr_trust * (trust[i] - 0.5)
                 + ap.ltr_empathy * (empathy[i] - 0.5) + ap.ltr_bias
                 + ap.ltr_spread * disposition[i])
        j = node_colleague[i]
        advocacy = (1.0 - ap.colleague_advocacy) * score \
            + ap.colleague_advocacy * 10.0 * col_engagement[max(j, 0)]
        score = advocacy if j >= 0 else score
        x = min(10.0, max(0.0, score)) if known else 5.0
        ltr[i] = x
        di = indptr[i + 1] - indptr[i]
        told[i] = neg_prev[i] / max(di, 1)
        u = u_talk[i]
        talk_pos = (st == ACTIVE) & (x >= PROMOTER_MIN) & (u < pt)
        neg_rate = dt if st == ACTIVE else (dt * wp.churned_talk if st == CHURNED else -1.0)
        talk_neg = (x < DETRACTOR_MAX) & (u < neg_rate)
        s = np.int8(talk_pos) - np.int8(talk_neg)
        speak[i] = s


customer_pass_a = _jit(_customer_pass_a, parallel=True)
customer_pass_a_serial = _jit(_customer_pass_a)


def _customer_hear(indptr, indices, speak, told, second_hop, heard_pos, heard_neg, neg_now):
    """Word-of-mouth receipt (the edge pass of `wom`): what each node hears from its neighbours.

    Kept apart from the per-node work of pass B on purpose: a lean gather loop like this one
    keeps many neighbour reads in flight; with pass B's body in the same loop (one pass fewer
    over the nodes) it measured about 1.2-1.4x slower than the two loops apart (1M customers,
    one core, also when interleaved in tiles of 256 nodes).
    """
    n = indptr.shape[0] - 1
    for i in prange(n):
        pos = 0
        neg = 0
        retold = 0.0
        for e in range(indptr[i], indptr[i + 1]):
            j = indices[e]
            sj = speak[j]
            pos += sj > 0  # branch-free: speakers are scattered at random
            neg += sj < 0
            retold += told[j]
        heard_pos[i] = pos
        heard_neg[i] = neg + second_hop * retold
        neg_now[i] = neg


customer_hear = _jit(_customer_hear, parallel=True)
customer_hear_serial = _jit(_customer_hear)


def _customer_pass_b(indptr, status, ltr, u_adopt, u_churn, memory, peak, expectation,
                     trust, empathy, acquired_step, step, wp, cp, heard_pos,
                     heard_neg, adopted, churned, met_spread, last_colleague,
                     colleague_team, n_teams, value, mp):
    """What each node does about what it heard (as `wom`), `churn`, `customer_totals`, `revenue`.

    Reads heard_pos and heard_neg from `customer_hear`. Returns (counts[6], sums[6],
    unit_counts[3, n_teams], revenue) as `customer_totals` and `revenue` would after `churn`.
    Works in TOTAL_CHUNKS fixed chunks added in order, so the float sums do not depend on the
    number of threads.
    """
    n = status.shape[0]
    nc = TOTAL_CHUNKS
    counts = np.zeros((nc, 6), np.int64)
    sums = np.zeros((nc, 6))
    revs = np.zeros(nc)
    units = np.zeros((nc, 3, n_teams), np.int64)
    size = (n + nc - 1) // nc
    for c in prange(nc):
        lo = c * size
        hi = min(n, lo + size)
        n_act = n_pro = n_chu = n_prom = n_det = n_seen = 0
        s_spread = s_trust = s_emp = s_exp = s_pos = s_neg = 0.0
        rev = 0.0
        for i in range(lo, hi):
            # word of mouth: what the node does about what it heard. Mostly selects, every
            # slot written: statuses are scattered at random, branches on them mispredicted
            pos = heard_pos[i]
            neg_total = heard_neg[i]
            deg = max(indptr[i + 1] - indptr[i], 1)  # pos = neg_total = 0 without ties
            st = status[i]
            share_pos = pos / deg
            share_neg = neg_total / deg
            was_active = st == ACTIVE
            hazard = wp.marketing + wp.adoption_q * share_pos - wp.detractor_repel * share_neg
            hazard = hazard * wp.winback if st == CHURNED else hazard
            adopt = (not was_active) and u_adopt[i] < hazard
            said = wp.attitude_weight * (share_pos - share_neg)
            mem = memory[i]
            ex = expectation[i]
            mem = mem + said if was_active else (said if adopt else mem)
            ex = min(1.0, ex + wp.expectation_weight * share_pos) if was_active else (
                min(1.0, wp.expectation_norm + wp.expectation_weight * share_pos) if adopt
                else ex)
            memory[i] = mem
            expectation[i] = ex
            adopted[i] = adopt
            if adopt:  # rare
                st = ACTIVE
                status[i] = ACTIVE
                acquired_step[i] = step
                peak[i] = 0.0
                trust[i] = wp.trust_initial
                empathy[i] = wp.empathy_initial
            # churn (exp only where it can happen)
            left = False
            tr = trust[i]
            if was_active and acquired_step[i] != step:
                affect = (1.0 - cp.peak_weight) * mem + cp.peak_weight * peak[i]
                prob = cp.base * math.exp(-cp.memory_sensitivity * affect
                                          - cp.trust_sensitivity * (tr - 0.5))
                left = u_churn[i] < prob
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
            v = value[i] * (1.0 + mp.promoter_premium if prom else (
                1.0 - mp.detractor_discount if det else 1.0))
            rev += v if act else 0.0
            jc = last_colleague[i]
            if act and jc >= 0:
                t = colleague_team[jc]
                units[c, 0, t] += 1
                units[c, 1, t] += prom
                units[c, 2, t] += det
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
        revs[c] = rev
    tot_counts, tot_sums, tot_units = _sum_chunks(counts, sums, units)
    total_rev = 0.0
    for c in range(nc):
        total_rev += revs[c]
    return tot_counts, tot_sums, tot_units, total_rev


customer_pass_b = _jit(_customer_pass_b, parallel=True)
customer_pass_b_serial = _jit(_customer_pass_b)


@njit(cache=True)
def select_contacts(status, u, contact_rate):
    """Indices of active customers whose draw is under the contact rate (ascending).

    One pass into an n-slot buffer that is never filled (only the pages written to are
    touched), then a copy of the m used slots.
    """
    n = status.shape[0]
    buf = np.empty(n, np.int64)
    m = 0
    for i in range(n):
        buf[m] = i
        m += (status[i] == ACTIVE) & (u[i] < contact_rate)
    return buf[:m].copy()
