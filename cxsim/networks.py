"""The three networks: organisation, customers' social network, and process chains.

Kernels read networks as CSR arrays (``indptr``, ``indices``), built once. networkx graphs are
the user-facing view: built eagerly for small models, and on demand above
``social.networkx_max_nodes`` where networkx construction would dominate the build time.

Example
-------
>>> import numpy as np
>>> from cxsim.scenario import load_scenario
>>> sc = load_scenario("baseline", {"size.customers": 2000, "size.prospects": 100})
>>> org = build_organisation(sc, np.random.default_rng(0))
>>> org.graph().number_of_nodes() == sc.n_colleagues
True
"""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx
import numpy as np

from . import orgfile
from .constants import (
    BACKOFFICE,
    CHANNELS,
    CROSS_DEPARTMENT,
    CROSS_TEAM,
    FRONTLINE,
    LEADER,
    MANAGER,
    ROLES,
    WITHIN_TEAM,
)
from .scenario import Scenario, ScenarioError


@dataclass
class Organisation:
    """Structure of the organisation; colleagues are indexed 0..n-1."""

    role: np.ndarray  # int8, one of ROLES
    department: np.ndarray  # int32 index into department_names
    team: np.ndarray  # int32 team (unit) index
    channel: np.ndarray  # int8 index into CHANNELS for front line, -1 otherwise
    manager: np.ndarray  # int32 colleague index of the line manager, -1 at the top
    department_names: list[str]
    department_is_channel: np.ndarray  # bool per department
    team_department: np.ndarray  # int32 department of each team
    indptr: np.ndarray  # CSR of peer ties (both directions)
    indices: np.ndarray
    edge_kind: np.ndarray  # WITHIN_TEAM / CROSS_TEAM / CROSS_DEPARTMENT per CSR entry
    _graph: nx.Graph | None = field(default=None, repr=False)
    team_names: list[str] | None = None  # the file's own team labels (None: built, 0..n-1)

    @property
    def n(self) -> int:
        return len(self.role)

    @property
    def n_teams(self) -> int:
        return len(self.team_department)

    def graph(self) -> nx.Graph:
        """networkx view: node attributes role/department/team/channel, edges kind=peer|..."""
        if self._graph is None:
            self._graph = organisation_graph(self)
        return self._graph


def organisation_graph(org: Organisation) -> nx.Graph:
    g = nx.Graph()
    for i in range(org.n):
        g.add_node(i, role=ROLES[org.role[i]], department=org.department_names[org.department[i]],
                   team=int(org.team[i]),
                   channel=CHANNELS[org.channel[i]] if org.channel[i] >= 0 else "")
    kinds = ("team", "cross_team", "cross_department")
    src = np.repeat(np.arange(org.n), np.diff(org.indptr))
    keep = src < org.indices
    g.add_edges_from((int(a), int(b), {"kind": kinds[k]})
                     for a, b, k in zip(src[keep], org.indices[keep], org.edge_kind[keep],
                                        strict=True))
    for i in np.flatnonzero(org.manager >= 0):
        m = int(org.manager[i])
        if g.has_edge(i, m):
            g.edges[i, m]["reports_to"] = True
        else:
            g.add_edge(int(i), m, kind="reports_to")
    return g


def _departments(sc: Scenario) -> tuple[list[str], np.ndarray]:
    """Departments: the store and contact-centre front lines, then one per process step.

    A generated organisation has no digital department: while the digital channel is offered,
    part of the contact centre serves it (`population.digital_redeployment`), so a scenario
    that launches digital has the same organisation, and the same random draws, as one that
    does not until the launch.
    """
    channels = [c for c in CHANNELS if c != "digital"]
    names = channels + list(sc.process.steps)
    return names, np.array([n in CHANNELS for n in names])


