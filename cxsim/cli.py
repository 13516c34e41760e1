"""Command line: `cxsim run`, `scenarios`, `sweep`, `analyze`, `compare`, `validate`, `explain`,
`calibrate`, `cache`.

Bad input ends with exit code 2 and one line naming the file, the field, the value and what
is allowed, before any work starts; nothing is written to the output folder. Outputs go to a
fresh folder that replaces `--out` only when complete; if that fails at the end, the results
are saved to a temporary folder and the message says where (exit code 1).
"""

from __future__ import annotations

import sys
import time
import tomllib
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table
from typer.core import TyperCommand, TyperGroup

from . import __version__
from .io import OutputError, check_out_dir, write_folder
from .scenario import Scenario, ScenarioError, builtin_scenarios, load_scenario

_TYPE_METAVARS = {"int": "N", "float": "X", "path": "PATH", "str": "TEXT"}


def _tidy(params: list[Any]) -> list[Any]:
    """Plain help: arguments by NAME, options by their metavar, no `<type>` or `{name}`."""
    for p in params:
        if getattr(p, "_tidied", False):
            continue
        p._tidied = True  # type: ignore[attr-defined]
        if p.param_type_name == "argument":
            name = (p.metavar or p.name or "arg").upper()
            shown = name + ("..." if p.nargs != 1 else "")
            usage = shown if p.required else f"[{shown}]"
            p.metavar = shown
            p._usage_display_name = lambda usage=usage: usage  # type: ignore[attr-defined]
            p.display_type_rich = lambda ctx: None  # type: ignore[method-assign]
        elif p.param_type_name == "option":
            if p.is_flag or p.count:
                p.display_type_rich = lambda ctx: None  # type: ignore[method-assign]
            elif p.metavar is None:
                try:
                    tname = str(p.bare_type()).lower()
                except Exception:  # noqa: BLE001 - help must render whatever typer does
                    tname = "text"
                p.metavar = _TYPE_METAVARS.get(tname, "VALUE")
    return params


class _Command(TyperCommand):
    def get_params(self, ctx: Any) -> list[Any]:
        return _tidy(super().get_params(ctx))


class _Group(TyperGroup):
    def get_params(self, ctx: Any) -> list[Any]:
        return _tidy(super().get_params(ctx))

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        """Every command gets the plain help, also one declared without cls=_Command."""
        cmd = super().get_command(ctx, cmd_name)
        if cmd is not None and not isinstance(cmd, _Command) \
                and not getattr(cmd, "_tidy_help", False):
            original = cmd.get_params
            cmd.get_params = lambda ctx, original=original: _tidy(original(ctx))
            cmd._tidy_help = True
        return cmd


app = typer.Typer(add_completion=False, no_args_is_help=True, cls=_Group,
                  rich_markup_mode=None, context_settings={"help_option_names": ["-h", "--help"]},
                  help="cxsim: how a company's culture reaches its customers.")
console = Console()
err_console = Console(stderr=True)
DEFAULT_OUT = Path("out/run")

DEFAULT_COMPARE_OUT = Path("out/compare")


def _show_version(value: bool) -> None:
    if value:
        console.print(f"cxsim {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def _main(version: Annotated[bool, typer.Option(
        "--version", "-V", callback=_show_version, is_eager=True,
        help="Show the version and exit.")] = False) -> None:
    """cxsim: how a company's culture reaches its customers."""


def fail(message: str) -> typer.Exit:
    """Print one clear error line and return the exit to raise (code 2: bad input)."""
    one_line = " ".join(str(message).split("\n"))
    err_console.print(f"[bold red]error:[/] {escape(one_line)}", highlight=False, soft_wrap=True)
    return typer.Exit(code=2)


def lost(exc: OSError) -> typer.Exit:
    """Writing --out failed at the end: say where the results are instead (exit 1)."""
    err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False,
                      soft_wrap=True)
    return typer.Exit(code=1)


def out_ok(out: Path, option: str = "--out", replace: bool = True) -> Path:
    """check_out_dir as an exit 2."""
    try:
        return check_out_dir(out, option, replace)
    except OutputError as exc:
        raise fail(str(exc)) from None


SET_HELP = ("Change a scenario field, e.g. --set levers.empowerment=0.7 (repeatable; "
            "validated like the file)")


