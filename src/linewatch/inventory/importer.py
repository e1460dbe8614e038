"""Inventory import: validate everything first, then write in one transaction, upserting by key.

Any error → nothing is written and every error is reported with file, row and column.
References resolve against the rows being imported and against what the database holds, so a
partial import (only ``circuits.csv``, say) works on top of an existing inventory.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from linewatch.core.choices import Choice
from linewatch.core.clock import Clock, parse_time
from linewatch.db.audit import record
from linewatch.inventory.choices import (
    PLATFORM_TYPES,
    AccessTech,
    AssuranceLevel,
    CustomerLevel,
    NeType,
    Role,
    RouteRole,
    ServiceGrade,
    ServiceType,
    SiteRole,
    TeamKind,
)
from linewatch.inventory.models import (
    Circuit,
    Customer,
    NetworkElement,
    Port,
    Region,
    RosterShift,
    Route,
    RouteHop,
    Staff,
    Team,
    team_region,
)
from linewatch.inventory.sources import Issue, RawTable, ReadResult
from linewatch.inventory.tables import TABLES

AUDIT_KEYS_KEPT = 1000  # keys listed per table in the audit record; counts are always complete
CHUNK = 5000

YES = {"yes", "y", "true", "1", "是", "已交维"}
NO = {"no", "n", "false", "0", "否", "未交维"}


@dataclass
class ImportReport:
    dry_run: bool
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "dry_run": self.dry_run,
            "counts": self.counts,
            "errors": [e.as_dict() for e in self.errors],
            "warnings": [w.as_dict() for w in self.warnings],
        }


class _Rows:
    """Validated rows of one table, keyed by the table's key, with the columns the file had."""

    def __init__(self, table: RawTable) -> None:
        self.columns = set(table.columns)
        self.by_key: dict[Any, dict[str, Any]] = {}


