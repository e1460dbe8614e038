"""Load a report's rows with a handful of set-based queries, then hand them to figures.

One path for the monthly report and the statistics for any period and filter: faults in the
period and the repeat-fault window, their impacts, their ticket causes, the period's down
intervals, its tickets with their breaches, and the count of circuits in service — whatever the
period's size, no per-incident or per-ticket round trips. Timestamps come back as numbers
computed by the database (``epoch_seconds``).

Filters: circuit-level ones (customer, contractor, service type, access technology, and the
reader's own scope) select impacted circuits in SQL, so a fault counts when it hurt a selected
circuit and only those circuits enter its figures; fault-level ones (region, cause) select faults.
"""

from __future__ import annotations

import gc
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Connection,
    CursorResult,
    Engine,
    Executable,
    Select,
    and_,
    func,
    or_,
    select,
    text,
    true,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from linewatch.core.actor import Actor
from linewatch.core.policy import Policy
from linewatch.db.epoch import epoch_seconds
from linewatch.incidents.models import ImpactRecord, IncidentRecord
from linewatch.inventory.choices import Role
from linewatch.inventory.models import Circuit, Customer, NetworkElement, Region, Team
from linewatch.reports.figures import (
    MILESTONE_AT,
    UNKNOWN,
    DownRow,
    FaultRow,
    Period,
    Report,
    Rules,
    TicketRow,
    statistics,
)
from linewatch.tickets.models import Ticket, TicketEvent

# Planned cutovers and drills are never faults (DOMAIN 9: excluded from every figure).
_REAL = and_(IncidentRecord.planned.is_(False), IncidentRecord.drill.is_(False))
_CHUNK = 5000  # ids per IN (...) list, well under SQLite's bound-parameter limit


@dataclass(frozen=True)
class Filters:
    """What a report is limited to; None = everything."""

    region: str | None = None  # the fault's region (as in the by_region view)
    customer: str | None = None  # customer code
    contractor: str | None = None  # maintaining team (代维) code of the impacted circuits
    service_type: str | None = None
    access: str | None = None  # access technology (接入方式)
    cause: str | None = None  # cause category (回单原因)
    # The reader's own scope (DOMAIN 1 / INTERFACES Access), set from the actor, not the query:
    account_manager_id: int | None = None  # an account manager reads their own customers only
    team_id: int | None = None  # a contractor: circuits it maintains and tickets it works only

    @property
    def any(self) -> bool:
        return any(v is not None for v in vars(self).values())

    def circuit_conditions(self) -> list[ColumnElement[bool]]:
        """Conditions on ``Circuit``/``Customer`` (both joined by the caller)."""
        out: list[ColumnElement[bool]] = []
        if self.customer is not None:
            out.append(Customer.code == self.customer)
        if self.contractor is not None:
            out.append(Circuit.maintainer_id.in_(select(Team.id).where(Team.code == self.contractor)))
        if self.service_type is not None:
            out.append(Circuit.service_type == self.service_type)
        if self.access is not None:
            out.append(Circuit.access == self.access)
        if self.account_manager_id is not None:
            out.append(Customer.account_manager_id == self.account_manager_id)
        if self.team_id is not None:
            out.append(Circuit.maintainer_id == self.team_id)
        return out

    def keeps(self, fault: FaultRow) -> bool:
        return (self.region is None or fault.region == self.region) and (
            self.cause is None or fault.cause == self.cause
        )

    def scoped(self, actor: Actor) -> Filters:
        """Narrowed to what the actor may read; others read everything."""
        if actor.role == Role.ACCOUNT_MANAGER:
            return replace(self, account_manager_id=actor.staff_id or -1)
        if actor.role == Role.CONTRACTOR:
            return replace(self, team_id=actor.team_id or -1)
        return self


def _run(session: Session, query: Executable) -> CursorResult[Any]:
    """Core execution on the session's connection: plain rows, without the ORM's per-row
    result machinery (a report reads a few hundred thousand of them)."""
    return session.connection().execute(query)


