"""The customer-side rules of cxsim written as ordinary Mesa agents stepping in Python.

This is the comparison point of the benchmarks: agents hold their neighbours as Python lists
and every step is ``model.agents.shuffle_do("step")``. It keeps the structure and the cost of
each rule (service contact with a colleague, disconfirmation, emotional memory, trust, empathy,
likelihood to recommend, word of mouth over the social ties with second-hop retelling, Bass
adoption, churn; colleagues' engagement following their team) but updates agents one at a
time in random order, as a plain Mesa model does. It is simplified, not a second model: it is
not calibrated and its numbers are not cxsim's.
"""

from __future__ import annotations

import math

import mesa
import numpy as np

from cxsim.constants import DETRACTOR_MAX, PROMOTER_MIN

BRAND = (0.85, 0.45, 0.75, 0.4, 0.35)


def _d2(a: list[float], b) -> float:
    return sum((x - y) ** 2 for x, y in zip(a, b, strict=True))


class Colleague(mesa.Agent):
    def __init__(self, model: PlainModel, personality: list[float]):
        super().__init__(model)
        self.personality = personality
        self.engagement = 0.55
        self.mirror = 0.5
        self.served = 0
        self.satisfaction = 0.0
        self.peers: list[Colleague] = []

    def step(self) -> None:
        if self.served:
            self.mirror += 0.1 * (self.satisfaction / self.served - self.mirror)
        self.served, self.satisfaction = 0, 0.0
        # personality drifts toward peers and brand, engagement toward target and peers
        if self.peers:
            k = len(self.peers)
            mean = [sum(p.personality[q] for p in self.peers) / k for q in range(5)]
            self.personality = [0.15 * a + 0.85 * (0.5 * a + 0.3 * m + 0.2 * b)
                                for a, m, b in zip(self.personality, mean, BRAND, strict=True)]
            peer = sum(p.engagement for p in self.peers) / k
            self.engagement += 0.05 * (0.5 + 0.2 * (self.mirror - 0.5) - self.engagement) \
                + 0.03 * (peer - self.engagement)


