"""What-ifs that carry a calibration's uncertainty: `cxsim compare ... --posterior DIR`.

Replication r of every scenario runs with the same seed (common random numbers) *and* the same
parameter values, drawn by weight from the calibration's posterior particles with a fixed seed.
A scenario keeps its own value of a calibrated parameter when it sets one different from the
first (calibrated) scenario's: that is the what-if, not an uncertainty.

How much of the spread comes from the parameters? The same comparison also runs with every
parameter at the calibrated value (the posterior median, as in calibrated.toml) and the same
seeds: the spread over replications there is noise alone. With draws it is noise plus parameter
uncertainty, so ``1 - var(fixed) / var(draws)`` (clipped to 0..1) is the share of the variance
that comes from not knowing the parameters exactly, for each figure and each difference.

Two intervals are reported. The 95% confidence interval of the mean over replications (as every
comparison reports) says how well R replications pin the posterior-averaged figure; it shrinks
as R grows. The 90% range over replications says where one client's figure may fall given what
the calibration knows and the model's noise; it does not shrink with R and is the honest
interval for a decision.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..scenario import Scenario
from .compare import HEADLINE_METRICS, METRICS, CompareError, Comparison, _fmt, mean_ci


def load_posterior(folder: str | Path) -> tuple[pd.DataFrame, list[str]]:
    """A calibration's particles (posterior.parquet) and the calibrated parameter keys."""
    d = Path(folder)
    meta, post = d / "calibration.json", d / "posterior.parquet"
    if not meta.is_file() or not post.is_file():
        raise CompareError(f"--posterior = {str(folder)!r} holds no finished calibration "
                           "(calibration.json and posterior.parquet); allowed: the --out "
                           "folder of `cxsim calibrate`")
    try:
        keys = [p["key"] for p in json.loads(meta.read_text())["params"]]
        df = pd.read_parquet(post)
    except (OSError, ValueError, KeyError) as exc:
        raise CompareError(f"--posterior = {str(folder)!r}: cannot read the calibration "
                           f"({exc})") from None
    missing = [k for k in keys + ["weight"] if k not in df.columns]
    if missing or len(df) == 0:
        raise CompareError(f"--posterior = {str(folder)!r}: posterior.parquet lacks "
                           f"{', '.join(missing) or 'particles'}")
    return df, keys


def _get(sc: Scenario, key: str) -> Any:
    node: Any = sc
    for part in key.split("."):
        node = getattr(node, part)
    return node


def scenario_draws(scenarios: Sequence[Scenario], keys: list[str],
                   draws: list[dict[str, float]]) -> tuple[list[list[dict[str, float]]],
                                                           dict[str, list[str]]]:
    """Each scenario's per-replication overrides, and the parameters each one keeps.

    A scenario whose value of a key differs from the first scenario's keeps its own value
    (it is the lever the what-if changes); every other key takes replication r's draw.
    """
    first = scenarios[0]
    out, kept = [], {}
    for sc in scenarios:
        own = [k for k in keys if _get(sc, k) != _get(first, k)]
        kept[sc.name] = own
        out.append([{k: v for k, v in d.items() if k not in own} for d in draws])
    return out, kept


def uncertainty_table(post: Comparison, fixed: Comparison,
                      metrics: Sequence[str] = tuple(c for c, _ in METRICS)) -> pd.DataFrame:
    """Per scenario and figure (level, and difference vs the first): mean, 95% CI of the mean,
    90% range over replications, sd with draws and with fixed parameters, parameter share."""
    rows = []
    base = post.names[0]

    def values(cmp: Comparison, name: str, col: str) -> np.ndarray:
        s = cmp.summary[cmp.summary["scenario"] == name].sort_values("rep")
        return s[col].to_numpy(float)

    for name in post.names:
        for col in metrics:
            for kind in ("level", "difference"):
                if kind == "difference" and name == base:
                    continue
                y, x = values(post, name, col), values(fixed, name, col)
                if kind == "difference":
                    y = y - values(post, base, col)
                    x = x - values(fixed, base, col)
                m, lo, hi = mean_ci(y)
                sd_p, sd_f = float(np.std(y, ddof=1)), float(np.std(x, ddof=1))
                share = 1.0 - sd_f ** 2 / sd_p ** 2 if sd_p > 0 else 0.0
                rows.append({"scenario": name, "metric": col, "kind": kind, "mean": m,
                             "ci_low": lo, "ci_high": hi,
                             "range_low": float(np.quantile(y, 0.05)),
                             "range_high": float(np.quantile(y, 0.95)),
                             "sd_with_draws": sd_p, "sd_fixed": sd_f,
                             "parameter_share": float(np.clip(share, 0.0, 1.0))})
    return pd.DataFrame(rows)


