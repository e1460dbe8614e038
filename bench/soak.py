"""Soak: mixed load on a real `linewatch serve` for a long time; memory and latency must stay flat.

    .venv/bin/python bench/soak.py --minutes 60                  # Step 8: one hour, SQLite
    .venv/bin/python bench/soak.py --minutes 60 --db postgresql://127.0.0.1:5432/linewatch_bench

Load, all at once, against the demo city (scale --scale) on the manual clock:
  ingest   --rate alarms/s in batches of 20: faults raised on routed ports, most cleared again later
           (so incidents open, dispatch tickets, recover and close their loop)
  clock    the clock advanced one simulated minute every wall second: SLA timers, escalations,
           reminders and reviews fire as in a long day (60 simulated hours per hour of soak)
  live     --sse clients holding /api/v1/stream open and reading every event
  reads    an API reader cycling through alarm, incident and ticket lists
Every interval (--interval seconds) prints the server's RSS and the p50/p99 of ingest and read
latency. Flat = the last interval's RSS within 10 % (plus 50 MiB) of the first one after warm-up,
and the last p99s within 2× of the first ones.
"""

from __future__ import annotations

import argparse
import http.client
import random
import threading
import time

from common import (
    TOKEN,
    build_network,
    figure,
    fresh_database,
    percentiles,
    request,
    route_ports,
    rss_mib,
    server,
    workdir,
)

TYPES = ["LOS", "ETH_LOS", "LINK_DOWN", "MS_AIS"]


