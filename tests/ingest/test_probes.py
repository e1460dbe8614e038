"""Active ping probes: the pure state machine, the prober's rounds, the real ICMP path (loopback only).

No traffic leaves this machine: real pings go to 127.0.0.1 and ::1 only; every other target is
answered by an injected ping function (the integration test's guard fails the test otherwise).
"""

from __future__ import annotations

import ipaddress
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from linewatch.alarms.engine import Outcome
from linewatch.alarms.normalise import AlarmEvent
from linewatch.context import Context
from linewatch.core.policy import ProbePolicy, load_policy
from linewatch.ingest.probes import (
    IcmpPinger,
    PingProber,
    PingResult,
    ProbeState,
    ProbeUnavailable,
    Target,
    active_ping_loss,
    inventory_targets,
)
from tests.conftest import ADMIN, START

POLICY = ProbePolicy(interval_seconds=60, count=5, loss_threshold_percent=60)

# --------------------------------------------------------------------------- the state machine (pure)


def run(state: ProbeState, target: str, *losses: float) -> list[str | None]:
    return [state.observe(target, loss) for loss in losses]


def test_raises_once_and_stays_quiet_while_steady() -> None:
    state = ProbeState(60)
    assert run(state, "A", 0, 0, 100, 100, 80, 60) == [None, None, "raise", None, None, None]
    assert run(state, "B", 0, 59.9, 20) == [None, None, None]  # a healthy target never speaks


def test_clears_once_when_loss_drops_below_the_threshold() -> None:
    state = ProbeState(60)
    assert run(state, "A", 100, 40, 0, 0) == ["raise", "clear", None, None]
    assert state.raised == set()


def test_the_threshold_is_inclusive_for_raising() -> None:
    state = ProbeState(60)
    assert run(state, "A", 59.9, 60, 60, 59.9) == [None, "raise", None, "clear"]


def test_flapping_target_sends_every_transition_and_nothing_else() -> None:
    state = ProbeState(60)
    assert run(state, "A", 100, 0, 100, 100, 0, 0, 100) == [
        "raise",
        "clear",
        "raise",
        None,
        "clear",
        None,
        "raise",
    ]


def test_hysteresis_clear_level_and_rounds() -> None:
    state = ProbeState(60, clear_below=20, clear_after=2)
    # 40 % is below the raise level but not "recovered"; one good round is not enough; a bad one resets
    assert run(state, "A", 100, 40, 0, 100, 0, 0, 0) == ["raise", None, None, None, None, "clear", None]


def test_targets_are_independent() -> None:
    state = ProbeState(60)
    assert [run(state, "A", 100), run(state, "B", 0, 100)] == [["raise"], [None, "raise"]]
    assert [run(state, "A", 0), run(state, "B", 100)] == [["clear"], [None]]


def test_undo_and_seed() -> None:
    state = ProbeState(60, clear_after=2)
    assert state.observe("A", 100) == "raise"
    state.undo("A", "raise")  # not delivered: the next round raises again
    assert state.observe("A", 100) == "raise"
    assert run(state, "A", 0, 0) == [None, "clear"]
    state.undo("A", "clear")  # not delivered: one more good round clears again
    assert state.observe("A", 0) == "clear"
    state.seed(["B"])  # active after a restart: its recovery clears
    assert state.observe("B", 0) is None and state.observe("B", 0) == "clear"


def test_from_policy_and_bounds() -> None:
    state = ProbeState.from_policy(load_policy().probes)
    assert (state.raise_at, state.clear_below, state.clear_after) == (60, 60, 1)
    for args in ((60, 70), (0,), (101,)):
        with pytest.raises(ValueError):
            ProbeState(*args)
    with pytest.raises(ValueError):
        ProbeState(60, clear_after=0)


# --------------------------------------------------------------------------- the prober, without network


