"""Who reads what: contractors see their team's circuits, account managers their own customers.

The small network: CT-A (region GL) maintains FZ-C001-DATA-1, FZ-C001-VOICE-1 (customer C001)
and FZ-C003-DATA-1 (C003); CT-B (region TJ) maintains FZ-C002-INT-1 (C002). AM01 manages C001
and C003, AM02 manages C002.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from linewatch.context import Context
from tests.conftest import ADMIN, bearer

ALL_CIRCUITS = {"FZ-C001-DATA-1", "FZ-C001-VOICE-1", "FZ-C002-INT-1", "FZ-C003-DATA-1"}
CT_A_CIRCUITS = {"FZ-C001-DATA-1", "FZ-C001-VOICE-1", "FZ-C003-DATA-1"}
GL_NES = {"CORE-1", "AGG-GL-1", "AGG-GL-2", "AGG-GL-3", "ACC-GL-1", "NGN-1", "CPE-C001"}
TJ_NES = {"CORE-2", "OLT-TJ-1", "ONU-C002"}


def token_for(client: TestClient, staff: str) -> dict[str, str]:
    response = client.post("/api/v1/admin/tokens", json={"staff": staff}, headers=ADMIN)
    assert response.status_code == 201, response.text
    return bearer(response.json()["token"])


def get(client: TestClient, path: str, headers: dict[str, str], status: int = 200, **params: Any) -> Any:
    response = client.get(path, headers=headers, params=params)
    assert response.status_code == status, (path, response.text)
    return response.json()


def every(client: TestClient, path: str, headers: dict[str, str], key: str, **params: Any) -> list[str]:
    """All items of a list endpoint, following the cursor."""
    found: list[str] = []
    cursor: str | None = None
    while True:
        page = get(client, path, headers, limit=2, **({"cursor": cursor} if cursor else {}), **params)
        found += [item[key] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return found


def test_contractor_reads_only_its_teams_circuits(small: Context, client: TestClient) -> None:
    ca01 = token_for(client, "CA01")
    cb01 = token_for(client, "CB01")

    missing = get(client, "/api/v1/circuits/FZ-C002-INT-1", ca01, status=404)
    assert "FZ-C002-INT-1" in missing["error"]
    assert get(client, "/api/v1/circuits/FZ-C002-INT-1", cb01)["maintainer"] == "CT-B"
    assert get(client, "/api/v1/circuits/FZ-C001-DATA-1", ca01)["maintainer"] == "CT-A"
    get(client, "/api/v1/circuits/FZ-C001-DATA-1", cb01, status=404)

    listed = every(client, "/api/v1/circuits", ca01, "code")
    assert sorted(listed) == sorted(CT_A_CIRCUITS)
    assert every(client, "/api/v1/circuits", cb01, "code") == ["FZ-C002-INT-1"]
    # a filter cannot widen the scope
    assert every(client, "/api/v1/circuits", ca01, "code", customer="C002") == []
    assert every(client, "/api/v1/circuits", ca01, "code", ne="CORE-2") == ["FZ-C001-DATA-1"]


def test_contractor_reads_only_customers_of_its_circuits(small: Context, client: TestClient) -> None:
    ca01 = token_for(client, "CA01")
    cb01 = token_for(client, "CB01")
    assert sorted(every(client, "/api/v1/customers", ca01, "code")) == ["C001", "C003"]
    assert every(client, "/api/v1/customers", cb01, "code") == ["C002"]
    get(client, "/api/v1/customers/C002", ca01, status=404)
    detail = get(client, "/api/v1/customers/C001", ca01)
    assert detail["circuits"] == ["FZ-C001-DATA-1", "FZ-C001-VOICE-1"]


def test_contractor_reads_network_elements_of_its_regions(small: Context, client: TestClient) -> None:
    ca01 = token_for(client, "CA01")
    cb01 = token_for(client, "CB01")
    assert set(every(client, "/api/v1/network_elements", ca01, "name")) == GL_NES
    assert set(every(client, "/api/v1/network_elements", cb01, "name")) == TJ_NES
    get(client, "/api/v1/network_elements/CORE-2", ca01, status=404)
    get(client, "/api/v1/network_elements/CORE-2/circuits", ca01, status=404)


def test_impact_lookup_omits_other_teams_circuits(small: Context, client: TestClient) -> None:
    dispatcher = token_for(client, "D01")
    cb01 = token_for(client, "CB01")
    # CORE-2 carries C002's internet line (CT-B) and C001's backup route (CT-A)
    everything = get(client, "/api/v1/network_elements/CORE-2/circuits", dispatcher)["items"]
    assert sorted((i["circuit"], i["route"]) for i in everything) == [
        ("FZ-C001-DATA-1", "backup"),
        ("FZ-C002-INT-1", "primary"),
    ]
    scoped = get(client, "/api/v1/network_elements/CORE-2/circuits", cb01)["items"]
    assert [(i["circuit"], i["route"]) for i in scoped] == [("FZ-C002-INT-1", "primary")]


def test_account_manager_reads_only_own_customers(small: Context, client: TestClient) -> None:
    am02 = token_for(client, "AM02")
    assert every(client, "/api/v1/customers", am02, "code") == ["C002"]
    assert get(client, "/api/v1/customers/C002", am02)["circuits"] == ["FZ-C002-INT-1"]
    get(client, "/api/v1/customers/C001", am02, status=404)
    assert every(client, "/api/v1/circuits", am02, "code") == ["FZ-C002-INT-1"]
    get(client, "/api/v1/circuits/FZ-C001-DATA-1", am02, status=404)
    assert get(client, "/api/v1/circuits/FZ-C002-INT-1", am02)["customer"] == "C002"

    forbidden = get(client, "/api/v1/network_elements", am02, status=403)
    assert forbidden["error"]
    get(client, "/api/v1/network_elements/ONU-C002", am02, status=403)
    get(client, "/api/v1/network_elements/ONU-C002/circuits", am02, status=403)

    am01 = token_for(client, "AM01")
    assert sorted(every(client, "/api/v1/customers", am01, "code")) == ["C001", "C003"]
    get(client, "/api/v1/customers/C002", am01, status=404)


@pytest.mark.parametrize("staff", ["D01", "S01", "E01", "FM01", "L01"])
def test_other_roles_see_everything(small: Context, client: TestClient, staff: str) -> None:
    headers = token_for(client, staff)
    assert sorted(every(client, "/api/v1/customers", headers, "code")) == ["C001", "C002", "C003"]
    assert set(every(client, "/api/v1/circuits", headers, "code")) == ALL_CIRCUITS
    assert set(every(client, "/api/v1/network_elements", headers, "name")) == GL_NES | TJ_NES
    assert get(client, "/api/v1/circuits/FZ-C002-INT-1", headers)["code"] == "FZ-C002-INT-1"
    assert get(client, "/api/v1/customers/C002", headers)["code"] == "C002"


def test_scope_follows_a_team_change(small: Context, client: TestClient) -> None:
    """The scope is the staff member's team now, not the team when the token was issued."""
    ca01 = token_for(client, "CA01")
    get(client, "/api/v1/circuits/FZ-C002-INT-1", ca01, status=404)
    staff = "code,name,phone,email,team,role\nCA01,赵代维,13800000004,ca01@example.com,CT-B,contractor\n"
    imported = client.post(
        "/api/v1/inventory/import",
        files=[("files", ("staff.csv", staff.encode(), "text/csv"))],
        headers=ADMIN,
    )
    assert imported.status_code == 200, imported.text
    assert get(client, "/api/v1/circuits/FZ-C002-INT-1", ca01)["code"] == "FZ-C002-INT-1"
    get(client, "/api/v1/circuits/FZ-C001-DATA-1", ca01, status=404)


