"""`cxsim report DIR`: a PowerPoint deck and an Excel workbook from a finished folder.

A consultant puts the deck in front of a board (title, headline figures, curves, the comparison
with its intervals, the explanation by causal path, the assumptions) and hands the workbook to
the analyst who will redo the charts (one sheet per table, units in the headers, number formats).
Works on the folder of `cxsim run`, `compare`, `sweep`, and on any folder with `explain.csv`.
"""

from __future__ import annotations

import json
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from . import __version__
from .io import write_with
from .viz import style

KINDS = ("run", "compare", "sweep", "explain")
MAX_TABLE_ROWS = 14  # rows of a table that fit on one slide


class ReportError(ValueError):
    """A folder a report cannot be made from (the CLI prints it and exits with code 2)."""


@dataclass
class Folder:
    """What a report is made from: the kind of folder and its tables."""

    path: Path
    kind: str
    title: str
    subtitle: str
    currency: str = "GBP"
    headline: pd.DataFrame | None = None  # figure, unit, then one column per scenario/stat
    comparison: pd.DataFrame | None = None  # comparison.csv
    explain: pd.DataFrame | None = None  # explain.csv
    assumptions: pd.DataFrame | None = None  # field, then one column per scenario
    sheets: dict[str, pd.DataFrame] = field(default_factory=dict)  # for the workbook
    figures: list[tuple[str, Path]] = field(default_factory=list)  # (title, PNG)
    warnings: list[str] = field(default_factory=list)


# -- reading a folder -----------------------------------------------------------------------------

def detect(path: Path) -> str:
    """The kind of folder: run, compare, sweep or explain; ReportError otherwise."""
    if not path.is_dir():
        raise ReportError(f"DIR = {str(path)!r} is not a folder; allowed: a folder written by "
                          "cxsim run, compare, sweep or explain")
    if (path / "sweep.json").is_file():
        return "sweep"
    if (path / "comparison.csv").is_file():
        return "compare"
    if (path / "manifest.json").is_file() and (path / "summary.csv").is_file():
        return "run"
    if (path / "explain.csv").is_file():
        return "explain"
    raise ReportError(f"DIR = {str(path)!r} holds no run, comparison, sweep or explanation "
                      "(manifest.json, comparison.csv, sweep.json or explain.csv); allowed: a "
                      "folder written by cxsim run, compare, sweep or explain")


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in data.items():
        if isinstance(v, dict) and k not in ("steps", "chains", "channel_staff",
                                             "channel_preference", "contact_cost") or (
                isinstance(v, dict) and not prefix):
            out.update(_flatten(v, f"{prefix}{k}."))
        elif k == "events" and isinstance(v, list):
            for i, ev in enumerate(v):
                out[f"events[{i}]"] = ", ".join(f"{a} = {b}" for a, b in ev.items())
        else:
            out[f"{prefix}{k}"] = json.dumps(v) if isinstance(v, list | dict) else v
    return out


def _scenario_table(tomls: dict[str, Path]) -> tuple[pd.DataFrame, str]:
    """Scenario levers as rows (field, one column per scenario): levers and sizes first."""
    flat = {}
    currency = "GBP"
    for name, p in tomls.items():
        data = tomllib.loads(p.read_text(encoding="utf-8"))
        currency = data.get("money", {}).get("currency", currency)
        flat[name] = _flatten({k: v for k, v in data.items() if k not in ("name",
                                                                            "description")})
    keys = list(dict.fromkeys(k for f in flat.values() for k in f))
    first = ("levers.", "size.", "steps", "burn_in", "seed", "events", "money.currency")
    keys.sort(key=lambda k: (0 if k.startswith(first) else 1))
    rows = [{"field": k, **{n: flat[n].get(k, "") for n in flat}} for k in keys]
    return pd.DataFrame(rows), currency


def _metric_of(col: str) -> str:
    for pre in ("final_", "mean_", "total_"):
        if col.startswith(pre):
            return col[len(pre):].removesuffix("_per_1000")
    return col.removesuffix("_per_1000")


def unit_of(col: str, currency: str) -> str:
    """The unit of a table column, for headers: '£', '% satisfied', 'index 0-1'..."""
    if "rate" in col:
        return "share per year"
    if col.endswith("_per_1000"):
        base = unit_of(col.removesuffix("_per_1000"), currency)
        return f"{base} per 1,000 customers"
    m = style.METRICS.get(_metric_of(col))
    if m is None:
        return ""
    if m.kind == "money":
        return style.currency_symbol(currency).strip()
    if m.kind == "index":
        return "index 0-1"
    if col.startswith("total_") and m.kind == "count":
        return m.unit.removesuffix(" per week")
    return m.unit


