"""Helpers for cutover and assurance tests on the small network (see tests/tickets/helpers.py).

Routes: FZ-C001-DATA-1 primary ACC-GL-1:GE0/2/1 → AGG-GL-1:GE0/1/0 → CORE-1, backup
ACC-GL-1:GE0/2/2 → AGG-GL-2:GE0/1/0 → AGG-GL-3 → CORE-2; FZ-C001-VOICE-1 ACC-GL-1:GE0/1/1 →
AGG-GL-1:GE0/1/0 → CORE-1; FZ-C003-DATA-1 AGG-GL-2:GE0/2/5 → CORE-1; FZ-C002-INT-1 via OLT-TJ-1.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import ADMIN
from tests.tickets.helpers import at


def cutover_body(task_no: str = "GJ-001", **changes: Any) -> dict[str, Any]:
    """Window 10:00–12:00 on Wednesday 11 March, published on Monday 2 March (six working days)."""
    body: dict[str, Any] = {
        "task_no": task_no,
        "cause": "room_rework",
        "window_start": at(10, day=11).isoformat(),
        "window_end": at(12, day=11).isoformat(),
        "impact": "interrupt",
        "expected_minutes": 30,
        "region": "GL",
        "initiator": "传输室 王工",
        "published_at": at(9, day=2).isoformat(),
        "resources": {"nes": [], "ports": [], "circuits": []},
    }
    return {**body, **changes}


def register(
    client: TestClient, task_no: str = "GJ-001", expect: int = 201, **changes: Any
) -> dict[str, Any]:
    response = client.post("/api/v1/cutovers", json=cutover_body(task_no, **changes), headers=ADMIN)
    assert response.status_code == expect, response.text
    return response.json()


def in_window(hh: int, mm: int = 0) -> datetime:
    return at(hh, mm, day=11)
