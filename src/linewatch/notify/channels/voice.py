"""Voice: hands a text to an HTTP voice-call gateway (语音外呼) that rings the phone and reads it.

``POST {url}`` JSON ``{"id", "to", "text", "language", "repeat"}`` with an optional bearer token;
the gateway answers 2xx ``{"call_id": ...}``. The outbox id is the idempotency key.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, ClassVar

from pydantic import SecretStr

from linewatch.core.clock import Clock
from linewatch.notify.channels.base import Channel, ChannelConfig, Delivery, Message


class VoiceConfig(ChannelConfig):
    url: str
    token: SecretStr | None = None
    repeat: int = 2  # times the text is read out


class VoiceChannel(Channel):
    kind: ClassVar[str] = "voice"
    config_model: ClassVar[type[ChannelConfig]] = VoiceConfig
    config: VoiceConfig

    def __init__(self, config: VoiceConfig, clock: Clock) -> None:
        super().__init__(config)
        self.clock = clock

    def _request(self, path: str, payload: dict[str, Any] | None) -> tuple[int, bytes]:
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if self.config.token:
            headers["Authorization"] = f"Bearer {self.config.token.get_secret_value()}"
        data = None if payload is None else json.dumps(payload, ensure_ascii=False).encode()
        url = self.config.url.rstrip("/") + path if path else self.config.url
        req = urllib.request.Request(url, data=data, headers=headers, method="POST" if data else "GET")
        try:
            with urllib.request.urlopen(req, timeout=self.config.timeout_seconds) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def send(self, message: Message) -> Delivery:
        payload = {
            "id": message.id,
            "to": message.address,
            "text": message.text,
            "language": message.language,
            "repeat": self.config.repeat,
        }
        try:
            status, answer = self._request("", payload)
        except OSError as exc:
            return self._count(Delivery(False, error=f"{self.name}: {exc}"))
        if status >= 300:
            return self._count(Delivery(False, error=f"HTTP {status}", permanent=status in (400, 422)))
        try:
            call_id = str(json.loads(answer or b"{}").get("call_id", ""))
        except ValueError:
            call_id = ""
        return self._count(Delivery(True, provider_id=call_id))

    def test_connection(self) -> None:
        from linewatch.notify.channels.base import ChannelError

        try:
            status, _ = self._request("", None)
        except OSError as exc:
            raise ChannelError(f"{self.name}: {exc}") from exc
        if status >= 500 or status in (401, 403):
            raise ChannelError(f"{self.name}: HTTP {status}")

    def diagnostics(self) -> dict[str, Any]:
        return {**super().diagnostics(), "host": urllib.parse.urlsplit(self.config.url).hostname}
