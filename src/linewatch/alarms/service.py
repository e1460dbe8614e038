"""Alarm services for the edges: dead letters, scoped reads, acknowledge and notes.

Manual clear changes the alarm book, so it goes through the pipeline writer (see pipeline.py).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import Select, case, func, literal, select
from sqlalchemy.orm import Session

from linewatch.alarms.knowledge import Suggestions
from linewatch.alarms.models import AlarmCircuit, AlarmNote, AlarmRecord, RejectedItem
from linewatch.alarms.normalise import safe_text
from linewatch.core.actor import Actor
from linewatch.core.clock import Clock
from linewatch.core.errors import LinewatchError, NotFound
from linewatch.core.ids import parse_cursor
from linewatch.db.audit import record
from linewatch.inventory.choices import Role
from linewatch.inventory.index import ImpactIndex
from linewatch.inventory.models import Circuit, Customer

MAX_DEAD_LETTER_PAYLOAD = 65536
CIRCUITS_SHOWN = 1000  # per alarm on its own page; ``circuit_count`` always tells the whole number
LIST_CIRCUITS_SHOWN = 50  # per alarm in lists: a hub port's alarm hits thousands (decision 132)


def reject(
    session: Session, clock: Clock, channel: str, remote: str, reason: str, payload: str | bytes
) -> None:
    """Keep a refused item for inspection (bounded: a 1 MB garbage line is kept as its first 64 KiB)."""
    if isinstance(payload, bytes):
        payload = payload[:MAX_DEAD_LETTER_PAYLOAD].decode("utf-8", errors="backslashreplace")
    session.add(
        RejectedItem(
            received_at=clock.now(),
            channel=channel,
            remote=safe_text(remote[:100]),
            reason=safe_text(reason[:2000]),
            payload=safe_text(payload[:MAX_DEAD_LETTER_PAYLOAD]),
        )
    )


def list_rejected(session: Session, limit: int, cursor: str | None) -> dict[str, Any]:
    query = select(RejectedItem).order_by(RejectedItem.id.desc()).limit(limit + 1)
    if cursor:
        query = query.where(RejectedItem.id < parse_cursor(cursor))
    rows = list(session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "items": [
            {
                "id": r.id,
                "received_at": r.received_at.isoformat(),
                "channel": r.channel,
                "remote": r.remote,
                "reason": r.reason,
                "payload": r.payload,
            }
            for r in rows
        ],
        "next_cursor": str(rows[-1].id) if more else None,
    }


# A link's circuit, joined through its customer too: links are indexed by (customer, alarm) and
# carry the circuit in that index's key, not by circuit (decision 130).
_same_circuit = (Circuit.id == AlarmCircuit.circuit_id) & (Circuit.customer_id == AlarmCircuit.customer_id)


def _scope(query: Select[Any], actor: Actor) -> Select[Any]:
    """Contractors see alarms on circuits their team maintains; account managers, on their customers."""
    if actor.role == Role.CONTRACTOR:
        mine = (
            select(AlarmCircuit.alarm_id)
            .join(Circuit, _same_circuit)
            .where(Circuit.maintainer_id == (actor.team_id or -1))
        )
        return query.where(AlarmRecord.id.in_(mine))
    if actor.role == Role.ACCOUNT_MANAGER:
        mine = (
            select(AlarmCircuit.alarm_id)
            .join(Customer, Customer.id == AlarmCircuit.customer_id)
            .where(Customer.account_manager_id == (actor.staff_id or -1))
        )
        return query.where(AlarmRecord.id.in_(mine))
    return query


def list_alarms(
    session: Session,
    actor: Actor,
    suggestions: Suggestions,
    *,
    limit: int,
    cursor: str | None,
    state: str = "active",
    ne: str | None = None,
    customer: str | None = None,
    circuit: str | None = None,
    type: str | None = None,
    matched: bool | None = None,
    planned: bool | None = None,
    drill: bool | None = None,
    incident: int | None = None,
    index: ImpactIndex | None = None,
) -> dict[str, Any]:
    """Newest first. Customer and circuit filters go through the alarm→circuit index."""
    if state not in ("active", "cleared", "all"):
        raise LinewatchError("state must be active, cleared or all")
    query = _scope(select(AlarmRecord), actor)
    if state != "all":
        query = query.where(AlarmRecord.state == state)
    if ne:
        query = query.where(AlarmRecord.ne_name == ne)
    if type:
        query = query.where(AlarmRecord.type == type.upper())
    if matched is not None:
        query = query.where(AlarmRecord.matched == matched)
    if planned is not None:
        query = query.where(AlarmRecord.planned == planned)
    if drill is not None:
        query = query.where(AlarmRecord.drill == drill)
    if incident is not None:
        query = query.where(AlarmRecord.incident_id == incident)
    if customer:
        ids = (
            select(AlarmCircuit.alarm_id)
            .join(Customer, Customer.id == AlarmCircuit.customer_id)
            .where(Customer.code == customer)
        )
        query = query.where(AlarmRecord.id.in_(ids))
    if circuit:
        ids = select(AlarmCircuit.alarm_id).join(Circuit, _same_circuit).where(Circuit.code == circuit)
        query = query.where(AlarmRecord.id.in_(ids))
    if cursor:
        query = query.where(AlarmRecord.id < parse_cursor(cursor))
    rows = list(session.scalars(query.order_by(AlarmRecord.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    first = session.scalar(select(Customer.id).where(Customer.code == customer)) if customer else None
    return {
        "items": alarm_dicts(session, rows, suggestions, index, LIST_CIRCUITS_SHOWN, first),
        "next_cursor": str(rows[-1].id) if more else None,
    }


def alarm_dicts(
    session: Session,
    rows: list[AlarmRecord],
    suggestions: Suggestions,
    index: ImpactIndex | None = None,
    shown: int = CIRCUITS_SHOWN,
    first_customer: int | None = None,
) -> list[dict[str, Any]]:
    links = _links(session, [r.id for r in rows if r.circuit_count], index, shown, first_customer)
    out = []
    for r in rows:
        hits = links.get(r.id, [])
        first = hits[0] if hits else ("", "", "", "")
        out.append(
            {
                "id": r.id,
                "source": r.source,
                "ne": r.ne_name,
                "ne_ip": r.ne_ip or None,
                "object": r.object,
                "type": r.type,
                "severity": r.severity,
                "state": r.state,
                "count": r.count,
                "first_time": _iso(r.first_time),
                "last_time": _iso(r.last_time),
                "cleared_time": _iso(r.cleared_time),
                "clear_reason": r.clear_reason or None,
                "text": r.text,
                "probable_cause": r.probable_cause,
                "ack": {"by": r.ack_by, "at": _iso(r.ack_at)} if r.ack_by else None,
                "root_id": r.root_id,
                "flapping": r.flapping,
                "planned": r.planned,
                "drill": r.drill,
                "incident_id": r.incident_id,
                "matched": r.matched,
                "circuit_count": r.circuit_count,
                "circuits": [h[0] for h in hits],
                "customers": sorted({h[1] for h in hits}),
                "suggestion": suggestions.suggest(r.type, first[2], first[3]),
            }
        )
    return out


Link = tuple[str, str, str, str]  # circuit code, customer code, access, service type


def _links(
    session: Session,
    alarm_ids: list[int],
    index: ImpactIndex | None,
    shown: int = CIRCUITS_SHOWN,
    first_customer: int | None = None,
) -> dict[int, list[Link]]:
    """Each alarm's circuits, at most ``shown`` of them (``first_customer``'s first, then by id),
    in code order. The database picks them (a window over each alarm's links): a hub port's
    alarm links thousands of circuits, and a list page of such alarms read them all into Python.
    Codes come from the in-memory inventory index where it knows the circuit."""
    found: dict[int, list[Link]] = defaultdict(list)
    if not alarm_ids:
        return found
    known = index.circuits if index is not None else {}
    priority = (
        case((AlarmCircuit.customer_id == first_customer, 0), else_=1)
        if first_customer is not None
        else literal(1)
    )
    ranked = (
        select(
            AlarmCircuit.alarm_id,
            AlarmCircuit.circuit_id,
            func.row_number()
            .over(partition_by=AlarmCircuit.alarm_id, order_by=(priority, AlarmCircuit.circuit_id))
            .label("rank"),
        )
        .where(AlarmCircuit.alarm_id.in_(alarm_ids))
        .subquery()
    )
    pairs = session.execute(
        select(ranked.c.alarm_id, ranked.c.circuit_id).where(ranked.c.rank <= shown)
    ).all()
    missing = {circuit_id for _, circuit_id in pairs if circuit_id not in known}
    from_db: dict[int, Link] = {}
    if missing:  # circuits the index does not know (removed from inventory since, or no index)
        query = (
            select(Circuit.id, Circuit.code, Customer.code, Circuit.access, Circuit.service_type)
            .join(Customer, Customer.id == Circuit.customer_id)
            .where(Circuit.id.in_(missing))
        )
        from_db = {row[0]: tuple(row[1:]) for row in session.execute(query)}  # type: ignore[misc]
    for alarm_id, circuit_id in pairs:
        info = known.get(circuit_id)
        if info is not None:
            found[alarm_id].append((info.code, info.customer_code, info.access, info.service_type))
        elif circuit_id in from_db:
            found[alarm_id].append(from_db[circuit_id])
    for hits in found.values():
        hits.sort()
    return found


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def get_alarm(
    session: Session, actor: Actor, alarm_id: int, suggestions: Suggestions, index: ImpactIndex | None = None
) -> dict[str, Any]:
    row = session.scalar(_scope(select(AlarmRecord), actor).where(AlarmRecord.id == alarm_id))
    if row is None:
        raise NotFound(f"no alarm {alarm_id}")
    result = alarm_dicts(session, [row], suggestions, index)[0]
    result["notes"] = [
        {"at": n.at.isoformat(), "by": n.by, "text": n.text}
        for n in session.scalars(
            select(AlarmNote).where(AlarmNote.alarm_id == alarm_id).order_by(AlarmNote.id)
        )
    ]
    return result


def _visible(session: Session, actor: Actor, alarm_id: int) -> AlarmRecord:
    row = session.scalar(_scope(select(AlarmRecord), actor).where(AlarmRecord.id == alarm_id))
    if row is None:
        raise NotFound(f"no alarm {alarm_id}")
    return row


def acknowledge(session: Session, clock: Clock, actor: Actor, alarm_id: int, note: str | None) -> None:
    row = _visible(session, actor, alarm_id)
    before = {"ack_by": row.ack_by, "ack_at": _iso(row.ack_at)}
    row.ack_by, row.ack_at = actor.label, clock.now()
    if note:
        session.add(AlarmNote(alarm_id=alarm_id, at=clock.now(), by=actor.label, text=note))
    record(
        session,
        clock,
        actor.label,
        "acknowledge",
        "alarm",
        str(alarm_id),
        before=before,
        after={"ack_by": row.ack_by, "ack_at": _iso(row.ack_at)},
        note=note or "",
    )


def add_note(session: Session, clock: Clock, actor: Actor, alarm_id: int, text: str) -> None:
    _visible(session, actor, alarm_id)
    session.add(AlarmNote(alarm_id=alarm_id, at=clock.now(), by=actor.label, text=text))
    record(session, clock, actor.label, "note", "alarm", str(alarm_id), after={"text": text})


def check_clearable(session: Session, actor: Actor, alarm_id: int) -> AlarmRecord:
    row = _visible(session, actor, alarm_id)
    if row.state != "active":
        from linewatch.core.errors import Conflict

        raise Conflict(f"alarm {alarm_id} is already cleared")
    return row
