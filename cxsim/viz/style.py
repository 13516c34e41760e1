"""One look for every figure and table a client sees: labels with units, currency, fixed ranges.

Every chart the project makes (dashboard, comparison, sweep analysis, the fact scripts) takes its
axis labels, ranges, number formats, event markers and fonts from here, so a board sees the same
scale for the same figure everywhere and no axis scales itself into a trend that is only noise.
"""

from __future__ import annotations

import glob
import os
import textwrap
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from ..scenario import CURRENCY_SYMBOLS  # noqa: E402

#: Formats every figure is saved in (PNG for slides, SVG for print and editing).
FORMATS = ("png", "svg")
DPI = 120
MAX_TITLE_CHARS = 95


@dataclass(frozen=True)
class Metric:
    """How one figure is labelled, bounded and formatted."""

    label: str
    unit: str  # "points", "%", "index", "customers", "people", "money"
    kind: str  # score | pct | index | count | money
    limits: tuple[float, float] | None = None  # fixed y range; None: from zero / the data


METRICS: dict[str, Metric] = {
    "nps": Metric("NPS", "points, -100 to 100", "score", (-100.0, 100.0)),
    "csat": Metric("CSAT", "% satisfied", "pct", (0.0, 100.0)),
    "nps_measured": Metric("NPS as the survey measures it", "points, -100 to 100", "score",
                           (-100.0, 100.0)),
    "csat_measured": Metric("CSAT as the survey measures it", "% satisfied", "pct",
                            (0.0, 100.0)),
    "engagement": Metric("Colleague engagement", "index 0-100", "index", (0.0, 100.0)),
    "frontline_engagement": Metric("Front-line engagement", "index 0-100", "index", (0.0, 100.0)),
    "trust": Metric("Customer trust", "index 0-100", "index", (0.0, 100.0)),
    "empathy": Metric("Felt empathy", "index 0-100", "index", (0.0, 100.0)),
    "brand_alignment": Metric("Brand alignment of colleagues", "index 0-100", "index",
                              (0.0, 100.0)),
    "brand_consistency": Metric("Brand consistency", "index 0-100", "index", (0.0, 100.0)),
    "process_quality": Metric("Process quality", "index 0-100", "index", (0.0, 100.0)),
    "active_customers": Metric("Active customers", "customers", "count"),
    "acquisitions": Metric("Acquisitions", "customers per week", "count"),
    "churned": Metric("Customers churned", "customers per week", "count"),
    "staff_attrition": Metric("Staff leavers", "people per week", "count"),
    "revenue": Metric("Revenue", "money per week", "money"),
    "cost": Metric("Cost", "money per week", "money"),
    "profit": Metric("Profit", "money per week", "money"),
    "cumulative_profit": Metric("Cumulative profit", "money", "money"),
}

#: NPS panels span at least this many points, centred on the data, so noise stays flat.
NPS_MIN_SPAN = 40.0


def currency_symbol(code: str | None) -> str:
    """'£' for GBP; an unknown code is shown as itself followed by a space."""
    code = (code or "GBP").upper()
    return CURRENCY_SYMBOLS.get(code, f"{code} ")


def fmt_money(v: float, currency: str | None = "GBP", decimals: int | None = None) -> str:
    """£2.54m, £34,336, -£1.2k-free: thousands separators, millions shortened."""
    sym = currency_symbol(currency)
    sign = "-" if v < 0 else ""
    a = abs(v)
    if decimals is None and a >= 1e6:
        return f"{sign}{sym}{a / 1e6:,.2f}m"
    return f"{sign}{sym}{a:,.{decimals or 0}f}"


def scale(column: str) -> float:
    """Factor from the stored value to the shown one (0..1 indices are shown 0-100)."""
    m = METRICS.get(column)
    return 100.0 if m is not None and m.kind == "index" else 1.0


def axis_label(column: str, currency: str | None = "GBP") -> str:
    """'Cumulative profit (£)' or 'CSAT (% satisfied)': the unit is always on the axis."""
    m = METRICS.get(column)
    if m is None:
        return column.replace("_", " ")
    unit = m.unit.replace("money", currency_symbol(currency).strip())
    return f"{m.label} ({unit})"


def fmt_value(column: str, v: float, currency: str | None = "GBP") -> str:
    """A value as the terminal, the deck and the workbook show it."""
    if v != v:  # nan
        return "n/a"
    m = METRICS.get(column)
    if m is None:
        return f"{v:,.3g}"
    if m.kind == "money":
        return fmt_money(v, currency)
    if m.kind == "count":
        return f"{v:,.0f}"
    if m.kind == "pct":
        return f"{v:.1f}%"
    if m.kind == "index":
        return f"{100 * v:.1f}"
    return f"{v:+.1f}"


# -- fonts ----------------------------------------------------------------------------------------

_CJK_NAMES = ("Noto Sans CJK", "Noto Sans SC", "Noto Sans JP", "Source Han Sans", "WenQuanYi",
              "Droid Sans Fallback", "IPAGothic", "IPAexGothic", "SimHei", "Microsoft YaHei",
              "PingFang", "Hiragino", "AR PL", "Unifont")
_font_done = False
CJK_FONT: str | None = None


