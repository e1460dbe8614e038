"""Cutover registry on the small network: affected circuits, the notice, short notice, conflicts."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient
from openpyxl import load_workbook

from linewatch.api.reports import XLSX
from linewatch.context import Context
from tests.conftest import ADMIN
from tests.cutovers.helpers import cutover_body, register
from tests.tickets.helpers import at


def test_whole_ne_cutover_interrupts_every_circuit_through_it(small: Context, client: TestClient) -> None:
    got = register(client, resources={"nes": ["ACC-GL-1"]})
    assert got["affected_customers"] == ["C001"]
    effects = {c["circuit"]: c["effect"] for c in got["affected_circuits"]}
    assert effects == {"FZ-C001-DATA-1": "down", "FZ-C001-VOICE-1": "down"}  # both DATA routes cross it
    assert got["short_notice"] is False and got["state"] == "scheduled"
    [row, _] = got["notice"]
    assert row["task_no"] == "GJ-001" and row["customer"] == "C001" and row["circuit"] == "FZ-C001-DATA-1"
    assert row["impact"] == "interrupt" and row["expected_minutes"] == 30
    assert row["region"] == "GL" and row["cause_label"] == "机房整治"
    assert client.get(f"/api/v1/cutovers/{got['id']}", headers=ADMIN).json()["task_no"] == "GJ-001"
    assert [c["task_no"] for c in client.get("/api/v1/cutovers", headers=ADMIN).json()["items"]] == ["GJ-001"]


def test_backup_route_cutover_is_degraded_not_interrupted(small: Context, client: TestClient) -> None:
    got = register(client, resources={"ports": [{"ne": "AGG-GL-2", "port": "GE0/1/0"}]})
    [circuit] = got["affected_circuits"]
    assert circuit == {"circuit": "FZ-C001-DATA-1", "effect": "degraded", "routes": ["backup"]}
    [row] = got["notice"]
    assert row["impact"] == "none" and row["expected_minutes"] == 0 and "单路由" in row["impact_label"]


def test_single_routed_circuit_by_port_and_by_name(small: Context, client: TestClient) -> None:
    got = register(
        client,
        resources={
            "ports": [{"ne": "AGG-GL-2", "port": "GigabitEthernet0/2/5"}],
            "circuits": ["FZ-C002-INT-1"],
        },
    )
    effects = {c["circuit"]: c["effect"] for c in got["affected_circuits"]}
    assert effects == {"FZ-C002-INT-1": "down", "FZ-C003-DATA-1": "down"}
    assert got["affected_customers"] == ["C002", "C003"]


def test_short_notice_and_never_published(small: Context, client: TestClient) -> None:
    late = register(client, "GJ-002", published_at=at(9, day=4).isoformat(), resources={"nes": ["OLT-TJ-1"]})
    assert late["short_notice"] is True
    never = register(client, "GJ-003", published_at=None, resources={"nes": ["OLT-TJ-1"]})
    assert never["short_notice"] is True and never["published_at"] is None


def test_national_day_notice_through_the_api(small: Context, client: TestClient) -> None:
    window = {"window_start": "2025-10-13T00:30:00+08:00", "window_end": "2025-10-13T04:00:00+08:00"}
    ok = register(
        client, "GJ-ND-1", published_at="2025-09-26T17:00:00+08:00", resources={"nes": ["CORE-2"]}, **window
    )
    assert ok["short_notice"] is False  # counts make-up Sunday 28 Sep and Saturday 11 Oct
    short = register(
        client, "GJ-ND-2", published_at="2025-09-29T09:00:00+08:00", resources={"nes": ["CORE-2"]}, **window
    )
    assert short["short_notice"] is True


def test_conflict_when_both_routes_are_cut_at_once(small: Context, client: TestClient) -> None:
    register(client, "GJ-A", resources={"ports": [{"ne": "AGG-GL-1", "port": "GE0/1/0"}]})
    later = register(
        client,
        "GJ-B",
        window_start=at(11, day=11).isoformat(),
        window_end=at(13, day=11).isoformat(),
        resources={"ports": [{"ne": "AGG-GL-2", "port": "GE0/1/0"}]},
    )
    assert later["conflicts"] == [{"task_no": "GJ-A", "circuit": "FZ-C001-DATA-1"}]
    first = client.get("/api/v1/cutovers", headers=ADMIN).json()["items"][0]
    assert first["conflicts"] == [{"task_no": "GJ-B", "circuit": "FZ-C001-DATA-1"}]


def test_refusals(small: Context, client: TestClient) -> None:
    register(client, resources={"nes": ["NO-SUCH-NE"]}, expect=422)
    register(client, resources={}, expect=422)
    register(client, cause="打雷", resources={"nes": ["CORE-1"]}, expect=422)
    register(client, cause="外力施工", resources={"nes": ["CORE-1"]})  # the Chinese name is accepted
    register(client, resources={"nes": ["CORE-1"]}, expect=409)  # the task number is taken
    register(client, "GJ-X", window_end=at(9, day=11).isoformat(), resources={"nes": ["CORE-1"]}, expect=422)


def test_notice_csv_export(small: Context, client: TestClient) -> None:
    got = register(client, resources={"nes": ["ACC-GL-1"]}, initiator="=cmd|' /C calc'!A0")
    response = client.get(f"/api/v1/cutovers/{got['id']}/notice.csv", headers=ADMIN)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert rows[0][0] == "割接任务编号" and len(rows) == 3
    assert rows[1][:4] == ["GJ-001", "C001", "福州市鼓楼区人民政府", "FZ-C001-DATA-1"]
    assert rows[1][6] == "业务中断" and rows[1][9] == "机房整治"
    english = client.get(f"/api/v1/cutovers/{got['id']}/notice.csv?lang=en", headers=ADMIN).text
    assert "task no." in english and "interruption" in english


def test_notice_excel_export_neutralises_formulas(small: Context, client: TestClient) -> None:
    formula = '=HYPERLINK("http://evil.example","点我")'
    got = register(client, formula, resources={"nes": ["ACC-GL-1"]}, region="-2+3")
    response = client.get(f"/api/v1/cutovers/{got['id']}/notice.xlsx", headers=ADMIN)
    assert response.status_code == 200
    assert response.headers["content-type"] == XLSX
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0][0] == "割接任务编号" and len(rows) == 3
    assert rows[1][0] == "'" + formula and sheet["A2"].data_type == "s"  # text, never a formula
    assert rows[1][3] == "FZ-C001-DATA-1" and rows[1][6] == "业务中断" and rows[1][7] == 30
    assert rows[1][8] == "'-2+3"
    english = client.get(f"/api/v1/cutovers/{got['id']}/notice.xlsx?lang=en", headers=ADMIN)
    assert load_workbook(io.BytesIO(english.content)).worksheets[0]["A1"].value == "task no."
    csv_text = client.get(f"/api/v1/cutovers/{got['id']}/notice.csv", headers=ADMIN).text
    assert list(csv.reader(io.StringIO(csv_text.lstrip("\ufeff"))))[1][0] == "'" + formula
    assert client.get(f"/api/v1/cutovers/{got['id']}/notice.pdf", headers=ADMIN).status_code == 404


def test_cancel(small: Context, client: TestClient) -> None:
    got = register(client, resources={"nes": ["ACC-GL-1"]})
    response = client.post(f"/api/v1/cutovers/{got['id']}/cancel", headers=ADMIN)
    assert response.status_code == 200 and response.json()["state"] == "cancelled"


def test_edit_recomputes_circuits_notice_and_short_notice(small: Context, client: TestClient) -> None:
    got = register(client, resources={"nes": ["ACC-GL-1"]})
    body = cutover_body(
        published_at=at(9, day=6).isoformat(), resources={"nes": ["OLT-TJ-1"], "ports": [], "circuits": []}
    )
    response = client.put(f"/api/v1/cutovers/{got['id']}", json=body, headers=ADMIN)
    assert response.status_code == 200, response.text
    edited = response.json()
    assert edited["affected_customers"] == ["C002"] and edited["short_notice"] is True
    assert [r["circuit"] for r in edited["notice"]] == ["FZ-C002-INT-1"]
    register(client, "GJ-002", resources={"nes": ["CORE-1"]})
    taken = client.put(
        f"/api/v1/cutovers/{got['id']}",
        json=cutover_body("GJ-002", resources=body["resources"]),
        headers=ADMIN,
    )
    assert taken.status_code == 409
    client.post(f"/api/v1/cutovers/{got['id']}/cancel", headers=ADMIN)
    assert client.put(f"/api/v1/cutovers/{got['id']}", json=body, headers=ADMIN).status_code == 409