def parse_sets(items: list[str] | None) -> dict[str, Any]:
    """`--set KEY=VALUE` items as overrides; VALUE is read as TOML (0.7, true, "text", [..])."""
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key or " " in key:
            raise fail(f"--set {item!r}: expected KEY=VALUE with a dotted scenario key, "
                       "e.g. --set levers.empowerment=0.7")
        try:
            parsed = tomllib.loads(f"v = {raw.strip()}")
        except tomllib.TOMLDecodeError:
            parsed = {"v": raw.strip()}  # a bare word is text: --set name=client
        if set(parsed) != {"v"}:  # a line break smuggling in another key
            raise fail(f"--set {item!r}: expected one value after '=', e.g. "
                       "--set levers.empowerment=0.7")
        out[key] = parsed["v"]
    return out


def apply_sets(sc: Scenario, sets: dict[str, Any]) -> Scenario:
    """The scenario with the --set changes, validated (ScenarioError names `--set`)."""
    return sc.with_overrides(sets, source="--set") if sets else sc


def progress_bar(transient: bool = False) -> Progress:
    return Progress(TextColumn("[progress.description]{task.description}"), BarColumn(),
                    TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                    TextColumn("left"), TimeRemainingColumn(), console=err_console,
                    transient=transient, disable=not sys.stderr.isatty() and False)


@app.command(cls=_Command)
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


@app.command(cls=_Command)
def run(
    scenario: str = typer.Argument("baseline", help="Built-in scenario name or TOML path"),
    steps: int | None = typer.Option(None, min=1, metavar="WEEKS",
                                     help="Weeks to simulate (default: scenario)"),
    seed: int | None = typer.Option(None, min=0, help="Root seed (default: scenario's)"),
    reps: int = typer.Option(1, min=1, help="Replications (seeds spawned from the root)"),
    out: Annotated[Path, typer.Option(metavar="DIR", help="Output folder")] = DEFAULT_OUT,
    workers: int = typer.Option(1, min=1, help="Local processes for replications"),
    engine: str = typer.Option("numba", metavar="numba|reference",
                               help="numba (kernels) or reference (numpy twins)"),
    set_: Annotated[list[str] | None, typer.Option(
        "--set", metavar="KEY=VALUE", help=SET_HELP)] = None,
) -> None:
    """Run a scenario and write time series, unit figures, summary, dashboard and manifest."""
    from .experiments.run import run_reps, write_run_outputs

    if engine not in ("numba", "reference"):
        raise fail(f"--engine = {engine!r}; allowed: numba, reference")
    sets = parse_sets(set_)
    out_ok(out)
    try:
        sc = apply_sets(load_scenario(scenario), sets)
        if steps is not None:
            sc = sc.with_overrides({"steps": steps}, source="--steps")
    except ScenarioError as exc:
        raise fail(str(exc)) from None
    root = sc.seed if seed is None else seed
    total = sc.steps * reps
    t0 = time.perf_counter()
    with progress_bar() as bar:
        task = bar.add_task(f"{sc.name}: {reps} x {sc.steps} weeks", total=total)
        results = run_reps(sc, root, reps, sc.steps, workers, engine,
                           progress=lambda k: bar.advance(task, k))
    wall = time.perf_counter() - t0
    try:
        written = write_folder(out, lambda d: write_run_outputs(
            d, sc, results, root, engine, wall, sc.n_colleagues))
    except OSError as exc:  # SavedElsewhere says where the results went; others: nowhere
        raise lost(exc) from None
    print_run_summary(sc, written["summary"], reps, root)
    console.print(f"wrote {out}/ (timeseries.csv/.parquet, units.csv, summary.csv, "
                  f"dashboard.png/.svg, scenario.toml, manifest.json) in {wall:.1f} s; "
                  f"`cxsim report {out}` makes the deck and workbook", highlight=False)


def print_run_summary(sc: Any, summary: Any, reps: int, root: int) -> None:
    """Headline figures on one scale each, with units and the scenario's currency."""
    from .experiments.run import HEADLINE
    from .viz.style import axis_label, fmt_value

    cur = sc.money.currency
    table = Table(title=f"{sc.name}: {reps} rep(s), {sc.steps} weeks, seed {root}")
    table.add_column("figure (unit)")
    table.add_column("final week (mean over reps)", justify="right")
    table.add_column("mean over run", justify="right")
    for c in HEADLINE:
        table.add_row(axis_label(c, cur), fmt_value(c, summary[f"final_{c}"].mean(), cur),
                      fmt_value(c, summary[f"mean_{c}"].mean(), cur))
    table.add_row("Annual churn rate (% of active customers)",
                  f"{summary['annual_churn_rate'].mean():.1%}", "")
    if "annual_staff_attrition_rate" in summary:
        table.add_row("Annual staff attrition (% of colleagues)",
                      f"{summary['annual_staff_attrition_rate'].mean():.1%}", "")
    table.add_row(axis_label("cumulative_profit", cur),
                  fmt_value("cumulative_profit", summary["final_cumulative_profit"].mean(), cur),
                  "")
    console.print(table)