def build_organisation(sc: Scenario, rng: np.random.Generator) -> Organisation:
    """Generate the organisation from scenario sizes, or load it from `organisation.file`."""
    if sc.organisation.file:
        return load_organisation(sc.organisation.file, sc, rng)
    o = sc.organisation
    n = sc.n_colleagues
    names, is_channel = _departments(sc)
    n_leaders = o.leaders if o.leaders is not None else max(3, round(n / 150))
    n_leaders = min(n_leaders, max(1, n // 4))
    rest = n - n_leaders
    n_teams = max(len(names), round(rest / o.team_size))
    n_teams = min(n_teams, rest // 2)
    if n_teams < len(names):
        raise ScenarioError(f"size: {n} colleagues cannot staff {len(names)} departments "
                            f"with teams of {o.team_size}; allowed: at least "
                            f"{n_leaders + 2 * len(names)} colleagues", source="size.colleagues")
    # teams per department: front-line share split by channel_staff, back office evenly
    chan_names = [c for c in names if c in CHANNELS]
    weights = np.array([o.channel_staff.get(c, 0.0) for c in chan_names], dtype=float)
    if weights.sum() <= 0:
        weights[:] = 1.0
    front_teams = max(len(chan_names), round(n_teams * o.frontline_share))
    back_steps = len(names) - len(chan_names)
    front_teams = min(front_teams, n_teams - back_steps)
    per_chan = np.maximum(1, np.floor(front_teams * weights / weights.sum()).astype(int))
    while per_chan.sum() < front_teams:
        per_chan[np.argmax(front_teams * weights / weights.sum() - per_chan)] += 1
    while per_chan.sum() > front_teams:
        per_chan[np.argmax(per_chan)] -= 1
    back_total = n_teams - per_chan.sum()
    per_back = np.full(back_steps, back_total // back_steps)
    per_back[: back_total % back_steps] += 1
    team_department = np.repeat(np.arange(len(names)), np.concatenate([per_chan, per_back]))
    n_teams = len(team_department)

    role = np.empty(n, np.int8)
    department = np.empty(n, np.int32)
    team = np.full(n, -1, np.int32)
    manager = np.full(n, -1, np.int32)
    role[:n_leaders] = LEADER
    # leaders head departments round robin; leader 0 is the chief executive
    dept_leader = (np.arange(len(names)) % max(1, n_leaders - 1)) + (1 if n_leaders > 1 else 0)
    department[:n_leaders] = 0
    for d in range(len(names)):
        if dept_leader[d] < n_leaders:
            department[dept_leader[d]] = d
    manager[1:n_leaders] = 0
    # one manager per team, then members round robin over the front-line teams and over the
    # back-office teams (`_member_teams`: frontline_share of the headcount serves customers)
    mgr_idx = n_leaders + np.arange(n_teams)
    role[mgr_idx] = MANAGER
    team[mgr_idx] = np.arange(n_teams)
    department[mgr_idx] = team_department
    manager[mgr_idx] = dept_leader[team_department]
    members = np.arange(n_leaders + n_teams, n)
    member_team = _member_teams(len(members), int(per_chan.sum()), n_teams, rest,
                                o.frontline_share)
    team[members] = member_team
    department[members] = team_department[member_team]
    manager[members] = mgr_idx[member_team]
    role[members] = np.where(is_channel[department[members]], FRONTLINE, BACKOFFICE)
    # leaders sit in a team of their own (the leadership team) for unit figures
    leaders_team = n_teams
    team[:n_leaders] = leaders_team
    team_department = np.append(team_department, department[0]).astype(np.int32)

    channel = np.full(n, -1, np.int8)
    front = role == FRONTLINE
    channel[front] = [CHANNELS.index(names[d]) for d in department[front]]

    src, dst, kind = _peer_edges(team, department, role, o.cross_team_ties,
                                 o.within_department_bias, rng)
    indptr, indices, order = csr_from_edges(n, src, dst)
    edge_kind = np.concatenate([kind, kind])[order]
    org = Organisation(role, department, team, channel, manager, names, is_channel,
                       team_department, indptr, indices, edge_kind.astype(np.int8))
    return org


def _member_teams(n_members: int, front_teams: int, n_teams: int, headcount: int,
                  frontline_share: float) -> np.ndarray:
    """The team of each member (managers excluded): the front-line teams (0 .. front_teams-1)
    take as many as bring their headcount, managers included, to `frontline_share` of
    `headcount`, round robin; the back-office teams the rest, at least one each while members
    last.

    Every back-office step needs a team of its own, so in a small company most teams are back
    office; filling teams evenly would then leave the front line with far less than its share
    (40% of the 57 colleagues below the leaders at 3,000 customers), overloaded at every size
    below about 10,000. Below about 30 colleagues the back office's minimum (a manager and one
    member per step) caps the front line under its share.

    >>> np.bincount(_member_teams(51, 2, 6, 57, 0.7), minlength=6).tolist()
    [19, 19, 4, 3, 3, 3]
    """
    back_teams = n_teams - front_teams
    front = round(headcount * frontline_share) - front_teams
    front = int(min(max(front, 0), max(n_members - back_teams, 0)))
    out = np.empty(n_members, np.int32)
    out[:front] = np.arange(front) % max(front_teams, 1)
    out[front:] = front_teams + np.arange(n_members - front) % max(back_teams, 1)
    return out


def _peer_edges(team, department, role, cross_ties, within_bias, rng):
    """Ties inside each team (complete) plus random cross-team ties (Poisson per colleague)."""
    order = np.argsort(team, kind="stable")
    starts = np.searchsorted(team[order], np.arange(team.max() + 2))
    src_l, dst_l = [], []
    for t in range(team.max() + 1):
        mem = order[starts[t]: starts[t + 1]]
        if len(mem) > 1:
            a, b = np.triu_indices(len(mem), 1)
            src_l.append(mem[a])
            dst_l.append(mem[b])
    src = np.concatenate(src_l) if src_l else np.empty(0, np.int64)
    dst = np.concatenate(dst_l) if dst_l else np.empty(0, np.int64)
    kind = np.full(len(src), WITHIN_TEAM, np.int8)
    n = len(team)
    k = rng.poisson(cross_ties / 2.0, size=n)  # each tie has two ends
    a = np.repeat(np.arange(n), k)
    same_dept = rng.random(len(a)) < within_bias
    dept_order = np.argsort(department, kind="stable")
    dstarts = np.searchsorted(department[dept_order], np.arange(department.max() + 2))
    b = rng.integers(0, n, size=len(a))
    # within-department ties: draw from the colleague's own department
    da = department[a[same_dept]]
    size = dstarts[da + 1] - dstarts[da]
    b[same_dept] = dept_order[dstarts[da] + (rng.random(len(da)) * size).astype(np.int64)]
    ok = (team[a] != team[b]) & (a != b)
    a, b = a[ok], b[ok]
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    key = np.unique(lo.astype(np.int64) * n + hi)
    lo, hi = key // n, key % n
    ck = np.where(department[lo] == department[hi], CROSS_TEAM, CROSS_DEPARTMENT).astype(np.int8)
    return (np.concatenate([src, lo]).astype(np.int64), np.concatenate([dst, hi]).astype(np.int64),
            np.concatenate([kind, ck]))


def load_organisation(path: str, sc: Scenario,
                      rng: np.random.Generator | None = None) -> Organisation:
    """Load an organisation from a client's org chart (`cxsim.orgfile`: CSV or GraphML).

    Node attributes: ``role`` (leader, manager, frontline, backoffice), ``department`` (a channel
    name for front line, a process step for back office), ``team`` (the client's unit label),
    and ``manager`` (id of the line manager). Edges, where the file has them, are peer ties; an
    edge ``kind = "reports_to"`` is a reporting line instead (from report to manager). A node
    list without edges gets the peer ties of a generated organisation, drawn with `rng`
    (everybody in a team, plus `organisation.cross_team_ties` across teams).
    """
    names, is_channel = _departments(sc)
    try:
        rec = orgfile.read(path, tuple(names), tuple(n for n in names if n in CHANNELS))
    except orgfile.OrgFileError as exc:
        raise ScenarioError(str(exc)) from None
    return _organisation_from_records(rec, sc, rng)


def _organisation_from_records(rec: orgfile.OrgRecords, sc: Scenario,
                               rng: np.random.Generator | None) -> Organisation:
    n = rec.n
    names, is_channel = _departments(sc)
    role = np.array([ROLES.index(r) for r in rec.role], np.int8)
    department = np.array([names.index(d) for d in rec.department], np.int32)
    team_labels: dict[str, int] = {}
    team = np.array([team_labels.setdefault(t, len(team_labels)) for t in rec.team], np.int32)
    manager = np.array(rec.manager, np.int32)
    channel = np.full(n, -1, np.int8)
    front = role == FRONTLINE
    channel[front] = [CHANNELS.index(names[d]) for d in department[front]]
    team_department = np.zeros(len(team_labels), np.int32)
    team_department[team] = department
    if rec.has_edges:
        s = np.array([a for a, _ in rec.peer_edges], np.int64)
        d = np.array([b for _, b in rec.peer_edges], np.int64)
        kind = np.where(team[s] == team[d], WITHIN_TEAM,
                        np.where(department[s] == department[d], CROSS_TEAM, CROSS_DEPARTMENT))
    else:
        o = sc.organisation
        s, d, kind = _peer_edges(team, department, role, o.cross_team_ties,
                                 o.within_department_bias,
                                 rng if rng is not None else np.random.default_rng(0))
    indptr, indices, order = csr_from_edges(n, s, d)
    edge_kind = np.concatenate([kind, kind])[order].astype(np.int8)
    return Organisation(role, department, team, channel, manager, names, is_channel,
                        team_department, indptr, indices, edge_kind,
                        team_names=list(team_labels))


# -- customers' social network ------------------------------------------------------------------

@dataclass
class SocialNetwork:
    indptr: np.ndarray
    indices: np.ndarray
    tribe: np.ndarray  # int32 tribe of each node
    tribe_centre: np.ndarray  # (tribes, 5) personality centre of each tribe
    _graph: nx.Graph | None = field(default=None, repr=False)

    @property
    def n(self) -> int:
        return len(self.indptr) - 1

    def degree(self) -> np.ndarray:
        return np.diff(self.indptr)

    def graph(self) -> nx.Graph:
        """networkx view of the social network (built on first use for large models)."""
        if self._graph is None:
            self._graph = csr_to_graph(self.indptr, self.indices)
            nx.set_node_attributes(self._graph, dict(enumerate(self.tribe.tolist())), "tribe")
        return self._graph


def csr_to_graph(indptr: np.ndarray, indices: np.ndarray) -> nx.Graph:
    g = nx.Graph()
    n = len(indptr) - 1
    g.add_nodes_from(range(n))
    src = np.repeat(np.arange(n), np.diff(indptr))
    keep = src < indices
    g.add_edges_from(zip(src[keep].tolist(), indices[keep].tolist(), strict=True))
    return g


def rules(engine: str):
    """The module implementing the rules for `engine`: the numba kernels or the numpy twins.

    Imported here, not at the top, so that ``engine="reference"`` never imports numba.
    """
    if engine == "numba":
        from . import kernels
        return kernels
    if engine == "reference":
        from . import reference
        return reference
    raise ValueError(f"engine = {engine!r}; allowed: numba, reference")


def index_dtype(n: int) -> type:
    """int32 for node and edge indices while they fit (they do below two billion), else int64:
    half the bytes of the networks' largest arrays, the same values."""
    return np.int32 if n < 2**31 - 1 else np.int64


def csr_from_edges(n: int, src: np.ndarray, dst: np.ndarray, engine: str = "reference"):
    """Symmetric CSR from an undirected edge list; also the permutation of [src,dst | dst,src].

    `indices` and the permutation are int32 while the node and entry counts allow
    (`index_dtype`), `indptr` int64. The organisation's ties use numpy's stable sort (the same
    CSR as the kernel's counting sort, tested; an organisation is small and needs no
    compilation); the social network asks for its model's engine.
    """
    m = len(src)
    dtype = index_dtype(max(n, 2 * m))
    a = np.empty(2 * m, dtype)  # [src, dst] and [dst, src], written once each (no copies)
    b = np.empty(2 * m, dtype)
    a[:m] = src
    a[m:] = dst
    b[:m] = dst
    b[m:] = src
    return rules(engine).csr_from_edges(n, a, b)


def _by_tribe(tribe: np.ndarray, src: np.ndarray, dst: np.ndarray):
    """Number the nodes tribe by tribe (in growth order within a tribe): the same network,
    relabelled so that most ties (homophily) join nodes stored close together.

    The word-of-mouth receipt reads every neighbour's slots at random; with the nodes of one
    tribe side by side, those reads stay within one tribe's block of memory, which cache holds
    far better than the whole network's once the model outgrows the cache (millions of
    customers).
    """
    order = np.argsort(tribe, kind="stable")
    label = np.empty_like(order)
    label[order] = np.arange(len(order))
    label = label.astype(src.dtype)
    return tribe[order], label[src], label[dst]


def build_social(sc: Scenario, n_nodes: int, rng: np.random.Generator,
                 engine: str = "numba", eager_graph: bool = True) -> SocialNetwork:
    """Tribal powerlaw-cluster network (clustered, heavy-tailed, homophilous) or Erdos-Renyi.

    The networkx view is built here when `eager_graph` and the network is at most
    ``social.networkx_max_nodes``; otherwise on the first call of ``graph()``.
    """
    s = sc.social
    tribe = rng.integers(0, s.tribes, size=n_nodes).astype(np.int32)
    centre = rng.uniform(s.tribe_centre_low, s.tribe_centre_high, size=(s.tribes, 5))
    if s.kind == "random":
        m = int(round(n_nodes * s.mean_degree / 2))
        a = rng.integers(0, n_nodes, size=int(m * 1.05) + 10)
        b = rng.integers(0, n_nodes, size=len(a))
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        key = np.unique(lo[lo != hi].astype(np.int64) * n_nodes + hi[lo != hi])
        key = rng.permutation(key)[:m]
        src, dst = key // n_nodes, key % n_nodes
    else:
        half = s.mean_degree / 2.0
        slots = int(np.ceil(half))
        draws = rng.random(n_nodes * max(slots, 1) * 8 + 64)
        targets = rules(engine).tribal_powerlaw_cluster(tribe, slots, half, s.triad_probability,
                                                        s.homophily, draws)
        del draws  # the largest array of the build (8 doubles per slot): free it before the CSR
        t = targets.ravel()
        ok = t >= 0
        del targets
        src = (np.flatnonzero(ok) // slots).astype(index_dtype(n_nodes))
        dst = t[ok]
        del t, ok
    if s.kind != "random":
        tribe, src, dst = _by_tribe(tribe, src, dst)
    indptr, indices, _ = csr_from_edges(n_nodes, src, dst, engine)
    net = SocialNetwork(indptr, indices, tribe, centre)
    if eager_graph and n_nodes <= s.networkx_max_nodes:
        net.graph()
    return net


# -- process chains and service contacts ---------------------------------------------------------

def chain_matrix(sc: Scenario) -> tuple[list[str], np.ndarray]:
    """(step names, bool matrix channels x steps) saying which steps sit behind which channel."""
    steps = list(sc.process.steps)
    m = np.zeros((len(CHANNELS), len(steps)), dtype=np.bool_)
    for ch, chain in sc.process.chains.items():
        for s in chain:
            m[CHANNELS.index(ch), steps.index(s)] = True
    return steps, m


def process_graph(sc: Scenario, quality: np.ndarray | None = None) -> nx.DiGraph:
    """Each channel as an ordered chain of back-office steps: channel -> step -> ... -> 'done'."""
    g = nx.DiGraph()
    steps = list(sc.process.steps)
    q = dict(zip(steps, quality if quality is not None else sc.process.steps.values(),
                 strict=True))
    for ch, chain in sc.process.chains.items():
        g.add_node(ch, kind="channel")
        prev = ch
        for s in chain:
            g.add_node(s, kind="process_step", quality=float(q[s]))
            _chain_edge(g, prev, s, ch)
            prev = s
        _chain_edge(g, prev, "done", ch)
    return g


def _chain_edge(g: nx.DiGraph, a: str, b: str, channel: str) -> None:
    """An edge of a channel's chain; `channels` lists every channel whose chain uses it
    (`channel` is the first of them)."""
    if g.has_edge(a, b):
        g.edges[a, b]["channels"].append(channel)
    else:
        g.add_edge(a, b, channel=channel, channels=[channel])


def service_graph(customers: np.ndarray, colleagues: np.ndarray, channel: np.ndarray,
                  experience: np.ndarray) -> nx.Graph:
    """Bipartite graph of one step's service contacts (customer 'c<i>', colleague 'e<j>')."""
    g = nx.Graph()
    for c, e, ch, x in zip(customers.tolist(), colleagues.tolist(), channel.tolist(),
                           experience.tolist(), strict=True):
        g.add_node(f"c{c}", bipartite=0)
        g.add_node(f"e{e}", bipartite=1)
        g.add_edge(f"c{c}", f"e{e}", channel=CHANNELS[ch], experience=x)
    return g
