"""The operator screens: alarm wall, alarm console, incident view, ticket desk, inventory, users.

Pages are thin shells: they check the session, then the page's script reads and acts through the
scoped JSON API (with the session's CSRF token) and listens to the live stream. Where a page must
refuse outright (a ticket of another team), it asks the same service the API uses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from linewatch.access import service as access
from linewatch.api.cutovers import PLANNERS
from linewatch.api.deps import SESSION_COOKIE, RowId, get_ctx
from linewatch.api.reports import READERS as REPORT_READERS
from linewatch.context import Context
from linewatch.core.actor import Actor
from linewatch.core.errors import Forbidden, NotFound, Unauthorized
from linewatch.inventory.choices import AccessTech, Role, ServiceType
from linewatch.tickets import service as tickets
from linewatch.tickets.choices import CauseCategory, EscalationLevel, EventType, TicketState
from linewatch.web.i18n import MESSAGES
from linewatch.web.pages import language, render

router = APIRouter(include_in_schema=False)

OPERATORS = {"admin", "dispatcher", "support", "engineer", "fault_manager", "manager_l3", "leader"}
ACTORS = {"admin", "dispatcher", "support", "engineer", "fault_manager"}


def can_plan(actor: Actor) -> bool:
    """Registers cutovers and assurance periods, runs drills (the API's rule)."""
    return actor.is_admin or actor.role in PLANNERS


NAV: list[tuple[str, str, Callable[[Actor], bool]]] = [
    ("/wall", "wall", lambda a: a.role in OPERATORS),
    ("/console", "console", lambda a: a.role in OPERATORS),
    ("/tickets", "tickets", lambda a: True),
    ("/m/tickets", "my_tickets", lambda a: a.role in ("contractor", "admin")),
    ("/inventory", "inventory", lambda a: True),
    ("/reports", "reports", lambda a: a.is_admin or a.role in REPORT_READERS),
    ("/inventory/import", "import", lambda a: a.is_admin),
    ("/cutovers", "cutovers", lambda a: a.role in OPERATORS),
    ("/assurance", "assurance", lambda a: a.role in OPERATORS),
    ("/drills", "drills", can_plan),
    ("/preferences", "notify_prefs", lambda a: a.staff_id is not None or a.is_admin),
    ("/admin/users", "users", lambda a: a.is_admin),
]


def _session(request: Request, ctx: Context) -> tuple[Actor, str] | None:
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    with ctx.db.reading() as session:
        try:
            actor, web = access.session_actor(session, ctx.clock, cookie)
        except Unauthorized:
            return None
        return actor, web.csrf_token


def _js_messages(lang: str) -> dict[str, str]:
    return {k: v.get(lang) or v["en"] for k, v in MESSAGES.items()}


def _labels(lang: str) -> dict[str, dict[str, str]]:
    return {
        "cause": {c.value: c.label(lang) for c in CauseCategory},
        "state": {s.value: s.label(lang) for s in TicketState},
        "event": {e.value: e.label(lang) for e in EventType},
        "escalation": {e.value: e.label(lang) for e in EscalationLevel},
        "service_type": {s.value: s.label(lang) for s in ServiceType},
        "access": {a.value: a.label(lang) for a in AccessTech},
    }


def screen(
    request: Request,
    ctx: Context,
    template: str,
    page: str,
    allowed: Callable[[Actor], bool] = lambda a: True,
    status: int = 200,
    **extra: Any,
) -> Response:
    found = _session(request, ctx)
    if found is None:
        return RedirectResponse("/login", status_code=303)
    actor, csrf = found
    if not allowed(actor):
        return render(request, "denied.html", status=403, actor=actor, csrf=csrf, nav=_nav(actor), page=page)
    lang = language(request)
    boot = {
        "page": page,
        "lang": lang,
        "role": actor.role,
        "label": actor.label,
        "can_act": actor.role in ACTORS,
        "can_plan": can_plan(actor),
        "messages": _js_messages(lang),
        "labels": _labels(lang),
        **extra,
    }
    return render(
        request, template, status=status, actor=actor, csrf=csrf, nav=_nav(actor), page=page, boot=boot
    )


def _nav(actor: Actor) -> list[tuple[str, str]]:
    return [(href, key) for href, key, visible in NAV if visible(actor)]


@router.get("/wall", response_class=HTMLResponse)
def wall(request: Request, ctx: Context = Depends(get_ctx)) -> Response:
    return screen(request, ctx, "wall.html", "wall", lambda a: a.role in OPERATORS)


@router.get("/console", response_class=HTMLResponse)
def console(request: Request, ctx: Context = Depends(get_ctx)) -> Response:
    return screen(request, ctx, "console.html", "console", lambda a: a.role in OPERATORS)


@router.get("/incidents/{incident_id}", response_class=HTMLResponse)
def incident(incident_id: RowId, request: Request, ctx: Context = Depends(get_ctx)) -> Response:
    return screen(request, ctx, "incident.html", "incident", incident_id=incident_id)


@router.get("/tickets", response_class=HTMLResponse)
def ticket_desk(request: Request, ctx: Context = Depends(get_ctx)) -> Response:
    return screen(request, ctx, "tickets.html", "tickets", mobile=False)


@router.get("/m/tickets", response_class=HTMLResponse)
def my_tickets(request: Request, ctx: Context = Depends(get_ctx)) -> Response:
    return screen(request, ctx, "tickets.html", "tickets", mobile=True)


@router.get("/tickets/{ticket_id}", response_class=HTMLResponse)
@router.get("/m/tickets/{ticket_id}", response_class=HTMLResponse)
def ticket(ticket_id: RowId, request: Request, ctx: Context = Depends(get_ctx)) -> Response:
    found = _session(request, ctx)
    if found is None:
        return RedirectResponse("/login", status_code=303)
    actor, _ = found
    try:
        with ctx.db.reading() as session:
            tickets.get_ticket(session, ctx.downstream.env, actor, ticket_id)
    except (NotFound, Forbidden):
        return screen(request, ctx, "denied.html", "ticket", status=404, missing=ticket_id)
    mobile = request.url.path.startswith("/m/")
    return screen(request, ctx, "ticket.html", "ticket", ticket_id=ticket_id, mobile=mobile)


@router.get("/inventory", response_class=HTMLResponse)
def inventory_page(request: Request, ctx: Context = Depends(get_ctx)) -> Response:
    return screen(request, ctx, "inventory.html", "inventory")


@router.get("/inventory/import", response_class=HTMLResponse)
def import_page(request: Request, ctx: Context = Depends(get_ctx)) -> Response:
    return screen(request, ctx, "import.html", "import", lambda a: a.is_admin)


@router.get("/preferences", response_class=HTMLResponse)
def preferences_page(request: Request, ctx: Context = Depends(get_ctx)) -> Response:
    """Notification preferences: one's own; admins load anyone's."""
    found = _session(request, ctx)
    linked = found is not None and found[0].staff_id is not None
    return screen(
        request,
        ctx,
        "preferences.html",
        "notify_prefs",
        lambda a: a.staff_id is not None or a.is_admin,
        linked=linked,
    )


@router.get("/reports", response_class=HTMLResponse)
def reports_page(request: Request, ctx: Context = Depends(get_ctx)) -> Response:
    """Statistics and the monthly report (DOMAIN 9): the page reads the same reports API."""
    return screen(
        request,
        ctx,
        "reports.html",
        "reports",
        lambda a: a.is_admin or a.role in REPORT_READERS,
        month=ctx.clock.now().astimezone(ctx.clock.tz).strftime("%Y-%m"),
    )


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request, ctx: Context = Depends(get_ctx)) -> Response:
    roles = {r.value: r.label(language(request)) for r in Role}
    return screen(request, ctx, "users.html", "users", lambda a: a.is_admin, roles=roles)
