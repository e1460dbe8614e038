"""Errors services raise; the web edge maps each to one HTTP status and a JSON body."""

from __future__ import annotations

from typing import Any


class LinewatchError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, detail: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


class ValidationFailed(LinewatchError):
    status = 422
    code = "invalid"


class NotFound(LinewatchError):
    status = 404
    code = "not_found"


class Forbidden(LinewatchError):
    status = 403
    code = "forbidden"


class Unauthorized(LinewatchError):
    status = 401
    code = "unauthorized"


class Conflict(LinewatchError):
    status = 409
    code = "conflict"


class TooLarge(LinewatchError):
    status = 413
    code = "too_large"


class InvalidChoice(ValidationFailed, ValueError):
    """A value outside an enumeration. Also a ValueError, so parsers that collect those still do."""
