"""Cutover, assurance and verdict endpoints (INTERFACES "Acting": cutovers, assurance, verdict)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from linewatch.api.deps import RowId, get_ctx, require, user_actor
from linewatch.api.errors import ERROR_RESPONSES
from linewatch.api.reports import XLSX
from linewatch.assurance import drills
from linewatch.assurance import service as assurance
from linewatch.context import Context
from linewatch.core.actor import Actor
from linewatch.core.clock import parse_time
from linewatch.core.errors import LinewatchError, NotFound, ValidationFailed
from linewatch.cutovers import service as cutovers
from linewatch.tickets import service as tickets

router = APIRouter(prefix="/api/v1", tags=["cutovers"], responses=ERROR_RESPONSES)
PLANNERS = ("dispatcher", "support", "fault_manager")  # who registers cutovers and assurance periods


def _time(ctx: Context, value: str | None, field: str) -> datetime | None:
    if not value:
        return None
    try:
        return parse_time(value, ctx.clock.tz)
    except ValueError as exc:
        raise LinewatchError(f"'{field}' is not an RFC 3339 time: {value!r}") from exc


def _required(ctx: Context, value: str, field: str) -> datetime:
    parsed = _time(ctx, value, field)
    if parsed is None:
        raise LinewatchError(f"'{field}' is required")
    return parsed


class PortRef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ne: str
    port: str


class ResourcesBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    nes: list[str] = Field(default_factory=list, max_length=1000)
    ports: list[PortRef] = Field(default_factory=list, max_length=5000)
    circuits: list[str] = Field(default_factory=list, max_length=5000)


class CutoverBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    task_no: str = Field(..., min_length=1, max_length=100)
    cause: str
    window_start: str
    window_end: str
    impact: str
    expected_minutes: int = Field(0, ge=0, le=7 * 24 * 60)
    region: str = Field("", max_length=64)
    initiator: str = Field("", max_length=200)
    published_at: str | None = None
    resources: ResourcesBody
    description: str = Field("", max_length=4000)


def _declared(ctx: Context, body: CutoverBody) -> cutovers.Declared:
    return cutovers.Declared(
        task_no=body.task_no,
        cause=body.cause,
        window_start=_required(ctx, body.window_start, "window_start"),
        window_end=_required(ctx, body.window_end, "window_end"),
        impact=body.impact,
        expected_minutes=body.expected_minutes,
        region=body.region,
        initiator=body.initiator,
        published_at=_time(ctx, body.published_at, "published_at"),
        nes=body.resources.nes,
        ports=[(p.ne, p.port) for p in body.resources.ports],
        circuits=body.resources.circuits,
        description=body.description,
    )


@router.post("/cutovers", status_code=201)
def register_cutover(
    body: CutoverBody, actor: Actor = Depends(require(*PLANNERS)), ctx: Context = Depends(get_ctx)
) -> JSONResponse:
    declared = _declared(ctx, body)
    with ctx.db.unit_of_work() as session:
        cutover = cutovers.register(session, ctx.clock, ctx.policy, ctx.index, actor, declared)
        result = cutovers.as_dict(session, cutover, ctx.index)
    ctx.refresh_plans()
    return JSONResponse(result, status_code=201)


@router.put("/cutovers/{cutover_id}")
def edit_cutover(
    cutover_id: RowId,
    body: CutoverBody,
    actor: Actor = Depends(require(*PLANNERS)),
    ctx: Context = Depends(get_ctx),
) -> dict[str, Any]:
    declared = _declared(ctx, body)
    with ctx.db.unit_of_work() as session:
        cutover = cutovers.edit(session, ctx.clock, ctx.policy, ctx.index, actor, cutover_id, declared)
        session.flush()
        result = cutovers.as_dict(session, cutover, ctx.index)
    ctx.refresh_plans()
    return result


@router.post("/cutovers/{cutover_id}/cancel")
def cancel_cutover(
    cutover_id: RowId, actor: Actor = Depends(require(*PLANNERS)), ctx: Context = Depends(get_ctx)
) -> dict[str, Any]:
    with ctx.db.unit_of_work() as session:
        cutover = cutovers.cancel(session, ctx.clock, actor, cutover_id)
        result = cutovers.as_dict(session, cutover, ctx.index)
    ctx.refresh_plans()
    return result


@router.get("/cutovers")
def list_cutovers(
    since: str | None = None,
    lang: str = Query("zh", pattern="^(zh|en)$"),
    _actor: Actor = Depends(user_actor),
    ctx: Context = Depends(get_ctx),
) -> dict[str, Any]:
    with ctx.db.reading() as session:
        items = [
            cutovers.as_dict(session, c, ctx.index, lang)
            for c in cutovers.listing(session, _time(ctx, since, "since"))
        ]
    return {"items": items}


@router.get("/cutovers/{cutover_id}")
def get_cutover(
    cutover_id: RowId,
    lang: str = Query("zh", pattern="^(zh|en)$"),
    _actor: Actor = Depends(user_actor),
    ctx: Context = Depends(get_ctx),
) -> dict[str, Any]:
    with ctx.db.reading() as session:
        return cutovers.as_dict(session, cutovers.get(session, cutover_id), ctx.index, lang)


@router.get("/cutovers/{cutover_id}/notice.{fmt}")
def notice_export(
    cutover_id: RowId,
    fmt: str,
    lang: str = Query("zh", pattern="^(zh|en)$"),
    _actor: Actor = Depends(user_actor),
    ctx: Context = Depends(get_ctx),
) -> Response:
    """The customer notice table as CSV or Excel (formula-like text neutralised in both)."""
    if fmt not in ("csv", "xlsx"):
        raise NotFound(f"no notice format {fmt!r} (csv or xlsx)")
    with ctx.db.reading() as session:
        cutover = cutovers.get(session, cutover_id)
        rows = cutovers.notice_rows(session, cutover, ctx.index, lang)
    disposition = {"Content-Disposition": f'attachment; filename="notice-{cutover_id}.{fmt}"'}
    if fmt == "xlsx":
        return Response(cutovers.notice_xlsx(rows, lang), media_type=XLSX, headers=disposition)
    # a BOM so Excel opens the Chinese columns as UTF-8
    return Response(
        "\ufeff" + cutovers.notice_csv(rows, lang), media_type="text/csv; charset=utf-8", headers=disposition
    )


@router.get("/tickets/{ticket_id}/verdict")
def ticket_verdict(
    ticket_id: RowId, actor: Actor = Depends(user_actor), ctx: Context = Depends(get_ctx)
) -> dict[str, Any]:
    with ctx.db.reading() as session:
        tickets._visible(session, actor, ticket_id)  # scoped like the ticket itself
        return cutovers.ticket_verdict(session, ctx.policy, ctx.clock.now(), ticket_id)


class ScopeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    customers: list[str] = Field(default_factory=list, max_length=5000)
    circuits: list[str] = Field(default_factory=list, max_length=5000)
    regions: list[str] = Field(default_factory=list, max_length=500)


class TeamMember(BaseModel):
    """One of the period's duty staff; a shift inside the window, else the whole window."""

    model_config = ConfigDict(extra="forbid")
    staff: str = Field(..., min_length=1, max_length=64)
    start: str | None = None
    end: str | None = None


class AssuranceBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(..., min_length=1, max_length=200)
    level: int = Field(..., ge=1, le=3)
    start: str
    end: str
    scope: ScopeBody
    roster: str = Field("", max_length=20000)
    plan: str = Field("", max_length=20000)
    team: list[TeamMember] = Field(default_factory=list, max_length=500)


@router.post("/assurance", status_code=201)
def create_assurance(
    body: AssuranceBody, actor: Actor = Depends(require(*PLANNERS)), ctx: Context = Depends(get_ctx)
) -> JSONResponse:
    with ctx.db.unit_of_work() as session:
        period = assurance.create(
            session,
            ctx.clock,
            actor,
            name=body.name,
            level=body.level,
            start=_required(ctx, body.start, "start"),
            end=_required(ctx, body.end, "end"),
            scope=body.scope.model_dump(),
            roster=body.roster,
            plan=body.plan,
            team=[
                {
                    "staff": m.staff,
                    "start": _time(ctx, m.start, "team.start"),
                    "end": _time(ctx, m.end, "team.end"),
                }
                for m in body.team
            ],
        )
        result = assurance.as_dict(period, session=session)
    ctx.refresh_plans()
    return JSONResponse(result, status_code=201)


@router.get("/assurance")
def list_assurance(_actor: Actor = Depends(user_actor), ctx: Context = Depends(get_ctx)) -> dict[str, Any]:
    with ctx.db.reading() as session:
        return {"items": [assurance.as_dict(p) for p in assurance.listing(session)]}


