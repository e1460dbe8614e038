"""Pure pieces of notify, no database: storm rules, quiet hours, templates, policy defaults."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from linewatch.core.errors import ValidationFailed
from linewatch.core.policy import load_policy
from linewatch.notify.choices import Decision
from linewatch.notify.recipients import in_quiet_hours
from linewatch.notify.storm import Item, RateLimiter, Storm, topic_of
from linewatch.notify.templates import Facts, render

T = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_policy_defaults_for_notify() -> None:
    notify = load_policy(None).notify
    assert (notify.digest_incidents, notify.digest_window_minutes) == (10, 5)
    assert notify.retry_backoff_seconds == [30, 120, 600, 1800]
    assert notify.default_channels == ["sms"] and notify.quiet_hours is None
    assert "incident.urgent" in notify.urgent_kinds


def test_quiet_hours_must_differ(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "p.yaml"
    path.write_text('notify:\n  quiet_hours: {start: "22:00", end: "22:00"}\n')
    with pytest.raises(ValidationFailed):
        load_policy(str(path))


def test_storm_tells_each_person_once_then_only_news() -> None:
    storm = Storm(digest_incidents=10, window_minutes=5)
    urgent = Item("incident:1", topic_of("incident.urgent", {}, "urgent", 1), "urgent")
    assert storm.decide("p", urgent, T) is Decision.SEND
    assert storm.decide("p", urgent, T) is Decision.SUPPRESS
    assert storm.decide("q", urgent, T) is Decision.SEND  # another person
    dispatched = Item("incident:1", topic_of("ticket.dispatched", {}, "urgent", 2), "urgent")
    assert storm.decide("p", dispatched, T) is Decision.SUPPRESS  # same level: no news
    general = Item("incident:1", "level:general", "general")
    assert storm.decide("p", general, T) is Decision.SEND
    rung = Item("incident:1", topic_of("ticket.escalated", {"level": "leader"}, "", 3))
    assert storm.decide("p", rung, T) is Decision.SEND and storm.decide("p", rung, T) is Decision.SUPPRESS
    assert (
        storm.decide("p", Item("incident:1", topic_of("incident.recovered", {}, "", 4)), T) is Decision.SEND
    )
    progress = [Item("incident:1", topic_of("ticket.progress_due", {}, "", i)) for i in (5, 6)]
    assert [storm.decide("p", p, T) for p in progress] == [Decision.SEND, Decision.SEND]


def test_digest_after_n_incidents_in_the_window_and_again_after_it() -> None:
    storm = Storm(digest_incidents=3, window_minutes=5)
    got = [storm.decide("p", Item(f"incident:{i}", "level:urgent", "urgent"), T) for i in range(5)]
    assert got == [Decision.SEND] * 3 + [Decision.DIGEST] * 2
    later = T + timedelta(minutes=6)
    assert storm.decide("p", Item("incident:9", "level:urgent", "urgent"), later) is Decision.SEND
    start, end = storm.digest_window(T + timedelta(minutes=2))
    assert start == T and end == T + timedelta(minutes=5)


def test_rate_limit_delays_to_the_next_minute() -> None:
    limiter = RateLimiter({"sms": 2})
    assert [limiter.take("sms", T) for _ in range(3)] == [True, True, False]
    assert limiter.take("sms", T + timedelta(seconds=60)) and limiter.take("email", T)
    assert limiter.next_minute(T + timedelta(seconds=5)) == T + timedelta(seconds=60)


def test_quiet_hours_wrap_midnight() -> None:
    night = (time(22, 0), time(7, 30))
    assert in_quiet_hours(time(23, 0), night) and in_quiet_hours(time(6, 0), night)
    assert not in_quiet_hours(time(7, 30), night) and not in_quiet_hours(time(12, 0), None)
    assert in_quiet_hours(time(13, 0), (time(12, 0), time(14, 0)))


def test_templates_short_bilingual_and_drill_marked() -> None:
    facts = Facts(
        kind="incident.urgent",
        level="urgent",
        incident_id=3,
        customer="鼓楼政务",
        customers=2,
        circuit="FZ-C001-DATA-1",
        circuits=1,
        ne="AGG-GL-1",
        port="GE0/1/0",
        impact="down",
    )
    _, zh = render(facts, "zh")
    assert zh == "【紧急故障】鼓楼政务等2户,FZ-C001-DATA-1,AGG-GL-1 GE0/1/0,中断,障3" and len(zh) <= 70
    _, en = render(facts, "en")
    assert en.startswith("[URGENT Fault] 鼓楼政务 +1 FZ-C001-DATA-1 AGG-GL-1 GE0/1/0 down") and len(en) <= 160
    facts.drill = True
    assert render(facts, "zh")[1].startswith("【演练】") and render(facts, "en")[1].startswith("[DRILL]")


def test_early_warning_text_fits_one_sms_in_both_languages() -> None:
    due = datetime(2026, 3, 4, 23, 59, 59, tzinfo=ZoneInfo("Asia/Shanghai"))  # end of Wed 03-04
    red = Facts(
        kind="customer.warning",
        customer="福州鼓楼区政务服务中心",
        due=due,
        extra={"warning_level": "red", "source": "realtime", "warning_id": 12},
    )
    title, zh = render(red, "zh")
    assert title == "【红色预警】福州鼓楼区政务服务中心"
    assert zh == "【红色预警】福州鼓楼区政务服务中心,紧急故障,走访限03-04,预警12" and len(zh) <= 70
    _, en = render(red, "en")
    assert en == "[RED warning] 福州鼓楼区政务服务中心 urgent fault visit by 03-04 W12"
    orange = Facts(
        kind="customer.warning",
        customer="C",
        due=due,
        extra={"warning_level": "orange", "source": "periodic", "faults": 4, "over_limit": 1, "days": 60},
    )
    assert render(orange, "zh")[1] == "【橙色预警】C,60天内故障4次,超时1次,走访限03-04"
    assert render(orange, "en")[1] == "[ORANGE warning] C 4 faults in 60 d, 1 over limit visit by 03-04"