def _read_run(path: Path, f: Folder) -> None:
    manifest = json.loads((path / "manifest.json").read_text())
    summary = pd.read_csv(path / "summary.csv")
    f.assumptions, f.currency = _scenario_table({manifest["scenario"]: path / "scenario.toml"})
    f.title = f"cxsim: {manifest['scenario']}"
    f.subtitle = (f"{manifest['reps']} replication(s) of {manifest['steps']} weeks, root seed "
                  f"{manifest['seed']}, engine {manifest['engine']}")
    rows = []
    for c in ("nps", "csat", "engagement", "active_customers", "trust", "brand_consistency"):
        if f"final_{c}" in summary:
            rows.append({"figure": style.axis_label(c, f.currency),
                         "final week": style.fmt_value(c, summary[f"final_{c}"].mean(),
                                                       f.currency),
                         "mean over run": style.fmt_value(c, summary[f"mean_{c}"].mean(),
                                                          f.currency)})
    rows.append({"figure": "Annual churn rate (% of active customers)",
                 "final week": f"{summary['annual_churn_rate'].mean():.1%}", "mean over run": ""})
    rows.append({"figure": style.axis_label("cumulative_profit", f.currency),
                 "final week": style.fmt_value("cumulative_profit",
                                               summary["final_cumulative_profit"].mean(),
                                               f.currency), "mean over run": ""})
    f.headline = pd.DataFrame(rows)
    f.sheets["Summary"] = summary
    f.sheets["Time series"] = pd.read_csv(path / "timeseries.csv")
    if (path / "units.csv").is_file():
        f.sheets["Units"] = pd.read_csv(path / "units.csv")
    if (path / "dashboard.png").is_file():
        f.figures.append(("The curves: headline figures week by week", path / "dashboard.png"))


def _read_compare(path: Path, f: Folder) -> None:
    cmp = pd.read_csv(path / "comparison.csv")
    names = list(dict.fromkeys(cmp["scenario"]))
    f.comparison = cmp
    from .experiments.compare import safe_name

    tomls = {n: path / "scenarios" / f"{safe_name(n)}.toml" for n in names}
    if all(p.is_file() for p in tomls.values()):
        f.assumptions, f.currency = _scenario_table(tomls)
    f.title = f"What-if comparison: {' vs '.join(names)}"
    ts_path = path / "timeseries.csv"
    ts = pd.read_csv(ts_path) if ts_path.is_file() else None
    reps = int(ts["rep"].nunique()) if ts is not None else 0
    weeks = int(ts["step"].nunique()) if ts is not None else 0
    f.subtitle = (f"{reps} replications of {weeks} weeks per scenario, common random numbers; "
                  f"differences against {names[0]} with 95% intervals")
    if cmp["metric"].str.endswith("_per_1000").any():
        f.warnings.append("The scenarios differ in size: totals differ because of size alone; "
                          "read the per-1,000-customer rows.")
    head = ("final_nps", "mean_csat", "final_engagement", "final_active_customers",
            "annual_churn_rate", "final_cumulative_profit")
    rows = []
    for m in head:
        sub = cmp[cmp.metric == m].set_index("scenario")
        if sub.empty:
            continue
        row = {"figure": f"{sub['label'].iloc[0]}, {unit_of(m, f.currency)}"}
        for n in names:
            row[n] = _fmt(sub.loc[n, "mean"], m, f.currency)
        rows.append(row)
    f.headline = pd.DataFrame(rows)
    f.sheets["Comparison"] = cmp
    if ts is not None:
        f.sheets["Time series"] = ts
    if (path / "comparison.png").is_file():
        f.figures.append(("The curves, with 95% bands", path / "comparison.png"))
    if (path / "differences.png").is_file():
        f.figures.append((f"Differences from {names[0]}, with 95% intervals",
                          path / "differences.png"))


