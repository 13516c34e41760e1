"""The docs stay true to the code: generated field tables are current, examples load."""

from __future__ import annotations

import html
import importlib.util
import re
from pathlib import Path

from cxsim.networks import load_organisation
from cxsim.scenario import describe_levers, load_scenario

ROOT = Path(__file__).resolve().parent.parent


def _generator():
    spec = importlib.util.spec_from_file_location("gen_scenario_docs",
                                                  ROOT / "scripts" / "gen_scenario_docs.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_scenario_field_tables_are_up_to_date():
    gen = _generator()
    doc = (ROOT / "docs" / "scenarios.md").read_text()
    assert gen.splice(doc, gen.render_tables()) == doc, (
        "docs/scenarios.md is stale: run python scripts/gen_scenario_docs.py")
    for field, *_ in describe_levers():
        assert f"| `{field}` |" in doc, field


def test_scenario_doc_examples_validate(tmp_path):
    doc = (ROOT / "docs" / "scenarios.md").read_text()
    blocks = re.findall(r"```toml\n(.*?)```", doc, re.S)
    assert len(blocks) >= 2
    for i, block in enumerate(blocks):
        text = block if "extends" in block else 'extends = "baseline"\n' + block
        if "[[events]]" in text and "\nsteps" not in text:
            text = text.replace('extends = "baseline"\n', 'extends = "baseline"\nsteps = 60\n')
        if "organisation" in text and "file" in text:
            continue  # the file example points at a company's own data
        p = tmp_path / f"example{i}.toml"
        p.write_text(text)
        load_scenario(p)


def test_networks_doc_graphml_example_loads(tmp_path):
    doc = (ROOT / "docs" / "networks.md").read_text()
    xml = re.search(r"```xml\n(.*?)```", doc, re.S).group(1)
    p = tmp_path / "org.graphml"
    p.write_text(xml)
    org = load_organisation(str(p), load_scenario("baseline"))
    assert org.n == 4
    assert list(org.manager) == [-1, 0, 1, 0]  # F1 reports to M1 through the reports_to edge
    for attr in ("role", "department", "team", "manager", "reports_to"):
        assert f"`{attr}`" in doc


def test_networks_doc_csv_example_loads(tmp_path):
    """The semicolon node list of docs/networks.md loads (with peer ties drawn)."""
    doc = (ROOT / "docs" / "networks.md").read_text()
    text = re.search(r"```\n(id;role;department.*?)```", doc, re.S).group(1)
    p = tmp_path / "org.csv"
    p.write_text(text)
    org = load_organisation(str(p), load_scenario("baseline"))
    assert org.n == 5 and org.team_names == ["Board", "Leeds Briggate", "Sheffield"]


def test_networks_doc_error_examples_match_the_code():
    """Each example line is a message of the bad-input corpus (docs/errors.md, generated from
    the real messages), with a client's paths in place of the temporary ones."""
    doc = (ROOT / "docs" / "networks.md").read_text()
    errors = (ROOT / "docs" / "errors.md").read_text()
    block = doc.split("### Errors", 1)[1].split("```", 2)[1]
    lines = [ln for ln in block.splitlines() if ln.startswith("error: ")]
    assert len(lines) >= 3
    for line in lines:
        rest = line.split("org.csv'", 1)[1]
        assert html.escape(rest, quote=False) in errors, line
