"""Alarm ingestion (native HTTP, Alertmanager) and the alarm/incident reading and acting endpoints."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from linewatch.alarms import knowledge
from linewatch.alarms import service as alarms
from linewatch.alarms.normalise import AlarmEvent, Rejected, canonical_type, normalise_native
from linewatch.api.deps import (
    Remembered,
    RowId,
    RowIdFilter,
    current_actor,
    get_ctx,
    reading,
    remembered_actor,
    require,
    user_actor,
    writing,
)
from linewatch.api.errors import INGEST_RESPONSES
from linewatch.context import Context
from linewatch.core.actor import INGEST, Actor
from linewatch.core.errors import Forbidden, LinewatchError, NotFound, TooLarge
from linewatch.db.audit import record
from linewatch.incidents import service as incidents
from linewatch.incidents.choices import DiagnosisCategory
from linewatch.ingest.alertmanager import envelope_problem, normalise_alert, source_of
from linewatch.logs import IngestLog
from linewatch.tickets.service import route_diagnosis, tickets_of_incidents

router = APIRouter(prefix="/api/v1", tags=["alarms"], responses=INGEST_RESPONSES)
log = logging.getLogger("linewatch.ingest")
ACCEPTED = IngestLog(log)  # accepted requests, logged together (decision 131); flushed at shutdown
Limit = Query(100, ge=1, le=1000)
OPERATORS = ("dispatcher", "support", "engineer", "fault_manager")


async def ingest_actor(actor: Actor = Depends(current_actor)) -> Actor:
    if actor.role not in (INGEST, "admin"):
        raise Forbidden("posting alarms needs an ingest token (or an admin)")
    return actor


async def read_json(request: Request, ctx: Context, channel: str) -> Any:
    """The body as JSON, bounded in size; refusals are dead-lettered with the reason."""
    limit = ctx.policy.ingest.max_body_bytes
    remote = request.client.host if request.client else ""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        _dead_letter(ctx, channel, remote, f"body of {declared} bytes is over the {limit}-byte limit", b"")
        raise TooLarge(f"body is larger than {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            _dead_letter(ctx, channel, remote, f"body over the {limit}-byte limit", bytes(body[:4096]))
            raise TooLarge(f"body is larger than {limit} bytes")
    try:
        return json.loads(bytes(body))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        _dead_letter(ctx, channel, remote, f"not JSON: {exc}", bytes(body))
        raise LinewatchError(f"body is not valid JSON: {exc}") from exc
    except RecursionError as exc:
        _dead_letter(ctx, channel, remote, "JSON nested too deeply", bytes(body[:4096]))
        raise LinewatchError("body is nested too deeply") from exc


def _dead_letter(ctx: Context, channel: str, remote: str, reason: str, payload: bytes | str) -> None:
    with ctx.db.unit_of_work() as session:
        alarms.reject(session, ctx.clock, channel, remote, reason, payload)


INLINE_ITEMS = 20  # a request this small is normalised on the event loop: no thread hop
SUBMIT_TIMEOUT_SECONDS = 60


async def ingest(ctx: Context, channel: str, remote: str, items: list[Any], normalise: Any) -> JSONResponse:
    """Normalise each item, store the good ones durably, dead-letter the bad ones: 202, or 400 if none.
    The event loop awaits the pipeline's answer itself (no pool thread blocked per request); a big
    batch is normalised, and dead letters written, on the thread pool."""
    if len(items) > ctx.policy.ingest.max_batch:
        reason = f"{len(items)} items, over the batch limit"
        await run_in_threadpool(_dead_letter, ctx, channel, remote, reason, json.dumps(items[:3]))
        raise TooLarge(f"at most {ctx.policy.ingest.max_batch} alarms per request, got {len(items)}")
    if len(items) <= INLINE_ITEMS:
        events, rejected = _normalised(ctx, items, normalise)
    else:
        events, rejected = await run_in_threadpool(_normalised, ctx, items, normalise)
    if rejected:
        await run_in_threadpool(_dead_letters, ctx, channel, remote, items, rejected)
    # shielded: a client that goes away must not cancel what the pipeline is already storing
    waiting = ctx.pipeline.enqueue_async(channel, events)
    outcomes = await asyncio.wait_for(asyncio.shield(waiting), SUBMIT_TIMEOUT_SECONDS)
    alarm_ids = sorted({o.alarm_id for o in outcomes if o.alarm_id is not None})
    if rejected:
        log.warning(
            "stored %d events (%d rejected) from %s",
            len(outcomes),
            len(rejected),
            channel,
            extra={"channel": channel, "remote": remote, "alarm_ids": alarm_ids[:50]},
        )
    else:
        ACCEPTED.add(channel, len(outcomes), alarm_ids)
    body = {"accepted": len(outcomes), "ids": [o.alarm_id for o in outcomes], "rejected": rejected}
    if not outcomes:
        return JSONResponse({"error": "no alarm accepted", "detail": None, **body}, status_code=400)
    return JSONResponse(body, status_code=202)


def _normalised(
    ctx: Context, items: list[Any], normalise: Any
) -> tuple[list[AlarmEvent], list[dict[str, Any]]]:
    received = ctx.clock.now()
    events: list[AlarmEvent] = []
    rejected: list[dict[str, Any]] = []
    for position, item in enumerate(items):
        result = normalise(item, received)
        if isinstance(result, Rejected):
            rejected.append({"index": position, "error": result.reason})
        else:
            events.append(result)
    return events, rejected


def _dead_letters(
    ctx: Context, channel: str, remote: str, items: list[Any], rejected: list[dict[str, Any]]
) -> None:
    with ctx.db.unit_of_work() as session:
        for entry in rejected:
            alarms.reject(
                session,
                ctx.clock,
                channel,
                remote,
                f"item {entry['index']}: {entry['error']}",
                json.dumps(items[entry["index"]], ensure_ascii=False, default=str),
            )


@router.post("/alarms", status_code=202)
async def post_alarms(
    request: Request, actor: Actor = Depends(ingest_actor), ctx: Context = Depends(get_ctx)
) -> JSONResponse:
    """Native alarms: one object or an array of up to the batch limit (INTERFACES "Native HTTP")."""
    return await native_alarms(request, ctx)


async def native_alarms(request: Request, ctx: Context) -> JSONResponse:
    payload = await read_json(request, ctx, "http")
    items = payload if isinstance(payload, list) else [payload]
    tz, aliases = ctx.clock.tz, ctx.policy.alarms.type_aliases
    remote = request.client.host if request.client else ""
    return await ingest(ctx, "http", remote, items, lambda item, at: normalise_native(item, at, tz, aliases))


class IngestFastPath:
    """ASGI middleware: a native alarm POST whose bearer token was looked up lately goes straight to
    its handler. FastAPI's routing and dependency solving were ≈ 40 % of the event loop's time for
    a one-alarm request (decision 153). Everything else — another path, no token, a token not
    remembered — takes the normal route, which also answers every refusal as documented."""

    PATH = router.prefix + "/alarms"

    def __init__(
        self, app: ASGIApp, ctx: Context, remembered: Remembered, errors: Callable[[Exception], Response]
    ) -> None:
        self.app, self.ctx, self.remembered, self.errors = app, ctx, remembered, errors

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        actor = self._actor(scope)
        if actor is None:
            await self.app(scope, receive, send)
            return
        try:
            response: Response = await native_alarms(Request(scope, receive), self.ctx)
        except Exception as exc:  # mapped as the app's exception handlers map it
            response = self.errors(exc)
        await response(scope, receive, send)

    def _actor(self, scope: Scope) -> Actor | None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != self.PATH:
            return None
        header = next((v for k, v in scope["headers"] if k == b"authorization"), b"").decode("latin-1")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        actor = remembered_actor(self.remembered, token.strip())
        return actor if actor is not None and actor.role in (INGEST, "admin") else None


@router.post("/ingest/alertmanager", status_code=202)
async def post_alertmanager(
    request: Request, actor: Actor = Depends(ingest_actor), ctx: Context = Depends(get_ctx)
) -> JSONResponse:
    """Prometheus Alertmanager webhook, payload version 4 (INTERFACES "Alarm ingestion")."""
    payload = await read_json(request, ctx, "alertmanager")
    tz, aliases = ctx.clock.tz, ctx.policy.alarms.type_aliases
    remote = request.client.host if request.client else ""
    problem = envelope_problem(payload)
    source = "" if problem else source_of(payload)

    def known(name: str) -> bool:
        return name in ctx.index.ne_by_name  # read per call: the index is swapped on inventory change

    def normalise(item: Any, at: datetime) -> AlarmEvent | Rejected:
        if problem:  # the whole body is one refused item: dead-lettered as received, 400
            return Rejected(problem)
        return normalise_alert(item, at, tz, aliases, known, source=source)

    items = [payload] if problem else payload["alerts"]
    return await ingest(ctx, "alertmanager", remote, items, normalise)


@router.get("/ingest/rejected")
def rejected_items(
    limit: int = Limit,
    cursor: str | None = None,
    actor: Actor = Depends(require()),
    session: Session = Depends(reading),
) -> dict[str, Any]:
    """Dead letters: every refused item with its reason (admins)."""
    return alarms.list_rejected(session, limit, cursor)


@router.get("/alarms")
def list_alarms(
    limit: int = Limit,
    cursor: str | None = None,
    state: str = "active",
    ne: str | None = None,
    customer: str | None = None,
    circuit: str | None = None,
    type: str | None = None,
    matched: bool | None = None,
    planned: bool | None = None,
    drill: bool | None = None,
    incident: RowIdFilter = None,
    actor: Actor = Depends(user_actor),
    session: Session = Depends(reading),
    ctx: Context = Depends(get_ctx),
) -> dict[str, Any]:
    return alarms.list_alarms(
        session,
        actor,
        ctx.suggestions,
        limit=limit,
        cursor=cursor,
        state=state,
        ne=ne,
        customer=customer,
        circuit=circuit,
        type=type,
        matched=matched,
        planned=planned,
        drill=drill,
        incident=incident,
        index=ctx.index,
    )


@router.get("/alarms/{alarm_id}")
def get_alarm(
    alarm_id: RowId,
    actor: Actor = Depends(user_actor),
    session: Session = Depends(reading),
    ctx: Context = Depends(get_ctx),
) -> dict[str, Any]:
    return alarms.get_alarm(session, actor, alarm_id, ctx.suggestions, ctx.index)


class AckBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(None, max_length=4000)


class ClearBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(..., min_length=1, max_length=4000)


class NoteBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(..., min_length=1, max_length=4000)


@router.post("/alarms/{alarm_id}/ack")
def acknowledge(
    alarm_id: RowId,
    body: AckBody | None = None,
    actor: Actor = Depends(require(*OPERATORS)),
    ctx: Context = Depends(get_ctx),
) -> dict[str, Any]:
    with ctx.db.unit_of_work() as session:
        alarms.acknowledge(session, ctx.clock, actor, alarm_id, body.note if body else None)
    ctx.bus.publish("alarms.acked", {"alarm_id": alarm_id, "by": actor.label})  # once stored: the live view
    return {"id": alarm_id, "ack": {"by": actor.label, "at": ctx.clock.now().isoformat()}}


@router.post("/alarms/{alarm_id}/notes", status_code=201)
def add_note(
    alarm_id: RowId,
    body: NoteBody,
    actor: Actor = Depends(require(*OPERATORS, "contractor")),
    session: Session = Depends(writing),
    ctx: Context = Depends(get_ctx),
) -> dict[str, Any]:
    alarms.add_note(session, ctx.clock, actor, alarm_id, body.text)
    return {"id": alarm_id}


@router.post("/alarms/{alarm_id}/clear")
def manual_clear(
    alarm_id: RowId,
    body: ClearBody,
    actor: Actor = Depends(require(*OPERATORS)),
    ctx: Context = Depends(get_ctx),
) -> dict[str, Any]:
    """手工清除: clear by hand, with a reason; the incident recomputes its impact."""
    with ctx.db.reading() as session:
        alarms.check_clearable(session, actor, alarm_id)
    if not ctx.pipeline.manual_clear(alarm_id, body.reason, actor.label):
        raise NotFound(f"alarm {alarm_id} is not active")
    with ctx.db.unit_of_work() as session:
        record(
            session,
            ctx.clock,
            actor.label,
            "manual_clear",
            "alarm",
            str(alarm_id),
            after={"reason": body.reason},
        )
    return {"id": alarm_id, "state": "cleared"}


def _id_list(text: str) -> list[int]:
    """``ids=1,2,3``: what a live page asks for after an event names the incidents that changed."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts or not all(p.isdigit() for p in parts):
        raise LinewatchError(f"ids must be comma-separated incident ids, not {text[:100]!r}")
    if len(parts) > 1000:
        raise LinewatchError(f"at most 1000 ids at a time, not {len(parts)}")
    return [int(p) for p in parts]


