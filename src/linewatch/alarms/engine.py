"""The alarm book: active alarms in memory, dedup, clear, flapping and matching (DOMAIN 3).

Owned by the single pipeline writer: it mutates the in-memory state and records the rows to
write in a :class:`Batch`, which the writer flushes in the same transaction as the raw events.
Rebuilt from the database at start (:meth:`AlarmBook.load`), so a crash loses no state.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from linewatch.alarms.choices import AlarmState
from linewatch.alarms.hits import BACKUP, NONE, PLATFORM, PRIMARY, Hit
from linewatch.alarms.models import AlarmCircuit, AlarmEventRecord, AlarmRecord
from linewatch.alarms.normalise import AlarmEvent, safe_text
from linewatch.core.policy import AlarmPolicy
from linewatch.db.batch import Batch
from linewatch.inventory.index import ImpactIndex

ALARM = AlarmRecord.__table__
EVENT = AlarmEventRecord.__table__
LINK = AlarmCircuit.__table__
REPEAT_MEMORY = 200_000  # idempotency keys of recent events kept to recognise redeliveries
# (ne_id, object, type, event time) → inside a cutover's window on its resources? Wired by the
# context to the cutovers' in-memory lookup (alarms must not import cutovers: it is downstream).
PlannedCheck = Callable[[int | None, str, str, datetime], bool]


def _never_planned(_ne: int | None, _obj: str, _type: str, _at: datetime) -> bool:
    return False


@dataclass(slots=True)
class ActiveAlarm:
    id: int
    key: str
    ne_id: int | None
    object: str
    type: str
    severity: str
    first_time: datetime
    drill: bool
    hits: dict[int, Hit] = field(default_factory=dict)
    incident_id: int | None = None
    root_id: int | None = None
    flapping: bool = False
    count: int = 1
    planned: bool = False  # raised on a cutover's declared resources inside its window


@dataclass(frozen=True, slots=True)
class AlarmChange:
    """What the incident stage hears: an alarm raised, cleared, or re-matched."""

    kind: str  # raised | cleared | rematched
    alarm: ActiveAlarm
    at: datetime


@dataclass(frozen=True, slots=True)
class Outcome:
    event_id: int
    alarm_id: int | None
    outcome: str


def dedup_key(event: AlarmEvent, ne_id: int | None) -> str:
    """Same NE, object and type = the same alarm (DOMAIN 3.1); the source does not matter, so the
    provincial feed's copy of our own EMS's alarm folds into it ("double insurance")."""
    where = (
        f"ne:{ne_id}" if ne_id is not None else (f"ip:{event.ne_ip}" if not event.ne else f"name:{event.ne}")
    )
    return f"{where}|{event.object.lower()}|{event.type}|{'drill' if event.drill else ''}"


class AlarmBook:
    def __init__(self, policy: AlarmPolicy) -> None:
        self.policy = policy
        self.active: dict[str, ActiveAlarm] = {}
        self.by_id: dict[int, ActiveAlarm] = {}
        self.raises: dict[str, deque[datetime]] = {}
        self.seen: dict[tuple[str, str, str, datetime], int] = {}
        self.seen_order: deque[tuple[str, str, str, datetime]] = deque()
        self.next_alarm_id = 1
        self.next_event_id = 1
        self.planned_check: PlannedCheck = _never_planned

    # ------------------------------------------------------------------ start-up
    def load(self, session: Session, index: ImpactIndex) -> None:
        self.active.clear()
        self.by_id.clear()
        self.raises.clear()
        self._load_seen(session)
        self.next_alarm_id = (session.scalar(select(func.max(AlarmRecord.id))) or 0) + 1
        self.next_event_id = (session.scalar(select(func.max(AlarmEventRecord.id))) or 0) + 1
        rows = session.execute(
            select(
                AlarmRecord.id,
                AlarmRecord.dedup_key,
                AlarmRecord.ne_id,
                AlarmRecord.object,
                AlarmRecord.type,
                AlarmRecord.severity,
                AlarmRecord.first_time,
                AlarmRecord.drill,
                AlarmRecord.incident_id,
                AlarmRecord.root_id,
                AlarmRecord.flapping,
                AlarmRecord.count,
                AlarmRecord.planned,
            )
            .where(AlarmRecord.state == AlarmState.ACTIVE.value)
            .execution_options(yield_per=10_000)  # streamed: 200,000 active alarms at scale 100
        )
        for row in rows:
            alarm = ActiveAlarm(
                *row[:8], incident_id=row[8], root_id=row[9], flapping=row[10], count=row[11], planned=row[12]
            )
            alarm.hits = self.match(index, alarm.ne_id, alarm.object, alarm.type)
            self.active[alarm.key] = alarm
            self.by_id[alarm.id] = alarm

    def _load_seen(self, session: Session) -> None:
        """The idempotency keys of the latest stored events: a sender that retries after a crash
        (or a 503) must not apply an event twice, nor have a rolled-back one taken as a repeat."""
        self.seen.clear()
        self.seen_order.clear()
        rows = session.execute(
            select(EVENT.c.source, EVENT.c.source_id, EVENT.c.severity, EVENT.c.event_time, EVENT.c.alarm_id)
            .where(EVENT.c.source_id != "", EVENT.c.outcome != "repeat")
            .order_by(EVENT.c.id.desc())
            .limit(REPEAT_MEMORY)
        ).all()
        for source, source_id, severity, event_time, alarm_id in reversed(rows):
            self._remember((source, source_id, severity, event_time), alarm_id or 0)

    # ------------------------------------------------------------------ matching
    def match(self, index: ImpactIndex, ne_id: int | None, obj: str, alarm_type: str) -> dict[int, Hit]:
        """NE/port → routes → circuits, plus a platform's dependants (DOMAIN 3.5)."""
        if ne_id is None:
            return {}
        port = None if (not obj or alarm_type in self.policy.ne_level_types) else obj
        hits: dict[int, Hit] = {}
        for route_hit in index.hits(ne_id, port):
            flag = PRIMARY if route_hit.route == "primary" else BACKUP
            previous = hits.get(route_hit.circuit_id)
            hits[route_hit.circuit_id] = flag if previous is None else previous | flag
        if ne_id in index.platforms:
            for circuit_id in index.platform_dependants(ne_id):
                hits[circuit_id] = hits.get(circuit_id, NONE) | PLATFORM
        return hits

    def affects_service(self, alarm: ActiveAlarm) -> bool:
        return alarm.severity in self.policy.impact_severities

    def is_consequent(self, alarm: ActiveAlarm) -> bool:
        return alarm.type in self.policy.consequent_types

    # ------------------------------------------------------------------ processing
    def apply(
        self, items: Iterable[tuple[str, AlarmEvent]], received_at: datetime, index: ImpactIndex, batch: Batch
    ) -> tuple[list[Outcome], list[AlarmChange]]:
        """Process events in order; return each event's outcome and the changes for the incident stage."""
        outcomes: list[Outcome] = []
        changes: list[AlarmChange] = []
        for channel, event in items:
            event_id = self.next_event_id
            self.next_event_id += 1
            repeat_key = (event.source, event.source_id, event.severity, event.event_time)
            if event.source_id and repeat_key in self.seen:
                alarm_id, outcome = self.seen[repeat_key], "repeat"  # a redelivery: stored, not re-applied
            else:
                alarm_id, outcome = self._apply_one(event, received_at, index, batch, changes)
                if event.source_id:
                    self._remember(repeat_key, alarm_id or 0)
            batch.insert(
                EVENT,
                {
                    "id": event_id,
                    "received_at": received_at,
                    "channel": channel,
                    "source": event.source,
                    "ne": event.ne,
                    "ne_ip": event.ne_ip,
                    "object": event.object,
                    "type": event.type,
                    "severity": event.severity,
                    "event_time": event.event_time,
                    "text": safe_text(event.text),
                    "source_id": event.source_id,
                    "alarm_id": alarm_id,
                    "outcome": outcome,
                },
            )
            outcomes.append(Outcome(event_id, alarm_id, outcome))
        return outcomes, changes

    def _remember(self, key: tuple[str, str, str, datetime], alarm_id: int) -> None:
        self.seen[key] = alarm_id
        self.seen_order.append(key)
        if len(self.seen_order) > REPEAT_MEMORY:
            self.seen.pop(self.seen_order.popleft(), None)

    def _apply_one(
        self,
        event: AlarmEvent,
        received_at: datetime,
        index: ImpactIndex,
        batch: Batch,
        changes: list[AlarmChange],
    ) -> tuple[int | None, str]:
        ne_id = index.resolve_ne(event.ne or None, event.ne_ip or None)
        key = dedup_key(event, ne_id)
        current = self.active.get(key)
        if event.is_clear:
            if current is None:
                return None, "clear_without_alarm"
            self._clear(current, event.event_time, "", "", batch)
            changes.append(AlarmChange("cleared", current, event.event_time))
            return current.id, "cleared"
        if current is not None:
            current.count += 1
            fields = {"count": current.count, "last_time": event.event_time}
            if event.severity != current.severity:
                current.severity = event.severity
                fields["severity"] = event.severity
            batch.update(ALARM, current.id, **fields)
            return current.id, "duplicate"
        alarm = ActiveAlarm(
            self.next_alarm_id,
            key,
            ne_id,
            event.object,
            event.type,
            event.severity,
            event.event_time,
            event.drill,
        )
        self.next_alarm_id += 1
        alarm.flapping = self._count_raise(key, event.event_time)
        at = event.event_time
        alarm.planned = not event.drill and self.planned_check(ne_id, event.object, event.type, at)
        alarm.hits = self.match(index, ne_id, event.object, event.type)
        self.active[key] = alarm
        self.by_id[alarm.id] = alarm
        batch.insert(
            ALARM,
            {
                "id": alarm.id,
                "dedup_key": key,
                "source": event.source,
                "ne_id": ne_id,
                "ne_name": index.ne_name.get(ne_id, event.ne) if ne_id else event.ne,
                "ne_ip": event.ne_ip,
                "object": event.object,
                "type": event.type,
                "probable_cause": event.probable_cause,
                "severity": event.severity,
                "state": AlarmState.ACTIVE.value,
                "count": 1,
                "first_time": event.event_time,
                "last_time": event.event_time,
                "cleared_time": None,
                "clear_reason": "",
                "cleared_by": "",
                "text": safe_text(event.text),
                "source_id": event.source_id,
                "ack_by": None,
                "ack_at": None,
                "root_id": None,
                "flapping": alarm.flapping,
                "planned": alarm.planned,
                "drill": event.drill,
                "incident_id": None,
                "matched": bool(alarm.hits),
                "circuit_count": len(alarm.hits),
                "received_at": received_at,
            },
        )
        self._write_links(alarm, index, batch)
        changes.append(AlarmChange("raised", alarm, event.event_time))
        return alarm.id, "raised"

    def _write_links(self, alarm: ActiveAlarm, index: ImpactIndex, batch: Batch) -> None:
        for circuit_id, hit in alarm.hits.items():
            info = index.circuits.get(circuit_id)
            if info is None:
                continue
            route = (
                "platform"
                if hit.platform
                else ("both" if hit.primary and hit.backup else ("primary" if hit.primary else "backup"))
            )
            batch.insert(
                LINK,
                {
                    "alarm_id": alarm.id,
                    "circuit_id": circuit_id,
                    "customer_id": info.customer_id,
                    "route": route,
                },
            )

    def _count_raise(self, key: str, at: datetime) -> bool:
        """Flapping (DOMAIN 3.3): more than ``count`` raises of one alarm within ``window_minutes``."""
        window = timedelta(minutes=self.policy.flapping.window_minutes)
        history = self.raises.get(key)
        if history is None:  # not setdefault: that made a deque for every raise
            history = self.raises[key] = deque()
        history.append(at)
        while history and at - history[0] > window:
            history.popleft()
        return len(history) > self.policy.flapping.count

    def _clear(self, alarm: ActiveAlarm, at: datetime, reason: str, by: str, batch: Batch) -> None:
        del self.active[alarm.key]
        self.by_id.pop(alarm.id, None)
        batch.update(
            ALARM,
            alarm.id,
            state=AlarmState.CLEARED.value,
            cleared_time=at,
            clear_reason=reason,
            cleared_by=by,
        )

    def manual_clear(
        self, alarm_id: int, at: datetime, reason: str, by: str, batch: Batch
    ) -> AlarmChange | None:
        """手工清除: an alarm left active after its cause cleared, cleared by hand with a reason."""
        alarm = self.by_id.get(alarm_id)
        if alarm is None:
            return None
        self._clear(alarm, at, reason, by, batch)
        return AlarmChange("cleared", alarm, at)

    def rematch(self, index: ImpactIndex, batch: Batch) -> list[AlarmChange]:
        """After an inventory change: re-match every active alarm; report those whose circuits changed."""
        changes = []
        for alarm in self.active.values():
            ne_id = alarm.ne_id
            if ne_id is None or ne_id not in index.ne_name:
                continue
            hits = self.match(index, ne_id, alarm.object, alarm.type)
            if hits == alarm.hits:
                continue
            alarm.hits = hits
            batch.delete(LINK, "alarm_id", alarm.id)
            self._write_links(alarm, index, batch)
            batch.update(ALARM, alarm.id, matched=bool(hits), circuit_count=len(hits))
            changes.append(AlarmChange("rematched", alarm, alarm.first_time))
        return changes
