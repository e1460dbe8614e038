"""Alarm wall benchmark: the 告警大屏 in Chromium with thousands of open incidents.

    .venv/bin/python bench/wall.py                       # 5,000 open alarms, SQLite, scale 3 city
    .venv/bin/python bench/wall.py --alarms 2000 --burst 100

Builds the demo city and, through a real `linewatch serve`, posts ``--alarms`` alarms on ports
that carry one circuit each (one per NE and circuit per round, rounds six minutes apart in event
time), plus some unmatched alarms — correlation makes some 1,400 open incidents of 5,000 alarms
at scale 3; then opens /wall in Debian's Chromium (Playwright) and measures:

- initial render: navigation start → the wall drawn with every open incident counted;
- update apply: stream event received → the wall redrawn with the change, per applied update,
  while a burst of ``--burst`` new alarms (in batches of 5) and acknowledgements arrives;
- frame times: requestAnimationFrame deltas and long tasks (>50 ms) during the burst;
- what the wall re-read during the burst (everything, or the incidents the stream named), and
  whether it then counts what the API says is open.

``--pace`` spreads the burst (seconds between batches): at 0 the 40 batches arrive within a
second and coalesce into a few updates; at 0.1 the wall applies dozens of updates one by one.
"""

from __future__ import annotations

import argparse
import csv
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from common import build_network, figure, fresh_database, percentiles, request, server, workdir

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "bench-password-1"
TYPES = ["LOS", "LINK_DOWN", "ETH_LOS", "MS_AIS", "R_LOF", "E1_LOS", "PING_LOSS", "HIGH_BER"]
FRAME_PROBE = """() => {
  window.__frames = []; window.__long = [];
  let last = performance.now();
  const tick = (t) => {
    window.__frames.push(t - last); last = t;
    if (!window.__stopFrames) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__long.push(e.duration); })
    .observe({ type: "longtask", buffered: false });
}"""

# request → response end of the page's incident reads (the server's share of an update)
RESOURCES = """() => performance.getEntriesByType("resource")
  .filter((e) => e.name.includes("/api/v1/incidents")).map((e) => e.responseEnd - e.startTime)"""


def fmt(values: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.1f} ms" for k, v in values.items())


def post(port: int, alarms: list[dict[str, Any]]) -> list[int]:
    for _ in range(20):
        status, body = request(port, "POST", "/api/v1/alarms", alarms)
        if status != 503 and "retry" not in str(body):
            break
        # SQLite busy while the clock move's timers write: the API says retry (see performance.md)
        time.sleep(0.5)
    assert status == 202, body
    return list(body["ids"])


def open_incidents(port: int) -> int:
    count, cursor = 0, ""
    while True:
        status, body = request(port, "GET", f"/api/v1/incidents?limit=1000{cursor}")
        assert status == 200, body
        count += len(body["items"])
        if not body["next_cursor"]:
            return count
        cursor = f"&cursor={body['next_cursor']}"


