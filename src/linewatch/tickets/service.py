"""Ticket services: dispatch (auto, console, by diagnosis), customer reports, the lifecycle, SLA
timers, escalation, and scoped reads. Callers hand in a unit-of-work session; nothing here commits.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Select, exists, func, insert, or_, select
from sqlalchemy.orm import Session

from linewatch.alarms.knowledge import count_cause
from linewatch.alarms.models import AlarmRecord
from linewatch.core.actor import SYSTEM, Actor
from linewatch.core.chunks import parts
from linewatch.core.clock import Clock
from linewatch.core.errors import Conflict, Forbidden, LinewatchError, NotFound
from linewatch.core.ids import parse_cursor
from linewatch.core.policy import Policy
from linewatch.db import outbox, timers
from linewatch.db.audit import record
from linewatch.incidents.models import ImpactRecord, IncidentRecord
from linewatch.inventory.choices import CustomerLevel, Role
from linewatch.inventory.models import Circuit, Customer, NetworkElement, Staff, Team, team_region
from linewatch.tickets import sla
from linewatch.tickets.choices import (
    DEADLINE_OF,
    MILESTONE_OF_EVENT,
    MILESTONES,
    REPORT_CHANNELS,
    CauseCategory,
    Channel,
    EscalationLevel,
    EventType,
    TicketState,
)
from linewatch.tickets.models import Ticket, TicketCircuit, TicketEvent

OWNER = "ticket"  # timer owner name
LEVEL_ORDER = [level.value for level in CustomerLevel]  # cross_province first … normal last
# Repair deadlines that no longer apply once the service is back (a line that recovered by itself
# needs nobody on site): recovery cancels them with the escalations. Accept and contact still count.
MOOT_WHEN_RECOVERED = ("on_site", "locate", "recover")


@dataclass(frozen=True)
class Env:
    """What ticket services need from the running application."""

    clock: Clock
    policy: Policy


# ---------------------------------------------------------------- helpers


def _event(
    session: Session, ticket: Ticket, type_: str, at: datetime, actor: str, note: str = "", **data: Any
) -> None:
    session.add(
        TicketEvent(ticket_id=ticket.id, type=type_, at=at, actor=actor, note=note, data=data or None)
    )


def _team(session: Session, code: str) -> Team:
    team = session.scalar(select(Team).where(Team.code == code))
    if team is None:
        raise LinewatchError(f"unknown team {code!r}")
    return team


def _support_team(session: Session) -> Team | None:
    return session.scalar(select(Team).where(Team.kind == "support").order_by(Team.id))


def _specialist_team(session: Session, policy: Policy, ne_id: int | None) -> Team | None:
    """The transmission/data/core team for the root NE's type, preferring one covering its region."""
    if ne_id is None:
        return None
    ne = session.get(NetworkElement, ne_id)
    if ne is None:
        return None
    kind = next(
        (k for k, types in policy.tickets.specialist_by_ne_type.items() if ne.type.upper() in types), None
    )
    if kind is None:
        return None
    query = select(Team).where(Team.kind == kind).order_by(Team.id)
    if ne.region_id is not None:
        covering = query.where(
            Team.id.in_(select(team_region.c.team_id).where(team_region.c.region_id == ne.region_id))
        )
        found = session.scalar(covering)
        if found is not None:
            return found
    return session.scalar(query)


class CustomerLike(Protocol):
    """What a ticket needs of a customer: a ``Customer``, or a row of ``_customers``."""

    @property
    def id(self) -> int: ...
    @property
    def code(self) -> str: ...
    @property
    def level(self) -> str: ...
    @property
    def grade(self) -> str: ...


TICKET_CIRCUIT = TicketCircuit.__table__  # written in bulk, without ORM objects


def _customers(session: Session, ids: set[int]) -> dict[int, CustomerLike]:
    """Customers by id, as narrow rows (a fibre cut's ticket can span tens of thousands)."""
    found: dict[int, CustomerLike] = {}
    for part in parts(ids):
        rows = session.execute(
            select(Customer.id, Customer.code, Customer.level, Customer.grade).where(Customer.id.in_(part))
        )
        found.update((row.id, row) for row in rows)
    return found


def _most_important(customers: list[CustomerLike]) -> CustomerLike | None:
    return min(
        customers,
        key=lambda c: (LEVEL_ORDER.index(c.level) if c.level in LEVEL_ORDER else 99, c.code),
        default=None,
    )


# ---------------------------------------------------------------- opening tickets


class TicketCircuitLike(Protocol):
    """What a ticket needs of a circuit: a ``Circuit``, or a row of ``_impacted``."""

    @property
    def id(self) -> int: ...
    @property
    def customer_id(self) -> int: ...
    @property
    def maintainer_id(self) -> int | None: ...
    @property
    def assurance(self) -> str: ...


def open_ticket(
    session: Session,
    env: Env,
    actor: str,
    *,
    channel: str,
    team: Team | None,
    circuits: list[TicketCircuitLike],
    incident_id: int | None = None,
    customer: Customer | None = None,
    description: str = "",
    reported_at: datetime | None = None,
    flagged: str = "",
    customer_text: str = "",
    drill: bool = False,
) -> Ticket:
    now = env.clock.now()
    customers = _customers(session, {c.customer_id for c in circuits})
    if customer is not None:
        customers.setdefault(customer.id, customer)
    chosen = customer or _most_important(list(customers.values()))
    ticket = Ticket(
        incident_id=incident_id,
        channel=channel,
        customer_id=chosen.id if chosen else None,
        customer_text=customer_text,
        flagged=flagged,
        assignee_id=team.id if team else None,
        track=sla.track_for([c.grade for c in customers.values()], env.policy.sla),
        state=TicketState.DISPATCHED.value,
        description=description,
        created_at=now,
        reported_at=reported_at,
        recovery_minutes=sla.recovery_limit([c.assurance for c in circuits], env.policy.sla),
        drill=drill,
    )
    session.add(ticket)
    session.flush()
    if circuits:  # one statement: a fibre cut's ticket can carry tens of thousands (no ORM objects)
        rows = [{"ticket_id": ticket.id, "circuit_id": c.id} for c in circuits]
        session.connection().execute(insert(TICKET_CIRCUIT), rows)
    _event(
        session,
        ticket,
        "dispatched",
        now,
        actor,
        team=team.code if team else None,
        channel=channel,
        circuits=len(circuits),
    )
    schedule_timers(session, env, ticket, now)
    if team is not None:
        outbox.request(
            session,
            now,
            "ticket.dispatched",
            {"teams": [team.code]},
            _facts(ticket, team),
            incident_id=incident_id,
            ticket_id=ticket.id,
            drill=drill,
        )
    record(
        session,
        env.clock,
        actor,
        "dispatch",
        "ticket",
        str(ticket.id),
        after={"team": team.code if team else None, "channel": channel, "incident": incident_id},
    )
    return ticket


