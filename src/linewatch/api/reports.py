"""Reports: the monthly report (INTERFACES ``GET /api/v1/reports/monthly``), the statistics for any
period and filter, and the rows behind each number. Both are one computation (reports.service)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from linewatch.api.deps import get_ctx, reading, require
from linewatch.api.errors import ERROR_RESPONSES
from linewatch.context import Context
from linewatch.core.actor import Actor
from linewatch.core.errors import LinewatchError, NotFound
from linewatch.inventory.choices import AccessTech, ServiceType
from linewatch.reports.figures import Period, Report, row_view
from linewatch.reports.service import Filters, build_report, paused_gc
from linewatch.reports.xlsx import workbook_bytes
from linewatch.tickets.choices import CauseCategory

router = APIRouter(prefix="/api/v1/reports", tags=["reports"], responses=ERROR_RESPONSES)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Account managers and contractors read reports too, limited to their own customers / circuits.
READERS = ("dispatcher", "support", "fault_manager", "manager_l3", "leader", "account_manager", "contractor")
ROWS_MAX = 10_000


def _choice(name: str, value: str | None, allowed: list[str]) -> str | None:
    if value in (None, ""):
        return None
    if value not in allowed:
        raise LinewatchError(f"{name} must be one of {', '.join(allowed)}: got {value!r}")
    return value


def report_filters(
    actor: Actor = Depends(require(*READERS)),
    region: str | None = None,
    customer: str | None = None,
    contractor: str | None = None,
    service_type: str | None = None,
    access: str | None = None,
    cause: str | None = None,
) -> Filters:
    """The query's filters, narrowed to what the reader may see."""
    return Filters(
        region=region or None,
        customer=customer or None,
        contractor=contractor or None,
        service_type=_choice("service_type", service_type, ServiceType.values()),
        access=_choice("access", access, AccessTech.values()),
        cause=_choice("cause", cause, [*CauseCategory.values(), "unknown"]),
    ).scoped(actor)


def _month(ctx: Context, month: str) -> Period:
    try:
        return Period.month(month, ctx.clock.tz)
    except ValueError as exc:
        raise LinewatchError(f"month must be YYYY-MM: {month!r}") from exc


def _between(ctx: Context, first: str, last: str) -> Period:
    try:
        return Period.between(first, last, ctx.clock.tz)
    except ValueError as exc:
        raise LinewatchError(f"from/to must be YYYY-MM-DD or YYYY-MM, 'to' not before 'from': {exc}") from exc


def _answer(report: Report, format: str) -> Response:
    if format == "xlsx":
        name = report.label.replace("..", "_")
        return Response(
            workbook_bytes(report),
            media_type=XLSX,
            headers={"Content-Disposition": f'attachment; filename="linewatch-{name}.xlsx"'},
        )
    if format != "json":
        raise LinewatchError("format must be json or xlsx")
    # Plain JSON values already (str, number, None, dicts and lists): encoded by json.dumps in one
    # call, not walked first by FastAPI's jsonable_encoder (≈ 0.15 s for a scale-100 month's
    # 65,000 per-circuit availabilities).
    return JSONResponse(report.figures)


@dataclass(frozen=True)
class RowsQuery:
    """Which number's rows to list, and which page of them."""

    view: str
    key: str | None = None
    offset: int = Query(0, ge=0)
    limit: int = Query(1000, ge=1, le=ROWS_MAX)

    def answer(self, report: Report) -> dict[str, Any]:
        if self.view not in report.groups:
            raise NotFound(f"no view {self.view!r}; views: {', '.join(sorted(report.groups))}")
        try:
            rows = row_view(report, self.view, self.key)
        except KeyError:
            rows = []  # a key with no rows (e.g. a region without faults) is a zero, not an error
        return {
            "period": report.label,
            "view": self.view,
            "key": self.key,
            "count": len(rows),
            "offset": self.offset,
            "items": rows[self.offset : self.offset + self.limit],
        }


@router.get("/monthly", response_model=None)
def monthly(
    month: str,
    format: str = "json",
    filters: Filters = Depends(report_filters),
    session: Session = Depends(reading),
    ctx: Context = Depends(get_ctx),
) -> Response:
    with paused_gc():  # until the report is freed (see paused_gc)
        report = build_report(session, ctx.policy, _month(ctx, month), ctx.clock.now(), filters)
        answer = _answer(report, format)
        del report
    return answer


@router.get("/monthly/rows")
def monthly_rows(
    month: str,
    query: RowsQuery = Depends(),
    filters: Filters = Depends(report_filters),
    session: Session = Depends(reading),
    ctx: Context = Depends(get_ctx),
) -> dict[str, Any]:
    """The rows behind one number, e.g. ``view=by_region&key=GL`` or ``view=sla_contact``."""
    with paused_gc():
        report = build_report(session, ctx.policy, _month(ctx, month), ctx.clock.now(), filters)
        answer = {"month": report.label, **query.answer(report)}
        del report
    return answer


@router.get("/statistics", response_model=None)
def statistics(
    first: str = Query(alias="from"),
    last: str = Query(alias="to"),
    format: str = "json",
    filters: Filters = Depends(report_filters),
    session: Session = Depends(reading),
    ctx: Context = Depends(get_ctx),
) -> Response:
    """Statistics for any run of days (``from``/``to`` inclusive) and filter (DOMAIN 9)."""
    with paused_gc():
        report = build_report(session, ctx.policy, _between(ctx, first, last), ctx.clock.now(), filters)
        answer = _answer(report, format)
        del report
    return answer


@router.get("/statistics/rows")
def statistics_rows(
    first: str = Query(alias="from"),
    last: str = Query(alias="to"),
    query: RowsQuery = Depends(),
    filters: Filters = Depends(report_filters),
    session: Session = Depends(reading),
    ctx: Context = Depends(get_ctx),
) -> dict[str, Any]:
    with paused_gc():
        report = build_report(session, ctx.policy, _between(ctx, first, last), ctx.clock.now(), filters)
        answer = query.answer(report)
        del report
    return answer
