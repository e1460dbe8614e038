"""Every channel against a real peer it did not write: Net::SMPP (SMSC), aiosmtpd (SMTP), an
http.server receiver (webhooks in three formats, the voice gateway). No database."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time
import urllib.parse
from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller

from linewatch.core.clock import ManualClock
from linewatch.notify.channels import build
from linewatch.notify.channels.base import ChannelError, Message
from linewatch.notify.channels.email import EmailChannel, EmailConfig
from linewatch.notify.channels.sms import SmsChannel, SmsConfig
from linewatch.notify.channels.voice import VoiceChannel, VoiceConfig
from linewatch.notify.channels.webhook import WebhookChannel, WebhookConfig, escape_markdown
from tests.notify.peers import HttpReceiver, Smsc, free_port, smsc_available

CLOCK = ManualClock(start=datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
ZH = "【紧急故障】福州鼓楼政务中心等3户,FZ-C001-DATA-1等2条,AGG-GL-1 GE0/1/0,中断,障3,https://lw.example/incidents/3"


def msg(text: str = ZH, **kw: object) -> Message:
    return Message(
        **{"id": 7, "channel": "x", "address": "13800000001", "title": "【紧急故障】", "text": text, **kw}
    )  # type: ignore[arg-type]


@pytest.fixture
def http() -> Iterator[HttpReceiver]:
    receiver = HttpReceiver()
    yield receiver
    receiver.close()


# ---------------------------------------------------------------- SMPP


# a missing SMSC skips, unless CI demands real peers (LINEWATCH_REQUIRE_PEERS=1): then they run and fail
needs_smsc = pytest.mark.skipif(
    not smsc_available() and os.environ.get("LINEWATCH_REQUIRE_PEERS") != "1",
    reason="needs perl Net::SMPP (apt libnet-smpp-perl)",
)


@needs_smsc
def test_sms_splits_chinese_into_ucs2_parts_with_udh_and_collects_receipts() -> None:
    smsc = Smsc()
    channel = SmsChannel(SmsConfig(host="127.0.0.1", port=smsc.port, system_id="lw", password="pw"), CLOCK)
    try:
        channel.test_connection()
        long = channel.send(msg(ZH * 2))
        short = channel.send(msg("LOS on AGG-GL-1", address="13800000002"))
        assert long.ok and short.ok, (long, short)
        parts = smsc.submits(5)
        chinese = [p for p in parts if p["to"] == "13800000001"]
        assert len(chinese) == 3 and all(p["coding"] == 8 and p["esm"] & 0x40 for p in chinese)
        udh = [p["data"][:6] for p in chinese]
        assert {u[:4] for u in udh} == {udh[0][:4]} and [u[4] for u in udh] == [3, 3, 3]
        assert [u[5] for u in udh] == [1, 2, 3]
        assert b"".join(p["data"][6:] for p in chinese).decode("utf-16-be") == ZH * 2
        [latin] = [p for p in parts if p["to"] == "13800000002"]
        assert latin["coding"] == 0 and latin["esm"] == 0 and latin["data"] == b"LOS on AGG-GL-1"
        assert long.provider_id == ",".join(p["id"] for p in chinese)
        deadline, receipts = time.monotonic() + 5, []
        while len(receipts) < 4 and time.monotonic() < deadline:
            receipts += channel.poll_receipts()
            time.sleep(0.05)
        assert sorted(receipts) == sorted((p["id"], "DELIVRD") for p in parts)
    finally:
        channel.close()
        smsc.close()


@needs_smsc
def test_sms_refused_submit_is_a_failed_delivery_not_an_exception() -> None:
    smsc = Smsc("fail")
    channel = SmsChannel(SmsConfig(host="127.0.0.1", port=smsc.port, system_id="lw", password="pw"), CLOCK)
    try:
        result = channel.send(msg("x"))
        assert not result.ok and "status 8" in result.error and not result.permanent
    finally:
        channel.close()
        smsc.close()


def test_sms_to_nobody_listening_fails_softly() -> None:
    channel = SmsChannel(SmsConfig(host="127.0.0.1", port=free_port(), system_id="lw", password="pw"), CLOCK)
    assert not channel.send(msg("x")).ok
    with pytest.raises(ChannelError):
        channel.test_connection()
    assert "pw" not in str(channel.diagnostics())


# ---------------------------------------------------------------- SMTP


class Inbox:
    def __init__(self) -> None:
        self.envelopes: list[object] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.envelopes.append(envelope)
        return "250 OK"


def test_email_over_smtp_to_aiosmtpd() -> None:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        channel = EmailChannel(
            EmailConfig(host="127.0.0.1", port=controller.port, sender="noc@lw.example"), CLOCK
        )
        channel.test_connection()
        result = channel.send(msg(ZH, address="fm01@example.com", urgent=True))
        assert result.ok, result
        [envelope] = inbox.envelopes
        assert envelope.rcpt_tos == ["fm01@example.com"]  # type: ignore[attr-defined]
        raw = envelope.content.decode()  # type: ignore[attr-defined]
        assert "Message-ID: <notification-7@linewatch.local>" in raw and "X-Priority: 1" in raw
    finally:
        controller.stop()
    assert not channel.send(msg("x", address="a@b")).ok  # server gone: a soft failure, retried later


# ---------------------------------------------------------------- webhooks and voice


def test_generic_webhook_is_signed_and_idempotent(http: HttpReceiver) -> None:
    channel = WebhookChannel(WebhookConfig(url=http.url + "/hook", secret="s3cret"), CLOCK)
    assert channel.send(msg()).ok
    [got] = http.received
    ts = got.headers["X-Linewatch-Timestamp"]
    expected = hmac.new(b"s3cret", ts.encode() + b"." + got.body, hashlib.sha256).hexdigest()
    assert got.headers["X-Linewatch-Signature"] == f"sha256={expected}"
    assert got.headers["Idempotency-Key"] == "7" and got.json()["text"] == ZH
    assert "s3cret" not in str(channel.diagnostics())


def test_wecom_markdown_escapes_device_text(http: HttpReceiver) -> None:
    channel = WebhookChannel(
        WebhookConfig(url=http.url + "/cgi-bin/webhook/send?key=K", format="wecom"), CLOCK
    )
    evil = "port [click](http://evil) <b>x</b>"
    assert channel.send(msg(evil)).ok
    body = http.received[0].json()
    assert body["msgtype"] == "markdown"
    content = body["markdown"]["content"]
    assert "[click](http://evil)" not in content and "<b>" not in content
    assert escape_markdown("a_b") == "a\\_b"
    assert "key=K" not in str(channel.diagnostics())


def test_dingtalk_signed_url(http: HttpReceiver) -> None:
    channel = WebhookChannel(
        WebhookConfig(url=http.url + "/robot/send?access_token=T", format="dingtalk", secret="SEC"), CLOCK
    )
    assert channel.send(msg(urgent=True)).ok
    got = http.received[0]
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(got.path).query))
    ts = query["timestamp"]
    assert ts == str(int(CLOCK.now().timestamp() * 1000))
    digest = hmac.new(b"SEC", f"{ts}\nSEC".encode(), hashlib.sha256).digest()
    assert query["sign"] == base64.b64encode(digest).decode()
    assert got.json()["markdown"]["title"] == "【紧急故障】"


def test_robot_error_code_is_a_failure(http: HttpReceiver) -> None:
    http.answer = {"errcode": 310000, "errmsg": "sign not match"}
    channel = WebhookChannel(WebhookConfig(url=http.url, format="dingtalk", secret="x"), CLOCK)
    result = channel.send(msg())
    assert not result.ok and "310000" in result.error


def test_voice_gateway_gets_the_text(http: HttpReceiver) -> None:
    http.answer = {"call_id": "CALL-9"}
    channel = VoiceChannel(VoiceConfig(url=http.url + "/calls", token="tok"), CLOCK)
    result = channel.send(msg())
    assert result.ok and result.provider_id == "CALL-9"
    got = http.received[0]
    assert got.headers["Authorization"] == "Bearer tok"
    assert got.json() == {"id": 7, "to": "13800000001", "text": ZH, "language": "zh", "repeat": 2}


def test_build_validates_config_before_use() -> None:
    [voice] = build([{"kind": "voice", "url": "http://gw"}], CLOCK)
    assert voice.kind == "voice"
    with pytest.raises(ValueError):
        build([{"kind": "fax"}], CLOCK)
    with pytest.raises(ValueError):
        build([{"kind": "sms", "host": "h"}], CLOCK)  # no system_id/password


@needs_smsc
def test_sms_retry_resends_only_the_parts_not_yet_accepted() -> None:
    smsc = Smsc("reject:2")  # the SMSC refuses the second part once
    channel = SmsChannel(SmsConfig(host="127.0.0.1", port=smsc.port, system_id="lw", password="pw"), CLOCK)
    try:
        first = channel.send(msg(ZH * 2))
        assert not first.ok and "part 2/3" in first.error
        [accepted] = smsc.submits(1)
        assert first.progress == {"parts": [accepted["id"], "", ""]} and first.provider_id == accepted["id"]
        again = channel.send(msg(ZH * 2, data={"progress": first.progress}))
        assert again.ok, again
        parts = smsc.submits(3)
        assert len(parts) == 3  # part 1 once, then parts 2 and 3: nothing sent twice
        udh = [p["data"][:6] for p in parts]
        assert [u[3] for u in udh] == [7, 7, 7] and [u[5] for u in udh] == [1, 2, 3]  # one reference: joins
        assert b"".join(p["data"][6:] for p in parts).decode("utf-16-be") == ZH * 2
        assert again.provider_id == ",".join(p["id"] for p in parts)
    finally:
        channel.close()
        smsc.close()
