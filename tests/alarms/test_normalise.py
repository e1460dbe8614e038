"""Normalising native alarms: every field checked, clear messages, untrusted text bounded. No database."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from linewatch.alarms.normalise import AlarmEvent, Rejected, normalise_native
from linewatch.core.policy import load_policy

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)
ALIASES = load_policy().alarms.type_aliases


def norm(item: object) -> AlarmEvent | Rejected:
    return normalise_native(item, NOW, TZ, ALIASES)


def test_minimal_alarm_defaults_its_time_to_receipt() -> None:
    event = norm({"source": "ems", "ne": "ACC-1", "type": "los", "severity": "Critical"})
    assert isinstance(event, AlarmEvent)
    assert (event.type, event.severity, event.event_time) == ("LOS", "critical", NOW)


def test_aliases_and_clear_and_times() -> None:
    event = norm(
        {
            "source": "eoms4",
            "ne_ip": "10.0.0.1",
            "type": "光信号丢失",
            "severity": "clear",
            "event_time": "2026-03-02T00:30:00Z",
        }
    )
    assert isinstance(event, AlarmEvent)
    assert event.type == "LOS" and event.is_clear
    assert event.event_time == datetime(2026, 3, 2, 0, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        ([1, 2], "must be a JSON object"),
        ({"ne": "A", "type": "LOS", "severity": "major"}, "'source' is required"),
        ({"source": "s", "type": "LOS", "severity": "major"}, "'ne' or 'ne_ip' is required"),
        ({"source": "s", "ne": "A", "severity": "major"}, "'type' is required"),
        ({"source": "s", "ne": "A", "type": "LOS", "severity": "apocalyptic"}, "'severity' must be one of"),
        ({"source": "s", "ne": "A", "type": "LOS", "severity": "major", "event_time": "noon"}, "RFC 3339"),
        ({"source": "s", "ne": {"$gt": ""}, "type": "LOS", "severity": "major"}, "must be a string"),
        ({"source": "s", "ne": "A" * 201, "type": "LOS", "severity": "major"}, "longer than 200"),
        ({"source": "s", "ne": "A\x00B", "type": "LOS", "severity": "major"}, "NUL"),
    ],
)
def test_rejections_name_the_problem(item: object, reason: str) -> None:
    result = norm(item)
    assert isinstance(result, Rejected) and reason in result.reason


def test_long_text_is_cut_not_refused_and_markup_kept_as_data() -> None:
    text = "<img src=x onerror=alert(1)>" + "x" * 10_000
    event = norm({"source": "s", "ne": "A", "type": "LOS", "severity": "major", "text": text})
    assert isinstance(event, AlarmEvent)
    assert event.text.startswith("<img src=x onerror=alert(1)>") and len(event.text) == 4000
