"""Replay a real telecom alarm log against a real `linewatch serve` (LINEWATCH_CLOCK=manual).

    .venv/bin/python bench/replay_pcic.py                       # SQLite
    .venv/bin/python bench/replay_pcic.py --db postgresql://127.0.0.1:5432/linewatch_bench

Data: Huawei's PCIC 2021 causal-discovery set, 24V_439N_Microwave (gcastle-hub/dataset, MIT licence,
see ../shared/data/pcic/LICENSE): 64,598 alarms of 24 types on 439 microwave NEs over six days, the
NE topology, and an expert causal graph between the types. Read in place (``--data``), never copied.
bench/pcic_inventory.py maps it: devices → NEs ``MW-0001``… with a port per topology edge, customers
and circuits routed on shortest paths (some dual-routed), type indices → alarm types by DAG depth:

    DAG roots   20 POWER_FAIL  21 HARD_BAD
    root-type   13 LOS  17 BATTERY_LOW  0 MW_LOF  9 R_LOF  11 LINK_DOWN  18 MW_BER_SD  14 BD_STATUS
                22 TUNNEL_DOWN  5 PW_DOWN  10 VSI_DOWN  4 ETH_OAM_LOC  23 PROTECTION_SWITCH  19 HP_UNEQ
    consequent  16 NE_NOT_REACHABLE  12 RDI  8 MS_AIS  3 AU_AIS  7 MS_RDI  1 TU_AIS  2 ETH_LOS
                6 HP_RDI  15 LP_RDI      (the names in the policy's consequent_types)

Each alarm is a raise at start_timestamp and a clear at max(end_timestamp, start + --hold-seconds);
99.7 % of the log has end = start, so with the default hold of 0 most alarms clear in their second
(raises of a second go before its clears). Each phase starts on a fresh database.

Measured:
  realtime  the busiest --realtime-seconds of the log at 1×: each second's events in one batch at its
            wall-clock moment, the manual clock set to that second first (one unmeasured move to the
            window's start before); batch latency, clock move, lag (answer time − due time)
  fast      the whole log, batches of --batch consecutive events, the clock moved to each batch's last
            event time first; events/s, batch latency, incidents, server peak RSS (on SQLite it includes
            the memory-mapped database file, so the split of current RSS is printed too)
  yardstick which alarm types Linewatch linked consequent → root (alarms' root_id, else their incident's
            root), as a type graph scored against DAG.npy (edge i→j = i causes j) at a few minimum
            supports, beside the F1 of guessing every edge and the published F1s. The type mapping
            above was chosen from DAG.npy, which leaks the answer into which alarm becomes the root;
            --blind-types (neutral names, all root-type, all major) is the fair control. Incidents,
            and so the yardstick, depend on --batch: an incident whose alarms have all cleared is
            recovered only after the rest of the request's events, which may still join it.
"""

from __future__ import annotations

import argparse
import bisect
import http.client
import os
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pcic_inventory as pcic
from common import figure, fresh_database, peak_rss_mib, percentiles, request, server, workdir

PUBLISHED = (("PC", 0.227), ("GES", 0.305), ("PCMCI", 0.327), ("THP", 0.372))
MANUAL = {"LINEWATCH_CLOCK": "manual"}


def ms(values: dict[str, float]) -> str:
    return ", ".join(f"{k} {v * 1000:.1f} ms" for k, v in values.items())


def build(ds: pcic.Dataset, url: str, work: Path) -> dict[str, int]:
    """Write the inventory CSVs into ``work`` and import them into ``url``."""
    from linewatch.context import build_context
    from linewatch.core.actor import SYSTEM
    from linewatch.inventory.service import import_inventory
    from linewatch.inventory.sources import read_path
    from linewatch.settings import Settings

    folder = work / "inventory"
    counts = pcic.write_inventory(ds, folder)
    ctx = build_context(Settings(db=url, snmp_port=0, syslog_port=0))
    with ctx.db.unit_of_work() as session:
        report = import_inventory(session, ctx.clock, read_path(folder), SYSTEM, dry_run=False)
    ctx.db.dispose()
    if not report.ok:
        raise SystemExit(f"inventory import refused: {[str(e) for e in report.errors[:5]]}")
    return counts


def call(
    port: int, conn: http.client.HTTPConnection, method: str, path: str, body: Any = None
) -> tuple[int, Any]:
    """One request on a keep-alive connection, sent again once if the server had closed it while idle
    (uvicorn closes after 5 s; the 1× replay has quiet seconds). Both writes here are idempotent:
    the clock is set, and alarms carry source ids that Linewatch recognises when redelivered."""
    try:
        return request(port, method, path, body, conn)
    except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
        conn.close()
        return request(port, method, path, body, conn)


