"""Inventory over HTTP: paginated lists, circuit routes, NE detail, impact lookup, multipart import."""

from __future__ import annotations

import math
import shutil
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from linewatch.context import Context
from tests.conftest import ADMIN, SMALL, bearer

EXPECTED = {
    "customers": ("code", {"C001", "C002", "C003"}),
    "circuits": ("code", {"FZ-C001-DATA-1", "FZ-C001-VOICE-1", "FZ-C002-INT-1", "FZ-C003-DATA-1"}),
    "network_elements": (
        "name",
        {
            "CORE-1",
            "CORE-2",
            "AGG-GL-1",
            "AGG-GL-2",
            "AGG-GL-3",
            "ACC-GL-1",
            "OLT-TJ-1",
            "ONU-C002",
            "NGN-1",
            "CPE-C001",
        },
    ),
}


def ok(client: TestClient, path: str, **params: Any) -> Any:
    response = client.get(path, params=params, headers=ADMIN)
    assert response.status_code == 200, (path, response.text)
    return response.json()


def parts(folder: Path) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("files", (p.name, p.read_bytes(), "text/csv")) for p in sorted(folder.glob("*.csv"))]


def upload(
    client: TestClient,
    files: list[tuple[str, tuple[str, bytes, str]]],
    headers: dict[str, str] = ADMIN,
    **params: Any,
) -> Any:
    return client.post("/api/v1/inventory/import", files=files, params=params, headers=headers)


def broken_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "broken"
    shutil.copytree(SMALL, folder)
    circuits = folder / "circuits.csv"
    circuits.write_text(
        circuits.read_text(encoding="utf-8").replace("FZ-C002-INT-1,C002,", "FZ-C002-INT-1,C999,"),
        encoding="utf-8",
    )
    return folder


# ---------------------------------------------------------------- lists and pagination


