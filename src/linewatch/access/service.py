"""Access services: bearer tokens, users, password login with throttling, web sessions.

Tokens and session ids are random (``secrets``) and stored only as SHA-256 hashes; passwords
are hashed with argon2id. The bootstrap admin token (``LINEWATCH_ADMIN_TOKEN``) is compared in
constant time and never stored.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from linewatch.access.models import ApiToken, LoginFailure, User, WebSession
from linewatch.core.actor import INGEST, Actor
from linewatch.core.clock import Clock
from linewatch.core.errors import Conflict, LinewatchError, NotFound, Unauthorized
from linewatch.core.policy import AccessPolicy
from linewatch.db.audit import record
from linewatch.inventory.choices import Role
from linewatch.inventory.models import Staff

_hasher = PasswordHasher()


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def bootstrap_actor() -> Actor:
    return Actor(label="admin-token", role=Role.ADMIN.value)


def _user_actor(user: User, session: Session, via: str) -> Actor:
    team_id = None
    if user.staff_id is not None:
        team_id = session.scalar(select(Staff.team_id).where(Staff.id == user.staff_id))
    return Actor(
        label=f"{via}:{user.username}",
        role=user.role,
        user_id=user.id,
        staff_id=user.staff_id,
        team_id=team_id,
    )


def actor_for_token(session: Session, clock: Clock, token: str, admin_token: str | None) -> Actor:
    if admin_token and hmac.compare_digest(token.encode(), admin_token.encode()):
        return bootstrap_actor()
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest(token)))
    if row is None or row.revoked_at is not None:
        raise Unauthorized("unknown or revoked token")
    if row.kind == "ingest":
        return Actor(label=f"ingest:{row.name}", role=INGEST)
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise Unauthorized("the token's user is disabled")
    return _user_actor(user, session, "token")


def user_for_staff(session: Session, clock: Clock, actor: Actor, staff_code: str) -> User:
    """The login of a staff member, created on first need with the staff member's role."""
    staff = session.scalar(select(Staff).where(Staff.code == staff_code))
    if staff is None:
        raise NotFound(f"no staff member {staff_code!r}")
    user = session.scalar(select(User).where(User.staff_id == staff.id))
    if user is None:
        user = User(
            username=staff.code,
            display_name=staff.name,
            role=staff.role,
            staff_id=staff.id,
            language=staff.language,
        )
        session.add(user)
        session.flush()
        record(session, clock, actor.label, "create", "user", user.username, after={"role": user.role})
    elif user.role != staff.role:  # a staff member's role is their user's role
        before = {"role": user.role}
        user.role = staff.role
        record(
            session,
            clock,
            actor.label,
            "update",
            "user",
            user.username,
            before=before,
            after={"role": staff.role},
        )
    return user


@dataclass(frozen=True)
class IssuedToken:
    id: int
    token: str
    kind: str
    name: str


def create_token(
    session: Session,
    clock: Clock,
    actor: Actor,
    *,
    staff: str | None = None,
    ingest_name: str | None = None,
    username: str | None = None,
) -> IssuedToken:
    if sum(x is not None for x in (staff, ingest_name, username)) != 1:
        raise LinewatchError("give exactly one of: staff, an ingest name, a user name")
    user: User | None = None
    if staff is not None:
        user = user_for_staff(session, clock, actor, staff)
    elif username is not None:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            raise NotFound(f"no user {username!r}")
    kind = "ingest" if ingest_name is not None else "user"
    name = ingest_name if ingest_name is not None else user.username  # type: ignore[union-attr]
    if not name:
        raise LinewatchError("an ingest token needs a name")
    secret = new_secret()
    row = ApiToken(
        kind=kind,
        name=name,
        user_id=user.id if user else None,
        token_hash=digest(secret),
        created_at=clock.now(),
        created_by=actor.label,
    )
    session.add(row)
    session.flush()
    record(session, clock, actor.label, "create", "token", str(row.id), after={"kind": kind, "name": name})
    return IssuedToken(row.id, secret, kind, name)


def revoke_token(session: Session, clock: Clock, actor: Actor, token_id: int) -> None:
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"no token {token_id}")
    if row.revoked_at is not None:
        raise Conflict(f"token {token_id} is already revoked")
    row.revoked_at = clock.now()
    record(
        session,
        clock,
        actor.label,
        "revoke",
        "token",
        str(token_id),
        after={"revoked_at": row.revoked_at.isoformat()},
    )


def list_tokens(session: Session) -> list[dict[str, object]]:
    return [
        {
            "id": t.id,
            "kind": t.kind,
            "name": t.name,
            "created_at": t.created_at.isoformat(),
            "created_by": t.created_by,
            "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None,
        }
        for t in session.scalars(select(ApiToken).order_by(ApiToken.id))
    ]


def create_user(
    session: Session,
    clock: Clock,
    actor: Actor,
    *,
    username: str,
    role: str,
    password: str | None,
    staff: str | None = None,
    display_name: str = "",
) -> User:
    if staff:
        user = user_for_staff(session, clock, actor, staff)
    else:
        role = Role.parse(role).value
        if session.scalar(select(User).where(User.username == username)) is not None:
            raise Conflict(f"user {username!r} exists")
        user = User(username=username, display_name=display_name or username, role=role)
        session.add(user)
        session.flush()
        record(session, clock, actor.label, "create", "user", username, after={"role": role})
    if password:
        set_password(session, clock, actor, user, password)
    return user


