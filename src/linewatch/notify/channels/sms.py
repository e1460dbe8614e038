"""SMS over SMPP 3.4 (smpplib): a transceiver bind, long messages split with UDH concatenation
(Chinese as UCS-2: 67 characters a part), delivery receipts requested and collected.

Per-part state: each part's SMSC message id is kept in the delivery's ``progress``; a retry (a
refused part, a dropped bind, an UNDELIV receipt that cleared a part) sends only the parts without
an id, with the same concatenation reference (the outbox id), so the handset still joins them.

Used from the notify worker's thread only (smpplib clients are not thread-safe): ``send`` writes
each part and reads until that part's ``submit_sm_resp``; receipts (``deliver_sm`` with
esm_class 0x04) arriving meanwhile or later (``poll_receipts``) are queued for the worker, which
matches them on the SMSC message ids stored with the outbox row.
"""

from __future__ import annotations

import contextlib
import re
from typing import Any, ClassVar

import smpplib.client
import smpplib.consts
import smpplib.exceptions
import smpplib.gsm
import smpplib.smpp
from pydantic import SecretStr

from linewatch.core.clock import Clock
from linewatch.notify.channels.base import Channel, ChannelConfig, ChannelError, Delivery, Message

_RECEIPT = re.compile(rb"id:(?P<id>\S+).*?stat:(?P<stat>\w+)", re.S)
_PERMANENT = {  # SMSC answers that retrying will not change
    smpplib.consts.SMPP_ESME_RINVDSTADR,
    smpplib.consts.SMPP_ESME_RINVSRCADR,
    smpplib.consts.SMPP_ESME_RINVMSGLEN,
}


class SmsConfig(ChannelConfig):
    host: str
    port: int = 2775
    system_id: str
    password: SecretStr
    system_type: str = ""
    source_addr: str = "10658"  # the operator's service number (短信服务号)
    source_addr_ton: int = 0
    dest_addr_ton: int = 1  # international / national number
    registered_delivery: bool = True


