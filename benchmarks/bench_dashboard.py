"""The workshop dashboard as a facilitator feels it: the real page, driven by Playwright.

    python benchmarks/bench_dashboard.py [--customers 2000 100000] [--reps 10] [--play 10]

For each size, starts `cxsim serve baseline --customers N` and opens the page in the Debian
Chromium (/usr/bin/chromium, or CXSIM_CHROMIUM), then measures:

- first page: launch of `cxsim serve` -> page showing week 0 with its curves drawn, and the
  navigation alone (page opened as soon as the server answers HTTP, while the start-up model
  may still be building), and navigation -> the page itself (counter, "building" note);
- step: click Step -> the counter shows the next week, and -> the NPS curve has been redrawn
  (timed inside the page, from the click to the changed DOM, checked every animation frame;
  also timed from Python through Playwright, which adds its own round trips: `*_playwright`);
- play: weeks per second over `--play` seconds at the default speed (5 weeks/s), and the
  longest gap between two counter changes (a stall);
- lever: one key press on a slider -> the value shown beside it (the model's value, published
  after the session applied it), timed in the page and through Playwright likewise.

Each latency includes the round trip over the websocket, the server's render and the
browser's drawing. Saves benchmarks/results/dashboard.json. Targets (issue 15): step <= 200 ms,
5 weeks/s, lever <= 200 ms, first page <= 10 s at 100,000 customers.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine, save  # noqa: E402

CHROMIUM = os.environ.get("CXSIM_CHROMIUM", "/usr/bin/chromium")
# timed inside the page (performance.now, checked every animation frame): from the click on
# Step to the counter changed and to the NPS curve redrawn; no Playwright round trip inside
STEP_IN_PAGE = """() => new Promise(res => {
  const el = document.querySelector('.cx-step');
  const svg = document.querySelector('.cx-curve-nps svg.marks');
  const map = document.querySelector('.cx-map');
  const w0 = el.textContent, s0 = svg.innerHTML, m0 = map.dataset.week;
  let tc = null, ts = null, tm = null;
  const t0 = performance.now();
  document.querySelector('.cx-step-button').click();
  const poll = () => {
    const now = performance.now();
    if (tc === null && el.textContent !== w0) tc = now - t0;
    if (ts === null && svg.innerHTML !== s0) ts = now - t0;
    if (tm === null && map.dataset.week !== m0) tm = now - t0;
    if ((tc !== null && ts !== null && tm !== null) || now - t0 > 30000) res([tc, ts, tm]);
    else requestAnimationFrame(poll);
  };
  requestAnimationFrame(poll);
})"""
# a lever nudged through the slider's own keyboard handler, timed to the value shown beside
# it (published once the session has applied it to the model)
LEVER_IN_PAGE = """(code) => new Promise(res => {
  const t = document.querySelector('.cx-lever-empowerment [role=slider]');
  const v = document.querySelector('.cx-lever-empowerment .cx-lever-value');
  const v0 = v.textContent;
  const key = (type) => { const ev = new KeyboardEvent(type, {bubbles: true});
    Object.defineProperty(ev, 'keyCode', {get: () => code}); t.dispatchEvent(ev); };
  const t0 = performance.now();
  key('keydown'); key('keyup');
  const poll = () => {
    const now = performance.now();
    if (v.textContent !== v0 || now - t0 > 30000) res(now - t0);
    else requestAnimationFrame(poll);
  };
  requestAnimationFrame(poll);
})"""
# week 0 on screen: the counter, the NPS curve and the network map drawn
READY = """() => { const w = document.querySelector('.cx-step');
  const m = document.querySelector('.cx-map');
  return w && document.querySelector('.cx-curve-nps svg.marks') && m
    && m.dataset.week === '0' && Number(m.dataset.draws) > 0; }"""
STEP_DONE = """([want, before]) => {
  const w = document.querySelector('.cx-step');
  const svg = document.querySelector('.cx-curve-nps svg.marks');
  return w && w.textContent.trim() === want && svg && svg.innerHTML !== before;
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(customers: int, cache_dir: str, profile: str | None = None
          ) -> tuple[subprocess.Popen, str, float]:
    port = free_port()
    cli = shutil.which("cxsim", path=str(Path(sys.executable).parent)) or "cxsim"
    t0 = time.perf_counter()
    log = open(os.path.join(cache_dir, f"serve-{customers}-{port}.log"), "w")  # noqa: SIM115
    proc = subprocess.Popen([cli, "serve", "baseline", "--customers", str(customers),
                             "--port", str(port)], stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True,
                            env={**os.environ, "CXSIM_CACHE_DIR": cache_dir,
                                 **({"CXSIM_PROFILE": profile} if profile else {})})
    url = f"http://127.0.0.1:{port}/"
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return proc, url, t0
        except OSError:
            if proc.poll() is not None or time.perf_counter() - t0 > 300:
                raise RuntimeError("cxsim serve did not start") from None
            time.sleep(0.1)


def stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def summary(xs: list[float]) -> dict[str, float]:
    return {"median_ms": round(1000 * statistics.median(xs), 1),
            "max_ms": round(1000 * max(xs), 1), "n": len(xs)}


def first_page(browser, customers: int, cache_dir: str) -> dict:
    """Launch -> week 0 with curves and the network map, nothing else (a cold or warm cache)."""
    proc, url, t_launch = start(customers, cache_dir)
    out = {"server_http_s": round(time.perf_counter() - t_launch, 2)}
    try:
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        t_nav = time.perf_counter()
        page.goto(url, wait_until="domcontentloaded")
        page.wait_for_selector(".cx-step", timeout=300_000)
        out["page_shown_navigation_s"] = round(time.perf_counter() - t_nav, 2)
        page.wait_for_function(READY, timeout=300_000, polling="raf")
        out["first_page_navigation_s"] = round(time.perf_counter() - t_nav, 2)
        out["first_page_from_launch_s"] = round(time.perf_counter() - t_launch, 2)
        page.close()
    finally:
        stop(proc)
    return out


def measure(browser, customers: int, reps: int, play_s: float, cache_dir: str) -> dict:
    out: dict = {"customers": customers, "loadavg_start": [round(x, 2) for x in os.getloadavg()]}
    out["first_page_cold_cache"] = first_page(browser, customers, cache_dir)
    prof = os.path.join(cache_dir, f"profile-{customers}.txt")
    proc, url, t_launch = start(customers, cache_dir, prof)
    out["server_http_s"] = round(time.perf_counter() - t_launch, 2)
    try:
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        t_nav = time.perf_counter()
        page.goto(url, wait_until="domcontentloaded")
        page.wait_for_selector(".cx-step", timeout=300_000)  # the page, maybe still building
        out["page_shown_navigation_s"] = round(time.perf_counter() - t_nav, 2)
        page.wait_for_function(READY, timeout=300_000, polling="raf")
        t_ready = time.perf_counter()
        out["first_page_from_launch_s"] = round(t_ready - t_launch, 2)
        out["first_page_navigation_s"] = round(t_ready - t_nav, 2)

        steps = []
        for k in range(1, reps + 1):
            before = page.locator(".cx-curve-nps svg.marks").first.inner_html()
            t0 = time.perf_counter()
            page.locator(".cx-step-button").click()
            page.wait_for_function(STEP_DONE, arg=[f"Week {k}", before], polling="raf",
                                   timeout=60_000)
            steps.append(time.perf_counter() - t0)
        out["step_playwright"] = summary(steps)
        counter, curve, net = [], [], []
        for _ in range(reps):
            tc, ts, tm = page.evaluate(STEP_IN_PAGE)
            counter.append(tc / 1000)
            curve.append(ts / 1000)
            net.append(tm / 1000)
            page.wait_for_timeout(200)
        out["step"] = summary(curve)
        out["step_counter"] = summary(counter)
        out["step_map"] = summary(net)

        slider = page.locator(".cx-lever-empowerment [role=slider]").first
        value = page.locator(".cx-lever-empowerment .cx-lever-value").first
        levers = []
        for k in range(reps):
            before = value.inner_text()
            slider.focus()
            t0 = time.perf_counter()
            page.keyboard.press("ArrowRight" if k % 2 == 0 else "ArrowLeft")
            page.wait_for_function(
                "([b]) => document.querySelector('.cx-lever-empowerment .cx-lever-value')"
                ".textContent.trim() !== b", arg=[before], polling="raf", timeout=60_000)
            levers.append(time.perf_counter() - t0)
        out["lever_playwright"] = summary(levers)
        out["lever"] = summary([page.evaluate(LEVER_IN_PAGE, 39 if k % 2 else 37) / 1000
                                for k in range(reps)])

        # play: record in the page every change of the counter, with its time
        page.evaluate("""() => { window.__weeks = []; const el = document.querySelector('.cx-step');
            new MutationObserver(() => window.__weeks.push([performance.now(),
              el.textContent.trim()])).observe(el, {childList: true, subtree: true,
              characterData: true});
            window.__mapWeeks = []; const m = document.querySelector('.cx-map');
            new MutationObserver(() => window.__mapWeeks.push(performance.now())).observe(m,
              {attributes: true, attributeFilter: ['data-week']}); }""")
        w0 = int(page.locator(".cx-step").first.inner_text().split()[-1])
        page.evaluate("""() => { window.__long = [0, 0]; new PerformanceObserver(l => {
            for (const e of l.getEntries()) { window.__long[0]++; window.__long[1] += e.duration; }
          }).observe({type: 'longtask'}); window.__cxMapDraw = [0, 0, 0]; }""")
        open(prof, "a").write("play-start 0\n")
        page.locator(".cx-play").click()
        t0 = time.perf_counter()
        page.wait_for_timeout(play_s * 1000)
        w1 = int(page.locator(".cx-step").first.inner_text().split()[-1])
        t1 = time.perf_counter()
        page.locator(".cx-pause").click()
        marks = page.evaluate("() => window.__weeks")
        gaps = [b[0] - a[0] for a, b in zip(marks, marks[1:], strict=False)]
        long_n, long_ms = page.evaluate("() => window.__long")
        draw_n, draw_ms, draw_max = page.evaluate("() => window.__cxMapDraw")
        out["browser_during_play"] = {
            "long_tasks": long_n, "long_task_ms_per_s": round(long_ms / (t1 - t0), 1),
            "map_draws": draw_n, "map_draw_ms_mean": round(draw_ms / max(draw_n, 1), 2),
            "map_draw_ms_max": round(draw_max, 1)}
        maps = page.evaluate("() => window.__mapWeeks")
        map_gaps = [b - a for a, b in zip(maps, maps[1:], strict=False)]
        out["play"] = {"weeks_per_s": round((w1 - w0) / (t1 - t0), 2), "weeks": w1 - w0,
                       "seconds": round(t1 - t0, 1),
                       "longest_gap_ms": round(max(gaps), 0) if gaps else None,
                       "gaps_over_400ms": sum(g > 400 for g in gaps),
                       "map_weeks_shown": len(maps),
                       "map_longest_gap_ms": round(max(map_gaps), 0) if map_gaps else None}
        page.close()
    finally:
        stop(proc)
    out["server_during_play"] = server_profile(prof)
    return out


def server_profile(path: str) -> dict:
    """Median / 95th percentile / total per kind of server work while playing (see
    cxsim/viz/profile.py), from the play-start mark on."""
    try:
        lines = Path(path).read_text().splitlines()
    except OSError:
        return {}
    start = max((i for i, ln in enumerate(lines) if ln.startswith("play-start")), default=-1)
    by: dict[str, list[float]] = {}
    for ln in lines[start + 1:]:
        kind, _, sec = ln.partition(" ")
        by.setdefault(kind, []).append(float(sec))
    out = {}
    for kind, xs in sorted(by.items()):
        xs.sort()
        out[kind] = {"n": len(xs), "median_ms": round(1000 * statistics.median(xs), 2),
                     "p95_ms": round(1000 * xs[int(0.95 * (len(xs) - 1))], 2),
                     "total_s": round(sum(xs), 2)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--customers", type=int, nargs="+", default=[2000, 100_000])
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--play", type=float, default=10.0)
    args = ap.parse_args()
    import tempfile

    from playwright.sync_api import sync_playwright

    results = []
    cache_dir = tempfile.mkdtemp(prefix="cxsim-bench-cache-")  # cold at first, then warm
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        try:
            for n in args.customers:
                r = measure(browser, n, args.reps, args.play, cache_dir)
                results.append(r)
                cold = r["first_page_cold_cache"]
                print(f"{n:>7,} customers: cold cache: first page "
                      f"{cold['first_page_from_launch_s']}"
                      f" s from launch ({cold['first_page_navigation_s']} s navigation); "
                      f"map after step {r['step_map']['median_ms']} ms; play gaps > 400 ms: "
                      f"{r['play']['gaps_over_400ms']}, map weeks {r['play']['map_weeks_shown']}")
                print(f"{n:>7,} customers: page shown {r['page_shown_navigation_s']} s, first "
                      f"page {r['first_page_from_launch_s']} s from launch "
                      f"({r['first_page_navigation_s']} s navigation); step median "
                      f"{r['step']['median_ms']} ms (max {r['step']['max_ms']}; counter "
                      f"{r['step_counter']['median_ms']}; via Playwright "
                      f"{r['step_playwright']['median_ms']}); lever median "
                      f"{r['lever']['median_ms']} ms (max {r['lever']['max_ms']}; via "
                      f"Playwright {r['lever_playwright']['median_ms']}); play "
                      f"{r['play']['weeks_per_s']} weeks/s, longest gap "
                      f"{r['play']['longest_gap_ms']} ms", flush=True)
        finally:
            browser.close()
            for log in sorted(Path(cache_dir).glob("serve-*.log")):  # for a failed run
                shutil.copy(log, Path(tempfile.gettempdir()) / f"cxsim-bench-{log.name}")
            shutil.rmtree(cache_dir, ignore_errors=True)
    path = save("dashboard", {"machine": machine(), "results": results,
                              "targets": {"step_ms": 200, "play_weeks_per_s": 5,
                                          "lever_ms": 200, "first_page_s_at_100k": 10}})
    print(f"saved {path}")


if __name__ == "__main__":
    main()
