"""Request dependencies: the context, the acting user (bearer token or web session), role checks."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from linewatch.access.service import actor_for_token, bootstrap_actor, digest, session_actor
from linewatch.context import Context
from linewatch.core.actor import INGEST, Actor
from linewatch.core.errors import Forbidden, Unauthorized
from linewatch.core.ids import MAX_ROW_ID

SESSION_COOKIE = "linewatch_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# A row id in a path or query: out of range is a 422 naming the parameter, not a driver error.
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
RowIdFilter = Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)]


# Dependencies that do no I/O are ``async``: FastAPI runs a plain ``def`` one in the thread pool,
# and each such hop cost a single-alarm request more than its own processing.
async def get_ctx(request: Request) -> Context:
    return request.app.state.ctx


def reading(ctx: Context = Depends(get_ctx)) -> Iterator[Session]:
    with ctx.db.reading() as session:
        yield session


def writing(ctx: Context = Depends(get_ctx)) -> Iterator[Session]:
    with ctx.db.unit_of_work() as session:
        yield session


# Ingest tokens (and the configured admin token) are remembered this long after a lookup: a
# sender posting one alarm per request then costs no database read and no pool thread for its
# credentials. Revoking through the API forgets them at once; through another process (the CLI)
# within this many seconds. A person's token is read every time (role changes, disabling).
TOKEN_MEMORY_SECONDS = 5.0


async def current_actor(request: Request, ctx: Context = Depends(get_ctx)) -> Actor:
    """Bearer token first; else the web session cookie, with CSRF checked on unsafe methods."""
    header = request.headers.get("authorization", "")
    if not header:
        return await run_in_threadpool(_session_actor, request, ctx)
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("Authorization must be 'Bearer <token>'")
    remembered: Remembered = request.app.state.remembered_tokens
    actor = remembered_actor(remembered, token)
    if actor is not None:
        return actor
    actor = await run_in_threadpool(_token_actor, ctx, token)
    if actor.role == INGEST or actor == bootstrap_actor():
        remembered[digest(token)] = (actor, time.monotonic() + TOKEN_MEMORY_SECONDS)
    return actor


Remembered = dict[str, tuple[Actor, float]]  # token digest → (actor, remembered until)


def remembered_actor(remembered: Remembered, token: str) -> Actor | None:
    """The actor of a bearer token looked up within the last ``TOKEN_MEMORY_SECONDS``, else None."""
    hit = remembered.get(digest(token))
    return hit[0] if hit is not None and hit[1] > time.monotonic() else None


def forget_tokens(request: Request) -> None:
    """A token was revoked: every remembered token is read again on its next use."""
    request.app.state.remembered_tokens.clear()


def _token_actor(ctx: Context, token: str) -> Actor:
    with ctx.db.reading() as session:
        return actor_for_token(session, ctx.clock, token, ctx.settings.admin_token)


def _session_actor(request: Request, ctx: Context) -> Actor:
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise Unauthorized("authentication required: a bearer token or a login session")
    with ctx.db.reading() as session:
        actor, web = session_actor(session, ctx.clock, cookie)
        if request.method not in SAFE_METHODS:
            sent = request.headers.get(CSRF_HEADER, "")
            if not sent or sent != web.csrf_token:
                raise Forbidden("missing or wrong CSRF token")
        return actor


async def user_actor(actor: Actor = Depends(current_actor)) -> Actor:
    """Any person's role; ingest-only tokens are refused."""
    if actor.role == INGEST:
        raise Forbidden("ingest tokens may only post alarms")
    return actor


def require(*roles: str) -> Callable[[Actor], Awaitable[Actor]]:
    """A dependency allowing only the given roles (admins always)."""

    async def check(actor: Actor = Depends(user_actor)) -> Actor:
        if not actor.is_admin and actor.role not in roles:
            raise Forbidden(f"role {actor.role!r} may not do this")
        return actor

    return check


admin_only = require()
