"""Prometheus Alertmanager webhook: the pure normaliser, the endpoint, and the real Alertmanager as sender.

The network is tests/fixtures/inventory/small: ACC-GL-1 has management IP 10.0.2.1 and carries the
primary route of FZ-C001-DATA-1 on GE0/2/1.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from linewatch.alarms.normalise import AlarmEvent, Rejected
from linewatch.app import create_app
from linewatch.context import Context
from linewatch.ingest.alertmanager import host_of, normalise_alertmanager
from tests.conftest import ADMIN, ADMIN_TOKEN, START, TZ, bearer

URL = "/api/v1/ingest/alertmanager"
ALIASES = {"LINKDOWN": "LINK_DOWN"}
KNOWN = {"ACC-GL-1", "AGG-GL-1"}


def known(name: str) -> bool:
    return name in KNOWN


def am_alert(
    labels: dict[str, str],
    *,
    status: str = "firing",
    starts: str = "2026-03-02T01:00:00.123456789Z",
    ends: str = "0001-01-01T00:00:00Z",
    fingerprint: str = "c4a4c1e4d2b5e7f0",
    **annotations: str,
) -> dict[str, Any]:
    return {
        "status": status,
        "labels": labels,
        "annotations": annotations,
        "startsAt": starts,
        "endsAt": ends,
        "generatorURL": "http://prometheus:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1",
        "fingerprint": fingerprint,
    }


def webhook(*alerts: dict[str, Any], receiver: str = "linewatch", status: str = "firing") -> dict[str, Any]:
    """The version-4 body exactly as Alertmanager's docs describe it."""
    common = dict(alerts[0]["labels"]) if alerts else {}
    return {
        "version": "4",
        "groupKey": '{}/{}:{alertname="LinkDown"}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": receiver,
        "groupLabels": {"alertname": common.get("alertname", "")},
        "commonLabels": common,
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": list(alerts),
    }


LINK_DOWN = {
    "alertname": "LinkDown",
    "instance": "10.0.2.1:9100",
    "port": "GE0/2/1",
    "severity": "critical",
}


def normalise(payload: Any) -> list[AlarmEvent | Rejected]:
    return normalise_alertmanager(payload, START, TZ, ALIASES, known)


# --------------------------------------------------------------------------- the pure normaliser


def test_firing_alert_becomes_an_event_with_every_field() -> None:
    alert = am_alert(LINK_DOWN, summary="GE0/2/1 down", description="ifOperStatus 2 for 1m")
    [event] = normalise(webhook(alert, receiver="noc"))
    assert isinstance(event, AlarmEvent)
    assert (event.source, event.ne, event.ne_ip) == ("alertmanager:noc", "", "10.0.2.1")
    assert event.object == "GE0/2/1"
    assert (event.type, event.severity) == ("LINK_DOWN", "critical")
    assert event.event_time == datetime(2026, 3, 2, 1, 0, 0, 123456, tzinfo=UTC)
    assert event.text == "GE0/2/1 down — ifOperStatus 2 for 1m"
    assert event.source_id == "c4a4c1e4d2b5e7f0"


def test_resolved_alert_clears_at_its_end_time() -> None:
    alert = am_alert(LINK_DOWN, status="resolved", ends="2026-03-02T01:05:00Z")
    [event] = normalise(webhook(alert, status="resolved"))
    assert isinstance(event, AlarmEvent) and event.is_clear
    assert event.event_time == datetime(2026, 3, 2, 1, 5, tzinfo=UTC)


def test_go_zero_times_fall_back_to_receipt() -> None:
    firing = am_alert(LINK_DOWN, starts="0001-01-01T00:00:00Z")
    resolved = am_alert(LINK_DOWN, status="resolved", ends="0001-01-01T00:00:00Z")
    events = normalise(webhook(firing, resolved))
    assert [e.event_time for e in events if isinstance(e, AlarmEvent)] == [START, START]