@pytest.mark.parametrize("table", sorted(EXPECTED))
def test_lists_paginate_over_every_item_exactly_once(small: Context, client: TestClient, table: str) -> None:
    key, expected = EXPECTED[table]
    everything = ok(client, f"/api/v1/{table}")
    assert set(everything) == {"items", "next_cursor"}
    assert everything["next_cursor"] is None
    assert {item[key] for item in everything["items"]} == expected

    seen: list[str] = []
    pages = 0
    cursor: str | None = None
    while True:
        page = ok(client, f"/api/v1/{table}", limit=2, **({"cursor": cursor} if cursor else {}))
        pages += 1
        assert set(page) == {"items", "next_cursor"}
        assert 1 <= len(page["items"]) <= 2
        seen += [item[key] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert pages < 20, "pagination does not end"
    assert sorted(seen) == sorted(expected)
    assert len(seen) == len(set(seen))
    assert pages == math.ceil(len(expected) / 2)  # no empty trailing page
    # the order is stable: paging gives the unpaged order
    assert seen == [item[key] for item in everything["items"]]


def test_list_arguments_are_checked(small: Context, client: TestClient) -> None:
    bad_cursor = client.get("/api/v1/circuits", params={"cursor": "abc"}, headers=ADMIN)
    assert bad_cursor.status_code == 400 and "cursor" in bad_cursor.json()["error"]
    for limit in (0, 1001, "x"):
        response = client.get("/api/v1/circuits", params={"limit": limit}, headers=ADMIN)
        assert response.status_code == 422, limit
        assert "limit" in response.json()["error"]


def test_list_filters(small: Context, client: TestClient) -> None:
    by_customer = ok(client, "/api/v1/circuits", customer="C001")["items"]
    assert [c["code"] for c in by_customer] == ["FZ-C001-DATA-1", "FZ-C001-VOICE-1"]
    by_ne = ok(client, "/api/v1/circuits", ne="CORE-2")["items"]
    assert sorted(c["code"] for c in by_ne) == ["FZ-C001-DATA-1", "FZ-C002-INT-1"]
    olts = ok(client, "/api/v1/network_elements", type="olt")["items"]
    assert [n["name"] for n in olts] == ["OLT-TJ-1"]
    key = ok(client, "/api/v1/customers", region="GL")["items"]
    assert [(c["code"], c["key_customer"]) for c in key] == [("C001", True), ("C003", True)]
    # LIKE wildcards in q are literal
    assert ok(client, "/api/v1/circuits", q="%")["items"] == []
    assert [c["code"] for c in ok(client, "/api/v1/circuits", q="c002")["items"]] == ["FZ-C002-INT-1"]


# ---------------------------------------------------------------- details


def test_circuit_detail_has_both_routes_in_order(small: Context, client: TestClient) -> None:
    circuit = ok(client, "/api/v1/circuits/FZ-C001-DATA-1")
    assert circuit["customer"] == "C001"
    assert circuit["maintainer"] == "CT-A"
    assert circuit["key_customer"] is True
    assert circuit["dual_routed"] is True
    hops = {
        role: [(h["seq"], h["ne"], h["port"]) for h in route] for role, route in circuit["routes"].items()
    }
    assert hops == {
        "primary": [(1, "ACC-GL-1", "GE0/2/1"), (2, "AGG-GL-1", "GE0/1/0"), (3, "CORE-1", None)],
        "backup": [
            (1, "ACC-GL-1", "GE0/2/2"),
            (2, "AGG-GL-2", "GE0/1/0"),
            (3, "AGG-GL-3", "GE0/1/0"),
            (4, "CORE-2", None),
        ],
    }
    assert set(circuit["drawing"]) == {"primary", "backup"}
    for role, drawing in circuit["drawing"].items():
        assert isinstance(drawing, str)
        positions = [drawing.index(ne) for _, ne, _ in hops[role]]
        assert positions == sorted(positions), drawing
        for _, _, port in hops[role]:
            if port:
                assert port in drawing
    assert "AGG-GL-2" not in circuit["drawing"]["primary"]
    assert circuit["drawing"]["primary"].startswith("A:鼓楼区八一七北路1号")
    assert circuit["drawing"]["primary"].endswith("Z:鼓楼核心机房")


def test_single_routed_circuit_and_platform(small: Context, client: TestClient) -> None:
    single = ok(client, "/api/v1/circuits/FZ-C003-DATA-1")
    assert single["dual_routed"] is False
    assert set(single["routes"]) == {"primary"}
    assert set(single["drawing"]) == {"primary"}
    voice = ok(client, "/api/v1/circuits/FZ-C001-VOICE-1")
    assert voice["platform"] == "NGN-1"
    assert ok(client, "/api/v1/network_elements/NGN-1")["platform_dependants"] == 1


def test_network_element_detail(small: Context, client: TestClient) -> None:
    olt = ok(client, "/api/v1/network_elements/OLT-TJ-1")
    assert olt["type"] == "OLT" and olt["region"] == "TJ"
    assert olt["children"] == ["ONU-C002"]
    assert "0/1/1" in [p["name"] for p in olt["ports"]]
    onu = ok(client, "/api/v1/network_elements/ONU-C002")
    assert (onu["parent"], onu["parent_port"], onu["children"]) == ("OLT-TJ-1", "0/1/1", [])
    acc = ok(client, "/api/v1/network_elements/ACC-GL-1")
    assert {p["name"]: p["if_index"] for p in acc["ports"]} == {
        "GE0/1/1": 101,
        "GE0/2/1": 201,
        "GE0/2/2": 202,
    }
    assert acc["circuit_count"] == 2
    assert ok(client, "/api/v1/network_elements/CPE-C001")["circuit_count"] == 0


def test_circuits_through_an_ne_and_a_port(small: Context, client: TestClient) -> None:
    def through(name: str, **params: Any) -> list[tuple[str, str]]:
        page = ok(client, f"/api/v1/network_elements/{name}/circuits", **params)
        assert page["next_cursor"] is None
        return sorted((i["circuit"], i["route"]) for i in page["items"])

    assert through("AGG-GL-1") == [("FZ-C001-DATA-1", "primary"), ("FZ-C001-VOICE-1", "primary")]
    assert through("AGG-GL-2") == [("FZ-C001-DATA-1", "backup"), ("FZ-C003-DATA-1", "primary")]
    assert through("AGG-GL-2", port="GE0/2/5") == [("FZ-C003-DATA-1", "primary")]
    assert through("AGG-GL-2", port="ge0/1/0") == [("FZ-C001-DATA-1", "backup")]
    assert through("ACC-GL-1", port="GE0/2/2") == [("FZ-C001-DATA-1", "backup")]
    assert through("ACC-GL-1", port="GE0/9/9") == []
    assert through("CORE-1") == [
        ("FZ-C001-DATA-1", "primary"),
        ("FZ-C001-VOICE-1", "primary"),
        ("FZ-C003-DATA-1", "primary"),
    ]
    assert through("CPE-C001") == []


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/customers/C999",
        "/api/v1/circuits/NO-SUCH-CIRCUIT",
        "/api/v1/network_elements/NO-SUCH-NE",
        "/api/v1/network_elements/NO-SUCH-NE/circuits",
    ],
)
def test_unknown_keys_are_404_json(small: Context, client: TestClient, path: str) -> None:
    response = client.get(path, headers=ADMIN)
    assert response.status_code == 404
    body = response.json()
    assert path.split("/")[4] in body["error"]  # names the missing key
    assert "detail" in body


