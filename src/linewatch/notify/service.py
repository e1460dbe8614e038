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

import json
import logging
from collections import Counter
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from linewatch.alarms.models import AlarmRecord
from linewatch.core.actor import Actor
from linewatch.core.clock import Clock
from linewatch.core.errors import LinewatchError
from linewatch.core.ids import parse_cursor
from linewatch.core.policy import Policy
from linewatch.db.base import UtcDateTime
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


@dataclass
class Memo:
    """What one expansion batch reads once, however many requests name it: an incident's or a
    ticket's facts, the best customer of a set, an audience's people."""

    incidents: dict[int, dict[str, Any] | None] = field(default_factory=dict)
    tickets: dict[int, dict[str, Any] | None] = field(default_factory=dict)
    customers: dict[tuple[int, ...], tuple[str, int] | None] = field(default_factory=dict)
    people: dict[str, list[rcp.Recipient]] = field(default_factory=dict)


def _incident_facts(session: Session, incident_ids: set[int]) -> dict[int, dict[str, Any] | None]:
    """Facts of many incidents in three queries (incident, root alarm, open impacts)."""
    found: dict[int, dict[str, Any] | None] = dict.fromkeys(incident_ids)
    rows = session.execute(
        select(
            IncidentRecord.id, IncidentRecord.level, IncidentRecord.root_alarm_id, IncidentRecord.assurance
        ).where(IncidentRecord.id.in_(incident_ids))
    ).all()
    roots = {
        r[0]: (r[1], r[2])
        for r in session.execute(
            select(AlarmRecord.id, AlarmRecord.ne_name, AlarmRecord.object).where(
                AlarmRecord.id.in_({r[2] for r in rows})
            )
        )
    }
    impacts: dict[int, list[tuple[int, str, str]]] = {}
    for incident_id, customer_id, code, impact in session.execute(
        select(ImpactRecord.incident_id, ImpactRecord.customer_id, Circuit.code, ImpactRecord.impact)
        .join(Circuit, Circuit.id == ImpactRecord.circuit_id)
        .where(ImpactRecord.incident_id.in_(incident_ids), ImpactRecord.until.is_(None))
        .order_by(ImpactRecord.incident_id, Circuit.code)
    ):
        impacts.setdefault(incident_id, []).append((customer_id, code, impact))
    for incident_id, level, root_id, assurance in rows:
        ne, port = roots.get(root_id, ("", ""))
        hits = impacts.get(incident_id, [])
        kinds = {h[2] for h in hits}
        found[incident_id] = {
            "level": level,
            "ne": ne,
            "port": port,
            "customer_ids": list(dict.fromkeys(h[0] for h in hits)),
            "circuit_codes": list(dict.fromkeys(h[1] for h in hits)),
            "impact": "down" if "down" in kinds else ("degraded" if kinds else ""),
            "assurance": (assurance or {}).get("name", ""),
        }
    return found


def _ticket_facts(session: Session, env: Env, ticket_id: int) -> dict[str, Any] | None:
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        return None
    team = session.get(Team, ticket.assignee_id) if ticket.assignee_id else None
    return {
        "team": team.name if team else "",
        "due": (
            ticket.created_at + timedelta(minutes=ticket.recovery_minutes, seconds=ticket.suspended_seconds)
        ).astimezone(env.clock.tz),
        "customer_id": ticket.customer_id,
        "customer_text": ticket.customer_text,
    }


def _best_customer(session: Session, customer_ids: tuple[int, ...]) -> tuple[str, int] | None:
    """The most important customer first (customer level order, as tickets do): (name, how many)."""
    rows = session.execute(
        select(Customer.id, Customer.name, Customer.level).where(Customer.id.in_(customer_ids))
    )
    order = ["cross_province", "provincial", "municipal_key", "unit_key", "normal"]
    best = min(rows, key=lambda r: (order.index(r[2]) if r[2] in order else 9, r[0]), default=None)
    return (best[1], len(customer_ids)) if best is not None else None


def _memoised(cache: dict[Any, Any], key: Any, read: Callable[[], Any]) -> Any:
    if key not in cache:
        cache[key] = read()
    return cache[key]


