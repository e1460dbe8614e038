"""How an alarm reaches a circuit (the result of matching, DOMAIN 3.5)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Hit:
    """How an alarm reaches a circuit: on its primary route, its backup route, or its platform."""

    primary: bool = False
    backup: bool = False
    platform: bool = False

    def __or__(self, other: Hit) -> Hit:
        return Hit(
            self.primary or other.primary, self.backup or other.backup, self.platform or other.platform
        )
