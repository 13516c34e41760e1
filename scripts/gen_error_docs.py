#!/usr/bin/env python3
"""Write docs/errors.md: every bad input of the test corpus with the message cxsim gives.

    python scripts/gen_error_docs.py

The cases live in tests/bad_inputs.py (tests/test_bad_input.py checks each one and that this
page lists them all); the messages here are the real ones, produced by running each case.
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from bad_inputs import CASES, run_case  # noqa: E402

DOC = ROOT / "docs" / "errors.md"
HEAD = """# Bad input and what cxsim says

Every command checks its input before any work starts. Bad input ends with **exit code 2** and
**one line** naming the file (or option), the field, the value and what is allowed; nothing is
written to the output folder. A sweep whose runs fail ends with exit code 1 and says how many;
if writing the output folder fails at the end, the results are saved to a temporary folder and
the message says where (exit code 1).

This table is the test corpus of `tests/test_bad_input.py` (each row is a test) and is written
by `scripts/gen_error_docs.py` from the real messages. Scenario rows are a file given to
`cxsim run FILE`; `{base}` stands for `extends = "baseline"`. Spec rows are a sweep spec given
to `cxsim sweep FILE`. Org rows are an org chart (`organisation.file`, see
[clients.md](clients.md)) named by a small scenario beside it and given to `cxsim run`; each
message names the org file, the line and the fix. Temporary paths are shown as `FILE` and `TMP`.

| case | kind | input | message |
|---|---|---|---|
"""


def _cell(text: str) -> str:
    """Text for a table cell: escaped for HTML, `|` kept out of the table syntax."""
    import html

    return html.escape(text, quote=False).replace("|", "&#124;").replace("\n", "<br>")


def _org_shown(given) -> str:
    """An org case's files, each under its name (bytes as Python writes them)."""
    files = given if isinstance(given, dict) else {
        ("org.graphml" if isinstance(given, str) and given.startswith("<") else "org.csv"): given}
    parts = []
    for name, text in files.items():
        body = "(no such file)" if text is None else (
            repr(text) if isinstance(text, bytes) else (text.strip() or "(empty)"))
        parts.append(f"# {name}\n{body}")
    return "\n".join(parts)


def main() -> None:
    rows = []
    for case in CASES:
        name, kind, given, _ = case
        tmp = Path(tempfile.mkdtemp(prefix="cxsim-errors-"))
        code, output, _ = run_case(case, tmp / "case")
        line = next((ln for ln in output.splitlines() if ln.strip()), "")
        line = line.replace(str(tmp / "case" / "bad.toml"), "FILE")
        line = line.replace(str(tmp / "case" / "spec.toml"), "FILE")
        line = line.replace(str(tmp / "case"), "TMP")
        line = re.sub(r"/tmp/[^ ']*", "TMP", line)
        if kind == "org":
            shown = _org_shown(given)
        elif isinstance(given, bytes):
            shown = repr(given)
        else:
            shown = given.replace("{tmp}", "TMP").replace("{file}", "TMP/file.txt")
            shown = shown.strip()
        if kind == "spec" and len(shown) > 160:
            shown = "... " + shown.split("[vary]")[-1].strip() if "[vary]" in shown else shown
        inp = f"<code>{_cell(shown if kind != 'cli' else 'cxsim ' + shown)}</code>"
        rows.append(f"| {name} | {kind} | {inp} | {_cell(line)} (exit {code}) |")
    DOC.write_text(HEAD + "\n".join(rows) + "\n", encoding="utf-8")
    print(f"wrote {DOC} ({len(rows)} cases)")


if __name__ == "__main__":
    main()
