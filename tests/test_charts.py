"""Event labels on the dashboard's curves: each hangs from its own line, none crosses another.

The browser check of the same (real Chromium, 1280x720 and 1920x1080) is in
tests/test_dashboard.py (`check_layout`); these check the layout rule itself, fast.
"""

from __future__ import annotations

import itertools

import pytest

from cxsim.viz import charts
from cxsim.viz.session import PlannedEvent, Snapshot


def snapshot(fired=(), planned=(), week=36, captions=None) -> Snapshot:
    n = week + 1
    series = {k: tuple([1.0] * n) for k in ("nps", "nps_measured", "engagement",
                                            "active_customers", "profit")}
    return Snapshot(version=1, week=week, scenario="x", scenario_source="x", description="",
                    customers=1000, seed=1, building=False, playing=False, speed=1.0, kpis={},
                    series=series, levers={}, fired=tuple(fired), planned=tuple(planned),
                    captions=captions or {}, network=None)


def crossings(labels: list[dict], xdom: tuple[int, int]) -> list[str]:
    """Texts that overlap, or cross a line at or below the line's own label (estimated at the
    narrowest plot, as the layout estimates them)."""
    wpp = (xdom[1] - xdom[0]) / charts.NARROWEST_PLOT_PX
    bad = []
    for a, b in itertools.permutations(labels, 2):
        lo, hi = charts._span(a, a["side"], wpp)
        blo, bhi = charts._span(b, b["side"], wpp)
        if a["row"] == b["row"] and lo <= bhi and blo <= hi:
            bad.append(f"{a['label']} overlaps {b['label']}")
        if a["week"] != b["week"] and lo < b["week"] < hi and a["row"] >= b["row"]:
            bad.append(f"{a['label']} crosses the line of {b['label']}")
    return bad


@pytest.mark.parametrize("fired, planned, week", [
    # the case a reviewer saw at 1280x720: two events five weeks apart, near the middle
    ([(26, "service failure", None), (31, "complaints-first response", None)], [], 36),
    ([(10, "knee-jerk KPI dashboard", None), (12, "service failure", None),
      (14, "complaints-first response", None)], [], 20),
    ([(40, "service failure", None), (44, "knee-jerk KPI dashboard", None)],
     [PlannedEvent(47, "empowerment 0.9", None)], 46),
    ([], [PlannedEvent(24, "service failure", None),
          PlannedEvent(27, "complaints-first response", None)], 3),
])
def test_close_events_get_labels_that_cross_no_other_line(fired, planned, week):
    snap = snapshot(fired, planned, week)
    xdom = tuple(charts.x_domain(snap))
    rules, labels = charts._event_rows(snap, xdom)
    assert len(labels) == len(fired) + len(planned)
    assert not crossings(labels, xdom)
    for r in labels:
        assert r["side"] in ("left", "right") and 0 <= r["row"] < charts.LABEL_ROWS
    # every labelled line starts at its label's dot (so no text sits beside a line's top
    # that is not its own)
    dot = {r["week"]: r["y"] for r in labels}
    assert all(r["top"] == dot[r["week"]] for r in rules)


def test_a_crowd_of_events_still_gets_one_dot_per_label_on_its_own_line():
    """More close events than rows: some texts must cross, but each label keeps a row, a
    side and a dot on its own line, and labels of the same week sit on different rows."""
    planned = [PlannedEvent(20 + k // 2, f"event number {k}", None) for k in range(8)]
    rules, labels = charts._event_rows(snapshot([], planned, 2), (0, 52))
    assert len(labels) == 8
    for week in {r["week"] for r in labels}:
        rows = [r["row"] for r in labels if r["week"] == week]
        assert len(set(rows)) == len(rows)
        top = min(r["y"] for r in labels if r["week"] == week)
        assert all(r["top"] == top for r in rules if r["week"] == week)


def test_unlabelled_old_events_keep_full_height_lines():
    """Only the last three fired events are labelled; older lines run from the top."""
    fired = [(w, "service failure", None) for w in (5, 15, 25, 35)]
    rules, labels = charts._event_rows(snapshot(fired, week=40), (0, 52))
    assert [r["week"] for r in labels] == [15, 25, 35]
    assert [r["top"] for r in rules if r["week"] == 5] == [0.0]


def test_the_panel_spec_hangs_labels_and_lines_from_the_same_dot():
    (_, _, spec, data), *_ = charts.panel_specs(snapshot([(26, "service failure", None)]))
    names = [layer.get("name") for layer in spec["layer"]]
    assert {"event_rule", "event_dot", "event_label_right", "event_label_left"} <= set(names)
    assert data["labels"][0]["y"] == data["events"][0]["top"] == charts.LABEL_TOP_PX
