"""Storm control, pure: who has already heard what, digests under floods, per-channel rate limits.

Nothing here touches a database or a clock of its own; the worker feeds it times and facts, and
reloads its memory from the outbox at start (so a restart neither forgets nor repeats).

Rules (DOMAIN 4 and issue 5):
- one message per subject (incident, else ticket) per person; after that only news: a level
  change, an escalation rung, a breach, recovery, or a progress reminder — each once;
- when more than ``digest_incidents`` incidents open for one person within ``window``, the
  further ones are folded into one digest for that window instead of one message each;
- per channel, at most ``rate_per_minute`` sends in one clock minute; the rest wait (never dropped).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from linewatch.notify.choices import Decision

#: Topics that announce a subject (its first news, or its level); the rest are news items told once.
OPENING_PREFIXES = ("level:",)


@dataclass(frozen=True)
class Item:
    """One piece of news for one recipient."""

    subject: str  # "incident:12", "ticket:7"
    topic: str  # "level:urgent", "escalation:leader", "breach:contact", "recovered", "progress:<req>"
    level: str = ""

    @property
    def opening(self) -> bool:
        return self.topic.startswith(OPENING_PREFIXES)


@dataclass
class Memory:
    level: str = ""
    told: set[str] = field(default_factory=set)


def topic_of(kind: str, data: dict[str, object], level: str, request_id: int) -> str:
    """The news a request carries, from its kind and facts (producers' kinds, see db/outbox.py)."""
    if kind.startswith("incident.") and kind.removeprefix("incident.") in ("recovered", "cleared"):
        return "recovered"
    if kind == "incident.assurance":  # news even to whoever heard of the fault: it is now in a 重保 scope
        period = data.get("assurance")
        return f"assurance:{period.get('id', '') if isinstance(period, dict) else ''}"
    if kind == "ticket.escalated":
        return f"escalation:{data.get('level', '')}"
    if kind == "ticket.breach":
        return f"breach:{data.get('deadline', '')}"
    if kind == "ticket.recovered":
        return "recovered"
    if kind in ("ticket.progress_due", "ticket.customer_contact_deferred"):
        return f"{kind.removeprefix('ticket.')}:{request_id}"  # each reminder is news of its own
    if kind.startswith("incident.") or kind == "ticket.dispatched":
        return f"level:{level}"  # "" when unknown: then it is no news to whoever heard of the subject
    return f"{kind}:{request_id}"


class Storm:
    def __init__(self, digest_incidents: int, window_minutes: int) -> None:
        self.limit = digest_incidents
        self.window = timedelta(minutes=window_minutes)
        self.memory: dict[tuple[Hashable, str], Memory] = {}
        self.opens: dict[Hashable, deque[datetime]] = {}

    def decide(self, who: Hashable, item: Item, now: datetime) -> Decision:
        """Decide and remember (the caller commits the outcome; on rollback it reloads)."""
        mem = self.memory.get((who, item.subject))
        if mem is not None and (item.topic in mem.told or (item.opening and item.level in ("", mem.level))):
            return Decision.SUPPRESS
        decision = Decision.SEND
        if mem is None and item.subject.startswith("incident:"):
            opened = self.opens.setdefault(who, deque())
            while opened and opened[0] <= now - self.window:
                opened.popleft()
            opened.append(now)
            if len(opened) > self.limit:
                decision = Decision.DIGEST
        self.remember(who, item, now, count_open=False)
        return decision

    def remember(self, who: Hashable, item: Item, at: datetime, *, count_open: bool = True) -> None:
        mem = self.memory.get((who, item.subject))
        if mem is None:
            mem = self.memory[(who, item.subject)] = Memory()
            if count_open and item.subject.startswith("incident:"):
                self.opens.setdefault(who, deque()).append(at)
        mem.told.add(item.topic)
        if item.level:
            mem.level = item.level

    def digest_window(self, now: datetime) -> tuple[datetime, datetime]:
        """The fixed window a digest collects into; it goes out at the window's end."""
        seconds = int(self.window.total_seconds())
        start = datetime.fromtimestamp(int(now.timestamp()) // seconds * seconds, tz=now.tzinfo)
        return start, start + self.window


class RateLimiter:
    """At most ``per_minute[channel]`` sends per clock minute per channel."""

    def __init__(self, per_minute: dict[str, int]) -> None:
        self.per_minute = dict(per_minute)
        self.used: dict[str, tuple[int, int]] = {}

    def take(self, channel: str, now: datetime) -> bool:
        limit = self.per_minute.get(channel)
        if limit is None:
            return True
        minute = int(now.timestamp()) // 60
        at, count = self.used.get(channel, (minute, 0))
        if at != minute:
            count = 0
        if count >= limit:
            return False
        self.used[channel] = (minute, count + 1)
        return True

    def next_minute(self, now: datetime) -> datetime:
        return datetime.fromtimestamp((int(now.timestamp()) // 60 + 1) * 60, tz=now.tzinfo)
