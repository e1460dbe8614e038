"""The live stream (SSE) over a real HTTP server: ids, Last-Event-ID replay, resync, restarts."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from linewatch.app import create_app
from linewatch.context import Context
from linewatch.web.stream import RING_SIZE, LiveHub
from tests.browser.conftest import serve
from tests.conftest import ADMIN

LOS = {"source": "ems-huawei", "ne": "AGG-GL-1", "object": "GE0/1/0", "type": "LOS", "severity": "critical"}


class Server:
    def __init__(self, url: str, hub: LiveHub, ctx: Context) -> None:
        self.url, self.hub, self.ctx = url, hub, ctx
        self.http = httpx.Client(base_url=url, headers=ADMIN, timeout=10)

    def post_alarm(self, **changes: Any) -> None:
        response = self.http.post("/api/v1/alarms", json={**LOS, **changes})
        assert response.status_code == 202, response.text
        self.ctx.settle()

    def frames(self, count: int, last_event_id: int | None = None) -> list[dict[str, Any]]:
        """The first ``count`` events of a new stream (``retry``/heartbeat lines skipped)."""
        headers = {"Last-Event-ID": str(last_event_id)} if last_event_id is not None else {}
        out: list[dict[str, Any]] = []
        frame: dict[str, Any] = {}
        with self.http.stream("GET", "/api/v1/stream", headers=headers, timeout=5) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            for line in response.iter_lines():
                if line.startswith(("id: ", "event: ", "data: ")):
                    key, _, value = line.partition(": ")
                    frame[key] = json.loads(value) if key == "data" else value
                elif line == "" and frame:
                    out.append(frame)
                    frame = {}
                    if len(out) == count:
                        return out
        raise AssertionError(f"the stream ended after {out}")


@pytest.fixture
def server(small: Context) -> Iterator[Server]:
    app = create_app(small)
    with serve(app) as url:
        instance = Server(url, app.state.live, small)
        yield instance
        instance.http.close()


def test_a_new_stream_says_hello_with_the_last_id_and_replays_nothing(server: Server) -> None:
    server.post_alarm()
    last = server.hub.last_id
    assert last >= 1
    [hello] = server.frames(1)
    # its id is where a reconnect resumes from, so that a browser reconnecting before any event
    # came sends Last-Event-ID and gets a replay, not a resync
    assert hello == {"id": str(last), "event": "hello", "data": {"last_id": last, "resumed": False}}


def test_last_event_id_replays_exactly_the_missed_events_in_order(server: Server) -> None:
    server.post_alarm()
    seen = server.hub.last_id
    server.post_alarm(ne="AGG-GL-2", object="GE0/2/5", type="LINK_DOWN")
    server.post_alarm(severity="cleared")
    missed = [e for e in server.hub.ring if e.id > seen]
    assert len(missed) >= 3  # alarms stored and incidents changed, for each post

    hello, *replayed = server.frames(1 + len(missed), last_event_id=seen)
    assert hello["data"] == {"last_id": server.hub.last_id, "resumed": True}
    assert hello["id"] == str(seen)  # a drop during the replay resumes where it left off
    assert [int(f["id"]) for f in replayed] == [e.id for e in missed]
    assert [f["event"] for f in replayed] == [e.name for e in missed]
    assert {"incidents", "alarms"} <= {f["event"] for f in replayed}
    kinds = [c["kind"] for f in replayed if f["event"] == "incidents" for c in f["data"]["changes"]]
    assert "opened" in kinds and "recovered" in kinds


def test_an_id_older_than_the_ring_gets_a_resync_then_what_the_ring_holds(server: Server) -> None:
    server.post_alarm()
    gone = server.hub.last_id  # the client saw this far
    server.post_alarm(severity="cleared")  # then missed these, and the ring moves past them:
    for n in range(RING_SIZE):
        server.hub.add("alarms", {"kind": "alarms", "ids": [n]})
    oldest = server.hub.ring[0].id
    assert oldest > gone + 1
    hello, resync, first = server.frames(3, last_event_id=gone)
    assert hello["event"] == "hello"
    assert resync == {"event": "resync", "data": {"kind": "resync"}}
    assert int(first["id"]) == oldest


def test_an_id_from_before_a_restart_gets_a_resync_and_the_new_events(server: Server) -> None:
    """Ids start again at 1 when the server restarts: a client's higher id must not hide them."""
    server.post_alarm()
    hello, resync, first = server.frames(3, last_event_id=server.hub.last_id + 500)
    assert hello["data"]["resumed"] is True
    assert resync["event"] == "resync"
    assert int(first["id"]) == 1


