"""Drawing shared by the live dashboard and the animations: a stable network layout, computed
once per model, and the matplotlib network panels of the animations (the dashboard draws the
same layout with Vega-Lite, see charts.py).

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
from .network import colleague_layout  # noqa: E402

SEGMENT_COLOURS = {"promoter": "#1a9850", "passive": "#fdae61", "detractor": "#d73027"}
ROLE_MARKERS = {LEADER: "*", MANAGER: "s", FRONTLINE: "o", BACKOFFICE: "^"}
ROLE_SIZES = {LEADER: 160, MANAGER: 60, FRONTLINE: 28, BACKOFFICE: 28}
FIT_CMAP = plt.get_cmap("RdYlGn")
FIT_NORM = Normalize(0.2, 0.8)


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
    col_idx, xy, labels, col_edges = colleague_layout(model.org, max_colleagues, rng)
    cus_idx, cus_xy, cus_edges = _customer_sample(model, max_customers, rng, seed)
    return Layout(col_idx, xy, col_edges, labels, cus_idx, cus_xy, cus_edges)


def _customer_sample(model, max_customers: int, rng: np.random.Generator, seed: int
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A connected snowball sample of the social network, spring layout once."""
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
    return cus_idx, cus_xy, cus_edges


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


def draw_organisation(ax: Axes, lay: Layout, fit: np.ndarray, role: np.ndarray,
                      font: float = 10.0) -> None:
    """Colleagues by role (marker) and department (sector), coloured by brand fit.

    Takes recorded arrays (the drawn colleagues' fit and role), not the model, so a whole run
    can be simulated first and drawn afterwards on fixed axes."""
    ax.clear()
    ax.set_title("Colleagues: brand fit", fontsize=font * 1.3, loc="left")
    ax.add_collection(LineCollection(lay.col_edges, colors="#bbbbbb", linewidths=0.8, zorder=1))
    k = (font / 10.0) ** 2
    for r, marker in ROLE_MARKERS.items():
        sel = role == r
        if sel.any():
            ax.scatter(lay.col_xy[sel, 0], lay.col_xy[sel, 1], c=fit[sel], cmap=FIT_CMAP,
                       norm=FIT_NORM, marker=marker, s=ROLE_SIZES[r] * k,
                       edgecolors="#333333", linewidths=0.6, zorder=2)
    for name, x, y in lay.dept_labels:
        ax.text(x, y, name.replace("_", " "), ha="center", va="center", fontsize=font,
                color="#444444")
    from matplotlib.lines import Line2D

    names = {LEADER: "leader", MANAGER: "manager", FRONTLINE: "front line",
             BACKOFFICE: "back office"}
    handles = [Line2D([], [], ls="", marker=m, color="#888888", label=names[r],
                      markersize=font * 0.8) for r, m in ROLE_MARKERS.items()]
    ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, -0.14), ncol=2,
              fontsize=font, frameon=False, handletextpad=0.2, columnspacing=0.8)
    ax.set_xlim(-1.45, 1.45)
    ax.set_ylim(-1.4, 1.4)
    ax.set_aspect("equal")
    ax.axis("off")


def draw_customers(ax: Axes, lay: Layout, status: np.ndarray, segment: np.ndarray,
                   font: float = 10.0) -> None:
    """A sample of customers: promoters, passives, detractors; prospects and churned."""
    ax.clear()
    ax.set_title(f"Customers (a sample of {len(lay.cus_idx)})", fontsize=font * 1.3, loc="left")
    ax.add_collection(LineCollection(lay.cus_edges, colors="#cccccc", linewidths=0.6, zorder=1))
    xy = lay.cus_xy
    k = (font / 10.0) ** 2
    act = status == ACTIVE
    for code, name in enumerate(("detractor", "passive", "promoter")):
        sel = act & (segment == code)
        ax.scatter(xy[sel, 0], xy[sel, 1], s=22 * k, c=SEGMENT_COLOURS[name], label=name,
                   edgecolors="white", linewidths=0.3, zorder=3)
    pro = (status != ACTIVE) & (status != CHURNED)
    ax.scatter(xy[pro, 0], xy[pro, 1], s=14 * k, facecolors="none", edgecolors="#aaaaaa",
               linewidths=0.8, label="prospect", zorder=2)
    gone = status == CHURNED
    ax.scatter(xy[gone, 0], xy[gone, 1], s=14 * k, c="#222222", marker="x", linewidths=1.0,
               label="churned", zorder=2)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, -0.14), ncol=3, fontsize=font,
              frameon=False, handletextpad=0.2, columnspacing=0.8)
    ax.set_xlim(-1.15, 1.15)
    ax.set_ylim(-1.15, 1.15)
    ax.set_aspect("equal")
    ax.axis("off")