class Customer(mesa.Agent):
    def __init__(self, model: PlainModel, personality: list[float], active: bool):
        super().__init__(model)
        self.personality = personality
        self.status = 1 if active else 0  # 0 prospect, 1 active, 2 churned
        self.expectation = 0.6
        self.memory = 0.0
        self.peak = 0.0
        self.trust = 0.5
        self.empathy = 0.5
        self.ltr = 5.0
        self.speak = 0
        self.neg_heard = 0.0
        self.neighbours: list[Customer] = []
        self.store: list[Colleague] = []
        self.prefs = (0.5 * (1 + personality[0]), 0.4, 0.1)
        self.last: Colleague | None = None
        self.met: list[float] | None = None
        self.met_spread = -1.0

    def step(self) -> None:
        m = self.model
        r = m.random
        if self.status == 1 and r.random() < 0.12:  # service contact
            # channel by preference; the same colleague as last time with some probability
            u = r.random() * sum(self.prefs)
            pool = self.store if u < self.prefs[0] else m.pools[0 if u < sum(self.prefs[:2])
                                                                  else 1]
            if self.last is not None and self.last in pool and r.random() < 0.3:
                c = self.last
            else:
                c = pool[int(r.random() * len(pool))]
            self.last = c
            h = math.exp(-_d2(c.personality, self.personality) / 0.18)
            fit = math.exp(-_d2(c.personality, BRAND) / 0.18)
            x = min(1.0, max(0.0, 0.35 * c.engagement + 0.2 * fit + 0.25 * h + 0.2
                             + 0.1 * r.gauss(0, 1)))
            if self.met is None:  # consistency of the personality met across contacts
                self.met, self.met_spread, incons = list(c.personality), 0.0, 0.0
            else:
                incons = math.sqrt(_d2(c.personality, self.met))
                self.met = [a + 0.2 * (b - a) for a, b in zip(self.met, c.personality,
                                                               strict=True)]
                self.met_spread += 0.2 * (incons - self.met_spread)
            d = x - self.expectation
            sat = 1.0 / (1.0 + math.exp(-8.0 * (d + 0.05)))
            c.served += 1
            c.satisfaction += sat
            self.trust -= self.trust * min(1.0, 0.05 * incons)
            v = d if d >= 0 else 2.0 * d
            self.memory += 0.3 * (v - self.memory)
            if abs(v) > abs(self.peak):
                self.peak = v
            self.trust = min(1.0, max(0.0, self.trust + (0.05 * (1 - self.trust) if d >= 0
                                                          else -self.trust * min(1, -0.3 * d))))
            self.empathy += 0.1 * (0.5 * h + 0.5 * c.engagement - self.empathy)
            self.expectation += 0.1 * (x - self.expectation)
        else:
            self.memory *= 0.97
        self.peak *= 0.9
        if self.status != 0:
            affect = 0.7 * self.memory + 0.3 * self.peak
            self.ltr = min(10.0, max(0.0, 5.0 + 6 * affect + 4 * (self.trust - 0.5)
                                     + 3 * (self.empathy - 0.5) + 1.5))
        # word of mouth: speak, then listen to the neighbours (and their retold stories)
        u = r.random()
        self.speak = 0
        if self.status == 1 and self.ltr >= PROMOTER_MIN and u < 0.15:
            self.speak = 1
        elif self.status != 0 and self.ltr < DETRACTOR_MAX and u < 0.25:
            self.speak = -1
        pos = neg = 0
        retold = 0.0
        for nb in self.neighbours:
            if nb.speak > 0:
                pos += 1
            elif nb.speak < 0:
                neg += 1
            retold += nb.neg_heard / len(nb.neighbours)
        deg = len(self.neighbours)
        self.neg_heard = neg
        share_pos = pos / deg if deg else 0.0
        share_neg = (neg + 0.3 * retold) / deg if deg else 0.0
        if self.status == 1:
            self.memory += 0.1 * (share_pos - share_neg)
            if r.random() < 0.004 * math.exp(-2 * (0.7 * self.memory + 0.3 * self.peak)
                                             - 2 * (self.trust - 0.5)):
                self.status = 2
        elif r.random() < 0.002 + 0.05 * share_pos - 0.05 * share_neg:
            self.status = 1
            self.memory, self.peak, self.trust = 0.0, 0.0, 0.5


class PlainModel(mesa.Model):
    """Plain Mesa model on the same social graph (CSR arrays) as a cxsim model."""

    def __init__(self, indptr: np.ndarray, indices: np.ndarray, n_active: int,
                 n_colleagues: int, team_size: int = 10, seed: int = 0):
        super().__init__(rng=seed)
        rng = self.rng
        n = len(indptr) - 1
        self.colleagues = [Colleague(self, list(rng.random(5))) for _ in range(n_colleagues)]
        for t in range(0, n_colleagues, team_size):
            team = self.colleagues[t: t + team_size]
            for c in team:
                c.peers = [p for p in team if p is not c]
        teams = [self.colleagues[t: t + team_size] for t in range(0, n_colleagues, team_size)]
        half = max(1, len(teams) // 2)
        self.pools = [[c for t in teams[:half] for c in t], [c for t in teams[half:] for c in t]
                      or self.colleagues]
        active = rng.permutation(n) < n_active
        self.customers = [Customer(self, list(rng.random(5)), bool(active[i])) for i in range(n)]
        ind = indices.tolist()
        ptr = indptr.tolist()
        for i, c in enumerate(self.customers):
            c.neighbours = [self.customers[j] for j in ind[ptr[i]: ptr[i + 1]]]
            c.store = teams[i % len(teams)]

    def step(self) -> None:
        self.agents.shuffle_do("step")
