"""Every scenario field has a unit and a source; docs/parameters.md is current."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from cxsim.scenario import describe_levers
from cxsim.sources import PARAMETER_SOURCES, source_kind

ROOT = Path(__file__).resolve().parent.parent


def test_every_field_has_a_unit_and_a_source():
    fields = [f for f, *_ in describe_levers()]
    missing = [f for f in fields if f not in PARAMETER_SOURCES]
    assert not missing, f"add these fields to cxsim/sources.py: {missing}"
    stale = sorted(set(PARAMETER_SOURCES) - set(fields))
    assert not stale, f"cxsim/sources.py names fields the schema no longer has: {stale}"
    for f in fields:
        unit, source = PARAMETER_SOURCES[f]
        assert unit and source, f
        assert source_kind(source) in ("study", "calibration", "lever", "run setting",
                                       "assumption")


def test_calibrations_name_a_validation_pattern():
    from cxsim.validation import PATTERNS

    keys = {p.key for p in PATTERNS}
    for f, (_, source) in PARAMETER_SOURCES.items():
        if source_kind(source) == "calibration":
            assert any(k in source for k in keys), f


def test_parameters_doc_is_current():
    spec = importlib.util.spec_from_file_location("gen_parameter_docs",
                                                  ROOT / "scripts" / "gen_parameter_docs.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert (ROOT / "docs" / "parameters.md").read_text() == mod.render(), (
        "docs/parameters.md is stale: run python scripts/gen_parameter_docs.py")


def test_morris_behaviour_spec_screens_behaviour_not_levers():
    from cxsim.experiments.sweep import load_spec, make_plan

    spec, text = load_spec(ROOT / "experiments" / "morris_behaviour.toml")
    assert spec.design.kind == "morris"
    assert not any(k.startswith("levers.") for k in spec.vary)
    sections = {k.split(".")[0] for k in spec.vary}
    assert {"culture", "service", "perception", "word_of_mouth", "churn", "staff"} <= sections
    for key in spec.vary:
        assert key in PARAMETER_SOURCES, key
    plan = make_plan(spec, text)
    assert len(plan.runs) == spec.design.samples * (len(spec.vary) + 1) * spec.replications
    assert {"nps", "churned", "engagement", "cumulative_profit"} <= set(spec.outputs)
