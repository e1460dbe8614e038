"""Oversized, deeply nested, wrongly encoded and malicious bodies: a clear 4xx, or stored inert.

Also: secrets never reach the log (passwords at login, tokens in use), and spreadsheet exports
neutralise formulas and characters a workbook cannot hold.
"""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook, load_workbook

import linewatch.web
from linewatch.context import Context
from linewatch.reports.xlsx import safe
from tests.conftest import ADMIN, ADMIN_TOKEN, bearer
from tests.web.test_login import PASSWORD, create_user, submit

HOSTILE_TEXT = [
    "'; DROP TABLE alarm; --",
    "1' OR '1'='1",
    '<script>alert("x")</script>',
    '"><img src=x onerror=alert(1)>',
    "=cmd|' /C calc'!A0",
    "{{7*7}} ${7*7} %s %n",
    "الخط\u202e反向",  # right-to-left override
]
JSON = {"Content-Type": "application/json"}


def ingest_token(client: TestClient) -> dict[str, str]:
    issued = client.post("/api/v1/admin/tokens", json={"kind": "ingest", "name": "hostile"}, headers=ADMIN)
    assert issued.status_code == 201, issued.text
    return bearer(issued.json()["token"])


def assert_clear_4xx(response, status: int | None = None) -> None:  # type: ignore[no-untyped-def]
    assert 400 <= response.status_code < 500, response.text
    if status is not None:
        assert response.status_code == status, response.text
    assert response.json()["error"]


SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # parsing: one database is enough


@SQLITE_ONLY
@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/api/v1/alarms", b"[" * 100_000 + b"]" * 100_000, 400),  # nested past any parser's recursion
        ("/api/v1/alarms", b'{"source": "\xff\xfe bad utf-8"}', 400),
        ("/api/v1/alarms", b'{"source": "x", "ne": "' + b"A" * 17_000_000 + b'"}', 413),
        ("/api/v1/ingest/alertmanager", b"[" * 100_000, 400),
        ("/api/v1/ingest/alertmanager", '{"alerts": "é"}'.encode("latin-1"), 400),
        ("/api/v1/tickets", b"[" * 100_000 + b"]" * 100_000, None),
        ("/api/v1/tickets", b'{"customer": "\xc3\x28"}', None),
        ("/api/v1/cutovers", b"{" * 50_000, None),
        ("/api/v1/admin/users", b'{"username": "\x00", "role": "admin"}', None),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_malformed_bodies_get_a_clear_4xx(
    small: Context, client: TestClient, path: str, body: bytes, status: int | None
) -> None:
    headers = {**JSON, **(ingest_token(client) if "ingest" in path or path.endswith("alarms") else ADMIN)}
    assert_clear_4xx(client.post(path, content=body, headers=headers), status)


@SQLITE_ONLY
def test_a_huge_batch_is_413_and_a_listener_keeps_working(small: Context, client: TestClient) -> None:
    token = ingest_token(client)
    items = [{"source": "x", "ne": "ACC-GL-1", "type": "LOS", "severity": "major"}] * 100_000
    assert_clear_4xx(client.post("/api/v1/alarms", json=items, headers=token), 413)
    ok = client.post("/api/v1/alarms", json=items[:1], headers=token)
    assert ok.status_code == 202, ok.text


def test_malicious_text_is_stored_inert_and_read_back_verbatim(small: Context, client: TestClient) -> None:
    token = ingest_token(client)
    items = [
        {
            "source": "hostile",
            "ne": "ACC-GL-1",
            "object": f"GE0/{i}",
            "type": "LOS",
            "severity": "major",
            "text": t,
        }
        for i, t in enumerate(HOSTILE_TEXT)
    ]
    accepted = client.post("/api/v1/alarms", json=items, headers=token)
    assert accepted.status_code == 202, accepted.text
    listed = client.get("/api/v1/alarms", params={"limit": 100}, headers=ADMIN)
    assert listed.status_code == 200, listed.text
    texts = {a.get("text") for a in listed.json()["items"]}
    assert set(HOSTILE_TEXT) <= texts  # the SQL did not run: the table is there, the text is data


def test_a_formula_in_any_spreadsheet_cell_stays_text_and_control_characters_do_not_break_it() -> None:
    wb = Workbook(write_only=True)
    sheet = wb.create_sheet("x")
    cells = [safe(v) for v in [*HOSTILE_TEXT, "\t=1+1", "\r@SUM(A1)", "+1", "-1", "bell\x07 and nul\x00"]]
    sheet.append(cells)
    out = io.BytesIO()
    wb.save(out)  # an illegal XML character used to raise here and fail the whole export
    row = next(load_workbook(io.BytesIO(out.getvalue())).active.iter_rows(values_only=True))
    for value in row:
        assert not str(value).startswith(("=", "+", "-", "@", "\t", "\r")), value
    assert row[-1] == "bell\ufffd and nul\ufffd"


def test_secrets_never_reach_the_log(
    ctx: Context, client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    create_user(client, "alice", "dispatcher")
    submit(client, "alice", "wrong password 9f8e7d")  # a failure is logged as such, not its password
    assert submit(client, "alice", PASSWORD).status_code == 303
    issued = client.post("/api/v1/admin/tokens", json={"kind": "ingest", "name": "logcheck"}, headers=ADMIN)
    token = issued.json()["token"]
    client.post("/api/v1/alarms", json=[{"source": "x"}], headers=bearer(token))
    client.get("/api/v1/me", headers=bearer(token + "tampered"))
    client.delete(f"/api/v1/admin/tokens/{issued.json()['id']}", headers=ADMIN)
    client.get("/api/v1/me", headers=bearer(token))  # revoked
    logged = "\n".join(f"{r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records)
    assert caplog.records, "nothing was logged: the check would prove nothing"
    for secret in (
        PASSWORD,
        "wrong password 9f8e7d",
        token,
        ADMIN_TOKEN,
        client.cookies.get("linewatch_session"),
    ):
        assert secret and secret not in logged
    with ctx.db.reading() as session:  # nor the audit log, nor the dead letters
        from sqlalchemy import text

        for table in ("audit_log", "ingest_rejected"):
            dump = " ".join(str(row) for row in session.execute(text(f"SELECT * FROM {table}")))
            assert token not in dump and PASSWORD not in dump


HTML_SINKS = re.compile(
    r"\.(innerHTML|outerHTML)\s*[+]?=|insertAdjacentHTML|document\.write|\beval\(|new Function\("
)


def test_the_browser_code_never_turns_text_into_html() -> None:
    """Device and user text reaches the pages only as data (fetched JSON shown via textContent):
    no script of ours has an HTML sink, so a ``<script>`` in an alarm stays text on every screen."""
    scripts = sorted((Path(linewatch.web.__file__).parent / "static").glob("*.js"))
    assert scripts
    found = [f"{p.name}: {m.group(0)}" for p in scripts for m in HTML_SINKS.finditer(p.read_text())]
    assert found == []
