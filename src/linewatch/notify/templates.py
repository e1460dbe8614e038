"""Message texts in Chinese and English, short enough for one SMS where the facts allow.

One SMS is 70 UCS-2 characters (Chinese) or 160 GSM characters; the essentials come first
(level, customer, circuit, NE/port) so a split message still reads right on its first part.
Texts are plain: channels that land in HTML or markdown escape them there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

LEVEL = {
    "urgent": ("紧急", "URGENT"),
    "general": ("一般", "GENERAL"),
    "overdue": ("超时", "OVERDUE"),
    "normal": ("普通", "NORMAL"),
}
IMPACT = {"down": ("中断", "down"), "degraded": ("单路由", "degraded")}
HEAD = {
    "incident": ("故障", "Fault"),
    "ticket.dispatched": ("派单", "Ticket"),
    "ticket.breach": ("超时", "SLA breach"),
    "ticket.escalated": ("升级", "Escalation"),
    "ticket.progress_due": ("进展", "Progress due"),
    "ticket.customer_contact_deferred": ("待联系客户", "Contact customer"),
    "recovered": ("恢复", "Recovered"),
    "incident.assurance": ("重保故障", "assurance fault"),
}
WARNING = {"red": ("红色预警", "RED warning"), "orange": ("橙色预警", "ORANGE warning")}
ESCALATION = {
    "fault_manager": ("故障管理员", "fault manager"),
    "manager_l3": ("三级经理", "L3 manager"),
    "leader": ("部门领导", "leader"),
}
DEADLINE = {
    "accept": ("受理", "accept"),
    "contact": ("联系客户", "contact"),
    "on_site": ("到场", "on site"),
    "locate": ("定位", "locate"),
    "recover": ("修复", "recover"),
}


@dataclass
class Facts:
    """What a message may say, gathered at send time from the request and the database."""

    kind: str
    level: str = ""
    incident_id: int | None = None
    ticket_id: int | None = None
    customer: str = ""
    customers: int = 0
    circuit: str = ""
    circuits: int = 0
    ne: str = ""
    port: str = ""
    impact: str = ""
    deadline: str = ""  # which deadline (breach), or the escalation rung
    due: datetime | None = None  # the ticket's recovery deadline
    team: str = ""
    link: str = ""
    drill: bool = False
    extra: dict[str, object] = field(default_factory=dict)


def _pick(pair: tuple[str, str], zh: bool) -> str:
    return pair[0] if zh else pair[1]


def render(f: Facts, language: str) -> tuple[str, str]:
    """(title, text) for one recipient."""
    zh = not language.lower().startswith("en")
    if f.kind == "customer.warning":
        return _render_warning(f, zh)
    recovered = f.kind.endswith(("recovered", "cleared"))
    if recovered:
        head_key = "recovered"
    elif f.kind in HEAD or not f.kind.startswith("incident."):
        head_key = f.kind
    else:
        head_key = "incident"
    head = _pick(HEAD.get(head_key, (f.kind, f.kind)), zh)
    level = _pick(LEVEL[f.level], zh) if f.level in LEVEL else ""
    parts: list[str] = []
    if f.drill:
        parts.append("【演练】" if zh else "[DRILL]")
    parts.append(f"【{level}{head}】" if zh else f"[{level + ' ' if level else ''}{head}]")
    if f.kind == "incident.assurance" and f.extra.get("assurance"):
        parts.append(str(f.extra["assurance"]))
    if f.kind == "ticket.escalated" and f.deadline:
        parts.append(("升级至" if zh else "to ") + _pick(ESCALATION.get(f.deadline, (f.deadline,) * 2), zh))
    if f.kind == "ticket.breach" and f.deadline:
        parts.append(_pick(DEADLINE.get(f.deadline, (f.deadline,) * 2), zh) + ("超时" if zh else " overdue"))
    if f.customer:
        more = f.customers - 1
        parts.append(f.customer + (f"等{f.customers}户" if zh else f" +{more}") * (more > 0))
    if f.circuit:
        more = f.circuits - 1
        parts.append(f.circuit + (f"等{f.circuits}条" if zh else f" +{more}") * (more > 0))
    if f.ne:
        parts.append(f"{f.ne} {f.port}".strip())
    if f.impact and not recovered:
        parts.append(_pick(IMPACT.get(f.impact, (f.impact, f.impact)), zh))
    if f.team and f.kind.startswith("ticket."):
        parts.append(("派" if zh else "to ") + f.team)
    if f.due is not None and not recovered:
        parts.append(("限" if zh else "due ") + f.due.strftime("%H:%M"))
    if f.ticket_id is not None:
        parts.append(f"单{f.ticket_id}" if zh else f"T{f.ticket_id}")
    elif f.incident_id is not None:
        parts.append(f"障{f.incident_id}" if zh else f"I{f.incident_id}")
    if f.link:
        parts.append(f.link)
    title = ("" if zh else " ").join(parts[: 3 if f.drill else 2])
    return title, "".join(_join_zh(parts)) if zh else " ".join(parts)


def _render_warning(f: Facts, zh: bool) -> tuple[str, str]:
    """An early warning (危机与预警) to the account manager: level, customer, why, visit deadline."""
    x = f.extra
    head = _pick(WARNING.get(str(x.get("warning_level")), ("预警", "warning")), zh)
    parts = [f"【{head}】" if zh else f"[{head}]"]
    if f.customer:
        parts.append(f.customer)
    if x.get("source") == "realtime":
        parts.append("紧急故障" if zh else "urgent fault")
    elif x.get("faults") is not None:
        faults, over, days = x.get("faults"), x.get("over_limit") or 0, x.get("days") or ""
        if zh:
            parts.append(f"{days}天内故障{faults}次" + (f",超时{over}次" if over else ""))
        else:
            parts.append(f"{faults} faults in {days} d" + (f", {over} over limit" if over else ""))
    if f.due is not None:  # the visit (走访) is due by that working day
        day = f.due.strftime("%m-%d")
        parts.append(f"走访限{day}" if zh else f"visit by {day}")
    if x.get("warning_id") is not None:
        parts.append(f"预警{x['warning_id']}" if zh else f"W{x['warning_id']}")
    if f.link:
        parts.append(f.link)
    title = ("" if zh else " ").join(parts[:2])
    return title, "".join(_join_zh(parts)) if zh else " ".join(parts)


def _join_zh(parts: list[str]) -> list[str]:
    """Chinese reads without spaces, except around Latin codes and links."""
    out: list[str] = []
    for i, part in enumerate(parts):
        if i and not parts[i - 1].endswith("】"):
            out.append(",")
        out.append(part)
    return out


def render_digest(
    count: int, levels: dict[str, int], window_minutes: int, link: str, language: str, drill: bool = False
) -> tuple[str, str]:
    zh = not language.lower().startswith("en")
    counts = [f"{_pick(LEVEL[lv], zh)}{n}" if zh else f"{n} {lv}" for lv, n in levels.items() if lv in LEVEL]
    if zh:
        text = ("【演练】" if drill else "") + f"【故障汇总】{window_minutes}分钟内另有{count}个故障"
        text += f"({','.join(counts)})" if counts else ""
    else:
        text = ("[DRILL] " if drill else "") + f"[Fault digest] {count} more faults in {window_minutes} min"
        text += f" ({', '.join(counts)})" if counts else ""
    if link:
        text += ("," if zh else " ") + link
    return ("【故障汇总】" if zh else "[Fault digest]"), text
