"""Customer early warnings (INTERFACES ``GET /api/v1/warnings``) and acting on them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from linewatch.api.deps import RowId, get_ctx, reading, require, writing
from linewatch.api.errors import ERROR_RESPONSES
from linewatch.context import Context
from linewatch.core.actor import Actor
from linewatch.reports import warnings

router = APIRouter(prefix="/api/v1/warnings", tags=["warnings"], responses=ERROR_RESPONSES)
READERS = ("dispatcher", "support", "fault_manager", "manager_l3", "leader", "account_manager")
ACTORS = ("support", "fault_manager", "manager_l3", "leader", "account_manager")


def _manager(actor: Actor) -> int | None:
    """Account managers are scoped to their own customers (-1: a manager with no staff record)."""
    if actor.role == "account_manager" and not actor.is_admin:
        return actor.staff_id if actor.staff_id is not None else -1
    return None


class Note(BaseModel):
    note: str = Field(min_length=1, max_length=4000)


class Measures(BaseModel):
    text: str = Field(min_length=1, max_length=4000)


@router.get("")
def list_warnings(
    all: bool = False,
    actor: Actor = Depends(require(*READERS)),
    session: Session = Depends(reading),
    ctx: Context = Depends(get_ctx),
) -> dict[str, Any]:
    """Active warnings (red first); ``all=true`` adds closed and expired ones."""
    return {
        "items": warnings.list_warnings(
            session, ctx.clock.now(), active_only=not all, manager_id=_manager(actor)
        )
    }


@router.get("/{warning_id}")
def get_warning(
    warning_id: RowId,
    actor: Actor = Depends(require(*READERS)),
    session: Session = Depends(reading),
    ctx: Context = Depends(get_ctx),
) -> dict[str, Any]:
    return warnings.get_warning(session, warning_id, ctx.clock.now(), _manager(actor))


@router.post("/{warning_id}/visit")
def record_visit(
    warning_id: RowId,
    body: Note,
    actor: Actor = Depends(require(*ACTORS)),
    session: Session = Depends(writing),
    ctx: Context = Depends(get_ctx),
) -> dict[str, Any]:
    """走访 done, with what was said."""
    warnings.record_visit(session, warning_id, ctx.clock.now(), actor.label, body.note, _manager(actor))
    session.flush()
    return warnings.get_warning(session, warning_id, ctx.clock.now(), _manager(actor))


@router.post("/{warning_id}/measures")
def add_measures(
    warning_id: RowId,
    body: Measures,
    actor: Actor = Depends(require(*ACTORS)),
    session: Session = Depends(writing),
    ctx: Context = Depends(get_ctx),
) -> dict[str, Any]:
    warnings.add_measures(session, warning_id, ctx.clock.now(), actor.label, body.text, _manager(actor))
    session.flush()
    return warnings.get_warning(session, warning_id, ctx.clock.now(), _manager(actor))


@router.post("/{warning_id}/close")
def close_warning(
    warning_id: RowId,
    body: Note,
    actor: Actor = Depends(require("fault_manager", "manager_l3", "leader")),
    session: Session = Depends(writing),
    ctx: Context = Depends(get_ctx),
) -> dict[str, Any]:
    warnings.close(session, warning_id, ctx.clock.now(), actor.label, body.note)
    session.flush()
    return warnings.get_warning(session, warning_id, ctx.clock.now(), _manager(actor))
