"""Inventory services: import, and scoped reads of customers, circuits and NEs.

Scoping (DOMAIN 1 / INTERFACES "Access"): a contractor sees the circuits its team maintains and
their customers, and the NEs of the regions its team covers; an account manager sees its own
customers and their circuits, and no NEs. Everyone else with a user role sees everything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from linewatch.core.actor import Actor
from linewatch.core.clock import Clock
from linewatch.core.errors import Forbidden, NotFound
from linewatch.core.ids import parse_cursor
from linewatch.inventory.choices import Role
from linewatch.inventory.importer import Importer, ImportReport
from linewatch.inventory.index import ImpactIndex
from linewatch.inventory.models import (
    Circuit,
    Customer,
    NetworkElement,
    Port,
    Region,
    Route,
    RouteHop,
    Staff,
    Team,
    team_region,
)
from linewatch.inventory.sources import ReadResult


def import_inventory(
    session: Session, clock: Clock, read: ReadResult, actor: Actor, dry_run: bool
) -> ImportReport:
    """Validate all, then (unless dry-run or any error) write; the caller's unit of work commits."""
    report = ImportReport(dry_run=dry_run, errors=list(read.errors), warnings=list(read.warnings))
    importer = Importer(session, clock)
    importer.validate(read)
    report.errors += importer.errors
    report.warnings += importer.warnings
    report.counts = {name: {"rows": len(rows.by_key)} for name, rows in importer.valid.items()}
    if report.ok and not dry_run:
        report.counts = importer.write(actor.label, ", ".join(t.file for t in read.tables.values()))
    return report


# ---------------------------------------------------------------- scoping


def _customer_scope(query: Select[Any], actor: Actor) -> Select[Any]:
    if actor.role == Role.ACCOUNT_MANAGER:
        return query.where(Customer.account_manager_id == (actor.staff_id or -1))
    if actor.role == Role.CONTRACTOR:
        maintained = exists().where(
            Circuit.customer_id == Customer.id, Circuit.maintainer_id == (actor.team_id or -1)
        )
        return query.where(maintained)
    return query


def _circuit_scope(query: Select[Any], actor: Actor) -> Select[Any]:
    if actor.role == Role.ACCOUNT_MANAGER:
        owner = aliased(Customer)
        return query.where(
            exists().where(
                owner.id == Circuit.customer_id, owner.account_manager_id == (actor.staff_id or -1)
            )
        )
    if actor.role == Role.CONTRACTOR:
        return query.where(Circuit.maintainer_id == (actor.team_id or -1))
    return query


def _ne_scope(query: Select[Any], actor: Actor) -> Select[Any]:
    if actor.role == Role.ACCOUNT_MANAGER:
        raise Forbidden("account managers do not read network elements")
    if actor.role == Role.CONTRACTOR:
        covered = select(team_region.c.region_id).where(team_region.c.team_id == (actor.team_id or -1))
        return query.where(NetworkElement.region_id.in_(covered))
    return query


# ---------------------------------------------------------------- pagination


@dataclass
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"items": self.items, "next_cursor": self.next_cursor}


def _page(
    session: Session, query: Select[Any], id_column: Any, limit: int, cursor: str | None
) -> tuple[list[Any], str | None]:
    if cursor:
        query = query.where(id_column > parse_cursor(cursor))
    rows = list(session.execute(query.order_by(id_column).limit(limit + 1)).all())
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (str(rows[-1][0].id) if more else None)


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


# ---------------------------------------------------------------- customers


def _customer_dict(c: Customer, region: str | None, manager: str | None) -> dict[str, Any]:
    return {
        "code": c.code,
        "name": c.name,
        "level": c.level,
        "key_customer": c.level != "normal",
        "grade": c.grade,
        "industry": c.industry,
        "region": region,
        "account_manager": manager,
        "hq_address": c.hq_address,
        "contact_name": c.contact_name,
        "contact_phone": c.contact_phone,
    }


def _customer_query() -> Select[Any]:
    return (
        select(Customer, Region.code, Staff.code)
        .outerjoin(Region, Region.id == Customer.region_id)
        .outerjoin(Staff, Staff.id == Customer.account_manager_id)
    )