def _register_package_fonts() -> None:
    """Fonts shipped inside installed packages (site-packages) join matplotlib's list."""
    import site

    roots = [*site.getsitepackages(), site.getusersitepackages()]
    for root in roots:
        for pattern in ("*/*CJK*.[ot]t[fc]", "*/*/*CJK*.[ot]t[fc]", "*/*/*/*CJK*.[ot]t[fc]",
                        "*/*Han*Sans*.[ot]tf", "*/*/*/*unifont*.[ot]tf", "*/*/ipaexg.ttf",
                        "*/*/*/ipaexg.ttf", "*/*/wqy*.tt[fc]", "*/*/*/wqy*.tt[fc]",
                        "*/*/*Noto*S[CJ]*.[ot]t[fc]"):
            for path in glob.glob(os.path.join(root, pattern)):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    continue


def apply() -> str | None:
    """Set the house style once; returns the CJK-capable font found, or None (DejaVu Sans)."""
    global _font_done, CJK_FONT
    if _font_done:
        return CJK_FONT
    _font_done = True
    _register_package_fonts()
    names = sorted({f.name for f in font_manager.fontManager.ttflist})
    CJK_FONT = next((n for n in names if any(n.startswith(c) for c in _CJK_NAMES)), None)
    family = ["DejaVu Sans"] + ([CJK_FONT] if CJK_FONT else [])
    plt.rcParams.update({
        "font.family": "sans-serif", "font.sans-serif": family + ["sans-serif"],
        "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True,
        "grid.alpha": 0.3, "axes.titlesize": 11, "axes.labelsize": 9, "xtick.labelsize": 8,
        "ytick.labelsize": 8, "legend.fontsize": 8, "figure.titlesize": 12,
        "svg.fonttype": "none", "axes.titlelocation": "left",
    })
    return CJK_FONT


def savefig(fig: Any, path: str | os.PathLike, fmt: str | None = None) -> None:
    """fig.savefig without a warning per missing glyph (CJK text with no CJK font installed
    is drawn as boxes; the README says which fonts fix that)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from")
        fig.savefig(path, dpi=DPI, format=fmt)


def has_cjk(text: str) -> bool:
    return any("\u2e80" <= ch <= "\u9fff" or "\uac00" <= ch <= "\ud7af" or
               "\uff00" <= ch <= "\uffef" for ch in text)


# -- axes -----------------------------------------------------------------------------------------

def wrap(text: str, width: int = MAX_TITLE_CHARS) -> str:
    """Wrap a long title or subtitle onto several lines so nothing is cut off at the edges."""
    return "\n".join(textwrap.fill(line, width) for line in text.splitlines())


def style_axis(ax: Any, column: str, currency: str | None = "GBP",
               data: Iterable[float] | None = None, xlabel: str = "week") -> None:
    """Label with units, fix the range of bounded figures, format money and large counts."""
    m = METRICS.get(column)
    ax.set_ylabel(axis_label(column, currency))
    if xlabel:
        ax.set_xlabel(xlabel)
    if m is None:
        return
    if m.kind == "money":
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: fmt_money(v, currency)))
    elif m.kind == "count":
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
        ax.set_ylim(bottom=0)
    if m.kind == "score":
        vals = [float(v) for v in (data or []) if v == v]
        if vals:
            lo, hi = min(vals), max(vals)
            mid = (lo + hi) / 2
            half = max(NPS_MIN_SPAN, hi - lo + 10) / 2
            lo, hi = max(-100.0, mid - half), min(100.0, mid + half)
            ax.set_ylim(lo, hi)
        else:
            ax.set_ylim(*m.limits)
        ax.axhline(0, color="black", lw=0.6, alpha=0.5)
    elif m.limits is not None:
        ax.set_ylim(*m.limits)


def band_label(reps: int, level: float = 0.95) -> str:
    """What the shaded band is, or that there is none."""
    if reps > 1:
        return f"shaded band: {level:.0%} confidence interval of the mean over {reps} runs"
    return "one run: no confidence band"


def mark_events(ax: Any, spans: list[tuple[int, int, str]], numbered: bool = True) -> None:
    """Shade multi-week events, draw a line at one-week ones, and number them on the axis."""
    xlim = ax.get_xlim()
    for i, (first, last, _) in enumerate(spans, start=1):
        if last > first:
            ax.axvspan(first, last + 1, color="tab:red", alpha=0.12, lw=0)
        else:
            ax.axvline(first, color="grey", ls=":", lw=1)
        if numbered:  # numbers stacked, so events in the same week stay readable
            ax.annotate(str(i), (first, 1.0), xycoords=("data", "axes fraction"),
                        xytext=(2, -10 - 9 * (i - 1)), textcoords="offset points", fontsize=7,
                        color="tab:red")
    ax.set_xlim(xlim)  # an event running past the last week does not stretch the axis


def events_note(spans: list[tuple[int, int, str]]) -> str:
    """'(1) week 20: service failure ...; (2) ...' for a subtitle, matching the markers."""
    return "; ".join(f"({i}) week {a}{f'-{b}' if b > a else ''}: {t}"
                     for i, (a, b, t) in enumerate(spans, start=1))


def save(fig: Any, path: str | os.PathLike, fmt: str | None = None,
         also_svg: bool = True) -> list[Path]:
    """Save as PNG (or `fmt`) at `path` and, for a PNG, an SVG twin beside it, atomically."""
    from ..io import write_with

    path = Path(path)
    fmt = fmt or path.suffix.lstrip(".") or "png"
    written = [path]
    write_with(path, lambda p: savefig(fig, p, fmt))
    if also_svg and fmt == "png" and path.suffix.lower() == ".png":
        svg = path.with_suffix(".svg")
        write_with(svg, lambda p: savefig(fig, p, "svg"))
        written.append(svg)
    plt.close(fig)
    return written
