"""Structured logs from a real server: JSON lines, the request id on what a request logged, the
alarm ids stored, and no secret (admin token, bearer tokens, passwords, tokens in URLs) anywhere."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.conftest import ADMIN_TOKEN
from tests.crash.harness import Server, prepare

SECRETS = ["SECRET-IN-QUERY-123", "hunter2-password-secret", "wrong-bearer-token-xyz", ADMIN_TOKEN]


def test_json_lines_carry_request_and_alarm_ids_and_no_secret(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'linewatch.db'}"
    prepare(url)
    server = Server(url, tmp_path, env={"LINEWATCH_LOG_FORMAT": "json"})
    server.start()
    try:
        with server.client() as client:
            alarm = {
                "source": "ems",
                "ne": "AGG-GL-1",
                "object": "GE0/1/0",
                "type": "LOS",
                "severity": "critical",
            }
            stored = client.post("/api/v1/alarms", json=alarm, headers={"X-Request-ID": "req-ops-1"})
            assert stored.status_code == 202 and stored.headers["X-Request-ID"] == "req-ops-1"
            alarm_id = stored.json()["ids"][0]
            listed = client.get(f"/api/v1/alarms?token={SECRETS[0]}", headers={"X-Request-ID": "req-ops-2"})
            assert listed.status_code == 200
        anonymous = httpx.Client(base_url=server.base)
        anonymous.post("/login", data={"username": "admin", "password": SECRETS[1], "csrf": "x"})
        denied = anonymous.get("/api/v1/alarms", headers={"Authorization": f"Bearer {SECRETS[2]}"})
        assert denied.status_code == 401
        anonymous.close()
    finally:
        server.terminate()
    text = server.log.read_text()
    entries = [json.loads(line) for line in text.splitlines() if line.strip()]  # every line is JSON
    for secret in SECRETS:
        assert secret not in text, f"a secret reached the log: {secret[:6]}…"
    ingest = [e for e in entries if e["logger"] == "linewatch.ingest"]
    # accepted requests are logged together (decision 131), each named with its alarms
    named = {"request_id": "req-ops-1", "events": 1, "alarm_ids": [alarm_id]}
    assert ingest and ingest[0]["requests"] == [named]
    assert "req-ops-1" in ingest[0]["message"]
    access = [e for e in entries if e["logger"] == "uvicorn.access"]
    assert any(e.get("request_id") == "req-ops-2" for e in access), "access lines carry the request id"
    # an accepted ingest POST has its linewatch.ingest line (above) instead of an access line
    assert not any(e.get("request_id") == "req-ops-1" for e in access)
    assert any(e["logger"] == "uvicorn.access" and "401" in e["message"] for e in entries), (
        "refusals keep theirs"
    )
    assert any("token=***" in e["message"] for e in entries), "the token in the URL is masked, not dropped"
