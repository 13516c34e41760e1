"""Parameter sweeps: spec validation, seeds, designs, and real processes (SIGKILL, Dask cluster)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from cxsim.experiments.sweep import (
    SweepError,
    design_matrix,
    load_spec,
    make_plan,
    run_seed,
    run_sweep,
)

pytestmark = pytest.mark.slow  # the fast set (-m 'not slow') leaves these to CI

VENV_BIN = Path(sys.executable).parent
CXSIM = [sys.executable, "-m", "cxsim.cli"]

TINY = """
scenario = "baseline"
replications = {reps}
steps = {steps}
engine = "reference"
record = "{record}"
seed = 99

[overrides]
"size.customers" = {customers}
"size.prospects" = 200
"size.colleagues" = 20
burn_in = 2

[vary]
"levers.silo" = {silo}
"levers.empowerment" = {{ low = 0.1, high = 0.9, levels = {levels} }}
"""


def tiny_spec(path: Path, reps: int = 2, steps: int = 6, levels: int = 3, customers: int = 300,
              silo: str = "[0.2, 0.8]", record: str = "final", extra: str = "") -> Path:
    path.write_text(TINY.format(reps=reps, steps=steps, levels=levels, customers=customers,
                                silo=silo, record=record) + extra)
    return path


def cli(*args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([*CXSIM, *args], capture_output=True, text=True, timeout=timeout)


def stop(proc: subprocess.Popen) -> None:
    """End a process this test started (and its group when it leads one)."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def comparable(table: pd.DataFrame) -> pd.DataFrame:
    return table.drop(columns=["wall_s"]).sort_values("run_id").reset_index(drop=True)


# -- spec validation, seeds and designs ---------------------------------------------------------

def test_spec_loads_and_plans(tmp_path: Path) -> None:
    spec, _ = load_spec(tiny_spec(tmp_path / "s.toml"))
    plan = make_plan(spec)
    assert len(plan.rows) == 2 * 3
    assert len(plan.runs) == 6 * 2
    assert plan.steps == 6
    assert {r["levers.empowerment"] for r in plan.rows} == {0.1, 0.5, 0.9}


@pytest.mark.parametrize("extra, message", [
    ('colour = "red"\n', "colour: unknown key"),
    ('[design]\nkind = "factorial"\n', "design.kind"),
    ('[design]\nkind = "sobol"\nsamples = 4\n', "needs a range"),
    ('[design]\nkind = "lhs"\n', "design.samples is required"),
])
def test_spec_errors_are_clear(tmp_path: Path, extra: str, message: str) -> None:
    path = tiny_spec(tmp_path / "s.toml", extra="")
    text = path.read_text()
    if extra.startswith("["):
        text = text.replace("[vary]", extra + "\n[vary]")
    else:
        text = extra + text
    path.write_text(text)
    with pytest.raises(SweepError, match=message):
        load_spec(path)


def test_plan_errors_are_clear(tmp_path: Path) -> None:
    spec, _ = load_spec(tiny_spec(tmp_path / "a.toml", silo="[0.2, 1.5]"))
    with pytest.raises(SweepError, match=r"levers.silo = 1.5"):
        make_plan(spec)
    path = tiny_spec(tmp_path / "b.toml")
    path.write_text(path.read_text().replace('"levers.silo"', '"levers.sylo"'))
    with pytest.raises(SweepError, match="levers.sylo"):
        make_plan(load_spec(path)[0])
    path.write_text(path.read_text().replace('levels = 3', 'levels = 3, lo = 1'))
    with pytest.raises(SweepError, match="unknown key"):
        load_spec(path)


def test_seeds_are_per_run_and_stable(tmp_path: Path) -> None:
    spec, _ = load_spec(tiny_spec(tmp_path / "s.toml", reps=3))
    a, b = make_plan(spec), make_plan(spec)
    seeds = [r.seed for r in a.runs]
    assert seeds == [r.seed for r in b.runs]
    assert len(set(seeds)) == len(seeds)
    assert a.plan_hash == b.plan_hash
    # a run's seed depends on (row, rep) only: a bigger sweep keeps the seeds of the smaller one
    bigger = make_plan(load_spec(tiny_spec(tmp_path / "t.toml", reps=5))[0])
    assert {r.run_id: r.seed for r in bigger.runs if r.rep < 3} == {
        r.run_id: r.seed for r in a.runs}
    assert run_seed(99, 0, 1) != run_seed(99, 1, 0)
    assert run_seed(99, 0, 1, True) == run_seed(99, 5, 1, True)


