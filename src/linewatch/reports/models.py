"""Early-warning tables (DOMAIN 8 预警): the warning on a customer and its history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from linewatch.db.base import Base, UtcDateTime


class CustomerWarning(Base):
    """客户预警: one customer's warning, raised in real time (red) or by the periodic review."""

    __tablename__ = "customer_warning"
    __table_args__ = (Index("ix_customer_warning_customer", "customer_id", "state"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    level: Mapped[str] = mapped_column(String(16))  # orange | red
    state: Mapped[str] = mapped_column(String(16))  # active | closed
    source: Mapped[str] = mapped_column(String(16))  # realtime | periodic
    reason: Mapped[str] = mapped_column(Text, default="")
    scope: Mapped[dict[str, Any]] = mapped_column(JSON)  # {"circuits": [...], "incidents": [...]}
    measures: Mapped[str] = mapped_column(Text, default="")
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime())
    valid_until: Mapped[datetime] = mapped_column(UtcDateTime())
    visit_due: Mapped[datetime] = mapped_column(UtcDateTime())
    visit_done_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    visit_note: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class WarningEvent(Base):
    """The history of a warning: opened, level changes, measures, visit, closed."""

    __tablename__ = "customer_warning_event"
    __table_args__ = (Index("ix_customer_warning_event_warning", "warning_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    warning_id: Mapped[int] = mapped_column(ForeignKey("customer_warning.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    actor: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    from_level: Mapped[str | None] = mapped_column(String(16))
    to_level: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
