"""Cutover services: register, cancel, read, the customer notice, planned-window upkeep and the
ticket verdict (DOMAIN 6). The assurance refusal is asked of :mod:`linewatch.assurance.service`."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, select
from sqlalchemy.orm import Session

from linewatch.assurance import service as assurance
from linewatch.core.actor import Actor
from linewatch.core.errors import Conflict, NotFound, ValidationFailed
from linewatch.cutovers import rules
from linewatch.cutovers.choices import Cause, CircuitEffect, CutoverState, ImpactType
from linewatch.cutovers.models import Cutover, CutoverCircuit
from linewatch.cutovers.windows import ActiveWindow, PlannedWindows
from linewatch.db import audit
from linewatch.incidents.models import IncidentRecord
from linewatch.inventory.index import ImpactIndex, port_key
from linewatch.inventory.models import Customer
from linewatch.tickets.models import Ticket, TicketCircuit


@dataclass(frozen=True)
class Declared:
    """A cutover as posted (INTERFACES ``POST /api/v1/cutovers``), times already parsed."""

    task_no: str
    cause: str
    window_start: datetime
    window_end: datetime
    impact: str
    expected_minutes: int
    region: str
    initiator: str
    published_at: datetime | None
    nes: list[str]
    ports: list[tuple[str, str]]
    circuits: list[str]
    description: str = ""


# ---------------------------------------------------------------------- resources
def resolve(
    index: ImpactIndex, nes: list[str], ports: list[tuple[str, str]], circuits: list[str]
) -> rules.Resources:
    """Names → ids; an unknown name is refused (a notice computed from a typo would be silently wrong)."""
    errors: list[str] = []

    def ne(name: str) -> int:
        found = index.resolve_ne(name)
        if found is None:
            errors.append(f"unknown NE {name!r}")
            return -1
        return found

    by_code = {code: cid for cid, code in index.circuit_code.items()}
    ne_ids = frozenset(ne(n) for n in nes)
    port_ids = frozenset((ne(n), port_key(p)) for n, p in ports)
    circuit_ids = set()
    for code in circuits:
        if code not in by_code:
            errors.append(f"unknown circuit {code!r}")
        else:
            circuit_ids.add(by_code[code])
    if errors:
        raise ValidationFailed("; ".join(errors), detail=errors)
    if not (ne_ids or port_ids or circuit_ids):
        raise ValidationFailed("a cutover must declare at least one NE, port or circuit")
    return rules.Resources(ne_ids, port_ids, frozenset(circuit_ids))


def resources_of(cutover: Cutover, index: ImpactIndex) -> rules.Resources:
    """The stored declaration, re-resolved (tolerant: names that left the inventory are dropped)."""
    declared = cutover.resources
    by_code = {code: cid for cid, code in index.circuit_code.items()}
    nes = {index.resolve_ne(n) for n in declared.get("nes", [])}
    ports = {(index.resolve_ne(p["ne"]), port_key(p["port"])) for p in declared.get("ports", [])}
    return rules.Resources(
        frozenset(n for n in nes if n is not None),
        frozenset((n, p) for n, p in ports if n is not None),
        frozenset(by_code[c] for c in declared.get("circuits", []) if c in by_code),
    )


def _window(cutover: Cutover, index: ImpactIndex) -> rules.Window:
    routes = rules.routes_hit(resources_of(cutover, index), index)
    return rules.Window(
        cutover.id,
        cutover.task_no,
        cutover.window_start,
        cutover.window_end,
        {c: frozenset(r) for c, r in routes.items()},
    )


# ---------------------------------------------------------------------- register / edit / cancel
def register(
    session: Session, clock: Any, policy: Any, index: ImpactIndex, actor: Actor, declared: Declared
) -> Cutover:
    if session.scalar(select(Cutover.id).where(Cutover.task_no == declared.task_no)) is not None:
        raise Conflict(f"cutover {declared.task_no!r} is already registered")
    cutover = Cutover(state=CutoverState.SCHEDULED.value, created_at=clock.now(), created_by=actor.label)
    _apply(session, clock, policy, index, actor, cutover, declared)
    audit.record(session, clock, actor.label, "cutover.register", "cutover", cutover.task_no)
    return cutover


def edit(
    session: Session,
    clock: Any,
    policy: Any,
    index: ImpactIndex,
    actor: Actor,
    cutover_id: int,
    declared: Declared,
) -> Cutover:
    """Replace a scheduled cutover's declaration: circuits, notice, short notice, the assurance
    check and the window-end timer are all recomputed as for a new one."""
    cutover = _get(session, cutover_id)
    if cutover.state != CutoverState.SCHEDULED.value:
        raise Conflict(f"cutover {cutover.task_no!r} is {cutover.state}")
    taken = session.scalar(
        select(Cutover.id).where(Cutover.task_no == declared.task_no, Cutover.id != cutover.id)
    )
    if taken is not None:
        raise Conflict(f"cutover {declared.task_no!r} is already registered")
    before = {
        "window_start": cutover.window_start.isoformat(),
        "window_end": cutover.window_end.isoformat(),
        "impact": cutover.impact,
        "resources": cutover.resources,
    }
    _apply(session, clock, policy, index, actor, cutover, declared)
    audit.record(session, clock, actor.label, "cutover.edit", "cutover", cutover.task_no, before=before)
    return cutover


def _apply(
    session: Session,
    clock: Any,
    policy: Any,
    index: ImpactIndex,
    actor: Actor,
    cutover: Cutover,
    declared: Declared,
) -> None:
    try:
        cause = Cause.parse(declared.cause)
        impact = ImpactType.parse(declared.impact)
    except ValueError as exc:
        raise ValidationFailed(str(exc)) from exc
    if declared.window_end <= declared.window_start:
        raise ValidationFailed("window_end must be after window_start")
    resources = resolve(index, declared.nes, declared.ports, declared.circuits)
    affected = rules.effects(resources, index)
    routes = rules.routes_hit(resources, index)
    blocking = assurance.blocking_period(
        session,
        index,
        set(affected),
        declared.region,
        declared.window_start,
        declared.window_end,
        policy.cutovers.refuse_assurance_level_at_most,
    )
    if blocking is not None:
        raise Conflict(
            f"refused: touches the scope of assurance period {blocking.name!r} (level {blocking.level})",
            detail={"assurance": {"id": blocking.id, "name": blocking.name, "level": blocking.level}},
        )
    cutover.task_no = declared.task_no
    cutover.cause = cause.value
    cutover.window_start = declared.window_start
    cutover.window_end = declared.window_end
    cutover.impact = impact.value
    cutover.expected_minutes = declared.expected_minutes if impact is not ImpactType.NONE else 0
    cutover.region = declared.region
    cutover.initiator = declared.initiator or actor.label
    cutover.published_at = declared.published_at
    cutover.short_notice = rules.short_notice(
        declared.published_at, declared.window_start, policy.cutovers.notice_working_days, clock.tz
    )
    cutover.resources = {
        "nes": declared.nes,
        "ports": [{"ne": n, "port": p} for n, p in declared.ports],
        "circuits": declared.circuits,
    }
    cutover.description = declared.description
    if cutover.id is None:
        session.add(cutover)
        session.flush()
    else:
        session.execute(delete(CutoverCircuit).where(CutoverCircuit.cutover_id == cutover.id))
    for circuit_id, effect in sorted(affected.items()):
        session.add(
            CutoverCircuit(
                cutover_id=cutover.id,
                circuit_id=circuit_id,
                customer_id=index.circuits[circuit_id].customer_id,
                effect=effect.value,
                routes=",".join(sorted(routes[circuit_id])),
            )
        )


def cancel(session: Session, clock: Any, actor: Actor, cutover_id: int) -> Cutover:
    cutover = _get(session, cutover_id)
    cutover.state = CutoverState.CANCELLED.value
    # its planned incidents become faults at the next tick (the windows are refreshed by the caller)
    audit.record(session, clock, actor.label, "cutover.cancel", "cutover", cutover.task_no)
    return cutover


def _get(session: Session, cutover_id: int) -> Cutover:
    cutover = session.get(Cutover, cutover_id)
    if cutover is None:
        raise NotFound(f"no cutover {cutover_id}")
    return cutover


# ---------------------------------------------------------------------- reads
def notice_rows(
    session: Session, cutover: Cutover, index: ImpactIndex, lang: str = "zh"
) -> list[dict[str, Any]]:
    """The standard customer notice: task no., customer, circuit code, window, impact and duration,
    region, cause — one row per affected circuit. A degraded circuit's impact reads as such."""
    names = dict(session.execute(select(Customer.id, Customer.name)).all())
    impact = ImpactType(cutover.impact)
    rows = []
    for link in session.scalars(
        select(CutoverCircuit)
        .where(CutoverCircuit.cutover_id == cutover.id)
        .order_by(CutoverCircuit.circuit_id)
    ):
        info = index.circuits.get(link.circuit_id)
        effect = CircuitEffect(link.effect)
        shown = impact if effect is CircuitEffect.DOWN else ImpactType.NONE
        minutes = cutover.expected_minutes if shown is not ImpactType.NONE else 0
        rows.append(
            {
                "task_no": cutover.task_no,
                "customer": info.customer_code if info else "",
                "customer_name": names.get(link.customer_id, ""),
                "circuit": info.code if info else str(link.circuit_id),
                "window_start": cutover.window_start.isoformat(),
                "window_end": cutover.window_end.isoformat(),
                "impact": shown.value,
                "impact_label": shown.label(lang)
                + ("" if effect is CircuitEffect.DOWN else f" ({effect.label(lang)})"),
                "expected_minutes": minutes,
                "region": cutover.region,
                "cause": cutover.cause,
                "cause_label": Cause(cutover.cause).label(lang),
            }
        )
    return rows


