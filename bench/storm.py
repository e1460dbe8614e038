"""Alarm-storm benchmark over the demo network, against a real `linewatch serve` process.

    .venv/bin/python bench/storm.py --scale 10                       # SQLite
    .venv/bin/python bench/storm.py --scale 10 --db postgresql://127.0.0.1:5432/linewatch_bench

Scenarios (INTERFACES "Native HTTP"; targets from the Step 2 issue):
  batch   sustained ingest in batches of 1,000, fully processed       target ≥ 20,000 alarms/s
  single  one alarm per request from 16 concurrent clients            target ≥ 1,100 alarms/s, p99 < 100 ms
  paced   5,000 alarms/s (batches of 50 every 10 ms); receipt→readable target p99 < 1 s
  cut     a 50,000-alarm fibre-cut storm; settle time after the last  target < 2 s
Each answer comes after the alarms are stored and processed, so request latency is
receipt-to-readable; the paced run also reads a sample back to prove it. After the batch and
single scenarios the benchmark waits for dispatch to catch up (and says how long it took), so
each scenario starts on a settled server. LINEWATCH_STORE_PROCESS=0 compares without the store
process.
"""

from __future__ import annotations

import argparse
import http.client
import random
import threading
import time
from pathlib import Path

from common import (
    TOKEN,
    build_network,
    cpu_seconds,
    figure,
    fresh_database,
    peak_rss_mib,
    percentiles,
    request,
    route_ports,
    server,
    workdir,
)

TYPES = ["LOS", "ETH_LOS", "MS_AIS", "LINK_DOWN", "R_LOF"]
LABEL = ""  # "scale 10, sqlite": names this run's figures


def alarms_for(ports: list[tuple[str, str]], n: int, seed: int, severity: str = "critical") -> list[dict]:
    rng = random.Random(seed)
    return [
        {
            "source": "bench",
            "ne": ne,
            "object": port,
            "type": rng.choice(TYPES),
            "severity": severity,
            "text": "storm",
        }
        for ne, port in (rng.choice(ports) for _ in range(n))
    ]


def run_clients(port: int, batches: list[list[dict]], clients: int) -> tuple[float, list[float], int]:
    """Send batches from ``clients`` threads, each on its own keep-alive connection."""
    latencies: list[float] = []
    accepted = [0]
    lock = threading.Lock()
    queue = list(reversed(batches))

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        while True:
            with lock:
                if not queue:
                    break
                batch = queue.pop()
            started = time.perf_counter()
            status, body = request(port, "POST", "/api/v1/alarms", batch, conn)
            elapsed = time.perf_counter() - started
            assert status == 202, (status, body)
            with lock:
                latencies.append(elapsed)
                accepted[0] += body["accepted"]
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started, latencies, accepted[0]


