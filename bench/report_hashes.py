"""Hashes of monthly reports, to check a change leaves every figure and row as it was.

    .venv/bin/python bench/report_hashes.py --db sqlite:////work/reports_data/s100.db \
        --months 2025-03,2026-01 > before.txt
    (change the code, run again into after.txt) && diff before.txt after.txt

For each month and each filter (none, one region, one cause, one customer, one contractor —
chosen from the database itself, so the same on every run) one line: the SHA-256 of the
figures as the endpoint encodes them (key order included), of every view's rows with their keys
(the drill-down and the export read these), and of the fault list. Run against a database built
by ``bench/monthly_report.py``; ``now`` is the benchmark's.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from datetime import datetime
from zoneinfo import ZoneInfo

from fastapi.responses import JSONResponse
from sqlalchemy import func, select

from linewatch.context import build_context
from linewatch.incidents.models import ImpactRecord
from linewatch.inventory.models import Circuit, Customer, Region, Team
from linewatch.reports.figures import Period
from linewatch.reports.service import Filters, build_report, paused_gc
from linewatch.settings import Settings

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 15, tzinfo=TZ)  # as bench/monthly_report.py


def _digest(value: object) -> str:
    text = value if isinstance(value, bytes) else json.dumps(value, ensure_ascii=False).encode()
    return hashlib.sha256(text).hexdigest()[:16]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", required=True)
    parser.add_argument("--months", default="2025-03,2025-10,2026-01")
    args = parser.parse_args()
    ctx = build_context(Settings(db=args.db, snmp_port=0, syslog_port=0), migrate=False)
    with ctx.db.reading() as session:
        region = session.scalar(select(func.min(Region.code)))
        # The customer and the contractor of the most-impacted circuit: filters that keep faults.
        circuit_id = session.scalar(
            select(ImpactRecord.circuit_id)
            .group_by(ImpactRecord.circuit_id)
            .order_by(func.count().desc(), ImpactRecord.circuit_id)
            .limit(1)
        )
        customer, contractor = session.execute(
            select(Customer.code, Team.code)
            .select_from(Circuit)
            .join(Customer, Customer.id == Circuit.customer_id)
            .outerjoin(Team, Team.id == Circuit.maintainer_id)
            .where(Circuit.id == circuit_id)
        ).one()
    filters = {
        "none": Filters(),
        f"region={region}": Filters(region=region),
        "cause=fibre_cut": Filters(cause="fibre_cut"),
        f"customer={customer}": Filters(customer=customer),
        f"contractor={contractor}": Filters(contractor=contractor),
    }
    for month in args.months.split(","):
        for label, chosen in filters.items():
            with ctx.db.reading() as session, paused_gc():
                report = build_report(session, ctx.policy, Period.month(month, TZ), NOW, chosen)
                figures = _digest(JSONResponse(report.figures).body)
                views = _digest({name: report.view(name) for name in sorted(report.groups)})
                faults = _digest(report.faults)
                total = report.figures["faults"]["total"]  # type: ignore[index]
                del report
            print(
                f"{month} {label} faults={total} figures={figures} views={views} fault_list={faults}",
                flush=True,
            )
    ctx.db.dispose()


if __name__ == "__main__":
    main()