@app.command(cls=_Command)
def sweep(
    spec: Annotated[Path, typer.Argument(help="Sweep spec TOML (see experiments/)")],
    out: Annotated[Path, typer.Option(
        metavar="DIR", help="Output folder (resumable: rerun to finish it)")],
    workers: Annotated[int, typer.Option(
        min=1, help="Local worker processes (embedded Dask cluster)")] = 1,
    scheduler: Annotated[str | None, typer.Option(
        metavar="URL", help="Existing Dask scheduler, tcp://host:port")] = None,
    restart: Annotated[bool, typer.Option(
        help="Discard runs of a different sweep in --out")] = False,
    retry_failed: Annotated[bool, typer.Option(help="Run failed runs again")] = False,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", metavar="KEY=VALUE", help=SET_HELP + "; applied to the base scenario")] = None,
    cache: Annotated[bool, typer.Option(
        "--cache/--no-cache", help="Fork runs from the burn-in cache (cxsim cache info)")] = True,
) -> None:
    """Run a parameter sweep: one Parquet file per run, runs.parquet, resumable.

    Every design row is validated before anything is launched; a sweep that ends with failed
    runs exits with code 1 and says how many.
    """
    from .experiments.sweep import SweepError, run_sweep

    sets = parse_sets(set_)
    out_ok(out, replace=False)

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
                            on_start=on_start, on_result=on_result, overrides=sets,
                            cache=cache)
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
        err_console.print(
            f"[bold red]error:[/] {summary.failed} of {summary.total} runs failed; first: "
            f"{row['run_id']}: {escape(str(row['error']).splitlines()[0])} (see the error "
            f"column of {out}/runs.parquet; --retry-failed runs them again)", highlight=False,
            soft_wrap=True)
        raise typer.Exit(code=1)


@app.command(cls=_Command)
def calibrate(
    scenario: Annotated[str, typer.Argument(
        help="Built-in scenario name or TOML path: the client as far as it is known")],
    targets: Annotated[Path, typer.Option(
        metavar="CSV", help="The client's figures: metric,value[,sd][,week][,unit] "
        "(docs/calibration.md)")],
    params: Annotated[str, typer.Option(
        metavar="KEY[=LOW:HIGH],...", help="Parameters to fit, uniform priors over their "
        "schema range or LOW:HIGH, e.g. levers.empowerment,churn.base=0.001:0.006")],
    out: Annotated[Path, typer.Option(
        metavar="DIR", help="Output folder (history.db: rerun the command to resume)")],
    budget: Annotated[int, typer.Option(
        min=1, help="Most simulations in all, resumed runs included")] = 3000,
    population: Annotated[int, typer.Option(min=1, help="Particles per generation")] = 200,
    generations: Annotated[int, typer.Option(min=1, help="Most generations")] = 8,
    workers: Annotated[int, typer.Option(
        min=1, help="Local worker processes (embedded Dask cluster)")] = 1,
    scheduler: Annotated[str | None, typer.Option(
        metavar="URL", help="Existing Dask scheduler, tcp://host:port")] = None,
    seed: Annotated[int | None, typer.Option(
        min=0, help="Root seed (default: the scenario's)")] = None,
    restart: Annotated[bool, typer.Option(
        help="Discard a different calibration in --out")] = False,
) -> None:
    """Fit parameters to a client's measured figures (ABC-SMC on Dask; resumable).

    Writes posterior.parquet, calibrated.toml, fit.png, posterior.png and report.md.
    """
    from .calibrate import CalibrationError, Settings, make_problem, run_calibration

    if scheduler and workers != 1:
        raise fail("--workers and --scheduler: give one; --workers starts local workers, "
                   "--scheduler uses the workers of an existing cluster")
    out_ok(out, replace=False)
    settings = Settings(population=population, budget=budget, generations=generations,
                        seed=seed)
    t0 = time.perf_counter()
    try:
        problem = make_problem(scenario, targets, params, settings)
        res = run_calibration(problem, out, workers, scheduler, restart,
                              on_start=lambda done: _calibration_start(problem, done),
                              on_generation=lambda g: _calibration_progress(g, t0),
                              on_tick=_calibration_tick)
    except CalibrationError as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"--scheduler = {scheduler!r}: {exc}" if scheduler else str(exc)) from None
    _calibration_summary(out, res)


