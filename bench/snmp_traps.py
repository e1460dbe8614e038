"""Benchmark: an SNMP trap storm into a real context; prints sent, received, accepted, lost, rate, loss %.

    .venv/bin/python bench/snmp_traps.py                         # 50,000 traps at 5,000/s, SQLite
    .venv/bin/python bench/snmp_traps.py --count 100000 --rate 8000
    .venv/bin/python bench/snmp_traps.py --pyasn1-only            # the reference decoder for every trap
    .venv/bin/python bench/snmp_traps.py --db postgresql://127.0.0.1:5432/linewatch_bench

The listener runs in this process beside the pipeline writer (as in `linewatch serve`); a separate
sender process paces pre-encoded datagrams over a plain UDP socket, so the sender is not what is
measured. A PostgreSQL database given with --db is emptied first.
"""

from __future__ import annotations

import argparse
import multiprocessing
import socket
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path

from pyasn1.codec.ber import encoder
from pysnmp.proto import api
from sqlalchemy import text

from common import figure
from linewatch.context import build_context
from linewatch.core.actor import SYSTEM
from linewatch.ingest.snmp import (
    IF_INDEX,
    IF_NAME,
    LINK_DOWN,
    LINK_UP,
    SNMP_TRAP_ADDRESS,
    SNMP_TRAP_OID,
    SYS_UPTIME,
    SnmpTrapListener,
)
from linewatch.inventory.service import import_inventory
from linewatch.inventory.sources import read_path
from linewatch.settings import Settings

SMALL = Path(__file__).parents[1] / "tests" / "fixtures" / "inventory" / "small"
NE_ADDRESSES = [
    "10.0.0.1",
    "10.0.0.2",
    "10.0.1.1",
    "10.0.1.2",
    "10.0.1.3",
    "10.0.2.1",
    "10.0.3.1",
    "10.0.9.1",
]


def encode_trap(trap_oid: str, address: str, port: str, index: int) -> bytes:
    v2 = api.v2c
    pdu = v2.TrapPDU()
    v2.apiTrapPDU.set_defaults(pdu)
    v2.apiTrapPDU.set_varbinds(
        pdu,
        [
            (v2.ObjectIdentifier(SYS_UPTIME), v2.TimeTicks(index)),
            (v2.ObjectIdentifier(SNMP_TRAP_OID), v2.ObjectIdentifier(trap_oid)),
            (v2.ObjectIdentifier(f"{IF_INDEX}.{index}"), v2.Integer(index)),
            (v2.ObjectIdentifier(f"{IF_NAME}.{index}"), v2.OctetString(port)),
            (v2.ObjectIdentifier("1.3.6.1.2.1.2.2.1.7." + str(index)), v2.Integer(1)),
            (v2.ObjectIdentifier("1.3.6.1.2.1.2.2.1.8." + str(index)), v2.Integer(2)),
            (v2.ObjectIdentifier(SNMP_TRAP_ADDRESS), v2.IpAddress(address)),
        ],
    )
    message = v2.Message()
    v2.apiMessage.set_defaults(message)
    v2.apiMessage.set_community(message, "public")
    v2.apiMessage.set_pdu(message, pdu)
    return bytes(encoder.encode(message))


