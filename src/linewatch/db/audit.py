"""The audit log: one row per state change, written in the changing transaction.

Append-only: database triggers (migration 0001) refuse UPDATE and DELETE, and no API edits it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import Mapped, Session, mapped_column

from linewatch.core.clock import Clock
from linewatch.db.base import Base, UtcDateTime


class AuditEntry(Base):
    """Append-only record of every state change (database triggers refuse update and delete)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_object", "object_type", "object_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(64))
    object_key: Mapped[str] = mapped_column(String(300), default="")
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(Text, default="")


def record(
    session: Session,
    clock: Clock,
    actor: str,
    action: str,
    object_type: str,
    object_key: str,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    note: str = "",
) -> None:
    session.add(
        AuditEntry(
            at=clock.now(),
            actor=actor,
            action=action,
            object_type=object_type,
            object_key=object_key,
            before=before,
            after=after,
            note=note,
        )
    )