class Importer:
    def __init__(self, session: Session, clock: Clock) -> None:
        self.session = session
        self.clock = clock
        self.errors: list[Issue] = []
        self.warnings: list[Issue] = []
        self.valid: dict[str, _Rows] = {}

    # ---------------------------------------------------------------- validation helpers
    def _error(self, table: RawTable, row: int, column: str | None, message: str) -> None:
        self.errors.append(Issue(table.file, row, column, message))

    def _enum(
        self, table: RawTable, row: int, values: dict[str, str], column: str, kind: type[Choice]
    ) -> Any:
        text = values.get(column, "")
        if not text:
            return None
        try:
            return kind.parse(text).value
        except ValueError as exc:
            self._error(table, row, column, str(exc))
            return None

    def _required(self, table: RawTable, row: int, values: dict[str, str], columns: Iterable[str]) -> bool:
        ok = True
        for col in columns:
            if not values.get(col):
                self._error(table, row, col, "value is required")
                ok = False
        return ok

    def _int(
        self, table: RawTable, row: int, values: dict[str, str], column: str, minimum: int = 0
    ) -> int | None:
        text = values.get(column, "")
        if not text:
            return None
        try:
            number = int(text)
        except ValueError:
            self._error(table, row, column, f"{text!r} is not a whole number")
            return None
        if number < minimum:
            self._error(table, row, column, f"{number} is below {minimum}")
            return None
        return number

    def _flag(self, table: RawTable, row: int, values: dict[str, str], column: str) -> bool | None:
        text = values.get(column, "").lower()
        if not text:
            return None
        if text in YES:
            return True
        if text in NO:
            return False
        self._error(table, row, column, f"{values[column]!r} is not yes/no")
        return None

    def _time(self, table: RawTable, row: int, values: dict[str, str], column: str) -> datetime | None:
        try:
            return parse_time(values[column], self.clock.tz)
        except ValueError:
            self._error(table, row, column, f"{values[column]!r} is not an RFC 3339 time")
            return None

    def _keys(self, column: Any) -> set[str]:
        return set(self.session.scalars(select(column)))

    def _collect(
        self,
        table: RawTable,
        key_of: Callable[[dict[str, str]], Any],
        clean: Callable[[int, dict[str, str]], dict[str, Any] | None],
    ) -> _Rows:
        rows = _Rows(table)
        first_row: dict[Any, int] = {}
        for row, values in table.rows:
            cleaned = clean(row, values)
            if cleaned is None:
                continue
            key = key_of(values)
            if key in first_row:
                self._error(
                    table, row, table.columns[0], f"duplicate key {key!r} (first on row {first_row[key]})"
                )
                continue
            first_row[key] = row
            cleaned["_row"] = row
            rows.by_key[key] = cleaned
        return rows

    # ---------------------------------------------------------------- per-table validation
    def validate(self, read: ReadResult) -> None:
        t = read.tables
        known_regions = self._keys(Region.code) | {v["code"] for _, v in _rows(t, "regions")}
        known_teams = self._keys(Team.code) | {v["code"] for _, v in _rows(t, "teams")}
        known_staff = self._keys(Staff.code) | {v["code"] for _, v in _rows(t, "staff")}
        known_customers = self._keys(Customer.code) | {v["code"] for _, v in _rows(t, "customers")}
        known_circuits = self._keys(Circuit.code) | {v["code"] for _, v in _rows(t, "circuits")}
        ne_types = dict(self.session.execute(select(NetworkElement.name, NetworkElement.type)).all())
        for _, v in _rows(t, "network_elements"):
            try:
                ne_types[v["name"]] = NeType.parse(v.get("type", "")).value
            except ValueError:
                ne_types.setdefault(v["name"], "")

        def ref(
            table: RawTable, row: int, values: dict[str, str], column: str, known: set[str], what: str
        ) -> None:
            value = values.get(column, "")
            if value and value not in known:
                self._error(table, row, column, f"unknown {what} {value!r}")

        if "regions" in t:
            tab = t["regions"]
            self.valid["regions"] = self._collect(
                tab,
                lambda v: v["code"],
                lambda r, v: dict(v) if self._required(tab, r, v, ("code", "name")) else None,
            )

        if "teams" in t:
            tab = t["teams"]

            def clean_team(row: int, v: dict[str, str]) -> dict[str, Any] | None:
                ok = self._required(tab, row, v, ("code", "name", "kind"))
                kind = self._enum(tab, row, v, "kind", TeamKind)
                regions = [c.strip() for c in v.get("regions", "").split(";") if c.strip()]
                for code in regions:
                    if code not in known_regions:
                        self._error(tab, row, "regions", f"unknown region {code!r}")
                return {**v, "kind": kind, "regions": regions} if ok and kind else None

            self.valid["teams"] = self._collect(tab, lambda v: v["code"], clean_team)

        if "staff" in t:
            tab = t["staff"]

            def clean_staff(row: int, v: dict[str, str]) -> dict[str, Any] | None:
                ok = self._required(tab, row, v, ("code", "name", "role"))
                role = self._enum(tab, row, v, "role", Role)
                ref(tab, row, v, "team", known_teams, "team")
                language = v.get("language", "") or "zh"
                if language not in ("zh", "en"):
                    self._error(tab, row, "language", f"{language!r} is not zh or en")
                return {**v, "role": role, "language": language} if ok and role else None

            self.valid["staff"] = self._collect(tab, lambda v: v["code"], clean_staff)

        if "roster" in t:
            tab = t["roster"]

            def clean_shift(row: int, v: dict[str, str]) -> dict[str, Any] | None:
                if not self._required(tab, row, v, ("staff", "duty", "starts_at", "ends_at")):
                    return None
                ref(tab, row, v, "staff", known_staff, "staff member")
                duty = self._enum(tab, row, v, "duty", Role)
                start, end = self._time(tab, row, v, "starts_at"), self._time(tab, row, v, "ends_at")
                if start and end and end <= start:
                    self._error(tab, row, "ends_at", "shift ends before it starts")
                    return None
                return (
                    {**v, "duty": duty, "starts_at": start, "ends_at": end}
                    if start and end and duty
                    else None
                )

            self.valid["roster"] = self._collect(tab, lambda v: (v["staff"], v["starts_at"]), clean_shift)

        if "customers" in t:
            tab = t["customers"]

            def clean_customer(row: int, v: dict[str, str]) -> dict[str, Any] | None:
                ok = self._required(tab, row, v, ("code", "name", "level", "grade"))
                level = self._enum(tab, row, v, "level", CustomerLevel)
                grade = self._enum(tab, row, v, "grade", ServiceGrade)
                ref(tab, row, v, "region", known_regions, "region")
                ref(tab, row, v, "account_manager", known_staff, "staff member")
                return {**v, "level": level, "grade": grade} if ok and level and grade else None

            self.valid["customers"] = self._collect(tab, lambda v: v["code"], clean_customer)

        if "network_elements" in t:
            tab = t["network_elements"]
            ip_owner = {
                ip: name
                for name, ip in self.session.execute(select(NetworkElement.name, NetworkElement.mgmt_ip))
                if ip
            }

            def clean_ne(row: int, v: dict[str, str]) -> dict[str, Any] | None:
                ok = self._required(tab, row, v, ("name", "type"))
                ne_type = self._enum(tab, row, v, "type", NeType)
                ref(tab, row, v, "region", known_regions, "region")
                parent = v.get("parent", "")
                if parent and parent not in ne_types:
                    self._error(tab, row, "parent", f"unknown parent NE {parent!r}")
                if parent and parent == v["name"]:
                    self._error(tab, row, "parent", "an NE cannot be its own parent")
                if v.get("parent_port") and not parent:
                    self._error(tab, row, "parent_port", "parent_port given without parent")
                ip = v.get("mgmt_ip", "")
                if ip:
                    try:
                        ip = str(ipaddress.ip_address(ip))
                    except ValueError:
                        self._error(tab, row, "mgmt_ip", f"{ip!r} is not an IP address")
                        ip = ""
                    owner = ip_owner.get(ip)
                    if ip and owner and owner != v["name"]:
                        self._error(tab, row, "mgmt_ip", f"{ip} is already the address of NE {owner!r}")
                    elif ip:
                        ip_owner[ip] = v["name"]
                return {**v, "type": ne_type, "mgmt_ip": ip or None} if ok and ne_type else None

            self.valid["network_elements"] = self._collect(tab, lambda v: v["name"], clean_ne)

        if "ports" in t:
            tab = t["ports"]

            def clean_port(row: int, v: dict[str, str]) -> dict[str, Any] | None:
                ok = self._required(tab, row, v, ("ne", "port"))
                if v.get("ne") and v["ne"] not in ne_types:
                    self._error(tab, row, "ne", f"unknown NE {v['ne']!r}")
                    ok = False
                if_index = self._int(tab, row, v, "if_index")
                return {**v, "if_index": if_index} if ok else None

            self.valid["ports"] = self._collect(tab, lambda v: (v["ne"], v["port"]), clean_port)

        if "circuits" in t:
            tab = t["circuits"]

            def clean_circuit(row: int, v: dict[str, str]) -> dict[str, Any] | None:
                ok = self._required(tab, row, v, TABLES["circuits"].required)
                parsed = {
                    "service_type": self._enum(tab, row, v, "service_type", ServiceType),
                    "access": self._enum(tab, row, v, "access", AccessTech),
                    "site_role": self._enum(tab, row, v, "site_role", SiteRole),
                    "assurance": self._enum(tab, row, v, "assurance", AssuranceLevel),
                }
                ref(tab, row, v, "customer", known_customers, "customer")
                ref(tab, row, v, "maintainer", known_teams, "team")
                platform = v.get("platform", "")
                if platform:
                    if platform not in ne_types:
                        self._error(tab, row, "platform", f"unknown NE {platform!r}")
                    elif ne_types[platform] and NeType(ne_types[platform]) not in PLATFORM_TYPES:
                        self._error(
                            tab,
                            row,
                            "platform",
                            f"NE {platform!r} is a {ne_types[platform]}, not a service platform",
                        )
                bandwidth = self._int(tab, row, v, "bandwidth_mbps", minimum=0)
                handed_over = self._flag(tab, row, v, "handed_over")
                in_service = self._flag(tab, row, v, "in_service")
                if not ok or None in parsed.values():
                    return None
                return {
                    **v,
                    **parsed,
                    "bandwidth_mbps": bandwidth,
                    "handed_over": True if handed_over is None else handed_over,
                    "in_service": True if in_service is None else in_service,
                }

            self.valid["circuits"] = self._collect(tab, lambda v: v["code"], clean_circuit)

        if "routes" in t:
            tab = t["routes"]

            def clean_hop(row: int, v: dict[str, str]) -> dict[str, Any] | None:
                ok = self._required(tab, row, v, ("circuit", "route", "seq", "ne"))
                role = self._enum(tab, row, v, "route", RouteRole)
                seq = self._int(tab, row, v, "seq", minimum=1)
                if v.get("circuit") and v["circuit"] not in known_circuits:
                    self._error(tab, row, "circuit", f"unknown circuit {v['circuit']!r}")
                    ok = False
                if v.get("ne") and v["ne"] not in ne_types:
                    self._error(tab, row, "ne", f"route hop on unknown NE {v['ne']!r}")
                    ok = False
                return {**v, "route": role, "seq": seq} if ok and role and seq else None

            hops = self._collect(tab, lambda v: (v["circuit"], v["route"].lower(), v["seq"]), clean_hop)
            self.valid["routes"] = hops
            roles_by_circuit: dict[str, dict[str, int]] = defaultdict(dict)
            for hop in hops.by_key.values():
                roles_by_circuit[hop["circuit"]].setdefault(hop["route"], hop["_row"])
            existing_primary = set(
                self.session.scalars(
                    select(Circuit.code)
                    .join(Route, Route.circuit_id == Circuit.id)
                    .where(Route.role == "primary")
                )
            )
            for circuit, roles in roles_by_circuit.items():
                if "backup" in roles and "primary" not in roles and circuit not in existing_primary:
                    self._error(
                        tab,
                        roles["backup"],
                        "route",
                        f"circuit {circuit!r} has a backup route but no primary",
                    )

        if "circuits" in self.valid:
            routed = set(
                self.session.scalars(select(Circuit.code).join(Route, Route.circuit_id == Circuit.id))
            )
            routed |= {h["circuit"] for h in self.valid.get("routes", _EMPTY).by_key.values()}
            unrouted = [c for c in self.valid["circuits"].by_key if c not in routed]
            if unrouted:
                self.warnings.append(
                    Issue(
                        t["circuits"].file,
                        None,
                        "code",
                        f"{len(unrouted)} circuit(s) have no route, so no alarm can match them: "
                        + ", ".join(unrouted[:10])
                        + (" …" if len(unrouted) > 10 else ""),
                    )
                )

    # ---------------------------------------------------------------- writing
    def write(self, actor: str, source: str) -> dict[str, dict[str, int]]:
        counts: dict[str, dict[str, int]] = {}
        s = self.session

        def ids(column_key: Any, column_id: Any) -> dict[Any, int]:
            return dict(s.execute(select(column_key, column_id)).all())

        def upsert(name: str, model: Any, existing: dict[Any, int], rows: list[dict[str, Any]]) -> None:
            """Insert new keys, update existing ones (only the columns the file had)."""
            new, changed = [], []
            for row in rows:
                row_id = existing.get(row["_key"])
                clean = {k: v for k, v in row.items() if not k.startswith("_")}
                if row_id is None:
                    new.append(clean)
                else:
                    changed.append({"id": row_id, **{k: clean[k] for k in row["_columns"] if k in clean}})
            for chunk in _chunks(new):
                s.execute(insert(model), chunk)
            for chunk in _chunks(changed):
                s.execute(update(model), chunk)
            counts[name] = {"created": len(new), "updated": len(changed)}
            keys_created = [r["_key"] for r in rows if r["_key"] not in existing]
            keys_updated = [r["_key"] for r in rows if r["_key"] in existing]
            record(
                s,
                self.clock,
                actor,
                "import",
                name,
                "",
                after={
                    **counts[name],
                    "created_keys": [str(k) for k in keys_created[:AUDIT_KEYS_KEPT]],
                    "updated_keys": [str(k) for k in keys_updated[:AUDIT_KEYS_KEPT]],
                },
                note=source,
            )

        def prepared(
            name: str, build: Callable[[dict[str, Any]], dict[str, Any]], columns: dict[str, str]
        ) -> list[dict[str, Any]]:
            rows = self.valid[name]
            present = [columns[c] for c in rows.columns if c in columns]
            out = []
            for key, value in rows.by_key.items():
                row = build(value)
                row["_key"] = key
                row["_columns"] = present
                out.append(row)
            return out

        def optional(value: dict[str, Any], column: str, default: Any = "") -> Any:
            return value.get(column) or default

        if "regions" in self.valid:
            upsert(
                "regions",
                Region,
                ids(Region.code, Region.id),
                prepared("regions", lambda v: {"code": v["code"], "name": v["name"]}, {"name": "name"}),
            )
        region_ids = ids(Region.code, Region.id)

        if "teams" in self.valid:
            rows = prepared(
                "teams",
                lambda v: {"code": v["code"], "name": v["name"], "kind": v["kind"]},
                {"name": "name", "kind": "kind"},
            )
            upsert("teams", Team, ids(Team.code, Team.id), rows)
            if "regions" in self.valid["teams"].columns:
                team_ids = ids(Team.code, Team.id)
                touched = [team_ids[code] for code in self.valid["teams"].by_key]
                for chunk in _chunks(touched):
                    s.execute(delete(team_region).where(team_region.c.team_id.in_(chunk)))
                links = [
                    {"team_id": team_ids[code], "region_id": region_ids[r]}
                    for code, v in self.valid["teams"].by_key.items()
                    for r in dict.fromkeys(v["regions"])
                ]
                for chunk in _chunks(links):
                    s.execute(insert(team_region), chunk)
        team_ids = ids(Team.code, Team.id)

        if "staff" in self.valid:
            upsert(
                "staff",
                Staff,
                ids(Staff.code, Staff.id),
                prepared(
                    "staff",
                    lambda v: {
                        "code": v["code"],
                        "name": v["name"],
                        "phone": optional(v, "phone"),
                        "email": optional(v, "email"),
                        "team_id": team_ids.get(v.get("team", "")),
                        "role": v["role"],
                        "language": v["language"],
                    },
                    {
                        "name": "name",
                        "phone": "phone",
                        "email": "email",
                        "team": "team_id",
                        "role": "role",
                        "language": "language",
                    },
                ),
            )
        staff_ids = ids(Staff.code, Staff.id)

        if "roster" in self.valid:
            existing = {
                (code, start): shift_id
                for code, start, shift_id in s.execute(
                    select(Staff.code, RosterShift.starts_at, RosterShift.id).join(Staff)
                )
            }
            rows = prepared(
                "roster",
                lambda v: {
                    "staff_id": staff_ids[v["staff"]],
                    "duty": v["duty"],
                    "starts_at": v["starts_at"],
                    "ends_at": v["ends_at"],
                },
                {"duty": "duty", "ends_at": "ends_at"},
            )
            for row in rows:  # key by parsed time so "+08:00" and "Z" spellings of one instant match
                row["_key"] = (row["_key"][0], row["starts_at"])
            upsert("roster", RosterShift, existing, rows)

        if "customers" in self.valid:
            upsert(
                "customers",
                Customer,
                ids(Customer.code, Customer.id),
                prepared(
                    "customers",
                    lambda v: {
                        "code": v["code"],
                        "name": v["name"],
                        "level": v["level"],
                        "grade": v["grade"],
                        "industry": optional(v, "industry"),
                        "region_id": region_ids.get(v.get("region", "")),
                        "account_manager_id": staff_ids.get(v.get("account_manager", "")),
                        "hq_address": optional(v, "hq_address"),
                        "contact_name": optional(v, "contact_name"),
                        "contact_phone": optional(v, "contact_phone"),
                    },
                    {
                        c: c
                        for c in (
                            "name",
                            "level",
                            "grade",
                            "industry",
                            "hq_address",
                            "contact_name",
                            "contact_phone",
                        )
                    }
                    | {"region": "region_id", "account_manager": "account_manager_id"},
                ),
            )

        if "network_elements" in self.valid:
            rows = prepared(
                "network_elements",
                lambda v: {
                    "name": v["name"],
                    "type": v["type"],
                    "vendor": optional(v, "vendor"),
                    "ems": optional(v, "ems"),
                    "site": optional(v, "site"),
                    "region_id": region_ids.get(v.get("region", "")),
                    "mgmt_ip": v["mgmt_ip"],
                    "parent_port": optional(v, "parent_port"),
                },
                {c: c for c in ("type", "vendor", "ems", "site", "mgmt_ip", "parent_port")}
                | {"region": "region_id"},
            )
            existing_nes = ids(NetworkElement.name, NetworkElement.id)
            upsert("network_elements", NetworkElement, existing_nes, rows)
            if "parent" in self.valid["network_elements"].columns:
                ne_ids = ids(NetworkElement.name, NetworkElement.id)
                parents = [
                    {"id": ne_ids[name], "parent_id": ne_ids.get(v.get("parent", ""))}
                    for name, v in self.valid["network_elements"].by_key.items()
                ]
                for chunk in _chunks(parents):
                    s.execute(update(NetworkElement), chunk)
        ne_ids = ids(NetworkElement.name, NetworkElement.id)

        # Ports: the ports file, plus every port a route or a parent link names.
        wanted_ports: dict[tuple[int, str], int | None] = {}
        for v in self.valid.get("network_elements", _EMPTY).by_key.values():
            if v.get("parent") and v.get("parent_port"):
                wanted_ports.setdefault((ne_ids[v["parent"]], v["parent_port"]), None)
        for v in self.valid.get("routes", _EMPTY).by_key.values():
            if v.get("port"):
                wanted_ports.setdefault((ne_ids[v["ne"]], v["port"]), None)
        for (ne, port), v in self.valid.get("ports", _EMPTY).by_key.items():
            wanted_ports[(ne_ids[ne], port)] = v["if_index"]
        if wanted_ports:
            existing_ports = {
                (ne, name): pid for ne, name, pid in s.execute(select(Port.ne_id, Port.name, Port.id))
            }
            new_ports = [
                {"ne_id": ne, "name": name, "if_index": if_index}
                for (ne, name), if_index in wanted_ports.items()
                if (ne, name) not in existing_ports
            ]
            for chunk in _chunks(new_ports):
                s.execute(insert(Port), chunk)
            if "ports" in self.valid:
                indexed = [
                    {"id": existing_ports[(ne_ids[ne], port)], "if_index": v["if_index"]}
                    for (ne, port), v in self.valid["ports"].by_key.items()
                    if (ne_ids[ne], port) in existing_ports
                ]
                for chunk in _chunks(indexed):
                    s.execute(update(Port), chunk)
            counts["ports"] = {"created": len(new_ports), "updated": 0}

        if "circuits" in self.valid:
            customer_ids = ids(Customer.code, Customer.id)
            upsert(
                "circuits",
                Circuit,
                ids(Circuit.code, Circuit.id),
                prepared(
                    "circuits",
                    lambda v: {
                        "code": v["code"],
                        "customer_id": customer_ids[v["customer"]],
                        "service_type": v["service_type"],
                        "bandwidth_mbps": v["bandwidth_mbps"],
                        "access": v["access"],
                        "site_role": v["site_role"],
                        "a_end": optional(v, "a_end"),
                        "z_end": optional(v, "z_end"),
                        "assurance": v["assurance"],
                        "maintainer_id": team_ids.get(v.get("maintainer", "")),
                        "handed_over": v["handed_over"],
                        "in_service": v["in_service"],
                        "platform_id": ne_ids.get(v.get("platform", "")),
                    },
                    {
                        c: c
                        for c in (
                            "service_type",
                            "bandwidth_mbps",
                            "access",
                            "site_role",
                            "a_end",
                            "z_end",
                            "assurance",
                            "handed_over",
                            "in_service",
                        )
                    }
                    | {"customer": "customer_id", "maintainer": "maintainer_id", "platform": "platform_id"},
                ),
            )

        if "routes" in self.valid:
            self._write_routes(ids, ne_ids, counts, actor, source)
        return counts

    def _write_routes(
        self,
        ids: Callable[[Any, Any], dict[Any, int]],
        ne_ids: dict[str, int],
        counts: dict[str, dict[str, int]],
        actor: str,
        source: str,
    ) -> None:
        """A route named in the file is replaced whole by the file's hops (ordered by seq)."""
        s = self.session
        circuit_ids = ids(Circuit.code, Circuit.id)
        port_ids = {(ne, name): pid for ne, name, pid in s.execute(select(Port.ne_id, Port.name, Port.id))}
        hops_by_route: dict[tuple[int, str], list[dict[str, Any]]] = defaultdict(list)
        for v in self.valid["routes"].by_key.values():
            hops_by_route[(circuit_ids[v["circuit"]], v["route"])].append(v)
        route_ids = {
            (c, role): rid for c, role, rid in s.execute(select(Route.circuit_id, Route.role, Route.id))
        }
        new_routes = [
            {"circuit_id": c, "role": role} for (c, role) in hops_by_route if (c, role) not in route_ids
        ]
        replaced = [route_ids[k] for k in hops_by_route if k in route_ids]
        for chunk in _chunks(replaced):
            s.execute(delete(RouteHop).where(RouteHop.route_id.in_(chunk)))
        for chunk in _chunks(new_routes):
            s.execute(insert(Route), chunk)
        if new_routes:
            route_ids = {
                (c, role): rid for c, role, rid in s.execute(select(Route.circuit_id, Route.role, Route.id))
            }
        hop_rows = []
        for key, hops in hops_by_route.items():
            for seq, hop in enumerate(sorted(hops, key=lambda h: h["seq"]), start=1):
                ne = ne_ids[hop["ne"]]
                hop_rows.append(
                    {
                        "route_id": route_ids[key],
                        "seq": seq,
                        "ne_id": ne,
                        "port_id": port_ids.get((ne, hop.get("port", ""))),
                    }
                )
        for chunk in _chunks(hop_rows):
            s.execute(insert(RouteHop), chunk)
        counts["routes"] = {"created": len(new_routes), "updated": len(replaced), "hops": len(hop_rows)}
        record(s, self.clock, actor, "import", "routes", "", after=counts["routes"], note=source)


class _Empty:
    by_key: dict[Any, dict[str, Any]] = {}  # noqa: RUF012 - read-only sentinel
    columns: set[str] = set()  # noqa: RUF012


_EMPTY = _Empty()


def _rows(tables: dict[str, RawTable], name: str) -> list[tuple[int, dict[str, str]]]:
    return tables[name].rows if name in tables else []


def _chunks(items: list[Any], size: int = CHUNK) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
