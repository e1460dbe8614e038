"""How an alarm reaches a circuit (the result of matching, DOMAIN 3.5).

There are only eight possible values, so they are interned: matching a storm of alarms onto
hundreds of thousands of circuits creates no new objects, and memory stays flat.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Hit:
    """How an alarm reaches a circuit: on its primary route, its backup route, or its platform."""

    primary: bool = False
    backup: bool = False
    platform: bool = False

    def __or__(self, other: Hit) -> Hit:
        return hit(
            self.primary or other.primary, self.backup or other.backup, self.platform or other.platform
        )


_INTERNED = {(p, b, f): Hit(p, b, f) for p in (False, True) for b in (False, True) for f in (False, True)}


def hit(primary: bool = False, backup: bool = False, platform: bool = False) -> Hit:
    """The shared instance for these flags."""
    return _INTERNED[(primary, backup, platform)]


PRIMARY = hit(primary=True)
BACKUP = hit(backup=True)
PLATFORM = hit(platform=True)
NONE = hit()
