"""Inventory endpoints: import (admin) and scoped reads."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, File, Query, UploadFile
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from linewatch.api.deps import admin_only, get_ctx, reading, user_actor
from linewatch.api.errors import INGEST_RESPONSES
from linewatch.context import Context
from linewatch.core.actor import Actor
from linewatch.core.bus import INVENTORY_CHANGED
from linewatch.core.errors import TooLarge
from linewatch.inventory import service
from linewatch.inventory.sources import read_files

router = APIRouter(prefix="/api/v1", tags=["inventory"], responses=INGEST_RESPONSES)
Limit = Query(100, ge=1, le=1000)


@router.post("/inventory/import")
async def import_inventory(
    files: list[UploadFile] = File(..., description="<table>.csv parts or one .xlsx"),
    dry_run: bool = Query(False),
    actor: Actor = Depends(admin_only),
    ctx: Context = Depends(get_ctx),
) -> JSONResponse:
    budget = ctx.settings.max_upload_bytes
    contents: list[tuple[str, bytes]] = []
    for upload in files:
        data = await upload.read(budget + 1)
        budget -= len(data)
        if budget < 0:
            raise TooLarge(f"upload is larger than {ctx.settings.max_upload_bytes >> 20} MiB")
        contents.append((upload.filename or "unnamed", data))
    read = read_files(contents)
    with ctx.db.unit_of_work() as session:
        report = service.import_inventory(session, ctx.clock, read, actor, dry_run)
    if report.ok and not dry_run:
        ctx.bus.publish(INVENTORY_CHANGED, report.counts)
    body = report.as_dict()
    if not report.ok:
        return JSONResponse(
            {"error": f"import refused: {len(report.errors)} error(s), nothing written", "detail": body},
            status_code=422,
        )
    return JSONResponse(body)


@router.get("/customers")
def list_customers(
    limit: int = Limit,
    cursor: str | None = None,
    region: str | None = None,
    level: str | None = None,
    q: str | None = None,
    actor: Actor = Depends(user_actor),
    session: Session = Depends(reading),
) -> dict[str, Any]:
    return service.list_customers(
        session, actor, limit=limit, cursor=cursor, region=region, level=level, q=q
    ).as_dict()


@router.get("/customers/{code}")
def get_customer(
    code: str, actor: Actor = Depends(user_actor), session: Session = Depends(reading)
) -> dict[str, Any]:
    return service.get_customer(session, actor, code)


@router.get("/circuits")
def list_circuits(
    limit: int = Limit,
    cursor: str | None = None,
    customer: str | None = None,
    ne: str | None = None,
    q: str | None = None,
    actor: Actor = Depends(user_actor),
    session: Session = Depends(reading),
) -> dict[str, Any]:
    return service.list_circuits(
        session, actor, limit=limit, cursor=cursor, customer=customer, ne=ne, q=q
    ).as_dict()


@router.get("/circuits/{code}")
def get_circuit(
    code: str, actor: Actor = Depends(user_actor), session: Session = Depends(reading)
) -> dict[str, Any]:
    return service.get_circuit(session, actor, code)


@router.get("/network_elements")
def list_network_elements(
    limit: int = Limit,
    cursor: str | None = None,
    type: str | None = None,
    region: str | None = None,
    q: str | None = None,
    actor: Actor = Depends(user_actor),
    session: Session = Depends(reading),
) -> dict[str, Any]:
    return service.list_network_elements(
        session, actor, limit=limit, cursor=cursor, type=type, region=region, q=q
    ).as_dict()


@router.get("/network_elements/{name}")
def get_network_element(
    name: str,
    actor: Actor = Depends(user_actor),
    session: Session = Depends(reading),
    ctx: Context = Depends(get_ctx),
) -> dict[str, Any]:
    return service.get_network_element(session, actor, name, ctx.index)


@router.get("/network_elements/{name}/circuits")
def circuits_through(
    name: str,
    port: str | None = None,
    actor: Actor = Depends(user_actor),
    session: Session = Depends(reading),
    ctx: Context = Depends(get_ctx),
) -> dict[str, Any]:
    """Impact lookup: the circuits crossing this NE (or one of its ports), and on which route."""
    return {"items": service.circuits_through(session, actor, name, port, ctx.index), "next_cursor": None}
