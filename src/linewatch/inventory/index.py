"""The impact index: NE / port / platform → the circuits whose routes cross it.

Built from the database in one pass and rebuilt when the inventory changes, so matching an
alarm is a dictionary lookup, never a query or a scan.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from linewatch.inventory.choices import PLATFORM_TYPES, CustomerLevel, NeType
from linewatch.inventory.models import Circuit, Customer, NetworkElement, Port, Route, RouteHop


@dataclass(frozen=True, slots=True)
class CircuitInfo:
    """What matching and the dispatch rules need about a circuit, kept in memory."""

    id: int
    code: str
    customer_id: int
    customer_code: str
    key_customer: bool
    site_role: str
    service_type: str
    access: str
    assurance: str
    maintainer_id: int | None
    dual_routed: bool


@dataclass(frozen=True, slots=True)
class RouteHit:
    """A circuit crossed on one of its routes."""

    circuit_id: int
    route: str  # "primary" | "backup"


# Long interface names as devices print them → the short forms inventories use (GigabitEthernet0/1 = GE0/1).
PORT_PREFIXES = (
    ("hundredgigabitethernet", "100ge"),
    ("hundredgige", "100ge"),
    ("fortygigabitethernet", "40ge"),
    ("fortygige", "40ge"),
    ("twentyfivegige", "25ge"),
    ("25gigabitethernet", "25ge"),
    ("tengigabitethernet", "xge"),
    ("ten-gigabitethernet", "xge"),
    ("tengige", "xge"),
    ("te", "xge"),
    ("xgigabitethernet", "xge"),
    ("gigabitethernet", "ge"),
    ("gigaethernet", "ge"),
    ("gige", "ge"),
    ("gi", "ge"),
    ("fastethernet", "fe"),
    ("fa", "fe"),
    ("ethernet", "eth"),
    ("port-channel", "po"),
    ("eth-trunk", "eth-trunk"),
    ("bridge-aggregation", "bagg"),
)


def port_key(name: str) -> str:
    """A port's matching key: case, spaces and long vendor prefixes do not matter."""
    key = "".join(name.split()).lower()
    if key[:1].isalpha():
        for long, short in PORT_PREFIXES:
            if key.startswith(long) and key[len(long) : len(long) + 1].isdigit():
                return short + key[len(long) :]
    return key