def test_an_up_to_date_client_gets_no_resync(server: Server) -> None:
    server.post_alarm()
    last = server.hub.last_id
    hello, after = _hello_then_next(server, last)
    assert hello["data"]["resumed"] is True
    assert after["event"] == "alarms" and int(after["id"]) == last + 1


def _hello_then_next(server: Server, last: int) -> list[dict[str, Any]]:
    """Subscribe with ``last``, then cause one new event while the stream is open."""
    result: list[list[dict[str, Any]]] = []
    reader = threading.Thread(target=lambda: result.append(server.frames(2, last_event_id=last)))
    reader.start()
    while not server.hub.waiters and reader.is_alive():
        threading.Event().wait(0.01)
    server.hub.add("alarms", {"kind": "alarms", "ids": [999]})
    reader.join(timeout=10)
    assert result, "the stream delivered nothing"
    return result[0]


def test_incidents_by_ids_for_live_pages(small: Context, client: Any) -> None:
    """After an event names incidents, a page re-reads just those (``ids``), recovered ones too."""
    for alarm in (LOS, {**LOS, "ne": "OLT-TJ-1", "object": "0/1/1", "type": "PON_LOS"}):
        assert client.post("/api/v1/alarms", json=alarm, headers=ADMIN).status_code == 202
    small.settle()
    listed = client.get("/api/v1/incidents", headers=ADMIN).json()["items"]
    assert len(listed) == 2
    first, second = sorted(i["id"] for i in listed)
    assert (
        client.post("/api/v1/alarms", json={**LOS, "severity": "cleared"}, headers=ADMIN).status_code == 202
    )
    small.settle()
    got = client.get(f"/api/v1/incidents?state=all&ids={first}", headers=ADMIN).json()["items"]
    assert [(i["id"], i["state"]) for i in got] == [(first, "recovered")]
    both = client.get(f"/api/v1/incidents?state=open&ids={first},{second}", headers=ADMIN).json()["items"]
    assert [i["id"] for i in both] == [second]
    for bad in ("x", "1,,a", ",".join(["1"] * 1001)):
        response = client.get(f"/api/v1/incidents?ids={bad}", headers=ADMIN)
        assert response.status_code == 400 and "ids" in response.json()["error"], bad


def test_an_alarm_event_names_the_incidents_its_alarms_joined(server: Server) -> None:
    """A second alarm on a port already down joins its incident without changing what it hurts:
    no incident event; the alarm event names the incident, so a wall re-reads just that one."""
    server.post_alarm()
    [opened] = [e for e in server.hub.ring if e.name == "incidents"]
    incident = opened.data["changes"][0]["incident_id"]
    seen = server.hub.last_id
    server.post_alarm(type="ETH_LOS", severity="major")
    server.post_alarm(ne="UNKNOWN-NE", object="x")  # matches nothing: no incident to name
    after = [e for e in server.hub.ring if e.id > seen]
    assert [e.name for e in after] == ["alarms", "alarms"]
    joined, unmatched = after
    assert joined.data["incidents"] == [incident]
    assert len(joined.data["ids"]) == 1 and joined.data["ids"][0] not in opened.data.get("ids", [])
    assert unmatched.data["incidents"] == []
    frames = server.frames(3, last_event_id=seen)
    assert frames[1]["data"]["incidents"] == [incident]  # on the wire for wide roles