@dataclass(frozen=True, slots=True)
class _Names:
    """Customers (code, region code, account manager) and teams (code) by id, read once per
    report: a few thousand small rows instead of three index lookups per impact and ticket."""

    customers: dict[int, tuple[str, str | None, int | None]]
    teams: dict[int, str]
    regions: dict[int, str]

    @classmethod
    def load(cls, session: Session) -> _Names:
        region = aliased(Region)
        customers = {
            i: (code, region_code, manager)
            for i, code, region_code, manager in _run(
                session,
                select(Customer.id, Customer.code, region.code, Customer.account_manager_id).outerjoin(
                    region, region.id == Customer.region_id
                ),
            )
        }
        teams: dict[int, str] = {i: code for i, code in _run(session, select(Team.id, Team.code))}
        regions: dict[int, str] = {i: code for i, code in _run(session, select(Region.id, Region.code))}
        return cls(customers, teams, regions)


def _stream(session: Session, query: Executable) -> Iterator[tuple[Any, ...]]:
    """A big read's rows as the driver's tuples, fetched in batches: SQLAlchemy's per-row fetch
    and ``Row`` are skipped (≈ 0.1 s of 240,000 rows a report; no column read this way needs a
    result processor — numbers, text, ids)."""
    yield from _batches(_run(session, query))


def _batches(result: CursorResult[Any]) -> Iterator[tuple[Any, ...]]:
    cursor = result.cursor
    assert cursor is not None
    try:
        while batch := cursor.fetchmany(_CHUNK):
            yield from batch
    finally:
        result.close()


def _materialised(query: Executable) -> Executable:
    """``query`` ordered by an expression no index can give (its first column + 0, then the rest
    for a total order): SQLite then does the whole read — the joins, every row into its sorter —
    in the first step, which ``execute`` takes with the interpreter lock released."""
    assert isinstance(query, Select | CompoundSelect)
    rows = query.subquery()
    first, *rest = rows.c
    return select(rows).order_by(first + 0, *rest)


class _Ahead:
    """A report's reads that need nothing from another, started at once beside this thread's own
    work (decision 160, 190).

    PostgreSQL: they run in order on a second connection in a thread: that backend reads the
    month's impacts while the session reads the incidents, and the rest while this thread goes
    through the faults. SQLite: its reads take the interpreter lock at every row, so a thread
    that fetched rows would only take turns with this one; instead each read is ordered so that
    SQLite does all of its work in the first step (``_materialised``), executed by a thread on a
    connection of its own while the lock is free for this one — the impacts on one, the rest one
    after another on a second — and this thread fetches the finished rows from the sorter.
    Elsewhere (a session bound to one connection, whose uncommitted rows a second connection
    would not see, or an in-memory SQLite, which is another database on another connection) each
    runs when asked for, on the session's connection. A report's reads never shared one
    snapshot (read committed, or SQLite's autocommit reads), so other connections change nothing
    there."""

    def __init__(self, session: Session, reads: dict[str, Executable]) -> None:
        self._session = session
        self._reads = reads
        self._results: dict[str, Future[Any]] = {}
        self._threads: list[threading.Thread] = []
        self._connections: list[Connection] = []
        self._sqlite = False
        bind = session.get_bind()
        if not isinstance(bind, Engine):
            return
        if bind.dialect.name == "postgresql":
            lanes = [list(reads)]
        elif bind.dialect.name == "sqlite" and bind.url.database not in (None, "", ":memory:"):
            self._sqlite = True
            first, *rest = reads  # the first one needed alone: it is wanted while the rest run
            lanes = [[first], rest]
        else:
            return
        self._results = {name: Future() for name in reads}
        for lane in lanes:
            thread = threading.Thread(target=self._read, args=(bind, lane), name="report-reads", daemon=True)
            self._threads.append(thread)
            thread.start()

    def _read(self, engine: Engine, names: list[str]) -> None:
        try:
            connection = engine.connect()
            self._connections.append(connection)
            if not self._sqlite:
                for name in names:
                    self._results[name].set_result(connection.execute(self._reads[name]).all())
                return
            # Handed over only once the lane's last read is executed: this connection is then
            # used by the report's thread alone.
            executed = [connection.execute(_materialised(self._reads[name])) for name in names]
            for name, result in zip(names, executed, strict=True):
                self._results[name].set_result(result)
        except BaseException as exc:  # handed to whoever asks for the rows
            for name in names:
                if not self._results[name].done():
                    self._results[name].set_exception(exc)

    def rows(self, name: str) -> Sequence[Any]:
        if not self._threads:
            return _run(self._session, self._reads[name]).all()
        got = self._results[name].result()
        return got.all() if self._sqlite else got

    def stream(self, name: str) -> Iterator[Sequence[Any]]:
        """The rows one by one, read (or waited for) from the first one asked for: on SQLite
        from the cursor, never all held at once."""
        if not self._threads:
            yield from _stream(self._session, self._reads[name])
        elif self._sqlite:
            yield from _batches(self._results[name].result())
        else:
            yield from self._results[name].result()

    def __enter__(self) -> _Ahead:
        return self

    def __exit__(self, *exc: object) -> None:
        for thread in self._threads:  # their connections back in the pool before the report is out
            thread.join()
        for connection in self._connections:
            connection.close()


