"""Web login: login CSRF, sessions (fresh id, HttpOnly, expiry, logout), API CSRF, throttling, language."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from linewatch.access.models import WebSession
from linewatch.api.deps import SESSION_COOKIE
from linewatch.context import Context
from linewatch.web.pages import LANG_COOKIE, LOGIN_CSRF_COOKIE
from tests.conftest import ADMIN

PASSWORD = "correct horse"
HIDDEN_CSRF = re.compile(r'<input type="hidden" name="csrf" value="([^"]+)">')
META_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
TILE = re.compile(r'<span class="num">(\d+)</span><span class="label">([^<]+)</span>')


def create_user(client: TestClient, username: str, role: str, password: str = PASSWORD) -> None:
    response = client.post(
        "/api/v1/admin/users",
        json={"username": username, "role": role, "password": password},
        headers=ADMIN,
    )
    assert response.status_code == 201, response.text
    assert response.json()["role"] == role


def login_csrf(client: TestClient) -> str:
    page = client.get("/login")
    assert page.status_code == 200
    found = HIDDEN_CSRF.search(page.text)
    assert found, page.text
    return found.group(1)


def submit(client: TestClient, username: str, password: str, csrf: str | None = None) -> httpx.Response:
    token = csrf if csrf is not None else login_csrf(client)
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf": token},
        follow_redirects=False,
    )


def set_cookie_headers(response: httpx.Response, name: str) -> list[str]:
    return [h for h in response.headers.get_list("set-cookie") if h.startswith(f"{name}=")]


def session_csrf(client: TestClient) -> str:
    home = client.get("/", follow_redirects=False)
    assert home.status_code == 200, home.text
    found = META_CSRF.search(home.text)
    assert found, home.text
    return found.group(1)


def tiles(page: str) -> dict[str, int]:
    """The home page's count tiles, label → number."""
    return {label: int(num) for num, label in TILE.findall(page)}


def sessions(ctx: Context) -> int:
    with ctx.db.reading() as session:
        return session.scalar(select(func.count()).select_from(WebSession)) or 0


def test_login_page_sets_csrf_cookie_and_hidden_field(ctx: Context, client: TestClient) -> None:
    page = client.get("/login")
    assert page.status_code == 200
    cookie = set_cookie_headers(page, LOGIN_CSRF_COOKIE)
    assert len(cookie) == 1 and "httponly" in cookie[0].lower()
    hidden = HIDDEN_CSRF.search(page.text)
    assert hidden and hidden.group(1) == client.cookies[LOGIN_CSRF_COOKIE]
    assert len(hidden.group(1)) >= 32
    # a fresh token per visit
    assert login_csrf(client) != hidden.group(1)


def test_login_with_wrong_csrf_is_refused(ctx: Context, client: TestClient) -> None:
    create_user(client, "alice", "dispatcher")
    login_csrf(client)
    refused = submit(client, "alice", PASSWORD, csrf="0" * 32)
    assert refused.status_code == 403
    assert not set_cookie_headers(refused, SESSION_COOKIE)
    # without the cookie at all (a cross-site form post) it is refused too
    client.cookies.delete(LOGIN_CSRF_COOKIE)
    assert submit(client, "alice", PASSWORD, csrf="0" * 32).status_code == 403
    assert sessions(ctx) == 0


def test_login_starts_a_session_and_home_shows_counts(small: Context, client: TestClient) -> None:
    create_user(client, "alice", "dispatcher")
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"

    response = submit(client, "alice", PASSWORD)
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    cookie = set_cookie_headers(response, SESSION_COOKIE)
    assert len(cookie) == 1
    assert "httponly" in cookie[0].lower()
    assert "samesite=lax" in cookie[0].lower()
    assert sessions(small) == 1

    home = client.get("/", follow_redirects=False)
    assert home.status_code == 200
    assert "alice" in home.text and "dispatcher" in home.text
    assert tiles(home.text) == {"集团客户": 3, "重点集团": 2, "专线电路": 4, "网元": 10}


def test_home_counts_are_scoped_for_an_account_manager(small: Context, client: TestClient) -> None:
    response = client.post("/api/v1/admin/users", json={"staff": "AM02", "password": PASSWORD}, headers=ADMIN)
    assert response.status_code == 201, response.text
    assert response.json() == {"id": response.json()["id"], "username": "AM02", "role": "account_manager"}
    assert submit(client, "AM02", PASSWORD).status_code == 303
    assert tiles(client.get("/").text) == {"集团客户": 1, "重点集团": 0, "专线电路": 1}