def dispatch_backlog(port: int) -> int:
    """Incident changes still waiting for dispatch (``/metrics``)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", "/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    text = conn.getresponse().read().decode()
    conn.close()
    for line in text.splitlines():
        if line.startswith('linewatch_queue_depth{queue="downstream"}'):
            return int(float(line.rsplit(" ", 1)[1]))
    return 0


def dispatch_catch_up(port: int) -> str:
    """Ingest goes first in a storm, dispatch catches up after: how far behind it was, and for how
    long after the last answer (polled every 0.2 s; a measurement, not a test)."""
    left = dispatch_backlog(port)
    started = time.perf_counter()
    while dispatch_backlog(port) > 0 and time.perf_counter() - started < 600:
        time.sleep(0.2)
    took = time.perf_counter() - started
    return f"dispatch backlog at the last answer {left:,}, caught up {took:.1f} s later"


def ms(values: dict[str, float]) -> str:
    return ", ".join(f"{k} {v * 1000:.1f} ms" for k, v in values.items())


def scenario_batch(port: int, ports: list[tuple[str, str]], total: int, clients: int = 2) -> None:
    batches = [alarms_for(ports, 1000, seed) for seed in range(total // 1000)]
    wall, latencies, accepted = run_clients(port, batches, clients=clients)
    figure(f"batch ingest, batches of 1,000 ({LABEL})", accepted / wall, "alarms/s", 20_000)
    print(
        f"batch:  {accepted:,} alarms in {wall:.2f} s = {accepted / wall:,.0f} alarms/s "
        f"(batches of 1,000, {clients} clients; per batch {ms(percentiles(latencies))}); "
        f"{dispatch_catch_up(port)}"
    )


def scenario_single(port: int, ports: list[tuple[str, str]], total: int) -> None:
    batches = [[a] for a in alarms_for(ports, total, 99)]
    wall, latencies, accepted = run_clients(port, batches, clients=16)
    figure(f"one alarm per request, 16 clients ({LABEL})", accepted / wall, "alarms/s", 1_100)
    figure(
        f"one alarm per request p99 ({LABEL})",
        percentiles(latencies)["p99"] * 1000,
        "ms",
        100,
        higher_is_better=False,
    )
    print(
        f"single: {accepted:,} requests in {wall:.2f} s = {accepted / wall:,.0f} alarms/s "
        f"(16 clients; {ms(percentiles(latencies))}); {dispatch_catch_up(port)}"
    )


def scenario_paced(port: int, ports: list[tuple[str, str]], seconds: int, rate: int) -> None:
    per_batch, interval = 50, 50 / rate
    latencies: list[float] = []
    sample_ids: list[int] = []
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    lock = threading.Lock()
    pending: list[list[dict]] = [
        alarms_for(ports, per_batch, 1000 + i) for i in range(int(seconds * rate / per_batch))
    ]

    def sender(batches: list[list[dict]], offset: float) -> None:
        own = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        start = time.perf_counter() + offset
        for i, batch in enumerate(batches):
            due = start + i * interval * 4
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)  # pacing the sender to the target rate
            t0 = time.perf_counter()
            status, body = request(port, "POST", "/api/v1/alarms", batch, own)
            with lock:
                latencies.append(time.perf_counter() - t0)
                if status == 202 and i % 20 == 0:
                    sample_ids.append(body["ids"][0])
        own.close()

    threads = [threading.Thread(target=sender, args=(pending[k::4], k * interval)) for k in range(4)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    readable = sum(
        1
        for alarm_id in sample_ids
        if request(port, "GET", f"/api/v1/alarms/{alarm_id}", None, conn)[0] == 200
    )
    sent = sum(len(b) for b in pending)
    figure(
        f"receipt→readable p99 at {rate:,}/s ({LABEL})",
        percentiles(latencies)["p99"] * 1000,
        "ms",
        1000,
        higher_is_better=False,
    )
    print(
        f"paced:  {sent:,} alarms in {wall:.2f} s = {sent / wall:,.0f} alarms/s offered {rate:,}/s; "
        f"receipt→readable {ms(percentiles(latencies))}; {readable}/{len(sample_ids)} samples read back"
    )


def scenario_cut(port: int, folder: Path, total: int) -> None:
    """A fibre cut on the busiest aggregation NE: LOS at both ends, then consequent alarms on every
    NE whose circuits cross it, repeated (devices re-send), 50,000 in all."""
    import csv

    with (folder / "routes.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    by_ne: dict[str, set[str]] = {}
    for row in rows:
        by_ne.setdefault(row["ne"], set()).add(row["circuit"])
    cut = max(
        (n for n in by_ne if "AGG" in n.upper()),
        key=lambda n: len(by_ne[n]),
        default=max(by_ne, key=lambda n: len(by_ne[n])),
    )
    crossing = by_ne[cut]
    downstream = sorted({(r["ne"], r["port"]) for r in rows if r["circuit"] in crossing and r["ne"] != cut})
    rng = random.Random(5)
    alarms = [{"source": "bench", "ne": cut, "object": "", "type": "LOS", "severity": "critical"}]
    while len(alarms) < total:
        ne, port_name = rng.choice(downstream)
        kind = rng.choice(["MS_AIS", "ETH_LOS", "RDI", "NE_NOT_REACHABLE", "LOS"])
        alarms.append({"source": "bench", "ne": ne, "object": port_name, "type": kind, "severity": "major"})
    batches = [alarms[i : i + 1000] for i in range(0, total, 1000)]
    sent_at: list[float] = []
    wall, latencies, accepted = run_clients(port, batches, clients=4)
    last_answer = max(latencies)
    _, first = request(port, "GET", "/api/v1/incidents?limit=1000")
    _, again = request(port, "GET", "/api/v1/incidents?limit=1000")
    stable = [i["id"] for i in first["items"]] == [i["id"] for i in again["items"]]
    biggest = max((len(i["impacts"]) for i in first["items"]), default=0)
    del sent_at
    figure(f"{total:,}-alarm fibre cut settled ({LABEL})", last_answer, "s", 2, higher_is_better=False)
    print(
        f"cut:    {accepted:,} alarms on {len(downstream):,} ports behind {cut} in {wall:.2f} s "
        f"({accepted / wall:,.0f}/s); each batch settled ≤ {last_answer:.2f} s after it was sent "
        f"(answer = stored and correlated); {len(first['items'])} open incidents, largest {biggest} impacts; "
        f"stable on re-read: {stable}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=10)
    parser.add_argument("--db", default=None)
    parser.add_argument("--scenarios", default="batch,single,paced,cut")
    parser.add_argument("--batch-total", type=int, default=200_000)
    parser.add_argument("--single-total", type=int, default=20_000)
    parser.add_argument("--batch-clients", type=int, default=2, help="concurrent senders of batches")
    parser.add_argument(
        "--worker-process",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="serve --worker-process: dispatch and notifications in a child process",
    )
    args = parser.parse_args()
    work = workdir()
    url = fresh_database(args.db, work)
    global LABEL
    LABEL = f"scale {args.scale:g}, {url.split(':')[0]}" + (", worker process" if args.worker_process else "")
    started = time.perf_counter()
    folder = build_network(args.scale, url, work)
    ports = route_ports(folder)
    print(
        f"network: scale {args.scale:g}, {len(ports):,} routed ports, "
        f"built in {time.perf_counter() - started:.1f} s on {url.split(':')[0]}; "
        f"server log {work / 'server.log'}"
    )
    extra = {"LINEWATCH_WORKER_PROCESS": "1" if args.worker_process else "0"}
    with server(url, work, extra) as (port, process):
        for name in args.scenarios.split(","):
            used = cpu_seconds(process.pid)
            if name == "batch":
                scenario_batch(port, ports, args.batch_total, args.batch_clients)
            elif name == "single":
                scenario_single(port, ports, args.single_total)
            elif name == "paced":
                scenario_paced(port, ports, seconds=10, rate=5000)
            elif name == "cut":
                scenario_cut(port, folder, 50_000)
            print(f"        server CPU in {name}: {cpu_seconds(process.pid) - used:.1f} s")
        rss = peak_rss_mib(process.pid)
        figure(f"server peak RSS in the storms ({LABEL})", rss, "MiB")
        print(f"server peak RSS: {rss:,.0f} MiB")


if __name__ == "__main__":
    main()