def _chunks(ids: Iterable[int]) -> Iterable[list[int]]:
    items = sorted(ids)
    for n in range(0, len(items), _CHUNK):
        yield items[n : n + _CHUNK]


# The first closed ticket's cause (回单原因) of each fault, looked up by ix_ticket_incident per
# fault (a correlated subquery): as a join, PostgreSQL scanned every ticket in parallel workers
# and hashed them against the period's incidents (decision 144).
_FIRST_CAUSE = (
    select(Ticket.cause)
    .where(Ticket.incident_id == IncidentRecord.id, Ticket.closed_at.is_not(None), Ticket.cause != "")
    .order_by(Ticket.closed_at, Ticket.id)
    .limit(1)
    .scalar_subquery()
)
# A ticket counts unless its incident is a planned cutover or a drill: also looked up per ticket
# (as an outer join, PostgreSQL hashed the period's tickets against a scan of every incident).
_UNREAL_INCIDENT = (
    select(or_(IncidentRecord.planned, IncidentRecord.drill))
    .where(IncidentRecord.id == Ticket.incident_id)
    .scalar_subquery()
)


def _causes_query(window: ColumnElement[bool]) -> Executable:
    """Each fault's first closed ticket's cause (see ``_FIRST_CAUSE``) among the incidents
    ``window`` selects: read beside the incidents' own read, which then waits less."""
    return select(IncidentRecord.id, _FIRST_CAUSE).where(_REAL, window)


def _impacts_query(
    filters: Filters, window: ColumnElement[bool], impact_window: ColumnElement[bool]
) -> Executable:
    """The impacts ``_faults`` reads, joined to their circuits (see there)."""
    query = (
        select(
            ImpactRecord.incident_id,
            epoch_seconds(ImpactRecord.since),
            epoch_seconds(ImpactRecord.until),
            ImpactRecord.impact,
            Circuit.code,
            Circuit.id,
            Circuit.service_type,
            Circuit.maintainer_id,
            Circuit.customer_id,
        )
        .join(IncidentRecord, IncidentRecord.id == ImpactRecord.incident_id)
        .join(Circuit, Circuit.id == ImpactRecord.circuit_id)
        .where(_REAL, window, impact_window)
    )
    conditions = filters.circuit_conditions()
    if conditions:  # the customer joined only when a filter asks about it
        query = query.join(Customer, Customer.id == Circuit.customer_id).where(*conditions)
    return query


