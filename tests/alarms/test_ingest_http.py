"""Native HTTP ingestion at the edge: partial acceptance, dead letters, limits, auth (both databases)."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from linewatch.context import Context
from tests.conftest import ADMIN, bearer

GOOD = {"source": "ems", "ne": "ACC-GL-1", "object": "GE0/2/1", "type": "LOS", "severity": "critical"}


def rejected(client: TestClient) -> list[dict]:
    return client.get("/api/v1/ingest/rejected", headers=ADMIN).json()["items"]


def test_good_items_are_kept_beside_bad_ones(small: Context, client: TestClient) -> None:
    body = [GOOD, {"source": "ems", "type": "LOS", "severity": "major"}, {**GOOD, "object": "GE0/2/2"}]
    response = client.post("/api/v1/alarms", json=body, headers=ADMIN)
    assert response.status_code == 202
    answer = response.json()
    assert answer["accepted"] == 2 and len(answer["ids"]) == 2
    assert answer["rejected"] == [{"index": 1, "error": "'ne' or 'ne_ip' is required"}]
    [letter] = rejected(client)
    assert (
        letter["channel"] == "http" and "item 1" in letter["reason"] and '"type": "LOS"' in letter["payload"]
    )


def test_nothing_accepted_is_400_with_the_same_body(small: Context, client: TestClient) -> None:
    response = client.post("/api/v1/alarms", json=[{"source": "x"}], headers=ADMIN)
    assert response.status_code == 400
    assert response.json()["accepted"] == 0 and response.json()["rejected"][0]["index"] == 0


def test_single_object_is_accepted(small: Context, client: TestClient) -> None:
    response = client.post("/api/v1/alarms", json=GOOD, headers=ADMIN)
    assert response.status_code == 202 and response.json()["accepted"] == 1


def test_malformed_json_and_json_bombs_are_refused_and_kept(small: Context, client: TestClient) -> None:
    for payload in (b"{not json", b"\xff\xfe\x00garbage", b"[" * 100_000 + b"]" * 100_000):
        response = client.post(
            "/api/v1/alarms", content=payload, headers={**ADMIN, "content-type": "application/json"}
        )
        assert response.status_code == 400, response.text
        assert response.json()["error"]
    assert len(rejected(client)) == 3
    assert client.post("/api/v1/alarms", json=GOOD, headers=ADMIN).status_code == 202  # still serving


def test_over_the_size_and_batch_limits_is_413(small: Context, client: TestClient) -> None:
    huge = json.dumps([GOOD] * 10).encode() + b" " * small.policy.ingest.max_body_bytes
    response = client.post(
        "/api/v1/alarms", content=huge, headers={**ADMIN, "content-type": "application/json"}
    )
    assert response.status_code == 413
    too_many = [GOOD] * (small.policy.ingest.max_batch + 1)
    assert client.post("/api/v1/alarms", json=too_many, headers=ADMIN).status_code == 413
    assert len(rejected(client)) == 2


def test_ingest_tokens_post_but_people_do_not(small: Context, client: TestClient) -> None:
    ingest = client.post(
        "/api/v1/admin/tokens", json={"kind": "ingest", "name": "ems-1"}, headers=ADMIN
    ).json()
    assert client.post("/api/v1/alarms", json=GOOD, headers=bearer(ingest["token"])).status_code == 202
    person = client.post("/api/v1/admin/tokens", json={"staff": "D01"}, headers=ADMIN).json()
    assert client.post("/api/v1/alarms", json=GOOD, headers=bearer(person["token"])).status_code == 403
    assert client.post("/api/v1/alarms", json=GOOD).status_code == 401
    assert client.get("/api/v1/ingest/rejected", headers=bearer(person["token"])).status_code == 403


def test_redelivery_with_a_source_id_is_stored_once(small: Context, client: TestClient) -> None:
    item = {**GOOD, "source_id": "EMS-778812", "event_time": "2026-03-02T09:00:00+08:00"}
    first = client.post("/api/v1/alarms", json=item, headers=ADMIN).json()["ids"]
    again = client.post("/api/v1/alarms", json=item, headers=ADMIN).json()["ids"]
    assert first == again
    [alarm] = client.get("/api/v1/alarms", headers=ADMIN).json()["items"]
    assert alarm["count"] == 1


def test_a_remembered_token_takes_the_fast_path_with_the_same_answers(
    small: Context, client: TestClient
) -> None:
    """A token looked up lately skips FastAPI's routing and dependencies (decision 153): every answer
    must be the one the routed endpoint gives — accepted, refused items, bad bodies, limits."""
    ingest = client.post("/api/v1/admin/tokens", json={"kind": "ingest", "name": "ems-1"}, headers=ADMIN)
    headers = {**bearer(ingest.json()["token"]), "content-type": "application/json"}
    remembered = client.app.state.remembered_tokens  # type: ignore[attr-defined]
    bodies = [
        json.dumps([GOOD, {"source": "ems", "type": "LOS"}]).encode(),  # one kept, one refused
        json.dumps([{"source": "x"}]).encode(),  # nothing accepted: 400
        b"{not json",
        json.dumps([GOOD] * (small.policy.ingest.max_batch + 1)).encode(),  # over the batch limit: 413
    ]

    def answers(fast: bool) -> list[tuple[int, dict, str | None]]:
        out = []
        for body in bodies:
            if not fast:
                remembered.clear()  # the routed endpoint looks the token up again
            response = client.post("/api/v1/alarms", content=body, headers=headers)
            assert bool(remembered) is True  # an ingest token is remembered after either path
            answer = response.json()
            answer.pop("ids", None)  # new alarms, new ids
            out.append((response.status_code, answer, response.headers.get("x-request-id")))
        return out

    routed, fast = answers(fast=False), answers(fast=True)
    assert [(status, answer) for status, answer, _ in fast] == [(s, a) for s, a, _ in routed]
    assert [status for status, _, _ in fast] == [202, 400, 400, 413]
    assert all(request_id for _, _, request_id in fast)
    # a revoked token is forgotten at once: the next post goes the routed way and is refused
    client.delete(f"/api/v1/admin/tokens/{ingest.json()['id']}", headers=ADMIN)
    assert client.post("/api/v1/alarms", content=bodies[0], headers=headers).status_code == 401
