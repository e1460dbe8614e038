"""Notification figures on /metrics: outcomes by channel, the outbox by status, its backlog and the
age of the oldest queued row (a stuck peer shows there), requests not yet expanded."""

from __future__ import annotations

from datetime import datetime

from fastapi.testclient import TestClient
from sqlalchemy import select

from linewatch.context import Context
from linewatch.inventory.models import Staff
from linewatch.notify.models import NotifyPreference
from tests.conftest import TZ
from tests.notify.peers import HttpReceiver
from tests.notify.test_flow import group, request


def scrape(client: TestClient) -> dict[str, float]:
    text = client.get("/metrics").text
    return {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("linewatch_notify")
    }


def test_notify_counters_and_outbox_gauges(small: Context, client: TestClient) -> None:
    hook = HttpReceiver(status=503)
    try:
        group(small, hook)
        with small.db.unit_of_work() as session:
            m301 = session.scalar(select(Staff.id).where(Staff.code == "M301"))
            session.add(
                NotifyPreference(staff_id=m301, channels=["email"], quiet_start="08:00", quiet_end="10:00")
            )
        request(small, "ticket.breach", {"staff": ["M301"]}, ticket_id=9, data={"deadline": "contact"})
        small.settle()
        before = scrape(client)
        assert before['linewatch_notify_total{channel="webhook",outcome="retried"}'] == 1
        assert before['linewatch_notify_total{channel="email",outcome="deferred"}'] == 1
        assert before['linewatch_notify_outbox{channel="webhook",status="queued"}'] == 1
        assert before['linewatch_notify_outbox{channel="email",status="deferred"}'] == 1
        assert before["linewatch_notify_outbox_depth"] == 2
        assert before["linewatch_notify_oldest_queued_seconds"] == 0
        small.clock.advance(20)  # type: ignore[attr-defined]
        small.settle()
        assert scrape(client)["linewatch_notify_oldest_queued_seconds"] == 20  # waiting for its retry
        request(small, "ticket.breach", {"staff": ["M301"]}, ticket_id=9, data={"deadline": "contact"})
        hook.status = 200
        small.clock.advance(10)  # type: ignore[attr-defined]
        small.settle()
        after = scrape(client)
        assert after['linewatch_notify_total{channel="webhook",outcome="sent"}'] == 1
        assert after['linewatch_notify_total{channel="email",outcome="suppressed"}'] == 1  # told already
        assert after['linewatch_notify_outbox{channel="webhook",status="sent"}'] == 1
        assert after["linewatch_notify_outbox_depth"] == 1  # the deferred e-mail waits for 10:00
        assert after["linewatch_notify_oldest_queued_seconds"] == 0
        assert after["linewatch_notify_requests_pending"] == 0
        assert small.clock.now() < datetime(2026, 3, 2, 10, 0, tzinfo=TZ)
        small.notifier.stop()
        request(small, "incident.urgent", {"staff": ["M301"]}, incident_id=1)
        assert scrape(client)["linewatch_notify_requests_pending"] == 1  # written, not yet expanded
    finally:
        hook.close()
