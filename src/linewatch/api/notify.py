"""Notification log (INTERFACES ``GET /api/v1/notifications``): dispatchers read it, admins also
see the dead letters (failed rows) with their last error."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from linewatch.api.deps import get_ctx, reading, require
from linewatch.api.errors import ERROR_RESPONSES
from linewatch.context import Context
from linewatch.core.actor import Actor
from linewatch.core.clock import parse_time
from linewatch.core.errors import LinewatchError
from linewatch.notify import service

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
