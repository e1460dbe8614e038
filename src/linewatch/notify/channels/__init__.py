"""Delivery adapters, one module per channel kind; ``build`` makes them from a config file's entries."""

from __future__ import annotations

from typing import Any

from linewatch.core.clock import Clock
from linewatch.notify.channels.base import Channel, ChannelConfig, ChannelError, Delivery, Message

__all__ = ["KINDS", "Channel", "ChannelConfig", "ChannelError", "Delivery", "Message", "build"]


def _kinds() -> dict[str, type[Channel]]:
    from linewatch.notify.channels.email import EmailChannel
    from linewatch.notify.channels.sms import SmsChannel
    from linewatch.notify.channels.voice import VoiceChannel
    from linewatch.notify.channels.webhook import WebhookChannel

    return {c.kind: c for c in (SmsChannel, EmailChannel, WebhookChannel, VoiceChannel)}


KINDS = ("sms", "email", "webhook", "voice")


def build(entries: list[dict[str, Any]], clock: Clock) -> list[Channel]:
    """Validate every entry (``{kind: ..., ...config}``) before any is used: a typo fails at start."""
    kinds = _kinds()
    out = []
    for entry in entries:
        kind = entry.get("kind")
        if kind not in kinds:
            raise ValueError(f"unknown channel kind {kind!r} (one of {', '.join(KINDS)})")
        cls = kinds[kind]
        config = cls.config_model.model_validate({k: v for k, v in entry.items() if k != "kind"})
        out.append(cls(config, clock))  # type: ignore[call-arg]
    return out
