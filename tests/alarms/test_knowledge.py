"""Handling suggestions: seeded, keyed by type/access/service, editable, learned from closed tickets."""

from __future__ import annotations

from fastapi.testclient import TestClient

from linewatch.alarms.knowledge import count_cause
from linewatch.context import Context
from tests.conftest import ADMIN, bearer


def test_seeded_entries_prefer_the_most_specific(small: Context) -> None:
    s = small.suggestions
    assert any("光功率" in step for step in s.suggest("LOS")["steps"])
    assert any("ONU" in step for step in s.suggest("LOS", access="PON")["steps"])
    assert any("MAC" in step for step in s.suggest("LINK_DOWN", service_type="internet")["steps"])
    assert s.suggest("NO_SUCH_TYPE") == {"causes": [], "steps": []}


def test_operators_edit_the_knowledge_base(small: Context, client: TestClient) -> None:
    body = {
        "type": "光信号丢失",
        "access": "sdh",
        "causes": ["DDF 跳纤松动"],
        "steps": ["检查 DDF 跳纤", " "],
    }
    response = client.put("/api/v1/knowledge", json=body, headers=ADMIN)
    assert response.status_code == 200, response.text
    assert response.json()["steps"] == ["检查 DDF 跳纤"]  # alias 光信号丢失 → LOS, blank step dropped
    assert small.suggestions.suggest("LOS", access="SDH")["causes"] == ["DDF 跳纤松动"]
    listed = client.get("/api/v1/knowledge", headers=ADMIN).json()["items"]
    assert any(e["type"] == "LOS" and e["access"] == "SDH" for e in listed)
    contractor = client.post("/api/v1/admin/tokens", json={"staff": "CA01"}, headers=ADMIN).json()["token"]
    assert client.put("/api/v1/knowledge", json=body, headers=bearer(contractor)).status_code == 403


def test_closed_tickets_causes_come_first(small: Context) -> None:
    with small.db.unit_of_work() as session:
        for cause in ["外力施工 external works", "外力施工 external works", "尾纤松动 loose pigtail"]:
            count_cause(session, "LOS", cause)
    small.reload_suggestions()
    causes = small.suggestions.suggest("LOS")["causes"]
    assert causes[:2] == ["外力施工 external works", "尾纤松动 loose pigtail"]