def _facts(ticket: Ticket, team: Team | None) -> dict[str, Any]:
    return {
        "ticket": ticket.id,
        "incident": ticket.incident_id,
        "team": team.code if team else None,
        "track": ticket.track,
        "channel": ticket.channel,
    }


def _impacted(session: Session, incident_id: int) -> list[TicketCircuitLike]:
    """The circuits an incident impacts now, as narrow rows: a big fibre cut's are a hundred
    thousand at scale, and ORM objects for them were seconds of a write transaction."""
    return list(
        session.execute(
            select(Circuit.id, Circuit.customer_id, Circuit.maintainer_id, Circuit.assurance)
            .join(ImpactRecord, ImpactRecord.circuit_id == Circuit.id)
            .where(ImpactRecord.incident_id == incident_id, ImpactRecord.until.is_(None))
            .distinct()
            .order_by(Circuit.id)
        )
    )


def dispatch_incident(
    session: Session,
    env: Env,
    actor: str,
    incident_id: int,
    *,
    channel: str,
    team_code: str | None = None,
    impacted: list[TicketCircuitLike] | None = None,
) -> list[Ticket]:
    """One ticket per maintaining team of the impacted circuits (or the given team for all of them).
    An incident with no impacted circuit goes to its root NE's specialist team, else support.
    ``impacted``: the incident's circuits (``_impacted``) when the caller has just read them."""
    incident = session.get(IncidentRecord, incident_id)
    if incident is None:
        raise NotFound(f"no incident {incident_id}")
    if incident.state != "open":
        raise Conflict(f"incident {incident_id} is {incident.state}")
    circuits = _impacted(session, incident_id) if impacted is None else impacted
    groups: dict[int | None, list[TicketCircuitLike]] = defaultdict(list)
    if team_code:
        groups[_team(session, team_code).id] = circuits
    else:
        for circuit in circuits:
            groups[circuit.maintainer_id].append(circuit)
        if not groups:
            team = _specialist_team(session, env.policy, incident.root_ne_id) or _support_team(session)
            groups[team.id if team else None] = []
        elif None in groups:  # circuits without a maintainer: the support team owns them
            support = _support_team(session)
            groups[support.id if support else None] += groups.pop(None)
    existing = {
        t.assignee_id
        for t in session.scalars(
            select(Ticket).where(Ticket.incident_id == incident_id, Ticket.state != TicketState.CLOSED.value)
        )
    }
    opened = []
    for team_id, members in groups.items():
        if team_id in existing:
            continue
        if _adopt_reported(session, env, actor, incident_id, team_id, members):
            continue  # the customer reported it first: that ticket now carries the incident
        team = session.get(Team, team_id) if team_id is not None else None
        opened.append(
            open_ticket(
                session,
                env,
                actor,
                channel=channel,
                team=team,
                circuits=members,
                incident_id=incident_id,
                drill=incident.drill,
                description=incident.level_reason,
            )
        )
    if opened and incident.level in env.policy.tickets.phone_dispatch_levels:
        outbox.request(
            session,
            env.clock.now(),
            f"incident.{incident.level}",
            {"roles": env.policy.tickets.phone_dispatch_roles},
            {"incident": incident_id, "level": incident.level, "reason": incident.level_reason},
            incident_id=incident_id,
            channels=["sms", "voice"],
            drill=incident.drill,
        )
    return opened


def _adopt_reported(
    session: Session,
    env: Env,
    actor: str,
    incident_id: int,
    team_id: int | None,
    circuits: list[TicketCircuitLike],
) -> bool:
    """A customer report that came before the alarms: link its open ticket (same team, one of the
    circuits) to the incident instead of opening a second ticket for the same fault."""
    if team_id is None or not circuits:
        return False
    # the team's open reports without an incident are few; the circuits can be a fibre cut's
    # tens of thousands (too many for one IN list): match them here
    reported = session.execute(
        select(Ticket.id, TicketCircuit.circuit_id)
        .join(TicketCircuit, TicketCircuit.ticket_id == Ticket.id)
        .where(Ticket.incident_id.is_(None), Ticket.closed_at.is_(None), Ticket.assignee_id == team_id)
    ).all()
    wanted = {c.id for c in circuits}
    matching = sorted({ticket_id for ticket_id, circuit_id in reported if circuit_id in wanted})
    if not matching:
        return False
    ticket = session.get_one(Ticket, matching[0])
    ticket.incident_id = incident_id
    have = {circuit_id for ticket_id, circuit_id in reported if ticket_id == ticket.id}
    missing = [{"ticket_id": ticket.id, "circuit_id": c} for c in sorted(wanted - have)]
    if missing:
        session.connection().execute(insert(TICKET_CIRCUIT), missing)
    _event(session, ticket, "linked_to_incident", env.clock.now(), actor, incident=incident_id)
    return True


def _rule_matches(session: Session, rule: Any, incident: IncidentRecord) -> bool:
    if incident.level not in rule.levels:
        return False
    if not (rule.key_customers_only or rule.handed_over is not None or rule.service_types):
        return True
    query = (
        select(func.count())
        .select_from(ImpactRecord)
        .join(Circuit, Circuit.id == ImpactRecord.circuit_id)
        .join(Customer, Customer.id == Circuit.customer_id)
        .where(ImpactRecord.incident_id == incident.id, ImpactRecord.until.is_(None))
    )
    if rule.key_customers_only:
        query = query.where(Customer.level != CustomerLevel.NORMAL.value)
    if rule.handed_over is not None:
        query = query.where(Circuit.handed_over == rule.handed_over)
    if rule.service_types:
        query = query.where(Circuit.service_type.in_(rule.service_types))
    return (session.scalar(query) or 0) > 0


