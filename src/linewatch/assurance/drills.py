"""Drills (应急演练, DOMAIN 7): scripted native alarms through the real pipeline flagged ``drill``,
and the report of every response milestone against its deadline.

The alarms, their incident, its tickets and notifications all carry ``drill`` (set at ingest and
inherited downstream), so statistics leave them out and recipients see "演练/DRILL".
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from linewatch.alarms.models import AlarmRecord
from linewatch.alarms.normalise import AlarmEvent, Rejected, normalise_native
from linewatch.assurance.models import Drill
from linewatch.core.actor import Actor
from linewatch.core.errors import NotFound, ValidationFailed
from linewatch.db import audit, timers
from linewatch.incidents.models import IncidentRecord
from linewatch.tickets import service as tickets
from linewatch.tickets.choices import DEADLINE_OF

CHANNEL = "drill"
OWNER = "drill"  # the timers' owner for timed steps
Submit = Callable[[str, list[AlarmEvent]], list[Any]]  # the pipeline's submit: returns once stored


def scripted_events(
    items: list[Any], now: datetime, tz: ZoneInfo, aliases: Mapping[str, str]
) -> list[AlarmEvent]:
    """All or nothing: a drill half-injected would rehearse a different fault."""
    events, errors = [], []
    for i, item in enumerate(items):
        result = normalise_native(item, now, tz, aliases, drill=True)
        if isinstance(result, Rejected):
            errors.append({"index": i, "error": result.reason})
        else:
            events.append(result)
    if errors or not events:
        raise ValidationFailed("the drill's alarms are not valid", detail=errors or "no alarms")
    return events


def run_step(submit: Submit, events: list[AlarmEvent]) -> list[int]:
    outcomes = submit(CHANNEL, events)
    return [o.alarm_id for o in outcomes if o.alarm_id is not None]


def record(
    session: Session,
    clock: Any,
    actor: Actor,
    name: str,
    items: list[Any],
    alarm_ids: list[int],
    timed: Sequence[tuple[int, list[Any]]] = (),
) -> Drill:
    """The drill as started: its first step done now, each timed step (minutes after the start,
    alarms) a durable timer on the one clock (:class:`StepRunner` injects it when it falls due)."""
    now = clock.now()
    steps = [_step(0, items, now, now)]
    for minutes, step_items in sorted(timed, key=lambda step: step[0]):
        steps.append(_step(minutes, step_items, now + timedelta(minutes=minutes), None))
    drill = Drill(
        name=name, started_at=now, started_by=actor.label, alarm_ids=sorted(set(alarm_ids)), steps=steps
    )
    session.add(drill)
    session.flush()
    for number, step in enumerate(steps):
        if step["done_at"] is None:
            timers.schedule(
                session, OWNER, drill.id, f"step:{number}", datetime.fromisoformat(step["due_at"])
            )
    audit.record(session, clock, actor.label, "drill.start", "drill", str(drill.id))
    return drill


def _step(minutes: int, items: list[Any], due: datetime, done: datetime | None) -> dict[str, Any]:
    return {"after_minutes": minutes, "alarms": items, "due_at": due.isoformat(), "done_at": _iso(done)}


def steps_of(drill: Drill) -> list[dict[str, Any]]:
    """The drill's steps; one stored as a bare list of alarms (before timed steps) was done at the start."""
    start = _iso(drill.started_at)
    return [
        step
        if isinstance(step, dict)
        else {"after_minutes": 0, "alarms": step, "due_at": start, "done_at": start}
        for step in drill.steps
    ]


