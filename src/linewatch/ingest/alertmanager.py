"""Prometheus Alertmanager webhook (payload version 4) → alarm events (INTERFACES "Alarm ingestion").

Pure functions, like :mod:`linewatch.alarms.normalise`: the receipt time, the time zone, the type
aliases and the NE-name lookup are passed in. One webhook call carries a group of alerts, each
becoming one event or one :class:`Rejected`; a malformed envelope is a single rejection.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from linewatch.alarms.choices import Severity
from linewatch.alarms.normalise import (
    MAX_NAME,
    MAX_TEXT,
    AlarmEvent,
    Rejected,
    canonical_severity,
    canonical_type,
)
from linewatch.core.clock import parse_time

SOURCE = "alertmanager"
# Prometheus conventions that our vocabulary does not name; anything else unknown is indeterminate.
PROMETHEUS_SEVERITIES = {"page": "critical", "none": "indeterminate"}

ResolveHost = Callable[[str], bool]


def envelope_problem(payload: Any) -> str | None:
    """Why ``payload`` is not a version-4 webhook body, or None when its shape is right."""
    if not isinstance(payload, Mapping):
        return f"an Alertmanager webhook body must be a JSON object, not {type(payload).__name__}"
    version = payload.get("version")
    if str(version) != "4" or isinstance(version, bool):
        return f'unsupported Alertmanager webhook version {version!r} (expected "4")'
    alerts = payload.get("alerts")
    if not isinstance(alerts, list):
        return f"'alerts' must be a list, not {type(alerts).__name__}"
    if not alerts:
        return "'alerts' is empty"
    receiver = payload.get("receiver")
    if receiver is not None and not isinstance(receiver, str):
        return f"'receiver' must be a string, not {type(receiver).__name__}"
    return None


def source_of(payload: Mapping[str, Any]) -> str:
    receiver = str(payload.get("receiver") or "").strip()
    return f"{SOURCE}:{receiver}"[:MAX_NAME] if receiver else SOURCE


def normalise_alertmanager(
    payload: Any,
    received_at: datetime,
    tz: ZoneInfo,
    aliases: Mapping[str, str],
    resolve_host: ResolveHost,
) -> list[AlarmEvent | Rejected]:
    """The whole webhook body: one result per alert, or one Rejected for a bad envelope."""
    problem = envelope_problem(payload)
    if problem:
        return [Rejected(problem)]
    source = source_of(payload)
    return [
        normalise_alert(alert, received_at, tz, aliases, resolve_host, source=source)
        for alert in payload["alerts"]
    ]


def normalise_alert(
    alert: Any,
    received_at: datetime,
    tz: ZoneInfo,
    aliases: Mapping[str, str],
    resolve_host: ResolveHost,
    *,
    source: str = SOURCE,
) -> AlarmEvent | Rejected:
    """One entry of ``alerts``."""
    if not isinstance(alert, Mapping):
        return Rejected(f"an alert must be a JSON object, not {type(alert).__name__}")
    try:
        labels = _mapping(alert, "labels")
        annotations = _mapping(alert, "annotations")
        name = _value(labels, "alertname")
        what = f" (alert {name!r})" if name else ""
        raw_type = _value(labels, "alarm_type") or name
        if not raw_type:
            raise ValueError("no alarm type: neither label 'alarm_type' nor 'alertname' is set")
        ne, ne_ip = _network_element(labels, resolve_host)
        if not ne and not ne_ip:
            raise ValueError(f"no network element: neither label 'ne' nor 'instance' is set{what}")
        status = alert.get("status", "firing")
        if status not in ("firing", "resolved"):
            raise ValueError(f"'status' must be 'firing' or 'resolved', not {status!r}{what}")
        if status == "resolved":
            severity = Severity.CLEARED.value
            event_time = _time(alert, "endsAt", tz) or received_at
        else:
            severity = _severity(_value(labels, "severity", limit=MAX_TEXT))
            event_time = _time(alert, "startsAt", tz) or received_at
        summary = _value(annotations, "summary", limit=MAX_TEXT)
        description = _value(annotations, "description", limit=MAX_TEXT)
        text = " — ".join(t for t in (summary, description) if t)
        if len(text) > MAX_TEXT:
            text = text[: MAX_TEXT - 1] + "…"
        return AlarmEvent(
            source=source,
            type=canonical_type(raw_type, aliases),
            severity=severity,
            event_time=event_time,
            ne=ne,
            ne_ip=ne_ip,
            object=_value(labels, "port") or _value(labels, "interface"),
            text=text,
            source_id=_value(alert, "fingerprint", limit=64),
        )
    except ValueError as exc:
        return Rejected(str(exc))


def host_of(instance: str) -> str:
    """The host part of a Prometheus ``instance``: ``h:port``, ``[v6]:port``, bare v6, or a URL."""
    value = instance.strip()
    if "://" in value:  # blackbox-style targets
        return urlsplit(value).hostname or ""
    if value.startswith("["):
        end = value.find("]")
        return value[1:end] if end > 0 else value
    if value.count(":") == 1:  # one colon: host:port (a bare IPv6 address has several)
        return value.split(":", 1)[0]
    return value


def _network_element(labels: Mapping[str, Any], resolve_host: ResolveHost) -> tuple[str, str]:
    """(ne, ne_ip): label ``ne`` as given; else ``instance``'s host as a known NE name, an IP, or as is."""
    ne = _value(labels, "ne")
    if ne:
        return ne, ""
    host = host_of(_value(labels, "instance", limit=MAX_TEXT))
    if not host:
        return "", ""
    if resolve_host(host):
        return host, ""
    try:
        return "", str(ipaddress.ip_address(host.split("%", 1)[0]))  # drop a v6 zone (%eth0)
    except ValueError:
        pass
    short = host.split(".", 1)[0]  # a FQDN whose first label is the NE's name
    if short != host and resolve_host(short):
        return short, ""
    if len(host) > MAX_NAME:
        raise ValueError(f"label 'instance' host is longer than {MAX_NAME} characters")
    return host, ""


