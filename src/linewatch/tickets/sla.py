"""SLA arithmetic (DOMAIN 5) and the customer-contact hours (DOMAIN 4): pure functions, no I/O.

Deadlines count from dispatch (the ticket's creation); time spent suspended (挂起, waiting on
the customer) does not count, so every deadline moves later by the suspended time.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from linewatch.core.policy import ContactHours, SlaPolicy

TRACK_ORDER = ("gold", "silver", "normal")  # best first
DEADLINES = ("accept", "contact", "on_site", "locate", "recover")
LADDER = ("fault_manager", "manager_l3", "leader")  # 故障管理员 → 三级经理 → 部门领导


def track_for(grades: Iterable[str], sla: SlaPolicy) -> str:
    """The contractor track from customers' service grades; a ticket over several takes the best."""
    tracks = {sla.grade_track[g] for g in grades if g in sla.grade_track}  # type: ignore[index]
    return next((t for t in TRACK_ORDER if t in tracks), "normal")


def recovery_limit(assurances: Iterable[str], sla: SlaPolicy) -> int:
    """Minutes to recover: by assurance level; a ticket over several circuits takes the earliest."""
    limits = [sla.recovery_minutes[a] for a in assurances if a in sla.recovery_minutes]  # type: ignore[index]
    return min(limits) if limits else sla.recovery_minutes["normal"]


def paused(suspended_seconds: int, suspended_at: datetime | None, now: datetime) -> timedelta:
    """Total time the clock stood still, including a suspension still running."""
    running = (now - suspended_at) if suspended_at is not None and now > suspended_at else timedelta(0)
    return timedelta(seconds=suspended_seconds) + running


def deadlines(
    created_at: datetime,
    track: str,
    recovery_minutes: int,
    pause: timedelta,
    sla: SlaPolicy,
    contact_after: datetime | None = None,
) -> dict[str, datetime]:
    """Each milestone's deadline. ``contact_after``: the customer contact was deferred to the
    contact hours (DOMAIN 4, 07:30 rule), so the contact deadline counts from then, not from dispatch."""
    limits = sla.tracks[track]  # type: ignore[index]
    minutes = {
        "accept": limits.accept,
        "contact": limits.contact,
        "on_site": limits.on_site,
        "locate": limits.locate,
        "recover": recovery_minutes,
    }
    due = {name: created_at + timedelta(minutes=m) + pause for name, m in minutes.items()}
    if contact_after is not None:
        due["contact"] = max(due["contact"], contact_after + timedelta(minutes=limits.contact))
    return due


def escalation_times(
    created_at: datetime, track: str, pause: timedelta, sla: SlaPolicy
) -> dict[str, datetime]:
    """When an unrecovered ticket escalates to each rung of the ladder (repair escalation)."""
    limits = sla.tracks[track]  # type: ignore[index]
    minutes = {
        "fault_manager": limits.escalate_fault_manager,
        "manager_l3": limits.escalate_manager_l3,
        "leader": limits.escalate_leader,
    }
    return {level: created_at + timedelta(minutes=m) + pause for level, m in minutes.items()}


def within_contact_hours(now: datetime, hours: ContactHours, tz: ZoneInfo) -> bool:
    """07:30 ≤ local time < 22:00 (by default): the support team may phone the customer."""
    local = now.astimezone(tz).time()
    return hours.start <= local < hours.end


def next_contact_time(now: datetime, hours: ContactHours, tz: ZoneInfo) -> datetime:
    """The next moment customers may be contacted: now if inside the hours, else the next start (07:30)."""
    if within_contact_hours(now, hours, tz):
        return now
    local = now.astimezone(tz)
    start = datetime.combine(local.date(), hours.start, tzinfo=tz)
    if local.time() >= hours.end:
        start = datetime.combine(local.date() + timedelta(days=1), hours.start, tzinfo=tz)
    return start


__all__ = [
    "DEADLINES",
    "LADDER",
    "TRACK_ORDER",
    "deadlines",
    "escalation_times",
    "next_contact_time",
    "paused",
    "recovery_limit",
    "track_for",
    "within_contact_hours",
]