NOTICE_COLUMNS = {
    "zh": [
        "割接任务编号",
        "集团客户",
        "客户名称",
        "电路代号",
        "割接开始",
        "割接结束",
        "影响",
        "影响时长(分钟)",
        "区域",
        "割接原因",
    ],
    "en": [
        "task no.",
        "customer",
        "customer name",
        "circuit",
        "window start",
        "window end",
        "impact",
        "expected minutes",
        "region",
        "cause",
    ],
}


def notice_csv(rows: list[dict[str, Any]], lang: str = "zh") -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(NOTICE_COLUMNS["zh" if lang.startswith("zh") else "en"])
    for r in rows:
        cells = [
            r["task_no"],
            r["customer"],
            r["customer_name"],
            r["circuit"],
            r["window_start"],
            r["window_end"],
            r["impact_label"],
            r["expected_minutes"],
            r["region"],
            r["cause_label"],
        ]
        writer.writerow([_neutralise(str(c)) for c in cells])
    return out.getvalue()


def _neutralise(cell: str) -> str:
    """Spreadsheet formula injection: a cell starting with = + - @ (or tab, CR) is shown as text."""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


def conflicts_of(session: Session, cutover: Cutover, index: ImpactIndex) -> list[dict[str, Any]]:
    others = session.scalars(
        select(Cutover).where(
            Cutover.state == CutoverState.SCHEDULED.value,
            Cutover.id != cutover.id,
            Cutover.window_start < cutover.window_end,
            Cutover.window_end > cutover.window_start,
        )
    )
    found = rules.conflicts(_window(cutover, index), [_window(o, index) for o in others])
    return [{"task_no": t, "circuit": index.circuit_code.get(c, str(c))} for t, c in found]


