"""Ticket value sets (DOMAIN 5), with Chinese and English labels."""

from __future__ import annotations

from linewatch.core.choices import Choice


class Channel(Choice):
    AUTO = ("auto", "自动派单", "auto-dispatch")
    CONSOLE = ("console", "手工派单", "console")
    CSP = ("10086-8", "10086-8 报障", "10086-8 hotline")
    GREEN = ("400", "400 绿色通道", "400 green channel")
    DIRECT = ("direct", "点对点报障", "direct report")


REPORT_CHANNELS = (Channel.CSP, Channel.GREEN, Channel.DIRECT)


class TicketState(Choice):
    DISPATCHED = ("dispatched", "已派单", "dispatched")
    ACCEPTED = ("accepted", "已受理", "accepted")
    CONTACTED = ("contacted", "已联系客户", "customer contacted")
    ON_SITE = ("on_site", "已到场", "on site")
    LOCATED = ("located", "已定位", "located")
    RECOVERED = ("recovered", "已恢复", "recovered")
    CLOSED = ("closed", "已回单", "closed")
    SUSPENDED = ("suspended", "已挂起", "suspended")


# Milestones in order; a ticket's state is the furthest one reached (unless suspended or closed).
MILESTONES = ("accepted", "contacted", "on_site", "located", "recovered", "closed")
# SLA deadline name of each milestone (INTERFACES "deadlines")
DEADLINE_OF = {
    "accepted": "accept",
    "contacted": "contact",
    "on_site": "on_site",
    "located": "locate",
    "recovered": "recover",
}


class EventType(Choice):
    ACCEPT = ("accept", "受理", "accept")
    CONTACT = ("contact", "联系客户", "contact customer")
    ON_SITE = ("on_site", "到场", "on site")
    LOCATED = ("located", "定位", "located")
    RECOVERED = ("recovered", "恢复", "recovered")
    CLOSE = ("close", "回单", "close")
    SUSPEND = ("suspend", "挂起", "suspend")
    RESUME = ("resume", "解挂", "resume")
    REOPEN = ("reopen", "重开", "reopen")
    TRANSFER = ("transfer", "转派", "transfer")
    NOTE = ("note", "备注", "note")


MILESTONE_OF_EVENT = {
    "accept": "accepted",
    "contact": "contacted",
    "on_site": "on_site",
    "located": "located",
    "recovered": "recovered",
    "close": "closed",
}


class EscalationLevel(Choice):
    FAULT_MANAGER = ("fault_manager", "故障管理员", "fault manager")
    MANAGER_L3 = ("manager_l3", "三级经理", "third-level manager")
    LEADER = ("leader", "部门领导", "department leader")


class CauseCategory(Choice):
    """回单 cause categories (the seeds' monthly analysis views)."""

    FIBRE_CUT = ("fibre_cut", "光缆中断", "fibre cut")
    EXTERNAL_WORKS = ("external_works", "外力施工", "external works")
    EQUIPMENT = ("equipment", "设备故障", "equipment failure")
    POWER = ("power", "电源/掉电", "power")
    CONNECTOR = ("connector", "尾纤/跳线", "pigtail or jumper")
    CUSTOMER_EQUIPMENT = ("customer_equipment", "客户设备", "customer equipment")
    CUSTOMER_POWER = ("customer_power", "客户断电", "customer power off")
    CONFIGURATION = ("configuration", "数据配置", "configuration")
    PLATFORM = ("platform", "业务平台", "service platform")
    PLANNED_WORK = ("planned_work", "割接/计划工作", "planned work")
    NO_FAULT_FOUND = ("no_fault_found", "无故障/自愈", "no fault found")
    OTHER = ("other", "其他", "other")