# ---------------------------------------------------------------- import


def test_import_small_network_over_http(ctx: Context, client: TestClient) -> None:
    assert ok(client, "/api/v1/circuits")["items"] == []
    response = upload(client, parts(SMALL))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ok"] is True and body["dry_run"] is False and body["errors"] == []
    assert body["counts"]["circuits"] == {"created": 4, "updated": 0}
    assert body["counts"]["customers"] == {"created": 3, "updated": 0}
    assert len(ok(client, "/api/v1/circuits")["items"]) == 4
    # the impact index followed the import (no manual rebuild)
    assert len(ok(client, "/api/v1/network_elements/AGG-GL-1/circuits")["items"]) == 2

    again = upload(client, parts(SMALL))
    assert again.status_code == 200
    assert again.json()["counts"]["circuits"] == {"created": 0, "updated": 4}
    assert len(ok(client, "/api/v1/circuits")["items"]) == 4


def test_import_errors_are_located_and_nothing_is_written(
    ctx: Context, client: TestClient, tmp_path: Path
) -> None:
    response = upload(client, parts(broken_copy(tmp_path)))
    assert response.status_code == 422, response.text
    body = response.json()
    assert "nothing written" in body["error"]
    errors = body["detail"]["errors"]
    assert errors and all(set(e) == {"file", "row", "column", "message"} for e in errors)
    located = [(e["file"], e["row"], e["column"]) for e in errors if "C999" in e["message"]]
    assert located == [("circuits.csv", 4, "customer")]
    for table in ("customers", "circuits", "network_elements"):
        assert ok(client, f"/api/v1/{table}")["items"] == [], table
    with ctx.db.engine.connect() as conn:  # the valid tables of the same upload were not written either
        for table in ("region", "team", "staff", "audit_log"):
            assert conn.scalar(text(f"SELECT count(*) FROM {table}")) == 0, table


def test_import_dry_run_writes_nothing(ctx: Context, client: TestClient) -> None:
    response = upload(client, parts(SMALL), dry_run="true")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ok"] is True and body["dry_run"] is True
    assert body["counts"]["circuits"] == {"rows": 4}
    assert ok(client, "/api/v1/circuits")["items"] == []
    assert ok(client, "/api/v1/customers")["items"] == []


def test_import_rejects_a_non_csv_part(ctx: Context, client: TestClient) -> None:
    files = [*parts(SMALL), ("files", ("notes.txt", b"hello", "text/plain"))]
    response = upload(client, files)
    assert response.status_code == 422
    errors = response.json()["detail"]["errors"]
    assert [e["file"] for e in errors] == ["notes.txt"]
    assert ok(client, "/api/v1/customers")["items"] == []


def test_import_needs_an_admin(small: Context, client: TestClient) -> None:
    for who in ({"staff": "D01"}, {"kind": "ingest", "name": "ems-1"}):
        issued = client.post("/api/v1/admin/tokens", json=who, headers=ADMIN)
        assert issued.status_code == 201
        refused = upload(client, parts(SMALL), headers=bearer(issued.json()["token"]))
        assert refused.status_code == 403, who
        assert refused.json()["error"]
    assert upload(client, parts(SMALL), headers={}).status_code == 401


def test_import_without_files_is_refused(ctx: Context, client: TestClient) -> None:
    response = client.post("/api/v1/inventory/import", headers=ADMIN)
    assert response.status_code == 422
    assert response.json()["error"]


def test_import_larger_than_the_limit_is_413(ctx: Context, client: TestClient) -> None:
    ctx.settings.max_upload_bytes = 1000
    response = upload(client, parts(SMALL))
    assert response.status_code == 413
    assert response.json()["error"]
    assert ok(client, "/api/v1/customers")["items"] == []