@pytest.mark.parametrize(
    ("labels", "ne", "ne_ip"),
    [
        ({"ne": "CORE-1", "instance": "10.0.2.1:9100"}, "CORE-1", ""),  # label ne wins
        ({"instance": "ACC-GL-1:9100"}, "ACC-GL-1", ""),
        ({"instance": "acc-gl-9.example.net:9100"}, "acc-gl-9.example.net", ""),  # unknown: kept as is
        ({"instance": "AGG-GL-1.noc.example.net:161"}, "AGG-GL-1", ""),  # FQDN of a known NE
        ({"instance": "10.0.2.1"}, "", "10.0.2.1"),
        ({"instance": "[2001:db8::0:1]:9100"}, "", "2001:db8::1"),
        ({"instance": "2001:db8::1"}, "", "2001:db8::1"),
        ({"instance": "https://10.0.9.1:8443/probe"}, "", "10.0.9.1"),
    ],
)
def test_network_element_from_ne_or_instance(labels: dict[str, str], ne: str, ne_ip: str) -> None:
    [event] = normalise(webhook(am_alert({"alertname": "LinkDown", **labels})))
    assert isinstance(event, AlarmEvent)
    assert (event.ne, event.ne_ip) == (ne, ne_ip)


@pytest.mark.parametrize(
    ("instance", "host"),
    [("h:9100", "h"), ("[::1]:9100", "::1"), ("::1", "::1"), ("h", "h"), ("http://h:1/x", "h"), ("", "")],
)
def test_host_of_instance(instance: str, host: str) -> None:
    assert host_of(instance) == host


@pytest.mark.parametrize(
    ("severity", "expected"),
    [
        ("critical", "critical"),
        ("page", "critical"),
        ("warning", "warning"),
        ("info", "warning"),
        ("none", "indeterminate"),
        ("MAJOR", "major"),
        ("p1-urgent", "indeterminate"),  # unknown: kept, not refused
        ("ok", "indeterminate"),  # only status=resolved clears
        (None, "indeterminate"),
    ],
)
def test_prometheus_severities(severity: str | None, expected: str) -> None:
    labels = {"alertname": "HighLatency", "ne": "CORE-1"} | ({"severity": severity} if severity else {})
    [event] = normalise(webhook(am_alert(labels)))
    assert isinstance(event, AlarmEvent) and event.severity == expected


def test_type_and_object_fall_backs() -> None:
    labels = {"alertname": "Whatever", "alarm_type": "r-los", "ne": "CORE-1", "interface": "10GE1/0/1"}
    [event] = normalise_alertmanager(webhook(am_alert(labels)), START, TZ, {"R_LOS": "LOS"}, known)
    assert isinstance(event, AlarmEvent)
    assert (event.type, event.object, event.source_id) == ("LOS", "10GE1/0/1", "c4a4c1e4d2b5e7f0")


def test_missing_labels_reject_that_alert_only() -> None:
    no_ne = am_alert({"alertname": "LinkDown", "port": "GE0/2/1"})
    no_type = am_alert({"instance": "10.0.2.1:9100"})
    bad_time = am_alert(LINK_DOWN, starts="yesterday")
    results = normalise(webhook(am_alert(LINK_DOWN), no_ne, no_type, bad_time))
    assert isinstance(results[0], AlarmEvent)
    reasons = [r.reason for r in results[1:] if isinstance(r, Rejected)]
    assert reasons == [
        "no network element: neither label 'ne' nor 'instance' is set (alert 'LinkDown')",
        "no alarm type: neither label 'alarm_type' nor 'alertname' is set",
        "'startsAt' is not an RFC 3339 time: 'yesterday'",
    ]


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ([], "must be a JSON object, not list"),
        ({"alerts": []}, "unsupported Alertmanager webhook version None"),
        ({"version": "3", "alerts": []}, "version '3'"),
        ({"version": "4"}, "'alerts' must be a list, not NoneType"),
        ({"version": "4", "alerts": {}}, "'alerts' must be a list, not dict"),
        ({"version": "4", "alerts": []}, "'alerts' is empty"),
        ({"version": "4", "alerts": [{}], "receiver": 7}, "'receiver' must be a string"),
    ],
)
def test_bad_envelope_is_one_rejection(payload: Any, reason: str) -> None:
    [result] = normalise(payload)
    assert isinstance(result, Rejected) and reason in result.reason


def test_alert_entries_of_the_wrong_shape_are_refused() -> None:
    results = normalise(
        webhook(am_alert(LINK_DOWN), "x", {"labels": []}, {"labels": LINK_DOWN, "status": "pending"})  # type: ignore[arg-type]
    )
    assert isinstance(results[0], AlarmEvent)
    assert [r.reason for r in results[1:] if isinstance(r, Rejected)] == [
        "an alert must be a JSON object, not str",
        "'labels' must be an object, not list",
        "'status' must be 'firing' or 'resolved', not 'pending' (alert 'LinkDown')",
    ]