@router.get("/assurance/{period_id}")
def get_assurance(
    period_id: RowId, _actor: Actor = Depends(user_actor), ctx: Context = Depends(get_ctx)
) -> dict[str, Any]:
    with ctx.db.reading() as session:
        return assurance.as_dict(assurance.get(session, period_id), session=session)


class TimedStep(BaseModel):
    model_config = ConfigDict(extra="forbid")
    after_minutes: int = Field(..., ge=1, le=7 * 24 * 60)
    alarms: list[Any] = Field(..., min_length=1, max_length=1000)


class DrillBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(..., min_length=1, max_length=200)
    alarms: list[Any] = Field(..., min_length=1, max_length=1000)
    steps: list[TimedStep] = Field(default_factory=list, max_length=100)  # raise/clear at +N minutes


class DrillStep(BaseModel):
    model_config = ConfigDict(extra="forbid")
    alarms: list[Any] = Field(..., min_length=1, max_length=1000)


def _inject(ctx: Context, items: list[Any]) -> list[int]:
    events = drills.scripted_events(items, ctx.clock.now(), ctx.clock.tz, ctx.policy.alarms.type_aliases)
    alarm_ids = drills.run_step(ctx.pipeline.submit, events)
    ctx.settle()  # the drill's incident is dispatched like a real one before we answer
    return alarm_ids


@router.post("/drills", status_code=201)
def start_drill(
    body: DrillBody, actor: Actor = Depends(require(*PLANNERS)), ctx: Context = Depends(get_ctx)
) -> JSONResponse:
    now, aliases = ctx.clock.now(), ctx.policy.alarms.type_aliases
    for number, step in enumerate(body.steps, 1):  # the whole script is checked before anything runs
        try:
            drills.scripted_events(step.alarms, now, ctx.clock.tz, aliases)
        except LinewatchError as exc:
            where = f"step {number} (+{step.after_minutes} min)"
            raise ValidationFailed(f"{where}: {exc.message}", detail=exc.detail) from exc
    alarm_ids = _inject(ctx, body.alarms)
    timed = [(step.after_minutes, step.alarms) for step in body.steps]
    with ctx.db.unit_of_work() as session:
        drill = drills.record(session, ctx.clock, actor, body.name, body.alarms, alarm_ids, timed)
        result = _drill(drill)
    return JSONResponse(result, status_code=201)


def _drill(drill: Any) -> dict[str, Any]:
    return {
        "id": drill.id,
        "name": drill.name,
        "started_at": drill.started_at.isoformat(),
        "started_by": drill.started_by,
        "alarm_ids": drill.alarm_ids,
        "steps": drills.steps_of(drill),
    }


@router.get("/drills")
def list_drills(
    _actor: Actor = Depends(require(*PLANNERS)), ctx: Context = Depends(get_ctx)
) -> dict[str, Any]:
    with ctx.db.reading() as session:
        return {"items": [_drill(d) for d in drills.listing(session)]}


@router.post("/drills/{drill_id}/steps")
def drill_step(
    drill_id: RowId,
    body: DrillStep,
    actor: Actor = Depends(require(*PLANNERS)),
    ctx: Context = Depends(get_ctx),
) -> dict[str, Any]:
    """A later scripted step (a clear, a second fault), injected when the exercise calls for it."""
    with ctx.db.reading() as session:
        drills.get(session, drill_id)
    alarm_ids = _inject(ctx, body.alarms)
    with ctx.db.unit_of_work() as session:
        drill = drills.add_step(session, ctx.clock, actor, drill_id, body.alarms, alarm_ids)
        return _drill(drill)


@router.get("/drills/{drill_id}/report")
def drill_report(
    drill_id: RowId, actor: Actor = Depends(require(*PLANNERS)), ctx: Context = Depends(get_ctx)
) -> dict[str, Any]:
    with ctx.db.reading() as session:
        return drills.report(session, ctx.downstream.env, actor, drill_id)