def _calibration_start(problem: Any, done: int) -> None:
    where = f"resuming after generation {done - 1}" if done else "starting"
    err_console.print(f"calibrating {problem.scenario.name}: {len(problem.priors)} parameters, "
                      f"{len(problem.targets)} targets, {problem.settings.population} particles "
                      f"per generation; {where}", highlight=False)


def _calibration_progress(g: Any, t0: float) -> None:
    err_console.print(f"generation {g.t}: tolerance {g.epsilon:.3g}, accepted {g.accepted} of "
                      f"{g.simulations} simulations ({g.acceptance_rate:.1%}), "
                      f"{time.perf_counter() - t0:.0f} s", highlight=False)


def _calibration_tick(t: int, sims: int, seconds: float) -> None:
    err_console.print(f"  generation {t}: {sims} simulations sent in {seconds:.0f} s",
                      highlight=False)


def _calibration_summary(out: Path, res: Any) -> None:
    import pandas as pd

    params = pd.read_csv(out / "parameters.csv")
    fit = pd.read_csv(out / "fit.csv")
    table = Table(title=f"posterior ({res.stopped}; {res.total_simulations} simulations)")
    for c in ("parameter", "median", "90% interval", "verdict"):
        table.add_column(c)
    for _, r in params.iterrows():
        table.add_row(r.parameter, f"{r['median']:.4g}", f"{r.ci90_low:.4g} .. "
                      f"{r.ci90_high:.4g}", r.verdict)
    console.print(table)
    table = Table(title="posterior predictive against the targets")
    for c in ("target", "value ± sd", "model (median)", "miss", ""):
        table.add_column(c)
    for _, r in fit.iterrows():
        table.add_row(r.target, f"{r.value:.4g} ± {r.sd:.3g}", f"{r.predictive_median:.4g}",
                      f"{r.miss_sd:+.1f} sd", "reached" if r.reached else "NOT REACHED")
    console.print(table)
    console.print(f"wrote {out}/ (report.md, calibrated.toml, posterior.parquet, fit.png, "
                  f"posterior.png, history.db) in {res.wall_s:.0f} s", highlight=False)


