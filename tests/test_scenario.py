"""Scenario files: schema, extends, events, round trips and readable errors (issue 2, item 2)."""

from __future__ import annotations

import pytest

from cxsim.scenario import (
    Levers,
    Scenario,
    ScenarioError,
    Sizes,
    builtin_scenarios,
    describe_levers,
    load_scenario,
    validate_scenario,
)


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_baseline_loads_with_defaults_and_description():
    sc = load_scenario("baseline")
    assert sc.name == "baseline" and sc.description
    assert "baseline" in builtin_scenarios()
    assert sc.levers == Levers()  # baseline states the default levers explicitly


def test_extends_overrides_a_few_levers_and_inherits_the_rest(tmp_path):
    p = write(tmp_path, "child.toml", 'extends = "baseline"\nname = "child"\nsteps = 20\n'
              "[levers]\nempowerment = 0.8\nsilo = 0.1\n[culture]\nstubbornness = 0.3\n")
    child, base = load_scenario(p), load_scenario("baseline")
    assert child.name == "child" and child.description == ""  # not inherited
    assert child.steps == 20
    assert child.levers.empowerment == 0.8 and child.levers.silo == 0.1
    assert child.culture.stubbornness == 0.3
    assert child.culture.self_weight == base.culture.self_weight
    for lever in Levers.model_fields:
        if lever not in ("empowerment", "silo"):
            assert getattr(child.levers, lever) == getattr(base.levers, lever), lever
    assert child.size == base.size and child.burn_in == base.burn_in


def test_extends_chain_and_relative_paths(tmp_path):
    write(tmp_path, "mid.toml", 'extends = "baseline"\n[levers]\ntraining = 0.9\n')
    sub = tmp_path / "sub"
    sub.mkdir()
    p = write(sub, "leaf.toml", 'extends = "../mid.toml"\n[levers]\nsilo = 0.9\n')
    sc = load_scenario(p)
    assert sc.levers.training == 0.9 and sc.levers.silo == 0.9
    assert sc.levers.empowerment == 0.4


def test_extends_cycle_is_refused(tmp_path):
    write(tmp_path, "a.toml", 'extends = "b.toml"\n')
    write(tmp_path, "b.toml", 'extends = "a.toml"\n')
    with pytest.raises(ScenarioError, match="cycle"):
        load_scenario(tmp_path / "a.toml")
    write(tmp_path, "self.toml", 'extends = "self.toml"\n')
    with pytest.raises(ScenarioError, match="cycle"):
        load_scenario(tmp_path / "self.toml")


@pytest.mark.parametrize("text, needles", [
    ("[levers]\nbogus = 1\n", ["levers.bogus", "unknown key", "empowerment"]),
    ("colour = 1\n", ["colour", "unknown key", "levers"]),
    ('[levers]\nempowerment = "high"\n', ["levers.empowerment", "'high'", "number"]),
    ("[levers]\nsilo = 1.5\n", ["levers.silo", "1.5", "less than or equal to 1"]),
    ("[size]\ncustomers = -5\n", ["size.customers", "-5", "greater than or equal to 1"]),
    ("[levers\nsilo = 0.5\n", ["broken TOML", "line"]),
    ('steps = 10\n[[events]]\ntype = "set"\nstep = 12\nset = {silo = 0.5}\n',
     ["events[0].step", "12", "0 to 9"]),
    ('steps = 10\n[[events]]\ntype = "set"\nstep = 2\nset = {happiness = 0.5}\n',
     ["events[0].set", "happiness", "not a lever", "empowerment"]),
    ('steps = 10\n[[events]]\ntype = "set"\nstep = 2\nset = {silo = 3.0}\n',
     ["events[0].set", "silo", "3.0"]),
    ('steps = 10\n[[events]]\ntype = "set"\nstep = 2\nset = {"process.nope" = 0.5}\n',
     ["process.nope", "process.billing"]),
    ('[[events]]\ntype = "earthquake"\nstep = 2\n', ["events", "earthquake"]),
    ('[process]\nchains = {store = ["teleport"]}\n', ["process.chains.store", "teleport"]),
])
def test_bad_scenario_names_file_field_value_and_allowed(tmp_path, text, needles):
    p = write(tmp_path, "bad.toml", 'extends = "baseline"\n' + text)
    with pytest.raises(ScenarioError) as exc:
        load_scenario(p)
    msg = str(exc.value)
    assert str(p) in msg
    for needle in needles:
        assert needle in msg, (needle, msg)
    assert "\n" not in msg


