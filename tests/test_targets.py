"""targets.csv: the client's figures, as Excel saves them, and the same figures from a run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cxsim.calibrate import CalibrationError, parse_params, particle_seed, weighted_quantile
from cxsim.scenario import load_scenario
from cxsim.targets import (
    SD_FLOOR,
    Target,
    TargetsError,
    default_sd,
    load_targets,
    statistics,
    write_targets,
)


def _write(tmp: Path, data: bytes | str) -> Path:
    p = tmp / "targets.csv"
    p.write_bytes(data.encode() if isinstance(data, str) else data)
    return p


def test_plain_file_loads(tmp_path: Path) -> None:
    p = _write(tmp_path, "metric,value,sd\nnps,18,4\ncsat,78,1.5\nannual_churn,0.16,0.015\n")
    t = load_targets(p)
    assert [x.key for x in t] == ["nps", "csat", "annual_churn"]
    assert [x.value for x in t] == [18.0, 78.0, 0.16]
    assert all(x.sd_given for x in t)


def test_excel_csv_loads_the_same(tmp_path: Path) -> None:
    """UTF-8 with a byte-order mark, semicolons, CRLF and decimal commas: the same targets."""
    plain = load_targets(_write(tmp_path, "metric,value,sd\nnps,18,4\nengagement,0.62,0.02\n"))
    excel = "\ufeffMetric;Value;SD\r\nnps;18;4\r\nengagement;0,62;0,02\r\n".encode()
    (tmp_path / "x").mkdir()
    assert load_targets(_write(tmp_path / "x", excel)) == plain


def test_percent_sign_means_a_share_only_for_shares(tmp_path: Path) -> None:
    t = load_targets(_write(tmp_path, "metric,value\nannual_churn,16%\ncsat,78%\n"))
    assert t[0].value == pytest.approx(0.16)
    assert t[1].value == pytest.approx(78.0)


def test_aliases_and_weeks(tmp_path: Path) -> None:
    t = load_targets(_write(tmp_path, "metric,value,sd,week\nnps_measured,20,3,\n"
                                      "nps,25,3,10\nannual_churn_rate,0.2,0.02,\n"))
    assert [x.key for x in t] == ["nps", "nps@w10", "annual_churn"]


def test_unit_targets_are_checked_against_the_units(tmp_path: Path) -> None:
    p = _write(tmp_path, "metric,value,sd,unit\nnps,20,4,\nnps,12,6,Leeds\ncsat,70,2,York\n")
    t = load_targets(p, units=lambda: ["Leeds", "York"])
    assert [x.key for x in t] == ["nps", "nps@Leeds", "csat@York"]
    with pytest.raises(TargetsError, match="unit = 'York' is not a front-line unit"):
        load_targets(p, units=lambda: ["Leeds"])


def test_unit_statistics_read_that_units_rows() -> None:
    ts = pd.DataFrame({"nps_measured": [10.0, 20.0]})
    units = pd.DataFrame({"step": [0, 0, 1, 1], "unit": ["A", "B", "A", "B"],
                          "nps_measured": [1.0, 50.0, 3.0, np.nan]})
    s = statistics(ts, [Target("nps", 0, 1), Target("nps", 0, 1, unit="A"),
                        Target("nps", 0, 1, unit="B"), Target("nps", 0, 1, week=1, unit="A")],
                   10, units)
    assert s == {"nps": 15.0, "nps@A": 2.0, "nps@B": 50.0, "nps@A@w1": 3.0}


def test_default_sd_follows_the_survey_and_its_floor(tmp_path: Path) -> None:
    """No sd: a year of the scenario's survey, never below the floor; a smaller survey (fewer
    customers) knows its NPS less precisely."""
    big = load_scenario("baseline")
    small = big.with_overrides({"size.customers": 300, "size.prospects": 300,
                                "size.colleagues": 30})
    assert default_sd("nps", 20, big) == pytest.approx(SD_FLOOR["nps"][0])
    assert default_sd("nps", 20, small) > default_sd("nps", 20, big)
    assert default_sd("annual_churn", 0.2, big) == pytest.approx(0.01)  # 5% of the value
    t = load_targets(_write(tmp_path, "metric,value\nnps,20\n"), big)
    assert not t[0].sd_given and t[0].sd == pytest.approx(default_sd("nps", 20, big))


@pytest.mark.parametrize("text, fragments", [
    ("metric,value\nnpss,20\n", ["row 2", "metric = 'npss'", "did you mean 'nps'?"]),
    ("metric,value\nannual_churn,16\n", ["row 2", "value = '16'", "0 .. 5"]),
    ("metric,value\n\nnps,abc\n", ["row 3", "value = 'abc'", "not a number"]),
    ("metric,value,sd\nnps,20,0\n", ["row 2", "sd = '0'", "above 0"]),
    ("metric,value,sd\nnps,20,4\nnps,22,4\n", ["row 3", "already given in row 2"]),
    ("unit,metric,value\nLeeds,margin,0.1\n", ["row 2", "unit = 'Leeds'", "company only"]),
    ("metric,value,week\nmargin,0.1,3\n", ["row 2", "week", "whole year"]),
    ("metric,value,week\nnps,20,60\n", ["row 2", "week = '60'", "0 .. 51"]),
    ("metric\nnps\n", ["row 1", "'value' is missing"]),
    ("metric,value\n", ["no targets"]),
    ("", ["empty"]),
])
def test_bad_files_name_row_field_and_value(tmp_path: Path, text: str,
                                            fragments: list[str]) -> None:
    p = _write(tmp_path, text)
    with pytest.raises(TargetsError) as err:
        load_targets(p)
    msg = str(err.value)
    assert msg.startswith(str(p)) and "\n" not in msg
    for f in fragments:
        assert f in msg, (f, msg)


def test_written_targets_load_back(tmp_path: Path) -> None:
    t = [Target("nps", 21.5, 3.25), Target("engagement", 0.61, 0.02, week=4),
         Target("csat", 70.0, 2.0, unit="Leeds, north")]
    write_targets(tmp_path / "t.csv", t)
    assert load_targets(tmp_path / "t.csv") == t


def test_statistics_read_the_measured_columns() -> None:
    """Survey figures come from the measured columns, not the true ones; yearly rates are
    annualised over the window."""
    weeks = 26
    ts = pd.DataFrame({"nps": np.full(weeks, -50.0), "nps_measured": np.full(weeks, 30.0),
                       "csat_measured": np.linspace(70, 80, weeks),
                       "engagement_measured": np.full(weeks, 0.6),
                       "active_customers": np.full(weeks, 1000), "churned": np.full(weeks, 2),
                       "staff_attrition": np.full(weeks, 1), "revenue": np.full(weeks, 100.0),
                       "profit": np.full(weeks, 8.0)})
    tg = [Target(m, 0, 1) for m in ("nps", "csat", "engagement", "annual_churn",
                                    "staff_attrition", "active_customers", "margin", "revenue")]
    tg.append(Target("csat", 0, 1, week=0))
    s = statistics(ts, tg, n_colleagues=100)
    assert s["nps"] == 30.0
    assert s["csat"] == pytest.approx(75.0) and s["csat@w0"] == pytest.approx(70.0)
    assert s["annual_churn"] == pytest.approx(2 * 52 / 1000)
    assert s["staff_attrition"] == pytest.approx(52 / 100)
    assert s["margin"] == pytest.approx(0.08) and s["revenue"] == pytest.approx(5200)


def test_params_resolve_short_names_and_ranges() -> None:
    p = parse_params("empowerment, churn.base=0.001:0.01")
    assert [(x.key, x.low, x.high, x.given) for x in p] == [
        ("levers.empowerment", 0.0, 1.0, False), ("churn.base", 0.001, 0.01, True)]


@pytest.mark.parametrize("text, fragment", [
    ("levers.empowermnt", "did you mean 'levers.empowerment'?"),
    ("personality_spread", "names several fields"),
    ("levers.board_cx_role", "not a number field"),
    ("money.salary", "no finite range"),
    ("levers.silo=0.8:0.2", "must be below"),
    ("levers.silo=0:2", "leaves the range"),
    ("levers.silo=a:b", "expected KEY=LOW:HIGH"),
    ("silo,levers.silo", "named twice"),
    ("", "at least one"),
])
def test_bad_params(text: str, fragment: str) -> None:
    with pytest.raises(CalibrationError, match=fragment):
        parse_params(text)


def test_particle_seed_depends_only_on_the_values() -> None:
    a = particle_seed(1, {"x": 0.5, "y": 0.25})
    assert a == particle_seed(1, {"y": 0.25, "x": 0.5})
    assert a != particle_seed(1, {"x": 0.5, "y": 0.26}) and a != particle_seed(2, {"x": 0.5,
                                                                                    "y": 0.25})
    assert 0 <= a < 2**63


def test_weighted_quantile_follows_weights() -> None:
    x = np.array([0.0, 1.0])
    assert weighted_quantile(x, np.array([0.9, 0.1]), 0.5) < 0.5
    assert weighted_quantile(x, np.array([0.1, 0.9]), 0.5) > 0.5


def test_docs_list_every_metric_and_their_example_loads(tmp_path: Path) -> None:
    """docs/calibration.md: a row per metric, every alias named, its example file valid."""
    from cxsim.targets import ALIASES, METRICS

    doc = (Path(__file__).resolve().parent.parent / "docs" / "calibration.md").read_text()
    for name in METRICS:
        assert f"| `{name}` |" in doc, name
    for alias in ALIASES:
        assert f"`{alias}`" in doc, alias
    example = doc.split("```text\n", 1)[1].split("```", 1)[0]
    t = load_targets(_write(tmp_path, example))
    assert len(t) == 6 and not t[-1].sd_given


def test_example_client_targets_load() -> None:
    path = Path(__file__).resolve().parent.parent / "examples" / "client_acme" / "targets.csv"
    t = load_targets(path)
    assert {x.metric for x in t} == {"nps", "csat", "engagement", "annual_churn",
                                     "staff_attrition", "active_customers"}
