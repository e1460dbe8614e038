"""Notify services: expand requests into outbox rows, deliver due rows, record receipts, list the log.

Each step is its own short transaction, opened by the worker (only the unit of work commits):
- ``expand``: pending ``notification_request`` rows → per-recipient, per-channel ``notification``
  rows, recipients resolved at that moment, texts rendered per language, storm control applied;
  the request is marked resolved in the same transaction, and the unique dedup key makes a
  second expansion (a crash, a second process) a no-op.
- ``deliver_one``: one due row through its channel, outside any transaction; the outcome
  (sent / retry later / failed) is committed right after. A crash between the peer's accept and
  that commit re-sends once on restart, with the same idempotency key (outbox id) to the peer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from linewatch.alarms.models import AlarmRecord
from linewatch.core.actor import Actor
from linewatch.core.clock import Clock
from linewatch.core.errors import LinewatchError
from linewatch.core.ids import parse_cursor
from linewatch.core.policy import Policy
from linewatch.db.outbox import NotificationRequest
from linewatch.incidents.models import ImpactRecord, IncidentRecord
from linewatch.inventory.models import Circuit, Customer, Staff, Team
from linewatch.notify import recipients as rcp
from linewatch.notify.channels.base import Channel, Delivery, Message
from linewatch.notify.choices import Decision, DeliveryStatus
from linewatch.notify.models import Notification
from linewatch.notify.storm import Item, RateLimiter, Storm, topic_of
from linewatch.notify.templates import Facts, render, render_digest
from linewatch.tickets.models import Ticket

log = logging.getLogger("linewatch.notify")
PENDING = (DeliveryStatus.QUEUED.value, DeliveryStatus.DEFERRED.value)
LEVEL_ORDER = {"urgent": 0, "general": 1, "overdue": 2, "normal": 3}


@dataclass
class Env:
    clock: Clock
    policy: Policy
    channels: list[Channel] = field(default_factory=list)
    link_base: str = ""  # e.g. "https://linewatch.noc.example" → links in texts

    def channel_for(self, kind: str, address: str) -> Channel | None:
        for channel in self.channels:
            if channel.kind == kind and (kind != "webhook" or channel.name == address):
                return channel
        return None

    def groups(self, kind: str) -> list[Channel]:
        """Webhook targets (group robots) that hear this kind of request."""
        return [c for c in self.channels if c.kind == "webhook" and c.wants(kind)]  # type: ignore[attr-defined]


# ---------------------------------------------------------------- facts


def gather(session: Session, env: Env, req: NotificationRequest) -> Facts:
    """Everything a text may say, read now (the incident may have moved on since the request)."""
    data = req.data or {}
    facts = Facts(kind=req.kind, incident_id=req.incident_id, ticket_id=req.ticket_id, drill=req.drill)
    if req.kind.startswith("incident.") and req.kind.removeprefix("incident.") in LEVEL_ORDER:
        facts.level = req.kind.removeprefix("incident.")  # the level the producer announced
    customer_ids: list[int] = []
    circuit_codes: list[str] = []
    if req.incident_id is not None:
        incident = session.get(IncidentRecord, req.incident_id)
        if incident is not None:
            facts.level = facts.level or incident.level
            root = session.get(AlarmRecord, incident.root_alarm_id)
            if root is not None:
                facts.ne, facts.port = root.ne_name, root.object
            impacts = session.execute(
                select(ImpactRecord.customer_id, Circuit.code, ImpactRecord.impact)
                .join(Circuit, Circuit.id == ImpactRecord.circuit_id)
                .where(ImpactRecord.incident_id == incident.id, ImpactRecord.until.is_(None))
                .order_by(Circuit.code)
            ).all()
            customer_ids = list(dict.fromkeys(r[0] for r in impacts))
            circuit_codes = list(dict.fromkeys(r[1] for r in impacts))
            kinds = {r[2] for r in impacts}
            facts.impact = "down" if "down" in kinds else ("degraded" if kinds else "")
    if req.ticket_id is not None:
        ticket = session.get(Ticket, req.ticket_id)
        if ticket is not None:
            if ticket.assignee_id:
                team = session.get(Team, ticket.assignee_id)
                facts.team = team.name if team else ""
            facts.due = (
                ticket.created_at
                + timedelta(minutes=ticket.recovery_minutes, seconds=ticket.suspended_seconds)
            ).astimezone(env.clock.tz)
            if not customer_ids and ticket.customer_id:
                customer_ids = [ticket.customer_id]
            if not facts.customer and ticket.customer_text and not customer_ids:
                facts.customer = ticket.customer_text
    if customer_ids:
        # the most important customer first (customer level order, as tickets do)
        rows = session.execute(
            select(Customer.id, Customer.name, Customer.level).where(Customer.id.in_(customer_ids))
        )
        order = ["cross_province", "provincial", "municipal_key", "unit_key", "normal"]
        best = min(rows, key=lambda r: (order.index(r[2]) if r[2] in order else 9, r[0]), default=None)
        if best is not None:
            facts.customer, facts.customers = best[1], len(customer_ids)
    if circuit_codes:
        facts.circuit, facts.circuits = circuit_codes[0], len(circuit_codes)
    facts.deadline = (
        str(data.get("deadline") or data.get("level") or "") if req.kind.startswith("ticket.") else ""
    )
    if env.link_base:
        path = (
            f"/tickets/{req.ticket_id}"
            if req.ticket_id
            else (f"/incidents/{req.incident_id}" if req.incident_id else "")
        )
        facts.link = env.link_base.rstrip("/") + path if path else ""
    return facts


def subject_of(req: NotificationRequest) -> str:
    if req.incident_id is not None:
        return f"incident:{req.incident_id}"
    if req.ticket_id is not None:
        return f"ticket:{req.ticket_id}"
    return f"request:{req.id}"


def _quiet_until(local: datetime, quiet: tuple[time, time]) -> datetime:
    """The end of the quiet span containing ``local`` (today's or tomorrow's end)."""
    end = local.replace(hour=quiet[1].hour, minute=quiet[1].minute, second=0, microsecond=0)
    return end if end > local else end + timedelta(days=1)


# ---------------------------------------------------------------- expand


@dataclass
class Expanded:
    requests: int = 0
    rows: int = 0
    suppressed: int = 0
    digested: int = 0
    deferred: int = 0


def expand(session: Session, env: Env, storm: Storm, limit: int) -> Expanded:
    now = env.clock.now()
    out = Expanded()
    pending = list(
        session.scalars(
            select(NotificationRequest)
            .where(NotificationRequest.status == "pending")
            .order_by(NotificationRequest.id)
            .limit(limit)
        )
    )
    for req in pending:
        out.requests += 1
        req.status = "resolved"
        facts = gather(session, env, req)
        subject = subject_of(req)
        topic = topic_of(req.kind, req.data or {}, facts.level, req.id)
        item = Item(subject, topic, facts.level)
        urgent = req.kind in env.policy.notify.urgent_kinds
        start = max(now, req.send_after) if req.send_after else now
        targets: list[tuple[Hashable, rcp.Recipient | None, list[tuple[str, str]], str]] = []
        for person in rcp.resolve(session, req.audience or {}, now):
            chans = rcp.channels_for(person, list(req.channels or []), env.policy.notify)
            targets.append(
                (person.staff_id, person, [(c, rcp.address_of(person, c)) for c in chans], person.language)
            )
        for group in env.groups(req.kind):
            targets.append((f"group:{group.name}", None, [("webhook", group.name)], group.config.language))  # type: ignore[attr-defined]
        for who, person, chans, language in targets:
            if not chans:
                continue
            decision = storm.decide(who, item, now)
            if decision is Decision.SUPPRESS:
                out.suppressed += 1
                continue
            if decision is Decision.DIGEST:
                out.digested += 1
                for channel, address in chans:
                    _fold_into_digest(
                        session, env, storm, who, person, channel, address, language, req, facts, now
                    )
                continue
            title, text = render(facts, language)
            status, send_after = DeliveryStatus.QUEUED, start
            quiet = rcp.quiet_hours_of(person, env.policy.notify) if person is not None else None
            local = start.astimezone(env.clock.tz)
            if not urgent and quiet is not None and rcp.in_quiet_hours(local.time(), quiet):
                status, send_after = DeliveryStatus.DEFERRED, _quiet_until(local, quiet)
                out.deferred += 1
            for channel, address in chans:
                key = f"{subject}|{who}|{topic}|{channel}"
                if session.scalar(select(exists().where(Notification.dedup_key == key))):
                    continue  # already written (a re-expansion after a crash): exactly once
                session.add(
                    Notification(
                        dedup_key=key[:300],
                        request_id=req.id,
                        created_at=now,
                        kind=req.kind,
                        channel=channel,
                        staff_id=person.staff_id if person else None,
                        address=address,
                        language=language,
                        subject=subject,
                        topic=topic,
                        level=facts.level,
                        title=title,
                        text=text,
                        data={
                            "kind": req.kind,
                            "level": facts.level,
                            "incident_id": req.incident_id,
                            "ticket_id": req.ticket_id,
                        },
                        incident_id=req.incident_id,
                        ticket_id=req.ticket_id,
                        urgent=urgent,
                        drill=req.drill,
                        status=status.value,
                        send_after=send_after,
                    )
                )
                out.rows += 1
        session.flush()
    return out


def _fold_into_digest(
    session: Session,
    env: Env,
    storm: Storm,
    who: Hashable,
    person: rcp.Recipient | None,
    channel: str,
    address: str,
    language: str,
    req: NotificationRequest,
    facts: Facts,
    now: datetime,
) -> None:
    start, end = storm.digest_window(now)
    key = f"digest|{who}|{start.isoformat()}|{channel}"
    row = session.scalar(select(Notification).where(Notification.dedup_key == key))
    if row is None:
        row = Notification(
            dedup_key=key,
            request_id=None,
            created_at=now,
            kind="digest",
            channel=channel,
            staff_id=person.staff_id if person else None,
            address=address,
            language=language,
            subject="digest",
            topic=start.isoformat(),
            level="",
            title="",
            text="",
            data={"incidents": {}},
            urgent=False,
            drill=req.drill,
            status=DeliveryStatus.QUEUED.value,
            send_after=end,
        )
        session.add(row)
    elif row.status not in PENDING:
        return  # that window's digest already went: the incident was told in it or will be by the next news
    incidents = dict(row.data.get("incidents", {}))
    incidents[str(req.incident_id)] = facts.level
    levels: dict[str, int] = {}
    for level in incidents.values():
        levels[level] = levels.get(level, 0) + 1
    window = env.policy.notify.digest_window_minutes
    link = env.link_base.rstrip("/") + "/incidents" if env.link_base else ""
    row.title, row.text = render_digest(
        len(incidents),
        dict(sorted(levels.items(), key=lambda kv: LEVEL_ORDER.get(kv[0], 9))),
        window,
        link,
        language,
        row.drill,
    )
    row.data = {"incidents": incidents}


# ---------------------------------------------------------------- deliver


def due(session: Session, now: datetime, limit: int) -> list[int]:
    return list(
        session.scalars(
            select(Notification.id)
            .where(Notification.status.in_(PENDING), Notification.send_after <= now)
            .order_by(Notification.urgent.desc(), Notification.send_after, Notification.id)
            .limit(limit)
        )
    )


def message_of(row: Notification) -> Message:
    return Message(
        id=row.id,
        channel=row.channel,
        address=row.address,
        title=row.title,
        text=row.text,
        language=row.language,
        urgent=row.urgent,
        drill=row.drill,
        data=dict(row.data or {}),
    )


def deliver_one(unit_of_work: Callable[[], Any], env: Env, limiter: RateLimiter, row_id: int) -> str:
    """Send one due row; returns the row's new status ("" when it waits for the rate limit)."""
    now = env.clock.now()
    with unit_of_work() as session:
        row = session.get(Notification, row_id)
        if row is None or row.status not in PENDING or row.send_after > now:
            return ""
        message = message_of(row)
    channel = env.channel_for(message.channel, message.address)
    limit_key = channel.name if channel else message.channel
    if channel is not None and not limiter.take(limit_key, now):
        return ""
    if channel is None:
        result = Delivery(
            False,
            error=f"no {message.channel} channel configured"
            + (f" named {message.address!r}" if message.channel == "webhook" else ""),
        )
    else:
        try:
            result = channel.send(message)
        except Exception as exc:  # an adapter bug must not stop the worker or lose the row
            log.exception("channel %s crashed", channel.name)
            result = Delivery(False, error=f"{type(exc).__name__}: {exc}")
    backoff = env.policy.notify.retry_backoff_seconds
    with unit_of_work() as session:
        row = session.get(Notification, row_id)
        row.attempts += 1
        if result.ok:
            row.status, row.sent_at, row.provider_id, row.last_error = (
                "sent",
                now,
                result.provider_id[:200],
                "",
            )
        elif result.permanent or row.attempts > len(backoff):
            row.status, row.last_error = "failed", result.error[:2000]
        else:
            row.status, row.last_error = "queued", result.error[:2000]
            row.send_after = now + timedelta(seconds=backoff[row.attempts - 1])
        return row.status