class FakeSink:
    def __init__(self) -> None:
        self.events: list[AlarmEvent] = []
        self.fail = False
        self.rejected: list[str] = []

    def accept(self, channel: str, events: list[AlarmEvent]) -> list[Outcome]:
        if self.fail:
            raise RuntimeError("storage away")
        assert channel == "probe"
        self.events += events
        return [Outcome(i, i, "raised") for i, _ in enumerate(events)]

    def reject(self, channel: str, remote: str, reason: str, payload: bytes | str) -> None:
        self.rejected.append(reason)


class Scripted:
    """A ping function answering from a table: address → loss % (never touches the network)."""

    def __init__(self, loss: dict[str, float]) -> None:
        self.loss = loss
        self.calls: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, address: str, count: int, interval: float, timeout: float) -> PingResult:
        with self._lock:
            self.calls.append(address)
        received = round(count * (100 - self.loss[address]) / 100)
        return PingResult(count, received, 1.5 if received else 0.0)


def prober(sink: FakeSink, targets: list[Target], ping: Any, **kw: Any) -> PingProber:
    return PingProber(sink, lambda: targets, POLICY, lambda: START, ping=ping, **kw)


def test_round_raises_once_then_clears_with_loss_and_rtt_in_the_text() -> None:
    sink, ping = FakeSink(), Scripted({"10.0.2.1": 100, "10.0.0.1": 0})
    probe = prober(sink, [Target("ACC-GL-1", "10.0.2.1"), Target("CORE-1", "10.0.0.1")], ping)
    [raised] = probe.run_round()
    assert (raised.ne, raised.ne_ip) == ("ACC-GL-1", "10.0.2.1")
    assert (raised.type, raised.severity) == ("PING_LOSS", "major")
    assert (raised.source, raised.event_time) == ("probe", START)
    assert raised.text == "ping 10.0.2.1: 100% loss (0/5 replies), no replies"
    assert probe.run_round() == [] and probe.run_round() == []
    ping.loss["10.0.2.1"] = 20
    [cleared] = probe.run_round()
    assert (cleared.ne, cleared.severity) == ("ACC-GL-1", "cleared")
    assert cleared.text == "ping 10.0.2.1: 20% loss (4/5 replies), rtt avg 1.5 ms"
    assert sink.events == [raised, cleared]
    assert sorted(ping.calls[:2]) == ["10.0.0.1", "10.0.2.1"] and len(ping.calls) == 8
    assert probe.diagnostics()["accepted"] == 2 and probe.diagnostics()["rounds"] == 4


def test_unjudged_targets_keep_their_state() -> None:
    sink = FakeSink()

    def refused(address: str, count: int, interval: float, timeout: float) -> PingResult:
        raise ProbeUnavailable("unprivileged ICMP sockets are not permitted")

    probe = prober(sink, [Target("ACC-GL-1", "10.0.2.1"), Target("GHOST", "ghost.example.net")], refused)
    assert probe.run_round() == []  # no permission is not loss: no false PING_LOSS storm
    assert probe.problems == {
        "ACC-GL-1": "unprivileged ICMP sockets are not permitted",
        "GHOST": "'ghost.example.net' is not an IP address",  # never resolved: literal IPs only
    }
    assert probe.diagnostics()["last_round"]["unjudged"] == 2


def test_a_failed_delivery_is_retried_next_round() -> None:
    sink, ping = FakeSink(), Scripted({"10.0.2.1": 100})
    probe = prober(sink, [Target("ACC-GL-1", "10.0.2.1")], ping)
    sink.fail = True
    with pytest.raises(RuntimeError):
        probe.run_round()
    sink.fail = False
    [raised] = probe.run_round()
    assert raised.severity == "major"


def test_a_target_no_longer_listed_is_cleared() -> None:
    sink, ping = FakeSink(), Scripted({"10.0.2.1": 100})
    targets = [Target("ACC-GL-1", "10.0.2.1")]
    probe = PingProber(sink, lambda: list(targets), POLICY, lambda: START, ping=ping)
    assert [e.severity for e in probe.run_round()] == ["major"]
    targets.clear()
    [cleared] = probe.run_round()
    assert (cleared.ne, cleared.severity, cleared.text) == ("ACC-GL-1", "cleared", "no longer probed")
    assert probe.run_round() == []


