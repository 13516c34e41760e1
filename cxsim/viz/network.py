"""The dashboard's network map: who served whom this week, word of mouth travelling, attitudes.

Why: the old view (colleagues and 300 customers in blobs, no contacts) changed 0.2-1 % of its
pixels over 34 weeks that included a service failure; nothing on it showed the mechanism of the
model. This map puts the colleagues in the middle (the radial organisation of `draw.py`,
coloured by engagement) and a sample of customers around them, in small connected clusters of
the social network placed next to the store that serves them. Each week it draws

- the week's service contacts of the sampled customers as lines colleague -> customer, coloured
  by how the contact went (experience: red bad, green good);
- word of mouth as customer -> customer pulses along the social ties, coloured by valence
  (a speaker who spoke well or ill this week, to each sampled neighbour);
- customers coloured by attitude (likelihood to recommend 0-10, on the NPS cuts), prospects as
  grey rings and churned customers as crosses; or, where the model has a perceived brand image
  per customer (``model.customers.image``, n x 5), by the distance of that image from the
  intended brand (`image_distance`, as the model's ``brand_image_distance`` measures it).

The layout (`MapLayout`) is computed once per model and sent once; each week the session copies
a `MapFrame` (a few kilobytes of small integer codes) and each page's widget sends only what
changed since what it last sent (`frame_delta`).

Sampling: at most `MAX_CUSTOMERS` nodes (1,200) in clusters of about 30, grown breadth-first
from random seeds, so most of a sampled customer's ties are in the sample and word of mouth is
seen travelling; at 100,000 customers about 100 contacts and 300 word-of-mouth messages of the
sample are drawn each week.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..constants import ACTIVE, BACKOFFICE, CHURNED, FRONTLINE, LEADER, MANAGER

MAX_COLLEAGUES = 400
MAX_CUSTOMERS = 1200
CLUSTER = 30  # nodes per snowball cluster
MAX_CONTACTS = 600  # lines per week at most (a few hundred are drawn at 100k)
MAX_WOM = 900
#: codes of customers who are not active (attitude codes are 0..100 = 10 x LTR)
PROSPECT_CODE, CHURNED_CODE = 200, 201
#: the map's world: x in [-WX, WX], y in [-WY, WY] (16:9); colleagues within radius 1.1
WX, WY = 3.2, 1.8
RING_X, RING_Y = 2.45, 1.42  # the ellipse the customer clusters sit on


@dataclass(eq=False)
class MapLayout:
    """Positions computed once per model, and the index maps a week's frame needs."""

    col_idx: np.ndarray  # drawn colleagues
    col_xy: np.ndarray
    col_role: np.ndarray
    col_edges: np.ndarray  # (k, 2) local pairs: colleague -> manager
    dept_labels: list[tuple[str, float, float]]
    anchor: np.ndarray  # (n colleagues,) the drawn colleague standing for each one, -1 none
    cus_idx: np.ndarray  # sampled customer nodes
    cus_xy: np.ndarray
    ties: np.ndarray  # (e, 2) local pairs of sampled customers who know each other
    cluster: np.ndarray  # (s,) the snowball cluster of each sampled customer
    local: np.ndarray  # (n nodes,) local index of each node in the sample, -1 outside
    brand: np.ndarray  # the intended brand personality (image distance is measured from it)
    cache: dict[str, Any] = field(default_factory=dict)  # the JSON sent once, built once

    def to_json(self) -> dict[str, Any]:
        """What the browser needs once: positions, roles, ties and the department labels."""
        if "json" not in self.cache:
            self.cache["json"] = {
                "world": [WX, WY],
                "col_xy": np.round(self.col_xy, 3).ravel().tolist(),
                "col_role": self.col_role.astype(int).tolist(),
                "col_edges": self.col_edges.ravel().astype(int).tolist(),
                "cus_xy": np.round(self.cus_xy, 3).ravel().tolist(),
                "ties": self.ties.ravel().astype(int).tolist(),
                "labels": [[n.replace("_", " "), round(x, 3), round(y, 3)]
                           for n, x, y in self.dept_labels],
            }
        return self.cache["json"]


@dataclass(frozen=True, eq=False)
class MapFrame:
    """One week of the map, copied out of the model (small integer codes, never mutated)."""

    week: int
    col: np.ndarray  # uint8 engagement 0..100 of each drawn colleague
    cus: np.ndarray  # uint8 attitude: 10 x LTR (0..100) for active, PROSPECT/CHURNED_CODE
    img: np.ndarray | None  # uint8 100 x image distance (capped at 100) or None without images
    contacts: np.ndarray  # (m, 3) int32: drawn colleague, sampled customer, experience 0..100
    wom: np.ndarray  # (w, 3) int32: speaker, hearer (both sampled), +1 good / -1 bad
    summary: dict[str, float]


