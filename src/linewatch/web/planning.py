"""The planning screens: cutovers (割接) with their notice and calendar, assurance periods (重保) and
drills (应急演练). Thin shells like the other screens: the page scripts read and act through the API."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from linewatch.api.deps import get_ctx
from linewatch.assurance.choices import AssuranceLevel
from linewatch.context import Context
from linewatch.core.choices import Choice
from linewatch.cutovers.choices import Cause, CircuitEffect, CutoverState, ImpactType
from linewatch.web.pages import language
from linewatch.web.views import OPERATORS, can_plan, screen

router = APIRouter(include_in_schema=False)


def _choices(request: Request, *kinds: tuple[str, type[Choice]]) -> dict[str, dict[str, str]]:
    lang = language(request)
    return {name: {member.value: member.label(lang) for member in kind} for name, kind in kinds}


@router.get("/cutovers", response_class=HTMLResponse)
def cutovers_page(request: Request, ctx: Context = Depends(get_ctx)) -> Response:
    choices = _choices(
        request,
        ("cause", Cause),
        ("impact", ImpactType),
        ("cutover_state", CutoverState),
        ("effect", CircuitEffect),
    )
    return screen(
        request,
        ctx,
        "cutovers.html",
        "cutovers",
        lambda a: a.role in OPERATORS,
        choices=choices,
        notice_days=ctx.policy.cutovers.notice_working_days,
    )


@router.get("/assurance", response_class=HTMLResponse)
def assurance_page(request: Request, ctx: Context = Depends(get_ctx)) -> Response:
    choices = _choices(request, ("assurance_level", AssuranceLevel))
    return screen(request, ctx, "assurance.html", "assurance", lambda a: a.role in OPERATORS, choices=choices)


@router.get("/drills", response_class=HTMLResponse)
def drills_page(request: Request, ctx: Context = Depends(get_ctx)) -> Response:
    return screen(request, ctx, "drills.html", "drills", can_plan)
