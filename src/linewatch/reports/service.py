"""Load the monthly report's rows with a handful of set-based queries, then hand them to figures.

Six queries whatever the month's size (no per-incident or per-ticket round trips): faults in the
month and the repeat-fault window, their impacts, their ticket causes, the month's down
intervals, the month's tickets with their breaches, and the count of circuits in service.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from linewatch.core.policy import Policy
from linewatch.incidents.models import ImpactRecord, IncidentRecord
from linewatch.inventory.models import Circuit, Customer, NetworkElement, Region, Team
from linewatch.reports.figures import (
    MILESTONE_AT,
    UNKNOWN,
    DownRow,
    FaultRow,
    Month,
    Report,
    TicketRow,
    monthly,
)
from linewatch.tickets.models import Ticket, TicketEvent

# Planned cutovers and drills are never faults (DOMAIN 9: excluded from every figure).
_REAL = and_(IncidentRecord.planned.is_(False), IncidentRecord.drill.is_(False))


def _faults(session: Session, since: datetime, end: datetime) -> list[FaultRow]:
    incidents = session.execute(
        select(
            IncidentRecord.id,
            IncidentRecord.opened_at,
            IncidentRecord.recovered_at,
            IncidentRecord.diagnosis_due,
            IncidentRecord.diagnosis_at,
            Region.code,
        )
        .outerjoin(NetworkElement, NetworkElement.id == IncidentRecord.root_ne_id)
        .outerjoin(Region, Region.id == NetworkElement.region_id)
        .where(_REAL, IncidentRecord.opened_at >= since, IncidentRecord.opened_at < end)
    ).all()
    customer_region = aliased(Region)
    impacts = session.execute(
        select(
            ImpactRecord.incident_id,
            ImpactRecord.since,
            Circuit.code,
            Circuit.service_type,
            Team.code,
            customer_region.code,
        )
        .join(IncidentRecord, IncidentRecord.id == ImpactRecord.incident_id)
        .join(Circuit, Circuit.id == ImpactRecord.circuit_id)
        .join(Customer, Customer.id == Circuit.customer_id)
        .outerjoin(customer_region, customer_region.id == Customer.region_id)
        .outerjoin(Team, Team.id == Circuit.maintainer_id)
        .where(_REAL, IncidentRecord.opened_at >= since, IncidentRecord.opened_at < end)
    ).all()
    causes: dict[int, str] = {}
    for incident_id, cause in session.execute(
        select(Ticket.incident_id, Ticket.cause)
        .join(IncidentRecord, IncidentRecord.id == Ticket.incident_id)
        .where(
            _REAL,
            IncidentRecord.opened_at >= since,
            IncidentRecord.opened_at < end,
            Ticket.closed_at.is_not(None),
            Ticket.cause != "",
        )
        .order_by(Ticket.closed_at, Ticket.id)
    ):
        causes.setdefault(incident_id, cause)  # the first closed ticket's cause (回单原因)
    circuits: dict[int, set[str]] = defaultdict(set)
    types: dict[int, set[str]] = defaultdict(set)
    contractors: dict[int, set[str]] = defaultdict(set)
    first_region: dict[int, tuple[datetime, str]] = {}
    for incident_id, since_at, code, service_type, maintainer, region in impacts:
        circuits[incident_id].add(code)
        types[incident_id].add(service_type)
        if maintainer:
            contractors[incident_id].add(maintainer)
        if region and (incident_id not in first_region or (since_at, region) < first_region[incident_id]):
            first_region[incident_id] = (since_at, region)
    return [
        FaultRow(
            incident_id=i,
            opened_at=opened,
            recovered_at=recovered,
            diagnosis_due=due,
            diagnosis_at=diagnosed,
            region=ne_region or first_region.get(i, (opened, UNKNOWN))[1],
            cause=causes.get(i, UNKNOWN),
            circuits=tuple(sorted(circuits[i])),
            service_types=tuple(sorted(types[i])),
            contractors=tuple(sorted(contractors[i])),
        )
        for i, opened, recovered, due, diagnosed, ne_region in incidents
        if circuits[i]  # an incident that hurt no circuit is not a fault
    ]


def _downs(session: Session, month: Month) -> list[DownRow]:
    return [
        DownRow(i, code, s, u)
        for i, code, s, u in session.execute(
            select(ImpactRecord.incident_id, Circuit.code, ImpactRecord.since, ImpactRecord.until)
            .join(IncidentRecord, IncidentRecord.id == ImpactRecord.incident_id)
            .join(Circuit, Circuit.id == ImpactRecord.circuit_id)
            .where(
                _REAL,
                ImpactRecord.impact == "down",
                ImpactRecord.since < month.end,
                or_(ImpactRecord.until.is_(None), ImpactRecord.until > month.start),
            )
        )
    ]


def _tickets(session: Session, month: Month) -> list[TicketRow]:
    scope = and_(
        Ticket.created_at >= month.start,
        Ticket.created_at < month.end,
        Ticket.drill.is_(False),
        or_(Ticket.incident_id.is_(None), _REAL),
    )
    milestones = [getattr(Ticket, column) for column in MILESTONE_AT.values()]
    rows = session.execute(
        select(Ticket.id, Ticket.incident_id, Ticket.created_at, *milestones)
        .outerjoin(IncidentRecord, IncidentRecord.id == Ticket.incident_id)
        .where(scope)
    ).all()
    breached: dict[int, set[str]] = defaultdict(set)
    for ticket_id, data in session.execute(
        select(TicketEvent.ticket_id, TicketEvent.data)
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .outerjoin(IncidentRecord, IncidentRecord.id == Ticket.incident_id)
        .where(scope, TicketEvent.type == "breach")
    ):
        if data and data.get("deadline"):
            breached[ticket_id].add(data["deadline"])
    return [
        TicketRow(
            ticket_id=t[0],
            incident_id=t[1],
            created_at=t[2],
            met=dict(zip(MILESTONE_AT, t[3:], strict=True)),
            breached=frozenset(breached[t[0]]),
        )
        for t in rows
    ]


def monthly_report(session: Session, policy: Policy, month: Month, now: datetime) -> Report:
    window = timedelta(days=policy.statistics.repeat_fault_days)
    in_service = session.scalar(select(func.count()).select_from(Circuit).where(Circuit.in_service)) or 0
    return monthly(
        month,
        now,
        _faults(session, month.start - window, month.end),
        _downs(session, month),
        _tickets(session, month),
        in_service,
        policy.statistics.repeat_fault_days,
        policy.statistics.repeat_fault_min,
    )


__all__ = ["monthly_report"]
