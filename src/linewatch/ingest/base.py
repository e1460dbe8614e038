"""The contract every ingest adapter keeps: a sink to hand events to, counters, start/stop."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from linewatch.alarms.engine import Outcome
from linewatch.alarms.normalise import AlarmEvent

log = logging.getLogger("linewatch.ingest")


class Sink(Protocol):
    """Where adapters deliver: ``accept`` returns once events are durable (raises when storage is away)."""

    def accept(self, channel: str, events: list[AlarmEvent]) -> list[Outcome]: ...

    def reject(self, channel: str, remote: str, reason: str, payload: bytes | str) -> None: ...


@dataclass
class Counters:
    """Per-adapter diagnostics: received, accepted, and refused by reason (shown in /metrics)."""

    received: int = 0
    accepted: int = 0
    rejected: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {"received": self.received, "accepted": self.accepted, "rejected": dict(self.rejected)}


class Adapter:
    """Base for listeners: a name, counters, and a safe way to deliver or refuse."""

    name = "adapter"

    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        self.counters = Counters()

    def deliver(self, events: list[AlarmEvent]) -> None:
        if events:
            self.sink.accept(self.name, events)
            self.counters.accepted += len(events)

    def refuse(self, remote: str, reason: str, payload: bytes | str, kind: str | None = None) -> None:
        """Count and dead-letter an item; never raises (a listener must keep serving)."""
        self.counters.rejected[kind or reason.split(":")[0]] += 1
        try:
            self.sink.reject(self.name, remote, reason, payload)
        except Exception:  # storage away: the refusal is still counted and logged
            log.exception("%s: could not keep a refused item (%s)", self.name, reason)

    def diagnostics(self) -> dict[str, Any]:
        return {"name": self.name, **self.counters.as_dict()}


@dataclass
class PipelineSink:
    """The production sink: the pipeline writer, and the dead-letter table."""

    accept_fn: Callable[[str, list[AlarmEvent]], list[Outcome]]
    reject_fn: Callable[[str, str, str, bytes | str], None]

    def accept(self, channel: str, events: list[AlarmEvent]) -> list[Outcome]:
        return self.accept_fn(channel, events)

    def reject(self, channel: str, remote: str, reason: str, payload: bytes | str) -> None:
        self.reject_fn(channel, remote, reason, payload)
