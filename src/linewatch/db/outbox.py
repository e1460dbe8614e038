"""The notification outbox: requests written in the transaction of the change that caused them.

Producers (incidents, tickets, cutovers, warnings) say *what* happened and *who* should hear of
it (roles, teams, staff, the customer's account manager); the notify stage resolves the people,
renders the text and delivers it after commit, so nothing is sent for a change that rolled
back and nothing is lost when the process dies after committing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Index, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from linewatch.db.base import Base, UtcDateTime


class NotificationRequest(Base):
    __tablename__ = "notification_request"
    __table_args__ = (
        Index("ix_notification_request_status", "status", "id"),
        Index("ix_notification_request_incident", "incident_id", "kind"),  # a notice written once
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    kind: Mapped[str] = mapped_column(
        String(64)
    )  # e.g. "ticket.escalated", "ticket.breach", "incident.urgent"
    incident_id: Mapped[int | None] = mapped_column(BigInteger)
    ticket_id: Mapped[int | None] = mapped_column(BigInteger)
    audience: Mapped[dict[str, Any]] = mapped_column(
        JSON
    )  # {"roles": [...], "teams": [...], "staff": [...], ...}
    data: Mapped[dict[str, Any]] = mapped_column(JSON)  # facts for the templates
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)  # wanted channels; [] = recipients' own
    send_after: Mapped[datetime | None] = mapped_column(UtcDateTime())
    drill: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending → resolved (by notify)


def request(
    session: Session,
    now: datetime,
    kind: str,
    audience: dict[str, Any],
    data: dict[str, Any],
    *,
    incident_id: int | None = None,
    ticket_id: int | None = None,
    channels: list[str] | None = None,
    send_after: datetime | None = None,
    drill: bool = False,
) -> NotificationRequest:
    row = NotificationRequest(
        created_at=now,
        kind=kind,
        incident_id=incident_id,
        ticket_id=ticket_id,
        audience=audience,
        data=data,
        channels=channels or [],
        send_after=send_after,
        drill=drill,
        status="pending",
    )
    session.add(row)
    return row