def _undispatched() -> Any:
    return select(IncidentRecord).where(
        IncidentRecord.state == "open",
        IncidentRecord.planned.is_(False),
        ~exists().where(Ticket.incident_id == IncidentRecord.id),
    )


def undispatched_incidents(session: Session) -> list[int]:
    """Open, unplanned incidents without a ticket: what auto-dispatch may still have to do."""
    ids = _undispatched().with_only_columns(IncidentRecord.id).order_by(IncidentRecord.id)
    return list(session.scalars(ids))


def auto_dispatch(session: Session, env: Env, incident_ids: list[int] | None = None) -> list[Ticket]:
    """Dispatch open incidents that an auto-dispatch rule matches and that have no ticket yet.
    Idempotent: also run at start to catch incidents whose dispatch a crash interrupted."""
    query = _undispatched()
    if incident_ids is not None:
        query = query.where(IncidentRecord.id.in_(incident_ids))
    opened = []
    for incident in session.scalars(query.order_by(IncidentRecord.id)):
        impacted = _impacted(session, incident.id)
        by_team: dict[int | None, list[TicketCircuitLike]] = defaultdict(list)
        for circuit in impacted:
            by_team[circuit.maintainer_id].append(circuit)
        for team_id, members in by_team.items():  # reports that came first carry the fault, rule or not
            _adopt_reported(session, env, "auto:linked report", incident.id, team_id, members)
        rule = next(
            (r for r in env.policy.tickets.auto_dispatch if _rule_matches(session, r, incident)), None
        )
        if rule is not None:
            opened += dispatch_incident(
                session, env, f"auto:{rule.name}", incident.id, channel=Channel.AUTO.value, impacted=impacted
            )
    return opened


def recover_from_incidents(session: Session, env: Env, incident_ids: list[int]) -> int:
    """Set 'recovered' on tickets none of whose circuits the incident still impacts (可手工确认)."""
    count = 0
    tickets = session.scalars(
        select(Ticket).where(
            Ticket.incident_id.in_(incident_ids), Ticket.recovered_at.is_(None), Ticket.closed_at.is_(None)
        )
    )
    for ticket in tickets:
        still = session.scalar(
            select(func.count())
            .select_from(ImpactRecord)
            .join(
                TicketCircuit,
                (TicketCircuit.circuit_id == ImpactRecord.circuit_id)
                & (TicketCircuit.ticket_id == ticket.id),
            )
            .where(ImpactRecord.incident_id == ticket.incident_id, ImpactRecord.until.is_(None))
        )
        incident = session.get(IncidentRecord, ticket.incident_id)
        has_circuits = session.scalar(
            select(func.count()).select_from(TicketCircuit).where(TicketCircuit.ticket_id == ticket.id)
        )
        if still or (not has_circuits and incident is not None and incident.state == "open"):
            continue
        at = env.clock.now()
        _set_milestone(session, env, ticket, "recovered", at, "incident")
        count += 1
    return count


def unrecovered_incidents(session: Session) -> list[int]:
    """Recovered incidents with a ticket still waiting for its recovery: what a crash between the
    pipeline's commit and the downstream's left undone (re-run at start)."""
    return list(
        session.scalars(
            select(Ticket.incident_id)
            .join(IncidentRecord, IncidentRecord.id == Ticket.incident_id)
            .where(IncidentRecord.state != "open", Ticket.recovered_at.is_(None), Ticket.closed_at.is_(None))
            .distinct()
        )
    )


# ---------------------------------------------------------------- customer reports


def report(
    session: Session,
    env: Env,
    actor: Actor,
    *,
    channel: str,
    customer_code: str,
    circuit_code: str | None,
    description: str,
    reported_at: datetime | None,
) -> tuple[Ticket, bool]:
    """A customer report (10086-8, 400, direct). Linked to an open incident on the circuit (or the
    customer's circuits) when there is one; else its own ticket to the circuit's maintainer.
    Reports never fail for an unknown customer or circuit: they are flagged for a dispatcher."""
    try:
        channel = Channel.parse(channel).value
    except ValueError as exc:
        raise LinewatchError(str(exc)) from exc
    if channel not in {c.value for c in (Channel.CSP, Channel.GREEN, Channel.DIRECT)}:
        raise LinewatchError("a customer report comes through 10086-8, 400 or direct")
    now = env.clock.now()
    customer = session.scalar(select(Customer).where(Customer.code == customer_code))
    circuit = session.scalar(select(Circuit).where(Circuit.code == circuit_code)) if circuit_code else None
    flagged = ""
    if customer is None:
        flagged = f"unknown customer {customer_code!r}"
    elif circuit_code and circuit is None:
        flagged = f"unknown circuit {circuit_code!r}"
    elif circuit is not None and circuit.customer_id != customer.id:
        flagged = f"circuit {circuit_code} does not belong to customer {customer_code}"
    candidates = (
        [circuit]
        if circuit is not None
        else (
            list(session.scalars(select(Circuit).where(Circuit.customer_id == customer.id)))
            if customer
            else []
        )
    )
    if customer is not None and circuit is None and not candidates and not flagged:
        flagged = f"customer {customer_code} has no known circuit"
    # an open incident impacting the reported circuit(s): link to it, never duplicate
    impacted = session.execute(
        select(ImpactRecord.incident_id, ImpactRecord.circuit_id)
        .join(IncidentRecord, IncidentRecord.id == ImpactRecord.incident_id)
        .where(
            ImpactRecord.circuit_id.in_([c.id for c in candidates] or [-1]),
            ImpactRecord.until.is_(None),
            IncidentRecord.state == "open",
        )
        .order_by(ImpactRecord.incident_id)
    ).first()
    if impacted is not None:
        incident_id, circuit_id = impacted
        existing = session.scalar(
            select(Ticket)
            .join(TicketCircuit, TicketCircuit.ticket_id == Ticket.id)
            .where(
                Ticket.incident_id == incident_id,
                TicketCircuit.circuit_id == circuit_id,
                Ticket.closed_at.is_(None),
            )
            .order_by(Ticket.id)
        )
        if existing is not None:
            _event(
                session,
                existing,
                "customer_report",
                now,
                actor.label,
                description,
                channel=channel,
                customer=customer_code,
                circuit=circuit_code,
                reported_at=_iso(reported_at),
            )
            record(
                session,
                env.clock,
                actor.label,
                "report",
                "ticket",
                str(existing.id),
                after={"channel": channel, "linked": True},
            )
            return existing, False
        chosen = session.get(Circuit, circuit_id)
        team = (
            session.get(Team, chosen.maintainer_id)
            if chosen and chosen.maintainer_id
            else _support_team(session)
        )
        ticket = open_ticket(
            session,
            env,
            actor.label,
            channel=channel,
            team=team,
            circuits=[chosen] if chosen else [],
            incident_id=incident_id,
            customer=customer,
            description=description,
            reported_at=reported_at,
        )
        return ticket, True
    target = candidates[0] if len(candidates) == 1 else None
    team = None
    if target is not None and target.maintainer_id:
        team = session.get(Team, target.maintainer_id)
    if team is None:
        team = _support_team(session)
        if not flagged and target is None:
            flagged = f"customer {customer_code} has {len(candidates)} circuits: which one is not known"
    ticket = open_ticket(
        session,
        env,
        actor.label,
        channel=channel,
        team=team,
        circuits=[target] if target else [],
        customer=customer,
        description=description,
        reported_at=reported_at,
        flagged=flagged,
        customer_text="" if customer else customer_code,
    )
    return ticket, True