def record_receipts(session: Session, receipts: list[tuple[str, str]]) -> int:
    """SMSC delivery receipts → the rows whose message ids they name (multi-part rows: the last wins)."""
    done = 0
    for ident, stat in receipts:
        for row in session.scalars(
            select(Notification).where(
                Notification.channel == "sms", Notification.provider_id.contains(ident)
            )
        ):
            if ident in row.provider_id.split(","):
                row.receipt = stat[:32]
                done += 1
    return done


def load_storm(session: Session, env: Env) -> Storm:
    """Storm memory from the outbox itself: who was told what lately (so a restart repeats nothing)."""
    notify = env.policy.notify
    storm = Storm(notify.digest_incidents, notify.digest_window_minutes)
    since = env.clock.now() - timedelta(hours=notify.memory_hours)
    rows = session.execute(
        select(
            Notification.staff_id,
            Notification.address,
            Notification.channel,
            Notification.subject,
            Notification.topic,
            Notification.level,
            Notification.created_at,
            Notification.data,
        )
        .where(Notification.created_at >= since)
        .order_by(Notification.id)
    )
    for staff_id, address, _channel, subject, topic, level, created, data in rows:
        who: Hashable = staff_id if staff_id is not None else f"group:{address}"
        if subject == "digest":
            for incident, inc_level in (data or {}).get("incidents", {}).items():
                storm.remember(who, Item(f"incident:{incident}", f"level:{inc_level}", inc_level), created)
        else:
            storm.remember(who, Item(subject, topic, level), created)
    return storm