def _read_sweep(path: Path, f: Folder) -> None:
    meta = json.loads((path / "sweep.json").read_text())
    f.title = f"Sweep: {meta['name']}"
    f.subtitle = (f"{meta['design']['kind']} design, {len(meta['rows'])} rows x "
                  f"{meta['replications']} replications, {meta['steps']} weeks; varied: "
                  f"{', '.join(meta['varied'])}")
    if (path / "base_scenario.toml").is_file():
        f.assumptions, f.currency = _scenario_table({"base": path / "base_scenario.toml"})
    runs_path = path / "runs.parquet"
    if runs_path.is_file():
        runs = pd.read_parquet(runs_path)
        f.sheets["Runs"] = runs
        failed = int((runs["status"] == "failed").sum()) if "status" in runs else 0
        if failed:
            f.warnings.append(f"{failed} of {len(runs)} runs failed and are left out.")
    summary_path = path / "analysis" / "summary.csv"
    if summary_path.is_file():
        summary = pd.read_csv(summary_path)
        f.sheets["Summary by row"] = summary
        cols = meta["varied"] + [c for c in summary.columns if c.endswith("_mean")][:4]
        head = summary[cols].head(MAX_TABLE_ROWS).copy()
        for c in head.columns:
            head[c] = [f"{v:,.3g}" for v in head[c]]
        f.headline = head.rename(columns={c: c.removesuffix("_mean") + " (mean)" for c in cols
                                          if c.endswith("_mean")})
    for csv in sorted((path / "analysis").glob("*_*.csv")) if (path / "analysis").is_dir() \
            else []:
        if csv.name != "summary.csv":
            f.sheets[csv.stem[:31]] = pd.read_csv(csv)
    for png in sorted((path / "analysis").glob("*.png")) if (path / "analysis").is_dir() \
            else []:
        f.figures.append((_analysis_title(png.stem, meta["varied"]), png))


def _analysis_title(stem: str, varied: list[str]) -> str:
    """'NPS by levers.silo and levers.empowerment' for heatmap_nps, and so on."""
    kind, _, what = stem.partition("_")

    def label(col: str) -> str:
        m = style.METRICS.get(col)
        return m.label if m else col.replace("_", " ")

    if kind == "heatmap":
        return f"{label(what)} by {' and '.join(varied)} (mean over replications)"
    if kind == "curves":
        return f"Figures against {what.replace('_', '.', 1)}"
    if kind in ("sobol", "morris"):
        return f"{'Sobol' if kind == 'sobol' else 'Morris'} sensitivity of {label(what)}"
    return stem.replace("_", " ")


def read_folder(path: str | Path) -> Folder:
    """Everything a report shows, from a folder of run, compare, sweep or explain."""
    path = Path(path)
    kind = detect(path)
    f = Folder(path, kind, title=f"cxsim: {path.name}", subtitle="")
    if kind == "run":
        _read_run(path, f)
    elif kind == "compare":
        _read_compare(path, f)
    elif kind == "sweep":
        _read_sweep(path, f)
    if (path / "explain.csv").is_file():
        ex = pd.read_csv(path / "explain.csv")
        f.explain = ex
        f.sheets["Explanation"] = ex
        if kind == "explain":
            f.title = f"Why: {path.name}"
            f.subtitle = "Shares of each figure explained by each causal path, 95% intervals"
        for png in sorted(path.glob("explain*.png")):
            f.figures.append(("The explanation by causal path", png))
        if (path / "costs.csv").is_file():
            f.sheets["Costs"] = pd.read_csv(path / "costs.csv")
    return f


def _fmt(v: float, metric: str, currency: str) -> str:
    if v != v:
        return "n/a"
    if "rate" in metric:
        return f"{100 * v:.1f}%"
    m = style.METRICS.get(_metric_of(metric))
    if m is not None and m.kind == "money":
        return style.fmt_money(v, currency)
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 1:
        return f"{v:.1f}"
    return f"{v:.3f}"


# -- the deck -------------------------------------------------------------------------------------