def test_missing_file_is_named():
    with pytest.raises(ScenarioError, match="no-such-scenario.*built-in scenarios: .*baseline"):
        load_scenario("no-such-scenario.toml")


def test_events_validate_and_round_trip(tmp_path):
    p = write(tmp_path, "ev.toml", 'extends = "baseline"\nsteps = 30\n'
              '[[events]]\ntype = "set"\nstep = 5\nset = {empowerment = 0.7, '
              '"process.billing" = 0.6}\n'
              '[[events]]\ntype = "service_failure"\nstep = 10\nduration = 3\nseverity = 0.5\n'
              'channel = "contact_centre"\n'
              '[[events]]\ntype = "kpi_dashboard"\nstep = 12\nnps_threshold = 5.0\n')
    sc = load_scenario(p)
    assert [e.type for e in sc.events] == ["set", "service_failure", "kpi_dashboard"]
    assert sc.events[1].share == 0.5  # default filled in
    again = tmp_path / "again.toml"
    again.write_text(sc.to_toml())
    sc2 = load_scenario(again)
    assert sc2.to_dict() == sc.to_dict() and sc2.hash() == sc.hash()
    assert sc2.extends is None  # the written scenario is resolved, it extends nothing


def test_with_overrides_and_hash():
    sc = load_scenario("baseline")
    sc2 = sc.with_overrides({"levers.silo": 0.9, "steps": 7})
    assert sc2.levers.silo == 0.9 and sc2.steps == 7 and sc.levers.silo == 0.4
    assert sc2.hash() != sc.hash()
    assert sc.with_overrides({}).hash() == sc.hash()
    with pytest.raises(ScenarioError, match="levers.silo = 2"):
        sc.with_overrides({"levers.silo": 2})


def test_colleagues_default_from_customers():
    sc = validate_scenario({"size": {"customers": 5000}})
    assert sc.n_colleagues == 100
    assert Scenario.model_construct(size=Sizes(customers=10)).n_colleagues == 12
    # ... but 12 colleagues cannot staff six departments: validation says so, before any run
    with pytest.raises(ScenarioError, match="12 colleagues cannot staff 6 departments.*"
                                            "at least 15 colleagues"):
        validate_scenario({"size": {"customers": 10}})


def test_describe_levers_covers_every_field():
    rows = describe_levers()
    names = {r[0] for r in rows}
    for section in ("levers", "culture", "service", "perception", "word_of_mouth", "churn",
                    "staff", "money", "social", "organisation", "process", "size"):
        model = Scenario.model_fields[section].annotation
        for field in model.model_fields:
            assert f"{section}.{field}" in names
    assert all(r[3] for r in rows), "every field has a description"
    allowed = {r[0]: r[2] for r in rows}
    assert allowed["levers.silo"] == "number 0 .. 1"
    assert allowed["service.capacity"] == "number > 0 .. 10000"
    assert allowed["brand.personality"] == "5 x (number 0 .. 1)"
    assert allowed["social.kind"] == "tribal | random"
    assert allowed["size.colleagues"] == "integer 12 .. 5000000 (optional)"
    assert not any("typing" in a or "FieldInfo" in a for a in allowed.values())


def test_numpy_values_from_code_are_plain_values():
    """Strict types refuse "0.5" from a file, not a numpy.int64 a script computed."""
    import numpy as np

    sc = load_scenario("baseline").with_overrides({
        "size.customers": np.int64(3000), "levers.digital_channel": np.bool_(True),
        "brand.personality": np.array([0.1, 0.2, 0.3, 0.4, 0.5])})
    assert sc.size.customers == 3000 and type(sc.size.customers) is int
    assert sc.levers.digital_channel is True
    assert sc.brand.personality == [0.1, 0.2, 0.3, 0.4, 0.5]
    with pytest.raises(ScenarioError, match="levers.digital_channel = 'yes'"):
        load_scenario("baseline").with_overrides({"levers.digital_channel": "yes"})
