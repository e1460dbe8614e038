"""Webhooks: generic signed JSON, and the WeCom (企业微信) / DingTalk (钉钉) group-robot formats.

- generic: ``POST`` JSON with ``X-Linewatch-Signature: sha256=<hex HMAC-SHA256(secret, ts.body)>``,
  ``X-Linewatch-Timestamp`` and ``Idempotency-Key`` (the outbox id) so a receiver can drop repeats.
- wecom: ``{"msgtype": "markdown", "markdown": {"content": ...}}``; answer ``{"errcode": 0}``.
- dingtalk: ``{"msgtype": "markdown", "markdown": {"title", "text"}}`` to a URL signed with
  ``timestamp`` (ms) and ``sign = base64(HMAC-SHA256(secret, "<ts>\\n<secret>"))``.
Device and customer text is escaped for markdown: a port named ``[x](http://evil)`` stays text.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, ClassVar, Literal

from pydantic import Field, SecretStr

from linewatch.core.clock import Clock
from linewatch.notify.channels.base import Channel, ChannelConfig, ChannelError, Delivery, Message

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~])")


def escape_markdown(text: str) -> str:
    """Backslash-escape markdown syntax and neutralise HTML tags (both robots render some HTML)."""
    return _MD_SPECIAL.sub(r"\\\1", text).replace("&", "&amp;")


class WebhookConfig(ChannelConfig):
    url: str
    format: Literal["generic", "wecom", "dingtalk"] = "generic"
    secret: SecretStr | None = None
    kinds: list[str] = Field(default_factory=list)  # request kinds (prefixes) this group hears; [] = all
    mention_all_when_urgent: bool = False
    language: str = "zh"  # the group's language for texts


class WebhookChannel(Channel):
    kind: ClassVar[str] = "webhook"
    config_model: ClassVar[type[ChannelConfig]] = WebhookConfig
    config: WebhookConfig

    def __init__(self, config: WebhookConfig, clock: Clock) -> None:
        super().__init__(config)
        self.clock = clock

    def wants(self, kind: str) -> bool:
        return not self.config.kinds or any(kind.startswith(k) for k in self.config.kinds)

    def payload(self, message: Message) -> dict[str, Any]:
        fmt = self.config.format
        if fmt == "generic":
            return {
                "id": message.id,
                "title": message.title,
                "text": message.text,
                "urgent": message.urgent,
                "drill": message.drill,
                "language": message.language,
                **{
                    k: v
                    for k, v in message.data.items()
                    if k in ("kind", "level", "incident_id", "ticket_id")
                },
            }
        body = f"**{escape_markdown(message.title)}**\n\n{escape_markdown(message.text)}"
        if fmt == "wecom":
            return {"msgtype": "markdown", "markdown": {"content": body}}
        payload: dict[str, Any] = {
            "msgtype": "markdown",
            "markdown": {"title": message.title[:64], "text": body},
        }
        if message.urgent and self.config.mention_all_when_urgent:
            payload["at"] = {"isAtAll": True}
        return payload

    def target(self, body: bytes) -> tuple[str, dict[str, str]]:
        headers = {"Content-Type": "application/json; charset=utf-8"}
        secret = self.config.secret.get_secret_value() if self.config.secret else None
        url = self.config.url
        if self.config.format == "dingtalk" and secret:
            ts = str(int(self.clock.now().timestamp() * 1000))
            digest = hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()
            sign = urllib.parse.quote_plus(base64.b64encode(digest))
            url += ("&" if "?" in url else "?") + f"timestamp={ts}&sign={sign}"
        elif self.config.format == "generic":
            ts = str(int(self.clock.now().timestamp()))
            headers["X-Linewatch-Timestamp"] = ts
            if secret:
                mac = hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
                headers["X-Linewatch-Signature"] = f"sha256={mac}"
        return url, headers

    def _post(self, body: bytes, idempotency: str | None) -> tuple[int, bytes]:
        url, headers = self.target(body)
        if idempotency:
            headers["Idempotency-Key"] = idempotency
        req = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=self.config.timeout_seconds) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()
        except OSError as exc:
            raise ChannelError(f"{self.name}: {exc}") from exc

    def send(self, message: Message) -> Delivery:
        body = json.dumps(self.payload(message), ensure_ascii=False).encode()
        try:
            status, answer = self._post(body, str(message.id))
        except ChannelError as exc:
            return self._count(Delivery(False, error=str(exc)))
        if status >= 300:
            # 4xx other than throttling is our fault and will not heal by retrying
            permanent = 400 <= status < 500 and status not in (408, 429)
            return self._count(Delivery(False, error=f"HTTP {status}", permanent=permanent))
        if self.config.format in ("wecom", "dingtalk"):
            try:
                code = json.loads(answer or b"{}").get("errcode", 0)
            except ValueError:
                code = -1
            if code != 0:  # robots answer 200 with an error code (bad sign, rate limited …)
                return self._count(Delivery(False, error=f"errcode {code}"))
        return self._count(Delivery(True, provider_id=f"{self.name}:{message.id}"))

    def test_connection(self) -> None:
        # An empty text probe: robots answer with an error code for it but prove URL and signature;
        # a generic receiver gets a ping it can ignore.
        body = json.dumps({"msgtype": "text", "text": {"content": ""}, "ping": True}).encode()
        status, _ = self._post(body, None)
        if status >= 500 or status in (401, 403, 404):
            raise ChannelError(f"{self.name}: HTTP {status}")

    def diagnostics(self) -> dict[str, Any]:
        host = urllib.parse.urlsplit(self.config.url).hostname  # never the query: it may hold a token
        return {**super().diagnostics(), "format": self.config.format, "host": host}
