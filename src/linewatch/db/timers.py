"""Durable timers: rows with a due time, fired in order, exactly once, in the transaction of their effects.

Domains schedule timers for their objects (a ticket's SLA deadlines, a cutover's window end…)
and register a handler per ``owner``; :func:`fire_due` runs every handler whose timer fell due,
oldest first, and marks it fired in the same transaction. A restart loses nothing (rows) and
fires nothing twice (the mark commits with the effect); a clock jump fires everything due, in order.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from linewatch.db.base import Base, UtcDateTime


class Timer(Base):
    __tablename__ = "timer"
    __table_args__ = (
        Index("ix_timer_pending", "fired_at", "due_at"),
        Index("ix_timer_owner", "owner", "owner_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    owner: Mapped[str] = mapped_column(String(32))  # e.g. "ticket"
    owner_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(64))  # e.g. "deadline:accept", "escalate:leader", "progress"
    due_at: Mapped[datetime] = mapped_column(UtcDateTime())
    fired_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    outcome: Mapped[str] = mapped_column(String(32), default="")  # fired | cancelled | skipped


Handler = Callable[[Session, Timer, datetime], None]


def schedule(session: Session, owner: str, owner_id: int, kind: str, due_at: datetime) -> Timer:
    timer = Timer(owner=owner, owner_id=owner_id, kind=kind, due_at=due_at)
    session.add(timer)
    return timer


def pending(session: Session, owner: str, owner_id: int) -> list[Timer]:
    return list(
        session.scalars(
            select(Timer)
            .where(Timer.owner == owner, Timer.owner_id == owner_id, Timer.fired_at.is_(None))
            .order_by(Timer.due_at, Timer.id)
        )
    )


def cancel(
    session: Session, owner: str, owner_id: int, now: datetime, kinds: tuple[str, ...] | None = None
) -> int:
    """Cancel pending timers of an object (all, or those whose kind starts with one of ``kinds``)."""
    count = 0
    for timer in pending(session, owner, owner_id):
        if kinds is None or timer.kind.startswith(kinds):
            timer.fired_at, timer.outcome = now, "cancelled"
            count += 1
    return count


def shift(session: Session, owner: str, owner_id: int, seconds: float) -> None:
    """Move an object's pending timers later (a suspended ticket's clock was paused)."""
    from datetime import timedelta

    for timer in pending(session, owner, owner_id):
        timer.due_at = timer.due_at + timedelta(seconds=seconds)


def fire_due(
    sessions: Callable[[], Any], handlers: dict[str, Handler], now: datetime, batch: int = 500
) -> int:
    """Fire every timer due at ``now``, oldest first, each in its own transaction with its effects.

    ``sessions`` is a unit-of-work factory (``Database.unit_of_work``). Returns how many fired.
    """
    fired = 0
    while True:
        with sessions() as session:
            due = list(
                session.scalars(
                    select(Timer)
                    .where(Timer.fired_at.is_(None), Timer.due_at <= now)
                    .order_by(Timer.due_at, Timer.id)
                    .limit(batch)
                )
            )
            if not due:
                return fired
            for timer in due:
                handler = handlers.get(timer.owner)
                # claim it first: the handler's effects and the mark commit together
                claimed = session.execute(
                    update(Timer)
                    .where(Timer.id == timer.id, Timer.fired_at.is_(None))
                    .values(fired_at=now, outcome="fired" if handler else "skipped")
                ).rowcount
                if claimed and handler is not None:
                    handler(session, timer, now)
                    fired += 1