def test_session_id_is_fresh_at_login_and_made_up_ids_are_refused(ctx: Context, client: TestClient) -> None:
    create_user(client, "alice", "dispatcher")
    planted = "planted-by-an-attacker-0123456789abcdef"
    client.cookies.set(SESSION_COOKIE, planted)
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"
    assert client.get("/api/v1/me").status_code == 401

    response = submit(client, "alice", PASSWORD)
    assert response.status_code == 303
    issued = response.cookies[SESSION_COOKIE]
    assert issued and issued != planted

    # the planted id still authenticates nobody
    attacker = TestClient(client.app)
    attacker.cookies.set(SESSION_COOKIE, planted)
    assert attacker.get("/", follow_redirects=False).headers["location"] == "/login"
    assert attacker.get("/api/v1/me").status_code == 401
    # and the issued one works
    victim = TestClient(client.app)
    victim.cookies.set(SESSION_COOKIE, issued)
    assert victim.get("/api/v1/me").json() == {"label": "web:alice", "role": "dispatcher"}
    # a second login gets yet another id
    again = submit(client, "alice", PASSWORD)
    assert again.cookies[SESSION_COOKIE] not in (issued, planted)


def test_session_needs_csrf_header_on_unsafe_api_calls(ctx: Context, client: TestClient) -> None:
    create_user(client, "root", "admin")
    assert submit(client, "root", PASSWORD).status_code == 303
    csrf = session_csrf(client)
    body = {"kind": "ingest", "name": "ems-9"}

    # reading with the session needs no CSRF token
    assert client.get("/api/v1/me").json() == {"label": "web:root", "role": "admin"}

    missing = client.post("/api/v1/admin/tokens", json=body)
    assert missing.status_code == 403
    assert "CSRF" in missing.json()["error"]
    wrong = client.post("/api/v1/admin/tokens", json=body, headers={"X-CSRF-Token": "f" * 32})
    assert wrong.status_code == 403
    assert client.get("/api/v1/admin/tokens").json()["items"] == []

    allowed = client.post("/api/v1/admin/tokens", json=body, headers={"X-CSRF-Token": csrf})
    assert allowed.status_code == 201, allowed.text
    tokens = client.get("/api/v1/admin/tokens").json()["items"]
    assert [(t["name"], t["created_by"]) for t in tokens] == [("ems-9", "web:root")]
    revoke = client.delete(f"/api/v1/admin/tokens/{allowed.json()['id']}")
    assert revoke.status_code == 403
    revoke = client.delete(f"/api/v1/admin/tokens/{allowed.json()['id']}", headers={"X-CSRF-Token": csrf})
    assert revoke.status_code == 204


def test_a_session_csrf_token_is_bound_to_its_session(ctx: Context, client: TestClient) -> None:
    create_user(client, "root", "admin")
    other = TestClient(client.app)
    assert submit(other, "root", PASSWORD).status_code == 303
    foreign = session_csrf(other)
    assert submit(client, "root", PASSWORD).status_code == 303
    mine = session_csrf(client)
    assert mine != foreign
    body = {"kind": "ingest", "name": "ems-9"}
    assert (
        client.post("/api/v1/admin/tokens", json=body, headers={"X-CSRF-Token": foreign}).status_code == 403
    )


def test_failed_logins_lock_until_the_lock_time_passes(ctx: Context, client: TestClient) -> None:
    create_user(client, "alice", "dispatcher")
    policy = ctx.policy.access
    csrf = login_csrf(client)
    for _ in range(policy.login_max_failures):
        failed = submit(client, "alice", "wrong password", csrf)
        assert failed.status_code == 401
        assert "用户名或密码错误" in failed.text
        assert not set_cookie_headers(failed, SESSION_COOKIE)

    locked = submit(client, "alice", PASSWORD, csrf)
    assert locked.status_code == 401
    assert "失败次数过多" in locked.text
    assert sessions(ctx) == 0

    ctx.clock.advance(policy.login_lock_minutes * 60 - 60)  # type: ignore[attr-defined]
    assert submit(client, "alice", PASSWORD, csrf).status_code == 401

    ctx.clock.advance(61)  # type: ignore[attr-defined]
    assert submit(client, "alice", PASSWORD, csrf).status_code == 303
    assert sessions(ctx) == 1