def _severity(raw: str) -> str:
    """Prometheus severities to ours; a firing alert never clears, and unknown is not a refusal."""
    if not raw:
        return Severity.INDETERMINATE.value
    raw = PROMETHEUS_SEVERITIES.get(raw.strip().lower(), raw)
    try:
        severity = canonical_severity(raw)
    except ValueError:
        return Severity.INDETERMINATE.value
    # "status" decides clearing: a firing alert labelled e.g. severity=ok must not clear
    return Severity.INDETERMINATE.value if severity == Severity.CLEARED.value else severity


def _time(alert: Mapping[str, Any], key: str, tz: ZoneInfo) -> datetime | None:
    raw = _value(alert, key, limit=64)
    if not raw or raw.startswith("0001-01-01"):  # Go's zero time.Time (0001-01-01T00:00:00Z): not set
        return None
    try:
        return parse_time(raw, tz)
    except ValueError:
        raise ValueError(f"'{key}' is not an RFC 3339 time: {raw!r}") from None


def _mapping(item: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = item.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValueError(f"'{key}' must be an object, not {type(value).__name__}")
    return value


def _value(item: Mapping[str, Any], key: str, *, limit: int = MAX_NAME) -> str:
    """A label/annotation/field as bounded text: identifiers refused when too long, text cut."""
    value = item.get(key)
    if value is None or value == "":
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"'{key}' must be a string, not {type(value).__name__}")
    text = str(value).strip()
    if "\x00" in text:
        raise ValueError(f"'{key}' contains a NUL character")
    if len(text) > limit:
        if limit == MAX_TEXT:
            return text[: limit - 1] + "…"
        raise ValueError(f"'{key}' is longer than {limit} characters")
    return text
