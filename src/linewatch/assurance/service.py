"""Assurance services: create and read periods, the scope lookup the incident book consults, and
the cutover refusal (DOMAIN 6–7)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from linewatch.assurance.choices import AssuranceLevel
from linewatch.assurance.models import AssurancePeriod
from linewatch.core.actor import Actor
from linewatch.core.chunks import parts
from linewatch.core.errors import NotFound, ValidationFailed
from linewatch.db import audit, outbox
from linewatch.db.outbox import NotificationRequest
from linewatch.incidents.choices import IncidentState
from linewatch.incidents.models import IncidentRecord
from linewatch.inventory.index import ImpactIndex
from linewatch.inventory.models import Customer, Region, RosterShift, Staff


def create(
    session: Session,
    clock: Any,
    actor: Actor,
    *,
    name: str,
    level: int,
    start: datetime,
    end: datetime,
    scope: dict[str, list[str]],
    roster: str = "",
    plan: str = "",
    team: list[dict[str, Any]] | None = None,
) -> AssurancePeriod:
    """``team``: the period's duty staff ``[{staff: code, start?, end?}]`` (default: the whole
    window), written as roster shifts on duty ``assurance:<id>`` — who hears of faults in scope."""
    if str(level) not in AssuranceLevel.values():
        raise ValidationFailed(f"level must be one of {', '.join(AssuranceLevel.values())}")
    if end <= start:
        raise ValidationFailed("end must be after start")
    clean = {k: sorted({str(v) for v in scope.get(k, [])}) for k in ("customers", "circuits", "regions")}
    if not any(clean.values()):
        raise ValidationFailed("an assurance period needs a scope: customers, circuits or regions")
    period = AssurancePeriod(
        name=name,
        level=level,
        start=start,
        end=end,
        scope=clean,
        roster=roster,
        plan=plan,
        created_at=clock.now(),
        created_by=actor.label,
    )
    session.add(period)
    session.flush()
    _roster_team(session, period, team or [])
    audit.record(session, clock, actor.label, "assurance.create", "assurance_period", str(period.id))
    return period


def team_duty(period_id: int) -> str:
    """The roster duty an assurance period's team is on (值班表 rows, resolved at send time)."""
    return f"assurance:{period_id}"


def _roster_team(session: Session, period: AssurancePeriod, team: list[dict[str, Any]]) -> None:
    codes = {str(member["staff"]) for member in team}
    ids = dict(session.execute(select(Staff.code, Staff.id).where(Staff.code.in_(codes))).all())
    unknown = sorted(codes - set(ids))
    if unknown:
        raise ValidationFailed(f"team: unknown staff {', '.join(unknown)}")
    for member in team:
        start, end = member.get("start") or period.start, member.get("end") or period.end
        if not (period.start <= start < end <= period.end):
            raise ValidationFailed(
                f"team: {member['staff']}'s shift must lie inside the period, start before end"
            )
        staff_id = ids[str(member["staff"])]
        taken = session.scalar(
            select(RosterShift.id).where(RosterShift.staff_id == staff_id, RosterShift.starts_at == start)
        )
        if taken is not None:
            raise ValidationFailed(
                f"team: {member['staff']} already has a shift starting {start.isoformat()}"
            )
        session.add(RosterShift(staff_id=staff_id, duty=team_duty(period.id), starts_at=start, ends_at=end))
    session.flush()


def team_of(session: Session, period_id: int) -> list[dict[str, str]]:
    rows = session.execute(
        select(Staff.code, RosterShift.starts_at, RosterShift.ends_at)
        .join(Staff, Staff.id == RosterShift.staff_id)
        .where(RosterShift.duty == team_duty(period_id))
        .order_by(RosterShift.starts_at, Staff.code)
    )
    return [{"staff": code, "start": start.isoformat(), "end": end.isoformat()} for code, start, end in rows]