def compute_map(model: Any, seed: int = 7, max_colleagues: int = MAX_COLLEAGUES,
                max_customers: int = MAX_CUSTOMERS) -> MapLayout:
    """The map's layout for `model` (seeded: the same model gives the same picture)."""
    rng = np.random.default_rng(seed)
    org = model.org
    col_idx, xy, labels, segs = colleague_layout(org, max_colleagues, rng)
    shrink = 1.0 / 1.25  # labels at radius 1.22 -> inside radius 1.0
    xy = xy * shrink
    labels = [(n, x * shrink, y * shrink) for n, x, y in labels]
    where = np.full(org.n, -1, np.int64)
    where[col_idx] = np.arange(len(col_idx))
    pairs = [(where[i], where[org.manager[i]]) for i in col_idx
             if org.manager[i] >= 0 and where[org.manager[i]] >= 0]
    col_edges = np.array(pairs, np.int64).reshape(-1, 2)
    anchor = _anchors(org.team, where)
    cus_idx, cus_xy, local, cluster = _sample_customers(model, rng, max_customers, anchor, xy)
    ties = _ties(model.social, cus_idx, local, cluster)
    brand = np.asarray(model.scenario.brand.personality, float)
    return MapLayout(col_idx, xy, org.role[col_idx].copy(), col_edges, labels, anchor, cus_idx,
                     cus_xy, ties, cluster, local, brand)


def colleague_layout(org, max_colleagues: int, rng: np.random.Generator
                     ) -> tuple[np.ndarray, np.ndarray, list[tuple[str, float, float]],
                                np.ndarray]:
    """Drawn colleagues (a sample above `max_colleagues`) in the radial layout: their indices,
    positions (radius <= 1.02), the department labels (radius 1.22) and manager ties."""
    n = org.n
    col_idx = np.arange(n) if n <= max_colleagues else np.sort(
        rng.choice(n, max_colleagues, replace=False))
    n_dept = len(org.department_names)
    heads = np.bincount(org.department[col_idx], minlength=n_dept).astype(float)
    edges_a = np.concatenate([[0.0], np.cumsum(heads / heads.sum()) * 2 * np.pi])
    radius = {LEADER: 0.22, MANAGER: 0.55, FRONTLINE: 0.9, BACKOFFICE: 0.9}
    xy = np.zeros((len(col_idx), 2))
    labels = []
    for d in range(n_dept):
        members = col_idx[org.department[col_idx] == d]
        a0, a1 = edges_a[d], edges_a[d + 1]
        pad = 0.08 * (a1 - a0)
        mid = (a0 + a1) / 2
        labels.append((org.department_names[d], 1.22 * np.cos(mid), 1.22 * np.sin(mid)))
        for role in (LEADER, MANAGER, FRONTLINE, BACKOFFICE):
            who = members[org.role[members] == role]
            who = who[np.argsort(org.team[who], kind="stable")]
            if not len(who):
                continue
            angles = np.linspace(a0 + pad, a1 - pad, len(who) + 2)[1:-1]
            r = radius[role] + (0.12 * (np.arange(len(who)) % 3) / 2 if role in
                                (FRONTLINE, BACKOFFICE) else 0.0)
            pos = np.searchsorted(col_idx, who)
            xy[pos, 0] = r * np.cos(angles)
            xy[pos, 1] = r * np.sin(angles)
    where = np.full(n, -1)
    where[col_idx] = np.arange(len(col_idx))
    segs = []
    for i in col_idx:
        m = org.manager[i]
        if m >= 0 and where[m] >= 0:
            segs.append((xy[where[i]], xy[where[m]]))
    col_edges = np.array(segs).reshape(-1, 2, 2)
    return col_idx, xy, labels, col_edges


def map_of(model: Any) -> MapLayout:
    """The model's map layout, computed on first use and kept on the model."""
    lay = getattr(model, "_viz_map", None)
    if lay is None:
        lay = compute_map(model)
        model._viz_map = lay
    return lay


def _anchors(team: np.ndarray, where: np.ndarray) -> np.ndarray:
    """Each colleague's stand-in on the map: itself if drawn, else a drawn member of its team
    (the first), else -1 (its contacts are not drawn)."""
    first = np.full(int(team.max()) + 1 if len(team) else 0, -1, np.int64)
    drawn = np.flatnonzero(where >= 0)
    for i in drawn[::-1]:  # reversed: the lowest drawn index of a team wins
        first[team[i]] = where[i]
    return np.where(where >= 0, where, first[team])