def add_step(
    session: Session, clock: Any, actor: Actor, drill_id: int, items: list[Any], alarm_ids: list[int]
) -> Drill:
    """A step injected by hand when the exercise calls for it (a clear, a second fault)."""
    drill = get(session, drill_id)
    now = clock.now()
    minutes = int((now - drill.started_at).total_seconds() // 60)
    drill.alarm_ids = sorted(set(drill.alarm_ids) | set(alarm_ids))
    drill.steps = [*steps_of(drill), _step(minutes, items, now, now)]
    audit.record(session, clock, actor.label, "drill.step", "drill", str(drill.id))
    return drill


def listing(session: Session) -> list[Drill]:
    return list(session.scalars(select(Drill).order_by(Drill.id.desc())))


# ---------------------------------------------------------------------- timed steps
class StepRunner:
    """Timed steps on the one clock. The timer handler runs inside the timers' transaction, where
    injecting would wait on the pipeline writer (a deadlock on SQLite), so it only queues the step;
    :meth:`run` injects queued steps after that commit, oldest due first, timed at their due time.
    A step is marked done with its alarms, so a retried round injects it once; at start
    :meth:`recover` queues steps that fell due but were never done (a crash between the two)."""

    def __init__(self, tz: ZoneInfo, aliases: Mapping[str, str]) -> None:
        self.tz, self.aliases = tz, aliases
        self.queue: set[tuple[datetime, int, int]] = set()  # (due, drill id, step number)
        self.lock = threading.Lock()

    def on_timer(self, session: Session, timer: timers.Timer, now: datetime) -> None:
        with self.lock:
            self.queue.add((timer.due_at, timer.owner_id, int(timer.kind.partition(":")[2])))

    def recover(self, session: Session, now: datetime) -> None:
        for drill in session.scalars(select(Drill)):
            for number, step in enumerate(steps_of(drill)):
                due = datetime.fromisoformat(step["due_at"])
                if step["done_at"] is None and due <= now:
                    with self.lock:
                        self.queue.add((due, drill.id, number))

    def run(self, db: Any, clock: Any, submit: Submit) -> int:
        """Inject every queued step not yet done; how many were injected."""
        with self.lock:
            due, self.queue = sorted(self.queue), set()
        injected = 0
        for due_at, drill_id, number in due:
            with db.reading() as session:
                drill = session.get(Drill, drill_id)
                steps = steps_of(drill) if drill is not None else []
            if number >= len(steps) or steps[number]["done_at"] is not None:
                continue
            # the step's alarms happened at its due time, even when a clock jump fires it later
            events = scripted_events(steps[number]["alarms"], due_at, self.tz, self.aliases)
            alarm_ids = run_step(submit, events)
            with db.unit_of_work() as session:
                drill = get(session, drill_id)
                fresh = steps_of(drill)
                fresh[number] = {**fresh[number], "done_at": clock.now().isoformat(), "alarm_ids": alarm_ids}
                drill.steps = fresh
                drill.alarm_ids = sorted(set(drill.alarm_ids) | set(alarm_ids))
            injected += 1
        return injected


def get(session: Session, drill_id: int) -> Drill:
    drill = session.get(Drill, drill_id)
    if drill is None:
        raise NotFound(f"no drill {drill_id}")
    return drill


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _minutes(start: datetime, value: datetime | None) -> float | None:
    return None if value is None else round((value - start).total_seconds() / 60, 1)


def _met(at: datetime | None, deadline: datetime | None, now: datetime) -> bool | None:
    """Met or missed; None while neither (not reached and not yet due) or without a deadline."""
    if deadline is None:
        return None
    if at is not None:
        return at <= deadline
    return False if now > deadline else None


def report(session: Session, env: tickets.Env, actor: Actor, drill_id: int) -> dict[str, Any]:
    """Every response milestone of the drill's incidents and tickets: when, against which deadline,
    met or not, minutes from the drill's start."""
    drill = get(session, drill_id)
    now = env.clock.now()
    start = drill.started_at
    incident_ids = sorted(
        set(
            session.scalars(
                select(AlarmRecord.incident_id).where(
                    AlarmRecord.id.in_(drill.alarm_ids or [-1]), AlarmRecord.incident_id.is_not(None)
                )
            )
        )
    )
    incidents = []
    for incident in session.scalars(
        select(IncidentRecord).where(IncidentRecord.id.in_(incident_ids or [-1]))
    ):
        incidents.append(
            {
                "id": incident.id,
                "drill": incident.drill,
                "level": incident.level,
                "opened_at": _iso(incident.opened_at),
                "recovered_at": _iso(incident.recovered_at),
                "diagnosis": {
                    "at": _iso(incident.diagnosis_at),
                    "deadline": _iso(incident.diagnosis_due),
                    "met": _met(incident.diagnosis_at, incident.diagnosis_due, now),
                    "minutes": _minutes(start, incident.diagnosis_at),
                },
            }
        )
    ticket_rows = []
    for ids in tickets.tickets_of_incidents(session, incident_ids).values():
        for ticket_id in ids:
            data = tickets.get_ticket(session, env, actor, ticket_id)
            milestones = []
            for milestone, deadline_name in DEADLINE_OF.items():
                at = _parse(data["milestones"].get(milestone))
                deadline = _parse(data["deadlines"].get(deadline_name))
                milestones.append(
                    {
                        "milestone": milestone,
                        "at": _iso(at),
                        "deadline": _iso(deadline),
                        "met": _met(at, deadline, now),
                        "minutes": _minutes(start, at),
                    }
                )
            ticket_rows.append(
                {
                    "id": ticket_id,
                    "drill": data.get("drill"),
                    "assignee": data.get("assignee"),
                    "track": data.get("track"),
                    "created_at": data.get("created_at"),
                    "milestones": milestones,
                    "escalations": data.get("escalations", []),
                }
            )
    missed = sum(1 for t in ticket_rows for m in t["milestones"] if m["met"] is False)
    missed += sum(1 for i in incidents if i["diagnosis"]["met"] is False)
    return {
        "id": drill.id,
        "name": drill.name,
        "started_at": _iso(start),
        "started_by": drill.started_by,
        "alarms": len(drill.alarm_ids),
        "steps": [
            {
                "after_minutes": step["after_minutes"],
                "due_at": step["due_at"],
                "done_at": step["done_at"],
                "alarms": len(step["alarms"]),
            }
            for step in steps_of(drill)
        ],
        "incidents": incidents,
        "tickets": ticket_rows,
        "missed": missed,
    }


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
