"""SIGTERM drains: the listener closes first, requests in flight are answered, queued alarms are
processed and committed, and the notify worker finishes the send it is in the middle of (the
peer holds it until the server has stopped listening) and records it, so a restart sends nothing
again."""

from __future__ import annotations

import signal
import threading
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import select

from linewatch.db.engine import Database
from linewatch.notify.models import Notification
from tests.conftest import START
from tests.crash import checks
from tests.crash.conftest import notify_config, unlimited_policy
from tests.crash.harness import FAULTS, GatedPeer, Sent, Server, send_all, storm, wait_until


def _refuses(server: Server) -> bool:
    try:
        httpx.get(f"{server.base}/healthz", timeout=1)
    except httpx.ConnectError:
        return True
    except httpx.TransportError:
        return False
    return False


def test_sigterm_drains_alarms_and_finishes_the_send_in_flight(fresh_url: str, tmp_path: Path) -> None:
    peer = GatedPeer()
    env = {"LINEWATCH_NOTIFY": notify_config(tmp_path, peer), "LINEWATCH_POLICY": unlimited_policy(tmp_path)}
    server = Server(fresh_url, tmp_path, env=env)
    server.start()
    try:
        with server.client() as client:
            fault = {"source": "ems", "severity": "critical", "source_id": "fault-1", **FAULTS[0]}
            assert client.post("/api/v1/alarms", json=fault).status_code == 202
            server.set_clock(client, START + timedelta(seconds=1))  # dispatch, then the worker sends
        assert peer.arrived.wait(30), "the urgent fault's notification never reached the peer"

        bodies = storm(40, 50)
        sent = Sent()
        senders = threading.Thread(target=send_all, args=(server, bodies, sent))
        senders.start()
        wait_until(lambda: len(sent.acked) >= 5, 60, "the storm under way")
        assert server.proc is not None
        server.proc.send_signal(signal.SIGTERM)
        wait_until(lambda: _refuses(server), 30, "the listener to close")
        peer.release.set()  # only now does the send in flight complete
        senders.join()
        server.terminate()  # already going: waits for the exit, checks the clean stop
        assert sent.acked and not sent.refused, sent
        _check(fresh_url, bodies, sent, peer)
        server.start()  # the worker's first round at start sends whatever is still due
        server.terminate()
    finally:
        peer.close()
        if server.proc and server.proc.poll() is None:
            server.kill()
    assert peer.keys.count(peer.keys[0]) == 1, "the send finished at shutdown was sent again"
    print(f"\nSIGTERM mid-storm: {len(sent.acked)} batches acknowledged and stored, {len(sent.lost)} refused")


def _check(url: str, bodies: list[list[dict]], sent: Sent, peer: GatedPeer) -> None:

    db = Database(url)
    try:
        acked = [bodies[b] for b in sorted(sent.acked)]
        checks.alarms_exactly_once(db, acked)  # every acknowledged alarm was committed
        with db.reading() as s:
            first = s.scalar(select(Notification).where(Notification.id == int(peer.keys[0])))
            assert first is not None and first.status == "sent" and first.attempts == 1, first
    finally:
        db.dispose()
