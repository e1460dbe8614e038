"""A real ``linewatch serve`` process, a TCP proxy that cuts the database away, and the alarm storm.

Shared by the crash (SIGKILL), shutdown (SIGTERM) and outage tests. The server runs on the manual
clock, which the tests move through the admin API, so timers fire when a test says so.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

from linewatch.core.actor import SYSTEM
from linewatch.core.clock import ManualClock
from linewatch.db.engine import Database, normalise_url
from linewatch.db.migrate import upgrade
from linewatch.inventory.service import import_inventory
from linewatch.inventory.sources import read_path
from tests.conftest import ADMIN, ADMIN_TOKEN, PG_ADMIN_URL, SMALL, START, TZ
from tests.notify.peers import free_port

STARTUP_SECONDS = 60  # a cold start on a busy 2-core machine (imports, migrations check, books)
STOPPED = "linewatch stopped: drained"  # Context.stop's last log line


def prepare(url: str) -> None:
    """Migrate a fresh database and import the small network, in this process."""
    db = Database(url)
    upgrade(db)
    with db.unit_of_work() as session:
        report = import_inventory(session, ManualClock(start=START), read_path(SMALL), SYSTEM, dry_run=False)
    assert report.ok, report.errors
    db.dispose()


def pg_database(name: str) -> Iterator[str]:
    """A database of our own on the shared server, dropped afterwards (never the server itself)."""
    admin = create_engine(normalise_url(PG_ADMIN_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@dataclass
class Server:
    """``linewatch serve`` as a child process; its output goes to ``log`` for inspection."""

    db_url: str
    workdir: Path
    env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0
    clock: datetime = START  # where the manual clock stands at the next start

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.workdir / f"server-{self.starts}.log"

    def start(self) -> None:
        self.starts += 1
        env = {
            **os.environ,
            "LINEWATCH_CLOCK": "manual",
            "LINEWATCH_CLOCK_START": self.clock.isoformat(),
            "LINEWATCH_ADMIN_TOKEN": ADMIN_TOKEN,
            "LINEWATCH_SNMP_PORT": "0",
            "LINEWATCH_SYSLOG_PORT": "0",
            **self.env,
        }
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "linewatch.cli",
                    "serve",
                    "--port",
                    str(self.port),
                    "--db",
                    self.db_url,
                ],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"server exited at start:\n{self.log.read_text()}"
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)  # polling for the port to open, not timing the test
        raise AssertionError(f"server did not come up:\n{self.log.read_text()}")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def terminate(self, timeout: float = 60) -> None:
        """SIGTERM, and the process must drain and stop by itself (uvicorn re-raises the signal
        once shut down, so the exit status is -SIGTERM, or 0)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=timeout)
        output = self.log.read_text()
        assert code in (0, -signal.SIGTERM), f"exit {code}:\n{output}"
        assert STOPPED in output, f"no clean stop in the log:\n{output}"

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base, headers=ADMIN, timeout=60)

    def set_clock(self, client: httpx.Client, when: datetime) -> None:
        response = client.post("/api/v1/admin/clock", json={"set": when.isoformat()})
        assert response.status_code == 200, response.text
        self.clock = when


