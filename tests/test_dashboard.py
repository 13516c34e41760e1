"""The live dashboard in a real browser: `cxsim serve` as a subprocess, driven by Playwright in
the Debian Chromium (no browser download). Clicks step, moves a lever, fires an event, and checks
that the step counter, the headline numbers and the plotted curves change; no request may leave
the machine. Saves test-artifacts/dashboard.png."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

CHROMIUM = os.environ.get("CXSIM_CHROMIUM", "/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"

playwright_sync = pytest.importorskip("playwright.sync_api")
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                 reason=f"no Chromium at {CHROMIUM} (.ci/run installs it)")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    port = free_port()
    cli = shutil.which("cxsim", path=str(Path(sys.executable).parent)) or "cxsim"
    ARTIFACTS.mkdir(exist_ok=True)
    log = (ARTIFACTS / "serve.log").open("w")
    proc = subprocess.Popen([cli, "serve", "baseline", "--port", str(port), "--customers",
                             "1000"], stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.time() + 120
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"cxsim serve exited with {proc.returncode}; see serve.log")
            try:
                urllib.request.urlopen(url, timeout=2).read()
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.5)
        yield url
    finally:
        stop(proc)
        log.close()


def stop(proc: subprocess.Popen) -> None:
    """End the server and everything it started (its own process group)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
            proc.wait(10)
            return
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue


def text(page, selector: str) -> str:
    return page.locator(selector).first.inner_text().strip()


def curves_png(page) -> str:
    return page.locator(".cx-curves img").first.get_attribute("src") or ""


def wait_change(page, fn, before, timeout: float = 30.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        now = fn()
        if now != before:
            return now
        page.wait_for_timeout(200)
    raise AssertionError(f"still {before!r} after {timeout} s")


def wait_until(page, fn, ok, timeout: float = 30.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        now = fn()
        if ok(now):
            return now
        page.wait_for_timeout(200)
    raise AssertionError(f"condition not met; last value {now!r}")


def test_dashboard_step_lever_event(server):
    external: list[str] = []
    with playwright_sync.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-dev-shm-usage"])
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1300})

            def on_request(req) -> None:
                host = urlparse(req.url).hostname
                if req.url.startswith(("http", "ws")) and host not in ("127.0.0.1", "localhost"):
                    external.append(req.url)

            page.on("request", on_request)
            page.goto(server, wait_until="domcontentloaded")
            page.wait_for_selector(".cx-step", timeout=120_000)
            page.wait_for_selector(".cx-curves img", timeout=60_000)
            assert text(page, ".cx-step") == "Week 0"
            nps0 = text(page, ".cx-kpi-nps")
            png0 = curves_png(page)

            # step
            page.get_by_role("button", name="Step").click()
            assert wait_change(page, lambda: text(page, ".cx-step"), "Week 0") == "Week 1"
            png1 = wait_change(page, lambda: curves_png(page), png0)
            nps1 = text(page, ".cx-kpi-nps")
            profit1 = text(page, ".cx-kpi-profit")

            # move a lever: the empowerment slider, with the keyboard
            slider = page.locator(".cx-lever-empowerment [role=slider]").first
            before = slider.get_attribute("aria-valuenow")
            levers0 = text(page, ".cx-levers-now")
            slider.focus()
            for _ in range(6):
                page.keyboard.press("ArrowRight")
            after = wait_change(page, lambda: slider.get_attribute("aria-valuenow"), before)
            assert float(after) > float(before)
            # the running model got it (the line is rendered from the model's levers)
            page.wait_for_timeout(500)
            after = slider.get_attribute("aria-valuenow")
            want = f"empowerment {float(after):.2f}"
            levers1 = wait_until(page, lambda: text(page, ".cx-levers-now"),
                                 lambda s: want in s)
            assert levers1 != levers0

            # fire an event, then step: the log names it and the numbers move
            page.locator(".cx-event-failure").first.click()
            wait_change(page, lambda: text(page, ".cx-events-log"), "Events: none yet")
            assert "service failure" in text(page, ".cx-events-log")
            for k in (2, 3):
                page.get_by_role("button", name="Step").click()
                wait_change(page, lambda: text(page, ".cx-step"), f"Week {k - 1}")
            assert text(page, ".cx-step") == "Week 3"
            wait_change(page, lambda: curves_png(page), png1)
            assert (text(page, ".cx-kpi-nps"), text(page, ".cx-kpi-profit")) != (nps1, profit1)
            assert nps0 != "-" and nps1 != "-"
            page.wait_for_timeout(500)
            page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
        finally:
            browser.close()
    assert not external, f"requests left the machine: {external[:5]}"
