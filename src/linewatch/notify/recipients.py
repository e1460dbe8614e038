"""Who hears of a request, resolved at send time (not when the request was written).

Audience keys producers use: ``roles`` (the people on duty in that role by the roster at that
moment, else everyone holding the role), ``duties`` (only whoever the roster has on that duty now,
e.g. an assurance period's team on duty ``assurance:<period id>``), ``teams`` (the team's staff — a
contractor team's are the contractor's people), ``staff`` (codes), ``customers`` (their account
managers), and ``otherwise`` (an audience of its own, asked only when the rest names nobody).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from linewatch.core.policy import NotifyPolicy
from linewatch.inventory.models import Customer, RosterShift, Staff, Team
from linewatch.notify.models import NotifyPreference


@dataclass(frozen=True)
class Recipient:
    staff_id: int
    code: str
    name: str
    phone: str
    email: str
    language: str
    on_duty: bool
    channels: tuple[str, ...] = ()  # the person's own preference, in order; () = none given
    quiet: tuple[time, time] | None = None
    why: tuple[str, ...] = field(default=(), compare=False)


def on_duty(session: Session, now: datetime) -> dict[int, set[str]]:
    """Staff id → the duties the roster has them on at ``now`` (read once per batch by the caller)."""
    rows = session.execute(
        select(RosterShift.staff_id, RosterShift.duty).where(
            RosterShift.starts_at <= now, RosterShift.ends_at > now
        )
    )
    duty: dict[int, set[str]] = {}
    for staff_id, name in rows:
        duty.setdefault(staff_id, set()).add(name)
    return duty


def resolve(
    session: Session, audience: dict[str, Any], now: datetime, duty: dict[int, set[str]] | None = None
) -> list[Recipient]:
    """The people an audience names at ``now``, each once, in staff-code order."""
    duty = on_duty(session, now) if duty is None else duty
    why: dict[int, list[str]] = {}

    def add(ids: list[int], reason: str) -> None:
        for staff_id in ids:
            why.setdefault(staff_id, []).append(reason)

    for role in audience.get("roles") or []:
        rostered = [sid for sid, duties in duty.items() if role in duties]
        if rostered:  # the roster wins: only whoever is on duty as that role now
            add(rostered, f"duty:{role}")
        else:
            add(list(session.scalars(select(Staff.id).where(Staff.role == role))), f"role:{role}")
    for name in audience.get("duties") or []:
        add([sid for sid, duties in duty.items() if name in duties], f"duty:{name}")
    for code in audience.get("teams") or []:
        add(
            list(
                session.scalars(
                    select(Staff.id).join(Team, Team.id == Staff.team_id).where(Team.code == code)
                )
            ),
            f"team:{code}",
        )
    if audience.get("staff"):
        add(list(session.scalars(select(Staff.id).where(Staff.code.in_(audience["staff"])))), "staff")
    if audience.get("customers"):
        add(
            [
                sid
                for sid in session.scalars(
                    select(Customer.account_manager_id).where(Customer.code.in_(audience["customers"]))
                )
                if sid is not None
            ],
            "account_manager",
        )
    if not why:
        fallback = audience.get("otherwise")
        return resolve(session, fallback, now, duty) if isinstance(fallback, dict) else []
    prefs = {
        p.staff_id: p
        for p in session.scalars(select(NotifyPreference).where(NotifyPreference.staff_id.in_(why)))
    }
    people = session.scalars(select(Staff).where(Staff.id.in_(why)).order_by(Staff.code))
    out = []
    for person in people:
        pref = prefs.get(person.id)
        quiet = None
        if pref is not None and pref.quiet_start and pref.quiet_end:
            quiet = (time.fromisoformat(pref.quiet_start), time.fromisoformat(pref.quiet_end))
        out.append(
            Recipient(
                staff_id=person.id,
                code=person.code,
                name=person.name,
                phone=person.phone,
                email=person.email,
                language=person.language or "zh",
                on_duty=person.id in duty,
                channels=tuple(pref.channels) if pref is not None else (),
                quiet=quiet,
                why=tuple(why[person.id]),
            )
        )
    return out


def channels_for(recipient: Recipient, wanted: list[str], policy: NotifyPolicy) -> list[str]:
    """A request naming channels (SMS + voice for urgent dispatch) gets them; otherwise the person's
    own choice, else the policy default. Channels the person has no address for are dropped."""
    chosen = list(wanted) or list(recipient.channels) or list(policy.default_channels)
    return [c for c in chosen if address_of(recipient, c)]


def address_of(recipient: Recipient, channel: str) -> str:
    if channel in ("sms", "voice"):
        return recipient.phone
    if channel == "email":
        return recipient.email
    return ""


def in_quiet_hours(local: time, quiet: tuple[time, time] | None) -> bool:
    if quiet is None:
        return False
    start, end = quiet
    return start <= local < end if start < end else (local >= start or local < end)


def quiet_hours_of(recipient: Recipient, policy: NotifyPolicy) -> tuple[time, time] | None:
    """A person on duty is never quiet; else their own hours, else the policy default (if any)."""
    if recipient.on_duty:
        return None
    if recipient.quiet is not None:
        return recipient.quiet
    if policy.quiet_hours is not None:
        return (policy.quiet_hours.start, policy.quiet_hours.end)
    return None
