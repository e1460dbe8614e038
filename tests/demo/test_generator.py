"""The demo city generator: deterministic, self-consistent, realistic in shape, and importable."""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from linewatch.context import Context
from linewatch.core.actor import SYSTEM
from linewatch.demo.generator import generate
from linewatch.inventory.choices import (
    SERVICE_PLATFORM,
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
from linewatch.inventory.service import import_inventory
from linewatch.inventory.sources import read_path

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=TZ)
Rows = list[dict[str, str]]

# The import format as the brief states it (not read from the generator, so a drift fails here).
HEADERS = {
    "regions": "code name",
    "teams": "code name kind regions",
    "staff": "code name phone email team role",
    "roster": "staff duty starts_at ends_at",
    "customers": "code name level grade industry region account_manager hq_address contact_name "
    "contact_phone",
    "network_elements": "name type vendor ems site region mgmt_ip parent parent_port",
    "ports": "ne port if_index",
    "circuits": "code customer service_type bandwidth_mbps access site_role a_end z_end assurance maintainer "
    "handed_over platform",
    "routes": "circuit route seq ne port",
}


def read(folder: Path, name: str) -> Rows:
    with (folder / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def tables(folder: Path) -> dict[str, Rows]:
    return {name: read(folder, name) for name in HEADERS}


def routes_of(t: dict[str, Rows]) -> dict[tuple[str, str], list[dict[str, str]]]:
    routes: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
    for hop in t["routes"]:
        routes[(hop["circuit"], hop["route"])].append(hop)
    return routes


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The scale-1 city, generated once for the read-only checks."""
    folder = tmp_path_factory.mktemp("city") / "inventory"
    generate(folder, scale=1, seed=7, now=NOW)
    return folder


@pytest.fixture(scope="module")
def t(city: Path) -> dict[str, Rows]:
    return tables(city)


def test_same_seed_gives_identical_files_and_another_seed_does_not(tmp_path: Path, city: Path) -> None:
    again = tmp_path / "again"
    other = tmp_path / "other"
    generate(again, scale=1, seed=7, now=NOW)
    generate(other, scale=1, seed=8, now=NOW)
    for name in HEADERS:
        assert (again / f"{name}.csv").read_bytes() == (city / f"{name}.csv").read_bytes(), name
    for name in ("customers", "circuits", "routes", "network_elements"):
        assert (other / f"{name}.csv").read_bytes() != (city / f"{name}.csv").read_bytes(), name


def test_files_have_the_import_headers_and_the_returned_counts(tmp_path: Path) -> None:
    counts = generate(tmp_path / "new" / "folder", scale=0.2, seed=3, now=NOW)  # folder is created
    assert list(counts) == list(HEADERS)
    for name, columns in HEADERS.items():
        with (tmp_path / "new" / "folder" / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
            lines = list(csv.reader(handle))
        assert lines[0] == columns.split(), name
        assert len(lines) - 1 == counts[name], name


def assert_consistent(t: dict[str, Rows]) -> None:
    """Every key unique and every reference resolving within the generated files."""

    def unique(name: str, *columns: str) -> set[tuple[str, ...]]:
        keys = [tuple(row[c] for c in columns) for row in t[name]]
        duplicates = [k for k, n in Counter(keys).items() if n > 1]
        assert not duplicates, f"{name} {columns}: {duplicates[:5]}"
        return set(keys)

    regions = {k[0] for k in unique("regions", "code")}
    teams = {row["code"]: row for row in t["teams"]}
    unique("teams", "code")
    staff = {row["code"]: row for row in t["staff"]}
    unique("staff", "code")
    unique("customers", "code")
    unique("customers", "name")
    customers = {row["code"]: row for row in t["customers"]}
    nes = {row["name"]: row for row in t["network_elements"]}
    unique("network_elements", "name")
    ips = [row["mgmt_ip"] for row in t["network_elements"] if row["mgmt_ip"]]
    assert len(ips) == len(set(ips))
    assert all(ip.startswith("10.") for ip in ips)
    ports = unique("ports", "ne", "port")
    unique("ports", "ne", "if_index")
    circuits = {row["code"]: row for row in t["circuits"]}
    unique("circuits", "code")
    unique("routes", "circuit", "route", "seq")
    unique("roster", "staff", "starts_at")

    for row in t["teams"]:
        assert row["regions"] and set(row["regions"].split(";")) <= regions
    for row in t["staff"]:
        assert row["team"] in teams
    for row in t["roster"]:
        assert row["staff"] in staff
    for row in t["customers"]:
        assert row["region"] in regions
        assert staff[row["account_manager"]]["role"] == Role.ACCOUNT_MANAGER.value
    for row in t["network_elements"]:
        assert row["region"] in regions
        if row["parent"]:
            assert row["parent"] in nes and row["parent"] != row["name"]
        if row["parent_port"]:
            assert (row["parent"], row["parent_port"]) in ports
    for row in t["ports"]:
        assert row["ne"] in nes
    for row in t["circuits"]:
        assert row["customer"] in customers
        if row["platform"]:
            assert row["platform"] in nes
        maintainer = teams[row["maintainer"]]
        region = row["code"].split("-")[1]
        assert maintainer["kind"] == TeamKind.SUPPORT.value or region in maintainer["regions"].split(";")
    for hop in t["routes"]:
        assert hop["circuit"] in circuits
        assert hop["ne"] in nes
        assert not hop["port"] or (hop["ne"], hop["port"]) in ports


def test_every_key_is_unique_and_every_reference_resolves(t: dict[str, Rows]) -> None:
    assert_consistent(t)


def test_enumerated_values_are_valid(t: dict[str, Rows]) -> None:
    checks = [
        ("teams", "kind", TeamKind),
        ("staff", "role", Role),
        ("roster", "duty", Role),
        ("customers", "level", CustomerLevel),
        ("customers", "grade", ServiceGrade),
        ("network_elements", "type", NeType),
        ("circuits", "service_type", ServiceType),
        ("circuits", "access", AccessTech),
        ("circuits", "site_role", SiteRole),
        ("circuits", "assurance", AssuranceLevel),
        ("routes", "route", RouteRole),
    ]
    for name, column, choice in checks:
        assert {row[column] for row in t[name]} <= set(choice.values()), (name, column)
    assert {row["handed_over"] for row in t["circuits"]} <= {"yes", "no"}
    assert {
        row["vendor"] for row in t["network_elements"] if row["type"] in ("PTN", "OTN", "OLT", "SDH")
    } <= {
        "Huawei",
        "ZTE",
        "FiberHome",
    }


def test_scale_one_is_a_city_of_the_expected_size(t: dict[str, Rows]) -> None:
    assert len(t["regions"]) == 12
    assert 250 <= len(t["customers"]) <= 350
    assert 1300 <= len(t["circuits"]) <= 1700
    levels = Counter(row["level"] for row in t["customers"])
    assert 0.03 <= levels["cross_province"] / len(t["customers"]) <= 0.07
    assert 0.45 <= levels["normal"] / len(t["customers"]) <= 0.65
    roles = Counter(row["role"] for row in t["staff"])
    assert roles["dispatcher"] >= 6 and roles["fault_manager"] >= 2 and roles["admin"] == 1
    assert roles["manager_l3"] >= 1 and roles["leader"] >= 1 and roles["support"] >= 1
    assert 0.5 <= roles["account_manager"] * 20 / len(t["customers"]) <= 2
    assert any(row["code"] == "ADMIN01" and row["role"] == "admin" for row in t["staff"])
    contractors = [row for row in t["teams"] if row["kind"] == "contractor"]
    assert len(contractors) == 4 and all(len(row["regions"].split(";")) == 3 for row in contractors)
    types = Counter(row["type"] for row in t["network_elements"])
    for platform in ("NGN", "GGSN", "SMS_GW", "BRAS"):
        assert types[platform] == 2
    assert types["OLT"] and types["ONU"] and types["MSAP"] and types["SDH"] and types["MSTP"]
    assert all(re.fullmatch(r"C3501\d{5}", row["code"]) for row in t["customers"])
    assert all(re.fullmatch(r"FZ-[A-Z]{2}-[A-Z]+-\d{6}", row["code"]) for row in t["circuits"])
    assert all(re.fullmatch(r"1[358]\d{9}", row["phone"]) for row in t["staff"])


def test_aggregation_rings_have_four_to_six_nodes(t: dict[str, Rows]) -> None:
    rings = Counter(row["name"].rsplit("-", 1)[0] for row in t["network_elements"] if "-AGG-" in row["name"])
    assert len(rings) >= 12
    assert all(4 <= n <= 6 for n in rings.values())


def test_routes_run_from_the_customer_side_to_a_core_node(t: dict[str, Rows]) -> None:
    routes = routes_of(t)
    nes = {row["name"]: row for row in t["network_elements"]}
    for circuit in t["circuits"]:
        assert (circuit["code"], "primary") in routes, circuit["code"]
    for (_, _), hops in routes.items():
        assert [int(h["seq"]) for h in hops] == list(range(1, len(hops) + 1))
        assert 3 <= len(hops) <= 8
        assert hops[-1]["ne"].startswith("FZ-CORE-")
        assert len({h["ne"] for h in hops}) == len(hops)  # no loops
        assert all(h["port"] for h in hops)
    for circuit in t["circuits"]:
        first = nes[routes[(circuit["code"], "primary")][0]["ne"]]
        expected = {"PON": {"ONU"}, "MSAP": {"ROUTER", "SWITCH", "IAD", "PBX"}}.get(circuit["access"])
        assert first["type"] in (expected or {circuit["access"]}), circuit["code"]


def test_platform_follows_the_service_type(t: dict[str, Rows]) -> None:
    nes = {row["name"]: row for row in t["network_elements"]}
    for circuit in t["circuits"]:
        wanted = SERVICE_PLATFORM.get(ServiceType(circuit["service_type"]))
        if wanted is None:
            assert circuit["platform"] == ""
        else:
            assert nes[circuit["platform"]]["type"] == wanted.value


def test_key_centre_and_high_assurance_circuits_have_a_diverse_backup(t: dict[str, Rows]) -> None:
    key = {row["code"] for row in t["customers"] if CustomerLevel(row["level"]).is_key}
    routes = routes_of(t)
    protected = [
        c
        for c in t["circuits"]
        if (c["customer"] in key and c["site_role"] == "center") or c["assurance"] in ("AAA", "AA")
    ]
    assert len(protected) > 100
    for circuit in protected:
        primary = [h["ne"] for h in routes[(circuit["code"], "primary")]]
        backup = [h["ne"] for h in routes.get((circuit["code"], "backup"), [])]
        assert backup, circuit["code"]
        assert not set(primary[1:-1]) & set(backup[1:-1]), circuit["code"]
        assert primary[-1] != backup[-1]  # a different core node
        assert not set(primary[1:]) & set(backup[1:])  # at most the first (access) hop is shared
    aaa = Counter(
        c["site_role"] for c in t["circuits"] if c["assurance"] == "AAA"
    )  # AAA is for centre points
    assert aaa["center"] > aaa["branch"]


def test_onus_hang_off_an_olt_pon_port(t: dict[str, Rows]) -> None:
    nes = {row["name"]: row for row in t["network_elements"]}
    onus = [row for row in t["network_elements"] if row["type"] == "ONU"]
    assert onus
    for onu in onus:
        assert nes[onu["parent"]]["type"] == "OLT"
        assert re.fullmatch(r"\d+/\d+/\d+", onu["parent_port"])
    routes = routes_of(t)
    for circuit in t["circuits"]:
        if circuit["access"] == "PON":
            onu, olt = routes[(circuit["code"], "primary")][:2]
            assert nes[onu["ne"]]["parent"] == olt["ne"]
            assert nes[onu["ne"]]["parent_port"] == olt["port"]


def test_roster_covers_the_week_with_a_dispatcher_always_on_duty(t: dict[str, Rows]) -> None:
    shifts = [
        (
            row["staff"],
            row["duty"],
            datetime.fromisoformat(row["starts_at"]),
            datetime.fromisoformat(row["ends_at"]),
        )
        for row in t["roster"]
    ]
    assert all(
        row["starts_at"].endswith("+08:00") and row["ends_at"].endswith("+08:00") for row in t["roster"]
    )
    midnight = NOW.replace(hour=0, minute=30)
    for hour in range(7 * 24):  # every half-past in the week has a dispatcher
        moment = midnight + timedelta(hours=hour)
        assert any(d == "dispatcher" and s <= moment < e for _, d, s, e in shifts), moment
    by_window: dict[tuple[datetime, datetime], set[str]] = defaultdict(set)
    for _, duty, start, end in shifts:
        by_window[(start, end)].add(duty)
    for (start, end), duties in by_window.items():
        if end - start == timedelta(hours=12):  # a regular shift
            assert "dispatcher" in duties
        if start.hour == 8 and end - start == timedelta(hours=12):
            assert "support" in duties
    for day in range(7):
        morning = NOW.replace(hour=8, minute=0) + timedelta(days=day)
        for duty in ("fault_manager", "manager_l3", "leader"):
            on_call = [s for s in shifts if s[1] == duty and s[2] == morning]
            assert len(on_call) == 1 and on_call[0][3] == morning + timedelta(days=1)


def test_a_smaller_scale_gives_a_smaller_consistent_city(tmp_path: Path, t: dict[str, Rows]) -> None:
    counts = generate(tmp_path, scale=0.2, seed=7, now=NOW)
    small = tables(tmp_path)
    assert_consistent(small)
    assert counts["regions"] == 12
    for name in ("customers", "circuits", "network_elements", "ports", "routes", "staff"):
        assert counts[name] < len(t[name]), name
    assert 40 <= counts["customers"] <= 80


def test_the_generated_city_imports_cleanly(ctx: Context, tmp_path: Path) -> None:
    counts = generate(tmp_path, scale=0.2, seed=7, now=NOW)
    with ctx.db.unit_of_work() as session:
        report = import_inventory(session, ctx.clock, read_path(tmp_path), SYSTEM, dry_run=False)
    if not report.ok:
        print(*report.errors[:20], sep="\n")
    assert report.ok
    assert not report.warnings, report.warnings[:5]
    assert report.counts["circuits"]["created"] == counts["circuits"]
    assert report.counts["network_elements"]["created"] == counts["network_elements"]
    assert report.counts["ports"]["created"] == counts["ports"]
