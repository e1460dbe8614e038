"""Shared benchmark plumbing: a demo network in a fresh database, a real `linewatch serve` process,
fast HTTP clients, percentiles. Benchmarks print figures; docs/performance.md records them."""

from __future__ import annotations

import csv
import http.client
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import text

TOKEN = "bench-admin-token-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fresh_database(url: str | None, work: Path) -> str:
    if not url:
        return f"sqlite:///{work / 'bench.db'}"
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
        return url
    from linewatch.db.engine import Database

    db = Database(url)
    with db.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    db.dispose()
    return url


def build_network(scale: float, url: str, work: Path) -> Path:
    """Generate the demo city at ``scale`` and import it; returns the CSV folder."""
    from linewatch.context import build_context
    from linewatch.core.actor import SYSTEM
    from linewatch.demo.generator import generate
    from linewatch.inventory.service import import_inventory
    from linewatch.inventory.sources import read_path
    from linewatch.settings import Settings

    folder = work / "inventory"
    generate(folder, scale=scale, seed=7)
    ctx = build_context(Settings(db=url, snmp_port=0, syslog_port=0))
    with ctx.db.unit_of_work() as session:
        report = import_inventory(session, ctx.clock, read_path(folder), SYSTEM, dry_run=False)
    assert report.ok, report.errors[:5]
    ctx.db.dispose()
    return folder


def route_ports(folder: Path) -> list[tuple[str, str]]:
    """(NE, port) pairs that carry circuits: where alarms hurt."""
    with (folder / "routes.csv").open(encoding="utf-8", newline="") as handle:
        return sorted({(row["ne"], row["port"]) for row in csv.DictReader(handle) if row["port"]})


@contextmanager
def server(
    url: str, work: Path, extra_env: dict[str, str] | None = None
) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    port = free_port()
    env = {**os.environ, "LINEWATCH_ADMIN_TOKEN": TOKEN, **(extra_env or {})}
    log = (work / "server.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "linewatch.cli",
            "serve",
            "--db",
            url,
            "--port",
            str(port),
            "--snmp-port",
            "0",
            "--syslog-port",
            "0",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                status, _ = request(port, "GET", "/healthz")
                if status == 200:
                    break
            except OSError:
                time.sleep(0.2)  # waiting for the server process to listen, not timing anything
        else:
            raise RuntimeError(f"server did not start; see {work / 'server.log'}")
        yield port, process
    finally:
        process.terminate()
        process.wait(timeout=60)
        log.close()


def request(
    port: int, method: str, path: str, body: Any = None, conn: http.client.HTTPConnection | None = None
) -> tuple[int, Any]:
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    payload = json.dumps(body).encode() if body is not None else None
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    conn.request(method, path, body=payload, headers=headers)
    response = conn.getresponse()
    data = response.read()
    if own:
        conn.close()
    return response.status, (json.loads(data) if data else None)


def percentiles(samples: list[float]) -> dict[str, float]:
    if not samples:
        return {"p50": 0.0, "p95": 0.0, "p99": 0.0}
    ordered = sorted(samples)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {"p50": at(0.50), "p95": at(0.95), "p99": at(0.99)}


def peak_rss_mib(pid: int | None = None) -> float:
    """Peak RSS of this process, or of ``pid`` and its children (`serve`'s worker process) summed."""
    if pid is None:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return sum(_status_mib(p, "VmHWM:") for p in [pid, *children(pid)])


def children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _status_mib(pid: int, field: str) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def rss_mib(pid: int) -> float:
    """RSS now of ``pid`` and its children (`serve`'s worker process)."""
    return sum(_status_mib(p, "VmRSS:") for p in [pid, *children(pid)])


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by ``pid`` and its children (`serve`'s worker process):
    the cost of a run, which, unlike its wall time, a busy machine does not change much."""
    total = 0.0
    for p in [pid, *children(pid)]:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="linewatch-bench-"))


RESULTS_ENV = "LINEWATCH_BENCH_RESULTS"  # set by bench/run_all.py: a JSON-lines file of figures


def figure(
    name: str, value: float, unit: str, target: float | None = None, *, higher_is_better: bool = True
) -> None:
    """Record one headline figure for bench/run_all.py (the benchmark still prints its own lines).
    ``target`` is the figure the issues ask for; None = informative only."""
    path = os.environ.get(RESULTS_ENV)
    if not path:
        return
    entry = {
        "bench": Path(sys.argv[0]).stem,
        "name": name,
        "value": value,
        "unit": unit,
        "target": target,
        "higher_is_better": higher_is_better,
    }
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
