"""The impact index: NE / port / platform → the circuits whose routes cross it.

Built from the database in one pass and rebuilt when the inventory changes, so matching an
alarm is a dictionary lookup, never a query or a scan.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from linewatch.inventory.models import Circuit, NetworkElement, Port, Route, RouteHop


@dataclass(frozen=True, slots=True)
class RouteHit:
    """A circuit crossed on one of its routes."""

    circuit_id: int
    route: str  # "primary" | "backup"


def port_key(name: str) -> str:
    return name.strip().lower()


class ImpactIndex:
    def __init__(self) -> None:
        self.by_ne: dict[int, list[RouteHit]] = {}
        self.by_port: dict[tuple[int, str], list[RouteHit]] = {}
        self.by_platform: dict[int, list[int]] = {}
        self.ne_by_name: dict[str, int] = {}
        self.ne_by_ip: dict[str, int] = {}
        self.circuit_code: dict[int, str] = {}

    @classmethod
    def build(cls, session: Session) -> ImpactIndex:
        index = cls()
        for ne_id, name, ip in session.execute(
            select(NetworkElement.id, NetworkElement.name, NetworkElement.mgmt_ip)
        ):
            index.ne_by_name[name] = ne_id
            if ip:
                index.ne_by_ip[ip] = ne_id
        by_ne: dict[int, set[RouteHit]] = defaultdict(set)
        by_port: dict[tuple[int, str], set[RouteHit]] = defaultdict(set)
        rows = session.execute(
            select(Route.circuit_id, Route.role, RouteHop.ne_id, Port.name)
            .join(RouteHop, RouteHop.route_id == Route.id)
            .outerjoin(Port, Port.id == RouteHop.port_id)
        )
        for circuit_id, role, ne_id, port_name in rows:
            hit = RouteHit(circuit_id, role)
            by_ne[ne_id].add(hit)
            if port_name:
                by_port[(ne_id, port_key(port_name))].add(hit)
        index.by_ne = {k: sorted(v, key=_order) for k, v in by_ne.items()}
        index.by_port = {k: sorted(v, key=_order) for k, v in by_port.items()}
        platforms: dict[int, list[int]] = defaultdict(list)
        for circuit_id, code, platform_id in session.execute(
            select(Circuit.id, Circuit.code, Circuit.platform_id)
        ):
            index.circuit_code[circuit_id] = code
            if platform_id:
                platforms[platform_id].append(circuit_id)
        index.by_platform = dict(platforms)
        return index

    def resolve_ne(self, name: str | None = None, ip: str | None = None) -> int | None:
        if name and name in self.ne_by_name:
            return self.ne_by_name[name]
        if ip:
            return self.ne_by_ip.get(ip)
        return None

    def hits(self, ne_id: int, port: str | None = None) -> list[RouteHit]:
        """Circuits crossing an NE (any port) or one port of it."""
        if port:
            return self.by_port.get((ne_id, port_key(port)), [])
        return self.by_ne.get(ne_id, [])

    def platform_dependants(self, ne_id: int) -> list[int]:
        return self.by_platform.get(ne_id, [])


def _order(hit: RouteHit) -> tuple[int, str]:
    return (hit.circuit_id, hit.route)