@router.get("/incidents")
def list_incidents(
    limit: int = Limit,
    cursor: str | None = None,
    state: str = "open",
    level: str | None = None,
    drill: bool | None = None,
    ids: str | None = Query(None, description="comma-separated incident ids (at most 1,000)"),
    actor: Actor = Depends(user_actor),
    session: Session = Depends(reading),
    ctx: Context = Depends(get_ctx),
) -> dict[str, Any]:
    wanted = _id_list(ids) if ids is not None else None
    page = incidents.list_incidents(
        session,
        actor,
        ctx.clock.now(),
        limit=limit,
        cursor=cursor,
        state=state,
        level=level,
        drill=drill,
        ids=wanted,
    )
    by_incident = tickets_of_incidents(session, [i["id"] for i in page["items"]])
    for item in page["items"]:
        item["ticket_ids"] = by_incident.get(item["id"], [])
    return page


@router.get("/incidents/{incident_id}")
def get_incident(
    incident_id: RowId,
    actor: Actor = Depends(user_actor),
    session: Session = Depends(reading),
    ctx: Context = Depends(get_ctx),
) -> dict[str, Any]:
    result = incidents.get_incident(session, actor, incident_id, ctx.clock.now())
    result["ticket_ids"] = tickets_of_incidents(session, [incident_id]).get(incident_id, [])
    root = result["root_alarm_id"]
    if root is not None:
        try:
            result["suggestion"] = alarms.get_alarm(session, actor, root, ctx.suggestions)["suggestion"]
        except NotFound:
            result["suggestion"] = None
    return result


class DiagnosisBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    category: str
    team: str | None = None
    note: str | None = Field(None, max_length=4000)


@router.post("/incidents/{incident_id}/diagnosis")
def diagnose(
    incident_id: RowId,
    body: DiagnosisBody,
    actor: Actor = Depends(require("dispatcher", "support")),
    session: Session = Depends(writing),
    ctx: Context = Depends(get_ctx),
) -> dict[str, Any]:
    incidents.diagnose(session, ctx.clock, actor, incident_id, body.category, body.note)
    category = DiagnosisCategory.parse(body.category).value
    opened = route_diagnosis(session, ctx.downstream.env, actor, incident_id, category, body.team)
    return {"id": incident_id, "diagnosis": category, "ticket_ids": [t.id for t in opened]}


class KnowledgeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: str = Field(..., min_length=1, max_length=200)
    access: str = Field("", max_length=16)
    service_type: str = Field("", max_length=16)
    causes: list[str] = Field(default_factory=list, max_length=50)
    steps: list[str] = Field(default_factory=list, max_length=50)


@router.get("/knowledge")
def list_knowledge(actor: Actor = Depends(user_actor), session: Session = Depends(reading)) -> dict[str, Any]:
    """The handling-suggestion knowledge base (处理建议)."""
    return {"items": knowledge.list_entries(session), "next_cursor": None}


@router.put("/knowledge")
def put_knowledge(
    body: KnowledgeBody,
    actor: Actor = Depends(require("dispatcher", "support", "engineer")),
    ctx: Context = Depends(get_ctx),
) -> dict[str, Any]:
    """Create or replace the entry for (type, access, service type); empty access/service = any."""
    alarm_type = canonical_type(body.type, ctx.policy.alarms.type_aliases)
    with ctx.db.unit_of_work() as session:
        knowledge.upsert_entry(
            session,
            ctx.clock,
            actor.label,
            alarm_type,
            body.access.upper(),
            body.service_type.lower(),
            [c.strip() for c in body.causes if c.strip()],
            [s.strip() for s in body.steps if s.strip()],
        )
    ctx.reload_suggestions()
    return ctx.suggestions.suggest(alarm_type, body.access, body.service_type)
