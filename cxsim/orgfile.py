"""A client's org chart read from the file they have: CSV as Excel saves it, or GraphML.

Three forms are read (docs/networks.md, docs/clients.md):

- a **node list** CSV, one row per colleague: ``id, role, department, team, manager`` (the
  HR export a client usually has; other columns, such as a name or a region, are ignored);
  peer ties are then drawn as for a generated organisation (`networks.build_organisation`);
- an **edge list** CSV ``source, target[, kind]`` with its node list in ``<stem>_nodes.csv``;
- **GraphML**, nodes with the same attributes and edges as peer ties or ``kind=reports_to``.

CSV may carry a byte-order mark, use commas, semicolons or tabs (as Excel does in locales where
the comma is the decimal mark) and end lines with CRLF. Headers, roles and departments are read
without regard to case, spaces or hyphens ("Contact centre" is ``contact_centre``); ids, teams
and managers are kept as written, so the client's own unit labels reach every output.

Every problem raises `OrgFileError`, one line naming the file, the line and the fix, before a
model is built: the scenario's validation reads the file (`check`), not the model. Pure Python
(no numba, no networkx), so validation stays light.
"""

from __future__ import annotations

import csv
import functools
import io
import os
import xml.parsers.expat
from dataclasses import dataclass, field
from pathlib import Path

#: role names a file may use, to the canonical ones (`constants.ROLES`)
ROLE_ALIASES = {"leader": "leader", "manager": "manager", "frontline": "frontline",
                "front_line": "frontline", "backoffice": "backoffice",
                "back_office": "backoffice"}
#: column names a file may use, to the canonical ones
COLUMN_ALIASES = {"manager_id": "manager", "reports_to": "manager", "line_manager": "manager",
                  "unit": "team"}
REQUIRED = ("id", "role", "department")
ROLES_TEXT = "leader, manager, frontline or backoffice"


class OrgFileError(ValueError):
    """An org chart that cannot be used: one line with the file, the line and the fix."""

    def __init__(self, path: str | os.PathLike, problem: str, fix: str,
                 line: int | None = None):
        where = f"organisation.file {str(path)!r}" + (f", line {line}" if line else "")
        text = f"{where}: {problem}; fix: {fix}"
        super().__init__(text.replace("\r", "\\r").replace("\n", "\\n"))


@dataclass
class OrgRecords:
    """The colleagues of a file in file order, checked; indices into `ids`."""

    ids: list[str]
    role: list[str]  # canonical role names
    department: list[str]  # canonical department names
    team: list[str]  # the file's own unit labels (the department where none is given)
    manager: list[int]  # index of the line manager, -1 at the top
    lines: list[int]  # line of each colleague in the file
    peer_edges: list[tuple[int, int]] = field(default_factory=list)
    has_edges: bool = False  # an edge list or GraphML edges were given (else ties are drawn)

    @property
    def n(self) -> int:
        return len(self.ids)


def _norm(text: str) -> str:
    """'Contact centre' -> 'contact_centre': case, spaces and hyphens do not matter."""
    return "_".join(str(text).strip().lower().replace("-", " ").split())


# -- reading ------------------------------------------------------------------------------------

def _text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise OrgFileError(path, f"cannot read the file ({exc.strerror})",
                           "check the path; it is relative to the scenario file") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise OrgFileError(path, f"not UTF-8 text (byte {raw[exc.start]:#04x})",
                           "save it as 'CSV UTF-8' (Excel: Save As, CSV UTF-8)", line) from None


