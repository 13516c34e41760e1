"""Drawing shared by the live dashboard and the animations: a stable network layout, computed
once per model, and matplotlib panels for the network and the headline curves.

Colleagues sit in a radial layout: one sector per department, leaders near the centre, managers
in the middle ring, front line and back office on the rim (grouped by team); the marker shows the
role and the colour the colleague's brand fit. Customers are a connected sample of the social
network (snowball from a few seeds) laid out once with a seeded spring layout; the colour shows
promoter / passive / detractor, grey rings are prospects and crosses churned customers.
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402
from matplotlib.colors import Normalize  # noqa: E402

from ..constants import ACTIVE, CHURNED, DETRACTOR_MAX, PROMOTER_MIN  # noqa: E402
from ..networks import BACKOFFICE, FRONTLINE, LEADER, MANAGER  # noqa: E402

SEGMENT_COLOURS = {"promoter": "#1a9850", "passive": "#fdae61", "detractor": "#d73027"}
ROLE_MARKERS = {LEADER: "*", MANAGER: "s", FRONTLINE: "o", BACKOFFICE: "^"}
ROLE_SIZES = {LEADER: 160, MANAGER: 60, FRONTLINE: 28, BACKOFFICE: 28}
FIT_CMAP = plt.get_cmap("RdYlGn")
FIT_NORM = Normalize(0.2, 0.8)
CURVES = (("nps", "NPS"), ("engagement", "Engagement"), ("active_customers", "Active customers"),
          ("profit", "Profit per week"))


@dataclass
class Layout:
    """Positions computed once: colleagues drawn, customers sampled, and their ties."""

    col_idx: np.ndarray
    col_xy: np.ndarray
    col_edges: np.ndarray  # (k, 2, 2) segments between drawn colleagues
    dept_labels: list[tuple[str, float, float]]
    cus_idx: np.ndarray
    cus_xy: np.ndarray
    cus_edges: np.ndarray


def compute_layout(model, max_colleagues: int = 400, max_customers: int = 300,
                   seed: int = 7) -> Layout:
    """The stable layout of a model's networks (a few hundred nodes at most, seeded)."""
    rng = np.random.default_rng(seed)
    org = model.org
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

    # customers: a connected snowball sample of the social network, spring layout once
    net = model.social
    order: list[int] = []
    seen = np.zeros(net.n, bool)
    starts = rng.permutation(net.n)
    for s in starts:
        if len(order) >= max_customers:
            break
        if seen[s]:
            continue
        frontier = [int(s)]
        seen[s] = True
        grabbed = 0
        while frontier and len(order) < max_customers and grabbed < max_customers // 6:
            v = frontier.pop(0)
            order.append(v)
            grabbed += 1
            for u in net.indices[net.indptr[v]:net.indptr[v + 1]]:
                if not seen[u]:
                    seen[u] = True
                    frontier.append(int(u))
    cus_idx = np.array(sorted(order), dtype=np.int64)
    local = np.full(net.n, -1)
    local[cus_idx] = np.arange(len(cus_idx))
    g = nx.Graph()
    g.add_nodes_from(range(len(cus_idx)))
    for k, v in enumerate(cus_idx):
        for u in net.indices[net.indptr[v]:net.indptr[v + 1]]:
            if local[u] > k:
                g.add_edge(k, int(local[u]))
    pos = nx.spring_layout(g, seed=seed, iterations=60)
    cus_xy = np.array([pos[k] for k in range(len(cus_idx))]).reshape(-1, 2)
    if len(cus_xy):
        cus_xy = (cus_xy - cus_xy.mean(0)) / max(np.abs(cus_xy).max(), 1e-9)
    cus_edges = np.array([(cus_xy[a], cus_xy[b]) for a, b in g.edges()]).reshape(-1, 2, 2)
    return Layout(col_idx, xy, col_edges, labels, cus_idx, cus_xy, cus_edges)


def layout_of(model) -> Layout:
    """The model's layout, computed on first use and kept on the model."""
    lay = getattr(model, "_viz_layout", None)
    if lay is None:
        lay = compute_layout(model)
        model._viz_layout = lay
    return lay


def segments(ltr: np.ndarray) -> np.ndarray:
    """0 detractor, 1 passive, 2 promoter for each likelihood to recommend."""
    return np.where(ltr >= PROMOTER_MIN, 2, np.where(ltr < DETRACTOR_MAX, 0, 1))


def draw_organisation(ax: Axes, model, lay: Layout) -> None:
    """Colleagues by role (marker) and department (sector), coloured by brand fit."""
    ax.clear()
    ax.set_title("Colleagues: brand fit", fontsize=10)
    ax.add_collection(LineCollection(lay.col_edges, colors="#bbbbbb", linewidths=0.5, zorder=1))
    fit = model.brand_fit()[lay.col_idx]
    role = model.org.role[lay.col_idx]
    for r, marker in ROLE_MARKERS.items():
        sel = role == r
        if sel.any():
            ax.scatter(lay.col_xy[sel, 0], lay.col_xy[sel, 1], c=fit[sel], cmap=FIT_CMAP,
                       norm=FIT_NORM, marker=marker, s=ROLE_SIZES[r], edgecolors="#333333",
                       linewidths=0.4, zorder=2)
    for name, x, y in lay.dept_labels:
        ax.text(x, y, name.replace("_", " "), ha="center", va="center", fontsize=7,
                color="#444444")
    from matplotlib.lines import Line2D

    names = {LEADER: "leader", MANAGER: "manager", FRONTLINE: "front line",
             BACKOFFICE: "back office"}
    handles = [Line2D([], [], ls="", marker=m, color="#888888", label=names[r])
               for r, m in ROLE_MARKERS.items()]
    ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, -0.12), ncol=4,
              fontsize=7, frameon=False, handletextpad=0.2, columnspacing=0.8)
    ax.set_xlim(-1.45, 1.45)
    ax.set_ylim(-1.4, 1.4)
    ax.set_aspect("equal")
    ax.axis("off")


