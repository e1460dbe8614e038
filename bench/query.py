"""Read-path benchmark: active-alarm queries filtered by customer, at demo scale with many active alarms.

    .venv/bin/python bench/query.py --scale 100 --alarms 200000            # SQLite
    .venv/bin/python bench/query.py --scale 100 --db postgresql://127.0.0.1:5432/linewatch_bench

Builds the city, loads ``--alarms`` active alarms through a real `linewatch serve` (batches of
1,000), then times `GET /api/v1/alarms?customer=C&limit=100` for random customers that have
alarms, and an unfiltered first page. Target (Step 2): p95 < 50 ms with 200,000 active alarms
and 150,000 circuits.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import random
import time
from pathlib import Path

from common import (
    build_network,
    figure,
    fresh_database,
    peak_rss_mib,
    percentiles,
    request,
    route_ports,
    server,
    workdir,
)

TYPES = ["LOS", "LINK_DOWN", "ETH_LOS", "MS_AIS", "R_LOF", "E1_LOS", "PING_LOSS", "HIGH_BER"]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=100)
    parser.add_argument("--alarms", type=int, default=200_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--db", default=None)
    parser.add_argument(
        "--keep", type=Path, default=None, help="SQLite: build into this folder once; later runs reuse it"
    )
    args = parser.parse_args()
    work = args.keep or workdir()
    reuse = args.keep is not None and not args.db and (work / "loaded").exists()
    url = f"sqlite:///{work / 'bench.db'}" if reuse else fresh_database(args.db, work)
    started = time.perf_counter()
    folder = work / "inventory" if reuse else build_network(args.scale, url, work)
    how = "reused" if reuse else "built"
    print(f"network scale {args.scale:g} {how} in {time.perf_counter() - started:.1f} s")
    ports = route_ports(folder)
    with (folder / "customers.csv").open(encoding="utf-8", newline="") as handle:
        customers = [row["code"] for row in csv.DictReader(handle)]
    rng = random.Random(11)
    # distinct (NE, port, type) keys so every alarm stays active (no dedup)
    keys = [(ne, port, kind) for ne, port in ports for kind in TYPES]
    rng.shuffle(keys)
    keys = keys[: args.alarms]
    with server(url, work) as (port, process):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        started = time.perf_counter()
        for i in range(0, 0 if reuse else len(keys), 1000):
            batch = [
                {"source": "bench", "ne": ne, "object": p, "type": t, "severity": "major"}
                for ne, p, t in keys[i : i + 1000]
            ]
            status, body = request(port, "POST", "/api/v1/alarms", batch, conn)
            assert status == 202, body
        load = time.perf_counter() - started
        if not reuse:
            print(f"loaded {len(keys):,} active alarms in {load:.1f} s ({len(keys) / load:,.0f}/s)")
            (work / "loaded").touch()
        with_alarms = []
        for code in rng.sample(customers, min(len(customers), 3000)):
            status, body = request(port, "GET", f"/api/v1/alarms?customer={code}&limit=1", None, conn)
            if body["items"]:
                with_alarms.append(code)
            if len(with_alarms) >= args.queries:
                break
        timings = []
        for code in with_alarms:
            t0 = time.perf_counter()
            status, body = request(port, "GET", f"/api/v1/alarms?customer={code}&limit=100", None, conn)
            timings.append(time.perf_counter() - t0)
            assert status == 200
        first = []
        for _ in range(50):
            t0 = time.perf_counter()
            request(port, "GET", "/api/v1/alarms?limit=100", None, conn)
            first.append(time.perf_counter() - t0)
        where = f"scale {args.scale:g}, {url.split(':')[0]}, {len(keys):,} active alarms"
        figure(
            f"customer-filtered active alarms p95 ({where})",
            percentiles(timings)["p95"] * 1000,
            "ms",
            50,
            higher_is_better=False,
        )
        rss = peak_rss_mib(process.pid)
        figure(f"server peak RSS ({where})", rss, "MiB", 1536, higher_is_better=False)
        fmt = lambda p: ", ".join(f"{k} {v * 1000:.1f} ms" for k, v in p.items())  # noqa: E731
        print(
            f"customer-filtered active alarms, 100 rows: {len(timings)} queries: {fmt(percentiles(timings))}"
        )
        print(f"unfiltered first page, 100 rows: {fmt(percentiles(first))}")
        print(f"server peak RSS: {rss:,.0f} MiB")


if __name__ == "__main__":
    main()
