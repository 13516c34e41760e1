"""Command line: `cxsim run`, `cxsim scenarios`, `cxsim sweep`, `cxsim analyze`.

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
DEFAULT_OUT = Path("out/run")

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
    out: Annotated[Path, typer.Option(help="Output folder")] = DEFAULT_OUT,
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
def sweep(
    spec: Annotated[Path, typer.Argument(help="Sweep spec TOML (see experiments/)")],
    out: Annotated[Path, typer.Option(help="Output folder (resumable: rerun to finish it)")],
    workers: Annotated[int, typer.Option(
        min=1, help="Local worker processes (embedded Dask cluster)")] = 1,
    scheduler: Annotated[str | None, typer.Option(
        help="Existing Dask scheduler, tcp://host:port")] = None,
    restart: Annotated[bool, typer.Option(
        help="Discard runs of a different sweep in --out")] = False,
    retry_failed: Annotated[bool, typer.Option(help="Run failed runs again")] = False,
) -> None:
    """Run a parameter sweep: one Parquet file per run, runs.parquet, resumable."""
    from .experiments.sweep import SweepError, run_sweep

    bar = progress_bar()
    state = {"task": None, "failed": 0, "done": 0}

    def on_start(total: int, skipped: int) -> None:
        bar.start()
        state["task"] = bar.add_task(f"{spec.stem}: {total - skipped} runs", total=total - skipped)
        if skipped:
            err_console.print(f"resuming: {skipped} of {total} runs already finished")

    def on_result(status: str) -> None:
        state["failed" if status != "done" else "done"] += 1
        bar.update(state["task"], advance=1, description=(
            f"{spec.stem}: {state['done']} done, {state['failed']} failed"))

    try:
        summary = run_sweep(spec, out, workers, scheduler, restart, retry_failed,
                            on_start=on_start, on_result=on_result)
    except SweepError as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"--scheduler = {scheduler!r}: {exc}" if scheduler else str(exc)) from None
    finally:
        bar.stop()
    console.print(f"{summary.total} runs: {summary.skipped} already finished, {summary.ran} run "
                  f"now; {summary.done} done, {summary.failed} failed in total "
                  f"({summary.wall_s:.1f} s). Wrote {out}/runs.parquet and {out}/runs/")
    if summary.failed:
        first = summary.table.loc[summary.table["status"] == "failed", ["run_id", "error"]]
        row = first.iloc[0]
        console.print(f"[yellow]{summary.failed} run(s) failed[/]; first: {row['run_id']}: "
                      f"{str(row['error']).splitlines()[0]} (see the error column)")


@app.command()
def analyze(
    out: Annotated[Path, typer.Argument(help="Folder written by cxsim sweep")],
    output: Annotated[list[str] | None, typer.Option(
        "--output", "-o", help="Figure to analyse (repeatable; default: spec outputs)")] = None,
) -> None:
    """Print a sweep's results and save plots (heatmap, curves, sensitivity indices)."""
    from .experiments.analyze import analyze as run_analysis
    from .experiments.sweep import SweepError

    try:
        res = run_analysis(out, output or None)
    except SweepError as exc:
        raise fail(str(exc)) from None
    meta = res.meta
    outputs = [c.removesuffix("_mean") for c in res.summary.columns if c.endswith("_mean")]
    table = Table(title=f"{meta['name']}: {meta['design']['kind']} design, "
                        f"{len(meta['rows'])} rows x {meta['replications']} reps "
                        f"(mean ± sd over replications)")
    for k in meta["varied"]:
        table.add_column(k, justify="right")
    for o in outputs:
        table.add_column(o, justify="right")
    for _, r in res.summary.head(60).iterrows():
        table.add_row(*[f"{r[k]:.3g}" if isinstance(r[k], float) else str(r[k])
                        for k in meta["varied"]],
                      *[f"{r[f'{o}_mean']:,.3g} ± {r[f'{o}_std']:,.2g}" for o in outputs])
    console.print(table)
    if len(res.summary) > 60:
        console.print(f"... {len(res.summary) - 60} more rows in {out}/analysis/summary.csv")
    for o, idx in res.indices.items():
        t = Table(title=f"{meta['design']['kind']} sensitivity indices of {o} (SALib)")
        t.add_column("lever")
        for c in idx.columns:
            t.add_column(c, justify="right")
        for name, r in idx.iterrows():
            t.add_row(str(name), *[f"{v:.3f}" for v in r])
        console.print(t)
    if res.n_failed:
        console.print(f"[yellow]{res.n_failed} failed run(s) left out[/]")
    console.print("saved " + ", ".join(str(p) for p in res.plots))


_STORYBOARD = typer.Option(
    None, help="TOML of captions shown when their week comes ([[captions]] step, text)")


