"""Notification preferences over the API (own, and anyone's for admins), validated with clear
errors, audited, and obeyed by the expansion: the chosen channel, quiet-hours deferral to the end
of the quiet span (manual clock), urgent kinds never deferred."""

from __future__ import annotations

from datetime import datetime

from fastapi.testclient import TestClient
from sqlalchemy import select

from linewatch.context import Context
from linewatch.db.audit import AuditEntry
from linewatch.notify.models import Notification
from tests.conftest import ADMIN, TZ
from tests.notify.test_flow import request
from tests.tickets.helpers import set_clock, token_for

ME = "/api/v1/me/notify-preferences"


def test_own_preferences_round_trip_and_validation(small: Context, client: TestClient) -> None:
    d01 = token_for(client, "D01")
    empty = client.get(ME, headers=d01).json()
    assert (empty["staff"], empty["channels"], empty["quiet_start"]) == ("D01", [], None)
    assert [c["value"] for c in empty["choices"]] == ["sms", "email", "voice"]
    assert client.get(ME, params={"lang": "en"}, headers=d01).json()["choices"][1]["label"] == "e-mail"
    body = {"channels": ["email", "sms"], "quiet_start": "22:00", "quiet_end": "07:30"}
    saved = client.put(ME, json=body, headers=d01)
    assert saved.status_code == 200, saved.text
    assert client.get(ME, headers=d01).json() | body == client.get(ME, headers=d01).json()
    for bad, words in [
        ({"channels": ["webhook"]}, "webhook"),
        ({"channels": ["sms", "sms"]}, "repeat"),
        ({"channels": [], "quiet_start": "22:00"}, "both"),
        ({"channels": [], "quiet_start": "25:00", "quiet_end": "07:00"}, "25:00"),
        ({"channels": [], "quiet_start": "07:00", "quiet_end": "07:00"}, "differ"),
    ]:
        refused = client.put(ME, json=bad, headers=d01)
        assert refused.status_code == 422 and words in refused.json()["error"], refused.text
    assert client.get(ME, headers=d01).json()["channels"] == ["email", "sms"]  # nothing half-written
    with small.db.reading() as session:
        keys = session.scalars(select(AuditEntry.object_key).where(AuditEntry.action == "notify.preferences"))
        assert list(keys) == ["D01"]  # the one accepted change, audited


def test_admins_edit_anyone_others_may_not(small: Context, client: TestClient) -> None:
    d01 = token_for(client, "D01")
    other = client.put("/api/v1/staff/FM01/notify-preferences", json={"channels": ["sms"]}, headers=d01)
    assert other.status_code == 403
    assert client.get("/api/v1/staff/D01/notify-preferences", headers=d01).status_code == 200  # oneself
    done = client.put("/api/v1/staff/FM01/notify-preferences", json={"channels": ["voice"]}, headers=ADMIN)
    assert done.status_code == 200 and done.json()["channels"] == ["voice"]
    assert client.get("/api/v1/staff/NOPE/notify-preferences", headers=ADMIN).status_code == 404
    unlinked = client.get(ME, headers=ADMIN)  # the bootstrap admin token is no person
    assert unlinked.status_code == 422 and "not linked" in unlinked.json()["error"]


def test_preferences_set_over_the_api_steer_channel_and_quiet_hours(
    small: Context, client: TestClient
) -> None:
    m301 = token_for(client, "M301")
    body = {"channels": ["email"], "quiet_start": "22:00", "quiet_end": "07:30"}
    assert client.put(ME, json=body, headers=m301).status_code == 200
    set_clock(client, small, datetime(2026, 3, 2, 23, 0, tzinfo=TZ))
    request(small, "ticket.breach", {"staff": ["M301"]}, ticket_id=9, data={"deadline": "contact"})
    request(small, "ticket.escalated", {"staff": ["M301"]}, ticket_id=9, data={"level": "manager_l3"})
    small.settle()
    with small.db.reading() as session:
        rows = {n.kind: n for n in session.scalars(select(Notification).where(Notification.ticket_id == 9))}
        session.expunge_all()
    breach, escalated = rows["ticket.breach"], rows["ticket.escalated"]
    assert (breach.channel, breach.status) == ("email", "deferred")
    assert breach.send_after == datetime(2026, 3, 3, 7, 30, tzinfo=TZ)  # the end of the quiet span
    assert escalated.status != "deferred" and escalated.attempts == 1  # urgent kind: tried at once
    set_clock(client, small, datetime(2026, 3, 3, 7, 29, tzinfo=TZ))
    with small.db.reading() as session:
        assert session.get(Notification, breach.id).attempts == 0  # still quiet
    set_clock(client, small, datetime(2026, 3, 3, 7, 30, tzinfo=TZ))
    with small.db.reading() as session:
        assert session.get(Notification, breach.id).attempts == 1  # due: tried (no e-mail peer here)
