"""The error answers every API route may give, documented once for the OpenAPI spec.

The app's exception handlers (app.py) turn each domain error into ``{"error", "detail"}`` with its
status; routers list these so the spec names every status a caller can meet (schemathesis checks it).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ErrorBody(BaseModel):
    """What every 4xx/5xx answer carries: a message naming the problem, and details when there are some."""

    error: str
    detail: Any = None


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _error("Bad request: the message names the problem"),
    401: _error("No, unknown or revoked credentials"),
    403: _error("The role may not do this, or the CSRF token is missing"),
    404: _error("No such object"),
    409: _error("Conflicts with the current state"),
}
INGEST_RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES,
    413: _error("Body or batch larger than the policy allows"),
    503: _error("The database is unavailable: nothing was kept; retry after Retry-After seconds"),
}
