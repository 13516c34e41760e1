"""Client-ready (issue 13): outputs never lost or mixed, --set, help, charts and the report."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cxsim import io
from cxsim.cli import app
from cxsim.experiments.compare import report_markdown, run_comparison, write_comparison
from cxsim.experiments.run import run_reps, write_run_outputs
from cxsim.io import OutputError, SavedElsewhere, check_out_dir, write_folder
from cxsim.scenario import load_scenario
from cxsim.viz import style
from cxsim.viz.plots import comparison_figure, dashboard_figure

runner = CliRunner()
TINY = {"size.customers": 600, "size.prospects": 200, "size.colleagues": 40, "burn_in": 2,
        "steps": 8}
TINY_SET = [a for k, v in TINY.items() for a in ("--set", f"{k}={v}")]


def tiny(base: str = "baseline", **extra) -> object:
    ov = dict(TINY)
    ov.update({k.replace("__", "."): v for k, v in extra.items()})
    return load_scenario(base).with_overrides(ov)


# -- the output folder ----------------------------------------------------------------------------

def test_check_out_dir_refuses_before_work(tmp_path: Path) -> None:
    f = tmp_path / "file.txt"
    f.write_text("x")
    with pytest.raises(OutputError, match="is a file"):
        check_out_dir(f)
    with pytest.raises(OutputError, match="is a file, so no folder can be made inside it"):
        check_out_dir(f / "sub" / "deeper")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.docx").write_text("precious")
    with pytest.raises(OutputError, match=r"holds files cxsim did not write \(thesis.docx\)"):
        check_out_dir(mine)
    assert check_out_dir(mine, replace=False) == mine  # a report adds files: allowed
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    (sweep / "sweep.json").write_text("{}")
    with pytest.raises(OutputError, match=r"holds a sweep \(sweep.json\), which is not replaced"):
        check_out_dir(sweep)
    assert check_out_dir(tmp_path / "new" / "out") == tmp_path / "new" / "out"
    assert not (tmp_path / "new").exists()  # checking creates nothing


def test_write_folder_swaps_a_whole_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    for name in ("manifest.json", "timeseries.parquet", "units.csv"):  # an earlier run
        (out / name).write_text("old")

    def compare_like(d: Path) -> None:
        (d / "comparison.csv").write_text("new")
        (d / "timeseries.csv").write_text("new")

    write_folder(out, compare_like)
    assert sorted(p.name for p in out.iterdir()) == ["comparison.csv", "timeseries.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # nothing left beside it


def test_write_folder_failing_at_the_end_saves_elsewhere(tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "manifest.json").write_text("old run")

    def full_disk(stage: Path, target: Path) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(io, "_swap", full_disk)
    with pytest.raises(SavedElsewhere) as info:
        write_folder(out, lambda d: (d / "manifest.json").write_text("new run"))
    exc = info.value
    assert "No space left on device" in str(exc) and str(exc.fallback) in str(exc)
    assert (exc.fallback / "manifest.json").read_text() == "new run"
    assert (out / "manifest.json").read_text() == "old run"  # the old folder is as it was
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no half-written stage


def test_run_that_cannot_write_says_where_its_results_are(tmp_path: Path, monkeypatch) -> None:
    """The command line: exit 1, one line with the temporary folder; --set is applied."""
    def full_disk(stage: Path, target: Path) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(io, "_swap", full_disk)
    out = tmp_path / "out"
    res = runner.invoke(app, ["run", "baseline", *TINY_SET, "--set", "levers.empowerment=0.7",
                              "--set", "name=client bank", "--out", str(out)],
                        terminal_width=2000)
    assert res.exit_code == 1, res.output
    line = next(ln for ln in res.output.splitlines() if ln.startswith("error:"))
    assert "No space left on device" in line and "the results were saved to" in line
    saved = Path(line.split("saved to ")[1].split(" instead")[0])
    try:
        sc = load_scenario(saved / "scenario.toml")
        assert sc.levers.empowerment == 0.7 and sc.name == "client bank"
        assert json.loads((saved / "manifest.json").read_text())["steps"] == 8
    finally:
        io._remove_tree(saved)
    assert not out.exists()


def test_version_and_short_help() -> None:
    from cxsim import __version__

    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0 and res.output.strip() == f"cxsim {__version__}"
    res = runner.invoke(app, ["-h"])
    assert res.exit_code == 0 and "report" in res.output and "compare" in res.output


@pytest.mark.parametrize("command", ["run", "compare", "sweep", "analyze", "serve", "animate",
                                     "report", "scenarios"])
def test_help_has_no_type_placeholders(command: str) -> None:
    res = runner.invoke(app, [command, "-h"], terminal_width=120)
    assert res.exit_code == 0, res.output
    for junk in ("<list", "<int", "<str", "<bool", "<path", "{", "}"):
        assert junk not in res.output, (junk, res.output)
    if command in ("run", "compare", "sweep", "serve", "animate"):
        assert "--set KEY=VALUE" in res.output


def test_plain_help_also_for_a_command_declared_without_the_class() -> None:
    """A command added later with a bare @app.command() gets the same plain help."""
    import typer

    from cxsim.cli import _Group

    t = typer.Typer(cls=_Group, rich_markup_mode=None,
                    context_settings={"help_option_names": ["-h", "--help"]})

    @t.command()
    def explain(a: str, b: str, reps: int = typer.Option(3, min=2)) -> None:
        """Explain."""

    @t.command()
    def other() -> None:
        """Other."""

    res = runner.invoke(t, ["explain", "-h"], terminal_width=120)
    assert res.exit_code == 0, res.output
    assert "Usage: root explain [OPTIONS] A B" in res.output and "--reps N" in res.output
    assert "<" not in res.output and "{" not in res.output


# -- compare of different sizes -------------------------------------------------------------------

@pytest.fixture(scope="module")
def sized_comparison():
    a = tiny()
    b = tiny(**{"size.customers": 900, "name": "client"})
    return run_comparison([a, b], reps=2, seed=5)


def test_compare_of_different_sizes_warns_and_reports_per_1000(sized_comparison) -> None:
    cmp = sized_comparison
    assert cmp.sizes == {"baseline": 600, "client": 900}
    warning = cmp.size_warning()
    assert warning and "differ in size" in warning and "per-1,000" in warning
    t = cmp.table.set_index(["scenario", "metric"])
    total = t.loc[("client", "final_active_customers"), "mean"]
    per = t.loc[("client", "final_active_customers_per_1000"), "mean"]
    assert per == pytest.approx(total / 900 * 1000)
    md = report_markdown(cmp)
    assert "**Warning:**" in md and "per 1,000 customers" in md
    clear_part = md.split("What is clear")[1]
    # totals are not findings here: only their per-1,000 versions are judged
    assert not re.search(r"Active customers \(final\)(?! per 1,000)", clear_part)
    assert "Active customers (final) per 1,000 customers" in clear_part
    assert "£" in md  # money with the currency


def test_same_size_comparison_has_no_per_1000_rows() -> None:
    cmp = run_comparison([tiny(), tiny("culture_first")], reps=2, seed=5)
    assert cmp.size_warning() is None
    assert not cmp.table["metric"].str.endswith("_per_1000").any()


# -- charts ---------------------------------------------------------------------------------------

def _ts(reps: int) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    rows = []
    for r in range(reps):
        for s in range(30):
            rows.append({"rep": r, "step": s, "nps": 17 + rng.normal(), "csat": 70 + rng.normal(),
                         "nps_measured": 25 + 5 * rng.normal(), "csat_measured": 72 + rng.normal(),
                         "engagement": 0.5, "frontline_engagement": 0.48,
                         "active_customers": 5000 + s, "trust": 0.6, "empathy": 0.45,
                         "brand_alignment": 0.3, "cumulative_profit": 1e5 * s})
    return pd.DataFrame(rows)


def test_dashboard_axes_have_units_fixed_ranges_and_honest_bands() -> None:
    events = load_scenario("crisis_knee_jerk").events
    fig = dashboard_figure(_ts(1), title="Bank 客户体验 " + "long subtitle " * 12,
                           events=events, currency="EUR")
    axes = {ax.get_title("left"): ax for ax in fig.axes}  # titles sit on the left
    nps = axes["Net Promoter Score: true and as measured"]
    lo, hi = nps.get_ylim()
    assert hi - lo >= style.NPS_MIN_SPAN  # 16.5 to 18.7 is not drawn as a trend
    assert "points" in nps.get_ylabel()
    assert [t.get_text() for t in nps.get_legend().get_texts()] == [
        "NPS", "NPS as the survey measures it"]
    csat = axes["Customer satisfaction: true and as measured"]
    assert csat.get_ylim() == (0.0, 100.0)
    assert "%" in csat.get_ylabel()
    profit = axes["Cumulative profit"]
    assert "€" in profit.get_ylabel()
    trust = axes["Customer trust and felt empathy"]
    assert [t.get_text() for t in trust.get_legend().get_texts()] == ["Customer trust",
                                                                     "Felt empathy"]
    for ax in fig.axes:  # one replication: no band anywhere; every panel marks the events
        assert not ax.collections, ax.get_title("left")
        assert ax.get_ylabel()
        assert any(t.get_text() == "1" for t in ax.texts), ax.get_title("left")
    title = fig._suptitle.get_text()
    assert "no confidence band" in title and "95%" not in title
    assert max(len(line) for line in title.splitlines()) <= style.MAX_TITLE_CHARS
    import matplotlib.pyplot as plt

    plt.close(fig)
    fig = dashboard_figure(_ts(3))
    assert "95% confidence interval" in fig._suptitle.get_text()
    assert any(ax.collections for ax in fig.axes)
    plt.close(fig)


def test_comparison_figure_marks_events_and_labels_units(sized_comparison) -> None:
    import matplotlib.pyplot as plt

    cmp = sized_comparison
    ev = {"baseline": [], "client": load_scenario("crisis_knee_jerk").with_overrides(
        {"steps": 30}).events}
    fig = comparison_figure(cmp.timeseries, cmp.names, events=ev, currency="GBP")
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert all(ax.get_ylabel() for ax in visible)
    assert all(any(t.get_text() == "1" for t in ax.texts) for ax in visible)
    assert "in client" in fig._suptitle.get_text()  # whose event it is
    plt.close(fig)


def test_differences_figure_uses_per_1000_when_sizes_differ(sized_comparison) -> None:
    import matplotlib.pyplot as plt

    from cxsim.viz.plots import differences_figure

    cmp = sized_comparison
    fig = differences_figure(cmp.table, cmp.names, "GBP", per_1000=True)
    titles = [ax.get_title("left") for ax in fig.axes]
    assert "Active customers (final) per 1,000\ncustomers" in titles
    profit = fig.axes[5]
    assert "£" in profit.get_xlabel()
    # the dot is the paired difference the table reports
    row = cmp.table.set_index(["scenario", "metric"]).loc[("client", "final_nps")]
    x = fig.axes[0].lines[0].get_xdata()[0]
    assert x == pytest.approx(row["diff_vs_first"])
    plt.close(fig)


def test_cjk_names_render_without_warnings(tmp_path: Path) -> None:
    """A CJK font is used when a package ships one; otherwise the figure still renders."""
    from cxsim.viz.plots import kpi_dashboard

    found = style.apply()
    assert found is None or isinstance(found, str)
    with warnings.catch_warnings(record=True) as seen:  # the filters style.apply set stay
        kpi_dashboard(_ts(1), tmp_path / "d.png", title="银行 客户体验", fmt="png")
    assert not [w for w in seen if "Glyph" in str(w.message)]
    assert (tmp_path / "d.png").read_bytes()[:4] == b"\x89PNG"


# -- the report -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def run_folder(tmp_path_factory) -> Path:
    sc = tiny(**{"name": "Retail bank", "money.currency": "EUR"})
    out = tmp_path_factory.mktemp("r") / "run"
    results = run_reps(sc, 7, 2, sc.steps)
    write_folder(out, lambda d: write_run_outputs(d, sc, results, 7, "numba", 1.0,
                                                  sc.n_colleagues))
    return out


def _slides(path: Path) -> list[tuple[str, list[str]]]:
    from pptx import Presentation

    out = []
    for slide in Presentation(str(path)).slides:
        title = slide.shapes.title.text if slide.shapes.title is not None else ""
        texts = []
        for shape in slide.shapes:
            if shape.has_table:
                texts += [c.text for row in shape.table.rows for c in row.cells]
            elif shape.shape_type == 13:  # picture
                texts.append("<picture>")
        out.append((title, texts))
    return out


def test_report_of_a_run(run_folder: Path) -> None:
    from openpyxl import load_workbook

    res = runner.invoke(app, ["report", str(run_folder)], terminal_width=2000)
    assert res.exit_code == 0, res.output
    slides = _slides(run_folder / "report.pptx")
    titles = [t for t, _ in slides]
    assert titles[0] == "cxsim: Retail bank"
    assert titles[1] == "Headline figures"
    head = slides[1][1]
    assert "NPS (points, -100 to 100)" in head and any(c.startswith("€") or c.startswith("-€")
                                                        for c in head)
    assert ("<picture>" in slides[2][1]) and "curves" in titles[2]
    levers = [c for t, cells in slides if t.startswith("The assumptions") for c in cells]
    assert "levers.empowerment" in levers and "money.currency" in levers and "EUR" in levers
    wb = load_workbook(run_folder / "report.xlsx")
    assert wb.sheetnames == ["About", "Summary", "Time series", "Units", "Assumptions"]
    ts = wb["Time series"]
    headers = [c.value for c in ts[1]]
    assert "nps (points, -100 to 100)" in headers and "profit (€)" in headers
    col = headers.index("profit (€)") + 1
    cell = ts.cell(row=2, column=col)
    assert isinstance(cell.value, float) and "€" in cell.number_format
    assert ts.max_row == 1 + 2 * 8  # every replication, every week
    summary = pd.read_csv(run_folder / "summary.csv")
    s = wb["Summary"]
    hdr = [c.value for c in s[1]]
    assert s.cell(row=2, column=hdr.index("final_nps (points, -100 to 100)") + 1).value == \
        pytest.approx(summary["final_nps"].iloc[0])


def test_report_of_a_comparison_with_an_explanation(sized_comparison, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    out = tmp_path / "cmp"
    write_folder(out, lambda d: write_comparison(d, sized_comparison))
    explain = pd.DataFrame({"path": ["culture -> service", "service -> word of mouth"],
                            "metric": ["final_nps", "final_nps"], "share": [0.62, 0.31],
                            "ci_low": [0.5, 0.2], "ci_high": [0.74, 0.42]})
    explain.to_csv(out / "explain.csv", index=False)
    res = runner.invoke(app, ["report", str(out), "--pptx"], terminal_width=2000)
    assert res.exit_code == 0, res.output
    assert (out / "report.pptx").is_file() and not (out / "report.xlsx").exists()
    slides = _slides(out / "report.pptx")
    titles = [t for t, _ in slides]
    assert titles[0] == "What-if comparison: baseline vs client"
    assert (out / "differences.png").is_file() and (out / "differences.svg").is_file()
    diff_slide = dict(slides)["Differences from baseline, with 95% intervals"]
    assert diff_slide == ["<picture>"]
    comp = [c for t, cells in slides if t.startswith("The comparison") for c in cells]
    assert "difference vs baseline [95% CI]" in comp and ("clear" in comp or "noise" in comp)
    assert any("per 1,000 customers" in c for c in comp)
    why = [c for t, cells in slides if t.startswith("The explanation") for c in cells]
    assert "culture -> service" in why and "62% [50%, 74%]" in why
    levers = [c for t, cells in slides if t.startswith("The assumptions") for c in cells]
    assert "size.customers" in levers and "900" in levers and "600" in levers
    res = runner.invoke(app, ["report", str(out), "--xlsx"])
    assert res.exit_code == 0, res.output
    wb = load_workbook(out / "report.xlsx")
    assert wb.sheetnames == ["About", "Comparison", "Time series", "Explanation", "Assumptions"]
    assert "warning" in [c.value for c in wb["About"]["A"]]
    ex = wb["Explanation"]
    assert [c.value for c in ex[1]][:3] == ["path", "metric", "share"]
    assert ex.cell(row=2, column=3).number_format == "0.0%"


def test_report_of_a_cxsim_explain_folder(tmp_path: Path) -> None:
    """`cxsim explain` writes the effect with its interval, and the share of the difference."""
    from openpyxl import load_workbook

    pd.DataFrame({"path": ["total (B - A)", "mirror"], "metric": ["nps", "nps"],
                  "effect": [12.0, 4.5], "share": [1.0, 0.375], "ci_low": [10.0, 3.1],
                  "ci_high": [14.0, 5.9], "description": ["", "satisfied customers lift"]}
                 ).to_csv(tmp_path / "explain.csv", index=False)
    pd.DataFrame({"driver": ["training"], "cost": [1000.0]}).to_csv(tmp_path / "costs.csv",
                                                                  index=False)
    res = runner.invoke(app, ["report", str(tmp_path)])
    assert res.exit_code == 0, res.output
    why = [c for t, cells in _slides(tmp_path / "report.pptx")
           if t.startswith("The explanation") for c in cells]
    assert "effect [95% CI]" in why and "+4.5 [+3.1, +5.9]" in why and "38%" in why
    assert load_workbook(tmp_path / "report.xlsx").sheetnames == ["About", "Explanation",
                                                                  "Costs"]


def test_report_of_an_explain_folder(tmp_path: Path) -> None:
    pd.DataFrame({"path": ["a -> b"], "metric": ["nps"], "share": [1.0], "ci_low": [0.9],
                  "ci_high": [1.0]}).to_csv(tmp_path / "explain.csv", index=False)
    res = runner.invoke(app, ["report", str(tmp_path)])
    assert res.exit_code == 0, res.output
    titles = [t for t, _ in _slides(tmp_path / "report.pptx")]
    assert titles[0].startswith("Why:") and "The explanation by causal path" in titles


def test_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    """Windows editors save UTF-8 with a BOM: scenario files and sweep specs load all the same."""
    from cxsim.experiments.sweep import load_spec

    sc = tmp_path / "bom.toml"
    sc.write_bytes('extends = "baseline"\nname = "Café"\n[levers]\nsilo = 0.7\n'.encode(
        "utf-8-sig"))
    assert sc.read_bytes()[:3] == b"\xef\xbb\xbf"
    loaded = load_scenario(sc)
    assert loaded.name == "Café" and loaded.levers.silo == 0.7
    spec = tmp_path / "spec.toml"
    spec.write_text('scenario = "baseline"\n[vary]\n"levers.silo" = [0.2, 0.8]\n',
                    encoding="utf-8-sig")
    assert list(load_spec(spec)[0].vary) == ["levers.silo"]