def _faults(
    session: Session,
    names: _Names,
    filters: Filters,
    window: ColumnElement[bool],
    impact_window: ColumnElement[bool],
    codes: dict[int, str] | None = None,
    downs: tuple[Period, list[DownRow]] | None = None,
    impacts: Iterable[Sequence[Any]] | None = None,
    causes: Callable[[], Iterable[Sequence[Any]]] | None = None,
) -> dict[int, FaultRow]:
    """Faults among the incidents ``window`` selects; ``impact_window`` may further limit which
    impacts are read (the repeat-fault window needs only circuits that failed in the period).
    ``codes``, when given, receives the code of each impacted circuit by id; ``downs``, when
    given, receives the impacts read that are ``down`` intervals overlapping its period;
    ``impacts``, when given, are ``_impacts_query``'s rows for the same windows, read elsewhere
    (see ``_Ahead``); so are ``causes`` (``_causes_query``'s rows, asked for once the impacts
    are through), else each fault's cause comes with its row."""
    columns = [
        IncidentRecord.id,
        epoch_seconds(IncidentRecord.opened_at),
        epoch_seconds(IncidentRecord.recovered_at),
        epoch_seconds(IncidentRecord.diagnosis_due),
        epoch_seconds(IncidentRecord.diagnosis_at),
        NetworkElement.name,
        NetworkElement.region_id,
    ]
    if causes is None:
        columns.append(_FIRST_CAUSE)
    incidents = _run(
        session,
        select(*columns)
        .outerjoin(NetworkElement, NetworkElement.id == IncidentRecord.root_ne_id)
        .where(_REAL, window),
    ).all()
    region_of = names.regions
    # Faults whose root NE gives no region take the first impacted customer's (most have one).
    regionless = {row[0] for row in incidents if row[6] is None or not region_of.get(row[6])}
    if impacts is None:
        impacts = _stream(session, _impacts_query(filters, window, impact_window))  # freed as counted
    teams, customer_of = names.teams, names.customers
    # Per incident: its circuits, service types, contractors and customers (one dict lookup a row).
    sets: dict[int, tuple[set[str], set[str], set[str], set[str]]] = {}
    first_region: dict[int, tuple[float, str]] = {}
    start, end = (downs[0].start_s, downs[0].end_s) if downs is not None else (0.0, 0.0)
    for (
        incident_id,
        since_at,
        until_at,
        kind,
        code,
        circuit_id,
        service_type,
        maintainer_id,
        customer_id,
    ) in impacts:
        customer, region, _ = customer_of[customer_id]
        entry = sets.get(incident_id)
        if entry is None:
            entry = sets[incident_id] = (set(), set(), set(), set())
        entry[0].add(code)
        entry[1].add(service_type)
        entry[3].add(customer)
        if maintainer_id is not None:
            maintainer = teams.get(maintainer_id)
            if maintainer:
                entry[2].add(maintainer)
        if codes is not None:
            codes[circuit_id] = code
        if downs is not None and kind == "down" and since_at < end and (until_at is None or until_at > start):
            downs[1].append(DownRow(incident_id, code, since_at, until_at))
        if (
            region
            and incident_id in regionless
            and (incident_id not in first_region or (since_at, region) < first_region[incident_id])
        ):
            first_region[incident_id] = (since_at, region)
    cause_of: dict[int, str | None] = dict(causes()) if causes is not None else {}  # type: ignore[arg-type]
    faults = (
        FaultRow(
            incident_id=i,
            opened=opened,
            recovered=recovered,
            diagnosis_due=due,
            diagnosis_at=diagnosed,
            region=(region_of.get(root_region_id) if root_region_id is not None else None)
            or first_region.get(i, (opened, UNKNOWN))[1],
            cause=(inline[0] if inline else cause_of.get(i)) or UNKNOWN,
            ne=ne or UNKNOWN,
            circuits=tuple(entry[0]),
            service_types=tuple(entry[1]),
            contractors=tuple(entry[2]),
            customers=tuple(entry[3]),
        )
        for i, opened, recovered, due, diagnosed, ne, root_region_id, *inline in incidents
        if (entry := sets.get(i)) is not None  # an incident that hurt no (selected) circuit is not a fault
    )
    if filters.region is None and filters.cause is None:  # no fault-level filter: every one kept
        return {f.incident_id: f for f in faults}
    return {f.incident_id: f for f in faults if filters.keeps(f)}


def _earlier_query(window: ColumnElement[bool]) -> Executable:
    """The impacts of the repeat-fault window's faults (see ``_earlier``)."""
    return (
        select(ImpactRecord.incident_id, epoch_seconds(IncidentRecord.opened_at), ImpactRecord.circuit_id)
        .join(IncidentRecord, IncidentRecord.id == ImpactRecord.incident_id)
        .where(_REAL, window)
    )


