"""Login, logout, language and the home page. Sessions are server-side; forms carry CSRF tokens."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from linewatch.access import service as access
from linewatch.api.deps import SESSION_COOKIE, get_ctx
from linewatch.context import Context
from linewatch.core.errors import Unauthorized
from linewatch.inventory import service as inventory
from linewatch.web.i18n import translate

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(__import__("pathlib").Path(__file__).parent / "templates"))
LANG_COOKIE = "linewatch_lang"
LOGIN_CSRF_COOKIE = "linewatch_login_csrf"


def language(request: Request) -> str:
    lang = request.cookies.get(LANG_COOKIE)
    if lang in ("zh", "en"):
        return lang
    accept = request.headers.get("accept-language", "zh")
    return "en" if accept.lower().startswith("en") else "zh"


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    lang = language(request)
    return templates.TemplateResponse(
        request, name, {"lang": lang, "t": lambda key: translate(key, lang), **context}, status_code=status
    )


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> HTMLResponse:
    token = secrets.token_hex(16)
    response = render(request, "login.html", csrf=token, error=None)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict")
    return response


@router.post("/login")
def login_submit(
    request: Request,
    username: str = Form(...),
    password: str = Form(...),
    csrf: str = Form(...),
    ctx: Context = Depends(get_ctx),
) -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(expected, csrf):
        return render(request, "login.html", status=403, csrf=expected, error="CSRF")
    try:
        with ctx.db.unit_of_work() as session:
            new = access.login(session, ctx.clock, ctx.policy.access, username, password, _client(request))
    except Unauthorized as exc:
        # The failure row must persist even though login raised: record it in its own transaction.
        if "too many" not in exc.message:
            with ctx.db.unit_of_work() as session:
                access.record_login_failure(session, ctx.clock, username, _client(request))
        key = "login_locked" if "too many" in exc.message else "login_failed"
        return render(request, "login.html", status=401, csrf=expected, error=key)
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        new.cookie,
        httponly=True,
        samesite="lax",
        secure=ctx.settings.secure_cookies,
        max_age=ctx.policy.access.session_hours * 3600,
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request, csrf: str = Form(""), ctx: Context = Depends(get_ctx)) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        with ctx.db.unit_of_work() as session:
            try:
                _, web = access.session_actor(session, ctx.clock, cookie)
            except Unauthorized:
                web = None
            if web is not None and secrets.compare_digest(web.csrf_token, csrf):
                access.logout(session, ctx.clock, cookie)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/lang/{lang}")
def switch_language(lang: str, request: Request) -> Response:
    target = request.headers.get("referer") or "/"
    if not target.startswith(str(request.base_url)):
        target = "/"
    response = RedirectResponse(target, status_code=303)
    if lang in ("zh", "en"):
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax")
    return response


@router.get("/", response_class=HTMLResponse)
def home(request: Request, ctx: Context = Depends(get_ctx)) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return RedirectResponse("/login", status_code=303)
    with ctx.db.reading() as session:
        try:
            actor, web = access.session_actor(session, ctx.clock, cookie)
        except Unauthorized:
            return RedirectResponse("/login", status_code=303)
        csrf = web.csrf_token  # read while the session is open: closing it expires the row
        counts = inventory.summary(session, actor)
    return render(request, "home.html", actor=actor, csrf=csrf, counts=counts)
