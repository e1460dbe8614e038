"""The test/drill clock endpoint: set (backwards too), advance, listeners, and 404 without it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from linewatch.app import create_app
from linewatch.context import Context, build_context
from linewatch.core.clock import ManualClock
from linewatch.settings import Settings
from tests.conftest import ADMIN, ADMIN_TOKEN, START, TZ, bearer

CLOCK = "/api/v1/admin/clock"


def move(client: TestClient, body: dict[str, Any], headers: dict[str, str] = ADMIN) -> Any:
    return client.post(CLOCK, json=body, headers=headers)


def test_set_moves_the_clock_forwards_and_backwards(ctx: Context, client: TestClient) -> None:
    assert isinstance(ctx.clock, ManualClock)
    assert client.get(CLOCK, headers=ADMIN).json() == {"now": START.isoformat(), "manual": True}

    forwards = move(client, {"set": "2026-10-01T08:00:00+08:00"})
    assert forwards.status_code == 200, forwards.text
    assert forwards.json() == {"now": "2026-10-01T08:00:00+08:00", "manual": True}
    assert ctx.clock.now() == datetime(2026, 10, 1, 8, 0, tzinfo=TZ)

    backwards = move(client, {"set": "2020-01-01T00:00:00Z"})
    assert backwards.status_code == 200
    # shown in the operator time zone
    assert backwards.json()["now"] == "2020-01-01T08:00:00+08:00"
    assert ctx.clock.now() == datetime(2020, 1, 1, 8, 0, tzinfo=TZ)
    assert client.get("/healthz").json()["time"] == "2020-01-01T08:00:00+08:00"

    # a time without an offset is operator-local
    assert move(client, {"set": "2026-03-05 10:30:00"}).json()["now"] == "2026-03-05T10:30:00+08:00"


def test_advance_moves_the_clock_on(ctx: Context, client: TestClient) -> None:
    response = move(client, {"advance_seconds": 90})
    assert response.status_code == 200, response.text
    assert ctx.clock.now() == START + timedelta(seconds=90)
    assert response.json()["now"] == (START + timedelta(seconds=90)).isoformat()
    move(client, {"advance_seconds": 0.5})
    assert ctx.clock.now() == START + timedelta(seconds=90.5)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"set": "2026-10-01T08:00:00+08:00", "advance_seconds": 90},
        {"set": None, "advance_seconds": None},
    ],
)
def test_exactly_one_of_set_or_advance(ctx: Context, client: TestClient, body: dict[str, Any]) -> None:
    response = move(client, body)
    assert response.status_code in (400, 422), response.text
    assert "exactly one" in response.json()["error"]
    assert ctx.clock.now() == START


@pytest.mark.parametrize(
    "body",
    [
        {"advance_seconds": -5},
        {"advance_seconds": "soon"},
        {"set": "2026-10-01T08:00:00+08:00", "speed": 2},
        {"set": 12},
    ],
)
def test_malformed_bodies_are_422(ctx: Context, client: TestClient, body: dict[str, Any]) -> None:
    response = move(client, body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]
    assert ctx.clock.now() == START


@pytest.mark.parametrize("when", ["yesterday", "2026-13-01T00:00:00+08:00", "", "2026-10-01T25:00"])
def test_bad_time_is_400_json(ctx: Context, client: TestClient, when: str) -> None:
    response = move(client, {"set": when})
    assert response.status_code == 400, response.text
    body = response.json()
    assert "RFC 3339" in body["error"]
    assert "detail" in body
    assert ctx.clock.now() == START


@pytest.mark.parametrize(
    "body",
    [{"advance_seconds": 1e12}, {"advance_seconds": 1e300}, {"set": "9999-12-31T23:59:59-05:00"}],
)
def test_out_of_range_moves_are_400_not_500(ctx: Context, client: TestClient, body: dict[str, Any]) -> None:
    heard: list[tuple[datetime, datetime]] = []
    ctx.clock.on_change(lambda old, new: heard.append((old, new)))
    response = move(client, body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]
    assert ctx.clock.now() == START
    assert heard == []


def test_listeners_hear_every_move_with_old_and_new(ctx: Context, client: TestClient) -> None:
    heard: list[tuple[datetime, datetime]] = []
    ctx.clock.on_change(lambda old, new: heard.append((old, new)))
    move(client, {"advance_seconds": 90})
    move(client, {"set": "2026-01-01T00:00:00+08:00"})
    first = START + timedelta(seconds=90)
    assert heard == [(START, first), (first, datetime(2026, 1, 1, tzinfo=TZ))]
    # a refused move tells nobody
    move(client, {"set": "nonsense"})
    assert len(heard) == 2


def test_clock_moves_are_audited(ctx: Context, client: TestClient) -> None:
    move(client, {"advance_seconds": 60})
    entries = client.get("/api/v1/admin/audit", params={"object_type": "clock"}, headers=ADMIN).json()[
        "items"
    ]
    assert [(e["action"], e["actor"]) for e in entries] == [("move", "admin-token")]
    assert entries[0]["before"] == {"now": START.isoformat()}
    assert entries[0]["after"] == {"now": (START + timedelta(minutes=1)).isoformat()}


def test_only_admins_move_the_clock(small: Context, client: TestClient) -> None:
    for who in ({"staff": "D01"}, {"kind": "ingest", "name": "ems-1"}):
        token = client.post("/api/v1/admin/tokens", json=who, headers=ADMIN).json()["token"]
        assert move(client, {"advance_seconds": 60}, headers=bearer(token)).status_code == 403
    assert move(client, {"advance_seconds": 60}, headers={}).status_code == 401
    assert small.clock.now() == START


@pytest.fixture
def real_clock_client(db_url: str) -> Iterator[TestClient]:
    context = build_context(Settings(db=db_url, clock="", admin_token=ADMIN_TOKEN), migrate=False)
    assert not isinstance(context.clock, ManualClock)
    try:
        with TestClient(create_app(context)) as test_client:
            yield test_client
    finally:
        context.db.dispose()


def test_without_the_manual_clock_the_endpoint_is_404(real_clock_client: TestClient) -> None:
    for body in ({"set": "2026-10-01T08:00:00+08:00"}, {"advance_seconds": 90}):
        response = move(real_clock_client, body)
        assert response.status_code == 404
        assert "manual" in response.json()["error"]
    assert real_clock_client.get(CLOCK, headers=ADMIN).status_code == 404
    # the rest of the admin API is there: the 404 is about the clock only
    assert real_clock_client.get("/api/v1/me", headers=ADMIN).status_code == 200
