"""The demo's fault simulator raises and clears real alarms through the pipeline (both databases)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from linewatch.context import Context
from linewatch.demo.simulator import FaultSimulator
from tests.conftest import ADMIN


def test_simulated_faults_raise_and_clear(small: Context, client: TestClient) -> None:
    simulator = FaultSimulator(small.sink, lambda: small.index, small.clock.now, seed=3, max_active=3)
    elapsed = 0.0
    while simulator.raised < 3:  # steps are driven by hand: no timers
        elapsed += 10
        simulator.step(elapsed)
    alarms = client.get("/api/v1/alarms", params={"state": "all"}, headers=ADMIN).json()["items"]
    assert alarms and all(a["source"] == "demo-simulator" for a in alarms)
    simulator.max_active = 0  # raise nothing more
    simulator.step(elapsed + 10_000)  # every fault due to clear
    assert client.get("/api/v1/alarms", headers=ADMIN).json()["items"] == []