def get(session: Session, period_id: int) -> AssurancePeriod:
    period = session.get(AssurancePeriod, period_id)
    if period is None:
        raise NotFound(f"no assurance period {period_id}")
    return period


def as_dict(period: AssurancePeriod, lang: str = "zh", session: Session | None = None) -> dict[str, Any]:
    """The period; with a session, also its team's shifts."""
    extra = {"team": team_of(session, period.id)} if session is not None else {}
    return {
        **extra,
        "id": period.id,
        "name": period.name,
        "level": period.level,
        "level_label": AssuranceLevel(str(period.level)).label(lang),
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "scope": period.scope,
        "roster": period.roster,
        "plan": period.plan,
    }


def scope_circuits(session: Session, index: ImpactIndex, scope: dict[str, Any]) -> frozenset[int]:
    """Circuits in scope: named, of a named customer, or of a customer in a named region."""
    codes = set(scope.get("circuits", []))
    customers = set(scope.get("customers", []))
    regions = set(scope.get("regions", []))
    region_customers: set[int] = set()
    if regions:
        region_customers = set(
            session.scalars(
                select(Customer.id)
                .join(Region, Region.id == Customer.region_id)
                .where(Region.code.in_(regions))
            )
        )
    return frozenset(
        cid
        for cid, info in index.circuits.items()
        if info.code in codes or info.customer_code in customers or info.customer_id in region_customers
    )


def blocking_period(
    session: Session,
    index: ImpactIndex,
    circuits: set[int],
    region: str,
    start: datetime,
    end: datetime,
    level_at_most: int,
) -> AssurancePeriod | None:
    """The highest-level overlapping period whose scope the cutover touches (its circuits, or its
    region when the period protects a whole region), if its level is refused by policy."""
    periods = session.scalars(
        select(AssurancePeriod)
        .where(
            AssurancePeriod.level <= level_at_most, AssurancePeriod.start < end, AssurancePeriod.end > start
        )
        .order_by(AssurancePeriod.level, AssurancePeriod.id)
    )
    for period in periods:
        if (region and region in period.scope.get("regions", [])) or circuits & scope_circuits(
            session, index, period.scope
        ):
            return period
    return None


# ---------------------------------------------------------------------- the incident book's lookup
@dataclass(frozen=True, slots=True)
class Protected:
    id: int
    name: str
    level: int
    start: datetime
    end: datetime
    circuits: frozenset[int]


@dataclass
class AssuranceScopes:
    """Periods not yet over, with their scope expanded to circuit ids; swapped whole on change so
    the pipeline writer reads it without locks."""

    periods: tuple[Protected, ...] = field(default_factory=tuple)

    def covering(self, circuits: set[int] | Any, at: datetime) -> Protected | None:
        """The highest-level period in force at ``at`` that protects any of these circuits."""
        best = None
        for period in self.periods:
            in_force = period.start <= at < period.end and not period.circuits.isdisjoint(circuits)
            if in_force and (best is None or period.level < best.level):
                best = period
        return best


def refresh_scopes(session: Session, scopes: AssuranceScopes, index: ImpactIndex, now: datetime) -> None:
    rows = session.scalars(select(AssurancePeriod).where(AssurancePeriod.end > now))
    scopes.periods = tuple(
        Protected(p.id, p.name, p.level, p.start, p.end, scope_circuits(session, index, p.scope))
        for p in rows
    )


# ---------------------------------------------------------------------- notifying the assurance team
# who hears that a fault entered an assurance scope when the period's team has nobody on duty then
TEAM_ROLES = ["fault_manager", "dispatcher"]


NOTICE = "incident.assurance"  # the outbox kind of the notice


# a notice's key: (incident, assurance period, when the incident entered it)
Entry = tuple[int, int, str | None]


