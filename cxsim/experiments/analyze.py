"""Tables and plots of a finished sweep: heatmaps, curves with bands, sensitivity indices."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..io import write_with
from .sweep import SweepError


@dataclass
class Analysis:
    """What `cxsim analyze` prints and saves."""

    meta: dict[str, Any]
    summary: pd.DataFrame
    indices: dict[str, pd.DataFrame] = field(default_factory=dict)
    plots: list[Path] = field(default_factory=list)
    n_failed: int = 0


def load_sweep(out: Path) -> tuple[dict[str, Any], pd.DataFrame]:
    """The sweep's metadata and runs table (rebuilt from runs/ if runs.parquet is missing)."""
    meta_path = out / "sweep.json"
    if not meta_path.is_file():
        raise SweepError(f"{out}: no sweep.json here; allowed: a folder written by cxsim sweep")
    meta = json.loads(meta_path.read_text())
    table_path = out / "runs.parquet"
    if table_path.is_file():
        table = pd.read_parquet(table_path)
    else:
        from .sweep import collect

        table = collect(out)
    if table.empty:
        raise SweepError(f"{out}: no finished runs yet; run cxsim sweep first")
    return meta, table


def summarise_rows(meta: dict[str, Any], table: pd.DataFrame, outputs: list[str]) -> pd.DataFrame:
    """Mean, sd and count over replications of each output, per design row."""
    ok = table[table["status"] == "done"]
    keys = ["row", *meta["varied"]]
    agg = ok.groupby(keys, sort=True)[outputs].agg(["mean", "std", "count"])
    agg.columns = [f"{a}_{b}" for a, b in agg.columns]
    return agg.reset_index()


def sensitivity(meta: dict[str, Any], table: pd.DataFrame, output: str) -> pd.DataFrame:
    """Sobol' (S1, ST) or Morris (mu*, sigma) indices of one output, mean over replications."""
    problem = meta["problem"]
    kind = meta["design"]["kind"]
    ok = table[table["status"] == "done"]
    y = ok.groupby("row")[output].mean().reindex(range(len(meta["rows"])))
    if y.isna().any():
        raise SweepError(f"{kind} indices need every design row; {int(y.isna().sum())} rows "
                         "have no finished run (failed or not yet run)")
    yv = y.to_numpy(dtype=float)
    if kind == "sobol":
        from SALib.analyze import sobol

        res = sobol.analyze(problem, yv, calc_second_order=meta["design"]["second_order"],
                            seed=1)
        return pd.DataFrame({"S1": res["S1"], "S1_conf": res["S1_conf"], "ST": res["ST"],
                             "ST_conf": res["ST_conf"]}, index=problem["names"])
    from SALib.analyze import morris

    x = np.array([[r[k] for k in problem["names"]] for r in meta["rows"]], dtype=float)
    res = morris.analyze(problem, x, yv, num_levels=meta["design"]["num_levels"], seed=1)
    return pd.DataFrame({"mu_star": res["mu_star"], "mu_star_conf": res["mu_star_conf"],
                         "sigma": res["sigma"], "mu": res["mu"]}, index=problem["names"])


def _save(fig: Any, path: Path) -> Path:
    """PNG at `path` and its SVG twin, in the house style (cxsim.viz.style)."""
    from ..viz import style

    style.save(fig, path)
    return path


def plot_heatmap(summary: pd.DataFrame, x: str, y: str, output: str, path: Path,
                 currency: str = "GBP") -> Path:
    """Mean of `output` over a two-lever grid (scatter coloured by value for non-grid designs)."""
    import matplotlib.pyplot as plt

    from ..viz import style

    style.apply()
    fig, ax = plt.subplots(figsize=(6.5, 5), constrained_layout=True)
    k = style.scale(output)
    shown = summary.assign(**{f"{output}_mean": summary[f"{output}_mean"] * k})
    summary = shown
    piv = summary.pivot_table(index=y, columns=x, values=f"{output}_mean", aggfunc="mean")
    if piv.size == len(summary) and piv.notna().all().all():
        im = ax.imshow(piv.to_numpy(), origin="lower", aspect="auto", cmap="viridis")
        ax.set_xticks(range(len(piv.columns)), [f"{v:.3g}" for v in piv.columns])
        ax.set_yticks(range(len(piv.index)), [f"{v:.3g}" for v in piv.index])
        vals = piv.to_numpy()
        lo, hi = float(np.nanmin(vals)), float(np.nanmax(vals))
        for (i, j), v in np.ndenumerate(vals):
            bright = hi > lo and (v - lo) / (hi - lo) > 0.6  # viridis is light at the top
            ax.text(j, i, _cell_text(output, v, currency), ha="center", va="center",
                    color="black" if bright else "white", fontsize=8)
        ax.grid(False)
    else:
        im = ax.scatter(summary[x], summary[y], c=summary[f"{output}_mean"], cmap="viridis", s=40)
    bar = fig.colorbar(im, ax=ax, label=f"{style.axis_label(output, currency)}, mean over "
                                        "replications")
    m = style.METRICS.get(output)
    if m is not None and m.kind == "money":
        from matplotlib.ticker import FuncFormatter

        bar.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: style.fmt_money(v,
                                                                                    currency)))
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title(style.wrap(f"{style.axis_label(output, currency)} by {x} and {y}", 60))
    return _save(fig, path)


