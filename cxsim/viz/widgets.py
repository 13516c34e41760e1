"""A Vega-Lite widget that takes new data without being rebuilt (see vue/vega_view.vue).

Why not solara's VegaLite: it re-embeds the whole chart on every change, after a 100 ms
debounce, which alone broke the 200 ms budget from a click to redrawn curves.
"""

from __future__ import annotations

from pathlib import Path

import ipyvuetify as v
import traitlets


class VegaView(v.VuetifyTemplate):
    """`spec`: a Vega-Lite spec whose changing data are named sources; `datasets`: their rows."""

    template_file = str(Path(__file__).resolve().parent / "vue" / "vega_view.vue")
    spec = traitlets.Dict().tag(sync=True)
    datasets = traitlets.Dict().tag(sync=True)
