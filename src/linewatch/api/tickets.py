"""Ticket endpoints (INTERFACES "Acting" and "Reading state"): reports, events, dispatch, reads."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from linewatch.api.deps import RowId, RowIdFilter, get_ctx, reading, require, user_actor
from linewatch.api.errors import ERROR_RESPONSES
from linewatch.context import Context
from linewatch.core.actor import Actor
from linewatch.core.clock import parse_time
from linewatch.core.errors import LinewatchError
from linewatch.reports.warnings import warned_customers
from linewatch.tickets import service as tickets

router = APIRouter(prefix="/api/v1", tags=["tickets"], responses=ERROR_RESPONSES)
Limit = Query(100, ge=1, le=1000)
WORKERS = ("dispatcher", "support", "engineer", "fault_manager", "contractor")
# who an escalation reaches (policy tickets.escalation_roles) and the NOC that follows it up
ESCALATION_TAKERS = ("dispatcher", "support", "fault_manager", "manager_l3", "leader")


def _time(ctx: Context, value: str | None, field: str) -> datetime | None:
    if not value:
        return None
    try:
        return parse_time(value, ctx.clock.tz)
    except ValueError as exc:
        raise LinewatchError(f"'{field}' is not an RFC 3339 time: {value!r}") from exc


class ReportBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel: str
    customer: str = Field(..., min_length=1, max_length=200)
    circuit: str | None = Field(None, max_length=200)
    description: str = Field("", max_length=4000)
    reported_at: str | None = None


@router.post("/tickets", status_code=201)
def customer_report(
    body: ReportBody,
    actor: Actor = Depends(require("dispatcher", "support", "fault_manager")),
    ctx: Context = Depends(get_ctx),
) -> JSONResponse:
    """A customer report (10086-8, 400, direct): linked to an open incident, or its own ticket."""
    env = ctx.downstream.env
    with ctx.db.unit_of_work() as session:
        ticket, created = tickets.report(
            session,
            env,
            actor,
            channel=body.channel,
            customer_code=body.customer,
            circuit_code=body.circuit,
            description=body.description,
            reported_at=_time(ctx, body.reported_at, "reported_at"),
        )
        result = tickets.get_ticket(session, env, actor, ticket.id)
    return JSONResponse({**result, "linked": not created}, status_code=201 if created else 200)


class EventBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: str
    at: str | None = None
    note: str | None = Field(None, max_length=4000)
    cause: str | None = None
    resolution: str | None = Field(None, max_length=4000)
    team: str | None = None


@router.post("/tickets/{ticket_id}/events")
def ticket_event(
    ticket_id: RowId,
    body: EventBody,
    actor: Actor = Depends(require(*WORKERS)),
    ctx: Context = Depends(get_ctx),
) -> dict[str, Any]:
    env = ctx.downstream.env
    with ctx.db.unit_of_work() as session:
        root_type = None
        if body.type == "close":
            ticket = tickets._visible(session, actor, ticket_id, acting=True)
            root_type = tickets.root_alarm_type(session, ticket)
        acted = tickets.apply_event(
            session,
            env,
            actor,
            ticket_id,
            body.type,
            at=_time(ctx, body.at, "at"),
            note=body.note,
            cause=body.cause,
            resolution=body.resolution,
            team_code=body.team,
            root_alarm_type=root_type,
        )
        # the ticket as it now stands, unscoped: a contractor that transferred it away may no longer
        # read it, yet the transfer stands (a scoped read here refused it and rolled it back)
        result = tickets.ticket_dicts(session, env, [acted], with_events=True)[0]
    if body.type == "close":
        ctx.reload_suggestions()  # the closed ticket's cause now counts in the suggestions
    return result


class EscalationAck(BaseModel):
    model_config = ConfigDict(extra="forbid")
    level: str
    note: str | None = Field(None, max_length=4000)


@router.post("/tickets/{ticket_id}/escalations/ack")
def acknowledge_escalation(
    ticket_id: RowId,
    body: EscalationAck,
    actor: Actor = Depends(require(*ESCALATION_TAKERS)),
    ctx: Context = Depends(get_ctx),
) -> dict[str, Any]:
    """Take on the ticket's open escalations at ``level`` (fault_manager, manager_l3, leader)."""
    env = ctx.downstream.env
    with ctx.db.unit_of_work() as session:
        ticket = tickets.acknowledge_escalation(session, env, actor, ticket_id, body.level, body.note)
        return tickets.ticket_dicts(session, env, [ticket], with_events=True)[0]


class SupportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str = Field(..., max_length=4000)


@router.post("/tickets/{ticket_id}/support", status_code=201)
def request_support(
    ticket_id: RowId,
    body: SupportRequest,
    actor: Actor = Depends(require(*WORKERS)),
    ctx: Context = Depends(get_ctx),
) -> dict[str, Any]:
    """Ask the fault manager for 技术支援 now (the locate deadline would escalate it anyway)."""
    env = ctx.downstream.env
    with ctx.db.unit_of_work() as session:
        ticket = tickets.request_support(session, env, actor, ticket_id, body.note)
        return tickets.ticket_dicts(session, env, [ticket], with_events=True)[0]


@router.get("/tickets")
def list_tickets(
    limit: int = Limit,
    cursor: str | None = None,
    state: str | None = None,
    incident: RowIdFilter = None,
    team: str | None = None,
    customer: str | None = None,
    open: bool = False,
    actor: Actor = Depends(user_actor),
    session: Session = Depends(reading),
    ctx: Context = Depends(get_ctx),
) -> dict[str, Any]:
    return tickets.list_tickets(
        session,
        ctx.downstream.env,
        actor,
        limit=limit,
        cursor=cursor,
        state=state,
        incident=incident,
        team=team,
        customer=customer,
        open_only=open,
        warned=warned_customers(session, ctx.clock.now()),
    )


@router.get("/tickets/breaches")
def breaches(
    since: str,
    until: str,
    actor: Actor = Depends(require("dispatcher", "support", "fault_manager", "manager_l3", "leader")),
    session: Session = Depends(reading),
    ctx: Context = Depends(get_ctx),
) -> dict[str, Any]:
    """SLA breaches and escalations per contractor/team in [since, until) (drills excluded)."""
    start, end = _time(ctx, since, "since"), _time(ctx, until, "until")
    if start is None or end is None or end <= start:
        raise LinewatchError("give 'since' before 'until'")
    return {
        "since": start.isoformat(),
        "until": end.isoformat(),
        "by_team": tickets.breach_counts(session, start, end),
    }


@router.get("/tickets/{ticket_id}")
def get_ticket(
    ticket_id: RowId,
    actor: Actor = Depends(user_actor),
    session: Session = Depends(reading),
    ctx: Context = Depends(get_ctx),
) -> dict[str, Any]:
    return tickets.get_ticket(session, ctx.downstream.env, actor, ticket_id)


class DispatchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    team: str | None = None


@router.post("/incidents/{incident_id}/dispatch", status_code=201)
def dispatch(
    incident_id: RowId,
    body: DispatchBody | None = None,
    actor: Actor = Depends(require("dispatcher", "support")),
    ctx: Context = Depends(get_ctx),
) -> Any:
    """Dispatch by hand from the console (to a team, or to the impacted circuits' maintainers)."""
    env = ctx.downstream.env
    with ctx.db.unit_of_work() as session:
        opened = tickets.dispatch_incident(
            session, env, actor.label, incident_id, channel="console", team_code=body.team if body else None
        )
        ids = [t.id for t in opened]
    return {"incident_id": incident_id, "ticket_ids": ids}
