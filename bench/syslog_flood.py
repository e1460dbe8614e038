"""Syslog flood benchmark: how fast the listener decodes, matches and batches, and what a flood costs.

    .venv/bin/python bench/syslog_flood.py                      # counting sink: the listener alone
    .venv/bin/python bench/syslog_flood.py --pipeline           # the real pipeline on a fresh SQLite
    .venv/bin/python bench/syslog_flood.py --pipeline --db postgresql://127.0.0.1:5432/linewatch_bench

Sends ``--count`` lines over TCP (octet-counted; TCP cannot lose lines, so the rate is the
listener's), a mix of interface down/up from several vendors and unrelated chatter, then reports
lines/s, deliveries (batches) and the listener's counters. ``--udp`` sends over UDP instead and
reports what the kernel dropped.
"""

from __future__ import annotations

import argparse
import random
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from common import figure
from linewatch.alarms.engine import Outcome
from linewatch.alarms.normalise import AlarmEvent
from linewatch.ingest.syslog import SyslogListener

LINES = [
    "<187>{n}: r{h}: *Mar  2 09:00:01.123: %LINK-3-UPDOWN: Interface GigabitEthernet0/{p}, "
    "changed state to {s}",
    "<188>Mar  2 2026 09:00:01+08:00 hw{h} %%01IFNET/4/IF_STATE(l)[7]:Interface GE0/2/{p} "
    "has turned into {S} state.",
    "<28>Mar  2 09:00:01 mx{h} mib2d[2424]: SNMP_TRAP_LINK_DOWN: ifIndex 5, ifAdminStatus up(1), "
    "ifOperStatus {s}(2), ifName ge-0/0/{p}",
    "<188>Mar  2 09:00:01:748 2026 h3c{h} %%10IFNET/3/PHY_UPDOWN: Physical state on the interface "
    "GigabitEthernet1/0/{p} changed to {s}.",
    "<189>Mar  2 09:00:01 sw{h} %SYS-5-CONFIG_I: Configured from console by admin on vty0 (10.1.1.{p})",
    "<38>Mar  2 09:00:01 gw{h} sshd[1234]: Accepted password for admin from 10.1.1.{p} port 50022 ssh2",
]


class CountingSink:
    def __init__(self) -> None:
        self.events = 0
        self.batches = 0
        self.lock = threading.Lock()

    def accept(self, channel: str, events: list[AlarmEvent]) -> list[Outcome]:
        with self.lock:
            self.events += len(events)
            self.batches += 1
        return []

    def reject(self, channel: str, remote: str, reason: str, payload: bytes | str) -> None:
        pass


def lines(count: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    out = []
    for n in range(count):
        state = rng.choice(["down", "up"])
        template = rng.choice(LINES)
        out.append(
            template.format(n=n, h=rng.randrange(50), p=rng.randrange(48), s=state, S=state.upper()).encode()
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--udp", action="store_true", help="send over UDP (lossy) instead of TCP")
    parser.add_argument("--pipeline", action="store_true", help="deliver into the real pipeline")
    parser.add_argument("--db", help="database URL for --pipeline (default: a fresh SQLite file)")
    args = parser.parse_args()

    context: Any = None
    if args.pipeline:
        from linewatch.context import build_context
        from linewatch.settings import Settings

        url = args.db or f"sqlite:///{Path(tempfile.mkdtemp()) / 'flood.db'}"
        context = build_context(Settings(db=url, snmp_port=0, syslog_port=0))
        context.start()
        sink: Any = context.sink
    else:
        sink = CountingSink()
    listener = SyslogListener(sink, host="127.0.0.1", port=0, rules_file=None)
    listener.start()
    payload = lines(args.count, seed=7)
    started = time.perf_counter()
    if args.udp:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for line in payload:
                s.sendto(line, ("127.0.0.1", listener.port))
    else:
        with socket.create_connection(("127.0.0.1", listener.port)) as s:
            s.sendall(b"".join(b"%d %s" % (len(line), line) for line in payload))
    sent = time.perf_counter() - started
    deadline, last, quiet_since = time.monotonic() + 300, -1, time.monotonic()
    while time.monotonic() < deadline:  # done when all that arrived is decoded and delivered
        d = listener.diagnostics()
        settled = d["matched"] + d["unmatched"] + d["ignored"] + sum(d["rejected"].values())
        if d["received"] != last:
            last, quiet_since = d["received"], time.monotonic()
        idle = d["queued"] == 0 and settled >= d["received"] and d["accepted"] + d["pending"] >= d["matched"]
        everything = d["received"] >= args.count or (args.udp and time.monotonic() - quiet_since > 1)
        if idle and everything:
            break
        time.sleep(0.05)
    elapsed = time.perf_counter() - started - (1 if args.udp else 0)  # less the quiet second
    listener.stop()
    d = listener.diagnostics()
    print(f"sent {args.count} lines over {'UDP' if args.udp else 'TCP'} in {sent:.2f} s")
    print(f"processed {d['received']} in {elapsed:.2f} s: {d['received'] / elapsed:,.0f} lines/s")
    figure(f"syslog lines processed ({'UDP' if args.udp else 'TCP'})", d["received"] / elapsed, "lines/s")
    print(f"matched {d['matched']}, unmatched {d['unmatched']}, accepted {d['accepted']}")
    print(f"rejected {d['rejected']}, dropped (backlog full) {d['dropped_queue_full']}")
    print(f"deliveries {d['deliveries']} (mean {d['accepted'] / max(d['deliveries'], 1):.0f} events each)")
    if args.udp:
        print(f"lost in the kernel: {args.count - d['received']}")
    if context is not None:
        context.stop()
        context.db.dispose()


if __name__ == "__main__":
    main()