def main() -> None:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--scale", type=float, default=3)
    parser.add_argument("--alarms", type=int, default=5000, help="open alarms to seed")
    parser.add_argument("--unmatched", type=int, default=200)
    parser.add_argument("--burst", type=int, default=200)
    parser.add_argument("--pace", type=float, default=0.0, help="seconds between the burst's batches")
    parser.add_argument(
        "--cpu-throttle", type=float, default=1, help="Chromium CPU slowdown (4 = a wall PC 4× slower)"
    )
    parser.add_argument("--db", default=None)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    work = workdir()
    url = fresh_database(args.db, work)
    started = time.perf_counter()
    folder = build_network(args.scale, url, work)
    print(f"network scale {args.scale:g} built in {time.perf_counter() - started:.1f} s")
    alarm = lambda ne, p, t: {"source": "bench", "ne": ne, "object": p, "type": t, "severity": "critical"}  # noqa: E731
    # ports that carry exactly one circuit: an alarm there hurts that circuit alone
    circuits_of: dict[tuple[str, str], set[str]] = {}
    with (folder / "routes.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["port"]:
                circuits_of.setdefault((row["ne"], row["port"]), set()).add(row["circuit"])
    by_ne: dict[str, list[tuple[str, str, str]]] = {}
    for (ne, port_name), circuits in sorted(circuits_of.items()):
        if len(circuits) == 1:
            by_ne.setdefault(ne, []).extend((ne, port_name, t, *circuits) for t in TYPES[:1])
    with server(url, work) as (port, _process):
        t0 = time.perf_counter()
        # one alarm per NE per round, each round's event time a correlation window after the last
        # (ending now): each alarm opens an incident of its own instead of joining its NE's open one
        rounds = 40
        start = datetime.now(UTC) - timedelta(minutes=6 * rounds)
        posted, done = 0, 0
        while done < rounds and posted < args.alarms and any(by_ne.values()):
            batch, used = [], set()  # one alarm per NE and per circuit in a round
            for keys_left in by_ne.values():
                for key in keys_left:
                    if key[3] not in used:
                        keys_left.remove(key)
                        used.add(key[3])
                        batch.append(key)
                        break
            when = (start + timedelta(minutes=6 * done)).isoformat()
            for i in range(0, len(batch), 500):
                post(port, [{**alarm(*k[:3]), "event_time": when} for k in batch[i : i + 500]])
            posted, done = posted + len(batch), done + 1
        post(port, [alarm(f"UNKNOWN-{i}", "x", "LOS") for i in range(args.unmatched)])
        # the burst: a second alarm type on the seeded ports, so updates to incidents already open
        single = [key for key, circuits in sorted(circuits_of.items()) if len(circuits) == 1]
        burst = [(ne, port_name, TYPES[1]) for ne, port_name in single]
        burst = burst[:: max(1, len(burst) // args.burst)][: args.burst]
        print(
            f"seeded {posted:,} alarms in {done} rounds ({open_incidents(port):,} open incidents) "
            f"+ {args.unmatched} unmatched in {time.perf_counter() - t0:.1f} s"
        )
        user = {"username": "wall", "role": "admin", "password": PASSWORD}
        status, _ = request(port, "POST", "/api/v1/admin/users", user)
        assert status == 201
        base = f"http://127.0.0.1:{port}"
        with sync_playwright() as pw:
            args_ = ["--no-sandbox", "--disable-gpu"]
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=args_)
            page = browser.new_context(viewport={"width": 1920, "height": 1080}, base_url=base).new_page()
            page.set_default_timeout(120_000)
            if args.cpu_throttle > 1:  # DevTools' CPU throttling: the page's work runs N times slower
                cdp = page.context.new_cdp_session(page)
                cdp.send("Emulation.setCPUThrottlingRate", {"rate": args.cpu_throttle})
            page.goto("/login")
            page.fill("input[name=username]", "wall")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url("**/")
            page.goto("/wall")
            page.wait_for_selector("body[data-ready='1']")
            page.wait_for_selector("body[data-live='1']")
            ready = page.evaluate("performance.getEntriesByName('lw-ready')[0].startTime")
            open_count = page.evaluate("window.LW_WALL.incidents.length")
            rows = page.locator("#incident-rows tr").count()
            print(f"open incidents on the wall: {open_count:,} ({rows} rows drawn)")
            print(f"initial render (navigation → wall drawn): {ready:.0f} ms")
            reads = page.evaluate(RESOURCES)
            print(
                f"  of which incident reads: {len(reads)} requests, {sum(reads):.0f} ms in all "
                f"(longest {max(reads, default=0):.0f} ms)"
            )
            page.evaluate("performance.clearResourceTimings()")

            page.evaluate(FRAME_PROBE)
            page.wait_for_timeout(1000)  # idle frames: the baseline
            idle = page.evaluate("window.__frames.splice(0)")
            page.evaluate("const s = window.LW_WALL.stats; s.applies = []; s.reread = []; window.__long = []")
            t0 = time.perf_counter()
            acked = 0
            for i in range(0, len(burst), 5):
                if i and args.pace:
                    time.sleep(args.pace)
                ids = post(port, [alarm(*k) for k in burst[i : i + 5]])
                if i % 20 == 0 and ids:
                    status, _ = request(port, "POST", f"/api/v1/alarms/{ids[0]}/ack", {})
                    acked += status == 200
            sent = time.perf_counter() - t0
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:  # until the wall has applied what the stream sent
                page.wait_for_timeout(500)
                if page.evaluate("window.LW_WALL.stats.pending === null"):
                    break
            page.wait_for_timeout(1000)
            page.evaluate("window.__stopFrames = true")
            frames = page.evaluate("window.__frames")
            long_tasks = page.evaluate("window.__long")
            applies = page.evaluate("window.LW_WALL.stats.applies")
            after = page.evaluate("window.LW_WALL.incidents.length")
            rereads = page.evaluate("window.LW_WALL.stats.reread || []")
            burst_reads = page.evaluate(RESOURCES)
            api_open = open_incidents(port)
            drawn = page.locator("#incident-rows tr").count()
            print(
                f"burst: {len(burst)} alarms in batches of 5 + {acked} acks, sent in {sent:.1f} s; "
                f"open incidents now {after:,} on the wall, {api_open:,} by the API"
            )
            named = [r for r in rereads if r != "all"]
            print(
                f"re-reads during the burst: {sum(r == 'all' for r in rereads)} of everything, "
                f"{len(named)} by ids ({sum(len(r) for r in named)} incidents); {drawn} rows drawn"
                if rereads
                else "re-reads during the burst: not recorded by this wall.js"
            )
            print(f"  incident reads in the burst: {len(burst_reads)}: {fmt(percentiles(burst_reads))}")
            print(
                f"update apply (event → redrawn): {len(applies)} applies: {fmt(percentiles(applies))}, "
                f"max {max(applies, default=0):.0f} ms"
            )
            print(f"frames idle: {fmt(percentiles(idle))}")
            print(
                f"frames during burst: {len(frames)}: {fmt(percentiles(frames))}, "
                f"max {max(frames, default=0):.0f} ms, {sum(f > 50 for f in frames)} over 50 ms"
            )
            print(
                f"long tasks (>50 ms) during burst: {len(long_tasks)}, total {sum(long_tasks):.0f} ms, "
                f"longest {max(long_tasks, default=0):.0f} ms"
            )
            label = f"{open_count:,} open, burst of {len(burst)}"
            label += f" paced {args.pace:g} s" if args.pace else ""
            label += f", CPU ÷{args.cpu_throttle:g}" if args.cpu_throttle > 1 else ""
            p95 = percentiles(applies)["p95"]
            figure(f"wall update apply p95 ({label})", p95, "ms", 1000, higher_is_better=False)
            longest = max(long_tasks, default=0)
            figure(f"wall longest task in the burst ({label})", longest, "ms", 200, higher_is_better=False)
            figure(f"wall frames over 50 ms in the burst ({label})", sum(f > 50 for f in frames), "frames")
            heap = page.evaluate("performance.memory ? performance.memory.usedJSHeapSize / 1048576 : 0")
            print(f"JS heap: {heap:.0f} MiB")
            browser.close()
    print(f"work folder: {Path(work)}")


if __name__ == "__main__":
    main()