# --------------------------------------------------------------------------- the endpoint


def post(client: TestClient, payload: Any, status: int = 202, headers: dict[str, str] = ADMIN) -> Any:
    response = client.post(URL, json=payload, headers=headers)
    assert response.status_code == status, response.text
    return response.json()


def alarms(client: TestClient) -> list[dict[str, Any]]:
    response = client.get("/api/v1/alarms", params={"state": "all"}, headers=ADMIN)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def rejected(client: TestClient) -> list[dict[str, Any]]:
    return client.get("/api/v1/ingest/rejected", headers=ADMIN).json()["items"]


def test_firing_then_resolved_clears_the_same_alarm(small: Context, client: TestClient) -> None:
    firing = post(client, webhook(am_alert(LINK_DOWN, summary="link down")))
    assert firing["accepted"] == 1 and firing["rejected"] == []
    [alarm] = alarms(client)
    assert (alarm["ne"], alarm["object"], alarm["type"]) == ("ACC-GL-1", "GE0/2/1", "LINK_DOWN")
    assert (alarm["severity"], alarm["state"]) == ("critical", "active")
    assert alarm["source"] == "alertmanager:linewatch"
    assert alarm["circuits"] == ["FZ-C001-DATA-1"] and alarm["text"] == "link down"
    post(client, webhook(am_alert(LINK_DOWN, summary="link down")))  # Alertmanager's repeat: same alarm
    resolved = am_alert(LINK_DOWN, status="resolved", ends="2026-03-02T01:07:00Z")
    cleared = post(client, webhook(resolved, status="resolved"))
    assert cleared["ids"] == firing["ids"]
    [alarm] = alarms(client)
    assert alarm["id"] == firing["ids"][0] and alarm["state"] == "cleared"


def test_instance_name_matches_the_ne_by_name(small: Context, client: TestClient) -> None:
    labels = {"alertname": "NodeDown", "instance": "AGG-GL-1:9100", "severity": "warning"}
    post(client, webhook(am_alert(labels)))
    [alarm] = alarms(client)
    assert (alarm["ne"], alarm["type"], alarm["severity"]) == ("AGG-GL-1", "NODEDOWN", "warning")


def test_good_alerts_accepted_and_bad_ones_dead_lettered(small: Context, client: TestClient) -> None:
    bad = am_alert({"alertname": "LinkDown", "port": "GE0/2/2"}, fingerprint="bad")
    body = post(client, webhook(am_alert(LINK_DOWN), bad))
    assert body["accepted"] == 1
    reason = "no network element: neither label 'ne' nor 'instance' is set (alert 'LinkDown')"
    assert body["rejected"] == [{"index": 1, "error": reason}]
    [letter] = rejected(client)
    assert letter["channel"] == "alertmanager" and letter["reason"].startswith("item 1: no network element")
    assert json.loads(letter["payload"])["fingerprint"] == "bad"


def test_bad_envelope_is_400_and_dead_lettered(small: Context, client: TestClient) -> None:
    body = post(client, {"version": "3", "alerts": [am_alert(LINK_DOWN)]}, status=400)
    assert body["accepted"] == 0 and "version '3'" in body["rejected"][0]["error"]
    post(client, {"version": "4", "alerts": [am_alert({"alertname": "X"})]}, status=400)
    response = client.post(URL, content=b"{not json", headers=ADMIN)
    assert response.status_code == 400
    letters = rejected(client)
    assert len(letters) == 3 and {x["channel"] for x in letters} == {"alertmanager"}
    assert json.loads(letters[2]["payload"])["version"] == "3"
    assert alarms(client) == []


def test_size_limit_and_access(small: Context, client: TestClient) -> None:
    limit = small.policy.ingest.max_body_bytes
    response = client.post(URL, content=b" " * (limit + 1), headers=ADMIN)
    assert response.status_code == 413
    assert client.post(URL, json=webhook(am_alert(LINK_DOWN))).status_code == 401
    issued = client.post("/api/v1/admin/tokens", json={"kind": "ingest", "name": "am"}, headers=ADMIN)
    assert issued.status_code == 201, issued.text
    post(client, webhook(am_alert(LINK_DOWN)), headers=bearer(issued.json()["token"]))


# --------------------------------------------------------------------------- the real Alertmanager


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(what: str, check: Callable[[], Any], seconds: float = 20) -> Any:
    """Poll ``check`` (an I/O call) until it returns something truthy; bounded."""
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds} s waiting for {what}")
        time.sleep(0.1)