@app.command()
def serve(
    scenario: str = typer.Argument("baseline", help="Built-in scenario name or TOML path"),
    port: int = typer.Option(8765, min=1, max=65535, help="Port to listen on"),
    host: str = typer.Option("127.0.0.1", help="Address to listen on (loopback by default)"),
    customers: int = typer.Option(2000, min=1000, help="Customers (and as many prospects)"),
    seed: int | None = typer.Option(None, min=0, help="Root seed (default: scenario's)"),
    storyboard: Path | None = _STORYBOARD,
) -> None:
    """Start the live workshop dashboard in the browser; works offline, nothing leaves."""
    import os
    import signal
    import subprocess
    import tempfile

    from .viz.offline import offline_env, prepare_cdn
    from .viz.session import load_storyboard

    try:
        sc = load_scenario(scenario)
        sc.with_overrides({"size.customers": customers, "size.prospects": customers})
    except ScenarioError as exc:
        raise fail(str(exc)) from None
    if storyboard is not None:
        try:
            load_storyboard(str(storyboard))
        except (OSError, ValueError) as exc:
            raise fail(f"--storyboard: {exc}") from None
    path = Path(scenario)
    cdn = Path(tempfile.mkdtemp(prefix="cxsim-cdn-"))
    prepare_cdn(cdn)
    env = {**os.environ, "CXSIM_SCENARIO": str(path.resolve()) if path.is_file() else scenario,
           "CXSIM_CUSTOMERS": str(customers), "CXSIM_SEED": str(sc.seed if seed is None else seed),
           **offline_env(cdn)}
    if storyboard is not None:
        env["CXSIM_STORYBOARD"] = str(storyboard.resolve())
    # the browser showing the page usually runs on the same machine: leave it two cores, or
    # the model's parallel kernels starve it (measured: 2.8 instead of 5 weeks/s on 2 cores)
    env.setdefault("NUMBA_NUM_THREADS", str(max(1, (os.cpu_count() or 2) - 2)))
    cmd = [sys.executable, "-m", "solara", "run", "cxsim.viz.app", "--host", host,
           "--port", str(port), "--production", "--no-open", "--no-check-version"]
    console.print(f"cxsim dashboard for {sc.name!r} on http://{host}:{port} (Ctrl+C stops it)")
    # the server runs in its own process group, so stopping it stops everything it started
    child = subprocess.Popen(cmd, env=env, start_new_session=True)
    stopping = {"sig": 0}

    def on_signal(signum: int, _frame: object) -> None:
        stopping["sig"] = signum
        _stop_group(child, grace=1.5)

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        code = child.wait()
    finally:
        _stop_group(child, grace=1.5)
        for s, h in old.items():
            signal.signal(s, h)
        import shutil

        shutil.rmtree(cdn, ignore_errors=True)
    if stopping["sig"]:
        console.print("cxsim dashboard stopped")
        return
    if code:
        raise typer.Exit(code=code)


def _stop_group(child, grace: float) -> None:
    """SIGTERM the server's process group, then SIGKILL what is left after `grace` seconds."""
    import os
    import signal
    import subprocess

    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 2.0)):
        try:
            os.killpg(child.pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        try:
            child.wait(wait)
        except subprocess.TimeoutExpired:
            continue
        try:  # the leader is gone; end stragglers of its group too
            os.killpg(child.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        return


_ANIMATE_OUT = typer.Option(..., help="Output file: .gif (Pillow) or .mp4 (ffmpeg)")


_VERSUS = typer.Option(None, help="A second scenario shown side by side (A vs B, same seed)")


@app.command()
def animate(
    scenario: str = typer.Argument("baseline", help="Built-in scenario name or TOML path"),
    out: Path = _ANIMATE_OUT,
    steps: int = typer.Option(52, min=1, help="Weeks to animate, one frame each"),
    fps: int = typer.Option(5, min=1, max=60, help="Frames per second"),
    customers: int = typer.Option(2000, min=1000, help="Customers (and as many prospects)"),
    seed: int | None = typer.Option(None, min=0, help="Root seed (default: scenario's)"),
    failure_at: int | None = typer.Option(None, min=0,
                                          help="Inject a service failure at this week"),
    size: str = typer.Option("1920x1080", help="Frame size in pixels, WIDTHxHEIGHT"),
    storyboard: Path | None = _STORYBOARD,
    versus: str | None = _VERSUS,
) -> None:
    """Render a run as an animation for slides: networks and KPI curves, events captioned."""
    from .viz.animate import FORMATS

    if out.suffix.lower() not in FORMATS:
        raise fail(f"--out = {str(out)!r}; allowed extensions: {', '.join(FORMATS)}")
    if out.is_dir():
        raise fail(f"--out = {str(out)!r} is a folder; allowed: a .gif or .mp4 file")
    try:
        w, h = (int(x) for x in size.lower().split("x"))
        if not (160 <= w <= 7680 and 90 <= h <= 4320):
            raise ValueError
    except ValueError:
        raise fail(f"--size = {size!r}; allowed: WIDTHxHEIGHT, 160-7680 x 90-4320 "
                   "(e.g. 1920x1080)") from None
    from .viz.session import load_storyboard

    try:
        captions = load_storyboard(str(storyboard)) if storyboard is not None else {}
    except (OSError, ValueError) as exc:
        raise fail(f"--storyboard: {exc}") from None
    over = {"size.customers": customers, "size.prospects": customers}
    try:
        scs = [load_scenario(name).with_overrides(over, source="--customers")
               for name in [scenario] + ([versus] if versus else [])]
    except ScenarioError as exc:
        raise fail(str(exc)) from None
    from .model import CXModel
    from .viz.animate import render

    with progress_bar() as bar:
        task = bar.add_task(f"{scs[0].name}: building model", total=None)
        try:
            # the same seed for both: differences come from the scenarios, not the dice
            run_seed = scs[0].seed if seed is None else seed
            models = [CXModel(sc, seed=run_seed) for sc in scs]
        except ScenarioError as exc:
            raise fail(str(exc)) from None
        bar.update(task, total=steps * (len(models) + 1),
                   description=f"{scs[0].name}: rendering {out.name}")
        render(models[0], out, steps, fps=fps, size=(w, h), failure_at=failure_at,
               progress=lambda k: bar.advance(task, k), captions=captions,
               versus=models[1] if len(models) > 1 else None)
    mb = out.stat().st_size / 1e6
    console.print(f"wrote {out} ({steps} frames, {w}x{h}, {mb:.1f} MB)")


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