def set_clock(port: int, conn: http.client.HTTPConnection, second: int) -> float:
    started = time.perf_counter()
    status, body = call(port, conn, "POST", "/api/v1/admin/clock", {"set": pcic.at(second).isoformat()})
    assert status == 200, (status, body)
    return time.perf_counter() - started


def post(port: int, conn: http.client.HTTPConnection, batch: list[pcic.Event]) -> float:
    started = time.perf_counter()
    status, body = call(port, conn, "POST", "/api/v1/alarms", [e.body for e in batch])
    elapsed = time.perf_counter() - started
    assert status == 202 and body["accepted"] == len(batch) and not body["rejected"], (status, body)
    return elapsed


def busiest(ds: pcic.Dataset, seconds: int) -> int:
    starts = sorted(a.start for a in ds.alarms)
    return max(starts, key=lambda t: bisect.bisect_left(starts, t + seconds) - bisect.bisect_left(starts, t))


def realtime(port: int, ds: pcic.Dataset, events: list[pcic.Event], seconds: int) -> None:
    t0 = busiest(ds, seconds)
    raised = {e.index for e in events if not e.clear and t0 <= e.time < t0 + seconds}
    by_second: dict[int, list[pcic.Event]] = defaultdict(list)
    for e in events:
        if e.index in raised and e.time < t0 + seconds:
            by_second[e.time].append(e)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    set_clock(port, conn, t0)  # unmeasured: the first move (from today back to 2021) warms the server up
    latencies, clocks, lags = [], [], []
    wall0 = time.perf_counter() + 0.5
    for second in sorted(by_second):
        due = wall0 + (second - t0)
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)  # pacing the sender to the log's own rhythm (1×)
        clocks.append(set_clock(port, conn, second))
        latencies.append(post(port, conn, by_second[second]))
        lags.append(time.perf_counter() - due)
    conn.close()
    sent = sum(len(b) for b in by_second.values())
    largest = max(map(len, by_second.values()))
    print(
        f"realtime: {sent:,} events ({len(raised):,} alarms) in {len(by_second)} one-second batches over the "
        f"busiest {seconds} s of the log (t={t0}..{t0 + seconds} s); largest batch {largest}"
    )
    print(f"          batch latency {ms(percentiles(latencies))}; clock move {ms(percentiles(clocks))}")
    print(f"          lag behind 1× (answer − due) {ms(percentiles(lags))}, max {max(lags) * 1000:.1f} ms")
    figure(
        "PCIC replay at 1×: worst lag behind the log", max(lags) * 1000, "ms", 1000, higher_is_better=False
    )


def rss_now(pid: int) -> str:
    """Current resident memory split: SQLite maps its database file, which counts as file-backed RSS."""
    try:
        fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    except OSError:
        return "?"
    return " + ".join(
        f"{int(fields[k].split()[0]) / 1024:,.0f} MiB {k[3:].lower()}" for k in ("RssAnon", "RssFile")
    )


def fetch_all(port: int, path: str, conn: http.client.HTTPConnection) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(100_000):  # bounded: at most this many pages
        status, body = call(port, conn, "GET", path + (f"&cursor={cursor}" if cursor else ""))
        assert status == 200, (status, body)
        items += body["items"]
        cursor = body["next_cursor"]
        if not cursor:
            break
    return items


