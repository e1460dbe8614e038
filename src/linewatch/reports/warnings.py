"""Customer early warnings (DOMAIN 8 危机与预警): raise, escalate, review, visit, close.

Red in real time when an urgent incident hurts the customer; orange/red at the periodic reviews
(durable timers on the one clock, weekly and/or monthly by policy) from the fault counts of the
lookback window. A customer has at most one active warning; a higher level escalates it (history
row, new visit due), a lower or equal one leaves it be. The account manager (and support) hear
of every new warning or escalation through the notification outbox.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from linewatch.core.chunks import parts
from linewatch.core.errors import Conflict, NotFound
from linewatch.core.policy import Policy
from linewatch.db import outbox, timers
from linewatch.incidents.choices import IncidentState, Level
from linewatch.incidents.models import ImpactRecord, IncidentRecord
from linewatch.inventory.models import Circuit, Customer
from linewatch.reports.models import CustomerWarning, WarningEvent
from linewatch.reports.warning_rules import RANK, WarningLevel, next_review, periodic_level, visit_due

OWNER = "warnings"  # timer owner; owner_id 0: the review schedule is global
AUDIENCE_ROLES = ["support"]  # besides the customer's account manager (audience "customers")


def _active(session: Session, customer_ids: list[int], now: datetime) -> dict[int, CustomerWarning]:
    found: dict[int, CustomerWarning] = {}
    for part in parts(customer_ids):  # a fibre cut's urgent incident can hit tens of thousands
        rows = session.scalars(
            select(CustomerWarning).where(
                CustomerWarning.customer_id.in_(part),
                CustomerWarning.state == "active",
                CustomerWarning.valid_until > now,
            )
        )
        found.update((w.customer_id, w) for w in rows)
    return found


def warned_customers(session: Session, now: datetime) -> dict[int, str]:
    """Customers under an active warning → its level: their tickets sort first (DOMAIN 8)."""
    rows = session.execute(
        select(CustomerWarning.customer_id, CustomerWarning.level).where(
            CustomerWarning.state == "active", CustomerWarning.valid_until > now
        )
    )
    out: dict[int, str] = {}
    for customer_id, level in rows:
        if RANK[level] > RANK.get(out.get(customer_id, ""), 0):
            out[customer_id] = level
    return out


@dataclass
class Wanted:
    """A warning to open for a customer, or to escalate its active one to."""

    customer: Customer
    level: str
    source: str
    reason: str
    scope: dict[str, Any]
    existing: CustomerWarning | None = None


def raise_warning(
    session: Session,
    policy: Policy,
    tz: ZoneInfo,
    now: datetime,
    customer: Customer,
    level: str,
    source: str,
    reason: str,
    scope: dict[str, Any],
    actor: str = "system",
    existing: CustomerWarning | None = None,
) -> CustomerWarning | None:
    """Open a warning, or escalate the active one; None when the active one is already as high."""
    wanted = Wanted(customer, level, source, reason, scope, existing)
    return raise_warnings(session, policy, tz, now, [wanted], actor)[0]


def raise_warnings(
    session: Session, policy: Policy, tz: ZoneInfo, now: datetime, wanted: list[Wanted], actor: str = "system"
) -> list[CustomerWarning | None]:
    """:func:`raise_warning` for many customers with one flush: an urgent incident at scale hurts
    hundreds of customers, and a flush each held the write lock for seconds (decision 98)."""
    wp = policy.warnings
    valid = now + timedelta(days=wp.lookback_days)
    raised: list[CustomerWarning | None] = []
    for item in wanted:
        existing, level = item.existing, item.level
        if existing is not None:
            if RANK[level] <= RANK[existing.level]:
                raised.append(None)
                continue
            session.add(
                WarningEvent(
                    warning_id=existing.id,
                    at=now,
                    actor=actor,
                    kind="level",
                    from_level=existing.level,
                    to_level=level,
                    note=item.reason,
                )
            )
            existing.level, existing.source, existing.reason = level, item.source, item.reason
            existing.scope = item.scope
            existing.valid_until = max(existing.valid_until, valid)
            # an escalation is a new red warning: a new visit is due (DOMAIN 8)
            existing.visit_due, existing.visit_done_at = visit_due(now, wp.visit_due_working_days, tz), None
            existing.updated_at = now
            raised.append(existing)
            continue
        warning = CustomerWarning(
            customer_id=item.customer.id,
            level=level,
            state="active",
            source=item.source,
            reason=item.reason,
            scope=item.scope,
            measures="",
            opened_at=now,
            valid_until=valid,
            visit_due=visit_due(now, wp.visit_due_working_days, tz),
            visit_note="",
            updated_at=now,
        )
        session.add(warning)
        raised.append(warning)
    session.flush()  # the new warnings' ids, in one batch
    for item, warning in zip(wanted, raised, strict=True):
        if warning is None:
            continue
        if item.existing is None:
            session.add(
                WarningEvent(
                    warning_id=warning.id,
                    at=now,
                    actor=actor,
                    kind="opened",
                    from_level=None,
                    to_level=item.level,
                    note=item.reason,
                )
            )
        outbox.request(
            session,
            now,
            "customer.warning",
            {"customers": [item.customer.code], "roles": AUDIENCE_ROLES},
            {
                "customer": item.customer.name,
                "warning_id": warning.id,
                "warning_level": item.level,
                "reason": item.reason,
                "visit_due": warning.visit_due.isoformat(),
                # short facts for a one-SMS text (the reason above is the long bilingual one)
                "source": item.source,
                "faults": len(item.scope.get("incidents") or []),
                "over_limit": len(item.scope.get("over_limit") or []),
                "days": wp.lookback_days,
            },
        )
    return raised


# customer → incident → (its opening, the customer's circuits it hurts)
UrgentHits = dict[int, dict[int, tuple[datetime, set[str]]]]


def _urgent_hits(session: Session, incident_ids: list[int]) -> UrgentHits:
    """The customers these incidents hurt, unplanned and not drills (no red for those)."""
    hit: UrgentHits = defaultdict(dict)
    for part in parts(incident_ids):
        for incident_id, opened_at, customer_id, code in session.execute(
            select(IncidentRecord.id, IncidentRecord.opened_at, ImpactRecord.customer_id, Circuit.code)
            .join(ImpactRecord, ImpactRecord.incident_id == IncidentRecord.id)
            .join(Circuit, Circuit.id == ImpactRecord.circuit_id)
            .where(
                IncidentRecord.id.in_(part),
                IncidentRecord.planned.is_(False),
                IncidentRecord.drill.is_(False),
            )
        ):
            hit[customer_id].setdefault(incident_id, (opened_at, set()))[1].add(code)
    return hit


def _raise_red(session: Session, policy: Policy, tz: ZoneInfo, now: datetime, hit: UrgentHits) -> None:
    customers = {
        c.id: c for part in parts(hit) for c in session.scalars(select(Customer).where(Customer.id.in_(part)))
    }
    active = _active(session, list(hit), now)
    wanted = []
    for customer_id, incidents in sorted(hit.items()):
        circuits = sorted({code for _, codes in incidents.values() for code in codes})
        wanted.append(
            Wanted(
                customers[customer_id],
                "red",
                "realtime",
                "紧急故障 urgent incident " + ", ".join(f"#{i}" for i in sorted(incidents)),
                {"incidents": sorted(incidents), "circuits": circuits},
                active.get(customer_id),
            )
        )
    raise_warnings(session, policy, tz, now, wanted)


# A huge incident's customers are warned this many to a transaction: a fibre cut at scale 100 hurts
# 26,000, ≈ 3 s of one transaction holding the write lock that the pipeline's commits wait for.
RED_PER_TRANSACTION = 1_000


def on_incident_changes(
    policy: Policy, tz: ZoneInfo, per_transaction: int = RED_PER_TRANSACTION
) -> Callable[[Session, list[Any]], list[Callable[[Session], None]]]:
    """Real-time red: an urgent (紧急) incident opening on — or rising to urgent on — a customer.
    The first ``per_transaction`` customers are warned in downstream's transaction, the rest in
    steps of as many each (a stop between them leaves them to the reconcile at start)."""

    def hook(session: Session, changes: list[Any]) -> list[Callable[[Session], None]]:
        urgent = sorted(
            {c.incident_id for c in changes if c.level == "urgent" and c.kind in ("opened", "level_changed")}
        )
        hit = _urgent_hits(session, urgent) if urgent else {}
        if not hit:
            return []
        now, customers = max(c.at for c in changes), sorted(hit)
        parts_of_hit = [
            {c: hit[c] for c in customers[start : start + per_transaction]}
            for start in range(0, len(customers), per_transaction)
        ]
        _raise_red(session, policy, tz, now, parts_of_hit[0])
        return [
            lambda later, part=part: _raise_red(later, policy, tz, now, part) for part in parts_of_hit[1:]
        ]

    return hook


def _red_until(session: Session, customer_ids: list[int]) -> dict[int, datetime]:
    """Customer → when its last red warning stopped being in force: closed (a warning closes
    once), or expired; one still in force gives its ``valid_until``, in the future."""
    latest: dict[int, datetime] = {}
    for part in parts(customer_ids):
        rows = session.execute(
            select(CustomerWarning.customer_id, CustomerWarning.valid_until, WarningEvent.at)
            .outerjoin(
                WarningEvent,
                (WarningEvent.warning_id == CustomerWarning.id) & (WarningEvent.kind == "closed"),
            )
            .where(CustomerWarning.customer_id.in_(part), CustomerWarning.level == "red")
        )
        for customer_id, valid_until, closed_at in rows:
            until = valid_until if closed_at is None else min(valid_until, closed_at)
            latest[customer_id] = max(until, latest.get(customer_id, until))
    return latest


def _unwarned(session: Session, incident_ids: list[int]) -> UrgentHits:
    """Of these incidents' hits, those whose real-time red was never raised: the customer has had
    no red warning in force at any moment since the incident opened. Otherwise the hook found it
    already red, or raised it — and if it is closed now, an operator closed it (decision 172)."""
    hit = _urgent_hits(session, incident_ids) if incident_ids else {}
    red_until = _red_until(session, list(hit))
    unwarned: UrgentHits = {}
    for customer_id, incidents in hit.items():
        until = red_until.get(customer_id)
        left = {i: facts for i, facts in incidents.items() if until is None or until < facts[0]}
        if left:
            unwarned[customer_id] = left
    return unwarned


def unwarned_urgent(session: Session) -> list[int]:
    """At start (downstream's reconcile): the open, unplanned, non-drill urgent incidents whose
    real-time red a lost incident change (a stop, a crash) never raised on some customer."""
    urgent = list(
        session.scalars(
            select(IncidentRecord.id).where(
                IncidentRecord.state == IncidentState.OPEN.value,
                IncidentRecord.level == Level.URGENT.value,
                IncidentRecord.planned.is_(False),
                IncidentRecord.drill.is_(False),
            )
        )
    )
    return sorted({i for incidents in _unwarned(session, urgent).values() for i in incidents})


def reconcile_realtime(policy: Policy, clock: Any) -> Callable[[Session, list[int]], None]:
    """Raise the reds :func:`unwarned_urgent` found, looking again in this transaction
    (idempotent: what it raises is in force afterwards, so a second run finds nothing)."""

    def redo(session: Session, incident_ids: list[int]) -> None:
        unwarned = _unwarned(session, incident_ids)
        if unwarned:
            _raise_red(session, policy, clock.tz, clock.now(), unwarned)

    return redo


def fault_counts(
    session: Session, policy: Policy, now: datetime
) -> dict[int, tuple[list[int], list[int], list[str]]]:
    """Per customer in the lookback window: (fault incidents, those over the recovery limit, circuits).

    A fault as in the statistics (decision 42). Over the limit: open→recovered (or now) longer
    than the shortest recovery limit of the customer's circuits it hurt (by assurance level)."""
    since = now - timedelta(days=policy.warnings.lookback_days)
    limits = policy.sla.recovery_minutes
    rows = session.execute(
        select(
            ImpactRecord.customer_id,
            IncidentRecord.id,
            IncidentRecord.opened_at,
            IncidentRecord.recovered_at,
            Circuit.code,
            Circuit.assurance,
        )
        .join(IncidentRecord, IncidentRecord.id == ImpactRecord.incident_id)
        .join(Circuit, Circuit.id == ImpactRecord.circuit_id)
        .where(
            IncidentRecord.planned.is_(False),
            IncidentRecord.drill.is_(False),
            IncidentRecord.opened_at > since,
            IncidentRecord.opened_at <= now,
        )
    ).all()
    limit: dict[tuple[int, int], float] = {}
    took: dict[int, float] = {}
    circuits: dict[int, set[str]] = defaultdict(set)
    for customer_id, incident_id, opened, recovered, code, assurance in rows:
        minutes = limits.get(assurance, limits["normal"])  # type: ignore[attr-defined]
        key = (customer_id, incident_id)
        limit[key] = min(limit.get(key, minutes), minutes)
        took[incident_id] = ((recovered or now) - opened).total_seconds() / 60
        circuits[customer_id].add(code)
    out: dict[int, tuple[list[int], list[int], list[str]]] = {}
    for (customer_id, incident_id), lim in sorted(limit.items()):
        faults, over, _ = out.setdefault(customer_id, ([], [], sorted(circuits[customer_id])))
        faults.append(incident_id)
        if took[incident_id] > lim:
            over.append(incident_id)
    return out


def review(session: Session, policy: Policy, tz: ZoneInfo, now: datetime, kind: str = "weekly") -> int:
    """The periodic review: orange/red by the policy thresholds; how many warnings opened or rose."""
    counts = fault_counts(session, policy, now)
    levels = {
        cid: lvl
        for cid, (faults, over, _) in counts.items()
        if (lvl := periodic_level(len(faults), len(over), policy.warnings))
    }
    if not levels:
        return 0
    customers = {c.id: c for c in session.scalars(select(Customer).where(Customer.id.in_(list(levels))))}
    active = _active(session, list(levels), now)
    wanted = []
    for cid, level in sorted(levels.items()):
        faults, over, circuits = counts[cid]
        reason = (
            f"{policy.warnings.lookback_days}天内故障{len(faults)}次, 超时{len(over)}次 "
            f"({kind} review: {len(faults)} faults, {len(over)} over the recovery limit in "
            f"{policy.warnings.lookback_days} days)"
        )
        scope = {"incidents": faults, "over_limit": over, "circuits": circuits}
        wanted.append(Wanted(customers[cid], level, "periodic", reason, scope, active.get(cid)))
    return sum(w is not None for w in raise_warnings(session, policy, tz, now, wanted))


def on_timer(policy: Policy, tz: ZoneInfo) -> timers.Handler:
    """Timer handler: run the review at its due time, then schedule the next one of that kind."""

    def handle(session: Session, timer: timers.Timer, now: datetime) -> None:
        kind = timer.kind.removeprefix("review:")
        review(session, policy, tz, timer.due_at, kind)
        timers.schedule(session, OWNER, 0, timer.kind, next_review(timer.due_at, kind, tz))

    return handle


def ensure_reviews(session: Session, policy: Policy, tz: ZoneInfo, now: datetime) -> None:
    """One pending timer per periodic kind in the policy (idempotent; called as time moves). A
    pending review later than the next one due means the clock was set back (a drill or test
    clock): it is moved to the next review from now, so reviews follow the clock both ways."""
    have = {t.kind: t for t in timers.pending(session, OWNER, 0)}
    for kind in policy.warnings.periodic:
        due = next_review(now, kind, tz)
        timer = have.get(f"review:{kind}")
        if timer is None:
            timers.schedule(session, OWNER, 0, f"review:{kind}", due)
        elif timer.due_at > due:
            timer.due_at = due


# ---------------------------------------------------------------------- reads and acts
def _get(session: Session, warning_id: int, manager_id: int | None = None) -> CustomerWarning:
    warning = session.get(CustomerWarning, warning_id)
    if warning is not None and manager_id is not None:
        customer = session.get(Customer, warning.customer_id)
        if customer is None or customer.account_manager_id != manager_id:
            warning = None  # another manager's customer: as if absent
    if warning is None:
        raise NotFound(f"no warning {warning_id}")
    return warning


def record_visit(
    session: Session, warning_id: int, now: datetime, actor: str, note: str, manager_id: int | None = None
) -> CustomerWarning:
    warning = _get(session, warning_id, manager_id)
    if warning.visit_done_at is not None:
        raise Conflict(f"warning {warning_id}: the visit is already recorded")
    warning.visit_done_at, warning.visit_note, warning.updated_at = now, note, now
    session.add(WarningEvent(warning_id=warning.id, at=now, actor=actor, kind="visit", note=note))
    return warning


def add_measures(
    session: Session, warning_id: int, now: datetime, actor: str, text: str, manager_id: int | None = None
) -> CustomerWarning:
    warning = _get(session, warning_id, manager_id)
    warning.measures = (warning.measures + "\n" if warning.measures else "") + text
    warning.updated_at = now
    session.add(WarningEvent(warning_id=warning.id, at=now, actor=actor, kind="measures", note=text))
    return warning


def close(session: Session, warning_id: int, now: datetime, actor: str, note: str) -> CustomerWarning:
    warning = _get(session, warning_id)
    if warning.state == "closed":
        raise Conflict(f"warning {warning_id} is already closed")
    warning.state, warning.updated_at = "closed", now
    session.add(WarningEvent(warning_id=warning.id, at=now, actor=actor, kind="closed", note=note))
    return warning


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when else None


def as_dict(
    warning: CustomerWarning, customer: Customer, events: list[WarningEvent], now: datetime
) -> dict[str, Any]:
    active = warning.state == "active" and warning.valid_until > now
    return {
        "id": warning.id,
        "customer": customer.code,
        "customer_name": customer.name,
        "level": warning.level,
        "level_label": {"zh": WarningLevel(warning.level).zh, "en": WarningLevel(warning.level).en},
        "state": "active" if active else ("closed" if warning.state == "closed" else "expired"),
        "source": warning.source,
        "reason": warning.reason,
        "scope": warning.scope,
        "measures": warning.measures,
        "opened_at": _iso(warning.opened_at),
        "valid_until": _iso(warning.valid_until),
        "visit": {
            "due": _iso(warning.visit_due),
            "done_at": _iso(warning.visit_done_at),
            "note": warning.visit_note,
            "overdue": warning.visit_done_at is None and active and now > warning.visit_due,
        },
        "history": [
            {
                "at": _iso(e.at),
                "kind": e.kind,
                "actor": e.actor,
                "from": e.from_level,
                "to": e.to_level,
                "note": e.note,
            }
            for e in events
        ],
    }


def list_warnings(
    session: Session, now: datetime, active_only: bool = True, manager_id: int | None = None
) -> list[dict[str, Any]]:
    """``manager_id``: an account manager sees only their own customers' warnings."""
    query = select(CustomerWarning, Customer).join(Customer, Customer.id == CustomerWarning.customer_id)
    if manager_id is not None:
        query = query.where(Customer.account_manager_id == manager_id)
    if active_only:
        query = query.where(CustomerWarning.state == "active", CustomerWarning.valid_until > now)
    rows = session.execute(query.order_by(CustomerWarning.id)).all()
    events: dict[int, list[WarningEvent]] = defaultdict(list)
    if rows:
        for e in session.scalars(
            select(WarningEvent)
            .where(WarningEvent.warning_id.in_([w.id for w, _ in rows]))
            .order_by(WarningEvent.id)
        ):
            events[e.warning_id].append(e)
    items = [as_dict(w, c, events[w.id], now) for w, c in rows]
    # red first, then the oldest (most overdue) — the order a support lead works them
    return sorted(items, key=lambda i: (-RANK[i["level"]], i["opened_at"]))


def get_warning(
    session: Session, warning_id: int, now: datetime, manager_id: int | None = None
) -> dict[str, Any]:
    warning = _get(session, warning_id, manager_id)
    customer = session.get(Customer, warning.customer_id)
    assert customer is not None
    events = list(
        session.scalars(
            select(WarningEvent).where(WarningEvent.warning_id == warning_id).order_by(WarningEvent.id)
        )
    )
    return as_dict(warning, customer, events, now)