def report_section(table: pd.DataFrame, keys: list[str], kept: dict[str, list[str]],
                   folder: str, reps: int, currency: str) -> str:
    """The report's section on parameter uncertainty (markdown)."""
    labels = dict(METRICS)
    lines = ["## Uncertainty from the calibration", "",
             f"Each of the {reps} replications ran with parameters drawn from the posterior in "
             f"`{folder}` ({', '.join(keys)}), the same draw and seed for replication r of "
             "every scenario; the intervals above are therefore over both noise and parameter "
             "uncertainty. The same comparison with the parameters fixed at the calibrated "
             "values gives the noise alone; *from parameters* is the share of the variance "
             "over replications that the draws add (1 - var fixed / var with draws). The *90% "
             "range* is where one replication falls: the interval for a decision, which more "
             "replications do not narrow; the 95% CI is that of the mean. With few "
             "replications the share is itself rough (two sample variances); 20 or more give "
             "a steadier one.",
             ""]
    for name, own in kept.items():
        if own:
            lines.append(f"- {name} sets its own {', '.join(own)} (the what-if), not drawn.")
    if any(kept.values()):
        lines.append("")
    lines += ["| scenario | figure | mean | 95% CI of mean | 90% range | from parameters |",
              "|---|---|---|---|---|---|"]
    base = table["scenario"].iloc[0]
    for _, r in table.iterrows():
        if r.metric not in HEADLINE_METRICS:
            continue
        if r.kind == "level" and r.scenario != base:
            continue
        what = labels[r.metric] + (" (Δ vs " + base + ")" if r.kind == "difference" else "")
        f = lambda v, c=r.metric: _fmt(v, c, currency)  # noqa: E731
        lines.append(f"| {r.scenario} | {what} | {f(r['mean'])} | [{f(r.ci_low)}, "
                     f"{f(r.ci_high)}] | [{f(r.range_low)}, {f(r.range_high)}] | "
                     f"{r.parameter_share:.0%} |")
    lines += ["", "Every figure: `uncertainty.csv`; the comparison with fixed parameters: "
              "`fixed/`."]
    return "\n".join(lines)


def run_with_posterior(scenarios: Sequence[Scenario], folder: str | Path, reps: int,
                       seed: int | None = None, workers: int = 1, engine: str = "numba",
                       progress: Any = None, cache: Any = True
                       ) -> tuple[Comparison, Comparison, pd.DataFrame, str]:
    """The comparison with posterior draws, the same with fixed parameters, the uncertainty
    table and the report section."""
    from ..calibrate import draw_posterior
    from .compare import run_comparison

    post, keys = load_posterior(folder)
    root = scenarios[0].seed if seed is None else int(seed)
    draws = draw_posterior(post, keys, reps, root)
    per_scenario, kept = scenario_draws(scenarios, keys, draws)
    with_draws = run_comparison(scenarios, reps, root, workers, engine, progress, cache,
                                draws=per_scenario)
    fixed = run_comparison(scenarios, reps, root, workers, engine, progress, cache)
    table = uncertainty_table(with_draws, fixed)
    section = report_section(table, keys, kept, str(folder), reps, with_draws.currency)
    return with_draws, fixed, table, section


def write_with_posterior(out: Path, with_draws: Comparison, fixed: Comparison,
                         table: pd.DataFrame, section: str) -> None:
    """The comparison's files (with draws), uncertainty.csv and fixed/ (fixed parameters)."""
    from ..io import write_with
    from .compare import write_comparison

    write_comparison(out, with_draws, extra=section)
    write_with(out / "uncertainty.csv", lambda p: table.to_csv(p, index=False))
    write_comparison(out / "fixed", fixed)
