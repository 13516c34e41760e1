"""Command line: `cxsim run`, `cxsim scenarios`, and the commands of later modules.

Bad input ends with exit code 2 and one line naming the file, the field, the value and what
is allowed; nothing is written to the output folder.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from .scenario import ScenarioError, builtin_scenarios, load_scenario

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="cxsim: how a company's culture reaches its customers.")
console = Console()
err_console = Console(stderr=True)
DEFAULT_COMPARE_OUT = Path("out/compare")


def fail(message: str) -> typer.Exit:
    """Print one clear error line and return the exit to raise (code 2: bad input)."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code=2)


def progress_bar(transient: bool = False) -> Progress:
    return Progress(TextColumn("[progress.description]{task.description}"), BarColumn(),
                    TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                    TextColumn("left"), TimeRemainingColumn(), console=err_console,
                    transient=transient, disable=not sys.stderr.isatty() and False)


@app.command()
def scenarios() -> None:
    """List the built-in scenarios with their descriptions."""
    table = Table(title="Built-in scenarios")
    table.add_column("name", style="bold")
    table.add_column("description")
    for name, path in builtin_scenarios().items():
        try:
            sc = load_scenario(path)
            table.add_row(name, sc.description)
        except ScenarioError as exc:
            table.add_row(name, f"[red]invalid: {exc}[/]")
    console.print(table)


@app.command()
def run(
    scenario: str = typer.Argument("baseline", help="Built-in scenario name or TOML path"),
    steps: int | None = typer.Option(None, min=1, help="Weeks to simulate (default: scenario)"),
    seed: int | None = typer.Option(None, min=0, help="Root seed (default: scenario's)"),
    reps: int = typer.Option(1, min=1, help="Replications (seeds spawned from the root)"),
    out: Path = typer.Option(Path("out/run"), help="Output folder"),
    workers: int = typer.Option(1, min=1, help="Local processes for replications"),
    engine: str = typer.Option("numba", help="numba (kernels) or reference (numpy twins)"),
) -> None:
    """Run a scenario and write time series, unit figures, summary, dashboard and manifest."""
    from .experiments.run import HEADLINE, run_reps, write_run_outputs

    if engine not in ("numba", "reference"):
        raise fail(f"--engine = {engine!r}; allowed: numba, reference")
    try:
        sc = load_scenario(scenario)
        if steps is not None:
            sc = sc.with_overrides({"steps": steps}, source="--steps")
    except ScenarioError as exc:
        raise fail(str(exc)) from None
    if out.exists() and not out.is_dir():
        raise fail(f"--out = {str(out)!r} is a file; allowed: a folder (new or existing)")
    root = sc.seed if seed is None else seed
    total = sc.steps * reps
    t0 = time.perf_counter()
    with progress_bar() as bar:
        task = bar.add_task(f"{sc.name}: {reps} x {sc.steps} weeks", total=total)
        results = run_reps(sc, root, reps, sc.steps, workers, engine,
                           progress=lambda k: bar.advance(task, k))
    wall = time.perf_counter() - t0
    from .model import CXModel  # noqa: F401  (numba already warm; used for colleague count)

    written = write_run_outputs(out, sc, results, root, engine, wall, sc.n_colleagues)
    summary = written["summary"]
    table = Table(title=f"{sc.name}: {reps} rep(s), {sc.steps} weeks, seed {root}")
    table.add_column("figure")
    table.add_column("final (mean over reps)", justify="right")
    table.add_column("mean over run", justify="right")
    for c in HEADLINE:
        table.add_row(c, f"{summary[f'final_{c}'].mean():,.2f}",
                      f"{summary[f'mean_{c}'].mean():,.2f}")
    table.add_row("annual churn rate", f"{summary['annual_churn_rate'].mean():.1%}", "")
    table.add_row("annual staff attrition", f"{summary['annual_staff_attrition_rate'].mean():.1%}",
                  "")
    table.add_row("cumulative profit", f"{summary['final_cumulative_profit'].mean():,.0f}", "")
    console.print(table)
    console.print(f"wrote {out}/ (timeseries.csv/.parquet, units.csv, summary.csv, "
                  f"dashboard.png, scenario.toml, manifest.json) in {wall:.1f} s")


@app.command()
def compare(
    scenarios: Annotated[list[str], typer.Argument(
        help="Two or more scenario names or TOML paths; the first is the reference")],
    reps: Annotated[int, typer.Option(help="Replications per scenario (at least 2)")] = 5,
    steps: Annotated[int | None, typer.Option(
        min=1, help="Weeks to simulate (default: the scenarios')")] = None,
    seed: Annotated[int | None, typer.Option(
        min=0, help="Root seed (default: first scenario's)")] = None,
    out: Annotated[Path, typer.Option(help="Output folder")] = DEFAULT_COMPARE_OUT,
    workers: Annotated[int, typer.Option(min=1, help="Local processes")] = 1,
    engine: Annotated[str, typer.Option(
        help="numba (kernels) or reference (numpy twins)")] = "numba",
) -> None:
    """Compare scenarios with common random numbers: table, curves with 95% bands, report."""
    from .experiments.compare import (
        HEADLINE_METRICS,
        CompareError,
        _fmt,
        load_scenarios,
        run_comparison,
        write_comparison,
    )

    if engine not in ("numba", "reference"):
        raise fail(f"--engine = {engine!r}; allowed: numba, reference")
    if out.exists() and not out.is_dir():
        raise fail(f"--out = {str(out)!r} is a file; allowed: a folder (new or existing)")
    try:
        scs = load_scenarios(scenarios, reps, steps)
    except CompareError as exc:
        raise fail(str(exc)) from None
    n_steps = scs[0].steps
    with progress_bar() as bar:
        task = bar.add_task(f"{len(scs)} scenarios x {reps} reps x {n_steps} weeks",
                            total=len(scs) * reps)
        try:
            cmp = run_comparison(scs, reps, seed, workers, engine,
                                 progress=lambda k: bar.advance(task, k))
        except ScenarioError as exc:  # e.g. sizes that cannot staff the organisation
            raise fail(str(exc)) from None
    write_comparison(out, cmp)
    t = cmp.table
    table = Table(title=f"{' vs '.join(cmp.names)}: {reps} reps, {n_steps} weeks, "
                        f"seed {cmp.seed} (difference vs {cmp.names[0]}, 95% CI)")
    table.add_column("figure")
    for name in cmp.names:
        table.add_column(name, justify="right")
    for col in HEADLINE_METRICS:
        cells = []
        for name in cmp.names:
            r = t[(t.scenario == name) & (t.metric == col)].iloc[0]
            cell = _fmt(r["mean"], col)
            if name != cmp.names[0]:
                cell += (f" ({'+' if r.diff_vs_first >= 0 else ''}"
                         f"{_fmt(r.diff_vs_first, col)}{'' if r['clear'] else ', noise'})")
            cells.append(cell)
        table.add_row(t[t.metric == col].iloc[0]["label"], *cells)
    console.print(table)
    console.print(f"wrote {out}/ (comparison.csv, comparison.png, report.md, timeseries.csv) "
                  f"in {cmp.wall_s:.1f} s")


def main() -> None:  # pragma: no cover - console script entry
    app()


if __name__ == "__main__":  # pragma: no cover
    app()