def list_customers(
    session: Session,
    actor: Actor,
    *,
    limit: int,
    cursor: str | None,
    region: str | None = None,
    level: str | None = None,
    q: str | None = None,
) -> Page:
    query = _customer_scope(_customer_query(), actor)
    if region:
        query = query.where(Region.code == region)
    if level:
        query = query.where(Customer.level == level)
    if q:
        query = query.where(
            or_(Customer.code.ilike(_like(q), escape="\\"), Customer.name.ilike(_like(q), escape="\\"))
        )
    rows, next_cursor = _page(session, query, Customer.id, limit, cursor)
    return Page([_customer_dict(*row) for row in rows], next_cursor)


def get_customer(session: Session, actor: Actor, code: str) -> dict[str, Any]:
    row = session.execute(_customer_scope(_customer_query(), actor).where(Customer.code == code)).first()
    if row is None:
        raise NotFound(f"no customer {code!r}")
    result = _customer_dict(*row)
    circuits = session.scalars(
        _circuit_scope(select(Circuit.code), actor)
        .where(Circuit.customer_id == row[0].id)
        .order_by(Circuit.code)
    )
    result["circuits"] = list(circuits)
    return result


# ---------------------------------------------------------------- circuits


def _circuit_query() -> Select[Any]:
    platform = aliased(NetworkElement)
    return (
        select(Circuit, Customer.code, Customer.name, Customer.level, Team.code, platform.name)
        .join(Customer, Customer.id == Circuit.customer_id)
        .outerjoin(Team, Team.id == Circuit.maintainer_id)
        .outerjoin(platform, platform.id == Circuit.platform_id)
    )


def _circuit_dict(
    c: Circuit, customer: str, customer_name: str, level: str, team: str | None, platform: str | None
) -> dict[str, Any]:
    return {
        "code": c.code,
        "customer": customer,
        "customer_name": customer_name,
        "key_customer": level != "normal",
        "service_type": c.service_type,
        "bandwidth_mbps": c.bandwidth_mbps,
        "access": c.access,
        "site_role": c.site_role,
        "a_end": c.a_end,
        "z_end": c.z_end,
        "assurance": c.assurance,
        "maintainer": team,
        "handed_over": c.handed_over,
        "in_service": c.in_service,
        "platform": platform,
    }


def list_circuits(
    session: Session,
    actor: Actor,
    *,
    limit: int,
    cursor: str | None,
    customer: str | None = None,
    ne: str | None = None,
    q: str | None = None,
) -> Page:
    query = _circuit_scope(_circuit_query(), actor)
    if customer:
        query = query.where(Customer.code == customer)
    if ne:
        through = (
            select(Route.circuit_id)
            .join(RouteHop, RouteHop.route_id == Route.id)
            .join(NetworkElement, NetworkElement.id == RouteHop.ne_id)
            .where(NetworkElement.name == ne)
        )
        query = query.where(Circuit.id.in_(through))
    if q:
        query = query.where(Circuit.code.ilike(_like(q), escape="\\"))
    rows, next_cursor = _page(session, query, Circuit.id, limit, cursor)
    return Page([_circuit_dict(*row) for row in rows], next_cursor)


def get_circuit(session: Session, actor: Actor, code: str) -> dict[str, Any]:
    row = session.execute(_circuit_scope(_circuit_query(), actor).where(Circuit.code == code)).first()
    if row is None:
        raise NotFound(f"no circuit {code!r}")
    circuit = row[0]
    result = _circuit_dict(*row)
    hops = session.execute(
        select(
            Route.role, RouteHop.seq, NetworkElement.name, NetworkElement.type, NetworkElement.site, Port.name
        )
        .join(RouteHop, RouteHop.route_id == Route.id)
        .join(NetworkElement, NetworkElement.id == RouteHop.ne_id)
        .outerjoin(Port, Port.id == RouteHop.port_id)
        .where(Route.circuit_id == circuit.id)
        .order_by(Route.role.desc(), RouteHop.seq)
    )
    routes: dict[str, list[dict[str, Any]]] = {}
    for role, seq, ne, ne_type, site, port in hops:
        routes.setdefault(role, []).append(
            {"seq": seq, "ne": ne, "ne_type": ne_type, "site": site, "port": port}
        )
    result["routes"] = routes
    result["dual_routed"] = "primary" in routes and "backup" in routes
    result["drawing"] = {
        role: draw_route(circuit.a_end, hops_, circuit.z_end) for role, hops_ in routes.items()
    }
    return result


