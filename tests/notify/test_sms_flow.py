"""SMS delivery receipts through the worker against the real Net::SMPP SMSC (tests/notify/smsc.pl):
an UNDELIV receipt puts the message back in the queue after the policy's backoff, then it is resent;
when every try comes back undelivered the row ends failed. Manual clock for the backoff; the only
waiting is for the SMSC process's receipts to arrive on the socket."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from linewatch.context import Context
from linewatch.db import outbox
from linewatch.notify.channels.sms import SmsChannel, SmsConfig
from linewatch.notify.models import Notification
from tests.notify.peers import Smsc
from tests.notify.test_channels import needs_smsc

pytestmark = needs_smsc


@pytest.fixture
def running(small: Context) -> Iterator[Context]:
    yield small
    small.stop()


def with_smsc(ctx: Context, smsc: Smsc, backoff: list[int] | None = None) -> None:
    config = SmsConfig(host="127.0.0.1", port=smsc.port, system_id="lw", password="pw")
    ctx.notifier.env.channels = [SmsChannel(config, ctx.clock)]
    if backoff is not None:
        notify = ctx.policy.notify.model_copy(update={"retry_backoff_seconds": backoff})
        ctx.notifier.env.policy = ctx.policy.model_copy(update={"notify": notify})
    ctx.start()
    with ctx.db.unit_of_work() as session:
        outbox.request(
            session,
            ctx.clock.now(),
            "incident.urgent",
            {"staff": ["FM01"]},
            {},
            incident_id=1,
            channels=["sms"],
        )
    ctx.settle()


def row(ctx: Context) -> Notification:
    with ctx.db.reading() as session:
        found = session.scalar(select(Notification).where(Notification.channel == "sms"))
        assert found is not None
        session.expunge(found)
        return found


def until(ctx: Context, check: Callable[[Notification], bool], timeout: float = 5.0) -> Notification:
    """Let the worker take receipts until ``check`` holds (the SMSC answers asynchronously)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ctx.notifier.kick()
        ctx.notifier.join()
        current = row(ctx)
        if check(current):
            return current
        time.sleep(0.02)
    raise AssertionError(f"the SMSC's receipt never came: {row(ctx).__dict__}")


def advance(ctx: Context, seconds: float) -> None:
    ctx.clock.advance(seconds)  # type: ignore[attr-defined]
    ctx.settle()


def test_undelivered_receipt_is_retried_after_the_backoff(running: Context) -> None:
    smsc = Smsc("undeliv:1")
    try:
        with_smsc(running, smsc)
        assert [p["id"] for p in smsc.submits(1)] == ["M1000"]
        back = until(running, lambda r: r.receipt == "UNDELIV")
        wait = running.policy.notify.retry_backoff_seconds[0]
        assert (
            back.status == "queued"
            and back.attempts == 1
            and back.send_after == running.clock.now() + timedelta(seconds=wait)
        )
        assert "UNDELIV" in back.last_error and back.data["progress"] == {"parts": [""]}
        advance(running, wait - 1)
        assert row(running).attempts == 1  # not before the backoff
        advance(running, 1)
        resent = until(running, lambda r: r.receipt == "DELIVRD")
        assert resent.status == "sent" and resent.attempts == 2 and resent.provider_id == "M1001"
        first, second = smsc.submits(2)
        assert first["data"] == second["data"] and first["to"] == second["to"] == "13800000006"
    finally:
        running.stop()
        smsc.close()


def test_undelivered_every_time_ends_failed(running: Context) -> None:
    smsc = Smsc("undeliv:all")
    try:
        with_smsc(running, smsc, backoff=[30])
        until(running, lambda r: r.status == "queued")
        advance(running, 30)
        failed = until(running, lambda r: r.status == "failed")
        assert failed.attempts == 2 and "UNDELIV" in failed.last_error and len(smsc.submits(2)) == 2
    finally:
        running.stop()
        smsc.close()
