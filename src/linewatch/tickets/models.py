"""Ticket tables: the ticket, its circuits and its event log (every step recorded, 系统派单留痕)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from linewatch.db.base import Base, UtcDateTime


class Ticket(Base):
    """客响工单: one team's work on one fault (or one customer report)."""

    __tablename__ = "ticket"
    __table_args__ = (
        Index("ix_ticket_state", "state", "id"),
        Index("ix_ticket_incident", "incident_id"),
        Index("ix_ticket_assignee", "assignee_id", "state"),
        Index("ix_ticket_customer", "customer_id"),
        Index("ix_ticket_created_at", "created_at"),  # reports select tickets by period
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int | None] = mapped_column(BigInteger)
    channel: Mapped[str] = mapped_column(String(16))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"))
    customer_text: Mapped[str] = mapped_column(String(300), default="")  # as reported, when not in inventory
    flagged: Mapped[str] = mapped_column(String(300), default="")  # why a dispatcher must look ("" = fine)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"))
    track: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    state_before_suspend: Mapped[str | None] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    reported_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    contacted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    on_site_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    located_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    recovered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    recovered_by: Mapped[str] = mapped_column(String(200), default="")  # "incident" when set automatically
    recovery_minutes: Mapped[int] = mapped_column(Integer)  # the earliest limit of its circuits
    suspended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    suspended_seconds: Mapped[int] = mapped_column(Integer, default=0)
    cause: Mapped[str] = mapped_column(String(64), default="")
    resolution: Mapped[str] = mapped_column(Text, default="")
    customer_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    contact_after: Mapped[datetime | None] = mapped_column(
        UtcDateTime()
    )  # customer contact deferred (07:30 rule)
    drill: Mapped[bool] = mapped_column(Boolean, default=False)


class TicketCircuit(Base):
    __tablename__ = "ticket_circuit"
    __table_args__ = (Index("ix_ticket_circuit_circuit", "circuit_id"),)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), primary_key=True)
    circuit_id: Mapped[int] = mapped_column(ForeignKey("circuit.id"), primary_key=True)


class TicketEvent(Base):
    """Everything that happened to a ticket: milestones, notes, transfers, escalations, breaches."""

    __tablename__ = "ticket_event"
    __table_args__ = (
        Index("ix_ticket_event_ticket", "ticket_id", "id"),
        Index("ix_ticket_event_type", "type", "at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    actor: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