def draw_route(a_end: str, hops: list[dict[str, Any]], z_end: str) -> str:
    """One-line drawing: ``A端 ⟶ NE[port] ⟶ … ⟶ Z端``."""
    parts = [f"A:{a_end}" if a_end else "A"]
    parts += [f"{h['ne']}[{h['port']}]" if h["port"] else h["ne"] for h in hops]
    parts.append(f"Z:{z_end}" if z_end else "Z")
    return " → ".join(parts)


# ---------------------------------------------------------------- network elements


def _ne_query() -> Select[Any]:
    parent = aliased(NetworkElement)
    return (
        select(NetworkElement, Region.code, parent.name)
        .outerjoin(Region, Region.id == NetworkElement.region_id)
        .outerjoin(parent, parent.id == NetworkElement.parent_id)
    )


def _ne_dict(ne: NetworkElement, region: str | None, parent: str | None) -> dict[str, Any]:
    return {
        "name": ne.name,
        "type": ne.type,
        "vendor": ne.vendor,
        "ems": ne.ems,
        "site": ne.site,
        "region": region,
        "mgmt_ip": ne.mgmt_ip,
        "parent": parent,
        "parent_port": ne.parent_port or None,
    }


def list_network_elements(
    session: Session,
    actor: Actor,
    *,
    limit: int,
    cursor: str | None,
    type: str | None = None,
    region: str | None = None,
    q: str | None = None,
) -> Page:
    query = _ne_scope(_ne_query(), actor)
    if type:
        query = query.where(func.upper(NetworkElement.type) == type.upper())
    if region:
        query = query.where(Region.code == region)
    if q:
        query = query.where(
            or_(NetworkElement.name.ilike(_like(q), escape="\\"), NetworkElement.mgmt_ip == q)
        )
    rows, next_cursor = _page(session, query, NetworkElement.id, limit, cursor)
    return Page([_ne_dict(*row) for row in rows], next_cursor)


def get_network_element(session: Session, actor: Actor, name: str, index: ImpactIndex) -> dict[str, Any]:
    row = session.execute(_ne_scope(_ne_query(), actor).where(NetworkElement.name == name)).first()
    if row is None:
        raise NotFound(f"no network element {name!r}")
    ne = row[0]
    result = _ne_dict(*row)
    result["ports"] = [
        {"name": p.name, "if_index": p.if_index}
        for p in session.scalars(select(Port).where(Port.ne_id == ne.id).order_by(Port.name))
    ]
    result["children"] = list(
        session.scalars(
            select(NetworkElement.name).where(NetworkElement.parent_id == ne.id).order_by(NetworkElement.name)
        )
    )
    result["circuit_count"] = len({h.circuit_id for h in index.hits(ne.id)})
    result["platform_dependants"] = len(index.platform_dependants(ne.id))
    return result


def circuits_through(
    session: Session, actor: Actor, name: str, port: str | None, index: ImpactIndex
) -> list[dict[str, Any]]:
    """Impact lookup by the index: which circuits (and on which route) cross this NE or port."""
    get_network_element(session, actor, name, index)  # existence and scope check
    ne_id = index.resolve_ne(name=name)
    if ne_id is None:
        return []
    hits = index.hits(ne_id, port)
    visible = (
        {
            c
            for (c,) in session.execute(
                _circuit_scope(select(Circuit.id), actor).where(Circuit.id.in_({h.circuit_id for h in hits}))
            )
        }
        if actor.role in (Role.CONTRACTOR, Role.ACCOUNT_MANAGER)
        else None
    )
    return [
        {"circuit": index.circuit_code[h.circuit_id], "route": h.route}
        for h in hits
        if visible is None or h.circuit_id in visible
    ]


def summary(session: Session, actor: Actor) -> dict[str, int]:
    """Counts for the home page, within the actor's scope."""
    counts = {
        "customers": session.scalar(_customer_scope(select(func.count(Customer.id)), actor)) or 0,
        "key_customers": session.scalar(
            _customer_scope(select(func.count(Customer.id)), actor).where(Customer.level != "normal")
        )
        or 0,
        "circuits": session.scalar(_circuit_scope(select(func.count(Circuit.id)), actor)) or 0,
    }
    if actor.role != Role.ACCOUNT_MANAGER:
        counts["network_elements"] = (
            session.scalar(_ne_scope(select(func.count(NetworkElement.id)), actor)) or 0
        )
    return counts
