"""Durable timers: rows with a due time, fired in order, exactly once, in the transaction of their effects.

Domains schedule timers for their objects (a ticket's SLA deadlines, a cutover's window end…)
and register a handler per ``owner``; :func:`fire_due` runs every handler whose timer fell due,
oldest first, and marks it fired in the same transaction. A restart loses nothing (rows) and
fires nothing twice (the mark commits with the effect); a clock jump fires everything due, in order,
including timers that handlers schedule on the way (an hourly reminder's next hour).
"""

from __future__ import annotations

import logging
from bisect import insort
from collections.abc import Callable, Collection
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, Index, String, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.orm.attributes import set_committed_value

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
log = logging.getLogger("linewatch.timers")
_SCHEDULED = "linewatch.timers.scheduled"  # session.info key: timers scheduled by the running handler


def schedule(session: Session, owner: str, owner_id: int, kind: str, due_at: datetime) -> Timer:
    timer = Timer(owner=owner, owner_id=owner_id, kind=kind, due_at=due_at)
    session.add(timer)
    session.info.setdefault(_SCHEDULED, []).append(timer)
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
    for timer in pending(session, owner, owner_id):
        timer.due_at = timer.due_at + timedelta(seconds=seconds)


class _HandlerFailed(Exception):
    def __init__(self, timer_id: int) -> None:
        super().__init__(timer_id)
        self.timer_id = timer_id


def fire_due(
    sessions: Callable[[], Any],
    handlers: dict[str, Handler],
    now: datetime,
    batch: int = 500,
    *,
    owners: Collection[str] | None = None,
    skip_owners: Collection[str] = (),
    stopping: Callable[[], bool] = lambda: False,
) -> int:
    """Fire every timer due at ``now``, oldest first (by due time, then id), up to ``batch`` per
    transaction; each timer's mark commits with its handler's effects.

    ``sessions`` is a unit-of-work factory (``Database.unit_of_work``). Returns how many fired.
    A timer that a handler schedules already due (after a long jump, an hourly reminder's next
    hour) takes its place in the batch, so it fires before the later timers, not after them all.
    A handler that raises rolls its batch back (marks and effects alike, so nothing is half
    done); its timer alone is then marked ``failed`` and logged, and the rest fire again: one bad
    row never holds back every timer after it. A database error is not the timer's fault: it
    propagates with nothing marked, and the next tick tries again. A handler may have a
    ``prefetch(session, owner_ids)`` method, called once per batch with the ids of its owners
    there (to load them in one query). ``owners`` limits the claims to those owners' timers and
    ``skip_owners`` leaves those owners' timers to another process (the worker process fires
    all but the drills' timers, which must run where the pipeline is). Once ``stopping()`` is
    true no further batch starts: the timers left stay due and fire at the next start.
    """
    fired = 0
    while not stopping():
        try:
            with sessions() as session:
                count = _fire_batch(session, handlers, now, batch, owners, skip_owners)
        except _HandlerFailed as failure:
            log.error("timer %s failed", failure.timer_id, exc_info=failure.__cause__)
            with sessions() as session:
                session.execute(
                    update(Timer)
                    .where(Timer.id == failure.timer_id, Timer.fired_at.is_(None))
                    .values(fired_at=now, outcome="failed")
                )
            continue
        if count is None:
            return fired
        fired += count
    return fired


def _claim(session: Session, ids: list[int], now: datetime) -> set[int]:
    """Mark these timers fired, unless another process did first; the ones this call marked.
    (No ORM session sync: evaluating the criteria over every loaded object is quadratic.)"""
    return set(
        session.scalars(
            update(Timer)
            .where(Timer.id.in_(ids), Timer.fired_at.is_(None))
            .values(fired_at=now, outcome="fired")
            .returning(Timer.id)
            .execution_options(synchronize_session=False)
        )
    )


def _fire_batch(
    session: Session,
    handlers: dict[str, Handler],
    now: datetime,
    batch: int,
    owners: Collection[str] | None,
    skip_owners: Collection[str],
) -> int | None:
    """One transaction's worth; None when nothing was due."""
    wanted = [Timer.fired_at.is_(None), Timer.due_at <= now]
    if owners is not None:
        wanted.append(Timer.owner.in_(list(owners)))
    if skip_owners:
        wanted.append(Timer.owner.not_in(list(skip_owners)))
    # PostgreSQL: rows another process is firing are skipped, not waited for (SQLite has no row
    # locks; there the write lock serialises the claims below)
    due = list(
        session.scalars(
            select(Timer)
            .where(*wanted)
            .order_by(Timer.due_at, Timer.id)
            .limit(batch)
            .with_for_update(skip_locked=True)
        )
    )
    if not due:
        return None
    # with a full batch, unread due timers may sort before a new one past its last
    horizon = due[-1].due_at if len(due) == batch else None
    # claimed together, before any handler runs: the marks commit with the effects
    mine = _claim(session, [t.id for t in due], now)
    due = [t for t in due if t.id in mine]
    unhandled = [t.id for t in due if t.owner not in handlers]
    if unhandled:
        session.execute(
            update(Timer)
            .where(Timer.id.in_(unhandled))
            .values(outcome="skipped")
            .execution_options(synchronize_session=False)
        )
    for owner, handler in handlers.items():
        prefetch = getattr(handler, "prefetch", None)
        owner_ids = {t.owner_id for t in due if t.owner == owner}
        if prefetch is not None and owner_ids:
            prefetch(session, owner_ids)
    fired = position = 0
    while position < len(due):
        timer = due[position]
        position += 1
        set_committed_value(timer, "fired_at", now)  # as the claim wrote it (no reload, no re-write)
        set_committed_value(timer, "outcome", "fired")
        handler = handlers.get(timer.owner)
        if handler is None:
            continue
        session.info[_SCHEDULED] = []
        try:
            handler(session, timer, now)
        except DBAPIError:
            raise  # the database, not the timer (a deadlock, a lost connection): all retried next tick
        except Exception as exc:
            raise _HandlerFailed(timer.id) from exc
        fired += 1
        fresh = [t for t in session.info[_SCHEDULED] if t.due_at <= now]
        if fresh:
            session.flush()  # their ids: the tie-break among equal due times
            for new in fresh:  # past the horizon, the next query reads it in its place
                if (horizon is None or new.due_at < horizon) and _claim(session, [new.id], now):
                    insort(due, new, lo=position, key=_order)
    return fired


def _order(timer: Timer) -> tuple[datetime, int]:
    return (timer.due_at, timer.id)
