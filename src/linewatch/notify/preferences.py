"""A person's own notification settings: channels in order of preference and quiet hours.

Everyone edits their own; admins edit anyone's. Requests that name channels (urgent dispatch by SMS
and voice) still get them; quiet hours defer all but the policy's ``urgent_kinds``, and nobody on
duty by the roster is ever quiet (see recipients.quiet_hours_of).
"""

from __future__ import annotations

from datetime import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from linewatch.core.actor import Actor
from linewatch.core.clock import Clock
from linewatch.core.errors import Forbidden, NotFound, ValidationFailed
from linewatch.db import audit
from linewatch.inventory.models import Staff
from linewatch.notify.choices import ChannelKind
from linewatch.notify.models import NotifyPreference

PERSONAL = ("sms", "email", "voice")  # webhooks reach groups, not people


def _person(session: Session, actor: Actor, code: str | None) -> Staff:
    """The person whose settings these are: the actor's own (code None), or anyone's for admins."""
    if code is None:
        if actor.staff_id is None:
            raise ValidationFailed("this account is not linked to a person (staff): it has no preferences")
        person = session.get(Staff, actor.staff_id)
    else:
        person = session.scalar(select(Staff).where(Staff.code == code))
        if person is not None and person.id != actor.staff_id and not actor.is_admin:
            raise Forbidden("only admins edit another person's notification preferences")
    if person is None:
        raise NotFound(f"no staff {code!r}")
    return person


def _view(person: Staff, pref: NotifyPreference | None, lang: str) -> dict[str, Any]:
    return {
        "staff": person.code,
        "name": person.name,
        "channels": list(pref.channels) if pref else [],
        "quiet_start": pref.quiet_start if pref else None,
        "quiet_end": pref.quiet_end if pref else None,
        "addresses": {"sms": person.phone, "voice": person.phone, "email": person.email},
        "choices": [{"value": c, "label": ChannelKind(c).label(lang)} for c in PERSONAL],
    }


def get(session: Session, actor: Actor, code: str | None = None, lang: str = "zh") -> dict[str, Any]:
    person = _person(session, actor, code)
    return _view(person, session.get(NotifyPreference, person.id), lang)


def _clock_time(value: str | None, field: str) -> str | None:
    if value in (None, ""):
        return None
    try:
        parsed = time.fromisoformat(value)  # type: ignore[arg-type]
    except ValueError as exc:
        raise ValidationFailed(f"{field} must be a time HH:MM, not {value!r}") from exc
    return parsed.strftime("%H:%M")


def put(
    session: Session,
    clock: Clock,
    actor: Actor,
    code: str | None,
    *,
    channels: list[str],
    quiet_start: str | None,
    quiet_end: str | None,
    lang: str = "zh",
) -> dict[str, Any]:
    person = _person(session, actor, code)
    unknown = [c for c in channels if c not in PERSONAL]
    if unknown:
        raise ValidationFailed(f"channels must be among {', '.join(PERSONAL)}; not {', '.join(unknown)}")
    if len(set(channels)) != len(channels):
        raise ValidationFailed("channels must not repeat")
    addresses = {"sms": person.phone, "voice": person.phone, "email": person.email}
    missing = [c for c in channels if not addresses[c]]
    if missing:
        raise ValidationFailed(f"{person.code} has no address for {', '.join(missing)} (phone / e-mail)")
    start, end = _clock_time(quiet_start, "quiet_start"), _clock_time(quiet_end, "quiet_end")
    if (start is None) != (end is None):
        raise ValidationFailed("quiet hours need both quiet_start and quiet_end, or neither")
    if start is not None and start == end:
        raise ValidationFailed("quiet_start and quiet_end must differ")
    pref = session.get(NotifyPreference, person.id)
    before = {"channels": list(pref.channels), "quiet": [pref.quiet_start, pref.quiet_end]} if pref else None
    if pref is None:
        pref = NotifyPreference(staff_id=person.id)
        session.add(pref)
    pref.channels, pref.quiet_start, pref.quiet_end = list(channels), start, end
    session.flush()
    audit.record(
        session,
        clock,
        actor.label,
        "notify.preferences",
        "staff",
        person.code,
        before=before,
        after={"channels": list(channels), "quiet": [start, end]},
    )
    return _view(person, pref, lang)
