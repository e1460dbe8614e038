"""Incident value sets (DOMAIN 4), with Chinese and English labels."""

from __future__ import annotations

from linewatch.core.choices import Choice


class Level(Choice):
    """Dispatch level (调度标准); members are in rank order, most urgent first."""

    URGENT = ("urgent", "紧急", "urgent")
    GENERAL = ("general", "一般", "general")
    OVERDUE = ("overdue", "重要超时", "overdue")
    NORMAL = ("normal", "普通", "normal")

    @property
    def rank(self) -> int:
        return _LEVEL_RANK[self]  # a lookup: levels are compared for every incident a storm re-levels


_LEVEL_RANK = {level: position for position, level in enumerate(Level)}


class ImpactKind(Choice):
    DOWN = ("down", "中断", "down")
    DEGRADED = ("degraded", "单路由中断", "degraded (one route)")


class IncidentState(Choice):
    OPEN = ("open", "处理中", "open")
    RECOVERED = ("recovered", "已恢复", "recovered")


class DiagnosisCategory(Choice):
    NETWORK = ("network", "网络故障", "network fault")
    NON_NETWORK = ("non_network", "非网络故障", "not a network fault")
    UNKNOWN = ("unknown", "无法定位", "cannot be located")