# ---------------------------------------------------------------- timers


def schedule_timers(session: Session, env: Env, ticket: Ticket, now: datetime) -> None:
    """(Re)schedule the ticket's SLA deadline, escalation and progress timers still to come.
    Timers already fired are not repeated; those cancelled by a suspension come back, later by
    the time the clock stood still."""
    if ticket.closed_at is not None or ticket.suspended_at is not None:
        return
    rows = list(
        session.scalars(
            select(timers.Timer).where(timers.Timer.owner == OWNER, timers.Timer.owner_id == ticket.id)
        )
    )
    taken = {t.kind for t in rows if t.fired_at is None or t.outcome == "fired"}
    pause = sla.paused(ticket.suspended_seconds, None, now)
    for name, due in sla.deadlines(
        ticket.created_at, ticket.track, ticket.recovery_minutes, pause, env.policy.sla, ticket.contact_after
    ).items():
        milestone = next(m for m, d in DEADLINE_OF.items() if d == name)
        if ticket.recovered_at is not None and name in MOOT_WHEN_RECOVERED:
            continue
        if getattr(ticket, f"{milestone}_at") is None and f"deadline:{name}" not in taken:
            timers.schedule(session, OWNER, ticket.id, f"deadline:{name}", due)
    if ticket.recovered_at is None:
        for level, due in sla.escalation_times(
            ticket.created_at, ticket.track, pause, env.policy.sla
        ).items():
            if f"escalate:{level}" not in taken:
                timers.schedule(session, OWNER, ticket.id, f"escalate:{level}", due)
        if not any(t.kind == "progress" and t.fired_at is None for t in rows):
            every = timedelta(minutes=env.policy.sla.progress_update_minutes)
            timers.schedule(session, OWNER, ticket.id, "progress", now + every)
    # a customer contact deferred to the contact hours (07:30 rule) that a suspension cancelled
    if ticket.contact_after is not None and ticket.contacted_at is None and "contact_customer" not in taken:
        timers.schedule(session, OWNER, ticket.id, "contact_customer", max(ticket.contact_after, now))


@dataclass(frozen=True)
class TicketTimers:
    """A ticket timer handler that loads a whole batch's tickets and the teams in two queries."""

    handle: timers.Handler

    def __call__(self, session: Session, timer: timers.Timer, now: datetime) -> None:
        self.handle(session, timer, now)

    @staticmethod
    def prefetch(session: Session, ticket_ids: set[int]) -> None:
        # held in session.info for the transaction: the identity map alone keeps only weak references
        session.info["tickets.prefetched"] = (
            list(session.scalars(select(Ticket).where(Ticket.id.in_(ticket_ids)))),
            list(session.scalars(select(Team))),
        )


def on_timer(env: Env) -> TicketTimers:
    """The timer handler for tickets: breaches, escalations, progress reminders, deferred contact."""

    def handle(session: Session, timer: timers.Timer, now: datetime) -> None:
        ticket = session.get(Ticket, timer.owner_id)
        if ticket is None or ticket.closed_at is not None or ticket.suspended_at is not None:
            return
        team = session.get(Team, ticket.assignee_id) if ticket.assignee_id else None
        team_code = team.code if team else None
        at = timer.due_at  # effects are stamped with the moment they fell due, not when a jump found them
        kind, _, name = timer.kind.partition(":")
        if kind == "deadline":
            milestone = next(m for m, d in DEADLINE_OF.items() if d == name)
            if getattr(ticket, f"{milestone}_at") is not None:
                return
            if ticket.recovered_at is not None and name in MOOT_WHEN_RECOVERED:
                return
            _event(session, ticket, "breach", at, "sla", deadline=name, team=team_code)
            outbox.request(
                session,
                now,
                "ticket.breach",
                {"teams": [team_code] if team_code else []},
                {**_facts(ticket, team), "deadline": name},
                ticket_id=ticket.id,
                incident_id=ticket.incident_id,
                drill=ticket.drill,
            )
            if name == "locate":  # not located in time: technical support from the fault manager (技术支援)
                _escalate(
                    session,
                    env,
                    ticket,
                    team,
                    "fault_manager",
                    at,
                    now,
                    f"not located by {name} deadline",
                    trigger="locate",
                )
        elif kind == "escalate":
            if ticket.recovered_at is None:
                _escalate(
                    session, env, ticket, team, name, at, now, "not recovered in time", trigger="repair"
                )
        elif kind == "progress":
            if ticket.recovered_at is None:
                _event(session, ticket, "progress_due", at, "sla", team=team_code)
                outbox.request(
                    session,
                    now,
                    "ticket.progress_due",
                    {"teams": [team_code] if team_code else []},
                    _facts(ticket, team),
                    ticket_id=ticket.id,
                    drill=ticket.drill,
                )
                timers.schedule(
                    session,
                    OWNER,
                    ticket.id,
                    "progress",
                    at + timedelta(minutes=env.policy.sla.progress_update_minutes),
                )
        elif kind == "contact_customer":
            if ticket.contacted_at is not None:  # contacted already (the customer called in)
                return
            _event(session, ticket, "contact_due", at, "sla", team=team_code)
            outbox.request(
                session,
                now,
                "ticket.contact_customer",
                {"teams": [team_code] if team_code else []},
                _facts(ticket, team),
                ticket_id=ticket.id,
                drill=ticket.drill,
            )

    return TicketTimers(handle)


