"""Logging for the running server: plain text (default) or JSON lines (``LINEWATCH_LOG_FORMAT=json``).

Every record carries the request id of the HTTP request it was logged under (``X-Request-ID``,
taken from the client or made up) and whatever ids the code passed in ``extra`` (alarm, incident,
ticket). Secrets never reach the log: bearer tokens, passwords, cookies and URL passwords are
masked in every message, whatever logged them.
"""

from __future__ import annotations

import asyncio
import contextvars
import itertools
import json
import logging
import re
import secrets
import sys
from datetime import UTC, datetime
from typing import Any

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")

# what a secret looks like wherever it may be written: headers, query strings, URLs, JSON, key=value
_SECRETS = [
    (re.compile(r"(?i)(bearer\s+)[^\s\"',;]+"), r"\1***"),
    (re.compile(r"(?i)((?:authorization|cookie|set-cookie)[\"']?\s*[:=]\s*[\"']?)[^\"'\n]+"), r"\1***"),
    (
        re.compile(
            r"(?i)((?:password|passwd|secret|token|api_key|session)[\"']?\s*[:=]\s*[\"']?)[^\s\"'&,}]+"
        ),
        r"\1***",
    ),
    (re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^:/\s@]+:)[^@\s/]+@"), r"\1***@"),
]
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "color_message"}


def redact(text: str) -> str:
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class _Context(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class JsonLines(logging.Formatter):
    """One JSON object a line: time (UTC), level, logger, message, request id, ids from ``extra``."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        if getattr(record, "request_id", ""):
            entry["request_id"] = record.request_id  # type: ignore[attr-defined]
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key != "request_id":
                entry[key] = _plain(value)
        if record.exc_info:
            entry["error"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def _plain(value: Any) -> Any:
    """An ``extra`` value as JSON: numbers and lists stay what they are, text is masked."""
    if isinstance(value, int | float | bool | None):
        return value
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return redact(str(value))


class Text(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(rid)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        rid = getattr(record, "request_id", "")
        record.rid = f" [{rid}]" if rid else ""
        return redact(super().format(record))


def configure(fmt: str = "text", level: str = "INFO") -> None:
    """Route Linewatch's and uvicorn's loggers through one handler on stderr."""
    if fmt not in ("text", "json"):
        raise ValueError(f"LINEWATCH_LOG_FORMAT must be 'text' or 'json', not {fmt!r}")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines() if fmt == "json" else Text())
    handler.addFilter(_Context())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    access = logging.getLogger("uvicorn.access")
    access.filters[:] = [_quiet_ingest]


INGEST_PATHS = ("/api/v1/alarms", "/api/v1/ingest/")


def _quiet_ingest(record: logging.LogRecord) -> bool:
    """No access line for an accepted ingest POST: the ``linewatch.ingest`` line naming it (request
    id, alarm ids; ``IngestLog``) says more, and at a thousand requests a second the pair cost a sixth of
    the event loop. Refusals and errors keep theirs."""
    args = record.args
    if isinstance(args, tuple) and len(args) == 5:
        _client, method, path, _version, status = args
        if method == "POST" and str(path).startswith(INGEST_PATHS) and int(status) < 400:
            return False
    return True


class IngestLog:
    """Accepted ingest requests are logged together, a line per channel at most every ``interval``
    seconds, naming each request (its id), its event count and the alarms it stored. A line per
    request cost a tenth of the event loop at a thousand one-alarm requests a second
    (decision 131). Requests with refused items keep a line of their own, at once."""

    SHOWN = 20  # request ids spelled out in a text line (JSON lines carry every request)

    def __init__(self, logger: logging.Logger, interval: float = 1.0) -> None:
        self.logger, self.interval = logger, interval
        self.pending: dict[str, list[tuple[str, int, list[int]]]] = {}
        self.timer: asyncio.TimerHandle | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    def add(self, channel: str, events: int, alarm_ids: list[int]) -> None:
        """On the event loop, in the request's context (its id is taken from there)."""
        self.pending.setdefault(channel, []).append((request_id.get(), events, alarm_ids[:50]))
        loop = asyncio.get_running_loop()
        if self.timer is None or self.loop is not loop:  # (a new loop: another server in this process)
            self.loop, self.timer = loop, loop.call_later(self.interval, self.flush)

    def flush(self) -> None:
        """Write what is pending (the timer; and at shutdown, so nothing is left unsaid)."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        pending, self.pending = self.pending, {}
        for channel, entries in pending.items():
            ids = ", ".join(rid for rid, _, _ in entries[: self.SHOWN])
            more = f" and {len(entries) - self.SHOWN} more" if len(entries) > self.SHOWN else ""
            self.logger.info(
                "stored %d events from %s in %d requests (%s%s)",
                sum(events for _, events, _ in entries),
                channel,
                len(entries),
                ids,
                more,
                extra={
                    "channel": channel,
                    "requests": [
                        {"request_id": rid, "events": events, "alarm_ids": alarm_ids}
                        for rid, events, alarm_ids in entries
                    ],
                },
            )


_SAFE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
# request ids: random per process, then counted (uuid4 per request read the OS's random source)
_ID_PREFIX, _ids = secrets.token_hex(4), itertools.count(1)


class RequestIds:
    """ASGI middleware: each HTTP request runs under its id (the client's ``X-Request-ID`` when it
    is a plain token, else a new one), echoed in the response's ``X-Request-ID``."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        rid = incoming if _SAFE_ID.fullmatch(incoming) else f"{_ID_PREFIX}{next(_ids):08x}"
        token = request_id.set(rid)

        async def send_with_id(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id.reset(token)
