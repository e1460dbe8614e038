"""Monthly-report benchmark: one year of fault history, then the report for each month.

    .venv/bin/python bench/monthly_report.py                                   # SQLite, scale 10
    .venv/bin/python bench/monthly_report.py --scale 100 --db postgresql://127.0.0.1:5432/lw_report

Imports the demo city at ``--scale``, then writes a year (2025-03 … 2026-02) of synthetic history
straight into the tables the report reads — incidents (a few planned and drill ones), their
impact intervals on 1–6 circuits of one customer region, one ticket per incident with
milestones, causes and some breach events — in bulk inserts (the pipeline is not what is
measured here). The alarm log is filled too, so the database is the size a year really makes:
each incident's root alarm and 0–9 alarms correlated to it (≈ 5.5 a fault), plus as many
uncorrelated alarms (noise that never made an incident) — ≈ 4 M alarm rows at scale 100. The
report does not read them; they are there so its queries run against a database of that size
(and an index or plan that degrades with it would show). Then times
``monthly_report`` (JSON figures) and the xlsx export for every month, cold and warm.
A PostgreSQL database given with --db is emptied first.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from itertools import islice
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi.responses import JSONResponse
from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from common import build_network, figure, fresh_database, peak_rss_mib, percentiles, workdir
from linewatch.alarms.models import AlarmRecord
from linewatch.context import build_context
from linewatch.incidents.models import ImpactRecord, IncidentRecord
from linewatch.inventory.models import Circuit, NetworkElement
from linewatch.reports.figures import Period
from linewatch.reports.service import build_report, paused_gc
from linewatch.reports.xlsx import workbook_bytes
from linewatch.settings import Settings
from linewatch.tickets.models import Ticket, TicketEvent

TZ = ZoneInfo("Asia/Shanghai")
FIRST = datetime(2025, 3, 1, tzinfo=TZ)
MONTHS = [f"{2025 + (2 + i) // 12}-{(2 + i) % 12 + 1:02d}" for i in range(12)]  # 2025-03 … 2026-02
CAUSES = ["fibre_cut", "external_works", "equipment", "power", "connector", "customer_equipment", "other"]
BATCH = 20_000


def history(url: str, per_month: int, seed: int, scattered: bool = False) -> dict[str, int]:
    rng = random.Random(seed)
    ctx = build_context(Settings(db=url, snmp_port=0, syslog_port=0), migrate=False)
    with ctx.db.reading() as session:
        circuits = session.execute(select(Circuit.id, Circuit.customer_id)).all()
        nes = list(session.scalars(select(NetworkElement.id)))
    incidents: list[dict[str, object]] = []
    impacts: list[dict[str, object]] = []
    tickets: list[dict[str, object]] = []
    events: list[dict[str, object]] = []
    span = 365 * 86400
    total = per_month * 12
    impact_id = 0
    offsets = [rng.randrange(span) for _ in range(total)]
    if not scattered:
        # Ids in opening order, as the pipeline assigns them: a month's incidents, impacts and
        # tickets lie together in their tables (--scattered: random times for sequential ids,
        # the layout of the session-2 figures, every row of a month on its own page).
        offsets.sort()
    for i, offset in enumerate(offsets, 1):
        opened = FIRST + timedelta(seconds=offset)
        minutes = rng.choice([20, 45, 90, 150, 300, 600, 1500])
        recovered = opened + timedelta(minutes=minutes * rng.uniform(0.5, 1.5))
        diag = opened + timedelta(minutes=rng.uniform(3, 25))
        incidents.append(
            dict(
                id=i,
                state="recovered",
                level=rng.choice(["urgent", "general", "normal"]),
                level_reason="",
                opened_at=opened,
                recovered_at=recovered,
                root_alarm_id=i,
                root_ne_id=rng.choice(nes),
                key_customers_down=0,
                diagnosis_due=opened + timedelta(minutes=15),
                diagnosis_category="network",
                diagnosis_by="bench",
                diagnosis_at=diag,
                diagnosis_note="",
                planned=rng.random() < 0.05,
                drill=rng.random() < 0.01,
                assurance=None,
                updated_at=recovered,
            )
        )
        hit = rng.sample(circuits, rng.randint(1, 6))
        for circuit_id, customer_id in hit:
            impact_id += 1
            impacts.append(
                dict(
                    id=impact_id,
                    incident_id=i,
                    circuit_id=circuit_id,
                    customer_id=customer_id,
                    impact="down" if rng.random() < 0.7 else "degraded",
                    since=opened,
                    until=recovered,
                )
            )
        created = opened + timedelta(minutes=1)
        tickets.append(
            dict(
                id=i,
                incident_id=i,
                channel="auto",
                customer_id=hit[0][1],
                customer_text="",
                flagged="",
                assignee_id=None,
                track="normal",
                state="closed",
                description="",
                created_at=created,
                accepted_at=created + timedelta(minutes=rng.uniform(1, 15)),
                contacted_at=created + timedelta(minutes=rng.uniform(5, 45)),
                recovered_at=recovered,
                closed_at=recovered + timedelta(hours=2),
                recovered_by="incident",
                recovery_minutes=480,
                suspended_seconds=0,
                cause=rng.choice(CAUSES),
                resolution="bench",
                drill=False,
            )
        )
        for name in ("accept", "contact", "recover"):
            if rng.random() < 0.1:
                events.append(
                    dict(
                        ticket_id=i, type="breach", at=created, actor="sla", note="", data={"deadline": name}
                    )
                )
    with ctx.db.unit_of_work() as session:
        for table, rows in (
            (IncidentRecord, incidents),
            (ImpactRecord, impacts),
            (Ticket, tickets),
            (TicketEvent, events),
        ):
            for start in range(0, len(rows), BATCH):
                session.execute(insert(table), rows[start : start + BATCH])
        alarms = _alarms(session, incidents, nes, seed)
    if url.startswith("postgresql"):
        # Planner statistics, as autovacuum would gather them after such a load (a bulk load
        # leaves PostgreSQL guessing a few dozen rows a month and picking sequential scans).
        with ctx.db.engine.connect() as conn:
            conn.execute(text("ANALYZE"))
            conn.commit()
    ctx.db.dispose()
    return {
        "alarms": alarms,
        "incidents": total,
        "impacts": len(impacts),
        "tickets": len(tickets),
        "breach_events": len(events),
    }


ALARM_TYPES = ["LOS", "LOF", "ETH_LOS", "PW_DOWN", "BGP_DOWN", "POWER_FAIL", "HIGH_TEMP", "LINK_DOWN"]


def _alarms(session: Session, incidents: list[dict[str, object]], nes: list[int], seed: int) -> int:
    """Alarm rows in batches, generated as they are written (millions of dicts would not fit):
    per incident its root alarm (id = root_alarm_id) and 0–9 correlated ones within its life,
    then the same number again of cleared noise alarms at random times of the year."""
    rng = random.Random(seed + 1)  # its own stream: the incidents stay those of earlier runs
    names = dict(session.execute(select(NetworkElement.id, NetworkElement.name)).all())
    next_id = len(incidents) + 1

    def row(
        alarm_id: int, ne: int, at: datetime, cleared: datetime, incident: object, root: object
    ) -> dict[str, object]:
        kind = rng.choice(ALARM_TYPES)
        return dict(
            id=alarm_id,
            dedup_key=f"{names[ne]}|{kind}|{alarm_id}",
            source="bench",
            ne_id=ne,
            ne_name=names[ne],
            object=f"port-{alarm_id % 48}",
            type=kind,
            severity=rng.choice(["critical", "major", "minor"]),
            state="cleared",
            first_time=at,
            last_time=at,
            cleared_time=cleared,
            received_at=at,
            root_id=root,
            incident_id=incident,
            matched=incident is not None,
        )

    def correlated() -> Iterator[dict[str, object]]:
        nonlocal next_id
        for inc in incidents:
            opened, recovered = inc["opened_at"], inc["recovered_at"]
            assert isinstance(opened, datetime) and isinstance(recovered, datetime)
            ne, i = inc["root_ne_id"], inc["id"]
            assert isinstance(ne, int)
            yield row(inc["root_alarm_id"], ne, opened, recovered, i, None)  # type: ignore[arg-type]
            life = (recovered - opened).total_seconds()
            for _ in range(rng.randint(0, 9)):
                yield row(
                    next_id,
                    rng.choice(nes),
                    opened + timedelta(seconds=rng.uniform(0, 60)),
                    recovered + timedelta(seconds=rng.uniform(0, life / 10)),
                    i,
                    inc["root_alarm_id"],
                )
                next_id += 1

    def noise(count: int) -> Iterator[dict[str, object]]:
        nonlocal next_id
        for _ in range(count):
            at = FIRST + timedelta(seconds=rng.randrange(365 * 86400))
            yield row(next_id, rng.choice(nes), at, at + timedelta(minutes=rng.uniform(0.2, 30)), None, None)
            next_id += 1

    written = 0
    for rows in (correlated(), None):
        if rows is None:
            rows = noise(written)
        while batch := list(islice(rows, BATCH)):
            session.execute(insert(AlarmRecord), batch)
            written += len(batch)
    return written


def _server_cpu_s(session: Session) -> tuple[int, float] | None:
    """PostgreSQL: the session's backend process and its CPU seconds so far (from /proc: the
    server runs on this machine), else None."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    pid = session.scalar(text("SELECT pg_backend_pid()"))
    assert isinstance(pid, int)
    return pid, _proc_cpu_s(pid)