def _earlier(rows: Iterable[Sequence[Any]], codes: dict[int, str]) -> dict[int, FaultRow]:
    """Faults of the repeat-fault window before the period that hurt one of ``codes``' circuits
    (the period's, already filtered): when they opened and which of those circuits they hurt,
    nothing else (they are never counted themselves). Read by incident over the window and
    matched here: no per-circuit lookups, no circuit join."""
    circuits: dict[int, set[str]] = defaultdict(set)
    opened: dict[int, float] = {}
    for incident_id, at, circuit_id in rows:
        code = codes.get(circuit_id)
        if code is not None:
            circuits[incident_id].add(code)
            opened[incident_id] = at
    return {
        i: FaultRow(i, opened[i], None, opened[i], None, UNKNOWN, UNKNOWN, UNKNOWN, tuple(c), (), (), ())
        for i, c in circuits.items()
    }


# Down intervals that started up to this long before a period are read by their start
# (ix_incident_impact_down); older ones still running at its start must be longer than this, and
# are found by their length (ix_incident_impact_span, an expression index: see migration 0011).
_CARRY_DAYS = 2
SPAN = {  # interval length > :days, spelled as the expression index is (migration 0011)
    "sqlite": "(julianday(incident_impact.until) - julianday(incident_impact.since)) > :span_days",
    "postgresql": "(incident_impact.until - incident_impact.since) > make_interval(days => :span_days)",
}


def _downs_query(dialect: str, period: Period, filters: Filters, outside_only: bool = False) -> Executable:
    """Every ``down`` interval overlapping the period (rows of ``DownRow``'s fields): those that
    started in it or up to ``_CARRY_DAYS`` before it, then the longer ones still running at its
    start (ongoing, or ended after it) — two bounded index ranges instead of every interval ended since. With
    ``outside_only``, only those of incidents opened outside the period (the others came with
    the period's faults: see ``_faults``)."""
    reach = datetime.fromtimestamp(period.start_s - _CARRY_DAYS * 86400, period.start.tzinfo)
    running = or_(ImpactRecord.until.is_(None), ImpactRecord.until > period.start)
    long_ = text(SPAN[dialect]).bindparams(span_days=_CARRY_DAYS)
    down = ImpactRecord.impact == "down"
    parts = [
        and_(down, ImpactRecord.since >= reach, ImpactRecord.since < period.end, running),
        and_(
            # coalesce(): not by kind and start first (all earlier history), but the two OR'ed
            # indexes below (SQLite picks an equality over an expression index otherwise).
            func.coalesce(ImpactRecord.impact, "") == "down",
            ImpactRecord.since < reach,
            or_(ImpactRecord.until.is_(None), and_(long_, ImpactRecord.until > period.start)),
        ),
    ]
    conditions = filters.circuit_conditions()
    queries = []
    for part in parts:
        query = (
            select(
                ImpactRecord.incident_id,
                Circuit.code,
                epoch_seconds(ImpactRecord.since),
                epoch_seconds(ImpactRecord.until),
            )
            .join(IncidentRecord, IncidentRecord.id == ImpactRecord.incident_id)
            .join(Circuit, Circuit.id == ImpactRecord.circuit_id)
            .where(_REAL, part)
        )
        if outside_only:
            query = query.where(
                or_(IncidentRecord.opened_at < period.start, IncidentRecord.opened_at >= period.end)
            )
        if conditions:  # the customer only when a filter asks about it
            query = query.join(Customer, Customer.id == Circuit.customer_id).where(*conditions)
        queries.append(query)
    return union_all(*queries)


@dataclass(frozen=True, slots=True)
class _TicketFacts:
    """What a ticket without a fault is matched on when the report is filtered."""

    customer: str | None
    region: str | None
    account_manager_id: int | None
    team_id: int | None


def _tickets_query(period: Period) -> Executable:
    """The period's tickets (see ``_tickets``)."""
    scope = and_(
        Ticket.created_at >= period.start,
        Ticket.created_at < period.end,
        Ticket.drill.is_(False),
        or_(Ticket.incident_id.is_(None), _UNREAL_INCIDENT.is_(False)),
    )
    milestones = [epoch_seconds(getattr(Ticket, column)) for column in MILESTONE_AT.values()]
    return select(
        Ticket.id,
        Ticket.incident_id,
        epoch_seconds(Ticket.created_at),
        Ticket.assignee_id,
        Ticket.cause,
        Ticket.customer_id,
        *milestones,
    ).where(scope)