@app.command(cls=_Command)
def analyze(
    out: Annotated[Path, typer.Argument(metavar="DIR", help="Folder written by cxsim sweep")],
    output: Annotated[list[str] | None, typer.Option(
        "--output", "-o", metavar="FIGURE",
        help="Figure to analyse (repeatable; default: spec outputs)")] = None,
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


@app.command(cls=_Command)
def serve(
    scenario: str = typer.Argument("baseline", help="Built-in scenario name or TOML path"),
    port: int = typer.Option(8765, min=1, max=65535, help="Port to listen on"),
    host: str = typer.Option("127.0.0.1", help="Address to listen on (loopback by default)"),
    customers: int = typer.Option(2000, min=1000, help="Customers (and as many prospects)"),
    seed: int | None = typer.Option(None, min=0, help="Root seed (default: scenario's)"),
    set_: Annotated[list[str] | None, typer.Option(
        "--set", metavar="KEY=VALUE", help=SET_HELP)] = None,
    storyboard: Path | None = _STORYBOARD,
    state: Annotated[Path | None, typer.Option(
        metavar="FILE", help="Start from a saved model (model.save, e.g. a calibrated client "
        "after its burn-in); its scenario, size and seed replace SCENARIO, --customers and "
        "--seed, and Reset returns to it")] = None,
    cache: Annotated[bool, typer.Option(
        "--cache/--no-cache", help="Fork the page's models from the burn-in cache (cxsim cache "
        "info): a size and seed used before opens in well under a second")] = True,
) -> None:
    """Start the live workshop dashboard in the browser; works offline, nothing leaves."""
    import os
    import signal
    import subprocess
    import tempfile

    from .viz.offline import offline_env, prepare_cdn
    from .viz.session import load_storyboard

    sets = parse_sets(set_)
    if state is not None:
        if sets:
            raise fail("--state and --set: a saved model keeps its own scenario; allowed: one")
        from .checkpoint import CheckpointError
        from .model import CXModel

        try:  # load reads and checks the header first: one line for a file that is not a state
            saved = CXModel.load(state, create_agents=False)
        except (CheckpointError, OSError) as exc:
            raise fail(f"--state: {exc}") from None
        sc, customers, seed = saved.scenario, saved.scenario.size.customers, saved.seed
        if saved.scenario.size.prospects != customers:
            raise fail(f"--state: the saved model has {saved.scenario.size.prospects} prospects "
                       f"and {customers} customers; allowed for the dashboard: as many of each")
    try:
        if state is None:
            sc = apply_sets(load_scenario(scenario), sets)
        sc.with_overrides({"size.customers": customers, "size.prospects": customers},
                          source="--customers")
    except ScenarioError as exc:
        raise fail(str(exc)) from None
    if storyboard is not None:
        try:
            load_storyboard(str(storyboard))
        except (OSError, ValueError) as exc:
            raise fail(f"--storyboard: {exc}") from None
    path = Path(scenario)
    if sets or state is not None:  # the page loads a file: the scenario with the changes, or
        # the saved model's own
        fd, name = tempfile.mkstemp(prefix=f"cxsim-serve-{Path(sc.name).name}-", suffix=".toml")
        os.close(fd)
        path = Path(name)
        path.write_text(sc.to_toml(), encoding="utf-8")
        scenario = str(path)
    cdn = Path(tempfile.mkdtemp(prefix="cxsim-cdn-"))
    prepare_cdn(cdn)
    env = {**os.environ, "CXSIM_SCENARIO": str(path.resolve()) if path.is_file() else scenario,
           "CXSIM_CUSTOMERS": str(customers), "CXSIM_SEED": str(sc.seed if seed is None else seed),
           "CXSIM_CACHE": "1" if cache else "0", **offline_env(cdn)}
    if storyboard is not None:
        env["CXSIM_STORYBOARD"] = str(storyboard.resolve())
    if state is not None:
        env["CXSIM_STATE"] = str(state.resolve())
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


_ANIMATE_OUT = typer.Option(..., metavar="FILE", help="Output file: .gif (Pillow) or .mp4 (ffmpeg)")


_VERSUS = typer.Option(None, help="A second scenario shown side by side (A vs B, same seed)")


@app.command(cls=_Command)
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
    set_: Annotated[list[str] | None, typer.Option(
        "--set", metavar="KEY=VALUE", help=SET_HELP)] = None,
) -> None:
    """Render a run as an animation for slides: networks and KPI curves, events captioned."""
    from .viz.animate import FORMATS

    if out.suffix.lower() not in FORMATS:
        raise fail(f"--out = {str(out)!r}; allowed extensions: {', '.join(FORMATS)}")
    if out.is_dir():
        raise fail(f"--out = {str(out)!r} is a folder; allowed: a .gif or .mp4 file")
    out_ok(out.parent if str(out.parent) else Path("."), "--out (its folder)", replace=False)
    sets = parse_sets(set_)
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
        scs = [apply_sets(load_scenario(name), sets).with_overrides(over, source="--customers")
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


@app.command(cls=_Command)
def compare(
    scenarios: Annotated[list[str], typer.Argument(
        metavar="SCENARIO", help="Two or more scenario names or TOML paths; the first is the "
        "reference")],
    reps: Annotated[int, typer.Option(help="Replications per scenario (at least 2)")] = 5,
    steps: Annotated[int | None, typer.Option(
        min=1, help="Weeks to simulate (default: the scenarios')")] = None,
    seed: Annotated[int | None, typer.Option(
        min=0, help="Root seed (default: first scenario's)")] = None,
    out: Annotated[Path, typer.Option(metavar="DIR", help="Output folder")] = DEFAULT_COMPARE_OUT,
    workers: Annotated[int, typer.Option(min=1, help="Local processes")] = 1,
    engine: Annotated[str, typer.Option(
        metavar="numba|reference", help="numba (kernels) or reference (numpy twins)")] = "numba",
    set_: Annotated[list[str] | None, typer.Option(
        "--set", metavar="KEY=VALUE", help=SET_HELP + "; applied to every scenario")] = None,
    cache: Annotated[bool, typer.Option(
        "--cache/--no-cache", help="Fork runs from the burn-in cache (cxsim cache info)")] = True,
    posterior: Annotated[Path | None, typer.Option(
        metavar="DIR", help="A `cxsim calibrate` folder: each replication draws the "
        "calibrated parameters from its posterior (same draw in every scenario)")] = None,
) -> None:
    """Compare scenarios with common random numbers: table, curves with 95% bands, report."""
    from .experiments.compare import (
        HEADLINE_METRICS,
        SIZE_DEPENDENT,
        CompareError,
        _fmt,
        load_scenarios,
        run_comparison,
        write_comparison,
    )

    if engine not in ("numba", "reference"):
        raise fail(f"--engine = {engine!r}; allowed: numba, reference")
    sets = parse_sets(set_)
    out_ok(out)
    try:
        scs = load_scenarios(scenarios, reps, steps, sets)
    except CompareError as exc:
        raise fail(str(exc)) from None
    n_steps = scs[0].steps
    if posterior is not None:
        from .experiments.posterior import load_posterior

        try:
            load_posterior(posterior)
        except CompareError as exc:
            raise fail(str(exc)) from None
    runs = len(scs) * reps * (2 if posterior is not None else 1)
    with progress_bar() as bar:
        task = bar.add_task(f"{len(scs)} scenarios x {reps} reps x {n_steps} weeks"
                            + (" (posterior draws, then fixed)" if posterior else ""),
                            total=runs)
        try:
            if posterior is None:
                cmp = run_comparison(scs, reps, seed, workers, engine,
                                     progress=lambda k: bar.advance(task, k), cache=cache)
            else:
                from .experiments.posterior import run_with_posterior, write_with_posterior

                cmp, fixed, unc, section = run_with_posterior(
                    scs, posterior, reps, seed, workers, engine,
                    lambda k: bar.advance(task, k), cache)
        except ScenarioError as exc:  # e.g. sizes that cannot staff the organisation
            raise fail(str(exc)) from None
    warning = cmp.size_warning()
    if warning:
        err_console.print(f"[bold yellow]WARNING:[/] {escape(warning)}", highlight=False,
                          soft_wrap=True)
    try:
        if posterior is None:
            write_folder(out, lambda d: write_comparison(d, cmp))
        else:
            write_folder(out, lambda d: write_with_posterior(d, cmp, fixed, unc, section))
    except OSError as exc:  # SavedElsewhere says where the results went; others: nowhere
        raise lost(exc) from None
    t = cmp.table
    table = Table(title=f"{' vs '.join(cmp.names)}: {reps} reps, {n_steps} weeks, "
                        f"seed {cmp.seed} (difference vs {cmp.names[0]}, 95% CI)")
    table.add_column("figure")
    for name in cmp.names:
        table.add_column(name, justify="right")
    rows = list(HEADLINE_METRICS)
    if cmp.sizes_differ:
        rows += [f"{c}_per_1000" for c in HEADLINE_METRICS if c in SIZE_DEPENDENT]
    for col in rows:
        cells = []
        for name in cmp.names:
            r = t[(t.scenario == name) & (t.metric == col)].iloc[0]
            cell = _fmt(r["mean"], col, cmp.currency)
            if name != cmp.names[0]:
                noise = "" if r["clear"] else ", noise"
                cell += (f" ({'+' if r.diff_vs_first >= 0 else ''}"
                         f"{_fmt(r.diff_vs_first, col, cmp.currency)}{noise})")
            cells.append(cell)
        table.add_row(t[t.metric == col].iloc[0]["label"], *cells)
    console.print(table)
    if posterior is not None:
        console.print(f"parameters drawn from {posterior}: report.md says how much of each "
                      "interval they add (uncertainty.csv; fixed/ has the comparison at the "
                      "calibrated values)", highlight=False)
    console.print(f"wrote {out}/ (comparison.csv, comparison.png/.svg, differences.png/.svg, "
                  f"report.md, timeseries.csv, scenarios/) in {cmp.wall_s:.1f} s; "
                  f"`cxsim report {out}` makes the deck and workbook", highlight=False)


@app.command(cls=_Command)
def report(
    folder: Annotated[Path, typer.Argument(
        metavar="DIR", help="Folder written by cxsim run, compare, sweep or explain")],
    pptx: Annotated[bool, typer.Option("--pptx", help="Write the PowerPoint deck")] = False,
    xlsx: Annotated[bool, typer.Option("--xlsx", help="Write the Excel workbook")] = False,
) -> None:
    """Make a PowerPoint deck and an Excel workbook from a finished folder (both by default)."""
    from .report import ReportError, make_report

    if not pptx and not xlsx:
        pptx = xlsx = True
    try:
        from .report import detect

        detect(folder)
    except ReportError as exc:
        raise fail(str(exc)) from None
    out_ok(folder, "DIR", replace=False)
    import importlib.util

    missing = [pkg for pkg, mod in (("python-pptx", "pptx"), ("openpyxl", "openpyxl"))
               if importlib.util.find_spec(mod) is None]
    if missing:
        raise fail(f"the report needs python-pptx and openpyxl ({' and '.join(missing)} "
                   f"missing); allowed: pip install 'cxsim[report]'")
    res = make_report(folder, pptx=pptx, xlsx=xlsx)
    if pptx:
        console.print(f"wrote {res['pptx']} ({len(res['slides'])} slides: "
                      f"{'; '.join(res['slides'])})", highlight=False)
    if xlsx:
        console.print(f"wrote {res['xlsx']} (sheets: {', '.join(res['sheets'])})",
                      highlight=False)


DEFAULT_VALIDATE_OUT = Path("out/validate")
DEFAULT_EXPLAIN_OUT = Path("out/explain")


def _sized(name: str, customers: int | None, steps: int | None, min_steps: int,
           sets: dict[str, Any] | None = None):
    """Load a scenario for validate/explain with --set changes, optional size and horizon;
    fail() on bad input."""
    try:
        sc = apply_sets(load_scenario(name), sets or {})
        over: dict = {}
        if customers is not None:
            over.update({"size.customers": customers, "size.prospects": customers})
        if steps is not None:
            over["steps"] = steps
        if over:
            sc = sc.with_overrides(over, source="--customers/--steps")
    except ScenarioError as exc:
        raise fail(str(exc)) from None
    if sc.steps < min_steps:
        raise fail(f"{name}: steps = {sc.steps}; allowed: at least {min_steps} simulated weeks "
                   f"(give --steps {min_steps} or more)")
    return sc


@app.command()
def validate(
    scenario: Annotated[str, typer.Argument(help="Built-in scenario name or TOML path")] =
    "baseline",
    reps: Annotated[int, typer.Option(min=1, help="Replications (2+ for a 95% CI)")] = 3,
    out: Annotated[Path, typer.Option(help="Output folder")] = DEFAULT_VALIDATE_OUT,
    customers: Annotated[int | None, typer.Option(
        min=1, help="Customers and prospects each (default 20000: enough front-line units "
        "for the unit-level correlations)")] = 20_000,
    steps: Annotated[int | None, typer.Option(
        min=1, help="Simulated weeks (default: the scenario's; at least 52)")] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="Root seed")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Local processes")] = 1,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", metavar="KEY=VALUE", help=SET_HELP)] = None,
) -> None:
    """Compare the model with published patterns: validation.csv, validation.md, figures."""
    from .validation import run_validation, write_validation

    sets = parse_sets(set_)
    out_ok(out)
    sc = _sized(scenario, customers, steps, 52, sets)
    with progress_bar() as bar:
        task = bar.add_task(f"validate {sc.name}: {reps} reps x 3 runs", total=3 * reps)
        try:
            v = run_validation(sc, reps, seed, workers, progress=lambda k: bar.advance(task, k))
        except ScenarioError as exc:
            raise fail(str(exc)) from None
    try:
        write_folder(out, lambda d: write_validation(d, v))
    except OSError as exc:
        raise lost(exc) from None
    n_cal = int((v.table["calibrated_by"] != "").sum())
    table = Table(title=f"{sc.name}: {int(v.table['pass'].sum())} of {len(v.table)} patterns "
                        f"pass ({reps} reps)",
                  caption=f"* calibrated: {n_cal} patterns had a scenario field set against "
                          "them (validation.csv, calibrated_by); their pass is not independent "
                          "evidence")
    for c in ("level", "pattern", "source", "band", "model (95% CI)", "pass"):
        table.add_column(c)
    from .validation import PATTERNS, _fmt

    for p, (_, r) in zip(PATTERNS, v.table.iterrows(), strict=True):
        table.add_row(r["level"], p.key, r["source"], p.band,
                      f"{_fmt(r['model_value'])} [{_fmt(r['ci_low'])}, {_fmt(r['ci_high'])}]",
                      ("[green]pass[/]" if r["pass"] else "[red]FAIL[/]")
                      + ("*" if r["calibrated_by"] else ""))
    console.print(table)
    console.print(f"wrote {out}/ (validation.csv, validation.md, fig_*.png) in {v.wall_s:.1f} s")


