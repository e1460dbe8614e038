"""Durable ticket timers on the manual clock (both databases): suspend/resume arithmetic, a clock
jump firing everything in order, exactly-once firing across a restart and between two processes,
and a failing handler that holds back nothing else.

Ticket under test: a 10086-8 report on the quiet line FZ-C002-INT-1 at Monday 09:00, with C002
made a gold customer: accept 09:10, contact 09:30, on site 10:00, locate 11:00, recover 17:00
(normal assurance, 8 h); repair ladder 11:30 / 12:00 / 13:00.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from linewatch.app import create_app
from linewatch.context import Context, build_context
from linewatch.core.actor import SYSTEM
from linewatch.db import timers
from linewatch.db.audit import AuditEntry, record
from linewatch.inventory.models import Circuit, Team
from linewatch.settings import Settings
from linewatch.tickets import service
from linewatch.tickets.models import TicketEvent
from tests.conftest import ADMIN_TOKEN
from tests.tickets.helpers import (
    START,
    advance,
    advance_to,
    at,
    event,
    events,
    ok_event,
    outbox,
    report,
    same,
    set_grade,
    ticket,
    timer_rows,
)


def gold_report(client: TestClient, ctx: Context) -> int:
    set_grade(ctx, "C002", "gold")
    response = report(client, customer="C002", circuit="FZ-C002-INT-1", description="断网 line down")
    assert response.status_code == 201, response.text
    return response.json()["id"]


def times(data: dict[str, Any], *types: str) -> list[datetime]:
    return [datetime.fromisoformat(e["at"]) for e in events(data, *types)]


def timer_rows_of(ctx: Context, owner: str) -> list[timers.Timer]:
    with ctx.db.reading() as session:
        rows = list(session.scalars(select(timers.Timer).where(timers.Timer.owner == owner)))
        session.expunge_all()
        return rows


def second_context(ctx: Context, now: datetime) -> Context:
    """Another process on the same database (a restart), its manual clock set before it starts."""
    settings = Settings(
        db=ctx.settings.db, clock="manual", admin_token=ADMIN_TOKEN, snmp_port=0, syslog_port=0
    )
    other = build_context(settings, migrate=False)
    other.clock.set(now)  # type: ignore[attr-defined]
    return other


# ---------------------------------------------------------------- suspend / resume


def test_suspend_pauses_the_clock_and_resume_moves_every_deadline_by_the_suspended_time(
    small: Context, client: TestClient
) -> None:
    ticket_id = gold_report(client, small)
    advance_to(client, small, at(9, 5))
    ok_event(client, ticket_id, type="accept")
    advance_to(client, small, at(9, 20))
    refused = event(client, ticket_id, type="suspend")
    assert refused.status_code == 400 and "reason" in refused.json()["error"]
    got = ok_event(client, ticket_id, type="suspend", note="客户要求改约 customer asks to wait")
    assert got["state"] == "suspended" and got["suspended"] is True
    assert timer_rows(small, ticket_id) and all(t.fired_at for t in timer_rows(small, ticket_id))
    assert event(client, ticket_id, type="suspend", note="again").status_code == 409
    assert event(client, ticket_id, type="contact").status_code == 409  # resume first

    # an hour suspended: the contact (09:30) and on-site (10:00) deadlines and the 10:00 progress
    # reminder would have fallen due; the paused clock fires none of them
    advance_to(client, small, at(10, 20))
    got = ticket(client, ticket_id)
    assert got["breaches"] == [] and events(got, "progress_due") == []
    assert got["suspended_seconds"] == 3600  # the running suspension counts …
    assert same(got["deadlines"]["contact"], at(10, 30))  # … and the deadlines move with it

    got = ok_event(client, ticket_id, type="resume", note="客户已回复 customer is back")
    assert got["state"] == "accepted" and got["suspended"] is False and got["suspended_seconds"] == 3600
    expected = {
        "accept": at(10, 10),
        "contact": at(10, 30),
        "on_site": at(11),
        "locate": at(12),
        "recover": at(18),
    }
    assert {k: datetime.fromisoformat(v) for k, v in got["deadlines"].items()} == expected
    # resume rescheduled the timers still to come, later by the hour (accept was met: none for it)
    pending = {t.kind: t.due_at for t in timer_rows(small, ticket_id) if t.fired_at is None}
    assert pending == {
        "deadline:contact": at(10, 30),
        "deadline:on_site": at(11),
        "deadline:locate": at(12),
        "deadline:recover": at(18),
        "escalate:fault_manager": at(12, 30),
        "escalate:manager_l3": at(13),
        "escalate:leader": at(14),
        "progress": at(11, 20),
    }

    advance_to(client, small, at(10, 29, 59))
    assert ticket(client, ticket_id)["breaches"] == []
    advance_to(client, small, at(10, 30))
    got = ticket(client, ticket_id)
    assert got["breaches"] == ["contact"] and times(got, "breach") == [at(10, 30)]

    # a second suspension of 30 minutes adds up: on site is now due at 10:00 + 1.5 h
    advance_to(client, small, at(10, 40))
    ok_event(client, ticket_id, type="suspend", note="等客户开门 waiting for the customer's key")
    advance_to(client, small, at(11, 10))
    got = ok_event(client, ticket_id, type="resume")
    assert got["suspended_seconds"] == 5400 and same(got["deadlines"]["on_site"], at(11, 30))
    assert event(client, ticket_id, type="resume").status_code == 409  # not suspended
    advance_to(client, small, at(11, 29, 59))
    assert ticket(client, ticket_id)["breaches"] == ["contact"]
    advance_to(client, small, at(11, 30))
    assert ticket(client, ticket_id)["breaches"] == ["contact", "on_site"]
    advance_to(client, small, at(13, 0))  # repair ladder's first rung: 11:30 + 1.5 h
    got = ticket(client, ticket_id)
    assert [(e["level"], datetime.fromisoformat(e["at"])) for e in got["escalations"]] == [
        ("fault_manager", at(12, 30)),  # not located by 12:30 (技术支援)
        ("fault_manager", at(13)),
    ]
    # progress reminders stop while suspended and come back an hour after each resume
    assert times(got, "progress_due") == [at(12, 10)]
    assert [e["type"] for e in events(got, "suspended", "resumed")] == ["suspended", "resumed"] * 2
    assert events(got, "suspended")[0]["note"] == "客户要求改约 customer asks to wait"


def test_a_recovered_ticket_cannot_be_suspended(small: Context, client: TestClient) -> None:
    ticket_id = gold_report(client, small)
    ok_event(client, ticket_id, type="recovered")
    assert event(client, ticket_id, type="suspend", note="wait").status_code == 409


# ---------------------------------------------------------------- a jump of many hours


def test_a_clock_jump_fires_everything_due_once_and_in_order(small: Context, client: TestClient) -> None:
    ticket_id = gold_report(client, small)
    advance_to(client, small, at(9, 5))
    ok_event(client, ticket_id, type="accept")
    advance(client, small, 13 * 3600 - 300)  # one move: 09:05 → 22:00
    got = ticket(client, ticket_id)
    assert times(got, "progress_due") == [at(h) for h in range(10, 23)]  # each hour once
    assert [(e["data"]["deadline"], datetime.fromisoformat(e["at"])) for e in events(got, "breach")] == [
        ("contact", at(9, 30)),
        ("on_site", at(10)),
        ("locate", at(11)),
        ("recover", at(17)),
    ]
    assert [(e["level"], datetime.fromisoformat(e["at"])) for e in got["escalations"]] == [
        ("fault_manager", at(11)),
        ("fault_manager", at(11, 30)),
        ("manager_l3", at(12)),
        ("leader", at(13)),
    ]
    # fired in the order they fell due, hourly reminders interleaved, not after everything else
    fired = [datetime.fromisoformat(e["at"]) for e in events(got, "breach", "escalation", "progress_due")]
    assert fired == sorted(fired) and len(fired) == 13 + 4 + 4
    rows = outbox(small, "ticket.escalated", ticket_id)
    assert [r.audience["roles"] for r in rows] == [
        ["fault_manager"],
        ["fault_manager"],
        ["manager_l3"],
        ["leader"],
    ]
    # every timer fired at the jump's end; none is left due
    fired_rows = [t for t in timer_rows(small, ticket_id) if t.outcome == "fired"]
    assert fired_rows and all(t.fired_at == at(22) for t in fired_rows)
    pending = [(t.kind, t.due_at) for t in timer_rows(small, ticket_id) if t.fired_at is None]
    assert pending == [("progress", at(23))]
    advance(client, small, 0)  # another tick at the same time fires nothing more
    assert ticket(client, ticket_id)["events"] == got["events"]


# ---------------------------------------------------------------- restarts and two processes


def test_restart_neither_loses_nor_repeats_a_timer(small: Context) -> None:
    with TestClient(create_app(small)) as client:
        ticket_id = gold_report(client, small)
        advance_to(client, small, at(9, 5))
        ok_event(client, ticket_id, type="accept")
        ok_event(client, ticket_id, type="contact")
        advance_to(client, small, at(11, 45))
        before = ticket(client, ticket_id)
        assert [e["level"] for e in before["escalations"]] == ["fault_manager", "fault_manager"]
    # the server is down from 11:45 to 14:30: the 12:00 and 13:00 rungs and three reminders fall due
    restarted = second_context(small, at(14, 30))
    try:
        with TestClient(create_app(restarted)) as client:  # start() fires what fell due while down
            got = ticket(client, ticket_id)
    finally:
        restarted.db.dispose()
    assert got["events"][: len(before["events"])] == before["events"]  # nothing before it repeated
    assert [(e["level"], datetime.fromisoformat(e["at"])) for e in got["escalations"]] == [
        ("fault_manager", at(11)),
        ("fault_manager", at(11, 30)),
        ("manager_l3", at(12)),
        ("leader", at(13)),
    ]
    assert times(got, "progress_due") == [at(h) for h in range(10, 15)]
    assert got["breaches"] == ["on_site", "locate"]  # recovery is due at 17:00 (8 h)
    assert len(outbox(small, "ticket.escalated", ticket_id)) == 4

    # a third start at the same time, and the first process's own worker: nothing fires again
    again = second_context(small, at(14, 30))
    try:
        again.start()
        assert again.downstream.stats["timers_fired"] == 0
        again.stop()
    finally:
        again.db.dispose()
    assert small.downstream.fire_timers() == 0
    with small.db.reading() as session:
        stored = list(session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id)))
    assert len(stored) == len(got["events"])


class Crash(BaseException):
    """Stands for the process dying mid-transaction (not an Exception: nothing catches it)."""


def test_a_crash_mid_batch_rolls_back_effects_and_marks_together(small: Context) -> None:
    env = small.downstream.env
    with small.db.unit_of_work() as session:
        team = session.scalar(select(Team).where(Team.code == "CT-B"))
        circuit = session.scalar(select(Circuit).where(Circuit.code == "FZ-C002-INT-1"))
        ids = [
            service.open_ticket(session, env, "test", channel="console", team=team, circuits=[circuit]).id
            for _ in range(3)
        ]
    small.clock.set(at(12))  # type: ignore[attr-defined]  (not started: moving the clock fires nothing)
    handler = service.on_timer(env)
    calls = [0]

    def dying(session: Any, timer: timers.Timer, now: datetime) -> None:
        calls[0] += 1
        handler(session, timer, now)
        if calls[0] == 7:
            raise Crash

    with pytest.raises(Crash):
        timers.fire_due(small.db.unit_of_work, {"ticket": dying}, small.clock.now())
    assert all(t.fired_at is None for t in timer_rows(small))  # the batch's marks rolled back …
    with small.db.reading() as session:
        assert not list(
            session.scalars(select(TicketEvent).where(TicketEvent.type != "dispatched"))
        )  # … effects too
    assert small.downstream.fire_timers() > 0
    for ticket_id in ids:
        with small.db.reading() as session:
            kinds = [
                (e.type, e.at, (e.data or {}).get("deadline") or e.note)
                for e in session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id))
            ]
        assert len(kinds) == len(set(kinds))  # each effect once


@pytest.mark.parametrize("tickets_count", [40])
def test_two_processes_firing_at_once_fire_each_timer_once(small: Context, tickets_count: int) -> None:
    env = small.downstream.env
    with small.db.unit_of_work() as session:
        team = session.scalar(select(Team).where(Team.code == "CT-B"))
        circuit = session.scalar(select(Circuit).where(Circuit.code == "FZ-C002-INT-1"))
        for _ in range(tickets_count):
            service.open_ticket(session, env, "test", channel="console", team=team, circuits=[circuit])
    small.clock.set(at(23))  # type: ignore[attr-defined]
    other = second_context(small, at(23))
    counts: list[int] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def fire(ctx: Context) -> None:
        try:
            barrier.wait()
            counts.append(ctx.downstream.fire_timers())
        except BaseException as exc:  # reported below
            errors.append(exc)

    try:
        threads = [threading.Thread(target=fire, args=(c,)) for c in (small, other)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    finally:
        other.db.dispose()
    assert not errors, errors
    rows = timer_rows(small)
    fired = [t for t in rows if t.outcome == "fired"]
    assert sum(counts) == len(fired) and all(t.due_at <= at(23) for t in fired)
    assert not [t for t in rows if t.fired_at is None and t.due_at <= at(23)]
    # per ticket: 14 hourly reminders (10:00 … 23:00), 5 breaches, 4 escalations — each once
    with small.db.reading() as session:
        keys = [
            (e.ticket_id, e.type, e.at, (e.data or {}).get("deadline"), (e.data or {}).get("trigger"))
            for e in session.scalars(select(TicketEvent).where(TicketEvent.type != "dispatched"))
        ]
    assert len(keys) == len(set(keys)) == tickets_count * (14 + 5 + 4)


def test_a_failing_handler_is_marked_failed_and_holds_back_nothing(small: Context) -> None:
    with small.db.unit_of_work() as session:
        for n in range(5):
            timers.schedule(session, "probe", n, "check", START + timedelta(minutes=n))

    def handler(session: Any, timer: timers.Timer, now: datetime) -> None:
        record(session, small.clock, SYSTEM.label, "probe", "timer", str(timer.owner_id))
        if timer.owner_id == 2:
            raise RuntimeError("bad row")

    fired = timers.fire_due(small.db.unit_of_work, {"probe": handler}, START + timedelta(hours=1))
    assert fired == 4
    with small.db.reading() as session:
        outcomes = dict(session.execute(select(timers.Timer.owner_id, timers.Timer.outcome)).all())
        probed = sorted(
            int(k) for k in session.scalars(select(AuditEntry.object_key).where(AuditEntry.action == "probe"))
        )
    assert outcomes == {0: "fired", 1: "fired", 2: "failed", 3: "fired", 4: "fired"}
    assert probed == [0, 1, 3, 4]  # committed effects: each once, none of the failed handler's
    assert timers.fire_due(small.db.unit_of_work, {"probe": handler}, START + timedelta(hours=1)) == 0


def test_a_database_error_marks_nothing_and_the_next_tick_fires_it(small: Context) -> None:
    with small.db.unit_of_work() as session:
        timers.schedule(session, "probe", 1, "check", START)
    calls: list[int] = []

    def handler(session: Any, timer: timers.Timer, now: datetime) -> None:
        calls.append(timer.owner_id)
        if len(calls) == 1:
            raise OperationalError("INSERT …", {}, Exception("connection lost"))

    with pytest.raises(OperationalError):
        timers.fire_due(small.db.unit_of_work, {"probe": handler}, START)
    assert [t.fired_at for t in timer_rows_of(small, "probe")] == [None]  # not lost, not failed
    assert timers.fire_due(small.db.unit_of_work, {"probe": handler}, START) == 1
    assert [t.outcome for t in timer_rows_of(small, "probe")] == ["fired"]


@pytest.mark.parametrize("batch", [1, 4, 500])
def test_small_batches_keep_the_due_order_across_a_jump(small: Context, batch: int) -> None:
    env = small.downstream.env
    with small.db.unit_of_work() as session:
        team = session.scalar(select(Team).where(Team.code == "CT-B"))
        circuit = session.scalar(select(Circuit).where(Circuit.code == "FZ-C002-INT-1"))
        for minutes in (0, 7, 31):
            small.clock.set(START + timedelta(minutes=minutes))  # type: ignore[attr-defined]
            service.open_ticket(session, env, "test", channel="console", team=team, circuits=[circuit])
    end = at(22)
    fired = timers.fire_due(small.db.unit_of_work, small.downstream.handlers, end, batch=batch)
    with small.db.reading() as session:
        effects = list(
            session.execute(
                select(TicketEvent.at, TicketEvent.type)
                .where(TicketEvent.type != "dispatched")
                .order_by(TicketEvent.id)
            )
        )
    moments = [moment for moment, _ in effects]
    assert moments == sorted(moments)  # across tickets too: one global due order
    # three tickets, normal track: 12-13 reminders each, 5 breaches and 4 escalations each (the
    # locate deadline's timer also escalates, for 技术支援: one timer, two events)
    progress = sum(1 for _, kind in effects if kind == "progress_due")
    assert len(effects) == progress + 3 * 9 and fired == len(effects) - 3
    assert not [t for t in timer_rows(small) if t.fired_at is None and t.due_at <= end]


def test_a_stop_ends_firing_after_the_batch_under_way_and_the_rest_stay_due(small: Context) -> None:
    with small.db.unit_of_work() as session:
        for n in range(5):
            timers.schedule(session, "probe", n, "check", START + timedelta(minutes=n))
    stopping = threading.Event()

    def handler(session: Any, timer: timers.Timer, now: datetime) -> None:
        stopping.set()  # the stop comes while the first batch is under way

    fired = timers.fire_due(
        small.db.unit_of_work, {"probe": handler}, START + timedelta(hours=1), 2, stopping=stopping.is_set
    )
    assert fired == 2
    assert [t.fired_at is None for t in timer_rows_of(small, "probe")].count(True) == 3  # the next start's
    assert timers.fire_due(small.db.unit_of_work, {"probe": handler}, START + timedelta(hours=1)) == 3
