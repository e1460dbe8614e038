"""SIGTERM with a downstream backlog (issue 9), against a real `linewatch serve` process.

    .venv/bin/python bench/shutdown.py --scale 10                    # SQLite
    .venv/bin/python bench/shutdown.py --scale 10 --worker-process

A storm of one-alarm requests (16 clients) opens many incidents, whose dispatch and hooks queue
downstream; SIGTERM as soon as the last request is answered, and time SIGTERM → exit. Then a
second server starts on the same database: the time until it answers, and until its reconcile
has left no open incident undispatched (the first server's backlog, done).
"""

from __future__ import annotations

import argparse
import http.client
import re
import signal
import time

from sqlalchemy import select

from common import TOKEN, build_network, figure, fresh_database, route_ports, server, workdir
from storm import alarms_for, run_clients

STOP_LIMIT_SECONDS = 120  # past the old code's two 30 s joins and the worker process's 60 s wait


def downstream_depth(port: int) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    text = conn.getresponse().read().decode()
    conn.close()
    found = re.search(r'linewatch_queue_depth\{queue="downstream"\} (\d+)', text)
    return int(found.group(1)) if found else -1


def undispatched(url: str) -> tuple[int, int]:
    """(open incidents, those the unrestricted auto-dispatch rules would ticket, still without one)."""
    from linewatch.core.policy import load_policy
    from linewatch.db.engine import Database
    from linewatch.incidents.models import IncidentRecord
    from linewatch.tickets import service

    rules = load_policy(None).tickets.auto_dispatch
    levels = {level for rule in rules if not rule.key_customers_only for level in rule.levels}
    db = Database(url)
    try:
        with db.reading() as session:
            rows = session.execute(
                select(IncidentRecord.id, IncidentRecord.level).where(IncidentRecord.state == "open")
            )
            level_of = {incident_id: level for incident_id, level in rows}
            waiting = [i for i in service.undispatched_incidents(session) if level_of.get(i) in levels]
        return len(level_of), len(waiting)
    finally:
        db.dispose()


def unwarned(url: str) -> int | None:
    """Urgent incidents whose real-time red warning was never raised (None: code before issue 9)."""
    from linewatch.db.engine import Database
    from linewatch.reports import warnings

    pending = getattr(warnings, "unwarned_urgent", None)
    if pending is None:
        return None
    db = Database(url)
    try:
        with db.reading() as session:
            return len(pending(session))
    finally:
        db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=10)
    parser.add_argument("--db", default=None)
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--worker-process", action=argparse.BooleanOptionalAction, default=False)
    args = parser.parse_args()
    work = workdir()
    url = fresh_database(args.db, work)
    label = f"scale {args.scale:g}, {url.split(':')[0]}" + (", worker process" if args.worker_process else "")
    folder = build_network(args.scale, url, work)
    ports = route_ports(folder)
    extra = {"LINEWATCH_WORKER_PROCESS": "1" if args.worker_process else "0"}
    print(f"network: scale {args.scale:g} on {url.split(':')[0]}; server log {work / 'server.log'}")

    with server(url, work, extra) as (port, process):
        batches = [[a] for a in alarms_for(ports, args.requests, 99)]
        wall, _, accepted = run_clients(port, batches, clients=16)
        depth = downstream_depth(port)
        opened, waiting = undispatched(url)
        print(
            f"storm: {accepted:,} requests in {wall:.1f} s; "
            f"{opened:,} open incidents, {waiting:,} undispatched"
        )
        print(f"downstream queue at SIGTERM: {depth:,} incident-change rounds")
        began = time.perf_counter()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=STOP_LIMIT_SECONDS)
        stopped = time.perf_counter() - began
    print(f"SIGTERM → exit: {stopped:.1f} s")
    figure(f"SIGTERM → exit after a storm ({label})", stopped, "s", 5, higher_is_better=False)
    opened, waiting = undispatched(url)
    print(
        f"after the stop: {opened:,} open incidents, {waiting:,} undispatched, "
        f"{unwarned(url)} without their red warning (left to the next start)"
    )

    began = time.perf_counter()
    with server(url, work, extra) as (port, process):
        answering = time.perf_counter() - began
        while undispatched(url)[1] > 0 or (unwarned(url) or 0) > 0:
            if time.perf_counter() - began > STOP_LIMIT_SECONDS * 5:
                raise RuntimeError("the restart never finished the backlog")
            time.sleep(0.5)  # polling the database for the reconcile's end, not timing anything
        done = time.perf_counter() - began
        began = time.perf_counter()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=STOP_LIMIT_SECONDS)
        idle_stop = time.perf_counter() - began
    print(
        f"restart: answering after {answering:.1f} s, backlog done after {done:.1f} s; "
        f"idle stop {idle_stop:.1f} s"
    )


if __name__ == "__main__":
    main()