def test_concurrency_is_bounded() -> None:
    width = 3
    barrier = threading.Barrier(width, timeout=10)  # breaks unless `width` pings really run together
    active, peak = [0], [0]
    lock = threading.Lock()

    def ping(address: str, count: int, interval: float, timeout: float) -> PingResult:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        barrier.wait()
        with lock:
            active[0] -= 1
        return PingResult(count, count, 0.1)

    targets = [Target(f"NE-{i}", f"10.9.0.{i}") for i in range(1, 10)]
    probe = prober(FakeSink(), targets, ping, concurrency=width)
    assert probe.run_round() == [] and probe.problems == {}
    assert peak[0] == width


def wait_for(what: str, check: Callable[[], Any], seconds: float = 20) -> Any:
    deadline = time.monotonic() + seconds
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
    return result


def test_background_rounds_start_and_stop() -> None:
    sink, ping = FakeSink(), Scripted({"10.0.2.1": 100})
    probe = prober(sink, [Target("ACC-GL-1", "10.0.2.1")], ping)
    probe.start()
    try:
        wait_for("the first round", lambda: probe.rounds >= 1)
    finally:
        probe.stop()  # interrupts the 60 s wait between rounds
    assert probe.thread is None and [e.type for e in sink.events] == ["PING_LOSS"]


# --------------------------------------------------------------------------- icmplib, real and refused


def loopback_v6() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


LOOPBACKS = ["127.0.0.1"] + (["::1"] if loopback_v6() else [])


def real_ping(address: str) -> PingResult:
    """A real echo, to loopback only; skipped (with the reason) where this host forbids ICMP."""
    assert ipaddress.ip_address(address).is_loopback, f"refusing to ping {address}: off this machine"
    try:
        return IcmpPinger()(address, 2, 0.05, 1.0)
    except ProbeUnavailable as exc:
        if os.environ.get("LINEWATCH_REQUIRE_PEERS") == "1":
            pytest.fail(f"ICMP required (LINEWATCH_REQUIRE_PEERS=1): {exc}")
        print(f"\nreal-ping test skipped: {exc}")
        pytest.skip(str(exc))


@pytest.mark.parametrize("address", LOOPBACKS)
def test_real_ping_of_loopback(address: str) -> None:
    result = real_ping(address)
    assert (result.sent, result.received, result.loss_percent) == (2, 2, 0.0)
    assert result.avg_rtt_ms > 0


class FakeHost:
    packets_sent, packets_received, avg_rtt = 3, 3, 0.25


def test_unprivileged_refusal_is_reported_and_auto_mode_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    import icmplib

    asked: list[bool] = []

    def ping(address: str, *, privileged: bool, **kw: Any) -> FakeHost:
        asked.append(privileged)
        if not privileged:
            raise icmplib.SocketPermissionError(False)
        return FakeHost()

    monkeypatch.setattr(icmplib, "ping", ping)
    strict = IcmpPinger(privileged=False)
    with pytest.raises(ProbeUnavailable, match="unprivileged ICMP sockets are not permitted"):
        strict("127.0.0.1", 3, 0.0, 1.0)
    assert "ping_group_range" in strict.problem and strict.mode == "unprivileged ICMP sockets"
    auto = IcmpPinger()
    assert auto("127.0.0.1", 3, 0.0, 1.0) == PingResult(3, 3, 0.25)
    assert auto.mode == "raw sockets (privileged)" and "using raw sockets instead" in auto.problem
    assert auto("127.0.0.1", 3, 0.0, 1.0).received == 3
    assert asked == [False, False, True, True]  # once fallen back, raw sockets straight away

    def refused(address: str, *, privileged: bool, **kw: Any) -> FakeHost:
        raise icmplib.SocketPermissionError(privileged)

    monkeypatch.setattr(icmplib, "ping", refused)
    with pytest.raises(ProbeUnavailable, match="raw sockets are refused too"):
        IcmpPinger()("127.0.0.1", 3, 0.0, 1.0)


