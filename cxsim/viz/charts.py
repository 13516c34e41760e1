"""Vega-Lite charts (built with Altair) for the live dashboard, drawn by the browser.

Why in the browser: a step used to redraw two matplotlib figures on the server (about a second
per week). A Vega-Lite spec of a few hundred numbers is built in milliseconds and the browser
draws it. The charts are made to be read from the back of a room: fixed y ranges (a wobble of
0.3 points no longer looks like a crash), axis titles with units, text >= 14 px, events drawn
and labelled, scheduled ones (grey) before they happen. Each label hangs from a dot on its own
event's line, on a row chosen so that no other event's line runs through it (`label_layout`).
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import altair as alt
import numpy as np

from .session import Snapshot

FONT = 16  # axis labels and titles (px); chart text never below 14 px
# the browser runs the Vega-Lite 5 that solara-assets ships; the specs use nothing newer
VL_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
# no "..." export menu on a projector; SVG keeps text crisp (and measurable by the tests)
EMBED = {"embedOptions": {"actions": False, "renderer": "svg"}}
# the network's ~700 marks redraw faster on a canvas than as SVG nodes every week
EMBED_CANVAS = {"embedOptions": {"actions": False, "renderer": "canvas"}}
BLUE, RED, GREY, ORANGE = "#1f5fa8", "#c62828", "#757575", "#e66100"


def money(v: float, symbol: str = "£") -> str:
    """£12,345 / -£1,234: integer currency for the headline tiles."""
    if v is None or not math.isfinite(v):
        return "-"
    sign = "-" if v < 0 else ""
    return f"{sign}{symbol}{abs(v):,.0f}"


def moving_average(values: tuple[float, ...] | list[float], n: int = 4) -> list[float]:
    """Trailing n-week mean (shorter at the start): profit without the hiring-cost spikes."""
    a = np.asarray(values, dtype=float)
    ok = np.isfinite(a)
    c = np.concatenate([[0.0], np.cumsum(np.where(ok, a, 0.0))])
    m = np.concatenate([[0], np.cumsum(ok)])
    idx = np.arange(1, len(a) + 1)
    k = np.minimum(idx, n)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (c[idx] - c[idx - k]) / (m[idx] - m[idx - k])
    return [float(v) for v in out]


def x_domain(snap: Snapshot) -> list[int]:
    """Weeks shown: at least 52, in steps of 26, covering scheduled events (stable, not auto)."""
    last = max([snap.week] + [e.step + 4 for e in snap.planned])
    return [0, max(52, int(math.ceil((last + 1) / 26.0)) * 26)]


def _domain(values: tuple[float, ...], lo: float, hi: float, step: float) -> list[float]:
    """A fixed range that only grows (in whole `step`s) if the data leave it."""
    finite = [v for v in values if math.isfinite(v)]
    if finite:
        lo = min(lo, math.floor(min(finite) / step) * step)
        hi = max(hi, math.ceil(max(finite) / step) * step)
    return [lo, hi]


def panel_specs(snap: Snapshot) -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    """(key, title, spec, datasets) for the four curves: NPS, engagement, customers, profit.

    The spec is shared and only changes with the axis ranges; the datasets carry the rows."""
    s = snap.series
    weeks = list(range(len(s.get("nps", ()))))
    pop = float(snap.customers * 2)  # customers and as many prospects
    profit0 = next((abs(v) for v in s.get("profit", ()) if math.isfinite(v)), 0.0)
    mag = 10 ** math.floor(math.log10(max(profit0, 1.0)))
    p_hi = max(1000.0, mag * math.ceil(2 * profit0 / mag))
    panels = [
        ("nps", "NPS as the survey measures it (points)",
         [list(s.get("nps", ())), list(s.get("nps_measured", ()))],
         _domain(tuple(s.get("nps", ())) + tuple(s.get("nps_measured", ())), -50, 50, 25),
         "+d", "thin: true NPS (model only)"),
        ("engagement", "Colleague engagement (%)",
         [[100 * v for v in s.get("engagement", ())]], (0, 100), "d", ""),
        ("active_customers", "Active customers",
         [list(s.get("active_customers", ()))],
         _domain(s.get("active_customers", ()), 0, pop, pop / 4), ",d", ""),
        ("profit", f"Profit per week ({snap.currency.strip()}, 4-week average)",
         [list(s.get("profit", ())), moving_average(s.get("profit", ()))],
         _domain(s.get("profit", ()), 0.0, p_hi, p_hi / 4), ",d",
         "thin: each week; its dips are the hiring costs of leavers"),
    ]
    xdom = tuple(x_domain(snap))
    events, labels = _event_rows(snap, xdom)
    b = snap.series_b
    transforms = {"nps": list, "engagement": lambda v: [100 * x for x in v],
                  "active_customers": list, "profit": moving_average}
    shown_b = {"nps": "nps_measured"}  # the other run's thick line: what its company sees
    out = []
    for key, title, lines, ydom, fmt, note in panels:
        line_b = transforms[key](b.get(shown_b.get(key, key), ())) if b else None
        if line_b:
            ydom = [min(ydom[0], _domain(line_b, ydom[0], ydom[1], 25)[0]),
                    max(ydom[1], _domain(line_b, ydom[0], ydom[1], 25)[1])]
            note = f"orange dashed: {snap.compare}, same seed" + (
                "; " + note.split(";")[0].split(" (")[0] if note else "")
        spec = curve_template(title, len(lines), tuple(ydom), xdom, fmt, note)
        main = lines[-1]
        datasets = {
            "main": _rows(weeks, main),
            "raw": _rows(weeks, lines[0]) if len(lines) > 1 else [],
            "last": _rows(weeks, main)[-1:],
            "b": _rows(weeks, line_b) if line_b else [],
            "events": events, "labels": labels}
        out.append((key, title, spec, datasets))
    return out


def _rows(weeks: list[int], values: list[float]) -> list[dict[str, Any]]:
    """{"week", "value"} rows; a missing figure (NaN: no burn-in) becomes null, valid JSON."""
    return [{"week": w, "value": v if math.isfinite(v) else None}
            for w, v in zip(weeks, values, strict=False)]


#: event labels: rows of text from the top of the plot (px), at most this many rows
LABEL_ROW_PX, LABEL_TOP_PX, LABEL_ROWS = 18, 13, 4
#: a generous guess at a label's width (bold 14 px: about 7 px a character, plus its dot) and
#: the narrowest plot (1280x720, ~370 px), so that labels kept apart here are apart on screen
LABEL_CHAR_PX, LABEL_PAD_PX, NARROWEST_PLOT_PX = 8.0, 16.0, 360.0


def _event_rows(snap: Snapshot, xdom: tuple[int, int] | None = None
                ) -> tuple[list[dict], list[dict]]:
    """Fired events (red) and scheduled ones not yet fired (grey); labels for the last few.

    Each label hangs like a flag from its own line: a dot on the line at the label's height,
    the text beside the dot, and the line running down from the dot (not above it).
    `label_layout` picks the heights and sides so that no text crosses another event's line.
    """
    rows = [{"week": t, "kind": "fired"} for t, _, _ in snap.fired]
    labels = [{"week": t, "label": cap or lab, "kind": "fired"}
              for t, lab, cap in snap.fired[-3:]]  # many live clicks: label only the last few
    for e in snap.planned:
        if e.step >= snap.week:
            rows.append({"week": e.step, "kind": "planned"})
            labels.append({"week": e.step, "label": e.caption or e.label, "kind": "planned"})
    for step, text in snap.captions.items():  # the storyboard's captions, until they come
        if step >= snap.week:
            rows.append({"week": step, "kind": "planned"})
            labels.append({"week": step, "label": text, "kind": "planned"})
    labels.sort(key=lambda r: r["week"])
    label_layout(labels, tuple(xdom or x_domain(snap)))
    top: dict[int, float] = {}
    for r in labels:
        r["y"] = LABEL_TOP_PX + LABEL_ROW_PX * r["row"]
        top[r["week"]] = min(top.get(r["week"], r["y"]), r["y"])
    for r in rows:  # a labelled line starts at its (highest) label's dot
        r["top"] = top.get(r["week"], 0.0)
    return rows, labels


def _span(r: dict, side: str, weeks_per_px: float) -> tuple[float, float]:
    """The weeks a label's text would cover (estimated), from its line toward `side`."""
    w = (LABEL_CHAR_PX * len(r["label"]) + LABEL_PAD_PX) * weeks_per_px
    return (r["week"], r["week"] + w) if side == "right" else (r["week"] - w, r["week"])