def test_designs_have_the_documented_sizes(tmp_path: Path) -> None:
    base = tiny_spec(tmp_path / "s.toml").read_text().split("[vary]")[0]
    ranges = ('[vary]\n"levers.silo" = { low = 0.0, high = 1.0 }\n'
              '"levers.training" = { low = 0.2, high = 0.6 }\n'
              '"levers.pay_alignment" = { low = 0.0, high = 0.5 }\n')
    for kind, n, rows in (("lhs", 10, 10), ("sobol", 8, 8 * (3 + 2)), ("morris", 5, 5 * 4)):
        p = tmp_path / f"{kind}.toml"
        p.write_text(base + f'[design]\nkind = "{kind}"\nsamples = {n}\n' + ranges)
        spec, _ = load_spec(p)
        m = design_matrix(spec)
        assert len(m) == rows, kind
        assert all(0.2 <= r["levers.training"] <= 0.6 for r in m)
        assert m == design_matrix(spec)


# -- whole sweeps ---------------------------------------------------------------------------------

def test_malformed_spec_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('scenario = "baseline"\nreplications = 0\n[vary]\n"levers.silo" = [0.1]\n')
    res = cli("sweep", str(bad), "--out", str(tmp_path / "out"))
    assert res.returncode == 2
    assert "replications = 0" in res.stderr and "greater than or equal to 1" in res.stderr
    broken = tmp_path / "broken.toml"
    broken.write_text("scenario = \n")
    res = cli("sweep", str(broken), "--out", str(tmp_path / "out"))
    assert res.returncode == 2 and "broken TOML" in res.stderr
    assert not (tmp_path / "out" / "runs").exists()


def test_rows_that_cannot_run_are_refused_before_launch(tmp_path: Path) -> None:
    """12 colleagues cannot staff the departments: exit 2 naming the row, nothing launched."""
    spec = tiny_spec(tmp_path / "s.toml", reps=1, levels=2)
    spec.write_text(spec.read_text().replace('"levers.silo" = [0.2, 0.8]',
                                             '"size.colleagues" = [20, 12]'))
    out = tmp_path / "out"
    res = cli("sweep", str(spec), "--out", str(out))
    assert res.returncode == 2, res.stderr
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in res.stderr, res.stderr
    for needle in ("design row 2", "size.colleagues = 12", "cannot staff",
                   "at least 15 colleagues", "nothing was launched"):
        assert needle in lines[0], (needle, lines[0])
    assert not out.exists()
    # --set applies to the base scenario and is checked the same way
    ok = tiny_spec(tmp_path / "ok.toml", reps=1, levels=2)
    res = cli("sweep", str(ok), "--out", str(out), "--set", "size.colleagues=13")
    assert res.returncode == 2 and "cannot staff" in res.stderr and not out.exists()


