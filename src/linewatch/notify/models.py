"""Notify tables: the per-recipient outbox and people's channel preferences / quiet hours."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from linewatch.db.base import Base, RowId, UtcDateTime


class Notification(Base):
    """One message to one address over one channel: the durable outbox the worker delivers from."""

    __tablename__ = "notification"
    __table_args__ = (
        Index("ix_notification_status_send_after", "status", "send_after"),
        Index("ix_notification_created", "created_at", "id"),
        Index("ix_notification_subject_staff", "subject", "staff_id"),
    )
    id: Mapped[int] = mapped_column(RowId, primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(300), unique=True)
    """subject|recipient|topic|channel: a restart or a re-run never makes a second row (exactly once)."""
    request_id: Mapped[int | None] = mapped_column(BigInteger)
    """The notification_request it came from (null for digests, which fold many)."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    kind: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    """The person; null for a group target (a webhook robot)."""
    address: Mapped[str] = mapped_column(String(300))
    """Phone number, e-mail address, or the configured webhook target's name."""
    language: Mapped[str] = mapped_column(String(8), default="zh")
    subject: Mapped[str] = mapped_column(String(64))
    """What it is about: "incident:<id>", "ticket:<id>" or "digest"."""
    topic: Mapped[str] = mapped_column(String(100))
    """Which news about the subject: "level:urgent", "escalation:leader", "recovered", ..."""
    level: Mapped[str] = mapped_column(String(16), default="")
    title: Mapped[str] = mapped_column(String(300), default="")
    text: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """Facts for channels that format richly (webhook markdown), and a digest's folded incidents."""
    incident_id: Mapped[int | None] = mapped_column(BigInteger)
    ticket_id: Mapped[int | None] = mapped_column(BigInteger)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    drill: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16))
    send_after: Mapped[datetime] = mapped_column(UtcDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    provider_id: Mapped[str] = mapped_column(String(200), default="")
    """The peer's message id(s) (SMSC message ids, call id): receipts are matched on it."""
    receipt: Mapped[str] = mapped_column(String(32), default="")
    """Delivery receipt state from the peer (SMPP DELIVRD/UNDELIV...), when it sends one."""


class NotifyPreference(Base):
    """A person's own channels (in order of preference) and quiet hours (local times, may wrap midnight)."""

    __tablename__ = "notify_preference"
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True)
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    quiet_start: Mapped[str | None] = mapped_column(String(5))
    quiet_end: Mapped[str | None] = mapped_column(String(5))
