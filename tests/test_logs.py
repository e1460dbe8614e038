"""Secrets are masked in every log message, whatever shape they come in."""

from __future__ import annotations

import pytest

from linewatch.logs import redact


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Authorization: Bearer abc.def-123", "abc.def-123"),
        ("GET /api/v1/stream?token=t0k3n&x=1", "t0k3n"),
        ('{"password": "hunter2", "user": "a"}', "hunter2"),
        ("connect postgresql://lw:s3cr3t@db.example/linewatch failed", "s3cr3t"),
        ("cookie: lw_session=abcdef0123", "abcdef0123"),
        ("smpp bind system_id=noc secret=pa55w0rd", "pa55w0rd"),
    ],
)
def test_secrets_are_masked(text: str, secret: str) -> None:
    masked = redact(text)
    assert secret not in masked and "***" in masked, masked


def test_ordinary_text_is_left_alone() -> None:
    line = 'POST /api/v1/alarms HTTP/1.1" 202 — 告警 LOS on AGG-GL-1 GE0/1/0'
    assert redact(line) == line
