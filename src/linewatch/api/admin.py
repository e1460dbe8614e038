"""Admin endpoints: the manual clock, tokens, users, the audit log, the effective policy."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from linewatch.access import service as access
from linewatch.api.deps import RowId, admin_only, forget_tokens, get_ctx, reading, user_actor, writing
from linewatch.api.errors import ERROR_RESPONSES
from linewatch.context import Context
from linewatch.core.actor import Actor
from linewatch.core.clock import ManualClock, parse_time
from linewatch.core.errors import LinewatchError, NotFound
from linewatch.core.ids import parse_cursor
from linewatch.db.audit import AuditEntry, record

router = APIRouter(prefix="/api/v1", tags=["admin"], responses=ERROR_RESPONSES)


class ClockMove(BaseModel):
    model_config = ConfigDict(extra="forbid")
    set: str | None = Field(None, description="RFC 3339 time to set the clock to (backwards allowed)")
    advance_seconds: float | None = Field(None, ge=0)


@router.get("/admin/clock")
def read_clock(actor: Actor = Depends(admin_only), ctx: Context = Depends(get_ctx)) -> dict[str, Any]:
    if not isinstance(ctx.clock, ManualClock):
        raise NotFound("the clock is manual only with LINEWATCH_CLOCK=manual")
    return {"now": ctx.clock.now().isoformat(), "manual": True}


@router.post("/admin/clock")
def move_clock(
    body: ClockMove, actor: Actor = Depends(admin_only), ctx: Context = Depends(get_ctx)
) -> dict[str, Any]:
    clock = ctx.clock
    if not isinstance(clock, ManualClock):
        raise NotFound("the clock is manual only with LINEWATCH_CLOCK=manual")
    if (body.set is None) == (body.advance_seconds is None):
        raise LinewatchError("give exactly one of 'set' or 'advance_seconds'")
    before = clock.now()
    # The target is computed (and range-checked) before the clock moves, so a refused move
    # changes nothing and reaches no listener.
    if body.set is not None:
        try:
            when = parse_time(body.set, clock.tz).astimezone(clock.tz)
        except (ValueError, OverflowError) as exc:
            raise LinewatchError(f"'set' is not an RFC 3339 time: {body.set!r}") from exc
    else:
        try:
            when = before + timedelta(seconds=body.advance_seconds or 0)
        except OverflowError as exc:
            raise LinewatchError(f"advance_seconds={body.advance_seconds} is out of range") from exc
    clock.set(when)
    with ctx.db.unit_of_work() as session:
        record(
            session,
            clock,
            actor.label,
            "move",
            "clock",
            "",
            before={"now": before.isoformat()},
            after={"now": clock.now().isoformat()},
        )
    return {"now": clock.now().isoformat(), "manual": True}


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    staff: str | None = None
    kind: str | None = Field(None, pattern="^(ingest|user)$")
    name: str | None = None
    user: str | None = None


@router.post("/admin/tokens", status_code=201)
def create_token(
    body: TokenRequest,
    actor: Actor = Depends(admin_only),
    session: Session = Depends(writing),
    ctx: Context = Depends(get_ctx),
) -> dict[str, Any]:
    if body.kind == "ingest":
        issued = access.create_token(session, ctx.clock, actor, ingest_name=body.name or "")
    else:
        issued = access.create_token(session, ctx.clock, actor, staff=body.staff, username=body.user)
    return {"id": issued.id, "token": issued.token, "kind": issued.kind, "name": issued.name}


@router.get("/admin/tokens")
def list_tokens(actor: Actor = Depends(admin_only), session: Session = Depends(reading)) -> dict[str, Any]:
    return {"items": access.list_tokens(session), "next_cursor": None}


@router.delete("/admin/tokens/{token_id}", status_code=204)
def revoke_token(
    token_id: RowId, request: Request, actor: Actor = Depends(admin_only), ctx: Context = Depends(get_ctx)
) -> None:
    with ctx.db.unit_of_work() as session:
        access.revoke_token(session, ctx.clock, actor, token_id)
    forget_tokens(request)  # after the commit: no request can cache the token as valid again


class UserRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = ""
    role: str = ""
    password: str | None = None
    staff: str | None = None
    display_name: str = ""


@router.post("/admin/users", status_code=201)
def create_user(
    body: UserRequest,
    actor: Actor = Depends(admin_only),
    session: Session = Depends(writing),
    ctx: Context = Depends(get_ctx),
) -> dict[str, Any]:
    if not body.staff and not (body.username and body.role):
        raise LinewatchError("give 'staff', or 'username' and 'role'")
    user = access.create_user(
        session,
        ctx.clock,
        actor,
        username=body.username,
        role=body.role,
        password=body.password,
        staff=body.staff,
        display_name=body.display_name,
    )
    return {"id": user.id, "username": user.username, "role": user.role}


@router.get("/admin/users")
def list_users(actor: Actor = Depends(admin_only), session: Session = Depends(reading)) -> dict[str, Any]:
    return {"items": access.list_users(session), "next_cursor": None}


class UserChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: str | None = None
    active: bool | None = None
    display_name: str | None = Field(None, max_length=200)
    password: str | None = None


@router.patch("/admin/users/{username}")
def change_user(
    username: str,
    body: UserChange,
    actor: Actor = Depends(admin_only),
    session: Session = Depends(writing),
    ctx: Context = Depends(get_ctx),
) -> dict[str, Any]:
    """Role (standalone users only: a staff member's user follows the staff role), name, active."""
    user = access.update_user(
        session,
        ctx.clock,
        actor,
        username,
        role=body.role,
        active=body.active,
        display_name=body.display_name,
    )
    if body.password:
        access.set_password(session, ctx.clock, actor, user, body.password)
    session.flush()
    [item] = [u for u in access.list_users(session) if u["username"] == user.username]
    return item


@router.get("/admin/audit")
def read_audit(
    limit: int = Query(100, ge=1, le=1000),
    cursor: str | None = None,
    object_type: str | None = None,
    actor: Actor = Depends(admin_only),
    session: Session = Depends(reading),
) -> dict[str, Any]:
    """Newest first. There is deliberately no endpoint that edits or deletes audit entries."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit + 1)
    if cursor:
        query = query.where(AuditEntry.id < parse_cursor(cursor))
    if object_type:
        query = query.where(AuditEntry.object_type == object_type)
    rows = list(session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    items = [
        {
            "id": e.id,
            "at": e.at.isoformat(),
            "actor": e.actor,
            "action": e.action,
            "object_type": e.object_type,
            "object_key": e.object_key,
            "before": e.before,
            "after": e.after,
            "note": e.note,
        }
        for e in rows
    ]
    return {"items": items, "next_cursor": str(rows[-1].id) if more else None}


@router.get("/policy")
def effective_policy(actor: Actor = Depends(user_actor), ctx: Context = Depends(get_ctx)) -> dict[str, Any]:
    return ctx.policy.as_plain()


@router.get("/me")
def who_am_i(actor: Actor = Depends(user_actor)) -> dict[str, Any]:
    return {"label": actor.label, "role": actor.role}
