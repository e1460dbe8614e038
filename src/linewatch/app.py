"""The ASGI application: API routers, web pages, error mapping. Built from a :class:`Context`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from linewatch import __version__
from linewatch.api import admin, alarms, cutovers, inventory, notify, reports, system, tickets, warnings
from linewatch.context import Context
from linewatch.core.errors import LinewatchError
from linewatch.core.runtime import freeze_long_lived
from linewatch.logs import RequestIds
from linewatch.web import pages, planning, stream, views

log = logging.getLogger("linewatch")


def create_app(ctx: Context) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        ctx.start()
        if ctx.settings.tune_gc:
            freeze_long_lived()
        try:
            yield
        finally:
            alarms.ACCEPTED.flush()  # accepted ingest requests not yet logged
            ctx.stop()

    app = FastAPI(
        lifespan=lifespan,
        title="Linewatch",
        version=__version__,
        description="集团客户专线 fault monitoring and dispatch",
    )
    app.state.ctx = ctx
    app.state.remembered_tokens = {}  # api/deps.py: ingest tokens looked up lately
    app.add_middleware(RequestIds)
    retry_after = {"Retry-After": str(ctx.policy.ingest.retry_after_seconds)}

    @app.exception_handler(LinewatchError)
    async def _domain_error(request: Request, exc: LinewatchError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        if exc.status == 503:
            headers = retry_after
        return JSONResponse(
            {"error": exc.message, "detail": exc.detail}, status_code=exc.status, headers=headers
        )

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    async def _database_away(request: Request, exc: Exception) -> JSONResponse:
        # the database is unreachable or locked: nothing was kept, the sender should retry
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path, type(exc).__name__)
        body = {"error": "database unavailable; retry later", "detail": None}
        return JSONResponse(body, status_code=503, headers=retry_after)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        detail = [
            {"where": ".".join(str(p) for p in err.get("loc", ())), "message": err.get("msg", "")}
            for err in exc.errors()
        ]
        first = detail[0] if detail else {"where": "", "message": "invalid request"}
        return JSONResponse(
            {"error": f"{first['where']}: {first['message']}", "detail": detail}, status_code=422
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"error": str(exc.detail), "detail": None}, status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(
            {"error": "internal error (a bug: see the server log)", "detail": None}, status_code=500
        )

    @app.get("/healthz", tags=["system"])
    def healthz() -> dict[str, Any]:
        return {"status": "ok", "version": __version__, "time": ctx.clock.now().isoformat()}

    app.include_router(inventory.router)
    app.include_router(alarms.router)
    app.include_router(system.router)
    app.include_router(tickets.router)
    app.include_router(cutovers.router)
    app.include_router(notify.router)
    app.include_router(reports.router)
    app.include_router(warnings.router)
    app.include_router(admin.router)
    stream.install(app, ctx)
    app.include_router(pages.router)
    app.include_router(views.router)
    app.include_router(planning.router)
    app.mount("/static", StaticFiles(packages=[("linewatch.web", "static")]), name="static")
    return app
