"""Incident tables: the incident and its impact intervals (one row per circuit per impact kind)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from linewatch.db.base import Base, RowId, UtcDateTime


class IncidentRecord(Base):
    """故障: alarms with one root cause."""

    __tablename__ = "incident"
    __table_args__ = (
        Index("ix_incident_state_id", "state", "id"),
        Index("ix_incident_opened_at", "opened_at"),  # reports select faults by period
    )
    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=False)
    state: Mapped[str] = mapped_column(String(16))
    level: Mapped[str] = mapped_column(String(16))
    level_reason: Mapped[str] = mapped_column(Text, default="")
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime())
    recovered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    root_alarm_id: Mapped[int] = mapped_column(BigInteger)
    root_ne_id: Mapped[int | None] = mapped_column(Integer)
    key_customers_down: Mapped[int] = mapped_column(Integer, default=0)
    diagnosis_due: Mapped[datetime] = mapped_column(UtcDateTime())
    diagnosis_category: Mapped[str | None] = mapped_column(String(16))
    diagnosis_by: Mapped[str | None] = mapped_column(String(200))
    diagnosis_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    diagnosis_note: Mapped[str] = mapped_column(Text, default="")
    planned: Mapped[bool] = mapped_column(Boolean, default=False)
    drill: Mapped[bool] = mapped_column(Boolean, default=False)
    assurance: Mapped[dict[str, object] | None] = mapped_column(JSON)
    # the assurance periods (重保) that raised it, and when: [{id, name, level, raised_to, since, until}]
    assurance_history: Mapped[list[dict[str, object]] | None] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ImpactRecord(Base):
    """An interval during which an incident hurt a circuit (down or degraded); ``until`` null = ongoing."""

    __tablename__ = "incident_impact"
    __table_args__ = (
        Index("ix_incident_impact_incident", "incident_id"),
        Index("ix_incident_impact_circuit", "circuit_id", "since"),
        Index("ix_incident_impact_customer", "customer_id", "since"),
        # Reports: intervals ending after a period's start, filtered on their start in the index.
        Index("ix_incident_impact_until", "until", "since"),
    )
    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=False)
    incident_id: Mapped[int] = mapped_column(BigInteger)
    circuit_id: Mapped[int] = mapped_column(Integer)
    customer_id: Mapped[int] = mapped_column(Integer)
    impact: Mapped[str] = mapped_column(String(16))
    since: Mapped[datetime] = mapped_column(UtcDateTime())
    until: Mapped[datetime | None] = mapped_column(UtcDateTime())