def _csv_rows(path: Path) -> tuple[list[str], list[tuple[int, dict[str, str]]], int]:
    """Header (canonical names), (line, row) of every non-blank row, and the header's line."""
    text = _text(path)
    if not text.strip():
        raise OrgFileError(path, "the file is empty",
                           "a header row id,role,department,team,manager and one row per "
                           "colleague (docs/clients.md)")
    first = text.lstrip("\r\n").splitlines()[0]
    delim = max((";", ",", "\t"), key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    header: list[str] | None = None
    header_line = 1
    rows: list[tuple[int, dict[str, str]]] = []
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue  # blank lines and Excel's rows of bare separators
        if header is None:
            header = [COLUMN_ALIASES.get(_norm(c), _norm(c)) for c in cells]
            header_line = reader.line_num
            continue
        rows.append((reader.line_num, {h: (cells[i].strip() if i < len(cells) else "")
                                       for i, h in enumerate(header) if h}))
    assert header is not None
    return header, rows, header_line


def _need_columns(path: Path, header: list[str], line: int) -> None:
    for col in REQUIRED:
        if col not in header:
            raise OrgFileError(path, f"no column {col!r} in the header row (columns: "
                               f"{', '.join(header)})", f"add a column {col!r}; the columns are "
                               "id, role, department, team, manager", line)


@dataclass
class _Raw:
    nodes: list[tuple[int, dict[str, str]]]  # (line, attributes with 'id')
    edges: list[tuple[int, str, str, str]]  # (line, source, target, kind)
    has_edges: bool
    node_file: Path


def _read_csv(path: Path) -> _Raw:
    header, rows, hline = _csv_rows(path)
    if "source" in header and "target" in header and "id" not in header:
        npath = path.with_name(path.stem + "_nodes.csv")
        if not npath.is_file():
            raise OrgFileError(path, f"an edge list needs its colleagues in {npath.name} "
                               "beside it", f"add {npath.name} (columns id, role, department, "
                               "team, manager), or give one node list with an id column", hline)
        edges = [(ln, r["source"], r["target"], r.get("kind") or "peer") for ln, r in rows]
        nheader, nrows, nline = _csv_rows(npath)
        _need_columns(npath, nheader, nline)
        if not nrows:
            raise OrgFileError(npath, "no colleagues below the header row",
                               "one row per colleague", nline)
        return _Raw(nrows, edges, True, npath)
    _need_columns(path, header, hline)
    if not rows:
        raise OrgFileError(path, "no colleagues below the header row", "one row per colleague",
                           hline)
    return _Raw(rows, [], False, path)


def _read_graphml(path: Path) -> _Raw:
    """Nodes and edges of a GraphML file with the line each is on (expat keeps lines)."""
    text = _text(path)
    if not text.strip():
        raise OrgFileError(path, "the file is empty", "a GraphML file with one node per "
                           "colleague (docs/networks.md)")
    keys: dict[str, tuple[str, str | None]] = {}  # id -> (attr.name, default)
    nodes: list[tuple[int, dict[str, str]]] = []
    edges: list[list] = []
    stack: list[str] = []
    cur: dict = {}
    parser = xml.parsers.expat.ParserCreate(namespace_separator="}")

    def local(tag: str) -> str:
        return tag.rsplit("}", 1)[-1]

    def start(tag: str, attrs: dict[str, str]) -> None:
        t = local(tag)
        stack.append(t)
        line = parser.CurrentLineNumber
        if t == "key":
            cur["key"] = attrs.get("id", "")
            keys[cur["key"]] = (attrs.get("attr.name", cur["key"]), None)
        elif t == "node":
            nodes.append((line, {"id": attrs.get("id", "")}))
            cur["owner"] = nodes[-1][1]
        elif t == "edge":
            edges.append([line, attrs.get("source", ""), attrs.get("target", ""), {}])
            cur["owner"] = edges[-1][3]
        elif t == "data":
            cur["data"] = attrs.get("key", "")
            cur["text"] = []
        elif t == "default":
            cur["text"] = []

    def end(tag: str) -> None:
        t = stack.pop()
        if t == "data" and "owner" in cur:
            name = keys.get(cur["data"], (cur["data"], None))[0]
            cur["owner"][name] = "".join(cur["text"]).strip()
        elif t == "default" and "key" in cur:
            keys[cur["key"]] = (keys[cur["key"]][0], "".join(cur["text"]).strip())
        elif t in ("node", "edge"):
            cur.pop("owner", None)

    def chars(data: str) -> None:
        if stack and stack[-1] in ("data", "default"):
            cur.setdefault("text", []).append(data)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    try:
        parser.Parse(text, True)
    except xml.parsers.expat.ExpatError as exc:
        raise OrgFileError(path, f"broken GraphML ({xml.parsers.expat.ErrorString(exc.code)})",
                           "repair or re-export the file", exc.lineno) from None
    if not nodes:
        raise OrgFileError(path, "no <node> elements", "one node per colleague "
                           "(docs/networks.md)", 1)
    defaults = {name: d for name, d in keys.values() if d is not None}
    for _, attrs in nodes:
        for name, d in defaults.items():
            attrs.setdefault(name, d)
    out_edges = [(ln, s, t, a.get("kind") or defaults.get("kind") or "peer")
                 for ln, s, t, a in edges]
    nodes = [(ln, {COLUMN_ALIASES.get(_norm(k), _norm(k)) if k != "id" else "id": v
                   for k, v in a.items()}) for ln, a in nodes]
    return _Raw(nodes, out_edges, True, path)


# -- checking -----------------------------------------------------------------------------------

def _records(raw: _Raw, path: Path, departments: tuple[str, ...],
             channels: tuple[str, ...]) -> OrgRecords:
    f = raw.node_file
    allowed_dept = ", ".join(departments)
    index: dict[str, int] = {}
    rec = OrgRecords([], [], [], [], [], [], has_edges=raw.has_edges)
    managers: list[str] = []
    for line, a in raw.nodes:
        k = a.get("id", "").strip()
        if not k:
            raise OrgFileError(f, "the id is empty", "give every colleague a unique id", line)
        if k in index:
            raise OrgFileError(f, f"id {k!r} is already on line {rec.lines[index[k]]}",
                               "give each colleague one row with a unique id", line)
        r = ROLE_ALIASES.get(_norm(a.get("role", "")))
        if r is None:
            raise OrgFileError(f, f"{k!r} has role {a.get('role', '')!r}",
                               f"use one of {ROLES_TEXT}", line)
        d_raw = a.get("department", "").strip()
        if not d_raw:
            raise OrgFileError(f, f"{k!r} has no department",
                               f"give a channel or process step: {allowed_dept}", line)
        d = _norm(d_raw)
        if d not in departments:
            raise OrgFileError(f, f"{k!r} has department {d_raw!r}",
                               f"use one of {allowed_dept} (a channel for the front line, "
                               "a process step of [process] steps for the back office)", line)
        if r == "frontline" and d not in channels:
            raise OrgFileError(f, f"{k!r} is frontline in {d_raw!r}, which is not a channel",
                               f"put the front line in {' or '.join(channels)}, or make "
                               f"{k!r} backoffice", line)
        index[k] = rec.n
        rec.ids.append(k)
        rec.role.append(r)
        rec.department.append(d)
        rec.team.append(a.get("team", "").strip() or d_raw)
        rec.lines.append(line)
        managers.append(a.get("manager", "").strip())
    for i, m in enumerate(managers):
        if m and m not in index:
            raise OrgFileError(f, f"manager {m!r} of {rec.ids[i]!r} is not an id in the file",
                               "use the id of the line manager, or leave manager empty at the "
                               "top of the hierarchy", rec.lines[i])
        rec.manager.append(index[m] if m else -1)
    for line, s, t, kind in raw.edges:
        for end_id in (s, t):
            if end_id not in index:
                raise OrgFileError(path, f"edge ({s!r}, {t!r}) names {end_id!r}, which is not "
                                   "a colleague", f"add {end_id!r} to the colleagues or remove "
                                   "the edge", line)
        if kind == "reports_to":
            rec.manager[index[s]] = index[t]
        else:
            rec.peer_edges.append((index[s], index[t]))
    _check_cycles(rec, f)
    for ch in ("store", "contact_centre"):
        if ch in channels and not any(r == "frontline" and d == ch
                                      for r, d in zip(rec.role, rec.department, strict=True)):
            raise OrgFileError(f, f"no frontline colleague in {ch!r}",
                               f"the model needs {ch} staff to serve customers: add at least "
                               f"one frontline row with department {ch}")
    return rec


def _check_cycles(rec: OrgRecords, path: Path) -> None:
    """Every chain of line managers must end at the top: a loop is refused, naming it."""
    state = [0] * rec.n  # 0 unseen, 1 on the current chain, 2 known to reach the top
    for start in range(rec.n):
        chain = []
        i = start
        while i >= 0 and state[i] == 0:
            state[i] = 1
            chain.append(i)
            i = rec.manager[i]
        if i >= 0 and state[i] == 1:  # back on the current chain: a loop
            loop = chain[chain.index(i):]
            first = min(loop, key=lambda j: rec.lines[j])
            shown = " -> ".join(rec.ids[j] for j in loop + [i])
            raise OrgFileError(path, f"reporting lines form a loop: {shown}",
                               "one colleague in the loop reports to someone outside it, or "
                               "has an empty manager (the top)", rec.lines[first])
        for j in chain:
            state[j] = 2


def read(path: str | os.PathLike, departments: tuple[str, ...],
         channels: tuple[str, ...]) -> OrgRecords:
    """The checked colleagues of an org file; `OrgFileError` (one line) when it cannot be used.

    Parameters
    ----------
    path : str or PathLike
        The org file (absolute once the scenario is loaded).
    departments : tuple of str
        The departments the scenario knows: its channels, then its process steps.
    channels : tuple of str
        The departments the front line may be in.
    """
    p = Path(path)
    if not p.is_file():
        raise OrgFileError(p, "file not found",
                           "give the path of a .csv or .graphml file, relative to the "
                           "scenario file (or absolute)")
    suffix = p.suffix.lower()
    if suffix == ".csv":
        raw = _read_csv(p)
    elif suffix == ".graphml":
        raw = _read_graphml(p)
    elif suffix in (".xlsx", ".xlsm", ".xls", ".ods"):
        raise OrgFileError(p, "an Excel workbook, not a CSV file",
                           "in Excel, Save As 'CSV UTF-8 (Comma delimited)' and name the .csv")
    else:
        raise OrgFileError(p, f"unknown file type {p.suffix!r}",
                           "save the org chart as .csv (UTF-8) or .graphml")
    return _records(raw, p, departments, channels)


def files(path: str | os.PathLike) -> list[Path]:
    """The files an org file is made of: itself, and `<stem>_nodes.csv` for an edge list."""
    p = Path(path)
    out = [p]
    nodes = p.with_name(p.stem + "_nodes.csv")
    if p.suffix.lower() == ".csv" and nodes.is_file():
        out.append(nodes)
    return out


def check(path: str, departments: tuple[str, ...], channels: tuple[str, ...]) -> int:
    """Colleagues in a usable org file (read once per version of the file); `OrgFileError`."""
    stamp = []
    for p in files(path):
        try:
            st = p.stat()
            stamp.append((st.st_mtime_ns, st.st_size))
        except OSError:
            stamp.append(None)
    return _check_cached(str(path), tuple(stamp), departments, channels)


@functools.lru_cache(maxsize=64)
def _check_cached(path: str, stamp: tuple, departments: tuple[str, ...],
                  channels: tuple[str, ...]) -> int:
    return read(path, departments, channels).n
