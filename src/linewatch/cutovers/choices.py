"""Cutover value sets (DOMAIN 6), with Chinese and English labels."""

from __future__ import annotations

from linewatch.core.choices import Choice


class Cause(Choice):
    EXTERNAL_WORKS = ("external_works", "外力施工", "external works")
    NATURAL_DISASTER = ("natural_disaster", "自然灾害", "natural disaster")
    SYSTEM_RESTORE = ("system_restore", "系统还原", "system restore")
    HAZARD_REMOVAL = ("hazard_removal", "故障隐患处理", "hazard removal")
    ROOM_REWORK = ("room_rework", "机房整治", "equipment room rework")
    ROOM_MOVE = ("room_move", "机房搬迁", "equipment room move")
    LINE_PROTECTION = ("line_protection", "光线路保护", "fibre line protection")
    MAINTENANCE = ("maintenance", "维护", "maintenance")
    INTERCONNECTION = ("interconnection", "引接", "interconnection")
    CIRCUIT_RESTORE = ("circuit_restore", "电路还原", "circuit restore")
    UPGRADE = ("upgrade", "系统优化升级", "system upgrade")
    OTHER = ("other", "其他", "other")


class ImpactType(Choice):
    INTERRUPT = ("interrupt", "业务中断", "interruption")
    FLASH = ("flash", "业务闪断", "flash interruption")
    NONE = ("none", "无影响", "no impact")


class CircuitEffect(Choice):
    """What the cutover does to one circuit: a dual-routed circuit losing one route stays up."""

    DOWN = ("down", "中断", "interrupted")
    DEGRADED = ("degraded", "降级(单路由)", "degraded (one route)")


class CutoverState(Choice):
    SCHEDULED = ("scheduled", "已登记", "scheduled")
    CANCELLED = ("cancelled", "已取消", "cancelled")


class Verdict(Choice):
    NETWORK_FAULT = ("network_fault", "网络故障", "network fault")
    PLANNED_CUTOVER = ("planned_cutover", "计划割接", "planned cutover")


class VerdictRule(Choice):
    """The six answering rules of DOMAIN 6, in the order they are tried."""

    NOT_REGISTERED = ("not_registered", "未登记割接", "cutover never registered")
    NON_INTERRUPTING = ("announced_non_interrupting", "公告为不中断业务", "announced as non-interrupting")
    OVERRAN = ("ran_past_window", "超出割接时间窗", "ran past its window")
    NOT_NOTIFIED = ("not_notified", "未通知或通知晚于割接", "notified late or not at all")
    SHORT_NOTICE = ("short_notice", "通知不足6个工作日", "less than the required working days' notice")
    AS_ANNOUNCED = ("as_announced", "按公告割接并在时间窗内恢复", "registered, notified, recovered in window")