def fast(port: int, process_pid: int, events: list[pcic.Event], size: int) -> tuple[list[dict], list[dict]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    latencies, clocks = [], []
    started = time.perf_counter()
    for i in range(0, len(events), size):
        batch = events[i : i + size]
        clocks.append(set_clock(port, conn, batch[-1].time))
        latencies.append(post(port, conn, batch))
    wall = time.perf_counter() - started
    rss = peak_rss_mib(process_pid)
    figure("PCIC microwave log replayed as fast as possible", len(events) / wall, "events/s")
    print(
        f"fast:     {len(events):,} events in {wall:.1f} s = {len(events) / wall:,.0f} events/s "
        f"(batches of {size:,}, clock moved before each; {len(latencies)} batches; "
        f"load average {os.getloadavg()[0]:.1f})"
    )
    print(f"          batch latency {ms(percentiles(latencies))}; clock move {ms(percentiles(clocks))}")
    read_started = time.perf_counter()
    incidents = fetch_all(port, "/api/v1/incidents?state=all&limit=1000", conn)
    alarms = fetch_all(port, "/api/v1/alarms?state=all&limit=1000", conn)
    still_open = fetch_all(port, "/api/v1/incidents?state=open&limit=1000", conn)
    active = fetch_all(port, "/api/v1/alarms?state=active&limit=1000", conn)
    conn.close()
    multi = sum(1 for i in incidents if len(i["alarm_ids"]) > 1)
    levels = Counter(i["level"] for i in incidents)
    matched = sum(1 for a in alarms if a["matched"])
    print(
        f"          {len(alarms):,} alarms ({matched:,} matched to circuits, {len(active):,} still active); "
        f"{len(incidents):,} incidents created ({multi:,} with more than one alarm; levels "
        f"{dict(sorted(levels.items()))}), {len(still_open):,} open at the end"
    )
    print(
        f"          server peak RSS {rss:,.0f} MiB after the replay, {peak_rss_mib(process_pid):,.0f} MiB "
        f"after reading everything back ({time.perf_counter() - read_started:.1f} s); now "
        f"{rss_now(process_pid)}"
    )
    return incidents, alarms


def yardstick(ds: pcic.Dataset, incidents: list[dict], alarms: list[dict], blind: bool) -> None:
    index_of = {t.name: i for i, t in pcic.type_names(blind).items()}
    type_of = {a["id"]: index_of.get(a["type"]) for a in alarms}
    root_of_incident = {i["id"]: i["root_alarm_id"] for i in incidents}
    links: Counter[tuple[int, int]] = Counter()
    for a in alarms:
        root = a["root_id"] or root_of_incident.get(a["incident_id"])
        if root is None or root == a["id"]:
            continue
        cause, effect = type_of.get(root), type_of.get(a["id"])
        if cause is not None and effect is not None and cause != effect:
            links[(cause, effect)] += 1
    truth = {(i, j) for i, row in enumerate(ds.dag) for j, v in enumerate(row) if v}
    possible = len(ds.dag) * (len(ds.dag) - 1)
    floor = 2 * len(truth) / (possible + len(truth))  # F1 of guessing every possible edge
    print(
        f"yardstick: {sum(links.values()):,} consequent → root links between different types, {len(links)} "
        f"distinct type pairs; DAG.npy has {len(truth)} of {possible} possible edges "
        f"(guessing all: F1 {floor:.3f})"
    )
    for support in (1, 5, 25, 100):
        edges = {pair for pair, n in links.items() if n >= support}
        hit = len(edges & truth)
        precision = hit / len(edges) if edges else 0.0
        recall = hit / len(truth) if truth else 0.0
        f1 = 2 * precision * recall / (precision + recall) if hit else 0.0
        print(
            f"          type edges seen ≥ {support:>3} times: {len(edges):>3} edges, {hit:>3} true; "
            f"precision {precision:.3f} recall {recall:.3f} F1 {f1:.3f}"
        )
    print(
        "          published (learned from the log alone): " + ", ".join(f"{n} {f:.3f}" for n, f in PUBLISHED)
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", default=None, help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--data", type=Path, default=pcic.DEFAULT_DATA, help="the 24V_439N_Microwave folder")
    parser.add_argument("--realtime-seconds", type=int, default=120)
    parser.add_argument("--skip-realtime", action="store_true")
    parser.add_argument("--batch", type=int, default=1000, help="events per request in the fast replay")
    parser.add_argument(
        "--hold-seconds", type=int, default=0, help="keep each alarm raised at least this long"
    )
    parser.add_argument("--blind-types", action="store_true", help="neutral type names (a control)")
    parser.add_argument("--no-yardstick", action="store_true")
    args = parser.parse_args()
    ds = pcic.load(args.data)
    events = pcic.stream(ds, args.hold_seconds, args.blind_types)
    work = workdir()
    print(
        f"data: {len(ds.alarms):,} alarms → {len(events):,} events, {len(ds.adjacency)} NEs, "
        f"{sum(map(len, ds.adjacency)) // 2} links; hold {args.hold_seconds} s; "
        f"{'neutral' if args.blind_types else 'mapped'} type names; load average {os.getloadavg()[0]:.1f} "
        f"on {os.cpu_count()} CPUs; work {work}"
    )
    phases = ["fast"] if args.skip_realtime else ["realtime", "fast"]
    for phase in phases:
        folder = work / phase
        folder.mkdir()
        url = fresh_database(args.db, folder)
        started = time.perf_counter()
        counts = build(ds, url, folder)
        if phase == phases[0]:
            print(
                f"inventory: {counts['nes']} NEs, {counts['ports']} ports, {counts['customers']} customers "
                f"({counts['key_customers']} key), {counts['circuits']} circuits ({counts['dual_routed']} "
                f"dual-routed), {counts['route_hops']:,} route hops; imported in "
                f"{time.perf_counter() - started:.1f} s on {url.split(':')[0]}"
            )
        with server(url, folder, extra_env=MANUAL) as (port, process):
            if phase == "realtime":
                realtime(port, ds, events, args.realtime_seconds)
            else:
                incidents, alarms = fast(port, process.pid, events, args.batch)
                if not args.no_yardstick:
                    yardstick(ds, incidents, alarms, args.blind_types)


if __name__ == "__main__":
    main()
