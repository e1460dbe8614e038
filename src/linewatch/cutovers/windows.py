"""The planned-work lookup the alarm book consults on the hot path (DOMAIN 6 planned alarms).

An immutable snapshot of scheduled cutovers' resources, keyed by NE id, swapped whole when
cutovers change: the pipeline writer reads it without locks, and a lookup is a dict probe plus a
few time comparisons — never a query.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from linewatch.alarms.engine import ActiveAlarm
from linewatch.cutovers.rules import Resources, covers


@dataclass(frozen=True, slots=True)
class ActiveWindow:
    cutover_id: int
    start: datetime
    end: datetime
    resources: Resources


@dataclass(frozen=True, slots=True)
class Snapshot:
    by_ne: dict[int, tuple[ActiveWindow, ...]] = field(default_factory=dict)


class PlannedWindows:
    def __init__(self, ne_level_types: list[str], grace: timedelta) -> None:
        self.ne_level_types = frozenset(ne_level_types)
        self.grace = grace  # how long after a window's end its impact is still planned
        self.snapshot = Snapshot()

    def replace(self, windows: list[ActiveWindow]) -> None:
        by_ne: dict[int, list[ActiveWindow]] = {}
        for window in windows:
            for ne_id in window.resources.nes | {ne for ne, _port in window.resources.ports}:
                by_ne.setdefault(ne_id, []).append(window)
        self.snapshot = Snapshot({ne: tuple(ws) for ne, ws in by_ne.items()})

    def covering(
        self, ne_id: int | None, obj: str, alarm_type: str, at: datetime, grace: timedelta = timedelta(0)
    ) -> list[int]:
        """Ids of the cutovers whose window (extended by ``grace``) and resources cover this alarm."""
        if ne_id is None:
            return []
        windows = self.snapshot.by_ne.get(ne_id)
        if not windows:
            return []
        ne_level = not obj or alarm_type in self.ne_level_types
        return [
            w.cutover_id
            for w in windows
            if w.start <= at < w.end + grace and covers(w.resources, ne_id, obj, ne_level)
        ]

    def is_planned(self, ne_id: int | None, obj: str, alarm_type: str, at: datetime) -> bool:
        """The alarm book's question: inside a declared window, on declared resources?"""
        return bool(self.covering(ne_id, obj, alarm_type, at))

    def still_covers(self, alarm: ActiveAlarm, at: datetime) -> bool:
        """The incident book's question on each tick: is this planned alarm's window (plus grace) open?"""
        return bool(self.covering(alarm.ne_id, alarm.object, alarm.type, at, self.grace))
