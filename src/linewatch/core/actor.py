"""Who is acting: handed from the edge to every service, which scopes reads and audits writes by it."""

from __future__ import annotations

from dataclasses import dataclass

INGEST = "ingest"  # the role of ingest-only tokens: they post alarms and nothing else


@dataclass(frozen=True)
class Actor:
    label: str  # what the audit log records, e.g. "staff:ZS001" or "token:3"
    role: str  # a Role value, or INGEST
    user_id: int | None = None
    staff_id: int | None = None
    team_id: int | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


SYSTEM = Actor(label="system", role="admin")
