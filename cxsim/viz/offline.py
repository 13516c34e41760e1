"""Keep the dashboard on the machine: solara's front-end assets come from a local folder.

Why: solara serves JavaScript through a caching proxy of a public CDN. solara-assets fills the
cache with exact versions (vega@5.21.0), but the Vega-Lite widget asks for major versions
(vega@5), which the proxy would fetch from the internet. `prepare_cdn` makes a folder of links
to the shipped assets plus major-version aliases, and `offline_env` points solara at it, with
the CDN itself set to an unreachable loopback address so a missing file fails locally.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

UNREACHABLE_CDN = "http://127.0.0.1:9/npm/"  # the discard port: a miss fails, never leaves


def shipped_cdn() -> Path:
    """The folder solara-assets installs (sys.prefix/share/solara/cdn)."""
    return Path(sys.prefix) / "share" / "solara" / "cdn"


def prepare_cdn(dest: Path, source: Path | None = None) -> Path:
    """Links to every shipped package in `dest`, plus name@MAJOR aliases of the newest."""
    source = source or shipped_cdn()
    dest.mkdir(parents=True, exist_ok=True)
    entries = [p for p in source.iterdir()] if source.is_dir() else []
    scoped = [q for p in entries if p.name.startswith("@") and p.is_dir() for q in p.iterdir()]
    for p in entries + scoped:
        rel = p.relative_to(source)
        link = dest / rel
        link.parent.mkdir(parents=True, exist_ok=True)
        if p.name.startswith("@") and p.is_dir():
            continue
        if not link.exists():
            link.symlink_to(p, target_is_directory=p.is_dir())
        m = re.fullmatch(r"(.+)@(\d+)\.[\w.\-]+", p.name)
        if m:
            alias = link.parent / f"{m.group(1)}@{m.group(2)}"
            if not alias.exists():
                alias.symlink_to(p, target_is_directory=p.is_dir())
    return dest


def offline_env(cdn_dir: Path) -> dict[str, str]:
    """Environment for `solara run`: local assets, no telemetry, no banner."""
    return {
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false",
        "SOLARA_ASSETS_PROXY": "true",
        "SOLARA_ASSETS_PROXY_CACHE_DIR": str(cdn_dir),
        "SOLARA_ASSETS_CDN": UNREACHABLE_CDN,
        "SOLARA_THEME_SHOW_BANNER": "false",
    }
