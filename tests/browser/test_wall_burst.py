"""The wall with hundreds of open incidents through a burst of alarms (decisions 100–101): it
re-reads only the incidents the stream named, keeps every incident in order and every counter
exact, and draws only the rows that fit the screen."""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from linewatch.context import Context
from linewatch.core.actor import SYSTEM
from linewatch.demo.generator import generate
from linewatch.inventory.service import import_inventory
from linewatch.inventory.sources import read_path
from tests.browser.conftest import Live, login, running
from tests.conftest import START

LEVELS = ["urgent", "general", "overdue", "normal"]
Port = tuple[str, str]


@pytest.fixture
def city(ctx: Context, tmp_path: Path) -> tuple[Context, list[list[Port]]]:
    """The demo city at scale 0.6; the ports that carry one circuit each, grouped by NE."""
    folder = tmp_path / "city"
    generate(folder, scale=0.6, seed=7)
    with ctx.db.unit_of_work() as session:
        assert import_inventory(session, ctx.clock, read_path(folder), SYSTEM, dry_run=False).ok
    ctx.rebuild_index()
    circuits: dict[Port, set[str]] = {}
    with (folder / "routes.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["port"]:
                circuits.setdefault((row["ne"], row["port"]), set()).add(row["circuit"])
    by_ne: dict[str, list[Port]] = {}
    for port, users in sorted(circuits.items()):
        if len(users) == 1:
            by_ne.setdefault(port[0], []).append(port)
    return ctx, list(by_ne.values())


@pytest.fixture
def live(city: tuple[Context, list[list[Port]]]) -> Iterator[Live]:  # the city instead of `small`
    with running(city[0]) as instance:
        yield instance


def alarm(port: Port, kind: str = "LOS", **more: Any) -> dict[str, Any]:
    return {"source": "bench", "ne": port[0], "object": port[1], "type": kind, "severity": "critical", **more}


def api_open(live: Live) -> list[dict[str, Any]]:
    items, cursor = [], ""
    while True:
        page = live.http.get(f"/api/v1/incidents?state=open&limit=1000{cursor}").json()
        items += page["items"]
        if not page["next_cursor"]:
            return items
        cursor = f"&cursor={page['next_cursor']}"


def wall_order(incidents: list[dict[str, Any]]) -> list[int]:
    """Worst level first, then the oldest (to the millisecond, as the browser parses), then the id."""

    def key(inc: dict[str, Any]) -> tuple[int, int, int]:
        opened = int(datetime.fromisoformat(inc["opened_at"]).timestamp() * 1000)
        return LEVELS.index(inc["level"]), opened, inc["id"]

    return [inc["id"] for inc in sorted(incidents, key=key)]


def assert_wall_agrees_with_the_api(wall: Any, live: Live) -> list[dict[str, Any]]:
    incidents = api_open(live)
    order = wall_order(incidents)
    # the whole order, kept by insertion while updates came in, is the order a full sort gives
    wall.wait_for_function(
        "ids => JSON.stringify(window.LW_WALL.incidents.map((i) => i.id)) === ids",
        arg=json.dumps(order, separators=(",", ":")),
        timeout=20000,  # a shared CI box: the wall catches up in a few refreshes of ~100 ms each
    )
    expect(wall.locator("#open-count")).to_have_text(f"({len(incidents)})")
    levels = Counter(inc["level"] for inc in incidents)
    for level in LEVELS:
        expect(wall.locator(f"#levels [data-level={level}]")).to_have_text(str(levels[level]))
    customers = {c["code"]: c for c in live.http.get("/api/v1/customers?limit=1000").json()["items"]}
    regions: Counter[str] = Counter()
    key_down: set[str] = set()
    for inc in incidents:
        hurt = {i["customer"] for i in inc["impacts"] if not i["until"]}
        regions.update({customers[c]["region"] for c in hurt if c in customers})
        key_down |= {c for c in hurt if c in customers and customers[c]["key_customer"]}
    expect(wall.locator("#key-down")).to_have_text(str(len(key_down)))
    for region in {c["region"] for c in customers.values()}:
        tile = wall.locator(f"#regions [data-region='{region}'] .rnum")
        expect(tile).to_have_text(str(regions[region]))
    # only the rows that fit the screen are drawn, in the wall's order
    rows = wall.locator("#incident-rows tr")
    drawn = [int(n) for n in rows.evaluate_all("(trs) => trs.map((tr) => tr.dataset.incident)")]
    assert 20 < len(drawn) < len(order)
    assert drawn == order[: len(drawn)]
    return incidents


def test_a_burst_on_a_full_wall_rereads_only_what_changed_and_keeps_order_and_counts(
    new_page: Any, live: Live, city: tuple[Context, list[list[Port]]]
) -> None:
    _, by_ne = city
    spare = [ports.pop() for ports in by_ne if len(ports) > 1][:30]  # new faults in the burst
    seeded: list[dict[str, Any]] = []
    for n in range(2):  # a round per correlation window: an incident per alarm
        live.ctx.clock.set(START + timedelta(minutes=6 * n))  # type: ignore[attr-defined]
        round_ = [alarm(ports[n]) for ports in by_ne if len(ports) > n]
        live.alarms(*round_)
        live.ctx.settle()
        seeded += round_
    live.user("wall", role="admin")
    wall = new_page()
    login(wall, "wall")
    wall.goto("/wall")
    expect(wall.locator("body")).to_have_attribute("data-ready", "1", timeout=20000)
    expect(wall.locator("body")).to_have_attribute("data-live", "1")
    before = assert_wall_agrees_with_the_api(wall, live)
    assert len(before) > 300
    assert wall.evaluate("window.LW_WALL.stats.reread") == ["all"]  # the first read: everything

    hub = live.app.state.live
    mark = hub.last_id
    wall.evaluate("window.LW_WALL.stats.reread = []")
    for n in range(10):  # ten batches: new faults, alarms joining open ones, recoveries
        batch = [alarm(port) for port in spare[3 * n : 3 * n + 3]]
        joined = seeded[40 * n : 40 * n + 4]
        batch += [alarm((a["ne"], a["object"]), "LINK_DOWN", severity="major") for a in joined]
        cleared = seeded[40 * n + 20 : 40 * n + 23]
        batch += [{**a, "severity": "cleared"} for a in cleared]
        live.alarms(*batch)
    live.ctx.settle()
    expect(wall.locator("body")).to_have_attribute("data-last-event", str(hub.last_id), timeout=20000)
    after = assert_wall_agrees_with_the_api(wall, live)
    opened = {i["id"] for i in after} - {i["id"] for i in before}
    recovered = {i["id"] for i in before} - {i["id"] for i in after}
    assert len(opened) >= 30 and len(recovered) >= 10, (len(opened), len(recovered))

    named: set[int] = set()  # every incident the stream named since the mark
    for event in hub.ring:
        if event.id > mark and event.name == "incidents":
            named |= {c["incident_id"] for c in event.data["changes"]}
        elif event.id > mark and event.name == "alarms":
            named |= set(event.data["incidents"])
    wall.wait_for_function("() => window.LW_WALL.stats.pending === null", timeout=20000)
    rereads = wall.evaluate("window.LW_WALL.stats.reread")
    assert "all" not in rereads  # no re-read of all the open incidents while the burst lasted
    reread = [i for part in rereads for i in part]
    assert set(reread) == named
    assert len(named) < len(before) // 4
