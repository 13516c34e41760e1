"""Every bad input of the corpus (tests/bad_inputs.py, docs/errors.md): exit 2, one line."""

from __future__ import annotations

import html
from pathlib import Path

import pytest
from bad_inputs import CASES, run_case

DOC = Path(__file__).resolve().parent.parent / "docs" / "errors.md"


def test_corpus_is_large_and_unique() -> None:
    assert len(CASES) >= 40
    assert len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_exits_2_with_one_line(case: tuple, tmp_path: Path) -> None:
    code, output, out = run_case(case, tmp_path / "case")
    assert "Traceback" not in output
    lines = [ln for ln in output.splitlines() if ln.strip()]
    assert code == 2, output
    assert len(lines) == 1, output
    assert lines[0].startswith("error: ")
    for fragment in case[3]:
        assert fragment in lines[0], (fragment, lines[0])
    assert not out.exists()  # nothing was written


def test_docs_list_every_case() -> None:
    """docs/errors.md is generated from the corpus: every case and its message are there."""
    text = DOC.read_text(encoding="utf-8")
    for name, _, _, fragments in CASES:
        assert f"| {name} |" in text, name
        shown = html.escape(fragments[0], quote=False).replace("|", "&#124;")
        assert shown in text, (name, fragments[0])