def _breaches_query(period: Period) -> Executable:
    """The breach events of the period's tickets: (ticket id, event data)."""
    return (
        select(TicketEvent.ticket_id, TicketEvent.data)
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        # coalesce(): read the period's tickets' events by ticket (ix_ticket_event_ticket), not
        # every breach of all history by type first (SQLite's choice for a bare equality). By
        # creation only: the breaches of a ticket not kept (a drill's) are never looked up.
        .where(
            Ticket.created_at >= period.start,
            Ticket.created_at < period.end,
            func.coalesce(TicketEvent.type, "") == "breach",
        )
    )


def _tickets(
    names: _Names, rows: Iterable[Sequence[Any]], breaches: Iterable[Sequence[Any]], facts: bool
) -> list[tuple[TicketRow, _TicketFacts | None]]:
    """The period's tickets from ``_tickets_query`` and ``_breaches_query``'s rows; with
    ``facts``, what a filter matches them on (else None)."""
    teams, customer_of = names.teams, names.customers
    nobody: tuple[None, None, None] = (None, None, None)
    breached: dict[int, set[str]] = defaultdict(set)
    for ticket_id, data in breaches:
        if data and data.get("deadline"):
            breached[ticket_id].add(data["deadline"])
    none: frozenset[str] = frozenset()
    out: list[tuple[TicketRow, _TicketFacts | None]] = []
    for t in rows:
        ticket_id, assignee_id, customer_id = t[0], t[3], t[5]
        late = breached.get(ticket_id)
        row = TicketRow(
            ticket_id=ticket_id,
            incident_id=t[1],
            created=t[2],
            met=tuple(t[6:]),
            breached=frozenset(late) if late else none,
            team=(teams.get(assignee_id) if assignee_id is not None else None) or UNKNOWN,
            cause=t[4] or UNKNOWN,
        )
        if facts:
            customer, region, manager = (
                customer_of.get(customer_id, nobody) if customer_id is not None else nobody
            )
            out.append((row, _TicketFacts(customer, region, manager, assignee_id)))
        else:
            out.append((row, None))
    return out


def _ticket_kept(t: TicketRow, facts: _TicketFacts, filters: Filters, faults: dict[int, FaultRow]) -> bool:
    if filters.team_id is not None and facts.team_id != filters.team_id:
        return False  # a contractor's league is its own tickets
    if not filters.any:
        return True
    if t.incident_id is not None:
        return t.incident_id in faults
    # A customer report not (yet) linked to a fault: match what the ticket itself says.
    if filters.service_type is not None or filters.access is not None:
        return False  # its circuits are not known
    wanted = (
        (filters.customer, facts.customer),
        (filters.region, facts.region),
        (filters.contractor, t.team),
        (filters.cause, t.cause),
        (filters.account_manager_id, facts.account_manager_id),
    )
    return all(want is None or want == have for want, have in wanted)


def _in_service_query(filters: Filters) -> Executable:
    """The count of circuits in service that ``filters`` select."""
    query = (
        select(func.count())
        .select_from(Circuit)
        .join(Customer, Customer.id == Circuit.customer_id)
        .where(Circuit.in_service, *filters.circuit_conditions())
    )
    if filters.region is not None:
        query = query.where(Customer.region_id.in_(select(Region.id).where(Region.code == filters.region)))
    return query


_gc_lock = threading.Lock()
_gc_holders = 0
_gc_was_enabled = False


@contextmanager
def paused_gc() -> Iterator[None]:
    """The cyclic collector paused while a report is built, and while its caller answers with it
    and frees it (the API does; nested uses just count). A report allocates a few hundred
    thousand small objects and no reference cycles; the collector would rescan every live one
    again and again meanwhile (half of the time at a month of scale-10 history), and when it is
    resumed with the report still alive, its first collection walks all of them once more
    (≈ 0.3 s at scale 100): freed first, they are gone from its lists. Reference counting still
    frees everything."""
    global _gc_holders, _gc_was_enabled
    with _gc_lock:
        if _gc_holders == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_holders += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_holders -= 1
            if _gc_holders == 0 and _gc_was_enabled:
                gc.enable()


def rules_of(policy: Policy) -> Rules:
    s = policy.statistics
    return Rules(s.repeat_fault_days, s.repeat_fault_min, s.top_n, s.trend_days_max)


