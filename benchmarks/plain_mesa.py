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

from cxsim.kernels import DETRACTOR_MAX, PROMOTER_MIN


class Colleague(mesa.Agent):
    def __init__(self, model: PlainModel, personality: list[float]):
        super().__init__(model)
        self.personality = personality
        self.engagement = 0.55
        self.peers: list[Colleague] = []

    def step(self) -> None:
        if self.peers:
            peer = sum(p.engagement for p in self.peers) / len(self.peers)
            self.engagement += 0.05 * (0.6 - self.engagement) + 0.03 * (peer - self.engagement)


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

    def step(self) -> None:
        m = self.model
        r = m.random
        if self.status == 1 and r.random() < 0.12:  # service contact
            c = self.store[int(r.random() * len(self.store))]
            d2 = sum((a - b) ** 2 for a, b in zip(c.personality, self.personality, strict=True))
            h = math.exp(-d2 / 0.18)
            x = min(1.0, max(0.0, 0.35 * c.engagement + 0.25 * h + 0.3 + 0.1 * r.gauss(0, 1)))
            d = x - self.expectation
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
        active = rng.permutation(n) < n_active
        self.customers = [Customer(self, list(rng.random(5)), bool(active[i])) for i in range(n)]
        ind = indices.tolist()
        ptr = indptr.tolist()
        for i, c in enumerate(self.customers):
            c.neighbours = [self.customers[j] for j in ind[ptr[i]: ptr[i + 1]]]
            c.store = teams[i % len(teams)]

    def step(self) -> None:
        self.agents.shuffle_do("step")
