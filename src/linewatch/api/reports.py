"""Monthly report (INTERFACES ``GET /api/v1/reports/monthly``) and the rows behind each number."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Response
from sqlalchemy.orm import Session

from linewatch.api.deps import get_ctx, reading, require
from linewatch.api.errors import ERROR_RESPONSES
from linewatch.context import Context
from linewatch.core.actor import Actor
from linewatch.core.errors import LinewatchError, NotFound
from linewatch.reports.figures import Month, Report, row_view
from linewatch.reports.service import monthly_report
from linewatch.reports.xlsx import workbook_bytes

router = APIRouter(prefix="/api/v1/reports", tags=["reports"], responses=ERROR_RESPONSES)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
READERS = ("dispatcher", "support", "fault_manager", "manager_l3", "leader")


def _report(ctx: Context, session: Session, month: str) -> Report:
    try:
        parsed = Month.parse(month, ctx.clock.tz)
    except ValueError as exc:
        raise LinewatchError(f"month must be YYYY-MM: {month!r}") from exc
    return monthly_report(session, ctx.policy, parsed, ctx.clock.now())


@router.get("/monthly", response_model=None)
def monthly(
    month: str,
    format: str = "json",
    actor: Actor = Depends(require(*READERS)),
    session: Session = Depends(reading),
    ctx: Context = Depends(get_ctx),
) -> dict[str, Any] | Response:
    report = _report(ctx, session, month)
    if format == "xlsx":
        return Response(
            workbook_bytes(report),
            media_type=XLSX,
            headers={"Content-Disposition": f'attachment; filename="linewatch-{report.month}.xlsx"'},
        )
    if format != "json":
        raise LinewatchError("format must be json or xlsx")
    return report.figures


@router.get("/monthly/rows")
def monthly_rows(
    month: str,
    view: str,
    key: str | None = None,
    actor: Actor = Depends(require(*READERS)),
    session: Session = Depends(reading),
    ctx: Context = Depends(get_ctx),
) -> dict[str, Any]:
    """The rows behind one number, e.g. ``view=by_region&key=GL`` or ``view=sla_contact``."""
    report = _report(ctx, session, month)
    if view not in report.views:
        raise NotFound(f"no view {view!r}; views: {', '.join(sorted(report.views))}")
    try:
        rows = row_view(report, view, key)
    except KeyError:
        rows = []  # a key with no rows (e.g. a region without faults) is a zero, not an error
    return {"month": report.month, "view": view, "key": key, "count": len(rows), "items": rows}
