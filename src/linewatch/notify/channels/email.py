"""E-mail over SMTP (STARTTLS optional). The outbox id becomes the Message-ID, so a re-send after
a crash between the server's accept and our commit is recognisably the same message."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any, ClassVar

from pydantic import SecretStr

from linewatch.core.clock import Clock
from linewatch.notify.channels.base import Channel, ChannelConfig, ChannelError, Delivery, Message


class EmailConfig(ChannelConfig):
    host: str
    port: int = 25
    sender: str
    starttls: bool = False
    verify_tls: bool = True
    username: str | None = None
    password: SecretStr | None = None
    domain: str = "linewatch.local"  # right-hand side of Message-IDs


class EmailChannel(Channel):
    kind: ClassVar[str] = "email"
    config_model: ClassVar[type[ChannelConfig]] = EmailConfig
    config: EmailConfig

    def __init__(self, config: EmailConfig, clock: Clock) -> None:
        super().__init__(config)
        self.clock = clock

    def _connect(self) -> smtplib.SMTP:
        c = self.config
        smtp = smtplib.SMTP(c.host, c.port, timeout=c.timeout_seconds)
        smtp.ehlo()
        if c.starttls:
            context = ssl.create_default_context()
            if not c.verify_tls:
                context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
            smtp.starttls(context=context)
            smtp.ehlo()
        if c.username and c.password:
            smtp.login(c.username, c.password.get_secret_value())
        return smtp

    def build(self, message: Message) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.config.sender
        mail["To"] = message.address
        mail["Subject"] = message.title
        mail["Date"] = format_datetime(self.clock.now())
        mail["Message-ID"] = f"<notification-{message.id}@{self.config.domain}>"
        if message.urgent:
            mail["X-Priority"] = "1"
        mail.set_content(message.text)  # plain text only: nothing from a device is ever rendered as HTML
        return mail

    def send(self, message: Message) -> Delivery:
        try:
            with self._connect() as smtp:
                refused = smtp.send_message(self.build(message))
        except smtplib.SMTPRecipientsRefused as exc:
            return self._count(Delivery(False, error=f"refused: {exc.recipients}", permanent=True))
        except (smtplib.SMTPException, OSError) as exc:
            return self._count(Delivery(False, error=f"{self.name}: {exc}"))
        if refused:
            return self._count(Delivery(False, error=f"refused: {refused}", permanent=True))
        return self._count(Delivery(True, provider_id=f"notification-{message.id}@{self.config.domain}"))

    def test_connection(self) -> None:
        try:
            with self._connect() as smtp:
                code, _ = smtp.noop()
        except (smtplib.SMTPException, OSError) as exc:
            raise ChannelError(f"{self.name}: {exc}") from exc
        if code != 250:
            raise ChannelError(f"{self.name}: NOOP answered {code}")

    def diagnostics(self) -> dict[str, Any]:
        return {**super().diagnostics(), "host": self.config.host, "starttls": self.config.starttls}