def _deck_tables(f: Folder) -> list[tuple[str, pd.DataFrame]]:
    """(slide title, table) of every table slide, in the deck's order."""
    tables: list[tuple[str, pd.DataFrame]] = []
    if f.headline is not None and len(f.headline):
        tables.append(("Headline figures" + (" (mean over replications, by design row)"
                                             if f.kind == "sweep" else ""), f.headline))
    if f.comparison is not None:
        cmp = f.comparison
        names = list(dict.fromkeys(cmp["scenario"]))
        rows = []
        for _, r in cmp[cmp.scenario != names[0]].iterrows():
            m = r["metric"]
            if m.startswith("mean_nps") or m.startswith("final_brand"):
                continue
            rows.append({
                "figure": r["label"], "scenario": r["scenario"],
                "mean [95% CI]": f"{_fmt(r['mean'], m, f.currency)} "
                                 f"[{_fmt(r['ci_low'], m, f.currency)}, "
                                 f"{_fmt(r['ci_high'], m, f.currency)}]",
                f"difference vs {names[0]} [95% CI]":
                    f"{'+' if r['diff_vs_first'] > 0 else ''}"
                    f"{_fmt(r['diff_vs_first'], m, f.currency)} "
                    f"[{_fmt(r['diff_ci_low'], m, f.currency)}, "
                    f"{_fmt(r['diff_ci_high'], m, f.currency)}]",
                "verdict": "clear" if str(r["clear"]) in ("True", "true", "1") else "noise"})
        comp = pd.DataFrame(rows)
        for i in range(0, len(comp), MAX_TABLE_ROWS):
            part = "" if len(comp) <= MAX_TABLE_ROWS else f" ({i // MAX_TABLE_ROWS + 1})"
            tables.append((f"The comparison, with 95% intervals{part}",
                           comp.iloc[i:i + MAX_TABLE_ROWS]))
    if f.explain is not None:
        ex = f.explain.copy()
        shown = pd.DataFrame({c: ex[c] for c in ex.columns
                              if c not in ("ci_low", "ci_high", "description")})
        if {"effect", "ci_low", "ci_high"} <= set(ex.columns):
            # cxsim explain: the interval is the effect's (in the metric's units); the share
            # is the effect as a part of the whole difference
            shown["effect [95% CI]"] = [f"{e:+.3g} [{lo:+.3g}, {hi:+.3g}]" for e, lo, hi in
                                        zip(ex["effect"], ex["ci_low"], ex["ci_high"],
                                            strict=True)]
            shown = shown.drop(columns=["effect"])
            if "share" in shown:
                shown["share"] = [f"{v:.0%}" if v == v else "n/a" for v in shown["share"]]
        elif {"share", "ci_low", "ci_high"} <= set(ex.columns):
            shown["share [95% CI]"] = [f"{s:.0%} [{lo:.0%}, {hi:.0%}]" for s, lo, hi in
                                       zip(ex["share"], ex["ci_low"], ex["ci_high"],
                                           strict=True)]
            shown = shown.drop(columns=["share"])
        for c in shown.columns:
            if shown[c].dtype.kind == "f":
                shown[c] = [f"{v:.3g}" for v in shown[c]]
        for i in range(0, len(shown), MAX_TABLE_ROWS):
            tables.append(("The explanation by causal path", shown.iloc[i:i + MAX_TABLE_ROWS]))
    if f.assumptions is not None:
        a = f.assumptions
        if a.shape[1] > 2:  # several scenarios: the levers that differ come first
            differ = a.iloc[:, 1:].astype(str).nunique(axis=1) > 1
            a = pd.concat([a[differ], a[~differ]])
        a = a[a["field"].str.startswith(("levers.", "size.", "steps", "events", "seed",
                                         "money.currency"))]
        for i in range(0, len(a), MAX_TABLE_ROWS):
            part = "" if len(a) <= MAX_TABLE_ROWS else f" ({i // MAX_TABLE_ROWS + 1})"
            tables.append((f"The assumptions: scenario levers{part}", a.iloc[i:i + MAX_TABLE_ROWS]))
    return tables


