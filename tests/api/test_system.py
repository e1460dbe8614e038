"""Operations endpoints: liveness, readiness, Prometheus metrics."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from linewatch.context import Context
from linewatch.db import timers
from linewatch.ingest.syslog import SyslogListener
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


def test_metrics_show_rates_queues_and_lags(small: Context, client: TestClient) -> None:
    alarms = [
        {"source": "ems", "ne": "AGG-GL-1", "object": "GE0/1/0", "type": "LOS", "severity": "critical"},
        {"source": "ems", "ne": "ACC-GL-1", "object": "GE0/2/1", "type": "LOS", "severity": "critical"},
    ]
    assert client.post("/api/v1/alarms", json=alarms, headers=ADMIN).status_code == 202
    small.settle()  # the urgent fault is dispatched: its SLA timers wait
    text = client.get("/metrics").text
    assert 'linewatch_ingest_events_per_second{channel="http"} 0.033' in text  # 2 in the last minute
    assert 'linewatch_queue_depth{queue="pipeline"} 0' in text
    assert 'linewatch_queue_depth{queue="timers_due"} 0' in text
    assert 'linewatch_lag_seconds{stage="timers"} 0.0' in text
    lag = next(line for line in text.splitlines() if line.startswith("linewatch_pipeline_lag_seconds"))
    assert float(lag.split()[1]) > 0
    with small.db.unit_of_work() as session:  # a timer overdue by an hour that nothing fired yet
        timers.schedule(session, "nobody", 1, "test", small.clock.now() - timedelta(hours=1))
    text = client.get("/metrics").text
    assert 'linewatch_queue_depth{queue="timers_due"} 1' in text
    assert 'linewatch_lag_seconds{stage="timers"} 3600.0' in text


def test_readiness_names_a_listener_that_stopped(small: Context, client: TestClient) -> None:
    listener = SyslogListener(small.sink, port=0, now=small.clock.now)
    listener.start()
    small.listeners.append(listener)
    try:
        assert client.get("/readyz").json()["checks"]["listeners"] == {"syslog": "ok"}
    finally:
        listener.stop()
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json()["checks"]["listeners"] == {"syslog": "down"}
