"""The permission matrix: every route of the app × every role, against the table below.
Also: every session-authenticated write needs the CSRF token; no route edits the audit log.

A caller is *denied* when the answer is 401 or 403; anything else (200, 404 for the made-up ids
used here, 422 for the empty bodies) means it passed the permission gate. A route missing from
the table fails the test, so a new endpoint must be classified before it ships.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.routing import BaseRoute, Mount

from linewatch.access import service as access
from linewatch.context import Context
from linewatch.core.actor import SYSTEM
from linewatch.inventory.choices import Role
from tests.conftest import ADMIN, bearer
from tests.web.test_login import PASSWORD, create_user, session_csrf, submit

ROLES = [r.value for r in Role]  # admin included: a user whose role is admin
CALLERS = ["anonymous", "ingest", *ROLES]
STAFF = {
    "dispatcher": "D01",
    "support": "S01",
    "engineer": "E01",
    "contractor": "CA01",
    "fault_manager": "FM01",
    "manager_l3": "M301",
    "leader": "L01",
    "account_manager": "AM01",
}

EVERY_USER = set(ROLES)
NE_READERS = EVERY_USER - {"account_manager"}  # account managers see their customers, not the network
OPERATORS = {"dispatcher", "support", "engineer", "fault_manager", "admin"}
PLANNERS = {"dispatcher", "support", "fault_manager", "admin"}
REPORT_READERS = {"dispatcher", "support", "fault_manager", "manager_l3", "leader", "admin"}
# reports are scoped per reader: account managers see their customers, contractors their circuits
SCOPED_REPORT_READERS = REPORT_READERS | {"account_manager", "contractor"}
WARNING_READERS = REPORT_READERS | {"account_manager"}
WARNING_ACTORS = {"support", "fault_manager", "manager_l3", "leader", "account_manager", "admin"}
WORKERS = {"dispatcher", "support", "engineer", "fault_manager", "contractor", "admin"}
ADMIN_ONLY = {"admin"}
ESCALATION_TAKERS = {"dispatcher", "support", "fault_manager", "manager_l3", "leader", "admin"}  # and the NOC
INGEST = {"ingest", "admin"}
PUBLIC = set(CALLERS)
PAGE = "page"  # an HTML page behind the web session: anonymous callers are sent to /login

# (method, path) → who may call it.
MATRIX: dict[tuple[str, str], set[str] | str] = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/metrics"): PUBLIC,  # operational counters only; no customer data
    ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    ("GET", "/docs/oauth2-redirect"): PUBLIC,
    ("GET", "/redoc"): PUBLIC,
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("POST", "/logout"): PUBLIC,
    ("GET", "/lang/{lang}"): PUBLIC,
    ("POST", "/api/v1/inventory/import"): ADMIN_ONLY,
    ("GET", "/api/v1/customers"): EVERY_USER,
    ("GET", "/api/v1/customers/{code}"): EVERY_USER,
    ("GET", "/api/v1/circuits"): EVERY_USER,
    ("GET", "/api/v1/circuits/{code}"): EVERY_USER,
    ("GET", "/api/v1/network_elements"): NE_READERS,
    ("GET", "/api/v1/network_elements/{name}"): NE_READERS,
    ("GET", "/api/v1/network_elements/{name}/circuits"): NE_READERS,
    ("POST", "/api/v1/alarms"): INGEST,
    ("POST", "/api/v1/ingest/alertmanager"): INGEST,
    ("GET", "/api/v1/ingest/rejected"): ADMIN_ONLY,
    ("GET", "/api/v1/alarms"): EVERY_USER,
    ("GET", "/api/v1/alarms/{alarm_id}"): EVERY_USER,
    ("POST", "/api/v1/alarms/{alarm_id}/ack"): OPERATORS,
    ("POST", "/api/v1/alarms/{alarm_id}/notes"): OPERATORS | {"contractor"},
    ("POST", "/api/v1/alarms/{alarm_id}/clear"): OPERATORS,
    ("GET", "/api/v1/incidents"): EVERY_USER,
    ("GET", "/api/v1/incidents/{incident_id}"): EVERY_USER,
    ("POST", "/api/v1/incidents/{incident_id}/diagnosis"): {"dispatcher", "support", "admin"},
    ("GET", "/api/v1/knowledge"): EVERY_USER,
    ("PUT", "/api/v1/knowledge"): {"dispatcher", "support", "engineer", "admin"},
    ("POST", "/api/v1/tickets"): {"dispatcher", "support", "fault_manager", "admin"},
    ("POST", "/api/v1/tickets/{ticket_id}/events"): WORKERS,
    ("POST", "/api/v1/tickets/{ticket_id}/support"): WORKERS,  # 技术支援 asked for by who works it
    ("POST", "/api/v1/tickets/{ticket_id}/escalations/ack"): ESCALATION_TAKERS,
    ("GET", "/api/v1/tickets"): EVERY_USER,
    ("GET", "/api/v1/tickets/breaches"): {
        "dispatcher",
        "support",
        "fault_manager",
        "manager_l3",
        "leader",
        "admin",
    },
    ("GET", "/api/v1/tickets/{ticket_id}"): EVERY_USER,
    ("POST", "/api/v1/incidents/{incident_id}/dispatch"): {"dispatcher", "support", "admin"},
    ("POST", "/api/v1/cutovers"): PLANNERS,
    ("PUT", "/api/v1/cutovers/{cutover_id}"): PLANNERS,
    ("POST", "/api/v1/cutovers/{cutover_id}/cancel"): PLANNERS,
    ("GET", "/api/v1/cutovers"): EVERY_USER,
    ("GET", "/api/v1/cutovers/{cutover_id}"): EVERY_USER,
    ("GET", "/api/v1/cutovers/{cutover_id}/notice.{fmt}"): EVERY_USER,  # csv or xlsx
    ("GET", "/api/v1/tickets/{ticket_id}/verdict"): EVERY_USER,
    ("POST", "/api/v1/assurance"): PLANNERS,
    ("GET", "/api/v1/assurance"): EVERY_USER,
    ("GET", "/api/v1/assurance/{period_id}"): EVERY_USER,
    ("POST", "/api/v1/drills"): PLANNERS,
    ("GET", "/api/v1/drills"): PLANNERS,
    ("POST", "/api/v1/drills/{drill_id}/steps"): PLANNERS,
    ("GET", "/api/v1/drills/{drill_id}/report"): PLANNERS,
    ("GET", "/api/v1/notifications"): {"dispatcher", "admin"},
    ("GET", "/api/v1/reports/monthly"): SCOPED_REPORT_READERS,
    ("GET", "/api/v1/reports/monthly/rows"): SCOPED_REPORT_READERS,
    ("GET", "/api/v1/reports/statistics"): SCOPED_REPORT_READERS,
    ("GET", "/api/v1/reports/statistics/rows"): SCOPED_REPORT_READERS,
    ("GET", "/api/v1/me/notify-preferences"): EVERY_USER,
    ("PUT", "/api/v1/me/notify-preferences"): EVERY_USER,
    # one's own (by staff code) or, for admins, anyone's: the service refuses others with 403
    # (tests/notify/test_preferences.py); a made-up code is a 404 for every user
    ("GET", "/api/v1/staff/{code}/notify-preferences"): EVERY_USER,
    ("PUT", "/api/v1/staff/{code}/notify-preferences"): EVERY_USER,
    ("GET", "/api/v1/warnings"): WARNING_READERS,
    ("GET", "/api/v1/warnings/{warning_id}"): WARNING_READERS,
    ("POST", "/api/v1/warnings/{warning_id}/visit"): WARNING_ACTORS,
    ("POST", "/api/v1/warnings/{warning_id}/measures"): WARNING_ACTORS,
    ("POST", "/api/v1/warnings/{warning_id}/close"): {"fault_manager", "manager_l3", "leader", "admin"},
    ("GET", "/api/v1/admin/clock"): ADMIN_ONLY,
    ("POST", "/api/v1/admin/clock"): ADMIN_ONLY,
    ("POST", "/api/v1/admin/tokens"): ADMIN_ONLY,
    ("GET", "/api/v1/admin/tokens"): ADMIN_ONLY,
    ("DELETE", "/api/v1/admin/tokens/{token_id}"): ADMIN_ONLY,
    ("POST", "/api/v1/admin/users"): ADMIN_ONLY,
    ("GET", "/api/v1/admin/users"): ADMIN_ONLY,
    ("PATCH", "/api/v1/admin/users/{username}"): ADMIN_ONLY,
    ("GET", "/api/v1/admin/audit"): ADMIN_ONLY,  # read only: no route edits or deletes audit entries
    ("GET", "/api/v1/policy"): EVERY_USER,
    ("GET", "/api/v1/me"): EVERY_USER,
    ("GET", "/api/v1/stream"): EVERY_USER,
    ("GET", "/"): PAGE,
    ("GET", "/cutovers"): PAGE,
    ("GET", "/assurance"): PAGE,
    ("GET", "/drills"): PAGE,
    ("GET", "/preferences"): PAGE,
    ("GET", "/reports"): PAGE,
    ("GET", "/wall"): PAGE,
    ("GET", "/console"): PAGE,
    ("GET", "/incidents/{incident_id}"): PAGE,
    ("GET", "/tickets"): PAGE,
    ("GET", "/m/tickets"): PAGE,
    ("GET", "/m/tickets/{ticket_id}"): PAGE,
    ("GET", "/tickets/{ticket_id}"): PAGE,
    ("GET", "/inventory"): PAGE,
    ("GET", "/inventory/import"): PAGE,
    ("GET", "/admin/users"): PAGE,
}
NEVER_ENDING = {("GET", "/api/v1/stream")}  # a server-sent event stream: only its refusals are probed
MADE_UP = {"code": "NO-SUCH", "name": "NO-SUCH", "lang": "en"}  # other path parameters: id 999999


def app_routes(routes: list[BaseRoute]) -> Iterator[tuple[str, str]]:
    """Every (method, path) the app answers, through included routers (static files excepted)."""
    for route in routes:
        candidates = getattr(route, "effective_candidates", None)
        if candidates is not None:  # an included router (FastAPI ≥ 0.120 keeps them lazily)
            yield from app_routes(candidates())
        elif isinstance(route, Mount):
            continue
        else:
            for method in sorted((getattr(route, "methods", None) or set()) - {"HEAD"}):
                yield method, route.path  # type: ignore[attr-defined]


def concrete(path: str) -> str:
    for name, value in MADE_UP.items():
        path = path.replace("{" + name + "}", value)
    while "{" in path:
        start, end = path.index("{"), path.index("}")
        path = path[:start] + "999999" + path[end + 1 :]
    return path


@pytest.fixture
def callers(small: Context, client: TestClient) -> dict[str, dict[str, str]]:
    headers: dict[str, dict[str, str]] = {"anonymous": {}}
    created = client.post(
        "/api/v1/admin/users",
        json={"username": "root2", "role": "admin", "password": "long enough pw"},
        headers=ADMIN,
    )
    assert created.status_code == 201, created.text
    bodies: dict[str, dict[str, Any]] = {
        "ingest": {"kind": "ingest", "name": "matrix"},
        **{role: {"staff": code} for role, code in STAFF.items()},
    }
    for caller, body in bodies.items():
        issued = client.post("/api/v1/admin/tokens", json=body, headers=ADMIN)
        assert issued.status_code == 201, issued.text
        headers[caller] = bearer(issued.json()["token"])
    with small.db.unit_of_work() as session:  # the API issues tokens to staff; an admin login is a user
        headers["admin"] = bearer(access.create_token(session, small.clock, SYSTEM, username="root2").token)
    return headers


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_every_route_is_classified(client: TestClient) -> None:
    found = set(app_routes(client.app.routes))  # type: ignore[attr-defined]
    assert found - set(MATRIX) == set(), "classify these new routes in MATRIX"
    assert set(MATRIX) - found == set(), "these routes are gone: remove them from MATRIX"
    assert set(CALLERS) == {"anonymous", "ingest", *STAFF, "admin"}


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # permission logic: one database is enough
def test_permission_matrix(client: TestClient, callers: dict[str, dict[str, str]]) -> None:
    wrong: list[str] = []
    probed = 0
    for (method, path), allowed in MATRIX.items():
        url = concrete(path)
        for caller in CALLERS:
            if allowed == PAGE:
                if caller != "anonymous":
                    continue  # pages work on the web session (tests/web); a bearer token is no login
                response = client.request(method, url, follow_redirects=False)
                denied = response.status_code in (401, 403) or (
                    response.status_code == 303 and response.headers["location"].endswith("/login")
                )
                expected_denied = True
            else:
                assert isinstance(allowed, set)
                expected_denied = caller not in allowed
                if (method, path) in NEVER_ENDING and not expected_denied:
                    continue
                kwargs: dict[str, Any] = {"headers": callers[caller], "follow_redirects": False}
                if method in ("POST", "PUT") and path.startswith("/api/"):
                    kwargs["json"] = {}
                response = client.request(method, url, **kwargs)
                denied = response.status_code in (401, 403)
                assert response.status_code < 500, f"{method} {path} as {caller}: {response.text}"
            probed += 1
            if denied != expected_denied:
                wrong.append(
                    f"{method} {path} as {caller}: {response.status_code} "
                    f"(expected {'deny' if expected_denied else 'allow'})"
                )
    assert not wrong, "\n".join(wrong)
    assert probed > 600


UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_every_session_write_needs_the_csrf_token(ctx: Context, client: TestClient) -> None:
    """Logged in as an admin, no unsafe API route is reachable without the session's CSRF token."""
    create_user(client, "root", "admin")
    assert submit(client, "root", PASSWORD).status_code == 303
    csrf = session_csrf(client)
    writes = sorted((m, p) for m, p in MATRIX if m in UNSAFE and p.startswith("/api/"))
    assert len(writes) >= 24
    for method, path in writes:
        for sent in ({}, {"X-CSRF-Token": "f" * 32}):
            response = client.request(method, concrete(path), json={}, headers=sent)
            assert response.status_code == 403 and "CSRF" in response.json()["error"], (method, path, sent)
        passed = client.request(method, concrete(path), json={}, headers={"X-CSRF-Token": csrf})
        assert passed.status_code not in (401, 403), (method, path, passed.text)


def test_no_route_edits_the_audit_log() -> None:
    """The audit log is read-only to the API (the database triggers are tested in test_tokens.py)."""
    assert [(m, p) for m, p in MATRIX if "audit" in p] == [("GET", "/api/v1/admin/audit")]
