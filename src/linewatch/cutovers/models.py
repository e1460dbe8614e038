"""Cutover tables: the registered cutover and the circuits it affects (computed at registration)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from linewatch.db.base import Base, UtcDateTime


class Cutover(Base):
    """割接: planned work on declared resources inside a window."""

    __tablename__ = "cutover"
    __table_args__ = (Index("ix_cutover_window", "state", "window_start", "window_end"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    task_no: Mapped[str] = mapped_column(String(100), unique=True)
    cause: Mapped[str] = mapped_column(String(32))
    window_start: Mapped[datetime] = mapped_column(UtcDateTime())
    window_end: Mapped[datetime] = mapped_column(UtcDateTime())
    impact: Mapped[str] = mapped_column(String(16))
    expected_minutes: Mapped[int] = mapped_column(Integer, default=0)
    region: Mapped[str] = mapped_column(String(64), default="")
    initiator: Mapped[str] = mapped_column(String(200), default="")
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime())  # null: notice never published
    short_notice: Mapped[bool] = mapped_column(Boolean, default=False)
    # as declared, by name: {"nes": [...], "ports": [{"ne", "port"}], "circuits": [...]}
    resources: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str] = mapped_column(String(200), default="")


class CutoverCircuit(Base):
    """A circuit the cutover affects: ``down`` or ``degraded`` (one route of a dual-routed circuit)."""

    __tablename__ = "cutover_circuit"
    __table_args__ = (Index("ix_cutover_circuit_circuit", "circuit_id"),)
    cutover_id: Mapped[int] = mapped_column(ForeignKey("cutover.id", ondelete="CASCADE"), primary_key=True)
    circuit_id: Mapped[int] = mapped_column(ForeignKey("circuit.id"), primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    effect: Mapped[str] = mapped_column(String(16))
    routes: Mapped[str] = mapped_column(String(32))  # "primary", "backup" or "primary,backup"
