"""Incident services for the edges: scoped reads and the dispatcher's diagnosis (初步定位)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from linewatch.alarms.models import AlarmRecord
from linewatch.core.actor import Actor
from linewatch.core.clock import Clock
from linewatch.core.errors import Conflict, LinewatchError, NotFound
from linewatch.core.ids import parse_cursor
from linewatch.db.audit import record
from linewatch.incidents.choices import DiagnosisCategory
from linewatch.incidents.models import ImpactRecord, IncidentRecord
from linewatch.inventory.choices import Role
from linewatch.inventory.models import Circuit, Customer

IMPACTS_SHOWN = 5000


def _scope(query: Select[Any], actor: Actor) -> Select[Any]:
    if actor.role == Role.CONTRACTOR:
        mine = (
            select(ImpactRecord.incident_id)
            .join(Circuit, Circuit.id == ImpactRecord.circuit_id)
            .where(Circuit.maintainer_id == (actor.team_id or -1))
        )
        return query.where(IncidentRecord.id.in_(mine))
    if actor.role == Role.ACCOUNT_MANAGER:
        mine = (
            select(ImpactRecord.incident_id)
            .join(Customer, Customer.id == ImpactRecord.customer_id)
            .where(Customer.account_manager_id == (actor.staff_id or -1))
        )
        return query.where(IncidentRecord.id.in_(mine))
    return query


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def incident_dicts(session: Session, rows: list[IncidentRecord], now: datetime) -> list[dict[str, Any]]:
    ids = [r.id for r in rows]
    impacts: dict[int, list[dict[str, Any]]] = defaultdict(list)
    alarms: dict[int, list[int]] = defaultdict(list)
    if ids:
        query = (
            select(ImpactRecord, Circuit.code, Customer.code)
            .join(Circuit, Circuit.id == ImpactRecord.circuit_id)
            .join(Customer, Customer.id == ImpactRecord.customer_id)
            .where(ImpactRecord.incident_id.in_(ids))
            .order_by(ImpactRecord.incident_id, ImpactRecord.id)
        )
        for impact, circuit, customer in session.execute(query):
            if len(impacts[impact.incident_id]) < IMPACTS_SHOWN:
                impacts[impact.incident_id].append(
                    {
                        "circuit": circuit,
                        "customer": customer,
                        "impact": impact.impact,
                        "since": _iso(impact.since),
                        "until": _iso(impact.until),
                    }
                )
        for alarm_id, incident_id in session.execute(
            select(AlarmRecord.id, AlarmRecord.incident_id)
            .where(AlarmRecord.incident_id.in_(ids))
            .order_by(AlarmRecord.id)
        ):
            alarms[incident_id].append(alarm_id)
    return [
        {
            "id": r.id,
            "level": r.level,
            "level_reason": r.level_reason,
            "state": r.state,
            "opened_at": _iso(r.opened_at),
            "recovered_at": _iso(r.recovered_at),
            "root_alarm_id": r.root_alarm_id,
            "alarm_ids": alarms.get(r.id, []),
            "impacts": impacts.get(r.id, []),
            "key_customers_down": r.key_customers_down,
            "diagnosis": {
                "category": r.diagnosis_category,
                "by": r.diagnosis_by,
                "at": _iso(r.diagnosis_at),
                "note": r.diagnosis_note or None,
            }
            if r.diagnosis_category
            else None,
            "diagnosis_due": _iso(r.diagnosis_due),
            "diagnosis_overdue": r.diagnosis_category is None and r.diagnosis_due < now,
            "ticket_ids": [],
            "planned": r.planned,
            "drill": r.drill,
            "assurance": r.assurance,
            "assurance_history": r.assurance_history or [],
        }
        for r in rows
    ]


def list_incidents(
    session: Session,
    actor: Actor,
    now: datetime,
    *,
    limit: int,
    cursor: str | None,
    state: str = "open",
    level: str | None = None,
    drill: bool | None = None,
    ids: list[int] | None = None,
) -> dict[str, Any]:
    if state not in ("open", "recovered", "all"):
        raise LinewatchError("state must be open, recovered or all")
    query = _scope(select(IncidentRecord), actor)
    if state != "all":
        query = query.where(IncidentRecord.state == state)
    if level:
        query = query.where(IncidentRecord.level == level)
    if drill is not None:
        query = query.where(IncidentRecord.drill == drill)
    if ids is not None:
        query = query.where(IncidentRecord.id.in_(ids))
    if cursor:
        query = query.where(IncidentRecord.id < parse_cursor(cursor))
    rows = list(session.scalars(query.order_by(IncidentRecord.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": incident_dicts(session, rows, now), "next_cursor": str(rows[-1].id) if more else None}


def get_incident(session: Session, actor: Actor, incident_id: int, now: datetime) -> dict[str, Any]:
    row = session.scalar(_scope(select(IncidentRecord), actor).where(IncidentRecord.id == incident_id))
    if row is None:
        raise NotFound(f"no incident {incident_id}")
    return incident_dicts(session, [row], now)[0]


def diagnose(
    session: Session, clock: Clock, actor: Actor, incident_id: int, category: str, note: str | None
) -> None:
    """初步定位: network fault, not a network fault, or cannot be located (DOMAIN 4)."""
    row = session.scalar(_scope(select(IncidentRecord), actor).where(IncidentRecord.id == incident_id))
    if row is None:
        raise NotFound(f"no incident {incident_id}")
    try:
        value = DiagnosisCategory.parse(category).value
    except ValueError as exc:
        raise LinewatchError(str(exc)) from exc
    if row.diagnosis_category == value:
        raise Conflict(f"incident {incident_id} is already diagnosed as {value}")
    before = {"category": row.diagnosis_category}
    row.diagnosis_category, row.diagnosis_by, row.diagnosis_at = value, actor.label, clock.now()
    row.diagnosis_note = note or ""
    record(
        session,
        clock,
        actor.label,
        "diagnose",
        "incident",
        str(incident_id),
        before=before,
        after={"category": value, "on_time": row.diagnosis_at <= row.diagnosis_due},
        note=note or "",
    )
