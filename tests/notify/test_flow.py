"""The notify stage end to end on the small network (SQLite and PostgreSQL): recipients across roster
shifts, quiet hours, storm digest, exactly-once across a restart, a failing peer, the log API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from linewatch.context import Context, build_context
from linewatch.db import outbox
from linewatch.inventory.models import RosterShift, Staff
from linewatch.notify import service
from linewatch.notify.channels.webhook import WebhookChannel, WebhookConfig
from linewatch.notify.models import Notification, NotifyPreference
from tests.conftest import ADMIN, START, TZ, bearer
from tests.notify.peers import HttpReceiver


@pytest.fixture
def hook() -> Iterator[HttpReceiver]:
    receiver = HttpReceiver()
    yield receiver
    receiver.close()


def group(ctx: Context, receiver: HttpReceiver, **kw: Any) -> None:
    """The NOC group robot as the only channel: every request reaches it, so tests see every send."""
    channel = WebhookChannel(WebhookConfig(name="noc", url=receiver.url, **kw), ctx.clock)
    ctx.notifier.env.channels = [channel]


def request(ctx: Context, kind: str, audience: dict[str, Any], **kw: Any) -> None:
    with ctx.db.unit_of_work() as session:
        outbox.request(session, ctx.clock.now(), kind, audience, kw.pop("data", {}), **kw)


def rows(ctx: Context, **where: Any) -> list[Notification]:
    with ctx.db.reading() as session:
        query = select(Notification).order_by(Notification.id)
        for key, value in where.items():
            query = query.where(getattr(Notification, key) == value)
        found = list(session.scalars(query))
        session.expunge_all()
        return found


def staff_codes(ctx: Context, items: list[Notification]) -> list[str]:
    with ctx.db.reading() as session:
        codes = dict(session.execute(select(Staff.id, Staff.code)).all())
    return sorted({codes[n.staff_id] for n in items if n.staff_id})


def advance(ctx: Context, seconds: float) -> None:
    ctx.clock.advance(seconds)  # type: ignore[attr-defined]
    ctx.settle()


@pytest.fixture
def running(small: Context) -> Iterator[Context]:
    yield small
    small.stop()


def test_roles_resolve_to_whoever_is_on_duty_at_send_time(running: Context) -> None:
    ctx = running
    with ctx.db.unit_of_work() as session:
        s01 = session.scalar(select(Staff.id).where(Staff.code == "S01"))
        night = datetime(2026, 3, 2, 20, 0, tzinfo=TZ)
        session.add(
            RosterShift(staff_id=s01, duty="dispatcher", starts_at=night, ends_at=night + timedelta(hours=12))
        )
    ctx.start()
    request(ctx, "incident.urgent", {"roles": ["dispatcher", "manager_l3"]}, incident_id=1)
    ctx.settle()
    day = rows(ctx)
    assert staff_codes(ctx, day) == ["D01", "M301"]  # D01 on the day shift; no L3 roster → the role
    assert {n.channel for n in day} == {"sms"} and {n.address for n in day} == {"13800000001", "13800000007"}
    ctx.clock.set(datetime(2026, 3, 2, 21, 0, tzinfo=TZ))  # type: ignore[attr-defined]
    request(ctx, "incident.urgent", {"roles": ["dispatcher"], "teams": ["CT-A"]}, incident_id=2)
    ctx.settle()
    night_rows = rows(ctx, incident_id=2)
    assert staff_codes(ctx, night_rows) == ["CA01", "S01"]  # the night dispatcher, the contractor's staff
    request(ctx, "ticket.customer_contact_deferred", {"customers": ["C001"]}, ticket_id=5, channels=["email"])
    ctx.settle()
    [am] = rows(ctx, ticket_id=5)
    assert am.channel == "email" and am.address.startswith("am0")


def test_quiet_hours_defer_unless_urgent_or_on_duty(running: Context, hook: HttpReceiver) -> None:
    ctx = running
    with ctx.db.unit_of_work() as session:
        ids = dict(session.execute(select(Staff.code, Staff.id)).all())
        for code in ("M301", "FM01"):
            session.add(
                NotifyPreference(
                    staff_id=ids[code], channels=["email"], quiet_start="22:00", quiet_end="07:30"
                )
            )
    ctx.clock.set(datetime(2026, 3, 2, 23, 0, tzinfo=TZ))  # type: ignore[attr-defined]
    ctx.start()
    request(ctx, "ticket.breach", {"staff": ["M301", "FM01"]}, ticket_id=9, data={"deadline": "contact"})
    request(ctx, "ticket.escalated", {"staff": ["M301"]}, ticket_id=9, data={"level": "manager_l3"})
    ctx.settle()
    breach = {staff_codes(ctx, [n])[0]: n for n in rows(ctx, kind="ticket.breach")}
    assert breach["M301"].status == "deferred"
    assert breach["M301"].send_after == datetime(2026, 3, 3, 7, 30, tzinfo=TZ)
    assert breach["FM01"].status != "deferred"  # on the fault-manager roster until 08:00: never quiet
    [escalated] = rows(ctx, kind="ticket.escalated")
    assert escalated.status != "deferred" and escalated.channel == "email"
    advance(ctx, 9 * 3600)  # 08:00: the deferred one falls due (no e-mail channel here: it is tried)
    assert rows(ctx, id=breach["M301"].id)[0].attempts == 1


def test_storm_one_message_per_incident_then_news_and_a_digest(running: Context, hook: HttpReceiver) -> None:
    ctx = running
    group(ctx, hook)
    notify = ctx.policy.notify.model_copy(update={"digest_incidents": 3, "digest_window_minutes": 5})
    ctx.notifier.env.policy = ctx.policy.model_copy(update={"notify": notify})
    ctx.start()
    for incident in range(1, 8):  # 7 incidents open within a minute
        request(ctx, "incident.urgent", {"roles": ["fault_manager"]}, incident_id=incident)
    request(ctx, "incident.urgent", {"roles": ["fault_manager"]}, incident_id=1)  # a repeat: nothing new
    request(ctx, "ticket.dispatched", {"roles": ["fault_manager"]}, incident_id=2, ticket_id=20)  # same level
    ctx.settle()
    fm = [n for n in rows(ctx) if n.staff_id is not None]
    singles = [n for n in fm if n.kind != "digest"]
    assert sorted(n.incident_id for n in singles) == [1, 2, 3]
    [digest] = [n for n in fm if n.kind == "digest"]
    assert sorted(digest.data["incidents"]) == ["4", "5", "6", "7"] and "4个故障" in digest.text
    request(ctx, "incident.general", {"roles": ["fault_manager"]}, incident_id=1)  # level change: news
    request(
        ctx,
        "ticket.escalated",
        {"roles": ["fault_manager"]},
        incident_id=1,
        ticket_id=10,
        data={"level": "leader"},
    )
    request(
        ctx,
        "ticket.escalated",
        {"roles": ["fault_manager"]},
        incident_id=1,
        ticket_id=10,
        data={"level": "leader"},
    )
    ctx.settle()
    news = [n for n in rows(ctx, incident_id=1) if n.staff_id is not None]
    assert [n.topic for n in news] == ["level:urgent", "level:general", "escalation:leader"]
    group_texts = [r.json()["text"] for r in hook.received]
    assert len(group_texts) == 3 + 2  # the group robot: 3 singles + 2 news; its digest waits for the window
    advance(ctx, 5 * 60)
    assert any("汇总" in r.json()["text"] for r in hook.received)
    assert rows(ctx, id=digest.id)[0].status == "queued"  # no SMS channel configured: retried, not lost


def test_exactly_once_across_a_restart(small: Context, hook: HttpReceiver) -> None:
    first = small
    group(first, hook)
    request(first, "incident.urgent", {"roles": ["fault_manager"]}, incident_id=1, drill=True)
    with first.db.unit_of_work() as session:  # expanded, then the process dies before delivering
        service.expand(session, first.notifier.env, service.load_storm(session, first.notifier.env), 100)
    second = build_context(first.settings, migrate=False)
    second.clock.set(first.clock.now())  # type: ignore[attr-defined]
    group(second, hook)
    second.start()
    try:
        request(
            second, "incident.urgent", {"roles": ["fault_manager"]}, incident_id=1
        )  # a repeat after restart
        second.settle()
    finally:
        second.stop()
    third = build_context(first.settings, migrate=False)
    third.clock.set(first.clock.now())  # type: ignore[attr-defined]
    group(third, hook)
    third.start()
    try:
        third.settle()
    finally:
        third.stop()
        second.db.dispose()
        third.db.dispose()
    assert len(hook.received) == 1  # delivered once by the second process, never by the third
    made = rows(first, incident_id=1)
    assert sorted(n.channel for n in made) == ["sms", "webhook"]  # FM01's SMS and the group's: no more
    assert all(n.drill and n.text.startswith("【演练】") for n in made)
    assert hook.received[0].json()["drill"] is True


def test_failing_peer_retries_with_backoff_then_fails_and_nothing_is_lost(
    running: Context, client: TestClient, hook: HttpReceiver
) -> None:
    ctx = running
    hook.status = 503
    group(ctx, hook)
    request(ctx, "incident.urgent", {}, incident_id=4)
    ctx.settle()
    [row] = rows(ctx)
    assert row.status == "queued" and row.attempts == 1 and row.last_error == "HTTP 503"
    for wait in ctx.policy.notify.retry_backoff_seconds:
        advance(ctx, wait)
    [row] = rows(ctx)
    assert row.status == "failed" and row.attempts == 5 and len(hook.received) == 5
    hook.status = 200
    request(ctx, "incident.urgent", {}, incident_id=5)
    ctx.settle()
    assert [n.status for n in rows(ctx)] == ["failed", "sent"]
    # the log: admins see the dead letter and its error, dispatchers do not
    listed = client.get("/api/v1/notifications", headers=ADMIN).json()["items"]
    assert [i["status"] for i in listed] == ["sent", "failed"] and listed[1]["last_error"] == "HTTP 503"
    assert listed[0]["related"] == {"incident_id": 5} and listed[0]["recipient"] == {
        "staff": None,
        "address": "noc",
    }
    token = client.post("/api/v1/admin/tokens", json={"staff": "D01"}, headers=ADMIN).json()["token"]
    seen = client.get("/api/v1/notifications", headers=bearer(token)).json()["items"]
    assert [i["status"] for i in seen] == ["sent"] and "last_error" not in seen[0]
    page = client.get("/api/v1/notifications", params={"limit": 1}, headers=ADMIN).json()
    assert len(page["items"]) == 1 and page["next_cursor"]
    later = (START + timedelta(days=1)).isoformat()
    assert client.get("/api/v1/notifications", params={"since": later}, headers=ADMIN).json()["items"] == []
    other = client.post("/api/v1/admin/tokens", json={"staff": "CA01"}, headers=ADMIN).json()["token"]
    assert client.get("/api/v1/notifications", headers=bearer(other)).status_code == 403


def test_urgent_alarm_reaches_phone_dispatch_roles_without_blocking(
    small: Context, client: TestClient
) -> None:
    body = {"source": "ems", "severity": "critical", "ne": "AGG-GL-1", "object": "GE0/1/0", "type": "LOS"}
    assert client.post("/api/v1/alarms", json=body, headers=ADMIN).status_code == 202
    small.settle()
    urgent = rows(small, kind="incident.urgent")
    assert {n.channel for n in urgent} == {"sms", "voice"}
    assert staff_codes(small, urgent) == ["FM01", "S01"]
    text = urgent[0].text
    assert text.startswith("【紧急故障】") and "AGG-GL-1 GE0/1/0" in text and "FZ-C001" in text
    dispatched = rows(small, kind="ticket.dispatched")
    assert staff_codes(small, dispatched) == ["CA01"] and "限" in dispatched[0].text