def draw_customers(ax: Axes, model, lay: Layout) -> None:
    """A sample of customers: promoters, passives, detractors; prospects and churned."""
    ax.clear()
    ax.set_title("Customers: promoter / passive / detractor", fontsize=10)
    ax.add_collection(LineCollection(lay.cus_edges, colors="#cccccc", linewidths=0.4, zorder=1))
    status = model.customers.status[lay.cus_idx]
    seg = segments(model.customers.ltr[lay.cus_idx])
    xy = lay.cus_xy
    act = status == ACTIVE
    for code, name in enumerate(("detractor", "passive", "promoter")):
        sel = act & (seg == code)
        ax.scatter(xy[sel, 0], xy[sel, 1], s=22, c=SEGMENT_COLOURS[name], label=name,
                   edgecolors="white", linewidths=0.3, zorder=3)
    pro = (status != ACTIVE) & (status != CHURNED)
    ax.scatter(xy[pro, 0], xy[pro, 1], s=14, facecolors="none", edgecolors="#aaaaaa",
               linewidths=0.6, label="prospect", zorder=2)
    gone = status == CHURNED
    ax.scatter(xy[gone, 0], xy[gone, 1], s=14, c="#222222", marker="x", linewidths=0.7,
               label="churned", zorder=2)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, -0.12), ncol=5, fontsize=7,
              frameon=False, handletextpad=0.2, columnspacing=0.8)
    ax.set_xlim(-1.15, 1.15)
    ax.set_ylim(-1.15, 1.15)
    ax.set_aspect("equal")
    ax.axis("off")


def network_figure(model, figsize: tuple[float, float] = (9.0, 4.6)) -> plt.Figure:
    """A new figure with the organisation and customer panels (for the dashboard)."""
    fig = plt.Figure(figsize=figsize, dpi=90)
    ax_org, ax_cus = fig.subplots(1, 2)
    lay = layout_of(model)
    draw_organisation(ax_org, model, lay)
    draw_customers(ax_cus, model, lay)
    sm = plt.cm.ScalarMappable(norm=FIT_NORM, cmap=FIT_CMAP)
    fig.colorbar(sm, ax=ax_org, fraction=0.03, pad=0.0, shrink=0.6, label="brand fit")
    fig.subplots_adjust(left=0.01, right=0.99, top=0.92, bottom=0.08, wspace=0.05)
    return fig


def draw_curves(axes, ts, events: list[tuple[int, str]], steps_total: int | None = None,
                currency: str = "GBP") -> None:
    """NPS, engagement, active customers and profit, with the events as dashed lines.

    Units, ranges and money formats come from cxsim.viz.style, like every other figure.
    """
    from . import style

    for ax, (col, label) in zip(axes, CURVES, strict=True):
        ax.clear()
        ax.set_title(label, fontsize=9)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
        y = ts[col] * style.scale(col) if len(ts) else []
        if len(ts):
            ax.plot(ts["step"], y, color="#2c7fb8", lw=1.6)
        style.style_axis(ax, col, currency, data=list(y), xlabel="")
        ax.yaxis.label.set_fontsize(7)
        if steps_total:
            ax.set_xlim(0, max(steps_total - 1, 1))
        for t, _ in events:
            ax.axvline(t, color="#d73027", ls="--", lw=0.9, alpha=0.8)
    axes[-1].set_xlabel("week", fontsize=8)
    axes[-2].set_xlabel("week", fontsize=8)


def curve_title(col: str, label: str, value: float, currency: str = "GBP") -> str:
    """'Engagement: 52.3' / 'Profit per week: £34,336': the figure on the scale of its axis."""
    from . import style

    return f"{label}: {style.fmt_value(col, value, currency)}"


def curves_figure(model, figsize: tuple[float, float] = (9.0, 4.6)) -> plt.Figure:
    """A new figure with the four headline curves so far (for the dashboard)."""
    fig = plt.Figure(figsize=figsize, dpi=90)
    axes = fig.subplots(2, 2).ravel()
    ts = model.timeseries() if model.t > 0 else _empty()
    currency = model.scenario.money.currency
    draw_curves(axes, ts, model.events_log, currency=currency)
    for ax, (col, label) in zip(axes, CURVES, strict=True):
        if len(ts):
            ax.set_title(curve_title(col, label, ts[col].iloc[-1], currency), fontsize=9)
    fig.tight_layout()
    return fig


def _empty():
    import pandas as pd

    return pd.DataFrame({"step": [], **{c: [] for c, _ in CURVES}})