def test_alarm_lists_are_scoped_through_the_links_customer_and_circuit(
    small: Context, client: TestClient
) -> None:
    """Contractors see alarms on their team's circuits, account managers on their customers', and
    the circuit filter finds a circuit's alarms — all through the (customer, alarm) index, the
    links' only one besides their key (decision 130)."""
    alarms = [
        {"source": "ems", "ne": "AGG-GL-2", "object": "GE0/2/5", "type": "LOS", "severity": "critical"},
        {"source": "ems", "ne": "OLT-TJ-1", "object": "0/1/1", "type": "LOS", "severity": "critical"},
        {"source": "ems", "ne": "CORE-1", "type": "NE_DOWN", "severity": "critical"},
    ]
    stored = client.post("/api/v1/alarms", json=alarms, headers=ADMIN)
    assert stored.status_code == 202, stored.text
    c003, c002, core = stored.json()["ids"]

    def ids(headers: dict[str, str], **params: Any) -> set[int]:
        return {int(i) for i in every(client, "/api/v1/alarms", headers, "id", **params)}

    assert ids(token_for(client, "CA01")) == {c003, core}  # CT-A: FZ-C003-DATA-1, and C001's via CORE-1
    assert ids(token_for(client, "CB01")) == {c002}
    assert ids(token_for(client, "AM02")) == {c002}
    assert ids(token_for(client, "AM01")) == {c003, core}
    assert ids(ADMIN, circuit="FZ-C003-DATA-1") == {c003, core}
    assert ids(ADMIN, circuit="FZ-C002-INT-1") == {c002}
    assert ids(ADMIN, circuit="FZ-C001-VOICE-1") == {core}
    assert ids(token_for(client, "CB01"), circuit="FZ-C003-DATA-1") == set()  # a filter cannot widen it
