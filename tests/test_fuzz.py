"""Fuzzing the two loaders a client feeds: scenario files and sweep specs (hypothesis).

Random values, types and keys for every field: each input either loads, or ends with the
loader's own error (ScenarioError / SweepError) in one line that names the file and the field.
Any other exception (a traceback for the user) fails the test.
"""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from cxsim.experiments.sweep import SweepError, SweepSpec, load_spec, make_plan
from cxsim.scenario import Scenario, ScenarioError, describe_levers, load_scenario, one_line

SETTINGS = settings(max_examples=int(os.environ.get("CXSIM_FUZZ_EXAMPLES", "120")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def _fields(model: type[BaseModel], prefix: str = "") -> list[str]:
    out = []
    for name, f in model.model_fields.items():
        ann = f.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out += _fields(ann, f"{prefix}{name}.")
        elif name not in ("extends", "events"):
            out.append(prefix + name)
    return out


SCENARIO_KEYS = _fields(Scenario)

scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.integers(min_value=-3, max_value=30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-0.5, max_value=1.5),
    st.text(max_size=12),
    st.sampled_from(["yes", "no", "true", "0.5", "nan", "GBP", "store", "tribal", "baseline"]),
)
# mostly plausible values (so that many inputs load and the loaded values are checked), and
# sometimes anything at all: other types, nan, inf, huge numbers, text, lists and tables
plausible = st.one_of(st.floats(min_value=0, max_value=1), st.integers(min_value=12,
                                                                        max_value=400))
weird = st.one_of(scalars, st.lists(scalars, max_size=6),
                  st.dictionaries(st.text(max_size=8), scalars, max_size=3))
values = st.one_of(plausible, plausible, plausible, weird)
keys = st.one_of(st.sampled_from(SCENARIO_KEYS), st.sampled_from(SCENARIO_KEYS),
                 st.sampled_from(SCENARIO_KEYS), st.text(min_size=1, max_size=12),
                 st.sampled_from(SCENARIO_KEYS).map(lambda k: k + "x"))
events = st.lists(st.fixed_dictionaries(
    {"type": st.sampled_from(["set", "service_failure", "kpi_dashboard", "complaints_first",
                              "boom"]),
     "step": st.one_of(st.integers(-2, 300), scalars)},
    optional={"set": st.dictionaries(st.sampled_from(["silo", "levers.empowerment",
                                                      "process.billing", "digital_channel",
                                                      "happiness"]), scalars, max_size=2),
              "severity": scalars, "duration": scalars, "channel": scalars,
              "nps_threshold": scalars}), max_size=2)
events = st.one_of(st.just([]), st.just([]), events)


def _nest(flat: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key, value in flat.items():
        parts = key.split(".")
        node = data
        for p in parts[:-1]:
            if not isinstance(node.get(p), dict):
                node[p] = {}
            node = node[p]
        node[parts[-1]] = value
    return data


def _toml_str(text: str) -> str:
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def to_toml(v: Any, top: bool = True) -> str:
    """Any nest of dicts, lists and scalars as valid TOML (inline tables, quoted keys)."""
    if top:
        return "".join(f"{_toml_str(k)} = {to_toml(x, False)}\n" for k, x in v.items())
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return "nan" if v != v else ("inf" if v == math.inf else
                                     "-inf" if v == -math.inf else repr(v))
    if isinstance(v, str):
        return _toml_str(v)
    if isinstance(v, list):
        return "[" + ", ".join(to_toml(x, False) for x in v) + "]"
    return "{" + ", ".join(f"{_toml_str(k)} = {to_toml(x, False)}" for k, x in v.items()) + "}"


def _toml_safe(v: Any) -> bool:
    """TOML cannot hold a lone surrogate (not a Unicode scalar value)."""
    if isinstance(v, str):
        return not any(0xD800 <= ord(c) <= 0xDFFF for c in v)
    if isinstance(v, list):
        return all(_toml_safe(x) for x in v)
    if isinstance(v, dict):
        return all(_toml_safe(k) and _toml_safe(x) for k, x in v.items())
    return True


def _changed_names(flat: dict[str, Any]) -> set[str]:
    names = set()
    for key in flat:
        parts = key.split(".")
        names.update(parts)
        names.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    return names


CROSS_FIELD = ("cannot staff", "events[", "process.chains", "channel", "the scenario is empty",
               "broken TOML", "extends")


def _check_message(msg: str, source: str, names: set[str]) -> None:
    assert "\n" not in msg and "\r" not in msg, msg
    assert msg.startswith(source + ": "), msg
    assert any(n and n in msg for n in names) or any(c in msg for c in CROSS_FIELD), msg


@SETTINGS
@given(flat=st.dictionaries(keys, values, max_size=5), evs=events,
       extends=st.booleans())
def test_scenario_loader_loads_or_names_the_field(flat: dict, evs: list, extends: bool) -> None:
    data = _nest(flat)
    if extends:
        data["extends"] = "baseline"
    if evs:
        data["events"] = evs
    if not _toml_safe(data):
        return
    text = to_toml(data)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "fuzz.toml"
        path.write_text(text, encoding="utf-8")
        try:
            sc = load_scenario(path)
        except ScenarioError as exc:
            _check_message(str(exc), str(path), _changed_names(flat) | {"events", "steps"})
            return
    assert isinstance(sc, Scenario)
    for key, value in flat.items():  # what loaded is what was written
        if isinstance(value, float) and math.isfinite(value) and key in SCENARIO_KEYS:
            node: Any = sc
            for p in key.split("."):
                node = getattr(node, p)
            assert node == pytest.approx(value)


SPEC_KEYS = list(SweepSpec.model_fields) + ["design.kind", "design.samples",
                                            "design.second_order", "design.num_levels"]
vary_values = st.one_of(
    st.lists(scalars, max_size=4),
    st.fixed_dictionaries({"low": scalars, "high": scalars},
                          optional={"levels": st.one_of(st.integers(-1, 5), scalars)}),
    scalars)
vary_keys = st.one_of(st.sampled_from(["levers.silo", "levers.empowerment", "size.colleagues",
                                       "levers.digital_channel", "process.steps.billing",
                                       "social.kind", "steps", "levers", "levers.sylo"]),
                      st.text(min_size=1, max_size=10))


def _rows_estimate(spec: SweepSpec) -> int:
    n = spec.design.samples or 1
    d = len(spec.vary)
    if spec.design.kind == "grid":
        total = 1
        for v in spec.vary.values():
            total *= len(v) if isinstance(v, list) else (v.levels or 2)
        return total
    return {"lhs": n, "sobol": n * (d + 2) * (2 if spec.design.second_order else 1),
            "morris": n * (d + 1)}[spec.design.kind]


@SETTINGS
@given(flat=st.dictionaries(st.one_of(st.sampled_from(SPEC_KEYS), st.text(min_size=1,
                                                                          max_size=8)),
                            values, max_size=4),
       vary=st.dictionaries(vary_keys, vary_values, max_size=3),
       small=st.booleans())
@example(flat={"\r": 0.0}, vary={}, small=False)  # found by the fuzzer: named escaped
@example(flat={"\x1f\n": 0.0}, vary={"levers.silo": []}, small=False)  # control characters
def test_sweep_spec_loader_loads_or_names_the_field(flat: dict, vary: dict,
                                                    small: bool) -> None:
    data = _nest(flat)
    if vary:
        data["vary"] = vary
    if small:  # keep runs of a spec that loads quick to plan
        data.setdefault("overrides", {"size.customers": 300, "size.prospects": 50})
    if not _toml_safe(data):
        return
    text = to_toml(data)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "spec.toml"
        path.write_text(text, encoding="utf-8")
        names = _changed_names(flat) | {f"vary.{k}" for k in vary} | set(vary) | {
            "vary", "design", "scenario", "overrides", "broken TOML"}
        try:
            spec, spec_text = load_spec(path)
            if _rows_estimate(spec) <= 64:
                make_plan(spec, spec_text)
        except SweepError as exc:
            msg = str(exc)
            assert "\n" not in msg, msg
            # a control character in a key is named escaped (vary.\\r), as it should be
            shown = names | {one_line(n) for n in names}
            assert any(n and n in msg for n in shown) or "cannot staff" in msg, msg


def test_fuzz_strategies_cover_every_field() -> None:
    """The scenario strategy draws from every field of the schema (none is left out)."""
    documented = {row[0] for row in describe_levers()} - {"extends"}
    assert documented == set(SCENARIO_KEYS)