def as_dict(session: Session, cutover: Cutover, index: ImpactIndex, lang: str = "zh") -> dict[str, Any]:
    rows = notice_rows(session, cutover, index, lang)
    return {
        "id": cutover.id,
        "task_no": cutover.task_no,
        "cause": cutover.cause,
        "cause_label": Cause(cutover.cause).label(lang),
        "window_start": cutover.window_start.isoformat(),
        "window_end": cutover.window_end.isoformat(),
        "impact": cutover.impact,
        "expected_minutes": cutover.expected_minutes,
        "region": cutover.region,
        "initiator": cutover.initiator,
        "published_at": cutover.published_at.isoformat() if cutover.published_at else None,
        "short_notice": cutover.short_notice,
        "state": cutover.state,
        "resources": cutover.resources,
        "affected_circuits": _effects(session, cutover, index),
        "affected_customers": sorted({r["customer"] for r in rows}),
        "notice": rows,
        "conflicts": conflicts_of(session, cutover, index),
    }


def _effects(session: Session, cutover: Cutover, index: ImpactIndex) -> list[dict[str, Any]]:
    return [
        {
            "circuit": index.circuit_code.get(link.circuit_id, str(link.circuit_id)),
            "effect": link.effect,
            "routes": link.routes.split(","),
        }
        for link in session.scalars(
            select(CutoverCircuit)
            .where(CutoverCircuit.cutover_id == cutover.id)
            .order_by(CutoverCircuit.circuit_id)
        )
    ]