def trap_pool(size: int) -> list[bytes]:
    """Distinct traps: downs then ups of `size/2` (NE, port) pairs, real route ports among them."""
    pairs = [(NE_ADDRESSES[i % len(NE_ADDRESSES)], f"GE1/{i // 100}/{i % 100}") for i in range(size // 2)]
    real = [("10.0.2.1", "GE0/2/1"), ("10.0.2.1", "GE0/2/2"), ("10.0.1.1", "GE0/1/0")]  # on circuit routes
    pairs[: len(real)] = real
    downs = [encode_trap(LINK_DOWN, a, p, i + 1) for i, (a, p) in enumerate(pairs)]
    ups = [encode_trap(LINK_UP, a, p, i + 1) for i, (a, p) in enumerate(pairs)]
    return downs + ups


def sender(port: int, pool: list[bytes], count: int, rate: float, answer: Connection) -> None:
    """Paced sending: catch up to `rate * elapsed` every millisecond (bursts of ~rate/1000)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    target = ("127.0.0.1", port)
    answer.send("ready")
    answer.recv()
    started = time.perf_counter()
    sent = 0
    size = len(pool)
    while sent < count:
        due = min(count, int((time.perf_counter() - started) * rate) + 1)
        while sent < due:
            try:
                sock.sendto(pool[sent % size], target)
            except BlockingIOError:
                break
            sent += 1
        time.sleep(0.001)
    answer.send((sent, started, time.perf_counter()))
    sock.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=50_000)
    parser.add_argument("--rate", type=float, default=5_000.0, help="traps per second")
    parser.add_argument("--pool", type=int, default=4_000, help="distinct datagrams cycled through")
    parser.add_argument("--db", default=None, help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--pyasn1-only", action="store_true", help="no fast path: pyasn1 decodes every trap")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="linewatch-bench-snmp-"))
    url = args.db or f"sqlite:///{work / 'bench.db'}"
    if url.startswith("postgres"):
        from linewatch.db.engine import Database

        db = Database(url)
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        db.dispose()
    ctx = build_context(Settings(db=url, snmp_port=0, syslog_port=0))
    with ctx.db.unit_of_work() as session:
        report = import_inventory(session, ctx.clock, read_path(SMALL), SYSTEM, dry_run=False)
    assert report.ok, report.errors[:5]
    ctx.rebuild_index()
    ctx.start()
    listener = SnmpTrapListener(
        ctx.sink,
        host="127.0.0.1",
        port=0,
        community="public",
        mapping_file=None,
        now=ctx.clock.now,
        type_aliases=ctx.policy.alarms.type_aliases,
        fast_decode=not args.pyasn1_only,
    )
    listener.start()
    pool = trap_pool(args.pool)
    rmem_max = Path("/proc/sys/net/core/rmem_max").read_text().strip()
    print(
        f"listener on 127.0.0.1:{listener.port}, {ctx.db.dialect}, decoder "
        f"{'pyasn1 only' if args.pyasn1_only else 'fast path + pyasn1'}; SO_RCVBUF requested "
        f"{listener.rcvbuf_requested:,} B, granted {listener.rcvbuf_granted:,} B as reported by Linux "
        f"(twice the buffer, bookkeeping included; net.core.rmem_max {int(rmem_max):,} B)"
    )

    mp = multiprocessing.get_context("spawn")
    mine, theirs = mp.Pipe()
    process = mp.Process(target=sender, args=(listener.port, pool, args.count, args.rate, theirs))
    process.start()
    assert mine.recv() == "ready"
    events_before = ctx.pipeline.stats["events"]
    mine.send("go")
    sent, send_started, send_ended = mine.recv()
    process.join()

    # Wait until the pipeline stops growing (and nothing is queued): everything received is processed.
    last, last_change = ctx.pipeline.stats["events"], time.perf_counter()
    while True:
        time.sleep(0.25)
        now_events = ctx.pipeline.stats["events"]
        if now_events != last:
            last, last_change = now_events, time.perf_counter()
        elif time.perf_counter() - last_change > 1.5 and listener.diagnostics()["queued"] == 0:
            break
    diagnostics = listener.diagnostics()
    listener.stop()
    ctx.stop()

    accepted = diagnostics["accepted"]
    stored = last - events_before
    send_seconds = send_ended - send_started
    done_seconds = last_change - send_started
    lost = sent - accepted
    d = diagnostics
    lines = [
        f"sent      {sent:,} in {send_seconds:.2f} s = {sent / send_seconds:,.0f}/s "
        f"(target {args.rate:,.0f}/s)",
        f"received  {d['received']:,} (kernel drops on the socket: {d.get('socket_drops', 'n/a')})",
        f"accepted  {accepted:,} (pipeline stored {stored:,} events in "
        f"{ctx.pipeline.stats['transactions']:,} transactions; {d['batches']:,} deliveries, "
        f"largest {d['largest_batch']:,})",
        f"rejected  {d['rejected']}, lost in delivery {d['events_lost']:,}, queue full {d['queue_full']:,}",
        f"lost      {lost:,} = {100 * lost / max(sent, 1):.3f} %",
        f"processed {accepted / done_seconds:,.0f}/s end to end "
        f"(last stored {done_seconds - send_seconds:.2f} s after the last send)",
    ]
    print("\n".join(lines))
    where = f"{sent:,} at {args.rate:,.0f}/s, {ctx.db.dialect}"
    figure(f"SNMP traps lost ({where})", lost, "traps", 0, higher_is_better=False)
    figure(f"SNMP traps processed end to end ({where})", accepted / done_seconds, "traps/s")


if __name__ == "__main__":
    main()