class TcpProxy:
    """127.0.0.1:<port> → target, byte for byte; ``cut()`` drops every connection and refuses new
    ones (the database "goes away" for Linewatch only), ``restore()`` listens again."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self.lock = threading.Lock()
        self.pairs: list[tuple[socket.socket, socket.socket]] = []
        self.listener: socket.socket | None = None
        self.stopping = threading.Event()
        self.restore()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        with self.lock:
            listener, self.listener = self.listener, None
            pairs, self.pairs = self.pairs, []
        if listener is not None:
            listener.close()
        for a, b in pairs:
            for s in (a, b):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()

    def close(self) -> None:
        self.cut()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self.lock:
                if self.listener is not listener:
                    client.close()
                    upstream.close()
                    return
                self.pairs.append((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    @staticmethod
    def _pump(a: socket.socket, b: socket.socket) -> None:
        sel = selectors.DefaultSelector()
        sel.register(a, selectors.EVENT_READ, b)
        sel.register(b, selectors.EVENT_READ, a)
        try:
            while True:
                for key, _ in sel.select():
                    data = key.fileobj.recv(65536)  # type: ignore[union-attr]
                    if not data:
                        return
                    key.data.sendall(data)
        except OSError:
            return
        finally:
            sel.close()
            a.close()
            b.close()


# ---------------------------------------------------------------------------- the storm

# Faults on the small network that open incidents and tickets (auto-dispatch), with their clears.
FAULTS = [
    {"ne": "AGG-GL-1", "object": "GE0/1/0", "type": "LOS"},
    {"ne": "AGG-GL-2", "object": "GE0/2/5", "type": "LOS"},
    {"ne": "NGN-1", "object": "", "type": "PLATFORM_DOWN"},
    {"ne": "ACC-GL-1", "object": "GE0/1/1", "type": "LOS"},
]


def storm(batches: int, size: int, start: datetime = START) -> list[list[dict[str, Any]]]:
    """``batches`` POST bodies of ``size`` alarms, each with its own ``source_id`` and event time
    (a sender's idempotency key): mostly unmatched NEs (raises, repeats of the same alarm, clears),
    and in every fifth batch a fault on the network or its clear, so tickets open and recover."""
    out = []
    for b in range(batches):
        at = start + timedelta(seconds=b)
        body = []
        for i in range(size):
            ne = f"STORM-{(b * size + i) % 97}"
            cleared = (b + i) % 7 == 0
            body.append(
                {
                    "source": "storm",
                    "ne": ne,
                    "object": f"P{i % 5}",
                    "type": "LINK_DOWN",
                    "severity": "cleared" if cleared else "major",
                    "event_time": (at + timedelta(microseconds=i)).isoformat(),
                    "source_id": f"s{b}-{i}",
                    "text": "<b>storm</b> =cmd|' /C calc'!A0",
                }
            )
        if b % 5 == 0:
            fault = FAULTS[(b // 5) % len(FAULTS)]
            clear = (b // 5) % 8 >= len(FAULTS)  # the second round of faults clears the first
            body.append(
                {
                    "source": "ems",
                    **fault,
                    "severity": "cleared" if clear else "critical",
                    "event_time": at.isoformat(),
                    "source_id": f"f{b}",
                }
            )
        out.append(body)
    return out


@dataclass
class Sent:
    """What the storm's sender saw: the batches answered 2xx (acknowledged) and the others."""

    acked: set[int] = field(default_factory=set)
    refused: dict[int, int] = field(default_factory=dict)  # batch → status (503…)
    lost: set[int] = field(default_factory=set)  # no answer (connection refused or reset)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, batch: int, status: int | None) -> None:
        with self.lock:
            if status is None:
                self.lost.add(batch)
            elif 200 <= status < 300:
                self.acked.add(batch)
            else:
                self.refused[batch] = status


def send_all(
    server: Server,
    bodies: list[list[dict[str, Any]]],
    sent: Sent,
    threads: int = 4,
    order: list[int] | None = None,
) -> None:
    """Post every body once from ``threads`` senders (each batch to whichever sender is free)."""
    pending = list(order if order is not None else range(len(bodies)))
    lock = threading.Lock()

    def run() -> None:
        with server.client() as client:
            while True:
                with lock:
                    if not pending:
                        return
                    batch = pending.pop(0)
                try:
                    status: int | None = client.post("/api/v1/alarms", json=bodies[batch]).status_code
                except httpx.TransportError:
                    status = None
                sent.record(batch, status)

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()


def wait_until(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)  # polling a condition, not timing the test


__all__ = ["ADMIN", "TZ"]


class GatedPeer:
    """A webhook receiver that holds the first request until ``release`` is set: a send in flight."""

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.arrived, self.release = threading.Event(), threading.Event()
        self.keys: list[str] = []
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                peer.keys.append(self.headers.get("Idempotency-Key", ""))
                peer.arrived.set()
                peer.release.wait(timeout=60)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