def _clashes(r: dict, side: str, row: int, others: list[dict], xdom: tuple[int, int],
             wpp: float) -> float:
    """How badly label `r` at (side, row) sits among labels already placed: 3 for a text it
    overlaps, 2 for each line it crosses or that crosses it, 1 and a little more the further
    it runs past the plot (where it is cut short)."""
    lo, hi = _span(r, side, wpp)
    past = max(xdom[0] - lo, hi - xdom[1], 0.0)
    cost = (1.0 + past / (xdom[1] - xdom[0])) if past > 0 else 0.0
    for q in others:
        qlo, qhi = _span(q, q["side"], wpp)
        if q["row"] == row and qlo <= hi and lo <= qhi:
            cost += 3  # the texts overlap (or meet at one dot)
        if q["week"] != r["week"]:
            # a line starts at its label's row: a text above that row passes over it
            cost += 2 * (qlo < r["week"] < qhi and row <= q["row"])
            cost += 2 * (lo < q["week"] < hi and row >= q["row"])
    return cost


def label_layout(labels: list[dict], xdom: tuple[int, int]) -> None:
    """Give each label a side (the way its text reads from its line) and a row (0 at the
    top) so that its text neither overlaps another label, nor crosses another labelled
    event's line, nor runs past the plot, as far as `LABEL_ROWS` rows allow.

    Lines start at their label's row, so a text crosses no line that starts below it. Labels
    are placed one by one, each where it clashes least with those placed before; in week
    order and in reverse order, keeping the better of the two (two labels facing each other
    across their lines are what one order alone gets wrong). However crowded, each label
    still hangs from its own line by its dot.
    """
    wpp = (xdom[1] - xdom[0]) / NARROWEST_PLOT_PX
    best: tuple[float, list[tuple[str, int]]] | None = None
    for order in (labels, labels[::-1]):
        placed: list[dict] = []
        for r in order:
            r["side"], r["row"] = min(
                ((side, row) for row in range(LABEL_ROWS) for side in ("right", "left")),
                key=lambda sr, r=r, placed=placed: _clashes(r, *sr, placed, xdom, wpp))
            placed.append(r)
        total = sum(_clashes(r, r["side"], r["row"], labels[:i], xdom, wpp)
                    for i, r in enumerate(labels))
        if best is None or total < best[0]:
            best = (total, [(r["side"], r["row"]) for r in labels])
    for r, (side, row) in zip(labels, best[1] if best else [], strict=False):
        r["side"], r["row"] = side, row


