"""Operations endpoints: liveness, readiness, Prometheus metrics."""

from __future__ import annotations

from fastapi.testclient import TestClient

from linewatch.context import Context
from tests.conftest import ADMIN


def test_health_and_readiness(small: Context, client: TestClient) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"]["database"] == "ok"


def test_readiness_fails_when_the_pipeline_is_stopped(small: Context, client: TestClient) -> None:
    small.pipeline.stop()
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json()["checks"]["pipeline"] == "not running"


def test_metrics_count_ingest_and_state(small: Context, client: TestClient) -> None:
    alarm = {"source": "ems", "ne": "ACC-GL-1", "object": "GE0/2/1", "type": "LOS", "severity": "critical"}
    assert client.post("/api/v1/alarms", json=[alarm, {"bad": 1}], headers=ADMIN).status_code == 202
    text = client.get("/metrics").text
    assert 'linewatch_ingest_events_total{channel="http"} 1' in text
    assert "linewatch_active_alarms 1" in text
    assert 'linewatch_open_incidents{level="general"} 1' in text
    assert 'linewatch_ingest_rejected_total{channel="http"} 1' in text
