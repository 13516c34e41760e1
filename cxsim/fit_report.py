"""Reading a calibration: what is identified, which targets are reached, and the files.

`parameter_table` compares each parameter's posterior 90% interval with its prior's;
`target_table` compares the posterior predictive with each target in units of its sd;
`calibrated_toml` writes the scenario with the posterior medians; `report_markdown` says it all
in words; `write_outputs` writes every file of a calibration folder atomically.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .io import write_text, write_with
from .scenario import dumps_toml, load_scenario

if TYPE_CHECKING:
    from .calibrate import Problem, Result

#: a posterior 90% interval narrower than this share of the prior's 90% interval: identified
IDENTIFIED, WEAK = 0.5, 0.8
#: a target the posterior predictive median misses by more than this many sd: unreachable
UNREACHABLE_SD = 2.0


def parameter_table(problem: Problem, posterior: pd.DataFrame) -> pd.DataFrame:
    """Per parameter: prior range, posterior median and 90% interval, how much it narrowed."""
    from .calibrate import weighted_quantile

    w = posterior["weight"].to_numpy(float)
    rows = []
    for p in problem.priors:
        lo5, med, hi95 = weighted_quantile(posterior[p.key].to_numpy(float), w,
                                           [0.05, 0.5, 0.95])
        ratio = (hi95 - lo5) / (0.9 * p.width)
        verdict = ("identified" if ratio < IDENTIFIED else
                   "weakly identified" if ratio < WEAK else "not identified")
        rows.append({"parameter": p.key, "prior_low": p.low, "prior_high": p.high,
                     "median": med, "ci90_low": lo5, "ci90_high": hi95,
                     "width_ratio": ratio, "verdict": verdict})
    return pd.DataFrame(rows)


def target_table(problem: Problem, predictive: pd.DataFrame) -> pd.DataFrame:
    """Per target: value and sd, posterior predictive median and 90% range, miss in sd."""
    rows = []
    for t in problem.targets:
        x = predictive[t.key].to_numpy(float)
        x = x[np.isfinite(x)]
        lo5, med, hi95 = np.quantile(x, [0.05, 0.5, 0.95]) if len(x) else (np.nan,) * 3
        z = (med - t.value) / t.sd
        rows.append({"target": t.key, "value": t.value, "sd": t.sd, "sd_given": t.sd_given,
                     "predictive_median": med, "predictive_low": lo5,
                     "predictive_high": hi95, "miss_sd": z,
                     "reached": bool(np.isfinite(z) and abs(z) <= UNREACHABLE_SD)})
    return pd.DataFrame(rows)


def calibrated_toml(problem: Problem, params: pd.DataFrame, out: Path) -> str:
    """SCENARIO extended with the posterior medians, pointing at the calibration folder."""
    data: dict[str, Any] = {"extends": problem.scenario_ref,
                            "name": f"{problem.scenario.name}_calibrated",
                            "description": f"{problem.scenario.name} fitted to "
                            f"{problem.targets_path.name} (posterior medians)"}
    for _, r in params.iterrows():
        node = data
        parts = str(r["parameter"]).split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = float(f"{r['median']:.6g}")
    data.setdefault("calibration", {})["posterior"] = str(out.resolve())
    head = (f"# Written by `cxsim calibrate`: {problem.scenario_ref} with the posterior medians "
            f"of {', '.join(p.key for p in problem.priors)}\n# fitted to "
            f"{problem.targets_path} (see report.md beside this file).\n")
    ordered = {k: data[k] for k in ("extends", "name", "description")}
    ordered |= {k: v for k, v in data.items() if k not in ordered}
    return head + dumps_toml(ordered)


def report_markdown(problem: Problem, res: Result, params: pd.DataFrame,
                    fit: pd.DataFrame) -> str:
    """report.md: what is identified, what is not, which targets the model cannot reach."""
    g = res.generations
    last = g.iloc[-1] if len(g) else None
    lines = [f"# Calibration of {problem.scenario.name} to {problem.targets_path.name}", "",
             f"ABC-SMC (pyABC) over {len(problem.priors)} parameters against "
             f"{len(problem.targets)} targets: {len(g)} generations of "
             f"{problem.settings.population} particles, {res.total_simulations} simulations "
             f"in all ({res.stopped}). Each simulation runs the scenario's burn-in and "
             f"{problem.scenario.calibration.weeks} weeks without its events and measures the "
             "figures as the company does (surveys with samples and noise). Distance: the "
             "Euclidean norm of the misses in units of each target's sd."
             + (f" Final tolerance {last['epsilon']:.3g}, last acceptance rate "
                f"{last['acceptance_rate']:.1%}." if last is not None else ""), ""]
    if last is not None and last["epsilon"] > UNREACHABLE_SD * math.sqrt(len(problem.targets)):
        lines += [f"> **The fit is still loose:** the last tolerance ({last['epsilon']:.3g}) "
                  f"lets particles miss every target by more than {UNREACHABLE_SD:g} sd. A "
                  "target marked not reached may be reached with more simulations: run the "
                  "same command with a larger --budget or --generations to resume.", ""]
    if res.resumed_from:
        lines += [f"Resumed from generation {res.resumed_from} of the history in this "
                  "folder.", ""]
    lines += ["## Parameters", "",
              "A parameter is *identified* when its posterior 90% interval is narrower than "
              f"{IDENTIFIED:.0%} of its prior's, *weakly identified* below {WEAK:.0%}, *not "
              "identified* otherwise: the targets then say little about it, and its median is "
              "close to the middle of its prior, not a finding.", "",
              "| parameter | prior | posterior median | 90% interval | width vs prior | "
              "verdict |", "|---|---|---|---|---|---|"]
    for _, r in params.iterrows():
        lines.append(f"| {r.parameter} | {r.prior_low:.4g} .. {r.prior_high:.4g} | "
                     f"{r['median']:.4g} | {r.ci90_low:.4g} .. {r.ci90_high:.4g} | "
                     f"{r.width_ratio:.0%} | {r.verdict} |")
    lines += ["", "![Posterior marginals and pairs](posterior.png)", "", "## Targets", "",
              f"The posterior predictive: {len(res.predictive)} fresh runs at parameters drawn "
              "from the posterior, each with its own seed. A target is *not reached* when the "
              f"median of these runs misses it by more than {UNREACHABLE_SD:g} sd: the model "
              "with these parameters free cannot produce that figure together with the others "
              "(free another parameter, question the figure, or accept the gap).", "",
              "| target | value ± sd | predictive median | 90% range | miss (sd) | |",
              "|---|---|---|---|---|---|"]
    for _, r in fit.iterrows():
        sd = f"{r.sd:.3g}" + ("" if r.sd_given else " (default)")
        mark = "reached" if r.reached else "**NOT REACHED**"
        lines.append(f"| {r.target} | {r.value:.4g} ± {sd} | {r.predictive_median:.4g} | "
                     f"{r.predictive_low:.4g} .. {r.predictive_high:.4g} | "
                     f"{r.miss_sd:+.1f} | {mark} |")
    missed = fit[~fit["reached"]]
    lines += ["", "![Posterior predictive against each target](fit.png)", "",
              "## In short", ""]
    ident = params[params.verdict == "identified"].parameter.tolist()
    not_id = params[params.verdict != "identified"].parameter.tolist()
    lines.append(f"- Identified: {', '.join(ident) or 'none'}.")
    lines.append(f"- Not (or weakly) identified: {', '.join(not_id) or 'none'}.")
    lines.append("- Targets the model cannot reach: "
                 + (", ".join(f"{r.target} (target {r.value:.4g}, model "
                              f"{r.predictive_median:.4g}, {r.miss_sd:+.1f} sd)"
                              for _, r in missed.iterrows()) or "none") + ".")
    lines += ["", "## Generations", "", "| generation | tolerance | simulations | accepted | "
              "acceptance rate |", "|---|---|---|---|---|"]
    for _, r in g.iterrows():
        lines.append(f"| {int(r.t)} | {r.epsilon:.3g} | {int(r.samples)} | "
                     f"{int(r.particles)} | {r.acceptance_rate:.1%} |")
    lines += ["", "Files: `posterior.parquet` (the last generation's particles with weights and "
              "simulated figures), `predictive.parquet`, `calibrated.toml` (the scenario with "
              "the posterior medians; `cxsim compare calibrated.toml what_if.toml --posterior "
              "DIR` carries the parameter uncertainty into a what-if), `history.db` (pyABC's "
              "record of every generation; running the same command again resumes it).", ""]
    return "\n".join(lines)


def write_outputs(out: Path, problem: Problem, res: Result) -> None:
    """posterior.parquet, predictive.parquet, calibrated.toml, figures, report.md."""
    from .viz.calibration import fit_figure, posterior_figure

    params = parameter_table(problem, res.posterior)
    fit = target_table(problem, res.predictive)
    write_with(out / "posterior.parquet", lambda p: res.posterior.to_parquet(p, index=False))
    write_with(out / "predictive.parquet",
               lambda p: res.predictive.to_parquet(p, index=False))
    write_with(out / "generations.csv", lambda p: res.generations.to_csv(p, index=False))
    write_with(out / "parameters.csv", lambda p: params.to_csv(p, index=False))
    write_with(out / "fit.csv", lambda p: fit.to_csv(p, index=False))
    text = calibrated_toml(problem, params, out)
    write_text(out / "calibrated.toml", text)
    load_scenario(out / "calibrated.toml")  # it must validate as a scenario
    write_with(out / "fit.png", lambda p: fit_figure(problem.targets, res.predictive, fit, p))
    write_with(out / "posterior.png", lambda p: posterior_figure(problem.priors,
                                                                 res.posterior, p))
    write_text(out / "report.md", report_markdown(problem, res, params, fit))