@app.command()
def explain(
    a: Annotated[str, typer.Argument(help="Reference scenario (name or TOML path)")],
    b: Annotated[str, typer.Argument(help="Scenario to explain (name or TOML path)")],
    reps: Annotated[int, typer.Option(min=2, help="Paired replications (at least 2)")] = 3,
    out: Annotated[Path, typer.Option(help="Output folder")] = DEFAULT_EXPLAIN_OUT,
    customers: Annotated[int | None, typer.Option(
        min=1, help="Customers and prospects each (default: the scenarios')")] = None,
    steps: Annotated[int | None, typer.Option(
        min=1, help="Simulated weeks (default: the scenarios')")] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="Root seed")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Local processes")] = 1,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", metavar="KEY=VALUE", help=SET_HELP + "; applied to both scenarios")] = None,
    cache: Annotated[bool, typer.Option(
        "--cache/--no-cache", help="Fork runs from the burn-in cache (cxsim cache info)")] = True,
) -> None:
    """Why B differs from A: each causal path switched off in turn (common random numbers)."""
    from .explain import ExplainError, applicable_paths, run_explain, write_explain

    sets = parse_sets(set_)
    out_ok(out)
    if a == b:
        raise fail(f"explain needs two different scenarios, got {a!r} twice")
    sa, sb = _sized(a, customers, steps, 1, sets), _sized(b, customers, steps, 1, sets)
    if sa.steps != sb.steps:
        raise fail(f"scenarios have different horizons ({a}: {sa.steps}, {b}: {sb.steps}); "
                   "give --steps N")
    n = reps * 2 * (1 + len(applicable_paths(sa, sb)))
    with progress_bar() as bar:
        task = bar.add_task(f"explain {sb.name} vs {sa.name}: {n} runs", total=n)
        try:
            e = run_explain(sa, sb, reps, seed, workers,
                            progress=lambda k: bar.advance(task, k), cache=cache)
        except (ExplainError, ScenarioError) as exc:
            raise fail(str(exc)) from None
    try:
        write_folder(out, lambda d: write_explain(d, e))
    except OSError as exc:
        raise lost(exc) from None
    from .explain import narrative

    console.print(narrative(e), soft_wrap=True)
    console.print(f"wrote {out}/ (explain.csv, explain.png, explain.md, costs.csv, runs.csv) "
                  f"in {e.wall_s:.1f} s")


