"""Alarm value sets (X.733 / TMF642 vocabulary), with Chinese and English labels."""

from __future__ import annotations

from linewatch.core.choices import Choice


class Severity(Choice):
    CRITICAL = ("critical", "紧急", "critical")
    MAJOR = ("major", "重要", "major")
    MINOR = ("minor", "次要", "minor")
    WARNING = ("warning", "提示", "warning")
    INDETERMINATE = ("indeterminate", "不确定", "indeterminate")
    CLEARED = ("cleared", "已清除", "cleared")


class AlarmState(Choice):
    ACTIVE = ("active", "活动", "active")
    CLEARED = ("cleared", "已清除", "cleared")