def set_password(session: Session, clock: Clock, actor: Actor, user: User, password: str) -> None:
    if len(password) < 8:
        raise LinewatchError("a password needs at least 8 characters")
    user.password_hash = _hasher.hash(password)
    record(session, clock, actor.label, "set_password", "user", user.username)


def list_users(session: Session) -> list[dict[str, object]]:
    staff_codes = dict(session.execute(select(Staff.id, Staff.code)).all())
    return [
        {
            "id": u.id,
            "username": u.username,
            "display_name": u.display_name,
            "role": u.role,
            "staff": staff_codes.get(u.staff_id) if u.staff_id else None,
            "active": u.is_active,
            "language": u.language,
        }
        for u in session.scalars(select(User).order_by(User.username))
    ]


def update_user(
    session: Session,
    clock: Clock,
    actor: Actor,
    username: str,
    *,
    role: str | None = None,
    active: bool | None = None,
    display_name: str | None = None,
) -> User:
    """Set a user's role, name, or whether they may log in. Disabling ends their web sessions
    (their tokens stop working too: every use checks the user is active)."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user {username!r}")
    before = {"role": user.role, "active": user.is_active, "display_name": user.display_name}
    if role is not None:
        try:
            role = Role.parse(role).value
        except ValueError as exc:
            raise LinewatchError(f"role: {exc}") from exc
    if role is not None and role != user.role:
        if user.staff_id is not None:
            code = session.scalar(select(Staff.code).where(Staff.id == user.staff_id))
            raise Conflict(f"user {username!r} takes the role of staff member {code!r}: change it there")
        user.role = role
    if active is not None and active != user.is_active:
        if not active and actor.user_id == user.id:
            raise Conflict("you cannot disable yourself")
        user.is_active = active
        if not active:
            session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    if display_name is not None:
        user.display_name = display_name.strip() or user.username
    after = {"role": user.role, "active": user.is_active, "display_name": user.display_name}
    if after != before:
        record(session, clock, actor.label, "update", "user", username, before=before, after=after)
    return user


# ---------------------------------------------------------------- web login and sessions


@dataclass(frozen=True)
class NewSession:
    cookie: str
    csrf_token: str
    user: User


def login(
    session: Session, clock: Clock, policy: AccessPolicy, username: str, password: str, address: str
) -> NewSession:
    """Check a password; lock a user name or address after too many recent failures."""
    now = clock.now()
    since = now - timedelta(minutes=policy.login_lock_minutes)
    failures = (
        session.scalar(
            select(func.count())
            .select_from(LoginFailure)
            .where(
                (LoginFailure.at >= since)
                & ((LoginFailure.username == username) | (LoginFailure.address == address))
            )
        )
        or 0
    )
    if failures >= policy.login_max_failures:
        raise Unauthorized(
            "too many failed logins; try again later", {"retry_after_minutes": policy.login_lock_minutes}
        )
    user = session.scalar(select(User).where(User.username == username))
    ok = False
    if user is not None and user.is_active and user.password_hash:
        try:
            ok = _hasher.verify(user.password_hash, password)
        except (VerificationError, InvalidHashError):
            ok = False
    else:
        _hasher.hash(password)  # spend the same time whether or not the user exists
    if not ok or user is None:
        raise Unauthorized("wrong user name or password")
    cookie = new_secret()
    # A fresh random id at every login: an id planted before login is never honoured (no fixation).
    web = WebSession(
        session_hash=digest(cookie),
        user_id=user.id,
        csrf_token=secrets.token_hex(16),
        created_at=now,
        expires_at=now + timedelta(hours=policy.session_hours),
    )
    session.add(web)
    session.execute(delete(LoginFailure).where(LoginFailure.username == username))
    record(session, clock, f"web:{user.username}", "login", "user", user.username, note=address)
    return NewSession(cookie, web.csrf_token, user)


def record_login_failure(session: Session, clock: Clock, username: str, address: str) -> None:
    session.add(LoginFailure(username=username, address=address, at=clock.now()))


def session_actor(session: Session, clock: Clock, cookie: str) -> tuple[Actor, WebSession]:
    web = session.scalar(select(WebSession).where(WebSession.session_hash == digest(cookie)))
    if web is None or web.expires_at <= clock.now():
        raise Unauthorized("not logged in")
    user = session.get(User, web.user_id)
    if user is None or not user.is_active:
        raise Unauthorized("user disabled")
    return _user_actor(user, session, "web"), web


def logout(session: Session, clock: Clock, cookie: str) -> None:
    web = session.scalar(select(WebSession).where(WebSession.session_hash == digest(cookie)))
    if web is not None:
        user = session.get(User, web.user_id)
        session.delete(web)
        record(
            session,
            clock,
            f"web:{user.username if user else web.user_id}",
            "logout",
            "user",
            user.username if user else "",
        )