cache_app = typer.Typer(no_args_is_help=True, cls=_Group, rich_markup_mode=None,
                        context_settings={"help_option_names": ["-h", "--help"]},
                        help="The burn-in cache of compare, sweep and explain.")
app.add_typer(cache_app, name="cache")


def _cache_folder(folder: Path | None) -> Path:
    from .cache import default_dir

    folder = default_dir() if folder is None else folder
    if folder.exists() and not folder.is_dir():
        raise fail(f"--dir = {str(folder)!r} is a file; allowed: a folder")
    return folder


@cache_app.command("info", cls=_Command)
def cache_info(
    folder: Annotated[Path | None, typer.Option(
        "--dir", metavar="DIR",
        help="Cache folder (default: $CXSIM_CACHE_DIR or ~/.cache/cxsim/burn_in)")] = None,
) -> None:
    """Where the burn-in cache is, how many states it holds and their size."""
    from .cache import BurnInCache

    info = BurnInCache(_cache_folder(folder)).info()
    console.print(f"{info['folder']}: {info['states']} burned-in state(s), "
                  f"{info['bytes'] / 1e6:.1f} MB", soft_wrap=True)


@cache_app.command("clear", cls=_Command)
def cache_clear(
    folder: Annotated[Path | None, typer.Option(
        "--dir", metavar="DIR",
        help="Cache folder (default: $CXSIM_CACHE_DIR or ~/.cache/cxsim/burn_in)")] = None,
) -> None:
    """Remove every burned-in state (runs burn in again on their next use)."""
    from .cache import BurnInCache

    cache = BurnInCache(_cache_folder(folder))
    n = cache.clear()
    console.print(f"removed {n} burned-in state(s) from {cache.root}", soft_wrap=True)


def main() -> None:  # pragma: no cover - console script entry
    app()


if __name__ == "__main__":  # pragma: no cover
    app()
