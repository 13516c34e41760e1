"""A client's folder (docs/clients.md, issue 12): the org chart they have, paths relative to
the scenario, outputs that load back from anywhere, and sizes that mean what the client means."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cxsim.cli import app
from cxsim.constants import ACTIVE, PROSPECT
from cxsim.model import CXModel
from cxsim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
ACME = ROOT / "examples" / "client_acme"
STORES = {"Leeds Briggate", "York Coney Street", "Newcastle Eldon Square", "Birmingham Bullring",
          "Nottingham Victoria Centre", "Leicester Highcross", "Bristol Cabot Circus",
          "Brighton Churchill Square"}
SMALL = {"size.customers": 800, "size.prospects": 300, "burn_in": 4}


def _client(tmp_path: Path) -> Path:
    """The example client's scenario and org chart, copied to a folder of their own."""
    folder = tmp_path / "acme"
    folder.mkdir()
    for name in ("scenario.toml", "org.csv"):
        shutil.copy(ACME / name, folder / name)
    return folder


def test_example_org_chart_is_as_excel_saves_it_and_loads():
    raw = (ACME / "org.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # byte-order mark
    assert b"\r\n" in raw and raw.split(b"\r\n")[0].count(b";") >= 4  # CRLF, semicolons
    sc = load_scenario(ACME / "scenario.toml")
    assert sc.organisation.file == str(ACME / "org.csv")
    assert sc.n_colleagues == 148 == raw.count(b"\r\n") - 1
    assert sc.size.customers == 12000
    org = CXModel(sc.with_overrides(SMALL), create_agents=False).org
    assert STORES <= set(org.team_names)
    assert "Contact Centre – Sheffield Amber" in org.team_names  # non-ASCII kept as written


def test_org_path_is_relative_to_the_scenario_file(tmp_path, monkeypatch):
    folder = _client(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    sc = load_scenario(folder / "scenario.toml")
    assert sc.organisation.file == str(folder / "org.csv")
    # a parent's path is relative to the parent, also when a child elsewhere extends it
    child = tmp_path / "what_ifs" / "more_training.toml"
    child.parent.mkdir()
    child.write_text('extends = "../acme/scenario.toml"\n[levers]\ntraining = 0.6\n')
    sc2 = load_scenario(child)
    assert sc2.organisation.file == str(folder / "org.csv") and sc2.levers.training == 0.6
    # ... and a child's own relative path is relative to the child
    shutil.copy(folder / "org.csv", child.parent / "org_2027.csv")
    child.write_text('extends = "../acme/scenario.toml"\n[organisation]\n'
                     'file = "org_2027.csv"\n')
    assert load_scenario(child).organisation.file == str(child.parent / "org_2027.csv")


def test_run_output_loads_back_from_anywhere_with_the_clients_labels(tmp_path, monkeypatch):
    """scenario.toml of a run names the org file by its absolute path, so it loads (and runs
    the same numbers) from any folder; the manifest records the file's SHA-256; units.csv and
    the report's workbook name the client's own units."""
    folder = _client(tmp_path)
    monkeypatch.chdir(folder)
    sets = [a for k, v in SMALL.items() for a in ("--set", f"{k}={v}")]
    res = CliRunner().invoke(app, ["run", "scenario.toml", "--steps", "3", "--out", "out",
                                   *sets])
    assert res.exit_code == 0, res.output
    out = folder / "out"
    manifest = json.loads((out / "manifest.json").read_text())
    org = folder / "org.csv"
    assert manifest["organisation_files"] == {
        str(org): hashlib.sha256(org.read_bytes()).hexdigest()}
    assert (out / "units.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8
    units = pd.read_csv(out / "units.csv")
    assert STORES <= set(units["unit"])
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    again = load_scenario(out / "scenario.toml")
    assert again.organisation.file == str(org) and again.n_colleagues == 148
    res = CliRunner().invoke(app, ["run", str(out / "scenario.toml"), "--out", "again"])
    assert res.exit_code == 0, res.output
    pd.testing.assert_frame_equal(pd.read_csv(out / "timeseries.csv"),
                                  pd.read_csv(elsewhere / "again" / "timeseries.csv"))
    from cxsim.report import make_report

    make_report(out, pptx=False, xlsx=True)
    book = next(out.glob("*.xlsx"))
    sheet = pd.read_excel(book, sheet_name="Units")
    assert STORES <= set(sheet["unit"])


def test_staff_attrition_rate_is_per_colleague_of_the_org_file():
    """The summary's attrition rate divides by the file's 148 colleagues, not by the
    customers-per-colleague default the sizes would give."""
    sc = load_scenario(ACME / "scenario.toml")
    assert sc.size.customers / sc.size.customers_per_colleague != 148
    assert sc.with_overrides(SMALL).n_colleagues == 148


@pytest.mark.parametrize("customers, prospects", [(1000, 400), (2500, 2500)])
def test_size_customers_are_the_active_customers_at_week_0(customers, prospects):
    """The burn-in holds the customer base (nobody adopts, nobody churns) while attitudes,
    word of mouth, culture and staff settle; the base moves from week 0 on."""
    for seed in (1, 2, 3):
        m = CXModel("baseline", seed=seed, create_agents=False,
                    overrides={"size.customers": customers, "size.prospects": prospects,
                               "burn_in": 40, "steps": 8})
        status = m.customers.status
        assert int((status == ACTIVE).sum()) == customers
        assert int((status == PROSPECT).sum()) == prospects
        assert m.kpis["active_customers"] == customers  # what the last burn-in week reported
        m.run()
        ts = m.timeseries()
        assert ts["acquisitions"].sum() > 0 and ts["churned"].sum() > 0


def test_burn_in_holds_only_the_base():
    """Held base, not a frozen company: the burn-in still moves attitudes and colleagues."""
    a = CXModel("baseline", seed=5, create_agents=False,
                overrides={"size.customers": 1000, "size.prospects": 400, "burn_in": 0})
    b = CXModel("baseline", seed=5, create_agents=False,
                overrides={"size.customers": 1000, "size.prospects": 400, "burn_in": 30})
    assert not np.allclose(a.customers.trust, b.customers.trust)
    assert not np.allclose(a.colleagues.engagement, b.colleagues.engagement)
    np.testing.assert_array_equal(a.customers.status, b.customers.status)


def test_clients_doc_example_is_the_example_client(tmp_path):
    """The scenario shown in docs/clients.md loads beside the example's org chart, and agrees
    with examples/client_acme/scenario.toml on everything it sets."""
    import re

    doc = (ROOT / "docs" / "clients.md").read_text()
    block = re.search(r"```toml\n(.*?)```", doc, re.S).group(1)
    folder = _client(tmp_path)
    (folder / "doc.toml").write_text(block)
    shown, example = load_scenario(folder / "doc.toml"), load_scenario(folder / "scenario.toml")
    for key in ("size", "organisation", "process"):
        assert getattr(shown, key) == getattr(example, key), key
    assert shown.service.channel_preference == example.service.channel_preference
    for column in ("`id`", "`role`", "`department`", "`team`", "`manager`", "metric,value,sd"):
        assert column in doc


def test_a_path_given_outside_a_file_is_relative_to_the_working_folder(tmp_path, monkeypatch):
    """--set organisation.file=org.csv (or a dict in code) names a file in the working folder;
    it is stored absolute like a file's own path, so what is written out loads anywhere."""
    folder = _client(tmp_path)
    monkeypatch.chdir(folder)
    sc = load_scenario("baseline", {"organisation.file": "org.csv"})
    assert sc.organisation.file == str(folder / "org.csv") and sc.n_colleagues == 148
    monkeypatch.chdir(tmp_path)
    assert load_scenario("baseline").with_overrides(
        {"organisation.file": "acme/org.csv"}).organisation.file == str(folder / "org.csv")