def _escalate(
    session: Session,
    env: Env,
    ticket: Ticket,
    team: Team | None,
    level: str,
    at: datetime,
    now: datetime,
    reason: str,
    *,
    trigger: str,
) -> None:
    """One escalation event + notification request. DOMAIN 5 has two escalations to the fault
    manager: technical support when not located in time (``trigger="locate"``, from the locate
    deadline's timer) and the first rung of the repair ladder (``"repair"``, from its own timer);
    neither swallows the other. Each comes from one timer, which fires once (``schedule_timers``
    never re-creates a timer that fired), so there is nothing to look up first."""
    _event(
        session,
        ticket,
        "escalation",
        at,
        "sla",
        level,
        level=level,
        reason=reason,
        trigger=trigger,
        team=team.code if team else None,
    )
    outbox.request(
        session,
        now,
        "ticket.escalated",
        {"roles": env.policy.tickets.escalation_roles[level]},  # type: ignore[index]
        {**_facts(ticket, team), "level": level, "reason": reason, "trigger": trigger},
        ticket_id=ticket.id,
        incident_id=ticket.incident_id,
        channels=["sms", "voice"],
        drill=ticket.drill,
    )


# ---------------------------------------------------------------- lifecycle


def _furthest(ticket: Ticket) -> str:
    reached = [m for m in MILESTONES if getattr(ticket, f"{m}_at") is not None]
    return reached[-1] if reached else TicketState.DISPATCHED.value


def _set_milestone(
    session: Session, env: Env, ticket: Ticket, milestone: str, at: datetime, actor: str
) -> None:
    setattr(ticket, f"{milestone}_at", at)
    if milestone == "recovered":
        ticket.recovered_by = actor
        timers.cancel(
            session,
            OWNER,
            ticket.id,
            env.clock.now(),
            (*(f"deadline:{name}" for name in MOOT_WHEN_RECOVERED), "escalate:", "progress"),
        )
    elif milestone in DEADLINE_OF:
        timers.cancel(session, OWNER, ticket.id, env.clock.now(), (f"deadline:{DEADLINE_OF[milestone]}",))
    if ticket.suspended_at is None:
        ticket.state = _furthest(ticket)
    _event(session, ticket, milestone, at, actor)


def apply_event(
    session: Session,
    env: Env,
    actor: Actor,
    ticket_id: int,
    type_: str,
    *,
    at: datetime | None = None,
    note: str | None = None,
    cause: str | None = None,
    resolution: str | None = None,
    team_code: str | None = None,
    root_alarm_type: str | None = None,
) -> Ticket:
    ticket = _visible(session, actor, ticket_id, acting=True)
    try:
        kind = EventType.parse(type_).value
    except ValueError as exc:
        raise LinewatchError(str(exc)) from exc
    now = env.clock.now()
    when = at or now
    if when > now + timedelta(minutes=5):
        raise LinewatchError("an event cannot be dated in the future")
    if ticket.closed_at is not None and kind not in ("reopen", "note"):
        raise Conflict(f"ticket {ticket_id} is closed; reopen it first")
    before = {"state": ticket.state}
    if kind in ("accept", "contact", "on_site", "located", "recovered"):
        milestone = MILESTONE_OF_EVENT[kind]
        if getattr(ticket, f"{milestone}_at") is not None:
            raise Conflict(f"ticket {ticket_id} is already {milestone}")
        if ticket.suspended_at is not None:
            raise Conflict(f"ticket {ticket_id} is suspended; resume it first")
        _set_milestone(session, env, ticket, milestone, when, actor.label)
        if note:
            _event(session, ticket, "note", when, actor.label, note)
    elif kind == "close":
        if ticket.recovered_at is None:
            raise Conflict("a ticket closes only after recovery")
        observation = timedelta(minutes=env.policy.sla.close_observation_minutes)
        # the observation is real elapsed time: dating the close ahead (the 5-minute skew allowance)
        # must not shorten it
        if min(when, now) < ticket.recovered_at + observation:
            raise Conflict(
                f"recovered at {ticket.recovered_at.isoformat()}: closing needs {observation} of "
                "observation first",
                {"close_after": (ticket.recovered_at + observation).isoformat()},
            )
        if not cause or not resolution:
            raise LinewatchError("closing needs 'cause' and 'resolution'")
        try:
            ticket.cause = CauseCategory.parse(cause).value
        except ValueError as exc:
            raise LinewatchError(str(exc)) from exc
        ticket.resolution, ticket.customer_confirmed = resolution, True
        ticket.closed_at, ticket.state = when, TicketState.CLOSED.value
        timers.cancel(session, OWNER, ticket.id, now)
        _event(
            session,
            ticket,
            "closed",
            when,
            actor.label,
            note or "",
            cause=ticket.cause,
            resolution=resolution,
        )
        if root_alarm_type:
            count_cause(session, root_alarm_type, CauseCategory(ticket.cause).zh)
    elif kind == "suspend":
        if not note:
            raise LinewatchError("suspending needs a reason in 'note'")
        if ticket.suspended_at is not None:
            raise Conflict(f"ticket {ticket_id} is already suspended")
        if ticket.recovered_at is not None:
            raise Conflict("a recovered ticket has no clock to pause")
        ticket.state_before_suspend, ticket.state, ticket.suspended_at = (
            ticket.state,
            TicketState.SUSPENDED.value,
            when,
        )
        timers.cancel(session, OWNER, ticket.id, now)
        _event(session, ticket, "suspended", when, actor.label, note)
    elif kind == "resume":
        if ticket.suspended_at is None:
            raise Conflict(f"ticket {ticket_id} is not suspended")
        ticket.suspended_seconds += max(0, int((when - ticket.suspended_at).total_seconds()))
        ticket.suspended_at, ticket.state = None, ticket.state_before_suspend or _furthest(ticket)
        ticket.state_before_suspend = None
        _event(
            session,
            ticket,
            "resumed",
            when,
            actor.label,
            note or "",
            suspended_seconds=ticket.suspended_seconds,
        )
        schedule_timers(session, env, ticket, now)
    elif kind == "reopen":
        if ticket.closed_at is None and ticket.recovered_at is None:
            raise Conflict(f"ticket {ticket_id} is neither recovered nor closed")
        ticket.closed_at, ticket.recovered_at, ticket.recovered_by = None, None, ""
        ticket.cause, ticket.resolution, ticket.customer_confirmed = "", "", False
        ticket.state = _furthest(ticket)
        _event(session, ticket, "reopened", when, actor.label, note or "")
        schedule_timers(session, env, ticket, now)
    elif kind == "transfer":
        if not team_code:
            raise LinewatchError("transferring needs 'team'")
        team = _team(session, team_code)
        old = session.get(Team, ticket.assignee_id) if ticket.assignee_id else None
        ticket.assignee_id = team.id
        _event(
            session,
            ticket,
            "transferred",
            when,
            actor.label,
            note or "",
            **{"from": old.code if old else None, "to": team.code},
        )
        outbox.request(
            session,
            now,
            "ticket.dispatched",
            {"teams": [team.code]},
            _facts(ticket, team),
            ticket_id=ticket.id,
            incident_id=ticket.incident_id,
            drill=ticket.drill,
        )
    else:  # note
        if not note:
            raise LinewatchError("a note needs 'note'")
        _event(session, ticket, "note", when, actor.label, note)
    record(
        session,
        env.clock,
        actor.label,
        kind,
        "ticket",
        str(ticket.id),
        before=before,
        after={"state": ticket.state},
        note=note or "",
    )
    return ticket