@pytest.mark.slow
def test_failed_runs_exit_1_changed_spec_refused_and_analyze(tmp_path: Path) -> None:
    spec = tiny_spec(tmp_path / "s.toml", reps=1, levels=2)
    out = tmp_path / "out"
    summary = run_sweep(spec, out, workers=1)
    assert (summary.total, summary.done, summary.failed) == (4, 4, 0)
    # a run that died on its worker is recorded as failed (as execute() records KilledWorker)
    victim = out / "runs" / "r00001-k000.parquet"
    df = pd.read_parquet(victim).iloc[:, :4]
    df["status"], df["error"], df["wall_s"] = "failed", "KilledWorker: worker died", float("nan")
    df.to_parquet(victim, index=False)
    res = cli("sweep", str(spec), "--out", str(out))
    assert res.returncode == 1, res.stderr
    assert "1 of 4 runs failed" in res.stderr and "r00001-k000" in res.stderr
    assert "Traceback" not in res.stderr
    # a spec that changes the runs is refused (exit 2) and the folder is left as it was
    before = sorted(p.name for p in (out / "runs").iterdir())
    spec.write_text(spec.read_text().replace("seed = 99", "seed = 100"))
    res = cli("sweep", str(spec), "--out", str(out))
    assert res.returncode == 2 and "different sweep" in res.stderr, res.stderr
    assert sorted(p.name for p in (out / "runs").iterdir()) == before
    # a change that leaves the runs as they were (analysis outputs) is accepted
    text = spec.read_text().replace("seed = 100", "seed = 99")
    text = text.replace("[overrides]", 'outputs = ["nps", "trust"]\n\n[overrides]')
    spec.write_text(text)
    res = cli("analyze", str(out))
    assert res.returncode == 0, res.stderr
    assert "1 failed run(s) left out" in res.stdout
    assert (out / "analysis" / "heatmap_nps.png").stat().st_size > 1000
    assert (out / "analysis" / "heatmap_nps.svg").read_text().lstrip().startswith("<?xml")
    # the report of a sweep folder: the deck and the workbook read back
    res = cli("report", str(out))
    assert res.returncode == 0, res.stderr
    from openpyxl import load_workbook
    from pptx import Presentation

    wb = load_workbook(out / "report.xlsx")
    assert wb.sheetnames[:3] == ["About", "Runs", "Summary by row"]
    assert "Assumptions" in wb.sheetnames
    about = {r[0].value: r[1].value for r in wb["About"].iter_rows()}
    assert "1 of 4 runs failed" in about["warning"]
    runs = wb["Runs"]
    assert runs.max_row == 1 + 4 and "status" in [c.value for c in runs[1]]
    deck = Presentation(str(out / "report.pptx"))
    titles = [sl.shapes.title.text for sl in deck.slides]
    assert titles[0].startswith("Sweep: ") and titles[1].startswith("Headline figures")
    assert "NPS by levers.silo and levers.empowerment (mean over replications)" in titles
    # retrying the failed run finishes the sweep: exit 0
    res = cli("sweep", str(spec), "--out", str(out), "--retry-failed")
    assert res.returncode == 0, res.stderr
    assert "4 done, 0 failed" in res.stdout


def test_sweep_refuses_a_folder_of_another_command(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "manifest.json").write_text("{}")
    res = cli("sweep", str(tiny_spec(tmp_path / "s.toml")), "--out", str(out))
    assert res.returncode == 2 and "not a sweep's (manifest.json)" in res.stderr, res.stderr
    assert [p.name for p in out.iterdir()] == ["manifest.json"]


def test_sobol_analysis(tmp_path: Path) -> None:
    from cxsim.experiments.analyze import analyze

    spec = tiny_spec(tmp_path / "s.toml", reps=1, steps=4)
    text = spec.read_text().split("[vary]")[0] + (
        '[design]\nkind = "sobol"\nsamples = 4\n[vary]\n'
        '"levers.silo" = { low = 0.0, high = 1.0 }\n'
        '"levers.empowerment" = { low = 0.0, high = 1.0 }\n')
    spec.write_text(text)
    summary = run_sweep(spec, tmp_path / "out", workers=1)
    assert summary.done == 4 * (2 + 2)
    res = analyze(tmp_path / "out", ["nps"])
    idx = res.indices["nps"]
    assert list(idx.index) == ["levers.silo", "levers.empowerment"]
    assert {"S1", "ST"} <= set(idx.columns)
    assert (tmp_path / "out" / "analysis" / "sobol_nps.png").is_file()


def _run_files(out: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in (out / "runs").glob("*.parquet")}


