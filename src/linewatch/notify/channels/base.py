"""The channel contract: one small interface every delivery adapter implements.

A channel is built from a validated pydantic config (secrets never logged), can test its
connection before it is trusted, sends one outbox message (idempotent per outbox id: the id goes
to the peer as Message-ID / idempotency key / SMPP user reference), and reports diagnostics.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict


class ChannelConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = ""  # the configured instance's name (a webhook target's "address")
    timeout_seconds: float = 10.0


@dataclass(frozen=True)
class Message:
    id: int  # the outbox row: the idempotency key sent to the peer
    channel: str
    address: str
    title: str
    text: str
    language: str = "zh"
    urgent: bool = False
    drill: bool = False
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Delivery:
    ok: bool
    provider_id: str = ""
    error: str = ""
    permanent: bool = False  # no point retrying (bad address, rejected payload)
    progress: dict[str, Any] = field(default_factory=dict)
    """What already got through (an SMS's accepted parts), kept with the row; the retry gets it
    back as ``Message.data["progress"]`` and resumes there instead of resending everything."""


class ChannelError(Exception):
    """A peer refused or could not be reached."""


class Channel:
    kind: ClassVar[str]  # sms | email | webhook | voice
    config_model: ClassVar[type[ChannelConfig]]

    def __init__(self, config: ChannelConfig) -> None:
        self.config = config
        self.stats: dict[str, int] = {"sent": 0, "failed": 0}

    @property
    def name(self) -> str:
        return self.config.name or self.kind

    def test_connection(self) -> None:
        """Raise ChannelError when the peer cannot be reached or refuses our credentials."""
        raise NotImplementedError

    def send(self, message: Message) -> Delivery:
        raise NotImplementedError

    def diagnostics(self) -> dict[str, Any]:
        """Counts and non-secret settings, for /metrics and the admin page."""
        return {"name": self.name, "kind": self.kind, **self.stats}

    def close(self) -> None:
        """Release connections (SMPP binds); a no-op for stateless channels."""

    def _count(self, delivery: Delivery) -> Delivery:
        self.stats["sent" if delivery.ok else "failed"] += 1
        return delivery
