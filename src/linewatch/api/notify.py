"""Notification log (INTERFACES ``GET /api/v1/notifications``): dispatchers read it, admins also
see the dead letters (failed rows) with their last error. Notification preferences: everyone's
own (``/me``), anyone's for admins (``/staff/{code}``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from linewatch.api.deps import get_ctx, reading, require, user_actor
from linewatch.api.errors import ERROR_RESPONSES
from linewatch.context import Context
from linewatch.core.actor import Actor
from linewatch.core.clock import parse_time
from linewatch.core.errors import LinewatchError
from linewatch.notify import preferences, service

router = APIRouter(prefix="/api/v1", tags=["notifications"], responses=ERROR_RESPONSES)


@router.get("/notifications")
def list_notifications(
    since: str | None = None,
    limit: int = Query(100, ge=1, le=1000),
    cursor: str | None = None,
    status: str | None = None,
    actor: Actor = Depends(require("dispatcher")),
    session: Session = Depends(reading),
    ctx: Context = Depends(get_ctx),
) -> dict[str, Any]:
    try:
        when = parse_time(since, ctx.clock.tz) if since else None
    except ValueError as exc:
        raise LinewatchError(f"'since' is not an RFC 3339 time: {since!r}") from exc
    return service.list_notifications(session, actor, since=when, limit=limit, cursor=cursor, status=status)


class PreferencesBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channels: list[str] = Field(default_factory=list, max_length=3)
    quiet_start: str | None = Field(None, max_length=8)
    quiet_end: str | None = Field(None, max_length=8)


Lang = Query("zh", pattern="^(zh|en)$")


@router.get("/me/notify-preferences")
def my_preferences(
    lang: str = Lang, actor: Actor = Depends(user_actor), session: Session = Depends(reading)
) -> dict[str, Any]:
    return preferences.get(session, actor, None, lang)


@router.put("/me/notify-preferences")
def set_my_preferences(
    body: PreferencesBody,
    lang: str = Lang,
    actor: Actor = Depends(user_actor),
    ctx: Context = Depends(get_ctx),
) -> dict[str, Any]:
    return _save(ctx, actor, None, body, lang)


@router.get("/staff/{code}/notify-preferences")
def staff_preferences(
    code: str, lang: str = Lang, actor: Actor = Depends(user_actor), session: Session = Depends(reading)
) -> dict[str, Any]:
    return preferences.get(session, actor, code, lang)


@router.put("/staff/{code}/notify-preferences")
def set_staff_preferences(
    code: str,
    body: PreferencesBody,
    lang: str = Lang,
    actor: Actor = Depends(user_actor),
    ctx: Context = Depends(get_ctx),
) -> dict[str, Any]:
    return _save(ctx, actor, code, body, lang)


def _save(ctx: Context, actor: Actor, code: str | None, body: PreferencesBody, lang: str) -> dict[str, Any]:
    with ctx.db.unit_of_work() as session:
        return preferences.put(session, ctx.clock, actor, code, **body.model_dump(), lang=lang)
