"""Users for admins through the API: list, set role, disable (sessions end, login refused)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from linewatch.context import Context
from tests.conftest import ADMIN
from tests.web.test_login import PASSWORD, create_user, session_csrf, submit


def users(client: TestClient) -> dict[str, dict[str, object]]:
    response = client.get("/api/v1/admin/users", headers=ADMIN)
    assert response.status_code == 200, response.text
    return {u["username"]: u for u in response.json()["items"]}


def test_list_set_role_and_disable(small: Context, client: TestClient) -> None:
    create_user(client, "ops1", "dispatcher")
    assert client.post("/api/v1/admin/users", json={"staff": "CA01"}, headers=ADMIN).status_code == 201
    listed = users(client)
    assert listed["ops1"] == {
        "id": listed["ops1"]["id"],
        "username": "ops1",
        "display_name": "ops1",
        "role": "dispatcher",
        "staff": None,
        "active": True,
        "language": "zh",
    }
    assert listed["CA01"]["staff"] == "CA01" and listed["CA01"]["role"] == "contractor"

    changed = client.patch("/api/v1/admin/users/ops1", json={"role": "support"}, headers=ADMIN)
    assert changed.status_code == 200, changed.text
    assert changed.json()["role"] == "support"
    assert submit(client, "ops1", PASSWORD).status_code == 303  # logged in
    assert client.get("/api/v1/me").json()["role"] == "support"

    disabled = client.patch("/api/v1/admin/users/ops1", json={"active": False}, headers=ADMIN)
    assert disabled.status_code == 200 and disabled.json()["active"] is False
    assert client.get("/api/v1/me").status_code == 401  # the open session ended
    assert submit(client, "ops1", PASSWORD).status_code != 303  # and no new one
    audit = client.get("/api/v1/admin/audit?object_type=user", headers=ADMIN).json()["items"]
    assert any(e["object_key"] == "ops1" and e["after"] and e["after"].get("active") is False for e in audit)

    enabled = client.patch("/api/v1/admin/users/ops1", json={"active": True}, headers=ADMIN)
    assert enabled.json()["active"] is True
    assert submit(client, "ops1", PASSWORD).status_code == 303


def test_refusals_name_the_problem(small: Context, client: TestClient) -> None:
    create_user(client, "ops1", "dispatcher")
    client.post("/api/v1/admin/users", json={"staff": "CA01"}, headers=ADMIN)
    bad_role = client.patch("/api/v1/admin/users/ops1", json={"role": "emperor"}, headers=ADMIN)
    assert bad_role.status_code == 400 and "emperor" in bad_role.json()["error"]
    staff_role = client.patch("/api/v1/admin/users/CA01", json={"role": "admin"}, headers=ADMIN)
    assert staff_role.status_code == 409 and "staff member 'CA01'" in staff_role.json()["error"]
    missing = client.patch("/api/v1/admin/users/nobody", json={"active": False}, headers=ADMIN)
    assert missing.status_code == 404
    short = client.patch("/api/v1/admin/users/ops1", json={"password": "short"}, headers=ADMIN)
    assert short.status_code == 400 and "8 characters" in short.json()["error"]
    unknown = client.patch("/api/v1/admin/users/ops1", json={"rank": "x"}, headers=ADMIN)
    assert unknown.status_code in (400, 422)
    assert users(client)["ops1"]["role"] == "dispatcher"  # nothing refused was kept


def test_an_admin_cannot_disable_themselves_and_others_cannot_manage_users(
    small: Context, client: TestClient
) -> None:
    create_user(client, "root", "admin")
    create_user(client, "ops1", "dispatcher")
    assert submit(client, "ops1", PASSWORD).status_code == 303
    assert client.get("/api/v1/admin/users").status_code == 403
    assert submit(client, "root", PASSWORD).status_code == 303
    csrf = session_csrf(client)
    response = client.patch(
        "/api/v1/admin/users/root", json={"active": False}, headers={"X-CSRF-Token": csrf}
    )
    assert response.status_code == 409 and "yourself" in response.json()["error"]