@pytest.fixture
def alertmanager_binary() -> str:
    binary = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
    if binary is None:
        reason = "prometheus-alertmanager binary not found on PATH"
        if os.environ.get("LINEWATCH_REQUIRE_PEERS") == "1":
            pytest.fail(f"{reason} (LINEWATCH_REQUIRE_PEERS=1)")
        print(f"\nreal-Alertmanager test skipped: {reason}")
        pytest.skip(reason)
    return binary


@pytest.fixture
def live_server(small: Context) -> Iterator[str]:
    """Linewatch as a real HTTP server (Alertmanager cannot reach a TestClient)."""
    port = free_port()
    config = uvicorn.Config(create_app(small), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="linewatch-test-server", daemon=True)
    thread.start()
    try:
        wait_for("Linewatch to start", lambda: server.started or not thread.is_alive())
        assert server.started, "the Linewatch test server did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


def _ready(url: str, process: subprocess.Popen[bytes]) -> bool:
    if process.poll() is not None:
        raise AssertionError(f"alertmanager exited with {process.returncode}")
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def test_real_alertmanager_delivers_firing_and_resolved(
    alertmanager_binary: str, live_server: str, tmp_path: Path
) -> None:
    with httpx.Client(base_url=live_server, headers=ADMIN, timeout=10) as linewatch:
        issued = linewatch.post("/api/v1/admin/tokens", json={"kind": "ingest", "name": "alertmanager"})
        assert issued.status_code == 201, issued.text
        token = issued.json()["token"]
        assert token != ADMIN_TOKEN
        config = {
            "route": {
                "receiver": "linewatch",
                "group_by": ["alertname", "instance"],
                "group_wait": "0s",
                "group_interval": "1s",
                "repeat_interval": "1h",
            },
            "receivers": [
                {
                    "name": "linewatch",
                    "webhook_configs": [
                        {
                            "url": f"{live_server}{URL}",
                            "send_resolved": True,
                            "http_config": {"authorization": {"credentials": token}},
                        }
                    ],
                }
            ],
        }
        (tmp_path / "alertmanager.yml").write_text(json.dumps(config), encoding="utf-8")  # JSON is YAML
        am_port = free_port()
        am_url = f"http://127.0.0.1:{am_port}"
        log_path = tmp_path / "alertmanager.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [
                    alertmanager_binary,
                    f"--config.file={tmp_path / 'alertmanager.yml'}",
                    f"--storage.path={tmp_path / 'data'}",
                    f"--web.listen-address=127.0.0.1:{am_port}",
                    "--cluster.listen-address=",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_for("Alertmanager to be ready", lambda: _ready(f"{am_url}/-/ready", process))
            started = datetime.now(UTC) - timedelta(seconds=5)
            alert = {
                "labels": {
                    "alertname": "LinkDown",
                    "instance": "10.0.2.1:9100",
                    "port": "GE0/2/1",
                    "severity": "critical",
                },
                "annotations": {"summary": "GE0/2/1 is down"},
                "startsAt": started.isoformat(),
                "generatorURL": "http://prometheus.invalid/graph",
            }
            assert httpx.post(f"{am_url}/api/v2/alerts", json=[alert], timeout=5).status_code == 200

            def our_alarm(state: str) -> dict[str, Any] | None:
                items = linewatch.get("/api/v1/alarms", params={"state": "all"}).json()["items"]
                return next((a for a in items if a["state"] == state), None)

            raised = wait_for("the alarm from Alertmanager", lambda: our_alarm("active"))
            assert (raised["ne"], raised["object"], raised["type"]) == ("ACC-GL-1", "GE0/2/1", "LINK_DOWN")
            assert (raised["severity"], raised["source"]) == ("critical", "alertmanager:linewatch")
            assert raised["text"] == "GE0/2/1 is down"

            alert["endsAt"] = datetime.now(UTC).isoformat()  # resolved now: Alertmanager sends the clear
            assert httpx.post(f"{am_url}/api/v2/alerts", json=[alert], timeout=5).status_code == 200
            cleared = wait_for("the clear from Alertmanager", lambda: our_alarm("cleared"))
            assert cleared["id"] == raised["id"]
            assert linewatch.get("/api/v1/ingest/rejected").json()["items"] == []
        except AssertionError:
            print(log_path.read_text(encoding="utf-8", errors="replace")[-4000:])
            raise
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
