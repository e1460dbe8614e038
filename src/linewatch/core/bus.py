"""The in-process event bus between stages. Handlers run synchronously, in subscription order.

Stages publish downstream only (ingest → … → live view); a handler never publishes upstream.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

Handler = Callable[[Any], None]


class EventBus:
    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = defaultdict(list)

    def subscribe(self, topic: str, handler: Handler) -> None:
        self._handlers[topic].append(handler)

    def publish(self, topic: str, payload: Any = None) -> None:
        for handler in list(self._handlers[topic]):
            handler(payload)


INVENTORY_CHANGED = "inventory.changed"
