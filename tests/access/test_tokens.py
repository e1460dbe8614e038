"""Bearer tokens: issue, use, revoke; ingest-only tokens; hashing at rest; the append-only audit log."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from linewatch.context import Context
from tests.conftest import ADMIN, ADMIN_TOKEN, bearer


def issue(client: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/api/v1/admin/tokens", json=body, headers=ADMIN)
    assert response.status_code == 201, response.text
    issued = response.json()
    assert isinstance(issued["id"], int)
    assert isinstance(issued["token"], str) and len(issued["token"]) >= 32
    return issued


def audit(client: TestClient, object_type: str) -> list[dict[str, Any]]:
    response = client.get("/api/v1/admin/audit", params={"object_type": object_type}, headers=ADMIN)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def assert_error(response: Any, status: int) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body["error"], str) and body["error"]


def test_staff_token_acts_as_that_person_until_revoked(small: Context, client: TestClient) -> None:
    issued = issue(client, {"staff": "CA01"})
    assert issued["kind"] == "user" and issued["name"] == "CA01"

    me = client.get("/api/v1/me", headers=bearer(issued["token"]))
    assert me.status_code == 200, me.text
    assert me.json() == {"label": "token:CA01", "role": "contractor"}

    revoked = client.delete(f"/api/v1/admin/tokens/{issued['id']}", headers=ADMIN)
    assert revoked.status_code == 204
    assert revoked.content == b""

    after = client.get("/api/v1/me", headers=bearer(issued["token"]))
    assert_error(after, 401)
    assert after.headers["www-authenticate"] == "Bearer"

    listed = client.get("/api/v1/admin/tokens", headers=ADMIN).json()["items"]
    assert [t["revoked_at"] is not None for t in listed if t["id"] == issued["id"]] == [True]


def test_revoking_twice_conflicts_and_unknown_is_404(small: Context, client: TestClient) -> None:
    issued = issue(client, {"staff": "D01"})
    assert client.delete(f"/api/v1/admin/tokens/{issued['id']}", headers=ADMIN).status_code == 204
    assert_error(client.delete(f"/api/v1/admin/tokens/{issued['id']}", headers=ADMIN), 409)
    assert_error(client.delete("/api/v1/admin/tokens/999999", headers=ADMIN), 404)


def test_revoking_one_token_leaves_others_working(small: Context, client: TestClient) -> None:
    first = issue(client, {"staff": "D01"})
    second = issue(client, {"staff": "D01"})
    assert first["token"] != second["token"]
    assert client.delete(f"/api/v1/admin/tokens/{first['id']}", headers=ADMIN).status_code == 204
    assert client.get("/api/v1/me", headers=bearer(first["token"])).status_code == 401
    assert client.get("/api/v1/me", headers=bearer(second["token"])).json()["role"] == "dispatcher"


def test_token_for_unknown_staff_is_404(small: Context, client: TestClient) -> None:
    assert_error(client.post("/api/v1/admin/tokens", json={"staff": "NOBODY"}, headers=ADMIN), 404)


def _fill(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_ingest_token_is_refused_on_every_read_endpoint(small: Context, client: TestClient) -> None:
    issued = issue(client, {"kind": "ingest", "name": "ems-1"})
    assert issued["kind"] == "ingest" and issued["name"] == "ems-1"
    headers = bearer(issued["token"])

    named = {
        "/api/v1/me",
        "/api/v1/policy",
        "/api/v1/customers",
        "/api/v1/customers/C001",
        "/api/v1/circuits",
        "/api/v1/circuits/FZ-C001-DATA-1",
        "/api/v1/network_elements",
        "/api/v1/network_elements/AGG-GL-1",
        "/api/v1/network_elements/AGG-GL-1/circuits",
        "/api/v1/admin/audit",
        "/api/v1/admin/tokens",
        "/api/v1/admin/clock",
    }
    # every GET the application has under /api/v1, so an endpoint added later is covered too
    discovered = {
        _fill(route.path)
        for route in client.app.routes  # type: ignore[attr-defined]
        if isinstance(route, APIRoute) and "GET" in route.methods and route.path.startswith("/api/v1/")
    }
    for path in sorted(named | discovered):
        response = client.get(path, headers=headers)
        assert response.status_code == 403, (path, response.text)
        assert "ingest" in response.json()["error"], path
    # nor may it act as an admin
    refused = client.post("/api/v1/admin/tokens", json={"staff": "D01"}, headers=headers)
    assert refused.status_code == 403
    # the same data is readable with a person's token: the 403 is about the token, not the path
    assert client.get("/api/v1/customers/C001", headers=ADMIN).status_code == 200


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Token abc",
        "Bearer not-a-real-token",
        "Bearer " + ADMIN_TOKEN + "x",
        "garbage",
    ],
)
def test_missing_or_garbled_authorization_is_401_json(
    small: Context, client: TestClient, authorization: str
) -> None:
    response = client.get("/api/v1/customers", headers={"Authorization": authorization})
    assert_error(response, 401)
    assert response.headers["content-type"].startswith("application/json")


def test_no_authorization_is_401_json(small: Context, client: TestClient) -> None:
    for path in ("/api/v1/customers", "/api/v1/me", "/api/v1/admin/audit"):
        response = client.get(path)
        assert_error(response, 401)
    assert_error(client.post("/api/v1/admin/tokens", json={"staff": "D01"}), 401)


def test_non_admin_cannot_issue_or_revoke_tokens(small: Context, client: TestClient) -> None:
    dispatcher = issue(client, {"staff": "D01"})
    target = issue(client, {"staff": "CA01"})
    headers = bearer(dispatcher["token"])
    assert_error(client.post("/api/v1/admin/tokens", json={"staff": "D01"}, headers=headers), 403)
    assert_error(
        client.post("/api/v1/admin/tokens", json={"kind": "ingest", "name": "x"}, headers=headers), 403
    )
    assert_error(client.delete(f"/api/v1/admin/tokens/{target['id']}", headers=headers), 403)
    assert_error(client.get("/api/v1/admin/audit", headers=headers), 403)
    # the target token was not revoked by the refused call
    assert client.get("/api/v1/me", headers=bearer(target["token"])).status_code == 200


def test_bootstrap_admin_token_is_an_admin(ctx: Context, client: TestClient) -> None:
    me = client.get("/api/v1/me", headers=ADMIN)
    assert me.status_code == 200
    assert me.json() == {"label": "admin-token", "role": "admin"}
    issued = issue(client, {"kind": "ingest", "name": "ems-2"})
    assert issued["id"] >= 1


def test_tokens_are_stored_only_as_hashes(small: Context, client: TestClient) -> None:
    raw = [
        issue(client, {"staff": "CA01"})["token"],
        issue(client, {"kind": "ingest", "name": "ems-1"})["token"],
    ]
    with small.db.engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(text("SELECT * FROM api_token"))]
    assert len(rows) == 2
    stored = " ".join(str(v) for row in rows for v in row.values())
    for token in raw:
        assert token not in stored
    assert sorted(row["token_hash"] for row in rows) == sorted(
        hashlib.sha256(t.encode()).hexdigest() for t in raw
    )


def test_every_create_and_revoke_is_audited(small: Context, client: TestClient) -> None:
    staff_token = issue(client, {"staff": "CA01"})
    ingest_token = issue(client, {"kind": "ingest", "name": "ems-1"})
    assert client.delete(f"/api/v1/admin/tokens/{staff_token['id']}", headers=ADMIN).status_code == 204

    entries = audit(client, "token")
    seen = [(e["action"], e["object_key"], e["actor"]) for e in entries]
    assert seen == [  # newest first
        ("revoke", str(staff_token["id"]), "admin-token"),
        ("create", str(ingest_token["id"]), "admin-token"),
        ("create", str(staff_token["id"]), "admin-token"),
    ]
    assert entries[1]["after"] == {"kind": "ingest", "name": "ems-1"}
    assert entries[0]["after"]["revoked_at"]
    # the first token for a staff member created their login, audited too
    assert [(e["action"], e["object_key"]) for e in audit(client, "user")] == [("create", "CA01")]
    # a refused revoke (already revoked) leaves no audit entry
    client.delete(f"/api/v1/admin/tokens/{staff_token['id']}", headers=ADMIN)
    assert len(audit(client, "token")) == 3


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log"],
)
def test_audit_log_is_append_only_in_the_database(small: Context, client: TestClient, statement: str) -> None:
    issue(client, {"staff": "CA01"})
    with small.db.engine.connect() as conn:
        before = [tuple(r) for r in conn.execute(text("SELECT id, actor FROM audit_log ORDER BY id"))]
    assert before, "the audit log should hold the token's creation"

    with pytest.raises(DBAPIError) as raised, small.db.engine.begin() as conn:
        conn.execute(text(statement))
    assert "append-only" in str(raised.value)

    with small.db.engine.connect() as conn:
        after = [tuple(r) for r in conn.execute(text("SELECT id, actor FROM audit_log ORDER BY id"))]
    assert after == before


def test_a_remembered_ingest_token_stops_working_the_moment_it_is_revoked(
    small: Context, client: TestClient
) -> None:
    """Ingest tokens are remembered for a few seconds after a lookup (api/deps.py); revoking one
    through the API forgets them at once."""
    issued = issue(client, {"kind": "ingest", "name": "ems-feed"})
    alarm = {"source": "ems", "ne": "ACC-GL-1", "object": "GE0/2/1", "type": "LOS", "severity": "major"}
    for _ in range(2):  # the second use is answered from memory
        assert client.post("/api/v1/alarms", json=alarm, headers=bearer(issued["token"])).status_code == 202
    assert client.app.state.remembered_tokens  # type: ignore[attr-defined]
    assert client.delete(f"/api/v1/admin/tokens/{issued['id']}", headers=ADMIN).status_code == 204
    assert_error(client.post("/api/v1/alarms", json=alarm, headers=bearer(issued["token"])), 401)