def _sample_customers(model: Any, rng: np.random.Generator, max_customers: int,
                      anchor: np.ndarray, col_xy: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Snowball clusters of the social network, each placed on the outer ring next to the
    drawn colleagues of its seed's home store (so contact lines are short where they can be)."""
    net, cus = model.social, model.customers
    n = net.n
    is_colleague = np.asarray(cus.node_colleague) >= 0
    seen = is_colleague.copy()  # colleagues' own nodes are drawn as colleagues, not here
    clusters: list[list[int]] = []
    total = 0
    for s in rng.permutation(n):
        if total >= max_customers:
            break
        if seen[s]:
            continue
        seen[s] = True
        frontier, members = [int(s)], []
        size = min(CLUSTER, max_customers - total)
        while frontier and len(members) < size:
            v = frontier.pop(0)
            members.append(v)
            for u in net.indices[net.indptr[v]:net.indptr[v + 1]]:
                if not seen[u]:
                    seen[u] = True
                    frontier.append(int(u))
        for u in frontier:  # reached but not taken: free for another cluster
            seen[u] = is_colleague[u]
        clusters.append(members)
        total += len(members)
    # order the clusters round the ring by the angle of their seed's store on the map
    home = np.asarray(cus.home_store)
    team_of_anchor = {}
    for c in clusters:
        t = int(home[c[0]]) if home[c[0]] >= 0 else -1
        team_of_anchor[c[0]] = t
    angles = []
    team_angle = _team_angles(model.org.team, anchor, col_xy)
    for k, c in enumerate(clusters):
        a = team_angle.get(team_of_anchor[c[0]])
        angles.append(a if a is not None else 2 * np.pi * k / max(len(clusters), 1))
    order = np.argsort(np.mod(angles, 2 * np.pi), kind="stable")
    cus_idx = np.concatenate([np.asarray(clusters[k], np.int64) for k in order]) \
        if clusters else np.zeros(0, np.int64)
    xy = np.zeros((len(cus_idx), 2))
    cluster = np.zeros(len(cus_idx), np.int64)
    start = 0
    n_c = max(len(clusters), 1)
    r = min(0.32, 0.9 * np.pi * RING_Y / n_c * 1.6)
    for slot, k in enumerate(order):
        members = clusters[k]
        theta = 2 * np.pi * (slot + 0.5) / n_c
        ring = 1.0 + (0.12 if slot % 2 else -0.06)  # alternate in and out: room for clusters
        cx, cy = ring * RING_X * np.cos(theta), ring * RING_Y * np.sin(theta)
        xy[start:start + len(members)] = (cx, cy) + r * _cluster_positions(net, members, rng)
        cluster[start:start + len(members)] = slot
        start += len(members)
    local = np.full(n, -1, np.int64)
    local[cus_idx] = np.arange(len(cus_idx))
    return cus_idx, xy, local, cluster


def _team_angles(team: np.ndarray, anchor: np.ndarray, col_xy: np.ndarray) -> dict[int, float]:
    """Angle on the map of each team that has a drawn colleague."""
    out = {}
    for t in np.unique(team):
        a = anchor[np.flatnonzero(team == t)[0]]
        if a >= 0:
            out[int(t)] = float(np.arctan2(col_xy[a, 1], col_xy[a, 0]))
    return out


def _cluster_positions(net: Any, members: list[int], rng: np.random.Generator) -> np.ndarray:
    """Positions of a cluster's members within the unit disc: breadth-first rings round the
    seed (the order they were taken in), with a little jitter so ties do not overlap."""
    m = len(members)
    if m == 1:
        return np.zeros((1, 2))
    k = np.arange(m)
    radius = np.sqrt(k / (m - 1))  # sunflower spiral: even density, seed in the middle
    angle = k * np.pi * (3 - np.sqrt(5)) + rng.uniform(0, 2 * np.pi)
    pos = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    return pos + rng.normal(0, 0.03, pos.shape)


def _ties(net: Any, cus_idx: np.ndarray, local: np.ndarray, cluster: np.ndarray) -> np.ndarray:
    """Social ties within the sample's clusters (each once), as local index pairs. Ties
    between clusters are left out: they would cross the whole map."""
    if not len(cus_idx):
        return np.zeros((0, 2), np.int64)
    starts, ends = net.indptr[cus_idx], net.indptr[cus_idx + 1]
    counts = ends - starts
    src = np.repeat(np.arange(len(cus_idx)), counts)
    nbr = net.indices[np.concatenate([np.arange(a, b) for a, b in zip(starts, ends,
                                                                       strict=True)])]
    dst = local[nbr]
    keep = (dst > src) & (cluster[np.maximum(dst, 0)] == cluster[src])
    return np.column_stack([src[keep], dst[keep]]).astype(np.int64)


def image_distance(image: np.ndarray, brand: np.ndarray) -> np.ndarray:
    """Distance of each perceived brand image from the intended brand: the Euclidean distance
    of the two personality vectors, as the model's `brand_image_distance` measures it."""
    diff = np.asarray(image, float) - brand[None, :]
    return np.sqrt(np.sum(diff * diff, axis=1))


def frame_of(model: Any, lay: MapLayout, week: int) -> MapFrame:
    """This week of the map, copied from the model (cheap: the sample's few thousand codes)."""
    cus, con = model.customers, model.contacts
    idx = lay.cus_idx
    eng = np.asarray(model.colleagues.engagement)[lay.col_idx]
    col = np.clip(np.rint(100 * eng), 0, 100).astype(np.uint8)
    status = np.asarray(cus.status)[idx]
    ltr = np.asarray(cus.ltr)[idx]
    code = np.clip(np.rint(10 * ltr), 0, 100).astype(np.uint8)
    code[status == CHURNED] = CHURNED_CODE
    code[(status != ACTIVE) & (status != CHURNED)] = PROSPECT_CODE
    img = None
    image = getattr(cus, "image", None)
    if image is not None:
        dist = image_distance(np.asarray(image)[idx], lay.brand)
        img = np.clip(np.rint(100 * dist), 0, 100).astype(np.uint8)
    who = lay.local[np.asarray(con.customer)]
    by = lay.anchor[np.asarray(con.colleague)] if len(con.colleague) else np.zeros(0, np.int64)
    keep = np.flatnonzero((who >= 0) & (by >= 0))[:MAX_CONTACTS]
    exp = np.clip(np.rint(100 * np.asarray(con.experience)[keep]), 0, 100)
    contacts = np.column_stack([by[keep], who[keep], exp]).astype(np.int32)
    wom = _word_of_mouth(model, lay, status)
    summary = {
        "contacts": int(len(keep)),
        "bad_contacts": int(np.count_nonzero(exp < 40)),
        "wom_good": int(np.count_nonzero(wom[:, 2] > 0)),
        "wom_bad": int(np.count_nonzero(wom[:, 2] < 0)),
        "active": int(np.count_nonzero(status == ACTIVE)),
    }
    if img is not None:
        act = status == ACTIVE
        summary["image_distance"] = round(float(dist[act].mean()) if act.any() else 0.0, 3)
        for k in ("brand_image_distance", "brand_image_spread"):  # the company's, if any
            v = getattr(model, "kpis", {}).get(k)
            if v is not None and np.isfinite(v):
                summary[f"{k}_all"] = round(float(v), 3)
    return MapFrame(int(week), col, code, img, contacts, wom, summary)


def _word_of_mouth(model: Any, lay: MapLayout, status: np.ndarray) -> np.ndarray:
    """(speaker, hearer, valence) for sampled customers who spoke this week, to each
    neighbour in their cluster (the word of mouth the receipt pass carries along the social
    ties; like the ties drawn, messages to other clusters are left out)."""
    net = model.social
    speak = np.asarray(model.customers.speak)[lay.cus_idx]
    who = np.flatnonzero(speak != 0)
    if not len(who):
        return np.zeros((0, 3), np.int32)
    nodes = lay.cus_idx[who]
    starts, ends = net.indptr[nodes], net.indptr[nodes + 1]
    src = np.repeat(who, ends - starts)
    nbr = net.indices[np.concatenate([np.arange(a, b) for a, b in zip(starts, ends,
                                                                       strict=True)])]
    dst = lay.local[nbr]
    keep = np.flatnonzero((dst >= 0) & (lay.cluster[np.maximum(dst, 0)] == lay.cluster[src]))
    keep = keep[:MAX_WOM]
    return np.column_stack([src[keep], dst[keep], speak[src[keep]]]).astype(np.int32)


def frame_delta(frame: MapFrame, shown: MapFrame | None) -> dict[str, Any]:
    """What a page must be sent to show `frame` when it shows `shown` (None: everything):
    the colour codes that changed (index, code pairs), and this week's contacts and word of
    mouth (new each week)."""
    def changed(new: np.ndarray | None, old: np.ndarray | None) -> list[int] | None:
        if new is None:
            return None
        if old is None or len(old) != len(new):
            k = np.arange(len(new))
        else:
            k = np.flatnonzero(new != old)
        return np.column_stack([k, new[k]]).ravel().astype(int).tolist()

    return {
        "week": frame.week,
        "full": shown is None,
        "col": changed(frame.col, None if shown is None else shown.col),
        "cus": changed(frame.cus, None if shown is None else shown.cus),
        "img": changed(frame.img, None if shown is None else shown.img),
        "contacts": frame.contacts.ravel().astype(int).tolist()
        if shown is None or shown.week != frame.week else None,
        "wom": frame.wom.ravel().astype(int).tolist()
        if shown is None or shown.week != frame.week else None,
        "summary": frame.summary,
    }
