"""Drills (应急演练, DOMAIN 7): scripted native alarms through the real pipeline flagged ``drill``,
and the report of every response milestone against its deadline.

The alarms, their incident, its tickets and notifications all carry ``drill`` (set at ingest and
inherited downstream), so statistics leave them out and recipients see "演练/DRILL".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from linewatch.alarms.models import AlarmRecord
from linewatch.alarms.normalise import AlarmEvent, Rejected, normalise_native
from linewatch.assurance.models import Drill
from linewatch.core.actor import Actor
from linewatch.core.errors import NotFound, ValidationFailed
from linewatch.db import audit
from linewatch.incidents.models import IncidentRecord
from linewatch.tickets import service as tickets
from linewatch.tickets.choices import DEADLINE_OF

CHANNEL = "drill"
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
    session: Session, clock: Any, actor: Actor, name: str, items: list[Any], alarm_ids: list[int]
) -> Drill:
    drill = Drill(
        name=name,
        started_at=clock.now(),
        started_by=actor.label,
        alarm_ids=sorted(set(alarm_ids)),
        steps=[items],
    )
    session.add(drill)
    session.flush()
    audit.record(session, clock, actor.label, "drill.start", "drill", str(drill.id))
    return drill


def add_step(
    session: Session, clock: Any, actor: Actor, drill_id: int, items: list[Any], alarm_ids: list[int]
) -> Drill:
    drill = get(session, drill_id)
    drill.alarm_ids = sorted(set(drill.alarm_ids) | set(alarm_ids))
    drill.steps = [*drill.steps, items]
    audit.record(session, clock, actor.label, "drill.step", "drill", str(drill.id))
    return drill


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
        "incidents": incidents,
        "tickets": ticket_rows,
        "missed": missed,
    }


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