# --------------------------------------------------------------------------- through the pipeline and API


class LoopbackOrScripted:
    """Real icmplib for loopback addresses; the scripted table for everything else (never sent)."""

    def __init__(self, loss: dict[str, float]) -> None:
        self.scripted = Scripted(loss)
        self.real = IcmpPinger()
        self.real_calls: list[str] = []

    def __call__(self, address: str, count: int, interval: float, timeout: float) -> PingResult:
        if ipaddress.ip_address(address).is_loopback:
            self.real_calls.append(address)
            return self.real(address, count, interval, timeout)
        return self.scripted(address, count, interval, timeout)


def alarms(client: TestClient) -> list[dict[str, Any]]:
    response = client.get("/api/v1/alarms", params={"state": "all", "type": "PING_LOSS"}, headers=ADMIN)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_ping_loss_raised_and_cleared_through_the_api(small: Context, client: TestClient) -> None:
    for address in LOOPBACKS:
        real_ping(address)  # skips, with the reason, where ICMP is forbidden
    ping = LoopbackOrScripted({"10.0.2.1": 100})
    targets = [Target("CORE-1", "127.0.0.1"), Target("ACC-GL-1", "10.0.2.1")]
    if "::1" in LOOPBACKS:
        targets.append(Target("AGG-GL-1", "::1"))
    policy, now = small.policy.probes, small.clock.now
    probe = PingProber(small.sink, lambda: targets, policy, now, ping=ping, ping_interval=0.05)

    assert [(e.ne, e.severity) for e in probe.run_round()] == [("ACC-GL-1", "major")]
    assert sorted(ping.real_calls) == sorted(LOOPBACKS) and probe.problems == {}
    [alarm] = alarms(client)
    assert (alarm["ne"], alarm["type"], alarm["severity"]) == ("ACC-GL-1", "PING_LOSS", "major")
    assert alarm["state"] == "active" and alarm["source"] == "probe"
    assert alarm["text"].startswith("ping 10.0.2.1: 100% loss")
    assert "FZ-C001-DATA-1" in alarm["circuits"]  # the NE as a whole: every circuit through it

    assert probe.run_round() == []  # still lossy: nothing sent, the alarm is not repeated
    [alarm] = alarms(client)
    assert alarm["count"] == 1 and alarm["state"] == "active"

    ping.scripted.loss["10.0.2.1"] = 0
    assert [(e.ne, e.severity) for e in probe.run_round()] == [("ACC-GL-1", "cleared")]
    [alarm] = alarms(client)
    assert alarm["state"] == "cleared" and alarm["ne"] == "ACC-GL-1"
    assert len(ping.real_calls) == 3 * len(LOOPBACKS)


def test_a_restarted_prober_clears_what_an_earlier_one_raised(small: Context, client: TestClient) -> None:
    ping = Scripted({"10.0.2.1": 100})
    targets = [Target("ACC-GL-1", "10.0.2.1")]
    first = PingProber(small.sink, lambda: targets, small.policy.probes, small.clock.now, ping=ping)
    first.run_round()
    assert active_ping_loss(small.db) == {"ACC-GL-1"}
    ping.loss["10.0.2.1"] = 0
    second = PingProber(small.sink, lambda: targets, small.policy.probes, small.clock.now, ping=ping)
    second.state.seed(active_ping_loss(small.db))
    assert [e.severity for e in second.run_round()] == ["cleared"]
    assert [a["state"] for a in alarms(client)] == ["cleared"] and active_ping_loss(small.db) == set()


def test_inventory_targets(small: Context) -> None:
    every = inventory_targets(small.db)
    assert len(every) == 9 and Target("ACC-GL-1", "10.0.2.1") in every
    assert "ONU-C002" not in {t.ne for t in every}  # no management IP
    assert inventory_targets(small.db, ["router"]) == [Target("CPE-C001", "192.168.100.1")]
    assert [t.ne for t in inventory_targets(small.db, ["PTN", "OLT"])][:2] == ["ACC-GL-1", "AGG-GL-1"]