def _cell_text(output: str, v: float, currency: str) -> str:
    """A heatmap cell's value as the axis shows it (already scaled: indices 0-100)."""
    from ..viz import style

    m = style.METRICS.get(output)
    if m is not None and m.kind == "money":
        return style.fmt_money(v, currency)
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}"


def plot_curves(table: pd.DataFrame, lever: str, outputs: list[str], path: Path,
                currency: str = "GBP") -> Path:
    """Mean of each output against one lever, with a band from the 10th to 90th percentile."""
    import matplotlib.pyplot as plt

    from ..viz import style

    style.apply()
    ok = table[table["status"] == "done"]
    fig, axes = plt.subplots(1, len(outputs), figsize=(4.2 * len(outputs), 3.8),
                             constrained_layout=True, squeeze=False)
    for ax, out in zip(axes[0], outputs, strict=True):
        k = style.scale(out)
        g = ok.groupby(lever)[out]
        mean, lo, hi = g.mean() * k, g.quantile(0.1) * k, g.quantile(0.9) * k
        if (g.count() > 1).any():  # a band only where several runs share a lever value
            ax.fill_between(mean.index, lo, hi, alpha=0.25, label="10th-90th percentile of runs")
        ax.plot(mean.index, mean, marker="o", label="mean over runs")
        style.style_axis(ax, out, currency, data=mean, xlabel=lever)
        m = style.METRICS.get(out)
        ax.set_title(m.label if m else out)
    axes[0][0].legend()
    fig.suptitle(style.wrap(f"Figures against {lever}"))
    return _save(fig, path)


def plot_indices(indices: pd.DataFrame, kind: str, output: str, path: Path) -> Path:
    """Bar chart of sensitivity indices with their confidence intervals."""
    import matplotlib.pyplot as plt

    from ..viz import style

    style.apply()
    fig, ax = plt.subplots(figsize=(7, 3.8), constrained_layout=True)
    n = np.arange(len(indices))
    if kind == "sobol":
        ax.bar(n - 0.2, indices["S1"], 0.4, yerr=indices["S1_conf"], label="S1 (first order)")
        ax.bar(n + 0.2, indices["ST"], 0.4, yerr=indices["ST_conf"], label="ST (total)")
    else:
        ax.bar(n - 0.2, indices["mu_star"], 0.4, yerr=indices["mu_star_conf"], label="mu*")
        ax.bar(n + 0.2, indices["sigma"], 0.4, label="sigma")
    ax.set_xticks(n, [s.split(".")[-1] for s in indices.index], rotation=20)
    ax.set_ylabel("share of the variance (0-1)" if kind == "sobol" else
                  f"elementary effect ({style.axis_label(output)})")
    if kind == "sobol":
        ax.set_ylim(min(0.0, float(np.nanmin(indices[["S1", "ST"]].to_numpy())) - 0.05), 1.05)
    ax.set_title(style.wrap(f"{kind.capitalize()} sensitivity of "
                            f"{style.axis_label(output)}; bars: 95% intervals", 70))
    ax.legend()
    return _save(fig, path)


def _currency(out: Path) -> str:
    """The currency of the sweep's base scenario (GBP when the folder does not say)."""
    import tomllib

    try:
        base = tomllib.loads((out / "base_scenario.toml").read_text(encoding="utf-8"))
        return str(base.get("money", {}).get("currency", "GBP"))
    except (OSError, tomllib.TOMLDecodeError):
        return "GBP"


def analyze(out: str | Path, outputs: list[str] | None = None) -> Analysis:
    """Summarise a sweep folder and write its plots under OUT/analysis/."""
    out = Path(out)
    meta, table = load_sweep(out)
    outputs = list(outputs or meta.get("outputs") or [])
    missing = [o for o in outputs if o not in table.columns]
    if missing:
        known = [c for c in table.columns if c not in ("run_id", "row", "rep", "seed", "status",
                                                        "error", "wall_s", "step")]
        raise SweepError(f"outputs {missing} are not in the runs table; allowed: "
                         + ", ".join(known))
    summary = summarise_rows(meta, table, outputs)
    res = Analysis(meta, summary, n_failed=int((table["status"] == "failed").sum()))
    adir = out / "analysis"
    adir.mkdir(exist_ok=True)
    write_with(adir / "summary.csv", lambda p: summary.to_csv(p, index=False))
    varied = meta["varied"]
    kind = meta["design"]["kind"]
    currency = _currency(out)
    if len(varied) == 2:
        for o in outputs:
            res.plots.append(plot_heatmap(summary, varied[0], varied[1], o,
                                          adir / f"heatmap_{o}.png", currency))
    else:
        for lever in varied:
            res.plots.append(plot_curves(table, lever, outputs,
                                         adir / f"curves_{lever.replace('.', '_')}.png",
                                         currency))
    if kind in ("sobol", "morris"):
        for o in outputs:
            idx = sensitivity(meta, table, o)
            res.indices[o] = idx
            write_with(adir / f"{kind}_{o}.csv", lambda p, idx=idx: idx.to_csv(p))
            res.plots.append(plot_indices(idx, kind, o, adir / f"{kind}_{o}.png"))
    return res
