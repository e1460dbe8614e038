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
    retry_after = {"Retry-After": str(ctx.policy.ingest.retry_after_seconds)}

    def error_response(exc: Exception, method: str = "", path: str = "") -> JSONResponse:
        """The answer to an error raised while handling a request (every route's, and the ingest
        fast path's): domain errors by their status, the database away 503, anything else a bug."""
        if isinstance(exc, LinewatchError):
            headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
            if exc.status == 503:
                headers = retry_after
            return JSONResponse(
                {"error": exc.message, "detail": exc.detail}, status_code=exc.status, headers=headers
            )
        if isinstance(exc, OperationalError | InterfaceError):
            # the database is unreachable or locked: nothing was kept, the sender should retry
            log.warning("database unavailable on %s %s: %s", method, path, type(exc).__name__)
            body = {"error": "database unavailable; retry later", "detail": None}
            return JSONResponse(body, status_code=503, headers=retry_after)
        log.error("unhandled error on %s %s", method, path, exc_info=exc)
        return JSONResponse(
            {"error": "internal error (a bug: see the server log)", "detail": None}, status_code=500
        )

    # added before RequestIds, so RequestIds wraps it: fast-path answers carry their request id too
    app.add_middleware(
        alarms.IngestFastPath,
        ctx=ctx,
        remembered=app.state.remembered_tokens,
        errors=lambda exc: error_response(exc, "POST", alarms.IngestFastPath.PATH),
    )
    app.add_middleware(RequestIds)

    @app.exception_handler(LinewatchError)
    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    async def _handled(request: Request, exc: Exception) -> JSONResponse:
        return error_response(exc, request.method, request.url.path)

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
        return error_response(exc, request.method, request.url.path)

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
