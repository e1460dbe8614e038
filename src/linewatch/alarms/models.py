"""Alarm tables: the raw event log (every accepted item), alarm state, matches, notes, dead letters.

Ids of ``alarm`` and ``alarm_event`` are assigned by the single pipeline writer (which owns
their sequence), so a batch is written without a round trip per row.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from linewatch.db.base import Base, RowId, UtcDateTime


class AlarmRecord(Base):
    """An alarm (告警): one per fault indication, deduplicated while active."""

    __tablename__ = "alarm"
    __table_args__ = (
        Index("ix_alarm_state_id", "state", "id"),
        Index("ix_alarm_incident", "incident_id"),
        Index("ix_alarm_ne_name", "ne_name"),
    )
    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=False)
    dedup_key: Mapped[str] = mapped_column(String(500))
    source: Mapped[str] = mapped_column(String(200))
    ne_id: Mapped[int | None] = mapped_column(ForeignKey("network_element.id"))
    ne_name: Mapped[str] = mapped_column(String(200))
    ne_ip: Mapped[str] = mapped_column(String(64), default="")
    object: Mapped[str] = mapped_column(String(200), default="")
    type: Mapped[str] = mapped_column(String(200))
    probable_cause: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    count: Mapped[int] = mapped_column(Integer, default=1)
    first_time: Mapped[datetime] = mapped_column(UtcDateTime())
    last_time: Mapped[datetime] = mapped_column(UtcDateTime())
    cleared_time: Mapped[datetime | None] = mapped_column(UtcDateTime())
    clear_reason: Mapped[str] = mapped_column(Text, default="")
    cleared_by: Mapped[str] = mapped_column(String(200), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    source_id: Mapped[str] = mapped_column(String(200), default="")
    ack_by: Mapped[str | None] = mapped_column(String(200))
    ack_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    root_id: Mapped[int | None] = mapped_column(BigInteger)
    flapping: Mapped[bool] = mapped_column(Boolean, default=False)
    planned: Mapped[bool] = mapped_column(Boolean, default=False)
    drill: Mapped[bool] = mapped_column(Boolean, default=False)
    incident_id: Mapped[int | None] = mapped_column(BigInteger)
    matched: Mapped[bool] = mapped_column(Boolean, default=False)
    circuit_count: Mapped[int] = mapped_column(Integer, default=0)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())


class AlarmCircuit(Base):
    """Which circuits (and customers) an alarm hits: the index behind filtering alarms by customer.

    Two B-trees per row, written ~4 times per new alarm: the key (alarm, circuit) — on SQLite the
    table itself (no rowid) — and (customer, alarm). A circuit's alarms are found through its
    customer's entries (a customer's alarms are few); there is no circuit index (decision 130)."""

    __tablename__ = "alarm_circuit"
    __table_args__ = (
        Index("ix_alarm_circuit_customer", "customer_id", "alarm_id"),
        {"sqlite_with_rowid": False},
    )
    alarm_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    circuit_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(Integer)
    route: Mapped[str] = mapped_column(String(16))  # primary | backup | both | platform


class AlarmEventRecord(Base):
    """Every accepted raise or clear, stored before the sender gets its answer."""

    __tablename__ = "alarm_event"
    __table_args__ = (Index("ix_alarm_event_alarm", "alarm_id"),)
    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=False)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())
    channel: Mapped[str] = mapped_column(String(32))  # http | alertmanager | snmp | syslog | probe | drill
    source: Mapped[str] = mapped_column(String(200))
    ne: Mapped[str] = mapped_column(String(200), default="")
    ne_ip: Mapped[str] = mapped_column(String(64), default="")
    object: Mapped[str] = mapped_column(String(200), default="")
    type: Mapped[str] = mapped_column(String(200))
    severity: Mapped[str] = mapped_column(String(16))
    event_time: Mapped[datetime] = mapped_column(UtcDateTime())
    text: Mapped[str] = mapped_column(Text, default="")
    source_id: Mapped[str] = mapped_column(String(200), default="")
    alarm_id: Mapped[int | None] = mapped_column(BigInteger)
    outcome: Mapped[str] = mapped_column(
        String(32)
    )  # raised | duplicate | cleared | clear_without_alarm | repeat


class AlarmNote(Base):
    __tablename__ = "alarm_note"
    id: Mapped[int] = mapped_column(primary_key=True)
    alarm_id: Mapped[int] = mapped_column(BigInteger, index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    by: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)


class RejectedItem(Base):
    """Dead letters: every item an ingest edge refused, kept for admins to inspect."""

    __tablename__ = "ingest_rejected"
    id: Mapped[int] = mapped_column(primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    remote: Mapped[str] = mapped_column(String(100), default="")
    reason: Mapped[str] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text, default="")


class KnowledgeEntry(Base):
    """处理建议: probable causes and first-line steps for an alarm type (optionally per access / service)."""

    __tablename__ = "knowledge_entry"
    __table_args__ = (Index("ix_knowledge_entry_key", "alarm_type", "access", "service_type", unique=True),)
    id: Mapped[int] = mapped_column(primary_key=True)
    alarm_type: Mapped[str] = mapped_column(String(200))
    access: Mapped[str] = mapped_column(String(16), default="")  # "" = any
    service_type: Mapped[str] = mapped_column(String(16), default="")  # "" = any
    causes: Mapped[list[str]] = mapped_column(JSON, default=list)
    steps: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_by: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class CauseTally(Base):
    """Closed tickets' cause categories per alarm type: the learned part of the suggestions."""

    __tablename__ = "cause_tally"
    alarm_type: Mapped[str] = mapped_column(String(200), primary_key=True)
    cause: Mapped[str] = mapped_column(String(200), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