def _proc_cpu_s(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def measure(url: str, rounds: int, months: list[str] = MONTHS) -> dict[str, object]:
    """Every month's report ``rounds`` times (round 1 = cold: the first read of the month since
    the process started); per round the p50 of wall, this process's CPU and, on PostgreSQL, the
    server backend's CPU for the report's queries."""
    ctx = build_context(Settings(db=url, snmp_port=0, syslog_port=0), migrate=False)
    now = datetime(2026, 3, 15, tzinfo=TZ)
    per_round: list[dict[str, object]] = []
    json_ms: list[float] = []
    cpu_ms: list[float] = []  # this process's CPU: on a shared machine wall time includes waiting
    server_ms: list[float] = []  # the PostgreSQL backend's CPU during the report
    xlsx_ms: list[float] = []
    xlsx_cpu_ms: list[float] = []
    biggest: tuple[str, object] = ("", 0)
    for n in range(rounds):
        wall_round: list[float] = []
        request_wall: list[float] = []  # build + JSON encoding + freeing: the whole answer
        request_cpu: list[float] = []
        body_bytes = 0
        cpu_round: list[float] = []
        server_round: list[float] = []
        for label in months:
            # As GET /api/v1/reports/monthly answers: built, its figures encoded, freed, with the
            # cyclic collector paused until then (api/reports.py); the export separately timed.
            with ctx.db.reading() as session, paused_gc():
                backend = _server_cpu_s(session)
                t0, c0 = time.perf_counter(), time.process_time()
                report = build_report(session, ctx.policy, Period.month(label, TZ), now)
                t1, c1 = time.perf_counter(), time.process_time()
                if backend is not None:
                    server_round.append((_proc_cpu_s(backend[0]) - backend[1]) * 1000)
                body = JSONResponse(report.figures).body
                t2, c2 = time.perf_counter(), time.process_time()
                if label == months[-1]:  # the export once a round: it is the slow part
                    workbook_bytes(report)
                    xlsx_ms.append((time.perf_counter() - t2) * 1000)
                    xlsx_cpu_ms.append((time.process_time() - c2) * 1000)
                faults = report.figures["faults"]["total"]  # type: ignore[index]
                t3, c3 = time.perf_counter(), time.process_time()
                del report
                t4, c4 = time.perf_counter(), time.process_time()
            if faults > biggest[1]:  # type: ignore[operator]
                biggest = (label, faults)
            wall_round.append((t1 - t0) * 1000)
            cpu_round.append((c1 - c0) * 1000)
            request_wall.append((t2 - t0 + t4 - t3) * 1000)
            request_cpu.append((c2 - c0 + c4 - c3) * 1000)
            body_bytes = len(body)
        per_round.append(
            {
                "round": n + 1,
                "wall_p50_ms": round(percentiles(wall_round)["p50"], 1),
                "wall_max_ms": round(max(wall_round), 1),
                "cpu_p50_ms": round(percentiles(cpu_round)["p50"], 1),
                "cpu_max_ms": round(max(cpu_round), 1),
                "request_wall_p50_ms": round(percentiles(request_wall)["p50"], 1),
                "request_cpu_p50_ms": round(percentiles(request_cpu)["p50"], 1),
                "request_cpu_max_ms": round(max(request_cpu), 1),
                "json_bytes_last": body_bytes,
                **(
                    {
                        "server_cpu_p50_ms": round(percentiles(server_round)["p50"], 1),
                        "client_plus_server_cpu_p50_ms": round(
                            percentiles([c + s for c, s in zip(cpu_round, server_round, strict=True)])["p50"],
                            1,
                        ),
                    }
                    if server_round
                    else {}
                ),
            }
        )
        print(per_round[-1], f"load {os.getloadavg()[0]:.1f}", flush=True)
        json_ms += wall_round
        cpu_ms += cpu_round
        server_ms += server_round
    ctx.db.dispose()
    return {
        "rounds": per_round,
        "report_ms": percentiles(json_ms),
        "report_cpu_ms": percentiles(cpu_ms),
        "server_cpu_ms": percentiles(server_ms),
        "xlsx_extra_ms_last_month": [round(x, 1) for x in xlsx_ms],
        "xlsx_extra_cpu_ms_last_month": [round(x, 1) for x in xlsx_cpu_ms],
        "max_report_cpu_ms": round(max(cpu_ms), 1),
        "max_report_ms": round(max(json_ms), 1),
        "busiest_month": biggest,
        "peak_rss_mib": round(peak_rss_mib(), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=10)
    parser.add_argument(
        "--db", default=None, help="PostgreSQL URL (emptied first); default a temporary SQLite"
    )
    parser.add_argument("--per-month", type=int, default=None, help="faults a month (default 300 × scale)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--reuse", action="store_true", help="measure the database given with --db as it is (no build)"
    )
    parser.add_argument(
        "--scattered", action="store_true", help="random opening times for sequential ids (old layout)"
    )
    parser.add_argument("--build-only", action="store_true", help="build the database, measure nothing")
    parser.add_argument("--months", default=None, help="comma-separated YYYY-MM (default: the whole year)")
    args = parser.parse_args()
    if args.reuse and args.db:
        url = args.db
        db = build_context(Settings(db=url, snmp_port=0, syslog_port=0)).db  # migrate: new indexes
        if url.startswith("postgresql"):
            with db.engine.connect() as conn:  # statistics for them (an expression index has its own)
                conn.execute(text("ANALYZE"))
                conn.commit()
        db.dispose()
    else:
        work = workdir()
        url = fresh_database(args.db, work)
        t0 = time.perf_counter()
        build_network(args.scale, url, work)
        t1 = time.perf_counter()
        sizes = history(url, args.per_month or round(300 * args.scale), args.seed, args.scattered)
        t2 = time.perf_counter()
        print(f"network (scale {args.scale}) {t1 - t0:.1f}s; history {sizes} in {t2 - t1:.1f}s", flush=True)
        if args.build_only:
            return
    result = measure(url, args.rounds, args.months.split(",") if args.months else MONTHS)
    print(result)
    where = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    report_ms, cpu_ms = result["report_ms"], result["report_cpu_ms"]
    assert isinstance(report_ms, dict) and isinstance(cpu_ms, dict)
    figure(
        f"monthly report p50, one year at scale {args.scale} ({where})",
        report_ms["p50"],
        "ms",
        2000,
        higher_is_better=False,
    )
    figure(
        f"monthly report worst month ({where})",
        float(result["max_report_ms"]),
        "ms",
        2000,
        higher_is_better=False,
    )  # type: ignore[arg-type]
    figure(f"monthly report p50 CPU of this process ({where})", cpu_ms["p50"], "ms")
    server_ms = result["server_cpu_ms"]
    if url.startswith("postgresql") and isinstance(server_ms, dict):
        figure("monthly report p50 CPU of the PostgreSQL backend", server_ms["p50"], "ms")


if __name__ == "__main__":
    main()
