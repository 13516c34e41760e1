"""Animations for slides: the network panels and the headline curves, week by week.

The run is simulated first and drawn afterwards, so every frame shares the same axes (a fixed
range per curve, like the dashboard's, grown only if the whole run leaves it): nothing jumps
from frame to frame. Frames are 1920x1080 by default, titled with the scenario's description;
events are drawn and labelled, and a caption (an event's own, or a storyboard's) is shown for a
few weeks when its week comes. With two models (A and B, same seed) the clip puts them side by
side: both networks on top, both curves on the same axes below.

GIF is written by Pillow, MP4 by the ffmpeg that imageio-ffmpeg ships. The file is rendered to a
temporary file beside the target and moved into place only when complete.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.animation import FFMpegWriter, FuncAnimation, PillowWriter  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from ..model import CXModel  # noqa: E402
from . import draw  # noqa: E402
from .charts import moving_average  # noqa: E402
from .session import SERIES, _fired_label, currency_symbol  # noqa: E402

FORMATS = (".gif", ".mp4")
COLOURS = ("#1f5fa8", "#e66100")
CAPTION_WEEKS = 4  # a caption stays on screen this many weeks


@dataclass
class Recording:
    """One simulated run: the curves (week 0 = start) and, per frame, the network colours."""

    name: str
    description: str
    population: int
    currency: str = "£"
    series: dict[str, list[float]] = field(default_factory=dict)
    fired: list[tuple[int, str, str | None]] = field(default_factory=list)
    fit: list[np.ndarray] = field(default_factory=list)
    status: list[np.ndarray] = field(default_factory=list)
    segment: list[np.ndarray] = field(default_factory=list)


def record(model: CXModel, steps: int, failure_at: int | None = None,
           progress: Callable[[int], None] | None = None) -> Recording:
    """Run `steps` weeks, keeping what the frames need (a few hundred numbers a week)."""
    sc = model.scenario
    rec = Recording(sc.name, sc.description, sc.size.customers + sc.size.prospects,
                    currency_symbol(sc))
    rec.series = {k: [float(model.kpis.get(k, np.nan))] for k in SERIES}
    lay = draw.layout_of(model)
    for i in range(steps):
        if failure_at is not None and i == failure_at:
            model.inject_service_failure(severity=0.4, duration=4, share=0.5)
        model.step()
        for k in SERIES:
            rec.series[k].append(float(model.kpis.get(k, np.nan)))
        rec.fit.append(np.asarray(model.brand_fit())[lay.col_idx].copy())
        rec.status.append(np.asarray(model.customers.status)[lay.cus_idx].copy())
        rec.segment.append(draw.segments(np.asarray(model.customers.ltr)[lay.cus_idx]))
        if progress is not None:
            progress(1)
    captions = {(ev.step, type(ev).__name__): getattr(ev, "caption", None)
                for ev in sc.events}
    for t, what in model.events_log:
        cap = next((c for (s, kind), c in captions.items() if c and s <= t and (
            s == t or kind in ("KpiDashboard", "ComplaintsFirst")) and _kind(what) == kind),
            None)
        rec.fired.append((t, _fired_label(what), cap))
    return rec


def _kind(what: str) -> str:
    return {"service failure": "ServiceFailure", "knee-jerk KPI dashboard": "KpiDashboard",
            "complaints-first response": "ComplaintsFirst"}.get(what, "SetEvent")


def _range(values: list[list[float]], lo: float, hi: float, step: float) -> tuple[float, float]:
    """A fixed range for the whole clip, grown in whole `step`s only if the data leave it."""
    finite = [v for vs in values for v in vs if math.isfinite(v)]
    if finite:
        lo = min(lo, math.floor(min(finite) / step) * step)
        hi = max(hi, math.ceil(max(finite) / step) * step)
    return lo, hi


def _profit_top(recs: list[Recording]) -> float:
    p0 = max((abs(v) for r in recs for v in r.series["profit"][:1] if math.isfinite(v)),
             default=0.0)
    mag = 10 ** math.floor(math.log10(max(p0, 1.0)))
    return max(1000.0, mag * math.ceil(2 * p0 / mag))


def panels(recs: list[Recording]) -> list[tuple[str, str, Callable, tuple[float, float], str]]:
    """(series, title, transform, y range, tick format) of the four curves, fixed per clip."""
    pop = max(r.population for r in recs)
    sym = recs[0].currency
    top = _profit_top(recs)
    pct = [[100 * v for v in r.series["engagement"]] for r in recs]
    return [
        ("nps", "NPS (points)", list, _range([r.series["nps"] for r in recs], -50, 50, 25),
         "{:+,.0f}"),
        ("engagement", "Colleague engagement (%)", lambda v: [100 * x for x in v],
         _range(pct, 0, 100, 25), "{:,.0f}"),
        ("active_customers", "Active customers", list,
         _range([r.series["active_customers"] for r in recs], 0, pop, pop / 4), "{:,.0f}"),
        ("profit", f"Profit per week ({sym.strip()}, 4-week average)", moving_average,
         _range([moving_average(r.series["profit"]) for r in recs], 0, top, top / 4),
         sym + "{:,.0f}"),
    ]


def render(model: CXModel, out: Path, steps: int, fps: int = 5,
           size: tuple[int, int] = (1920, 1080), failure_at: int | None = None,
           progress: Callable[[int], None] | None = None,
           captions: dict[int, str] | None = None, versus: CXModel | None = None) -> Path:
    """Run `steps` weeks of `model` (and of `versus`, side by side) and write a GIF or MP4.

    failure_at: inject a service failure at that week in both runs. captions: a storyboard's
    captions by week. Raises ValueError for an extension other than .gif / .mp4.
    """
    out = Path(out)
    ext = out.suffix.lower()
    if ext not in FORMATS:
        raise ValueError(f"--out = {str(out)!r}; allowed extensions: {', '.join(FORMATS)}")
    models = [model] + ([versus] if versus is not None else [])
    recs = [record(m, steps, failure_at, progress) for m in models]
    lays = [draw.layout_of(m) for m in models]
    roles = [m.org.role[lay.col_idx] for m, lay in zip(models, lays, strict=True)]
    captions = dict(captions or {})

    if ext == ".mp4":
        import imageio_ffmpeg

        matplotlib.rcParams["animation.ffmpeg_path"] = imageio_ffmpeg.get_ffmpeg_exe()
        writer = FFMpegWriter(fps=fps, codec="libx264", extra_args=["-pix_fmt", "yuv420p"])
    else:
        writer = PillowWriter(fps=fps)

    dpi = 100
    w, h = size
    font = max(6.0, 11.0 * h / 1080)  # 11 pt at 1080 px high: 15 px text
    fig = plt.figure(figsize=(w / dpi, h / dpi), dpi=dpi)
    n_net = 2 * len(recs)
    grid = fig.add_gridspec(2, max(4, n_net), height_ratios=[1.2, 1], hspace=0.32, wspace=0.28,
                            left=0.045, right=0.985, top=0.80, bottom=0.07)
    net_axes = []
    span = max(4, n_net) // n_net
    for k in range(n_net):
        net_axes.append(fig.add_subplot(grid[0, k * span:(k + 1) * span]))
    curve_axes = [fig.add_subplot(grid[1, i * (max(4, n_net) // 4):(i + 1) * (
        max(4, n_net) // 4)]) for i in range(4)]
    if len(recs) == 1:
        title = recs[0].description or recs[0].name
        sub = f"scenario {recs[0].name}"
    else:
        title = f"{recs[0].name}  vs  {recs[1].name}"
        sub = f"A: {recs[0].description}   |   B: {recs[1].description}"
    # the title shrinks to leave the week counter its corner (about 0.6 em per character)
    room = 0.78 * w / (0.6 * len(title) * dpi / 72)
    fig.text(0.015, 0.975, title, fontsize=min(font * 2.0, room), fontweight="bold", va="top",
             ha="left")
    fig.text(0.015, 0.925, sub, fontsize=font * 1.2, va="top", ha="left", color="#444444")
    counter = fig.text(0.985, 0.975, "", fontsize=font * 2.6, fontweight="bold", va="top",
                       ha="right")
    banner = fig.text(0.5, 0.862, "", fontsize=font * 1.6, fontweight="bold", ha="center",
                      va="center", color="#7a4b00",
                      bbox={"fc": "#fff3cd", "ec": "#f0ad4e", "pad": 6})
    sm = plt.cm.ScalarMappable(norm=draw.FIT_NORM, cmap=draw.FIT_CMAP)
    cb = fig.colorbar(sm, ax=net_axes[0], fraction=0.03, pad=0.0, shrink=0.7)
    cb.set_label("brand fit", fontsize=font)
    cb.ax.tick_params(labelsize=font * 0.9)
    spec = panels(recs)
    xmax = steps + 1  # room for the last point

    def frame(i: int) -> None:
        wk = i + 1  # frame i shows the run after its (i+1)th week
        for r, (rec, lay) in enumerate(zip(recs, lays, strict=True)):
            draw.draw_organisation(net_axes[2 * r], lay, rec.fit[i], roles[r], font=font)
            draw.draw_customers(net_axes[2 * r + 1], lay, rec.status[i], rec.segment[i],
                                font=font)
            if len(recs) > 1:
                for ax in net_axes[2 * r:2 * r + 2]:
                    ax.set_title(f"{'AB'[r]}: {ax.get_title(loc='left')}", loc="left",
                                 fontsize=font * 1.3, color=COLOURS[r])
        for ax, (key, label, fn, (lo, hi), fmt) in zip(curve_axes, spec, strict=True):
            ax.clear()
            ax.set_title(label, fontsize=font * 1.25, loc="left")
            ax.set_xlim(0, xmax)
            ax.set_ylim(lo, hi)
            ax.tick_params(labelsize=font)
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p, f=fmt: f.format(v)))
            ax.set_xlabel("week", fontsize=font)
            ax.grid(alpha=0.3)
            for r, rec in enumerate(recs):
                y = fn(rec.series[key])[:wk + 1]
                if key == "profit":
                    ax.plot(range(wk + 1), rec.series[key][:wk + 1], color=COLOURS[r],
                            lw=1.0, alpha=0.3)
                ax.plot(range(len(y)), y, color=COLOURS[r], lw=2.6,
                        label=rec.name if len(recs) > 1 else None)
                ax.plot([len(y) - 1], [y[-1]], "o", color=COLOURS[r], ms=font * 0.6)
                for t, _lab, _cap in rec.fired:
                    if t < wk:
                        ax.axvline(t, color=COLOURS[r] if len(recs) > 1 else "#c62828",
                                   ls="--", lw=1.4, alpha=0.8)
            if len(recs) > 1 and key == "nps":
                ax.legend(fontsize=font, loc="lower left", frameon=False)
        labelled = sorted({(t, cap or lab) for rec in recs for t, lab, cap in rec.fired
                           if t < wk})[-3:]
        for k, (t, text) in enumerate(labelled):
            curve_axes[0].annotate(text, (t, 0.97 - 0.11 * k), xycoords=("data", "axes fraction"),
                                   fontsize=font * 0.95, color="#c62828", va="top",
                                   ha="left" if t < xmax / 2 else "right",
                                   xytext=(4 if t < xmax / 2 else -4, 0),
                                   textcoords="offset points",
                                   bbox={"fc": "white", "ec": "none", "alpha": 0.85, "pad": 1})
        counter.set_text(f"Week {wk}")
        now = [(t, cap) for rec in recs for t, _lab, cap in rec.fired if cap] + \
            list(captions.items())
        now = [(t, c) for t, c in now if wk - CAPTION_WEEKS <= t < wk]
        banner.set_text(max(now)[1] if now else "")
        banner.set_visible(bool(now))
        if progress is not None:
            progress(1)

    anim = FuncAnimation(fig, frame, frames=steps, init_func=lambda: None, repeat=False)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.stem}.", suffix=ext, dir=out.parent)
    os.close(fd)
    try:
        anim.save(tmp, writer=writer, dpi=dpi)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    finally:
        plt.close(fig)
        if os.path.exists(tmp):
            os.unlink(tmp)
    return out


__all__ = ["FORMATS", "Recording", "panels", "record", "render"]