def test_the_lock_holds_per_user_name_and_per_address(ctx: Context, client: TestClient) -> None:
    create_user(client, "alice", "dispatcher")
    create_user(client, "bob", "dispatcher")
    from_a = TestClient(client.app, client=("10.0.0.1", 40000))
    from_b = TestClient(client.app, client=("10.0.0.2", 40000))
    for _ in range(ctx.policy.access.login_max_failures):
        assert submit(from_a, "alice", "wrong password").status_code == 401
    # the user name is locked from any address
    assert "失败次数过多" in submit(from_b, "alice", PASSWORD).text
    # and the address is locked for any user name
    assert "失败次数过多" in submit(from_a, "bob", PASSWORD).text
    # other users elsewhere are unaffected
    assert submit(from_b, "bob", PASSWORD).status_code == 303


def test_unknown_user_and_wrong_password_look_the_same(ctx: Context, client: TestClient) -> None:
    create_user(client, "alice", "dispatcher")
    csrf = login_csrf(client)
    wrong = submit(client, "alice", "wrong password", csrf)
    unknown = submit(client, "mallory", "wrong password", csrf)
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.text == unknown.text


def test_failures_below_the_limit_do_not_lock(ctx: Context, client: TestClient) -> None:
    create_user(client, "alice", "dispatcher")
    csrf = login_csrf(client)
    for _ in range(ctx.policy.access.login_max_failures - 1):
        assert submit(client, "alice", "wrong password", csrf).status_code == 401
    assert submit(client, "alice", PASSWORD, csrf).status_code == 303


def test_logout_invalidates_the_session(ctx: Context, client: TestClient) -> None:
    create_user(client, "alice", "dispatcher")
    response = submit(client, "alice", PASSWORD)
    cookie = response.cookies[SESSION_COOKIE]
    csrf = session_csrf(client)

    # a logout without the form's CSRF token (a cross-site post) does not end the session
    stranger = client.post("/logout", data={"csrf": "nope"}, follow_redirects=False)
    assert stranger.status_code == 303
    assert sessions(ctx) == 1
    client.cookies.set(SESSION_COOKIE, cookie)

    out = client.post("/logout", data={"csrf": csrf}, follow_redirects=False)
    assert out.status_code == 303
    assert out.headers["location"] == "/login"
    assert sessions(ctx) == 0

    replay = TestClient(client.app)
    replay.cookies.set(SESSION_COOKIE, cookie)
    assert replay.get("/", follow_redirects=False).headers["location"] == "/login"
    assert replay.get("/api/v1/me").status_code == 401


def test_session_expires_after_session_hours(ctx: Context, client: TestClient) -> None:
    create_user(client, "alice", "dispatcher")
    assert submit(client, "alice", PASSWORD).status_code == 303
    hours = ctx.policy.access.session_hours
    ctx.clock.advance(timedelta(hours=hours).total_seconds() - 1)  # type: ignore[attr-defined]
    assert client.get("/api/v1/me").status_code == 200
    ctx.clock.advance(1)  # type: ignore[attr-defined]
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"


def test_password_is_stored_as_argon2id(ctx: Context, client: TestClient) -> None:
    create_user(client, "alice", "dispatcher")
    with ctx.db.engine.connect() as conn:
        stored = conn.scalar(text("SELECT password_hash FROM app_user WHERE username = 'alice'"))
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_short_password_is_refused(ctx: Context, client: TestClient) -> None:
    response = client.post(
        "/api/v1/admin/users",
        json={"username": "bob", "role": "dispatcher", "password": "short"},
        headers=ADMIN,
    )
    assert response.status_code == 400
    assert "8 characters" in response.json()["error"]


@pytest.mark.parametrize("lang, word, other", [("en", "Log in", "登录"), ("zh", "登录", "Log in")])
def test_language_switch(ctx: Context, client: TestClient, lang: str, word: str, other: str) -> None:
    switched = client.get(f"/lang/{lang}", follow_redirects=False)
    assert switched.status_code == 303
    assert client.cookies[LANG_COOKIE] == lang
    page = client.get("/login").text
    assert word in page and other not in page


def test_default_language_is_chinese(ctx: Context, client: TestClient) -> None:
    page = client.get("/login").text
    assert "登录" in page and "Log in" not in page
    assert '<html lang="zh-CN">' in page


def test_language_switch_ignores_unknown_and_foreign_targets(ctx: Context, client: TestClient) -> None:
    unknown = client.get("/lang/xx", follow_redirects=False)
    assert unknown.status_code == 303
    assert LANG_COOKIE not in client.cookies
    foreign = client.get("/lang/en", headers={"Referer": "https://evil.example/"}, follow_redirects=False)
    assert foreign.headers["location"] == "/"
