"""Same-window batching through the real engine, on a generated city (both databases).

Faults on the customer ports of branch lines of distinct key customers: each is its own
incident, yet 3–9 of them in one window make every one general, and ≥10 make them urgent.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from linewatch.context import Context
from linewatch.core.actor import SYSTEM
from linewatch.demo.generator import generate
from linewatch.inventory.service import import_inventory
from linewatch.inventory.sources import read_path
from tests.conftest import ADMIN


@pytest.fixture
def city(ctx: Context, tmp_path: Path) -> tuple[Context, list[tuple[str, str]]]:
    folder = tmp_path / "city"
    generate(folder, scale=0.3, seed=5)
    with ctx.db.unit_of_work() as session:
        assert import_inventory(session, ctx.clock, read_path(folder), SYSTEM, dry_run=False).ok
    ctx.rebuild_index()

    def rows(name: str) -> list[dict[str, str]]:
        with (folder / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))

    key = {c["code"] for c in rows("customers") if c["level"] != "normal"}
    routes = rows("routes")
    dual = {r["circuit"] for r in routes if r["route"] == "backup"}
    first_hop = {
        r["circuit"]: (r["ne"], r["port"]) for r in routes if r["route"] == "primary" and r["seq"] == "1"
    }
    port_users: dict[tuple[str, str], int] = {}
    for hop in first_hop.values():
        port_users[hop] = port_users.get(hop, 0) + 1
    seen: set[str] = set()
    nes: set[str] = set()  # distinct NEs too: faults on one NE correlate into one incident
    targets = []
    for c in rows("circuits"):  # one single-routed, non-PON branch line per key customer, alone on its port
        hop = first_hop.get(c["code"])
        if (
            c["customer"] in key
            and c["customer"] not in seen
            and c["site_role"] == "branch"
            and c["access"] != "PON"
            and c["code"] not in dual
            and hop
            and port_users[hop] == 1
            and hop[0] not in nes
        ):
            seen.add(c["customer"])
            nes.add(hop[0])
            targets.append(hop)
    assert len(targets) >= 11
    return ctx, targets


def raise_on(client: TestClient, hops: list[tuple[str, str]]) -> None:
    alarms = [
        {"source": "ems", "ne": ne, "object": port, "type": "LOS", "severity": "critical"}
        for ne, port in hops
    ]
    assert client.post("/api/v1/alarms", json=alarms, headers=ADMIN).status_code == 202


def levels(client: TestClient) -> list[str]:
    return sorted(i["level"] for i in client.get("/api/v1/incidents", headers=ADMIN).json()["items"])


def test_three_to_nine_key_customers_in_one_window_are_general(
    city: tuple[Context, list], client: TestClient
) -> None:
    _, targets = city
    raise_on(client, targets[:2])
    assert levels(client) == ["normal", "normal"]
    raise_on(client, targets[2:3])
    assert levels(client) == ["general"] * 3


def test_ten_key_customers_in_one_window_are_urgent(city: tuple[Context, list], client: TestClient) -> None:
    _, targets = city
    raise_on(client, targets[:9])
    assert set(levels(client)) == {"general"}
    raise_on(client, targets[9:10])
    assert levels(client) == ["urgent"] * 10
    # the window closes: a fault 11 minutes later stands alone
    assert (
        client.post("/api/v1/admin/clock", json={"advance_seconds": 11 * 60}, headers=ADMIN).status_code
        == 200
    )
    raise_on(client, [targets[10]])
    assert levels(client).count("normal") == 1
