"""Assurance tables: the period with its scope, roster and plan."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from linewatch.db.base import Base, UtcDateTime


class AssurancePeriod(Base):
    """重保期: a major event's window during which the lines in scope are protected."""

    __tablename__ = "assurance_period"
    __table_args__ = (Index("ix_assurance_window", "start", "end"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[int] = mapped_column(Integer)  # 1 highest … 3
    start: Mapped[datetime] = mapped_column(UtcDateTime())
    end: Mapped[datetime] = mapped_column(UtcDateTime())
    # by code, as declared: {"customers": [...], "circuits": [...], "regions": [...]}
    scope: Mapped[dict[str, Any]] = mapped_column(JSON)
    roster: Mapped[str] = mapped_column(Text, default="")  # duty roster (值班安排)
    plan: Mapped[str] = mapped_column(Text, default="")  # emergency plan (应急预案)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str] = mapped_column(String(200), default="")


class Drill(Base):
    """应急演练: a scripted fault injected through the real pipeline, flagged ``drill`` all the way."""

    __tablename__ = "drill"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    started_by: Mapped[str] = mapped_column(String(200), default="")
    alarm_ids: Mapped[list[int]] = mapped_column(JSON, default=list)  # the alarms its steps raised or cleared
    steps: Mapped[list[Any]] = mapped_column(JSON, default=list)  # each step's native alarms, as posted