# ---------------------------------------------------------------- acting on escalations

ESCALATION_EVENTS = ("escalation", "support_requested", "escalation_ack")


def _pending_escalations(session: Session, ticket_id: int) -> dict[str, list[TicketEvent]]:
    """Escalations and support requests not yet acknowledged, by level."""
    pending: dict[str, list[TicketEvent]] = defaultdict(list)
    for event in session.scalars(
        select(TicketEvent)
        .where(TicketEvent.ticket_id == ticket_id, TicketEvent.type.in_(ESCALATION_EVENTS))
        .order_by(TicketEvent.id)
    ):
        level = str((event.data or {}).get("level", ""))
        if event.type == "escalation_ack":
            pending.pop(level, None)
        else:
            pending[level].append(event)
    return pending


def acknowledge_escalation(
    session: Session, env: Env, actor: Actor, ticket_id: int, level: str, note: str | None
) -> Ticket:
    """Whoever an escalation reached takes it on: every open escalation (and support request) at
    that level is acknowledged, with who and when, on the ticket's record."""
    ticket = _visible(session, actor, ticket_id)
    try:
        level = EscalationLevel.parse(level).value
    except ValueError as exc:
        raise LinewatchError(f"level: {exc}") from exc
    if not _pending_escalations(session, ticket.id).get(level):
        raise Conflict(f"ticket {ticket_id} has no unacknowledged escalation to {level}")
    _event(session, ticket, "escalation_ack", env.clock.now(), actor.label, note or "", level=level)
    record(session, env.clock, actor.label, "escalation_ack", "ticket", str(ticket.id), note=level)
    return ticket


def request_support(session: Session, env: Env, actor: Actor, ticket_id: int, note: str) -> Ticket:
    """技术支援 asked for before the locate deadline forces it: the fault manager is told now
    (SMS and voice, like the escalation). One open request at a time."""
    ticket = _visible(session, actor, ticket_id, acting=True)
    if not note or not note.strip():
        raise LinewatchError("a support request needs 'note': what help is needed")
    if ticket.closed_at is not None or ticket.recovered_at is not None:
        raise Conflict(f"ticket {ticket_id} is recovered; no support to ask for")
    level = EscalationLevel.FAULT_MANAGER.value
    waiting = [
        e for e in _pending_escalations(session, ticket.id).get(level, []) if e.type == "support_requested"
    ]
    if waiting:
        raise Conflict(
            f"support was asked for at {waiting[-1].at.isoformat()} and is not yet acknowledged",
            {"requested_at": waiting[-1].at.isoformat()},
        )
    now = env.clock.now()
    team = session.get(Team, ticket.assignee_id) if ticket.assignee_id else None
    _event(session, ticket, "support_requested", now, actor.label, note.strip(), level=level)
    outbox.request(
        session,
        now,
        "ticket.escalated",
        {"roles": env.policy.tickets.escalation_roles[level]},  # type: ignore[index]
        {**_facts(ticket, team), "level": level, "reason": note.strip(), "trigger": "request"},
        ticket_id=ticket.id,
        incident_id=ticket.incident_id,
        channels=["sms", "voice"],
        drill=ticket.drill,
    )
    record(session, env.clock, actor.label, "support_requested", "ticket", str(ticket.id), note=note.strip())
    return ticket