def build_report(
    session: Session, policy: Policy, period: Period, now: datetime, filters: Filters | None = None
) -> Report:
    """The report for ``period`` limited by ``filters`` (already scoped to the reader)."""
    with paused_gc():
        return _build(session, policy, period, now, filters or Filters())


def _build(session: Session, policy: Policy, period: Period, now: datetime, filters: Filters) -> Report:
    rules = rules_of(policy)
    names = _Names.load(session)
    since = datetime.fromtimestamp(period.start_s - rules.repeat_days * 86400, period.start.tzinfo)
    failed_in_period = (
        select(ImpactRecord.circuit_id)
        .join(IncidentRecord, IncidentRecord.id == ImpactRecord.incident_id)
        .where(_REAL, IncidentRecord.opened_at >= period.start, IncidentRecord.opened_at < period.end)
    )
    in_period = and_(IncidentRecord.opened_at >= period.start, IncidentRecord.opened_at < period.end)
    before = and_(IncidentRecord.opened_at >= since, IncidentRecord.opened_at < period.start)
    failed_before = ImpactRecord.circuit_id.in_(failed_in_period)
    dialect = session.get_bind().dialect.name
    # Only the faults a filter adds need what an earlier read gave: every other read is known
    # now, and may run while this thread reads the incidents and works through the faults.
    reads: dict[str, Executable] = {}
    repeat_window = filters.region is None and filters.cause is None
    if repeat_window:
        fault_window, impact_window = in_period, true()
    else:  # the region or cause of earlier faults decides whether they count
        fault_window = and_(IncidentRecord.opened_at >= since, IncidentRecord.opened_at < period.end)
        impact_window = or_(in_period, failed_before)
    reads["impacts"] = _impacts_query(filters, fault_window, impact_window)  # the first one needed
    reads["causes"] = _causes_query(fault_window)  # wanted once the impacts are through
    if repeat_window:
        # The repeat-fault window only needs when each earlier fault hurt which of this period's
        # circuits. An impact starts after its incident opened, and one that started after the
        # period cannot make a fault in it a repeat.
        bounded = and_(ImpactRecord.since >= since, ImpactRecord.since < period.end)
        reads["earlier"] = _earlier_query(and_(before, bounded))
    reads["downs"] = _downs_query(dialect, period, filters, outside_only=repeat_window)
    reads["tickets"] = _tickets_query(period)
    reads["breaches"] = _breaches_query(period)
    reads["in_service"] = _in_service_query(filters)
    with _Ahead(session, reads) as ahead:
        if repeat_window:
            codes: dict[int, str] = {}
            downs: list[DownRow] = []  # those of the period's faults come with their impacts
            faults = _faults(
                session,
                names,
                filters,
                fault_window,
                impact_window,
                codes,
                (period, downs),
                ahead.stream("impacts"),
                lambda: ahead.rows("causes"),
            )
            downs += [DownRow(*row) for row in ahead.rows("downs")]
            faults.update(_earlier(ahead.rows("earlier"), codes))
        else:
            faults = _faults(
                session,
                names,
                filters,
                fault_window,
                impact_window,
                impacts=ahead.stream("impacts"),
                causes=lambda: ahead.rows("causes"),
            )
            downs = [DownRow(*row) for row in ahead.rows("downs")]
        tickets = _tickets(names, ahead.rows("tickets"), ahead.rows("breaches"), filters.any)
        in_service: int = ahead.rows("in_service")[0][0] or 0
    if filters.any:
        # Down intervals and tickets of faults opened before the window: load those faults too,
        # so the fault-level filters can be applied to them.
        missing = {d.incident_id for d in downs} | {t.incident_id for t, _ in tickets if t.incident_id}
        for ids in _chunks(missing - faults.keys()):
            faults.update(_faults(session, names, filters, IncidentRecord.id.in_(ids), true()))
        downs = [d for d in downs if d.incident_id in faults]
    return statistics(
        period,
        now.timestamp(),
        list(faults.values()),
        downs,
        [t for t, facts in tickets if facts is None or _ticket_kept(t, facts, filters, faults)],
        in_service,
        rules,
    )


__all__ = ["Filters", "build_report", "paused_gc", "rules_of"]