def gather(session: Session, env: Env, req: NotificationRequest, memo: Memo | None = None) -> Facts:
    """Everything a text may say, read now (the incident may have moved on since the request)."""
    memo = memo or Memo()
    data = req.data or {}
    facts = Facts(kind=req.kind, incident_id=req.incident_id, ticket_id=req.ticket_id, drill=req.drill)
    if req.kind.startswith("incident.") and req.kind.removeprefix("incident.") in LEVEL_ORDER:
        facts.level = req.kind.removeprefix("incident.")  # the level the producer announced
    customer_ids: list[int] = []
    circuit_codes: list[str] = []
    if req.incident_id is not None:
        if req.incident_id not in memo.incidents:
            memo.incidents.update(_incident_facts(session, {req.incident_id}))
        found = memo.incidents[req.incident_id]
        if found is not None:
            facts.level = facts.level or found["level"]
            facts.ne, facts.port, facts.impact = found["ne"], found["port"], found["impact"]
            customer_ids, circuit_codes = found["customer_ids"], found["circuit_codes"]
            if req.kind == "incident.assurance":
                facts.extra["assurance"] = (data.get("assurance") or {}).get("name") or found["assurance"]
    if req.ticket_id is not None:
        ticket = _memoised(memo.tickets, req.ticket_id, lambda: _ticket_facts(session, env, req.ticket_id))
        if ticket is not None:
            facts.team, facts.due = ticket["team"], ticket["due"]
            if not customer_ids and ticket["customer_id"]:
                customer_ids = [ticket["customer_id"]]
            if not facts.customer and ticket["customer_text"] and not customer_ids:
                facts.customer = ticket["customer_text"]
    if customer_ids:
        key = tuple(customer_ids)
        best = _memoised(memo.customers, key, lambda: _best_customer(session, key))
        if best is not None:
            facts.customer, facts.customers = best
    if circuit_codes:
        facts.circuit, facts.circuits = circuit_codes[0], len(circuit_codes)
    facts.deadline = (
        str(data.get("deadline") or data.get("level") or "") if req.kind.startswith("ticket.") else ""
    )
    if req.kind == "customer.warning":
        facts.customer = str(data.get("customer") or "")
        facts.extra = dict(data)
        if data.get("visit_due"):
            due = datetime.fromisoformat(str(data["visit_due"])).astimezone(env.clock.tz)
            # due at the end of a working day (midnight after it): the text names that day
            facts.due = due - timedelta(microseconds=1) if due.time() == time(0) else due
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
    by_channel: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(outcome, channel) → count: queued, deferred, suppressed, digested (for /metrics)."""


def _audience_key(audience: dict[str, Any]) -> str:
    return json.dumps(audience, sort_keys=True, default=str)


def expand(session: Session, env: Env, storm: Storm, limit: int) -> Expanded:
    """One batch of pending requests → outbox rows, set-based: facts and people read once per batch,
    the dedup keys checked in one query, the new rows written in one multi-row insert."""
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
    if not pending:
        return out
    directory, memo = rcp.Directory(session, now), Memo()
    memo.incidents = _incident_facts(session, {r.incident_id for r in pending if r.incident_id is not None})
    fresh: dict[str, dict[str, Any]] = {}  # dedup key → row values, in request order
    digests: dict[str, Notification] = {}
    with session.no_autoflush:  # one flush at the end, not one per query in the loop
        for req in pending:
            out.requests += 1
            facts = gather(session, env, req, memo)
            subject = subject_of(req)
            topic = topic_of(req.kind, req.data or {}, facts.level, req.id)
            item = Item(subject, topic, facts.level)
            urgent = req.kind in env.policy.notify.urgent_kinds
            start = max(now, req.send_after) if req.send_after else now
            audience_key = _audience_key(req.audience or {})
            if audience_key not in memo.people:
                memo.people[audience_key] = directory.resolve(req.audience or {})
            people = memo.people[audience_key]
            targets: list[tuple[Hashable, rcp.Recipient | None, list[tuple[str, str]], str]] = []
            for person in people:
                chans = rcp.channels_for(person, list(req.channels or []), env.policy.notify)
                targets.append(
                    (
                        person.staff_id,
                        person,
                        [(c, rcp.address_of(person, c)) for c in chans],
                        person.language,
                    )
                )
            for group in env.groups(req.kind):
                targets.append(
                    (f"group:{group.name}", None, [("webhook", group.name)], group.config.language)
                )  # type: ignore[attr-defined]
            rendered: dict[str, tuple[str, str]] = {}
            for who, person, chans, language in targets:
                if not chans:
                    continue
                decision = storm.decide(who, item, now)
                if decision is Decision.SUPPRESS:
                    out.suppressed += 1
                    out.by_channel.update(("suppressed", c) for c, _ in chans)
                    continue
                if decision is Decision.DIGEST:
                    out.digested += 1
                    for channel, address in chans:
                        out.by_channel[("digested", channel)] += 1
                        _fold_into_digest(
                            session, storm, digests, who, person, channel, address, language, req, facts, now
                        )
                    continue
                if language not in rendered:
                    rendered[language] = render(facts, language)
                title, text = rendered[language]
                status, send_after = DeliveryStatus.QUEUED, start
                quiet = rcp.quiet_hours_of(person, env.policy.notify) if person is not None else None
                local = start.astimezone(env.clock.tz)
                if not urgent and quiet is not None and rcp.in_quiet_hours(local.time(), quiet):
                    status, send_after = DeliveryStatus.DEFERRED, _quiet_until(local, quiet)
                    out.deferred += 1
                for channel, address in chans:
                    key = f"{subject}|{who}|{topic}|{channel}"[:300]
                    out.by_channel[(status.value, channel)] += 1
                    fresh.setdefault(
                        key,
                        {
                            "dedup_key": key,
                            "request_id": req.id,
                            "created_at": now,
                            "kind": req.kind,
                            "channel": channel,
                            "staff_id": person.staff_id if person else None,
                            "address": address,
                            "language": language,
                            "subject": subject,
                            "topic": topic,
                            "level": facts.level,
                            "title": title,
                            "text": text,
                            "data": {
                                "kind": req.kind,
                                "level": facts.level,
                                "incident_id": req.incident_id,
                                "ticket_id": req.ticket_id,
                            },
                            "incident_id": req.incident_id,
                            "ticket_id": req.ticket_id,
                            "urgent": urgent,
                            "drill": req.drill,
                            "status": status.value,
                            "send_after": send_after,
                            "attempts": 0,
                            "last_error": "",
                            "provider_id": "",
                            "receipt": "",
                        },
                    )
    for digest in digests.values():
        _render_digest_row(env, digest)
    keys = list(fresh)
    for i in range(0, len(keys), 500):  # already written (a re-expansion after a crash): exactly once
        chunk = keys[i : i + 500]
        for key in session.scalars(select(Notification.dedup_key).where(Notification.dedup_key.in_(chunk))):
            del fresh[key]
    if fresh:
        session.execute(insert(Notification), list(fresh.values()))
    session.execute(
        update(NotificationRequest)
        .where(NotificationRequest.id.in_([r.id for r in pending]))
        .values(status="resolved")
        .execution_options(synchronize_session=False)
    )
    out.rows = len(fresh)
    session.flush()
    return out


def _fold_into_digest(
    session: Session,
    storm: Storm,
    digests: dict[str, Notification],
    who: Hashable,
    person: rcp.Recipient | None,
    channel: str,
    address: str,
    language: str,
    req: NotificationRequest,
    facts: Facts,
    now: datetime,
) -> None:
    """Add the incident to this window's digest row for that person and channel (texts are rendered
    once per batch by ``_render_digest_row``)."""
    start, end = storm.digest_window(now)
    key = f"digest|{who}|{start.isoformat()}|{channel}"
    row = digests.get(key)
    if row is None:
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
        digests[key] = row
    if row.status not in PENDING:
        return  # that window's digest already went: the incident was told in it or will be by the next news
    if not isinstance(row.data.get("incidents"), dict):
        row.data = {"incidents": {}}
    row.data["incidents"][str(req.incident_id)] = facts.level  # in place: marked changed once, on render


def _render_digest_row(env: Env, row: Notification) -> None:
    flag_modified(row, "data")  # its incidents were added in place
    incidents = (row.data or {}).get("incidents", {})
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
        row.language,
        row.drill,
    )


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


def deliver_one(
    unit_of_work: Callable[[], Any], env: Env, limiter: RateLimiter, row_id: int
) -> tuple[str, str]:
    """Send one due row: (the row's new status, "" when it waits for the rate limit; its channel)."""
    now = env.clock.now()
    with unit_of_work() as session:
        row = session.get(Notification, row_id)
        if row is None or row.status not in PENDING or row.send_after > now:
            return "", ""
        message = message_of(row)
    channel = env.channel_for(message.channel, message.address)
    limit_key = channel.name if channel else message.channel
    if channel is not None and not limiter.take(limit_key, now):
        return "", message.channel
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
    with unit_of_work() as session:
        row = session.get(Notification, row_id)
        row.attempts += 1
        if result.progress:
            row.data = {**(row.data or {}), "progress": result.progress}
        if result.provider_id:
            row.provider_id = result.provider_id[:200]
        if result.ok:
            row.status, row.sent_at, row.last_error = "sent", now, ""
        else:
            _retry_or_fail(row, env, now, result.error, permanent=result.permanent)
        return row.status, row.channel


def _retry_or_fail(
    row: Notification, env: Env, now: datetime, error: str, *, permanent: bool = False
) -> None:
    """After a failed attempt: queued again after the policy's backoff, or failed (a dead letter)."""
    backoff = env.policy.notify.retry_backoff_seconds
    row.last_error = error[:2000]
    if permanent or row.attempts > len(backoff):
        row.status = "failed"
    else:
        row.status = "queued"
        row.send_after = now + timedelta(seconds=backoff[row.attempts - 1])


def record_receipts(session: Session, env: Env, receipts: list[tuple[str, str]]) -> Counter[str]:
    """SMSC delivery receipts → the rows whose message ids they name. A final failure of a part
    (policy ``retry_receipts``: UNDELIV, REJECTD, EXPIRED) clears that part, so the retry resends
    it alone, and puts a sent row back in the queue after the backoff, or fails it when the tries
    are spent. Returns counts: receipts, retried, failed."""
    now = env.clock.now()
    retry_on = {stat.upper() for stat in env.policy.notify.retry_receipts}
    out: Counter[str] = Counter()
    for ident, stat in receipts:
        for row in session.scalars(
            select(Notification).where(
                Notification.channel == "sms", Notification.provider_id.contains(ident)
            )
        ):
            if ident not in row.provider_id.split(","):
                continue
            row.receipt = stat[:32]
            out["receipts"] += 1
            if stat.upper() not in retry_on:
                continue
            progress = dict((row.data or {}).get("progress") or {})
            parts = ["" if part == ident else part for part in progress.get("parts") or []]
            row.data = {**(row.data or {}), "progress": {**progress, "parts": parts}}
            row.provider_id = ",".join(part for part in parts if part)
            if row.status == "sent":
                _retry_or_fail(row, env, now, f"delivery receipt {stat} for {ident}")
                out["retried" if row.status == "queued" else "failed"] += 1
            elif row.status in PENDING:  # already waiting for a retry: that one resends this part too
                row.last_error = f"delivery receipt {stat} for {ident}"
    return out


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


@dataclass
class OutboxGauges:
    by_status: dict[tuple[str, str], int]  # (status, channel) → rows
    depth: int  # queued + deferred: still to go
    oldest_queued_seconds: float  # age of the oldest queued row (0 when none): a stuck peer shows here
    requests_pending: int  # requests not yet expanded into rows


def outbox_gauges(session: Session, now: datetime) -> OutboxGauges:
    by_status = {
        (status, channel): n
        for status, channel, n in session.execute(
            select(Notification.status, Notification.channel, func.count()).group_by(
                Notification.status, Notification.channel
            )
        )
    }
    oldest = session.scalar(  # typed, so SQLite's text comes back as an aware time too
        select(func.min(Notification.created_at, type_=UtcDateTime())).where(
            Notification.status == DeliveryStatus.QUEUED.value
        )
    )
    return OutboxGauges(
        by_status=by_status,
        depth=sum(n for (status, _), n in by_status.items() if status in PENDING),
        oldest_queued_seconds=max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0,
        requests_pending=session.scalar(select(func.count()).where(NotificationRequest.status == "pending"))
        or 0,
    )


def counts(session: Session) -> dict[str, int]:
    return dict(
        session.execute(select(Notification.status, func.count()).group_by(Notification.status)).all()
    )  # type: ignore[arg-type]