class SmsChannel(Channel):
    kind: ClassVar[str] = "sms"
    config_model: ClassVar[type[ChannelConfig]] = SmsConfig
    config: SmsConfig

    def __init__(self, config: SmsConfig, clock: Clock) -> None:
        super().__init__(config)
        self.clock = clock
        self.client: smpplib.client.Client | None = None
        self.receipts: list[tuple[str, str]] = []  # (SMSC message id, stat) not yet handed over
        self._acks: dict[int, Any] = {}  # sequence → submit_sm_resp
        self.stats.update({"parts": 0, "receipts": 0, "binds": 0})

    # -- connection

    def _bound(self) -> smpplib.client.Client:
        if self.client is not None:
            return self.client
        c = self.config
        client = smpplib.client.Client(
            c.host, c.port, timeout=c.timeout_seconds, allow_unknown_opt_params=True
        )
        client.set_message_sent_handler(lambda pdu, **_: self._acks.__setitem__(pdu.sequence, pdu))
        client.set_message_received_handler(self._on_deliver)
        try:
            client.connect()
            client.bind_transceiver(
                system_id=c.system_id, password=c.password.get_secret_value(), system_type=c.system_type
            )
        except (smpplib.exceptions.ConnectionError, smpplib.exceptions.PDUError, OSError) as exc:
            self._drop(client)
            raise ChannelError(f"{self.name}: bind failed: {exc}") from exc
        self.stats["binds"] += 1
        self.client = client
        return client

    def _drop(self, client: smpplib.client.Client | None = None) -> None:
        client = client or self.client
        self.client = None
        if client is not None:
            with contextlib.suppress(Exception):  # closing a broken socket must not mask the real error
                client.disconnect()

    def close(self) -> None:
        if self.client is not None:
            with contextlib.suppress(Exception):  # best effort: the SMSC may already have gone
                self.client.unbind()
            self._drop()

    def _on_deliver(self, pdu: Any, **_: Any) -> int:
        if int(getattr(pdu, "esm_class", 0) or 0) & 0x04:  # a delivery receipt, not a mobile-originated SMS
            text = pdu.short_message or b""
            found = _RECEIPT.search(text if isinstance(text, bytes) else text.encode())
            ident = getattr(pdu, "receipted_message_id", None)
            if isinstance(ident, bytes):
                ident = ident.decode(errors="replace")
            if found or ident:
                stat = found.group("stat").decode() if found else ""
                self.receipts.append((ident or found.group("id").decode(), stat))  # type: ignore[union-attr]
                self.stats["receipts"] += 1
        return smpplib.consts.SMPP_ESME_ROK

    # -- contract

    @staticmethod
    def split(text: str, reference: int = 0) -> tuple[list[bytes], int, int]:
        """(parts, data_coding, esm_class): GSM 7-bit when it fits the alphabet, else UCS-2, with a
        UDH whose concatenation reference is ``reference`` (fixed, so a resent part still joins)."""
        parts, coding, esm_class = smpplib.gsm.make_parts(text)
        if esm_class & smpplib.consts.SMPP_GSMFEAT_UDHI:  # UDH 05 00 03 <ref> <total> <seq>
            parts = [part[:3] + bytes([reference % 256]) + part[4:] for part in parts]
        return parts, coding, esm_class

    def send(self, message: Message) -> Delivery:
        parts, coding, esm_class = self.split(message.text, message.id)
        done = list((message.data.get("progress") or {}).get("parts") or [])
        ids = done if len(done) == len(parts) else [""] * len(parts)  # text changed: start over
        try:
            client = self._bound()
        except ChannelError as exc:
            return self._count(Delivery(False, error=str(exc), progress={"parts": ids}))
        try:
            for index, part in enumerate(parts):
                if ids[index]:
                    continue  # accepted before: not sent twice
                pdu = client.send_message(
                    source_addr_ton=self.config.source_addr_ton,
                    source_addr=self.config.source_addr,
                    dest_addr_ton=self.config.dest_addr_ton,
                    destination_addr=message.address,
                    short_message=part,
                    data_coding=coding,
                    esm_class=esm_class,
                    registered_delivery=self.config.registered_delivery,
                    priority_flag=1 if message.urgent else 0,
                )
                resp = self._await(client, pdu.sequence)
                if resp.is_error():
                    return self._count(
                        Delivery(
                            False,
                            error=f"submit_sm status {resp.status} (part {index + 1}/{len(parts)})",
                            permanent=resp.status in _PERMANENT,
                            provider_id=",".join(i for i in ids if i),  # receipts still match those
                            progress={"parts": ids},
                        )
                    )
                ident = resp.message_id
                ids[index] = ident.decode() if isinstance(ident, bytes) else str(ident)
                self.stats["parts"] += 1
        except (smpplib.exceptions.ConnectionError, smpplib.exceptions.PDUError, OSError) as exc:
            self._drop()  # rebind next time; only the parts without an accepted id go again
            return self._count(
                Delivery(
                    False,
                    error=f"{self.name}: {exc}",
                    provider_id=",".join(i for i in ids if i),
                    progress={"parts": ids},
                )
            )
        return self._count(Delivery(True, provider_id=",".join(ids), progress={"parts": ids}))

    def _await(self, client: smpplib.client.Client, sequence: int) -> Any:
        for _ in range(100):  # each read waits at most the socket timeout
            if sequence in self._acks:
                return self._acks.pop(sequence)
            try:
                client.read_once(auto_send_enquire_link=False)
            except smpplib.exceptions.PDUError as exc:  # an error submit_sm_resp is raised by smpplib
                if len(exc.args) > 1:
                    return _ErrorResp(int(exc.args[1]))
                raise
            except TimeoutError as exc:
                raise smpplib.exceptions.ConnectionError(f"no submit_sm_resp: {exc}") from exc
        raise smpplib.exceptions.ConnectionError("no submit_sm_resp")

    def poll_receipts(self) -> list[tuple[str, str]]:
        """Receipts that arrived since the last call (reads whatever the SMSC sent, never blocks)."""
        if self.client is not None:
            try:
                self.client.poll(auto_send_enquire_link=False)
            except (smpplib.exceptions.ConnectionError, smpplib.exceptions.PDUError, OSError):
                self._drop()
        out, self.receipts = self.receipts, []
        return out

    def test_connection(self) -> None:
        client = self._bound()
        try:
            client.send_pdu(smpplib.smpp.make_pdu("enquire_link", client=client))
            client.read_once(auto_send_enquire_link=False)
        except (smpplib.exceptions.ConnectionError, smpplib.exceptions.PDUError, OSError) as exc:
            self._drop()
            raise ChannelError(f"{self.name}: {exc}") from exc

    def diagnostics(self) -> dict[str, Any]:
        return {**super().diagnostics(), "host": self.config.host, "bound": self.client is not None}


class _ErrorResp:
    def __init__(self, status: int) -> None:
        self.status = status

    def is_error(self) -> bool:
        return True