# ---------------------------------------------------------------- reads


def list_notifications(
    session: Session,
    actor: Actor,
    *,
    since: datetime | None,
    limit: int,
    cursor: str | None,
    status: str | None = None,
) -> dict[str, Any]:
    query = select(Notification, Staff.code).outerjoin(Staff, Staff.id == Notification.staff_id)
    if not actor.is_admin:  # dead letters (failed rows, their errors) are for admins
        query = query.where(Notification.status != "failed")
    if since is not None:
        query = query.where(Notification.created_at >= since)
    if status:
        if status not in DeliveryStatus.values():
            raise LinewatchError(f"status must be one of {', '.join(DeliveryStatus.values())}")
        query = query.where(Notification.status == status)
    if cursor:
        query = query.where(Notification.id < parse_cursor(cursor))
    rows = session.execute(query.order_by(Notification.id.desc()).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    items = []
    for row, staff_code in rows:
        related: dict[str, Any] = {}
        if row.incident_id is not None:
            related["incident_id"] = row.incident_id
        if row.ticket_id is not None:
            related["ticket_id"] = row.ticket_id
        if row.kind == "digest":
            related["incident_ids"] = sorted(
                int(i) for i in (row.data or {}).get("incidents", {}) if i != "None"
            )
        item = {
            "id": row.id,
            "channel": row.channel,
            "recipient": {"staff": staff_code, "address": row.address},
            "kind": row.kind,
            "text": row.text,
            "related": related,
            "status": row.status,
            "send_after": row.send_after.isoformat(),
            "sent_at": row.sent_at.isoformat() if row.sent_at else None,
            "attempts": row.attempts,
            "drill": row.drill,
        }
        if actor.is_admin:
            item["last_error"] = row.last_error
            item["receipt"] = row.receipt
        items.append(item)
    return {"items": items, "next_cursor": str(rows[-1][0].id) if more else None}


def counts(session: Session) -> dict[str, int]:
    return dict(
        session.execute(select(Notification.status, func.count()).group_by(Notification.status)).all()
    )  # type: ignore[arg-type]