def test_sigkill_then_resume(tmp_path: Path) -> None:
    spec = tiny_spec(tmp_path / "s.toml", reps=4, steps=25, levels=5, customers=800,
                     record="every_step")
    out = tmp_path / "out"
    n_runs = 2 * 5 * 4
    proc = subprocess.Popen([*CXSIM, "sweep", str(spec), "--out", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while len(_run_files(out)) < 3 if (out / "runs").is_dir() else True:
            assert proc.poll() is None, "sweep ended before it could be killed"
            assert time.monotonic() < deadline, "no run finished in time"
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGKILL)  # the sweep and its local Dask workers
        proc.wait(10)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    before = _run_files(out)
    assert 3 <= len(before) < n_runs, "the kill did not land part-way"
    assert not (out / "runs.parquet").exists()
    res = cli("sweep", str(spec), "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert f"{len(before)} already finished" in res.stdout
    after = _run_files(out)
    assert len(after) == n_runs
    assert {k: after[k] for k in before} == before, "finished runs were written again"
    assert not list(out.rglob("*.partial"))
    table = pd.read_parquet(out / "runs.parquet")
    assert len(table) == n_runs and table["run_id"].is_unique
    assert (table["status"] == "done").all()
    for name in after:  # every file whole and holding the whole time series
        df = pd.read_parquet(out / "runs" / name)
        assert list(df["step"]) == list(range(25))


# -- a real Dask cluster ------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """A `dask scheduler` and `dask worker`s started from this venv on 127.0.0.1."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.address = f"tcp://127.0.0.1:{_free_port()}"
        self.procs: list[subprocess.Popen] = []
        self.workers: dict[str, subprocess.Popen] = {}
        port = self.address.rsplit(":", 1)[1]
        self.procs.append(self._spawn("scheduler", [str(VENV_BIN / "dask"), "scheduler",
                                                    "--host", "127.0.0.1", "--port", port,
                                                    "--no-dashboard"]))

    def _spawn(self, name: str, cmd: list[str]) -> subprocess.Popen:
        log = open(self.tmp / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=self.tmp)

    def add_worker(self, name: str) -> None:
        proc = self._spawn(name, [str(VENV_BIN / "dask"), "worker", self.address,
                                  "--nthreads", "1", "--no-nanny", "--name", name,
                                  "--no-dashboard", "--host", "127.0.0.1"])
        self.procs.append(proc)
        self.workers[name] = proc

    def wait_for_workers(self, n: int, timeout: float = 90) -> None:
        from distributed import Client

        with Client(self.address, timeout="60s") as client:
            client.wait_for_workers(n, timeout=timeout)

    def close(self) -> None:
        for p in reversed(self.procs):
            stop(p)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    c = Cluster(tmp_path)
    try:
        yield c
    finally:
        c.close()


def test_dask_cluster_matches_local(tmp_path: Path, cluster: Cluster) -> None:
    cluster.add_worker("w1")
    cluster.add_worker("w2")
    spec = tiny_spec(tmp_path / "s.toml", reps=2, steps=5)
    local = run_sweep(spec, tmp_path / "local", workers=2)
    cluster.wait_for_workers(2)
    res = cli("sweep", str(spec), "--out", str(tmp_path / "remote"), "--scheduler",
              cluster.address)
    assert res.returncode == 0, res.stderr
    remote = pd.read_parquet(tmp_path / "remote" / "runs.parquet")
    assert (local.table["status"] == "done").all()
    pd.testing.assert_frame_equal(comparable(local.table), comparable(remote))


def test_worker_killed_mid_sweep_loses_no_runs(tmp_path: Path, cluster: Cluster) -> None:
    cluster.add_worker("w1")
    cluster.add_worker("w2")
    cluster.wait_for_workers(2)
    spec = tiny_spec(tmp_path / "s.toml", reps=3, steps=20, levels=5, customers=800)
    out = tmp_path / "out"
    n_runs = 2 * 5 * 3
    proc = subprocess.Popen([*CXSIM, "sweep", str(spec), "--out", str(out), "--scheduler",
                             cluster.address], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        deadline = time.monotonic() + 120
        while not (out / "runs").is_dir() or len(_run_files(out)) < 2:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.02)
        cluster.workers["w1"].send_signal(signal.SIGKILL)
        cluster.workers["w1"].wait(10)
        assert len(_run_files(out)) < n_runs, "the worker was killed after the sweep ended"
        stdout, stderr = proc.communicate(timeout=240)
    finally:
        stop(proc)
    assert proc.returncode == 0, stderr
    table = pd.read_parquet(out / "runs.parquet")
    assert len(table) == n_runs and table["run_id"].is_unique
    assert (table["status"] == "done").all(), table.loc[table["status"] != "done", "error"]
    assert "0 failed" in stdout