class Soak:
    def __init__(self, port: int, ports: list[tuple[str, str]], rate: int) -> None:
        self.port, self.ports, self.rate = port, ports, rate
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.ingest: list[float] = []
        self.reads: list[float] = []
        self.sse_events = 0
        self.errors: list[str] = []

    def take(self) -> tuple[list[float], list[float]]:
        with self.lock:
            ingest, reads = self.ingest, self.reads
            self.ingest, self.reads = [], []
        return ingest, reads

    def ingester(self) -> None:
        rng = random.Random(3)
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        raised: list[dict] = []
        per_batch = 20
        interval = per_batch / self.rate
        due = time.perf_counter()
        while not self.stop.is_set():
            batch = []
            for _ in range(per_batch):
                if raised and rng.random() < 0.45:  # clear an earlier fault
                    cleared = raised.pop(rng.randrange(len(raised)))
                    batch.append({**cleared, "severity": "cleared"})
                else:
                    ne, port = rng.choice(self.ports)
                    alarm = {"source": "soak", "ne": ne, "object": port, "type": rng.choice(TYPES)}
                    batch.append({**alarm, "severity": "critical"})
                    raised.append(alarm)
            t0 = time.perf_counter()
            status, body = request(self.port, "POST", "/api/v1/alarms", batch, conn)
            with self.lock:
                self.ingest.append(time.perf_counter() - t0)
                if status != 202:
                    self.errors.append(f"ingest {status}: {str(body)[:200]}")
            due += interval
            delay = due - time.perf_counter()
            if delay > 0:
                self.stop.wait(delay)  # pacing the load generator, not timing the server

    def clock_mover(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        while not self.stop.wait(1.0):
            status, body = request(self.port, "POST", "/api/v1/admin/clock", {"advance_seconds": 60}, conn)
            if status != 200:
                with self.lock:
                    self.errors.append(f"clock {status}: {str(body)[:200]}")

    def reader(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        paths = [
            "/api/v1/alarms?limit=100",
            "/api/v1/incidents?state=open&limit=100",
            "/api/v1/tickets?limit=100",
            "/api/v1/alarms?state=cleared&limit=100",
        ]
        i = 0
        while not self.stop.wait(0.05):
            t0 = time.perf_counter()
            status, body = request(self.port, "GET", paths[i % len(paths)], None, conn)
            with self.lock:
                self.reads.append(time.perf_counter() - t0)
                if status != 200:
                    self.errors.append(f"read {status}: {str(body)[:200]}")
            i += 1

    def sse_client(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.request("GET", "/api/v1/stream", headers={"Authorization": f"Bearer {TOKEN}"})
        response = conn.getresponse()
        while not self.stop.is_set():
            line = response.fp.readline()
            if not line:
                with self.lock:
                    self.errors.append("stream closed by the server")
                return
            if line.startswith(b"id:"):
                with self.lock:
                    self.sse_events += 1
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--interval", type=float, default=60, help="seconds per reported interval")
    parser.add_argument("--scale", type=float, default=10)
    parser.add_argument("--rate", type=int, default=200, help="alarm events per second")
    parser.add_argument("--sse", type=int, default=10, help="live-stream clients")
    parser.add_argument("--db", default=None)
    args = parser.parse_args()
    interval = min(args.interval, args.minutes * 60 / 3)
    work = workdir()
    url = fresh_database(args.db, work)
    folder = build_network(args.scale, url, work)
    ports = route_ports(folder)
    where = f"scale {args.scale:g}, {url.split(':')[0]}, {args.rate}/s, {args.sse} SSE clients"
    with server(url, work, {"LINEWATCH_CLOCK": "manual"}) as (port, process):
        soak = Soak(port, ports, args.rate)
        threads = [
            threading.Thread(target=soak.ingester, daemon=True),
            threading.Thread(target=soak.clock_mover, daemon=True),
            threading.Thread(target=soak.reader, daemon=True),
            *(threading.Thread(target=soak.sse_client, daemon=True) for _ in range(args.sse)),
        ]
        for thread in threads:
            thread.start()
        rows = []
        end = time.monotonic() + args.minutes * 60
        print(f"soak {args.minutes:g} min ({where}); every {interval:.0f} s:")
        print(" minute   RSS MiB   ingest p50/p99 ms   read p50/p99 ms   SSE events")
        while time.monotonic() < end:
            soak.stop.wait(min(interval, max(0.0, end - time.monotonic())))
            ingest, reads = soak.take()
            pi, pr = percentiles(ingest), percentiles(reads)
            row = (
                rss_mib(process.pid),
                pi["p50"] * 1000,
                pi["p99"] * 1000,
                pr["p50"] * 1000,
                pr["p99"] * 1000,
            )
            rows.append(row)
            minute = (args.minutes * 60 - (end - time.monotonic())) / 60
            latency = f"{row[1]:7.1f} / {row[2]:7.1f}   {row[3]:7.1f} / {row[4]:7.1f}"
            print(f"{minute:7.1f}  {row[0]:8,.0f}   {latency}   {soak.sse_events:,}", flush=True)
        soak.stop.set()
    first = rows[min(1, len(rows) - 1)]  # after one interval of warm-up (caches, the index)
    last = rows[-1]
    growth = last[0] - first[0]
    flat_memory = last[0] <= first[0] * 1.10 + 50
    flat_latency = last[2] <= max(2 * first[2], 50) and last[4] <= max(2 * first[4], 50)
    print(
        f"memory {first[0]:,.0f} → {last[0]:,.0f} MiB ({growth:+,.0f}); "
        f"ingest p99 {first[2]:.1f} → {last[2]:.1f} ms; read p99 {first[4]:.1f} → {last[4]:.1f} ms; "
        f"errors {len(soak.errors)}" + (f" (first: {soak.errors[0]})" if soak.errors else "")
    )
    print(f"flat memory: {flat_memory}; flat latency: {flat_latency}")
    figure(
        f"soak {args.minutes:g} min RSS growth after warm-up ({where})",
        growth,
        "MiB",
        first[0] * 0.10 + 50,
        higher_is_better=False,
    )
    figure(
        f"soak {args.minutes:g} min ingest p99, last interval ({where})",
        last[2],
        "ms",
        max(2 * first[2], 50),
        higher_is_better=False,
    )
    figure(
        f"soak {args.minutes:g} min read p99, last interval ({where})",
        last[4],
        "ms",
        max(2 * first[4], 50),
        higher_is_better=False,
    )
    figure(
        f"soak {args.minutes:g} min errors ({where})", len(soak.errors), "errors", 0, higher_is_better=False
    )


if __name__ == "__main__":
    main()