def write_deck(f: Folder, path: Path) -> list[str]:
    """Write the PowerPoint deck; returns the slide titles."""
    from pptx import Presentation
    from pptx.util import Inches, Pt

    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(13.333), Inches(7.5)
    titles: list[str] = []

    def title_only(text: str) -> Any:
        slide = prs.slides.add_slide(prs.slide_layouts[5])
        slide.shapes.title.text = text
        slide.shapes.title.text_frame.paragraphs[0].font.size = Pt(28)
        titles.append(text)
        return slide

    slide = prs.slides.add_slide(prs.slide_layouts[0])
    slide.shapes.title.text = f.title
    slide.placeholders[1].text = (f"{f.subtitle}\n{' '.join(f.warnings)}\ncxsim {__version__}, "
                                  f"{time.strftime('%d %B %Y')}").replace("\n\n", "\n")
    titles.append(f.title)
    tables = _deck_tables(f)
    figures = list(f.figures)
    # headline first, then the curves, then the rest of the tables
    order: list[tuple[str, Any]] = []
    if tables and tables[0][0].startswith("Headline figures"):
        order.append(("table", tables.pop(0)))
    order += [("figure", fig) for fig in figures] + [("table", t) for t in tables]
    for kind, item in order:
        if kind == "figure":
            title, png = item
            s = title_only(title)
            s.shapes.add_picture(str(png), Inches(0.4), Inches(1.3), height=Inches(5.9))
            continue
        title, df = item
        s = title_only(title)
        nrow, ncol = len(df) + 1, len(df.columns)
        shape = s.shapes.add_table(nrow, ncol, Inches(0.4), Inches(1.3), Inches(12.5),
                                   Inches(0.4) * nrow)
        table = shape.table
        for j, c in enumerate(df.columns):
            table.cell(0, j).text = str(c)
        for i, (_, r) in enumerate(df.iterrows(), start=1):
            for j, c in enumerate(df.columns):
                v = r[c]
                table.cell(i, j).text = "" if v is None or (isinstance(v, float) and v != v) \
                    else str(v)
        for row in table.rows:
            for cell in row.cells:
                for p in cell.text_frame.paragraphs:
                    p.font.size = Pt(11 if ncol > 4 else 13)
    write_with(path, lambda p: prs.save(str(p)))
    return titles


# -- the workbook ---------------------------------------------------------------------------------

def _number_format(col: str, currency: str) -> str | None:
    if "rate" in col:
        return "0.0%"
    m = style.METRICS.get(_metric_of(col))
    if col in ("mean", "ci_low", "ci_high", "diff_vs_first", "diff_ci_low", "diff_ci_high"):
        return "#,##0.000"
    if col == "share":
        return "0.0%"
    if m is None:
        return None
    if m.kind == "money":
        sym = style.currency_symbol(currency).strip()
        return f'"{sym}"#,##0;-"{sym}"#,##0'
    if m.kind == "count":
        return "#,##0"
    if m.kind in ("pct", "score"):
        return "0.0"
    return "0.000"


def write_workbook(f: Folder, path: Path) -> list[str]:
    """Write the Excel workbook, one sheet per table; returns the sheet names."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    about = wb.active
    about.title = "About"
    rows = [("title", f.title), ("what", f.subtitle), ("folder", str(f.path)),
            ("kind", f.kind), ("currency", f.currency), ("made by", f"cxsim {__version__}"),
            ("made on", time.strftime("%Y-%m-%d %H:%M"))]
    rows += [("warning", w) for w in f.warnings]
    rows += [("sheet", "units are in each column header; number formats are set")]
    for r in rows:
        about.append(list(r))
    about["A1"].font = Font(bold=True)
    about.column_dimensions["A"].width = 12
    about.column_dimensions["B"].width = 100
    sheets = dict(f.sheets)
    if f.assumptions is not None:
        sheets["Assumptions"] = f.assumptions
    for name, df in sheets.items():
        ws = wb.create_sheet(name[:31])
        headers = []
        for c in df.columns:
            unit = unit_of(str(c), f.currency)
            headers.append(f"{c} ({unit})" if unit else str(c))
        ws.append(headers)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for rec in df.itertuples(index=False):
            ws.append([None if isinstance(v, float) and v != v else
                       (v.item() if hasattr(v, "item") else v) for v in rec])
        for j, c in enumerate(df.columns, start=1):
            fmt = _number_format(str(c), f.currency)
            letter = get_column_letter(j)
            ws.column_dimensions[letter].width = max(10, min(40, len(headers[j - 1]) + 2))
            if fmt and df[c].dtype.kind in "fiu":
                for cell in ws[letter][1:]:
                    cell.number_format = fmt
        ws.freeze_panes = "A2"
    write_with(path, lambda p: wb.save(str(p)))
    return wb.sheetnames


def make_report(folder: str | Path, pptx: bool = True, xlsx: bool = True) -> dict[str, Any]:
    """Write report.pptx and/or report.xlsx into `folder`; returns paths, slides and sheets."""
    f = read_folder(folder)
    out: dict[str, Any] = {"folder": f}
    if pptx:
        out["pptx"] = f.path / "report.pptx"
        out["slides"] = write_deck(f, out["pptx"])
    if xlsx:
        out["xlsx"] = f.path / "report.xlsx"
        out["sheets"] = write_workbook(f, out["xlsx"])
    return out