@lru_cache(maxsize=64)
def curve_template(title: str, n_lines: int, ydom: tuple[float, float],
                   xdom: tuple[int, int], fmt: str, note: str) -> dict[str, Any]:
    """One panel's spec without data (built once per axis range): lines on fixed axes, the
    last point marked, event rules with labels. The data go in spec["datasets"]."""
    x = alt.X("week:Q", scale=alt.Scale(domain=list(xdom), nice=False), title="week",
              axis=alt.Axis(tickMinStep=1, format="d"))
    y = alt.Y("value:Q", scale=alt.Scale(domain=list(ydom), nice=False, clamp=True),
              title=None, axis=alt.Axis(format=fmt, tickCount=5))
    color = alt.Color("kind:N", scale=alt.Scale(domain=["fired", "planned"],
                                                range=[RED, GREY]), legend=None)
    layers = []
    if n_lines > 1:
        layers.append(alt.Chart(alt.NamedData("raw")).mark_line(
            color=BLUE, strokeWidth=1.2, opacity=0.35).encode(x=x, y=y))
    layers += [
        alt.Chart(alt.NamedData("b")).mark_line(color=ORANGE, strokeWidth=2.5,
                                                strokeDash=[8, 4]).encode(x=x, y=y),
        alt.Chart(alt.NamedData("main")).mark_line(color=BLUE, strokeWidth=3).encode(x=x, y=y),
        alt.Chart(alt.NamedData("last")).mark_point(color=BLUE, filled=True, size=90)
        .encode(x=x, y=y),
        # each event's line runs down from its label's dot (the top, unlabelled)
        alt.Chart(alt.NamedData("events"), name="event_rule").mark_rule(
            strokeDash=[6, 4], strokeWidth=2).encode(
            x=x, y=alt.YValue(alt.expr("datum.top")), y2=alt.Y2Value(alt.expr("height")),
            color=color),
        alt.Chart(alt.NamedData("labels"), name="event_dot").mark_point(
            filled=True, size=70, opacity=1).encode(
            x=x, y=alt.YValue(alt.expr("datum.y")), color=color),
    ]
    # the text starts at its dot and reads away from it (side from `label_layout`); it is cut
    # (with an ellipsis) at the edge of the plot, so a long label never spills past the axis;
    # a cut label shows in full under the pointer
    for side, align, dx, room in (
            ("right", "left", 7, "width - scale('x', datum.week) - 9"),
            ("left", "right", -7, "scale('x', datum.week) - 9")):
        layers.append(alt.Chart(alt.NamedData("labels"), name=f"event_label_{side}")
                      .transform_filter(f"datum.side == '{side}'").mark_text(
            align=align, baseline="middle", dx=dx, fontSize=14, fontWeight="bold",
            limit=alt.expr(room)).encode(
            x=x, y=alt.YValue(alt.expr("datum.y")), text="label:N", color=color,
            tooltip="label:N"))
    chart = alt.layer(*layers).properties(
        width="container", height=190,
        title=alt.TitleParams(title, fontSize=18, anchor="start", subtitle=note,
                              subtitleFontSize=14, subtitleColor=GREY))
    spec = chart.configure_axis(labelFontSize=FONT, titleFontSize=FONT, labelColor="#222",
                                titleColor="#222", grid=True, gridOpacity=0.35) \
        .configure_view(stroke=None).to_dict(validate=False)
    spec["autosize"] = {"type": "fit-x", "contains": "padding"}
    spec["$schema"] = VL_SCHEMA
    spec["usermeta"] = EMBED
    return spec