def listing(session: Session, since: datetime | None = None) -> list[Cutover]:
    query = select(Cutover).order_by(Cutover.window_start, Cutover.id)
    if since is not None:
        query = query.where(Cutover.window_end >= since)
    return list(session.scalars(query))


def get(session: Session, cutover_id: int) -> Cutover:
    return _get(session, cutover_id)


# ---------------------------------------------------------------------- planned windows
def refresh_windows(session: Session, windows: PlannedWindows, index: ImpactIndex) -> None:
    """Rebuild the alarm book's lookup from every scheduled cutover (cheap: a few hundred rows)."""
    rows = session.scalars(select(Cutover).where(Cutover.state == CutoverState.SCHEDULED.value))
    windows.replace([ActiveWindow(c.id, c.window_start, c.window_end, resources_of(c, index)) for c in rows])


# ---------------------------------------------------------------------- the six answering rules
def ticket_verdict(session: Session, policy: Any, now: datetime, ticket_id: int) -> dict[str, str]:
    """Was this customer's outage our fault? The cutover is one that hit the ticket's circuits with
    its window around the fault's start; a degraded circuit (backup route left) was not announced
    as interrupted, so an outage there is a fault (rule: non-interrupting)."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(f"no ticket {ticket_id}")
    incident = session.get(IncidentRecord, ticket.incident_id) if ticket.incident_id else None
    started = incident.opened_at if incident else (ticket.reported_at or ticket.created_at)
    recovered = ticket.recovered_at or (incident.recovered_at if incident else None)
    circuit_ids = list(
        session.scalars(select(TicketCircuit.circuit_id).where(TicketCircuit.ticket_id == ticket.id))
    )
    grace = timedelta(minutes=policy.cutovers.window_grace_minutes)
    found = session.execute(
        select(Cutover, CutoverCircuit.effect)
        .join(CutoverCircuit, CutoverCircuit.cutover_id == Cutover.id)
        .where(
            Cutover.state == CutoverState.SCHEDULED.value,
            CutoverCircuit.circuit_id.in_(circuit_ids or [-1]),
            Cutover.window_start <= started,
            Cutover.window_end >= started - grace,
        )
        # a circuit the notice announced as interrupted answers for the ticket before a degraded one
        .order_by(case((CutoverCircuit.effect == CircuitEffect.DOWN.value, 0), else_=1), Cutover.window_start)
    ).first()
    facts = None
    if found is not None:
        cutover, effect = found
        announced = ImpactType(cutover.impact) if effect == CircuitEffect.DOWN.value else ImpactType.NONE
        facts = rules.CutoverFacts(
            announced, cutover.window_start, cutover.window_end, cutover.published_at, cutover.short_notice
        )
    verdict, rule = rules.verdict(facts, recovered, now, grace)
    out = {"verdict": verdict.value, "rule": rule.value, "rule_label": rule.zh, "rule_label_en": rule.en}
    if found is not None:
        out["cutover"] = found[0].task_no
    return out
