"""Who hears of a request, resolved at send time (not when the request was written).

Audience keys producers use: ``roles`` (the people on duty in that role by the roster at that
moment, else everyone holding the role), ``duties`` (only whoever the roster has on that duty now,
e.g. an assurance period's team on duty ``assurance:<period id>``), ``teams`` (the team's staff — a
contractor team's are the contractor's people), ``staff`` (codes), ``customers`` (their account
managers), and ``otherwise`` (an audience of its own, asked only when the rest names nobody).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
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
    return Directory(session, now, duty).resolve(audience)


class Directory:
    """Who is who at one moment, for one batch of requests: each role, team, customer list and
    person is read once however many audiences name it (a storm's requests share a few audiences)."""

    def __init__(self, session: Session, now: datetime, duty: dict[int, set[str]] | None = None) -> None:
        self.session = session
        self.duty = on_duty(session, now) if duty is None else duty
        self._ids: dict[tuple[str, Any], list[int]] = {}
        self._people: dict[int, Recipient] = {}

    def _lookup(self, kind: str, key: Any) -> list[int]:
        if (kind, key) not in self._ids:
            if kind == "role":
                query = select(Staff.id).where(Staff.role == key)
            elif kind == "team":
                query = select(Staff.id).join(Team, Team.id == Staff.team_id).where(Team.code == key)
            elif kind == "staff":
                query = select(Staff.id).where(Staff.code.in_(key))
            else:  # the customers' account managers
                query = select(Customer.account_manager_id).where(
                    Customer.code.in_(key), Customer.account_manager_id.is_not(None)
                )
            self._ids[(kind, key)] = list(self.session.scalars(query))
        return self._ids[(kind, key)]

    def resolve(self, audience: dict[str, Any]) -> list[Recipient]:
        why: dict[int, list[str]] = {}

        def add(ids: list[int], reason: str) -> None:
            for staff_id in ids:
                why.setdefault(staff_id, []).append(reason)

        for role in audience.get("roles") or []:
            rostered = [sid for sid, duties in self.duty.items() if role in duties]
            if rostered:  # the roster wins: only whoever is on duty as that role now
                add(rostered, f"duty:{role}")
            else:
                add(self._lookup("role", role), f"role:{role}")
        for name in audience.get("duties") or []:
            add([sid for sid, duties in self.duty.items() if name in duties], f"duty:{name}")
        for code in audience.get("teams") or []:
            add(self._lookup("team", code), f"team:{code}")
        if audience.get("staff"):
            add(self._lookup("staff", tuple(audience["staff"])), "staff")
        if audience.get("customers"):
            add(self._lookup("customers", tuple(audience["customers"])), "account_manager")
        if not why:
            fallback = audience.get("otherwise")
            return self.resolve(fallback) if isinstance(fallback, dict) else []
        self._read_people(set(why) - set(self._people))
        people = sorted((self._people[i] for i in why if i in self._people), key=lambda r: r.code)
        return [replace(person, why=tuple(why[person.staff_id])) for person in people]

    def _read_people(self, ids: set[int]) -> None:
        if not ids:
            return
        prefs = {
            p.staff_id: p
            for p in self.session.scalars(select(NotifyPreference).where(NotifyPreference.staff_id.in_(ids)))
        }
        for person in self.session.scalars(select(Staff).where(Staff.id.in_(ids))):
            pref = prefs.get(person.id)
            quiet = None
            if pref is not None and pref.quiet_start and pref.quiet_end:
                quiet = (time.fromisoformat(pref.quiet_start), time.fromisoformat(pref.quiet_end))
            self._people[person.id] = Recipient(
                staff_id=person.id,
                code=person.code,
                name=person.name,
                phone=person.phone,
                email=person.email,
                language=person.language or "zh",
                on_duty=person.id in self.duty,
                channels=tuple(pref.channels) if pref is not None else (),
                quiet=quiet,
            )


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