def _escalation_views(events: list[TicketEvent]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(escalations, support requests) in order, each with its acknowledgement or None."""
    escalations: list[dict[str, Any]] = []
    support: list[dict[str, Any]] = []
    pending: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in events:
        data = e.data or {}
        level = data.get("level")
        if e.type == "escalation" and data:
            item = {"level": level, "at": _iso(e.at), "reason": data.get("reason"), "acked": None}
            escalations.append(item)
            pending[str(level)].append(item)
        elif e.type == "support_requested":
            item = {"level": level, "at": _iso(e.at), "by": e.actor, "note": e.note or None, "acked": None}
            support.append(item)
            pending[str(level)].append(item)
        elif e.type == "escalation_ack":
            for item in pending.pop(str(level), []):
                item["acked"] = {"by": e.actor, "at": _iso(e.at), "note": e.note or None}
    return escalations, support


# ---------------------------------------------------------------- diagnosis routing (DOMAIN 4)


def route_diagnosis(
    session: Session, env: Env, actor: Actor, incident_id: int, category: str, team_code: str | None
) -> list[Ticket]:
    """Network fault → the specialist team; not network or unlocated → the support team, which
    contacts the customer within the contact hours; outside them, unless the customer reported
    the fault, the account managers get an SMS now and the contact is scheduled for their start."""
    incident = session.get(IncidentRecord, incident_id)
    if incident is None or incident.state != "open":
        return []
    now = env.clock.now()
    if category == "network":
        team = (
            _team(session, team_code)
            if team_code
            else _specialist_team(session, env.policy, incident.root_ne_id)
        )
        if team is None:
            return []
        return dispatch_incident(
            session, env, actor.label, incident_id, channel=Channel.CONSOLE.value, team_code=team.code
        )
    support = _team(session, team_code) if team_code else _support_team(session)
    if support is None:
        return []
    opened = dispatch_incident(
        session, env, actor.label, incident_id, channel=Channel.CONSOLE.value, team_code=support.code
    )
    # the customer reported it: a report opened a ticket on the incident, or was linked to one
    reported = session.scalar(
        select(func.count())
        .select_from(Ticket)
        .where(
            Ticket.incident_id == incident_id,
            or_(
                Ticket.channel.in_([c.value for c in REPORT_CHANNELS]),
                exists().where(TicketEvent.ticket_id == Ticket.id, TicketEvent.type == "customer_report"),
            ),
        )
    )
    hours, tz = env.policy.dispatch.customer_contact_hours, env.clock.tz
    for ticket in opened:
        # a customer who reported the fault is expecting the call, whatever the hour
        if reported or sla.within_contact_hours(now, hours, tz):
            _event(session, ticket, "contact_customer", now, actor.label, "请联系客户 contact the customer")
        else:
            contact_at = sla.next_contact_time(now, hours, tz)
            ticket.contact_after = contact_at
            # the contact deadline now counts from the deferred contact: replace the one set at dispatch
            timers.cancel(session, OWNER, ticket.id, now, ("deadline:contact",))
            schedule_timers(session, env, ticket, now)  # also schedules the contact_customer timer
            managers = sorted(
                {
                    code
                    for (code,) in session.execute(
                        select(Staff.code)
                        .join(Customer, Customer.account_manager_id == Staff.id)
                        .join(TicketCircuit, TicketCircuit.ticket_id == ticket.id)
                        .join(
                            Circuit,
                            (Circuit.id == TicketCircuit.circuit_id) & (Circuit.customer_id == Customer.id),
                        )
                    )
                }
            )
            outbox.request(
                session,
                now,
                "ticket.customer_contact_deferred",
                {"staff": managers},
                {**_facts(ticket, support), "contact_at": contact_at.isoformat()},
                ticket_id=ticket.id,
                incident_id=incident_id,
                channels=["sms"],
                drill=ticket.drill,
            )
            _event(
                session,
                ticket,
                "contact_deferred",
                now,
                actor.label,
                contact_at=contact_at.isoformat(),
                account_managers=managers,
            )
    return opened


# ---------------------------------------------------------------- reads and scope


def _scope(query: Select[Any], actor: Actor) -> Select[Any]:
    if actor.role == Role.CONTRACTOR:
        return query.where(Ticket.assignee_id == (actor.team_id or -1))
    if actor.role == Role.ACCOUNT_MANAGER:
        mine = select(Customer.id).where(Customer.account_manager_id == (actor.staff_id or -1))
        return query.where(Ticket.customer_id.in_(mine))
    return query


def _visible(session: Session, actor: Actor, ticket_id: int, acting: bool = False) -> Ticket:
    if acting and actor.role == Role.ACCOUNT_MANAGER:
        raise Forbidden("account managers read tickets; they do not work them")
    ticket = session.scalar(_scope(select(Ticket), actor).where(Ticket.id == ticket_id))
    if ticket is None:
        raise NotFound(f"no ticket {ticket_id}")
    return ticket


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def ticket_dicts(
    session: Session, env: Env, tickets: list[Ticket], with_events: bool
) -> list[dict[str, Any]]:
    ids = [t.id for t in tickets]
    circuits: dict[int, list[str]] = defaultdict(list)
    events: dict[int, list[TicketEvent]] = defaultdict(list)
    teams = dict(session.execute(select(Team.id, Team.code)).all()) if tickets else {}
    customers = (
        dict(
            session.execute(
                select(Customer.id, Customer.code).where(
                    Customer.id.in_({t.customer_id for t in tickets if t.customer_id})
                )
            ).all()
        )
        if tickets
        else {}
    )
    if ids:
        for ticket_id, code in session.execute(
            select(TicketCircuit.ticket_id, Circuit.code)
            .join(Circuit, Circuit.id == TicketCircuit.circuit_id)
            .where(TicketCircuit.ticket_id.in_(ids))
            .order_by(Circuit.code)
        ):
            circuits[ticket_id].append(code)
        for event in session.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id.in_(ids)).order_by(TicketEvent.id)
        ):
            events[event.ticket_id].append(event)
    now = env.clock.now()
    out = []
    for t in tickets:
        pause = sla.paused(t.suspended_seconds, t.suspended_at, now)
        due = sla.deadlines(t.created_at, t.track, t.recovery_minutes, pause, env.policy.sla, t.contact_after)
        escalations, support = _escalation_views(events.get(t.id, []))
        item = {
            "id": t.id,
            "incident_id": t.incident_id,
            "channel": t.channel,
            "customer": customers.get(t.customer_id) if t.customer_id else (t.customer_text or None),
            "circuits": circuits.get(t.id, []),
            "assignee": teams.get(t.assignee_id),
            "track": t.track,
            "state": t.state,
            "created_at": _iso(t.created_at),
            "flagged": t.flagged or None,
            "milestones": {m: _iso(getattr(t, f"{m}_at")) for m in MILESTONES},
            "deadlines": {name: _iso(at) for name, at in due.items()},
            "escalations": escalations,
            "support_requests": support,
            "breaches": [
                e.data.get("deadline") for e in events.get(t.id, []) if e.type == "breach" and e.data
            ],
            "suspended_seconds": int(pause.total_seconds()),
            "suspended": t.suspended_at is not None,
            "recovered_by": t.recovered_by or None,
            "cause": t.cause or None,
            "resolution": t.resolution or None,
            "contact_after": _iso(t.contact_after),
            "description": t.description,
            "drill": t.drill,
        }
        if with_events:
            item["events"] = [
                {"type": e.type, "at": _iso(e.at), "actor": e.actor, "note": e.note or None, "data": e.data}
                for e in events.get(t.id, [])
            ]
        out.append(item)
    return out


def list_tickets(
    session: Session,
    env: Env,
    actor: Actor,
    *,
    limit: int,
    cursor: str | None,
    state: str | None = None,
    incident: int | None = None,
    team: str | None = None,
    customer: str | None = None,
    open_only: bool = False,
    warned: dict[int, str] | None = None,
) -> dict[str, Any]:
    """Tickets the actor may see; those of ``warned`` customers (id → warning level) first."""
    query = _scope(select(Ticket), actor)
    if state:
        query = query.where(Ticket.state == state)
    if open_only:
        query = query.where(Ticket.closed_at.is_(None))
    if incident is not None:
        query = query.where(Ticket.incident_id == incident)
    if team:
        query = query.where(Ticket.assignee_id.in_(select(Team.id).where(Team.code == team)))
    if customer:
        query = query.where(
            or_(
                Ticket.customer_id.in_(select(Customer.id).where(Customer.code == customer)),
                Ticket.customer_text == customer,
            )
        )
    rows = _warned_first(session, query, warned or {}, limit + 1, _cursor(cursor))
    more = len(rows) > limit
    rows = rows[:limit]
    items = ticket_dicts(session, env, [t for _, t in rows], with_events=False)
    for item, (_, t) in zip(items, rows, strict=True):
        item["warning"] = (warned or {}).get(t.customer_id) if t.customer_id else None
    return {"items": items, "next_cursor": f"{rows[-1][0]}:{rows[-1][1].id}" if more else None}


# Tiers of the ticket list: customers under a red warning, then orange, then everyone else.
_TIERS = (("red", 2), ("orange", 1))


def _cursor(cursor: str | None) -> tuple[int, int] | None:
    """``tier:id`` (a bare id, as older clients send, is in the last tier)."""
    if not cursor:
        return None
    tier, _, ticket_id = cursor.rpartition(":")
    if tier not in ("", "0", "1", "2"):
        raise LinewatchError(f"bad cursor {cursor[:40]!r}: expected tier:id")
    return int(tier or 0), parse_cursor(ticket_id)


def _warned_first(
    session: Session, query: Select[Any], warned: dict[int, str], limit: int, after: tuple[int, int] | None
) -> list[tuple[int, Ticket]]:
    """Warned customers' tickets first (DOMAIN 8), newest first within each tier: one keyset
    query per tier, each on the id index, instead of sorting every ticket by a computed key."""
    tiers: list[tuple[int, Any]] = [
        (rank, Ticket.customer_id.in_([c for c, level in warned.items() if level == name]))
        for name, rank in _TIERS
        if name in warned.values()
    ]
    rest = or_(Ticket.customer_id.is_(None), Ticket.customer_id.not_in(list(warned))) if warned else None
    tiers.append((0, rest))
    out: list[tuple[int, Ticket]] = []
    for rank, condition in tiers:
        if after is not None and rank > after[0]:
            continue
        tier_query = query if condition is None else query.where(condition)
        if after is not None and rank == after[0]:
            tier_query = tier_query.where(Ticket.id < after[1])
        found = session.scalars(tier_query.order_by(Ticket.id.desc()).limit(limit - len(out)))
        out.extend((rank, t) for t in found)
        if len(out) >= limit:
            break
    return out


def get_ticket(session: Session, env: Env, actor: Actor, ticket_id: int) -> dict[str, Any]:
    return ticket_dicts(session, env, [_visible(session, actor, ticket_id)], with_events=True)[0]


def root_alarm_type(session: Session, ticket: Ticket) -> str | None:
    if ticket.incident_id is None:
        return None
    return session.scalar(
        select(AlarmRecord.type)
        .join(IncidentRecord, IncidentRecord.root_alarm_id == AlarmRecord.id)
        .where(IncidentRecord.id == ticket.incident_id)
    )


def tickets_of_incidents(session: Session, incident_ids: list[int]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = defaultdict(list)
    for ticket_id, incident_id in session.execute(
        select(Ticket.id, Ticket.incident_id).where(Ticket.incident_id.in_(incident_ids)).order_by(Ticket.id)
    ):
        out[incident_id].append(ticket_id)
    return out


__all__ = [
    "SYSTEM",
    "Env",
    "apply_event",
    "auto_dispatch",
    "dispatch_incident",
    "get_ticket",
    "list_tickets",
    "on_timer",
    "recover_from_incidents",
    "report",
    "route_diagnosis",
    "schedule_timers",
]


def breach_counts(session: Session, since: datetime, until: datetime) -> dict[str, dict[str, int]]:
    """Breaches and escalations per team (contractor) in [since, until): the 考核 league's raw figures."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    rows = session.execute(
        select(TicketEvent.type, TicketEvent.data, Team.code)
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .outerjoin(Team, Team.id == Ticket.assignee_id)
        .where(
            TicketEvent.type.in_(("breach", "escalation")),
            TicketEvent.at >= since,
            TicketEvent.at < until,
            Ticket.drill.is_(False),
        )
    )
    for kind, data, team in rows:
        key = (
            f"breach:{(data or {}).get('deadline')}"
            if kind == "breach"
            else f"escalation:{(data or {}).get('level')}"
        )
        counts[team or "(none)"][key] += 1
        counts[team or "(none)"]["total"] += 1
    return {team: dict(values) for team, values in sorted(counts.items())}
