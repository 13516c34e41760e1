"""Animations for slides: the network panel plus the headline curves, week by week.

GIF is written by Pillow, MP4 by the ffmpeg that imageio-ffmpeg ships. The file is rendered to a
temporary file beside the target and moved into place only when complete.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.animation import FFMpegWriter, FuncAnimation, PillowWriter  # noqa: E402

from ..model import CXModel  # noqa: E402
from . import draw  # noqa: E402

FORMATS = (".gif", ".mp4")


def render(model: CXModel, out: Path, steps: int, fps: int = 5, dpi: int = 80,
           failure_at: int | None = None, progress: Callable[[int], None] | None = None) -> Path:
    """Run `steps` weeks of `model`, drawing one frame per week, and write GIF or MP4 to `out`.

    failure_at: inject a service failure at that week (the story of a crisis). Raises
    ValueError for an extension other than .gif / .mp4.
    """
    out = Path(out)
    ext = out.suffix.lower()
    if ext not in FORMATS:
        raise ValueError(f"--out = {str(out)!r}; allowed extensions: {', '.join(FORMATS)}")
    if ext == ".mp4":
        import imageio_ffmpeg

        matplotlib.rcParams["animation.ffmpeg_path"] = imageio_ffmpeg.get_ffmpeg_exe()
        writer = FFMpegWriter(fps=fps, codec="libx264", extra_args=["-pix_fmt", "yuv420p"])
    else:
        writer = PillowWriter(fps=fps)

    fig = plt.figure(figsize=(12, 6.4), dpi=dpi)
    grid = fig.add_gridspec(2, 4, height_ratios=[1.25, 1], hspace=0.35, wspace=0.3,
                            left=0.04, right=0.98, top=0.88, bottom=0.08)
    ax_org = fig.add_subplot(grid[0, 0:2])
    ax_cus = fig.add_subplot(grid[0, 2:4])
    axes = [fig.add_subplot(grid[1, i]) for i in range(4)]
    title = fig.suptitle("", fontsize=13, fontweight="bold")
    banner = fig.text(0.5, 0.905, "", ha="center", fontsize=10, color="#d73027")
    sm = plt.cm.ScalarMappable(norm=draw.FIT_NORM, cmap=draw.FIT_CMAP)
    fig.colorbar(sm, ax=ax_org, fraction=0.03, pad=0.0, shrink=0.7, label="brand fit")
    lay = draw.layout_of(model)
    name = model.scenario.name

    def frame(i: int) -> None:
        if failure_at is not None and i == failure_at:
            model.inject_service_failure(severity=0.4, duration=4, share=0.5)
        model.step()
        draw.draw_organisation(ax_org, model, lay)
        draw.draw_customers(ax_cus, model, lay)
        ts = model.timeseries()
        currency = model.scenario.money.currency
        draw.draw_curves(axes, ts, model.events_log, steps_total=steps, currency=currency)
        for ax, (col, label) in zip(axes, draw.CURVES, strict=True):
            ax.set_title(draw.curve_title(col, label, ts[col].iloc[-1], currency), fontsize=9)
        for k, (t, what) in enumerate(model.events_log):
            axes[0].annotate(what, (t, 0.95 - 0.1 * (k % 4)), xycoords=("data", "axes fraction"),
                             fontsize=7, color="#d73027", va="top", ha="left",
                             xytext=(3, 0), textcoords="offset points",
                             bbox={"fc": "white", "ec": "none", "alpha": 0.8, "pad": 0.5})
        title.set_text(f"cxsim - {name}: week {model.steps}")
        recent = [what for t, what in model.events_log if model.t - 4 <= t < model.t]
        banner.set_text(" / ".join(recent))
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
