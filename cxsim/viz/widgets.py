"""A Vega-Lite widget that takes new data without being rebuilt (see vue/vega_view.vue).

Why not solara's VegaLite: it re-embeds the whole chart on every change, after a 100 ms
debounce, which alone broke the 200 ms budget from a click to redrawn curves.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ipyvuetify as v
import traitlets


class Opaque:
    """A value handed to a widget through an element's props without reacton walking it.

    Why: on every render reacton walks (and copies) every dict and list in every element's
    props, looking for child elements; the four charts' specs and rows and the network map's
    layout made that most of a week's server time (about 150 ms of 175 ms measured at load 9).
    Equal only to a wrapper of the very same object, so an unchanged spec is not sent again.
    """

    __slots__ = ("value",)

    def __init__(self, value: Any):
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Opaque) and other.value is self.value

    def __hash__(self) -> int:
        return id(self.value)


class VegaView(v.VuetifyTemplate):
    """A Vega-Lite view fed only the rows that changed.

    `spec`: a Vega-Lite spec whose changing data are named sources; the rows of each source
    come as `data_in` (an `Opaque` dict name -> rows). Each change is sent as a `patch`: the
    rows added at the end of a source (a new week) or the whole source where it changed
    otherwise (the last point, a reset); a view that missed a patch asks for everything
    (`resend`).
    """

    template_file = str(Path(__file__).resolve().parent / "vue" / "vega_view.vue")
    spec = traitlets.Dict().tag(sync=True)
    patch = traitlets.Dict().tag(sync=True)
    spec_in = traitlets.Any(None)
    data_in = traitlets.Any(None)

    def __init__(self, **kwargs):
        self._sent: dict[str, list] | None = None  # the rows this widget has sent
        self._seq = 0
        super().__init__(**kwargs)

    @traitlets.observe("spec_in")
    def _spec_in(self, change) -> None:
        self.spec = change["new"].value

    @traitlets.observe("data_in")
    def _data_in(self, change) -> None:
        self._send_rows(change["new"].value)

    def _send_rows(self, datasets: dict[str, list]) -> None:
        patch = rows_patch(datasets, self._sent)
        if patch is None:
            return
        self._seq += 1
        patch["seq"], patch["base"] = self._seq, self._seq - 1
        self._sent = {k: list(v) for k, v in datasets.items()}
        self.patch = patch

    def vue_resend(self, _data=None) -> None:
        """The view lost track (a patch whose base it never had): send every row again."""
        if self.data_in is not None:
            self._sent = None
            self._send_rows(self.data_in.value)


def rows_patch(new: dict[str, list], sent: dict[str, list] | None) -> dict | None:
    """What turns the rows `sent` into `new`: {"full", "append": {name: rows}, "replace":
    {name: rows}}; None when nothing changed."""
    if sent is None:
        return {"full": True, "append": {}, "replace": {k: list(v) for k, v in new.items()}}
    append, replace = {}, {}
    for name, rows in new.items():
        old = sent.get(name)
        if old is not None and len(rows) >= len(old) and rows[:len(old)] == old:
            if len(rows) > len(old):
                append[name] = rows[len(old):]
        else:
            replace[name] = list(rows)
    if not append and not replace:
        return None
    return {"full": False, "append": append, "replace": replace}


class NetworkMap(v.VuetifyTemplate):
    """The network map on a canvas (see vue/network_map.vue and `cxsim.viz.network`).

    `map_layout` (positions, roles, ties) is sent once; `frame` carries one week as a delta from
    what this widget sent before (`network.frame_delta`), so a week costs a few kilobytes. A
    view that missed a delta (mounted late, reconnected) asks for everything again (`resend`).
    """

    template_file = str(Path(__file__).resolve().parent / "vue" / "network_map.vue")
    map_layout = traitlets.Dict().tag(sync=True)
    layout_in = traitlets.Any(None)  # an Opaque of the layout's JSON (see Opaque)
    frame = traitlets.Dict().tag(sync=True)
    has_image = traitlets.Bool(False).tag(sync=True)
    #: the week to show (a network.MapFrame; not synced: `show` sends its delta)
    week_frame = traitlets.Any(None)

    def __init__(self, **kwargs):
        self._shown = None  # the MapFrame this widget last sent
        self._latest = None
        self._seq = 0
        super().__init__(**kwargs)
        if self._latest is None and self.week_frame is not None:
            self.show(self.week_frame)

    def show(self, frame) -> None:
        """Send `frame` as the change from what was last sent (nothing if nothing changed)."""
        from .network import frame_delta

        self._latest = frame
        if frame is None or frame is self._shown:
            return
        delta = frame_delta(frame, self._shown)
        self._seq += 1
        delta["seq"], delta["base"] = self._seq, self._seq - 1
        self._shown = frame
        self.has_image = frame.img is not None
        self.frame = delta

    @traitlets.observe("layout_in")
    def _layout_in(self, change) -> None:
        self.map_layout = change["new"].value

    @traitlets.observe("week_frame")
    def _new_frame(self, change) -> None:
        self.show(change["new"])

    @traitlets.observe("map_layout")
    def _new_layout(self, change) -> None:
        if change["old"]:  # another model (not the first layout): its next frame goes whole
            self._shown = None

    def vue_resend(self, _data=None) -> None:
        """The view lost track (it saw a delta whose base it never had): send everything."""
        self._shown = None
        if self._latest is not None:
            self.show(self._latest)