class ImpactIndex:
    def __init__(self) -> None:
        self.by_ne: dict[int, list[RouteHit]] = {}
        self.by_port: dict[tuple[int, str], list[RouteHit]] = {}
        self.by_ne_portless: dict[int, list[RouteHit]] = {}
        self.by_platform: dict[int, list[int]] = {}
        self.ne_by_name: dict[str, int] = {}
        self.ne_by_folded: dict[str, int] = {}  # lower-case names and FQDN first labels
        self.ne_by_ip: dict[str, int] = {}
        self.ne_name: dict[int, str] = {}
        self.ne_parent: dict[int, int] = {}
        self.platforms: set[int] = set()
        self.circuit_code: dict[int, str] = {}
        self.circuits: dict[int, CircuitInfo] = {}

    @classmethod
    def build(cls, session: Session) -> ImpactIndex:
        index = cls()
        platform_types = {t.value for t in PLATFORM_TYPES}
        nes = select(
            NetworkElement.id,
            NetworkElement.name,
            NetworkElement.mgmt_ip,
            NetworkElement.parent_id,
            NetworkElement.type,
        )
        for ne_id, name, ip, parent_id, ne_type in session.execute(nes):
            index.ne_by_name[name] = ne_id
            index.ne_by_folded.setdefault(name.lower(), ne_id)
            index.ne_name[ne_id] = name
            if ip:
                index.ne_by_ip[ip] = ne_id
            if parent_id:
                index.ne_parent[ne_id] = parent_id
            if NeType.parse(ne_type).value in platform_types:
                index.platforms.add(ne_id)
        by_ne: dict[int, set[RouteHit]] = defaultdict(set)
        by_port: dict[tuple[int, str], set[RouteHit]] = defaultdict(set)
        portless: dict[int, set[RouteHit]] = defaultdict(set)
        dual: set[int] = set()
        rows = session.execute(
            select(Route.circuit_id, Route.role, RouteHop.ne_id, Port.name)
            .join(RouteHop, RouteHop.route_id == Route.id)
            .outerjoin(Port, Port.id == RouteHop.port_id)
        )
        interned: dict[tuple[int, str], RouteHit] = {}  # one object per (circuit, route), shared by every hop
        for circuit_id, role, ne_id, port_name in rows:
            hit = interned.get((circuit_id, role))
            if hit is None:
                hit = interned[(circuit_id, role)] = RouteHit(circuit_id, role)
            by_ne[ne_id].add(hit)
            if port_name:
                by_port[(ne_id, port_key(port_name))].add(hit)
            else:
                portless[ne_id].add(hit)
            if role == "backup":
                dual.add(circuit_id)
        # SNMP traps often name a port only by ifIndex: make "ifindex:N" another key of that port
        for ne_id, port_name, if_index in session.execute(
            select(Port.ne_id, Port.name, Port.if_index).where(Port.if_index.is_not(None))
        ):
            hits = by_port.get((ne_id, port_key(port_name)))
            if hits:
                by_port[(ne_id, f"ifindex:{if_index}")] = hits
        index.by_ne = {k: sorted(v, key=_order) for k, v in by_ne.items()}
        index.by_port = {k: sorted(v, key=_order) for k, v in by_port.items()}
        index.by_ne_portless = {k: sorted(v, key=_order) for k, v in portless.items()}
        platforms: dict[int, list[int]] = defaultdict(list)
        normal = CustomerLevel.NORMAL.value
        circuits = select(
            Circuit.id,
            Circuit.code,
            Circuit.platform_id,
            Circuit.customer_id,
            Customer.code,
            Customer.level,
            Circuit.site_role,
            Circuit.service_type,
            Circuit.access,
            Circuit.assurance,
            Circuit.maintainer_id,
        ).join(Customer, Customer.id == Circuit.customer_id)
        for (
            cid,
            code,
            platform_id,
            customer_id,
            customer_code,
            level,
            role,
            service,
            access,
            assurance,
            team,
        ) in session.execute(circuits):
            index.circuit_code[cid] = code
            index.circuits[cid] = CircuitInfo(
                cid,
                code,
                customer_id,
                customer_code,
                level != normal,
                role,
                service,
                access,
                assurance,
                team,
                cid in dual,
            )
            if platform_id:
                platforms[platform_id].append(cid)
        index.by_platform = dict(platforms)
        return index

    def resolve_ne(self, name: str | None = None, ip: str | None = None) -> int | None:
        """By exact name, then by address, then case-insensitively (an FQDN by its first label)."""
        if name and name in self.ne_by_name:
            return self.ne_by_name[name]
        if ip and ip in self.ne_by_ip:
            return self.ne_by_ip[ip]
        if name:
            folded = name.lower()
            return self.ne_by_folded.get(folded) or self.ne_by_folded.get(folded.split(".", 1)[0])
        return None

    def hits(self, ne_id: int, port: str | None = None) -> list[RouteHit]:
        """Circuits crossing an NE (any port) or one port of it.

        A route hop that names no port could use any port of its NE, so it is hit by every port
        alarm there: inventory that does not say is not taken as proof of no impact.
        """
        if port:
            exact = self.by_port.get((ne_id, port_key(port)), [])
            loose = self.by_ne_portless.get(ne_id, [])
            return exact + loose if loose else exact
        return self.by_ne.get(ne_id, [])

    def platform_dependants(self, ne_id: int) -> list[int]:
        return self.by_platform.get(ne_id, [])


def _order(hit: RouteHit) -> tuple[int, str]:
    return (hit.circuit_id, hit.route)