def _entered(assurance: dict[str, Any], history: list[dict[str, Any]] | None) -> str | None:
    """When the incident entered its current assurance period (its history's open entry)."""
    for entry in reversed(history or []):
        if entry.get("id") == assurance.get("id") and entry.get("until") is None:
            return str(entry.get("since"))
    return None


def _told(session: Session, incident_ids: list[int]) -> set[Entry]:
    told: set[Entry] = set()
    for part in parts(incident_ids):
        for incident_id, data in session.execute(
            select(NotificationRequest.incident_id, NotificationRequest.data).where(
                NotificationRequest.incident_id.in_(part), NotificationRequest.kind == NOTICE
            )
        ):
            told.add((int(incident_id), int(data["assurance"]["id"]), data.get("entered")))
    return told


def _was_told(told: set[Entry], incident_id: int, period_id: int, entered: str | None) -> bool:
    """A notice for this entry into the period was written (one without an entry time, written
    before it was recorded, counts for the period)."""
    return bool({(incident_id, period_id, entered), (incident_id, period_id, None)} & told)


def _incidents(session: Session, incident_ids: list[int]) -> list[IncidentRecord]:
    return [
        incident
        for part in parts(incident_ids)
        for incident in session.scalars(select(IncidentRecord).where(IncidentRecord.id.in_(part)))
    ]


def _tell_team(session: Session, now: datetime, incidents: list[IncidentRecord], roles: list[str]) -> None:
    """Write each incident's notice for the assurance period it is in, unless one was written for
    that entry into the period already: re-running writes nothing (decision 173)."""
    told = _told(session, [i.id for i in incidents])
    for incident in incidents:
        if not incident.assurance:
            continue
        period_id = int(str(incident.assurance["id"]))
        entered = _entered(incident.assurance, incident.assurance_history)
        if _was_told(told, incident.id, period_id, entered):
            continue
        told.add((incident.id, period_id, entered))
        outbox.request(
            session,
            now,
            NOTICE,
            {"duties": [team_duty(period_id)], "otherwise": {"roles": roles}},
            {
                "incident_id": incident.id,
                "level": incident.level,
                "assurance": incident.assurance,
                "entered": entered,
            },
            incident_id=incident.id,
            drill=incident.drill,
        )


def notify_team(clock: Any, roles: list[str] = TEAM_ROLES) -> Callable[[Session, list[Any]], None]:
    """A downstream hook: an incident that entered an assurance scope is told to the period's team
    on duty at send time (roster duty ``assurance:<id>``), else to the duty roles. Idempotent."""

    def hook(session: Session, changes: list[Any]) -> None:
        ids = sorted({c.incident_id for c in changes if c.kind == "assurance"})
        _tell_team(session, clock.now(), _incidents(session, ids), roles)

    return hook


def untold_incidents(session: Session) -> list[int]:
    """At start (downstream's reconcile): open incidents in an assurance period whose notice a
    lost incident change (a stop, a crash) never wrote (decision 173)."""
    rows = session.execute(
        select(IncidentRecord.id, IncidentRecord.assurance, IncidentRecord.assurance_history).where(
            IncidentRecord.state == IncidentState.OPEN.value
        )
    )
    entries = {i: (int(str(a["id"])), _entered(a, h)) for i, a, h in rows if a}  # JSON null: falsy
    told = _told(session, list(entries))
    return sorted(
        i for i, (period_id, entered) in entries.items() if not _was_told(told, i, period_id, entered)
    )


def reconcile_notices(clock: Any, roles: list[str] = TEAM_ROLES) -> Callable[[Session, list[int]], None]:
    """Write the notices :func:`untold_incidents` found (idempotent, as the hook)."""

    def redo(session: Session, incident_ids: list[int]) -> None:
        _tell_team(session, clock.now(), _incidents(session, incident_ids), roles)

    return redo


def listing(session: Session) -> list[AssurancePeriod]:
    return list(session.scalars(select(AssurancePeriod).order_by(AssurancePeriod.start, AssurancePeriod.id)))
