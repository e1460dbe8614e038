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


def test_accepted_ingest_requests_are_logged_together_each_named_with_its_alarms(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Decision 131: one line per channel per interval, not one per request; nothing is lost."""
    import asyncio
    import logging
    import threading

    from linewatch.logs import IngestLog, request_id

    logger = logging.getLogger("test.ingest")
    batched = IngestLog(logger, interval=3600)  # flushed by hand here: no waiting on a clock

    async def requests() -> None:
        for n in range(25):
            token = request_id.set(f"req-{n}")
            batched.add("http", 1, [100 + n])
            request_id.reset(token)
        batched.add("alertmanager", 2, [7, 8])
        assert batched.timer is not None  # one timer for all of them
        assert not caplog.records  # nothing yet
        batched.flush()
        assert batched.timer is None and not batched.pending

    failures: list[BaseException] = []

    def on_its_own_loop() -> None:  # a thread: the test run may have a loop running on this one
        try:
            asyncio.run(requests())
        except BaseException as exc:  # handed to the test's thread
            failures.append(exc)

    with caplog.at_level(logging.INFO, logger="test.ingest"):
        runner = threading.Thread(target=on_its_own_loop)
        runner.start()
        runner.join()
    assert not failures, failures
    http, alertmanager = caplog.records
    assert http.getMessage().startswith("stored 25 events from http in 25 requests (req-0, req-1,")
    assert http.getMessage().endswith("req-19 and 5 more)")
    assert http.requests[24] == {"request_id": "req-24", "events": 1, "alarm_ids": [124]}  # type: ignore[attr-defined]
    assert alertmanager.requests == [{"request_id": "", "events": 2, "alarm_ids": [7, 8]}]  # type: ignore[attr-defined]
