"""Atomic output writing: files are written aside, then renamed into place.

A reader never sees a half-written file, and a run that fails part-way leaves what was already
in the output folder as it was.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success rename it onto `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_json(path: str | os.PathLike, data: Any) -> None:
    write_text(path, json.dumps(data, indent=2, default=str) + "\n")


def write_with(path: str | os.PathLike, writer: Callable[[Path], None]) -> None:
    """Call writer(tmp_path) and move the result onto `path` atomically."""
    with atomic_path(path) as tmp:
        writer(tmp)


# -- whole output folders -----------------------------------------------------------------------

#: A folder holding one of these was written by cxsim and may be replaced by a new run.
MARKERS = ("manifest.json", "comparison.csv", "sweep.json", "explain.csv")


class OutputError(ValueError):
    """An output place that cannot be used (the CLI prints it and exits with code 2)."""


class SavedElsewhere(OSError):
    """Writing to --out failed at the end; the results were saved to `fallback` instead."""

    def __init__(self, out: Path, fallback: Path, cause: BaseException):
        self.out, self.fallback, self.cause = out, fallback, cause
        reason = getattr(cause, "strerror", None) or str(cause)
        super().__init__(f"could not write {out}: {reason}; the results were saved to "
                         f"{fallback} instead")


def _first_existing(path: Path) -> Path:
    p = path.absolute()
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def check_out_dir(out: str | os.PathLike, option: str = "--out",
                  replace: bool = True) -> Path:
    """Refuse, before any work, an output folder that cannot be created, written or replaced.

    `replace`: the command swaps in a whole new folder, so an existing folder must be empty or
    written by cxsim (never a folder of the user's own files, such as `.` or a home folder).
    """
    out = Path(out)
    label = f"{option} = {str(out)!r}"
    if out.exists() and not out.is_dir():
        raise OutputError(f"{label} is a file; allowed: a folder (new, empty or written by cxsim)")
    base = _first_existing(out)
    if not base.is_dir():
        raise OutputError(f"{label}: {str(base)!r} is a file, so no folder can be made inside "
                          "it; allowed: a folder (new, empty or written by cxsim)")
    if not os.access(base, os.W_OK | os.X_OK):
        raise OutputError(f"{label}: {str(base)!r} is not writable; allowed: a folder you can "
                          "write to")
    if out.is_dir():
        parent = out.absolute().parent
        if replace and not os.access(parent, os.W_OK | os.X_OK):
            raise OutputError(f"{label}: its parent {str(parent)!r} is not writable, so the "
                              "folder cannot be replaced; allowed: a folder in a writable place")
        entries = [p.name for p in out.iterdir()]
        if replace and "sweep.json" in entries:  # hours of runs: never replaced by a run
            raise OutputError(f"{label} holds a sweep (sweep.json), which is not replaced; "
                              "allowed: another folder")
        if replace and entries and not any(m in entries for m in MARKERS):
            shown = ", ".join(sorted(entries)[:3]) + (", ..." if len(entries) > 3 else "")
            raise OutputError(f"{label} holds files cxsim did not write ({shown}); allowed: a "
                              "new or empty folder, or one written by cxsim (it is replaced)")
    return out


def write_folder(out: str | os.PathLike, writer: Callable[[Path], Any]) -> Any:
    """Call writer(folder) on a fresh folder beside `out`, then swap it in for `out` whole.

    The old folder is replaced only once every file is written, so a folder never mixes two
    runs. If writing there fails, the results are written to a new temporary folder and
    SavedElsewhere says where: a finished run is never lost.
    """
    out = Path(out)
    stage: Path | None = None
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
        result = writer(stage)
        _swap(stage, out)
        return result
    except OSError as exc:
        if stage is not None and stage.exists():
            _remove_tree(stage)
        try:
            fallback = Path(tempfile.mkdtemp(prefix=f"cxsim-{out.name}-"))
            writer(fallback)
        except OSError as again:
            raise OSError(f"could not write {out} ({getattr(exc, 'strerror', None) or exc}) "
                          f"nor a temporary folder ({getattr(again, 'strerror', None) or again})"
                          ) from exc
        raise SavedElsewhere(out, fallback, exc) from exc


def _swap(stage: Path, out: Path) -> None:
    """Put `stage` where `out` is: the old folder is moved aside, then removed."""
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
        os.rmdir(old)
        os.replace(out, old)
    try:
        os.replace(stage, out)
    except OSError:
        if old is not None:
            os.replace(old, out)
        raise
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(out, 0o777 & ~umask)
    if old is not None:
        _remove_tree(old)


def _remove_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)
