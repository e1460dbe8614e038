"""Notification enumerations, each with its Chinese and English label."""

from __future__ import annotations

from linewatch.core.choices import Choice


class ChannelKind(Choice):
    SMS = ("sms", "短信", "SMS")
    EMAIL = ("email", "邮件", "e-mail")
    WEBHOOK = ("webhook", "群机器人/Webhook", "webhook")
    VOICE = ("voice", "语音电话", "voice call")


class DeliveryStatus(Choice):
    QUEUED = ("queued", "待发送", "queued")
    DEFERRED = ("deferred", "延后发送", "deferred")
    SENT = ("sent", "已发送", "sent")
    FAILED = ("failed", "发送失败", "failed")  # the last try failed: a dead letter for admins


class Decision(Choice):
    """What storm control does with one (request, person)."""

    SEND = ("send", "发送", "send")
    SUPPRESS = ("suppress", "已告知,抑制", "suppressed (already told)")
    DIGEST = ("digest", "并入汇总", "folded into a digest")
