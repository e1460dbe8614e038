"""Normalisation: any source's item → one :class:`AlarmEvent`, or a :class:`Rejected` naming why.

Pure functions: no I/O, no clock reads (the receipt time is passed in). Text from devices is
untrusted: it is bounded in length and stored as data, never interpreted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from linewatch.alarms.choices import Severity
from linewatch.core.clock import parse_time

MAX_NAME = 200  # NE names, objects, types, sources: identifiers, refused when longer
MAX_TEXT = 4000  # free text is cut (with a mark), not refused: the alarm still matters
SEVERITY_ALIASES = {
    "clear": "cleared",
    "cleared": "cleared",
    "ok": "cleared",
    "resolved": "cleared",
    "info": "warning",
    "informational": "warning",
    "error": "major",
    "high": "critical",
    "medium": "major",
    "low": "minor",
}


def safe_text(text: str) -> str:
    """NUL cannot be stored (PostgreSQL refuses it in text): keep it visible as ``\\x00``."""
    return text.replace("\x00", "\\x00") if "\x00" in text else text


@dataclass(frozen=True, slots=True)
class AlarmEvent:
    """One normalised raise or clear, as every source produces it."""

    source: str
    type: str
    severity: str
    event_time: datetime
    ne: str = ""
    ne_ip: str = ""
    object: str = ""
    text: str = ""
    probable_cause: str = ""
    source_id: str = ""
    drill: bool = False
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_clear(self) -> bool:
        return self.severity == Severity.CLEARED


@dataclass(frozen=True, slots=True)
class Rejected:
    reason: str


def _text(item: Mapping[str, Any], key: str, *, required: bool = False, limit: int = MAX_NAME) -> str:
    value = item.get(key)
    if type(value) is str:  # the common case first: this runs for every field of every alarm
        text = value.strip()
    elif value is None:
        text = ""
    elif isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"'{key}' must be a string, not {type(value).__name__}")
    else:
        text = str(value).strip()
    if not text:
        if required:
            raise ValueError(f"'{key}' is required")
        return ""
    if "\x00" in text:
        raise ValueError(f"'{key}' contains a NUL character")
    if len(text) > limit:
        if limit == MAX_TEXT:
            return text[: limit - 1] + "…"
        raise ValueError(f"'{key}' is longer than {limit} characters")
    return text


def canonical_type(raw: str, aliases: Mapping[str, str]) -> str:
    """Upper-case with ``_``; source-specific names map through the policy's aliases."""
    key = raw.strip()
    if key in aliases:
        return aliases[key]
    upper = key.upper().replace("-", "_").replace(" ", "_")
    return aliases.get(upper, upper)


SEVERITIES = {m.value: m.value for m in Severity} | {m.zh: m.value for m in Severity} | SEVERITY_ALIASES


def canonical_severity(raw: str) -> str:
    found = SEVERITIES.get(raw) or SEVERITIES.get(raw.strip().lower())
    if found is None:
        raise ValueError(f"'severity' must be one of {', '.join(Severity.values())}, not {raw!r}")
    return found


def normalise_native(
    item: Any, received_at: datetime, tz: ZoneInfo, aliases: Mapping[str, str], *, drill: bool = False
) -> AlarmEvent | Rejected:
    """The native HTTP format of INTERFACES "Alarm ingestion"."""
    if not isinstance(item, Mapping):
        return Rejected(f"an alarm must be a JSON object, not {type(item).__name__}")
    try:
        source = _text(item, "source", required=True)
        ne = _text(item, "ne")
        ne_ip = _text(item, "ne_ip", limit=64)
        if not ne and not ne_ip:
            raise ValueError("'ne' or 'ne_ip' is required")
        raw_type = _text(item, "type", required=True)
        severity = canonical_severity(_text(item, "severity", required=True, limit=32))
        event_time = received_at
        if item.get("event_time") not in (None, ""):
            raw_time = _text(item, "event_time", limit=64)
            try:
                event_time = parse_time(raw_time, tz)
            except ValueError:
                raise ValueError(f"'event_time' is not an RFC 3339 time: {raw_time!r}") from None
        return AlarmEvent(
            source=source,
            ne=ne,
            ne_ip=ne_ip,
            object=_text(item, "object"),
            type=canonical_type(raw_type, aliases),
            severity=severity,
            event_time=event_time,
            text=_text(item, "text", limit=MAX_TEXT),
            probable_cause=_text(item, "probable_cause", limit=MAX_TEXT),
            source_id=_text(item, "source_id"),
            drill=drill,
        )
    except ValueError as exc:
        return Rejected(str(exc))
