"""What must hold in a database after any crash, restart and redelivery (read with SQL, not the API)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from linewatch.alarms.models import AlarmEventRecord, AlarmRecord
from linewatch.db.engine import Database
from linewatch.db.outbox import NotificationRequest
from linewatch.db.timers import Timer
from linewatch.incidents.models import IncidentRecord
from linewatch.notify.models import Notification
from linewatch.tickets.models import Ticket, TicketEvent
from tests.notify.peers import Received


def alarms_exactly_once(db: Database, bodies: list[list[dict[str, Any]]]) -> int:
    """Every posted item (each has a source id) applied exactly once; redeliveries kept as 'repeat'.
    Every alarm's count equals the events that raised or repeated it. Returns the events stored."""
    wanted = {item["source_id"] for body in bodies for item in body}
    with db.reading() as s:
        applied = Counter(
            s.scalars(
                select(AlarmEventRecord.source_id).where(
                    AlarmEventRecord.outcome != "repeat", AlarmEventRecord.source_id != ""
                )
            )
        )
        twice = {k: n for k, n in applied.items() if n > 1}
        assert not twice, f"applied more than once: {sorted(twice)[:10]}"
        missing = wanted - set(applied)
        assert not missing, f"{len(missing)} alarms lost, e.g. {sorted(missing)[:10]}"
        counted = dict(
            s.execute(
                select(AlarmEventRecord.alarm_id, func.count())
                .where(AlarmEventRecord.outcome.in_(("raised", "duplicate")))
                .group_by(AlarmEventRecord.alarm_id)
            ).all()
        )
        wrong = [
            (a, n, counted.get(a))
            for a, n in s.execute(select(AlarmRecord.id, AlarmRecord.count))
            if counted.get(a) != n
        ]
        assert not wrong, f"alarm counts disagree with their events: {wrong[:10]}"
        active = Counter(s.scalars(select(AlarmRecord.dedup_key).where(AlarmRecord.state == "active")))
        assert all(n == 1 for n in active.values()), "two active alarms for one key"
        return s.scalar(select(func.count()).select_from(AlarmEventRecord)) or 0


def incidents_and_tickets_consistent(db: Database) -> dict[str, int]:
    with db.reading() as s:
        incident_state = dict(s.execute(select(IncidentRecord.id, IncidentRecord.state)).all())
        linked = s.execute(
            select(AlarmRecord.id, AlarmRecord.incident_id, AlarmRecord.state).where(
                AlarmRecord.incident_id.is_not(None)
            )
        ).all()
        for alarm_id, incident_id, state in linked:
            assert incident_id in incident_state, f"alarm {alarm_id} names a missing incident {incident_id}"
            if state == "active":
                assert incident_state[incident_id] == "open", (
                    f"active alarm {alarm_id} in a recovered incident"
                )
        tickets = s.execute(
            select(Ticket.id, Ticket.incident_id, Ticket.assignee_id, Ticket.recovered_at)
        ).all()
        per_team = Counter((t.incident_id, t.assignee_id) for t in tickets if t.incident_id)
        assert all(n == 1 for n in per_team.values()), f"two tickets for one fault and team: {per_team}"
        for t in tickets:
            if t.incident_id is None:
                continue
            assert t.incident_id in incident_state, f"ticket {t.id} names a missing incident"
            if incident_state[t.incident_id] == "recovered":
                assert t.recovered_at is not None, f"ticket {t.id}: its incident recovered, it did not"
        return {"incidents": len(incident_state), "tickets": len(tickets)}


def timers_fired_once(db: Database, now: datetime) -> int:
    """No timer lost (nothing due is left pending), none scheduled or fired twice, no effect twice."""
    with db.reading() as s:
        rows = s.execute(select(Timer.owner, Timer.owner_id, Timer.kind, Timer.due_at, Timer.fired_at)).all()
        twice = [k for k, n in Counter(r[:4] for r in rows).items() if n > 1]
        assert not twice, f"timers scheduled twice: {twice[:5]}"
        overdue = [r for r in rows if r.fired_at is None and r.due_at <= now]
        assert not overdue, f"timers due but never fired: {overdue[:5]}"
        ticket_ids = set(s.scalars(select(Ticket.id)))
        accept = Counter(r.owner_id for r in rows if r.owner == "ticket" and r.kind == "deadline:accept")
        assert all(accept[t] == 1 for t in ticket_ids), (
            f"a ticket without exactly one accept deadline: {accept}"
        )
        events = s.execute(
            select(TicketEvent.ticket_id, TicketEvent.type, TicketEvent.at, TicketEvent.data)
        ).all()
        breaches = Counter(
            (e.ticket_id, (e.data or {}).get("deadline")) for e in events if e.type == "breach"
        )
        assert all(n == 1 for n in breaches.values()), f"a deadline breached twice: {breaches}"
        reminders = Counter((e.ticket_id, e.at) for e in events if e.type == "progress_due")
        assert all(n == 1 for n in reminders.values()), f"a reminder fired twice: {reminders}"
        return sum(1 for r in rows if r.fired_at is not None)


def notifications_sent_once(db: Database, received: list[Received], kills: int) -> int:
    """Each sent row reached the peer; a repeat (same Idempotency-Key) only for a send a kill cut
    between the peer's answer and our commit: at most one per kill (the worker sends one at a time)."""
    with db.reading() as s:
        unresolved = s.scalar(
            select(func.count())
            .select_from(NotificationRequest)
            .where(NotificationRequest.status == "pending")
        )
        assert unresolved == 0, f"{unresolved} notification requests never resolved"
        sent = set(
            s.scalars(
                select(Notification.id).where(
                    Notification.channel == "webhook", Notification.status == "sent"
                )
            )
        )
    keys = Counter(int({k.lower(): v for k, v in r.headers.items()}["idempotency-key"]) for r in received)
    assert set(keys) == sent, f"peer saw {sorted(set(keys) ^ sent)} differently from the outbox"
    repeats = sum(n - 1 for n in keys.values())
    assert repeats <= kills, f"{repeats} notifications delivered twice"
    return len(sent)
