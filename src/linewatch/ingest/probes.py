"""Active ping probes: NE/CPE management IPs pinged every round, raising and clearing ``PING_LOSS``.

Three parts, so each can be tested alone: :class:`ProbeState` decides (pure: loss in, transition
out), :class:`IcmpPinger` measures (icmplib, unprivileged ICMP sockets first), and
:class:`PingProber` runs rounds — targets from a callable, bounded concurrency, transitions only
delivered to the sink — in a background thread or one round at a time (``run_round``).
"""

from __future__ import annotations

import ipaddress
import logging
import os
import threading
import time
from collections.abc import Callable, Collection, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from sqlalchemy import select

from linewatch.alarms.choices import AlarmState, Severity
from linewatch.alarms.models import AlarmRecord
from linewatch.alarms.normalise import AlarmEvent
from linewatch.core.policy import ProbePolicy
from linewatch.db.engine import Database
from linewatch.ingest.base import Adapter, Sink
from linewatch.inventory.models import NetworkElement

log = logging.getLogger("linewatch.ingest.probes")

SOURCE = "probe"
ALARM_TYPE = "PING_LOSS"
SEVERITY = Severity.MAJOR.value
# Operational knobs, not DOMAIN numbers: taken from the policy's ``probes`` when it has them.
CONCURRENCY = 32  # pings in flight at once
TIMEOUT_SECONDS = 1.0  # wait for each echo reply
PING_INTERVAL_SECONDS = 0.2  # between the echo requests of one target

Transition = Literal["raise", "clear"]


@dataclass(frozen=True, slots=True)
class Target:
    """What to probe: the NE the alarm is raised on, and the address pinged."""

    ne: str
    address: str


@dataclass(frozen=True, slots=True)
class PingResult:
    sent: int
    received: int
    avg_rtt_ms: float = 0.0

    @property
    def loss_percent(self) -> float:
        return 100.0 if self.sent == 0 else 100.0 * (self.sent - self.received) / self.sent


class Pinger(Protocol):
    def __call__(self, address: str, count: int, interval: float, timeout: float) -> PingResult: ...


class ProbeUnavailable(Exception):
    """This host may not send ICMP echo requests: no target is judged (never a false PING_LOSS)."""


# ---------------------------------------------------------------------------- deciding (pure)


class ProbeState:
    """Per-target alarm state: raise at ``raise_at`` % loss or more; clear once loss is below
    ``clear_below`` % for ``clear_after`` rounds in a row. Only transitions come out; steady
    states, good or bad, say nothing. ``clear_below`` < ``raise_at`` gives hysteresis."""

    def __init__(self, raise_at: float, clear_below: float | None = None, clear_after: int = 1) -> None:
        clear_below = raise_at if clear_below is None else clear_below
        if not 0 < clear_below <= raise_at <= 100:
            raise ValueError("need 0 < clear_below <= raise_at <= 100")
        if clear_after < 1:
            raise ValueError("clear_after must be at least 1")
        self.raise_at, self.clear_below, self.clear_after = raise_at, clear_below, clear_after
        self.raised: set[str] = set()
        self.good_rounds: dict[str, int] = {}

    @classmethod
    def from_policy(cls, policy: ProbePolicy) -> ProbeState:
        threshold = policy.loss_threshold_percent
        # optional keys: honoured when the policy model grows them
        return cls(
            threshold,
            getattr(policy, "clear_threshold_percent", None),
            getattr(policy, "clear_rounds", None) or 1,
        )

    def observe(self, target: str, loss_percent: float) -> Transition | None:
        if target not in self.raised:
            if loss_percent >= self.raise_at:
                self.raised.add(target)
                return "raise"
            return None
        if loss_percent >= self.clear_below:
            self.good_rounds.pop(target, None)
            return None
        good = self.good_rounds.get(target, 0) + 1
        if good < self.clear_after:
            self.good_rounds[target] = good
            return None
        self.forget(target)
        return "clear"

    def forget(self, target: str) -> None:
        self.raised.discard(target)
        self.good_rounds.pop(target, None)

    def undo(self, target: str, transition: Transition) -> None:
        """The transition could not be delivered: return to the state before it, to retry next round."""
        if transition == "raise":
            self.forget(target)
        else:
            self.raised.add(target)
            self.good_rounds[target] = self.clear_after - 1

    def seed(self, raised: Iterable[str]) -> None:
        """Targets already alarmed (active PING_LOSS after a restart), so their recovery clears."""
        self.raised.update(raised)


# ---------------------------------------------------------------------------- measuring


def ping_group_range() -> tuple[int, int] | None:
    try:
        low, high = Path("/proc/sys/net/ipv4/ping_group_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return None


def unprivileged_refusal() -> str:
    """Why this process may not open unprivileged ICMP sockets (Linux: ping_group_range)."""
    groups = sorted({os.getgid(), *os.getgroups()})
    span = ping_group_range()
    where = f"net.ipv4.ping_group_range is {span[0]} {span[1]}" if span else "the OS refused"
    return (
        f"unprivileged ICMP sockets are not permitted: {where}, the process's groups are {groups}; "
        "allow them with e.g. sysctl -w net.ipv4.ping_group_range='0 2147483647'"
    )


class IcmpPinger:
    """icmplib echo requests. ``privileged``: False = unprivileged ICMP sockets only; True = raw
    sockets; None (auto) = unprivileged, falling back to raw sockets when refused but this process
    may open them (root / CAP_NET_RAW). ``mode`` and ``problem`` report what was found."""

    def __init__(self, privileged: bool | None = None) -> None:
        self.auto = privileged is None
        self.privileged = bool(privileged)
        self.problem = ""

    @property
    def mode(self) -> str:
        return "raw sockets (privileged)" if self.privileged else "unprivileged ICMP sockets"

    def __call__(self, address: str, count: int, interval: float, timeout: float) -> PingResult:
        from icmplib import SocketPermissionError, ping

        def once(privileged: bool) -> PingResult:
            host = ping(address, count=count, interval=interval, timeout=timeout, privileged=privileged)
            return PingResult(host.packets_sent, host.packets_received, host.avg_rtt)

        try:
            return once(self.privileged)
        except SocketPermissionError:
            if self.privileged:
                self.problem = "raw ICMP sockets are refused: they need root or CAP_NET_RAW"
                raise ProbeUnavailable(self.problem) from None
            refusal = unprivileged_refusal()
            if not self.auto:
                self.problem = refusal
                raise ProbeUnavailable(refusal) from None
        try:
            result = once(True)
        except SocketPermissionError:
            self.problem = f"{refusal}; raw sockets are refused too (no root or CAP_NET_RAW)"
            raise ProbeUnavailable(self.problem) from None
        if not self.privileged:  # threads may race here: at worst the warning shows twice
            log.warning("probes: %s; using raw sockets instead", refusal)
        self.privileged, self.problem = True, f"{refusal}; using raw sockets instead"
        return result


# ---------------------------------------------------------------------------- probing


class PingProber(Adapter):
    """Rounds of pings over the targets; ``PING_LOSS`` raised and cleared on transitions only."""

    name = SOURCE

    def __init__(
        self,
        sink: Sink,
        targets: Callable[[], Iterable[Target]],
        policy: ProbePolicy,
        now: Callable[[], datetime],
        *,
        ping: Pinger | None = None,
        state: ProbeState | None = None,
        concurrency: int | None = None,
        timeout: float | None = None,
        ping_interval: float | None = None,
    ) -> None:
        super().__init__(sink)
        self.targets, self.policy, self.now = targets, policy, now
        self.ping: Pinger = ping or IcmpPinger()
        self.state = state or ProbeState.from_policy(policy)
        self.concurrency = concurrency or getattr(policy, "concurrency", None) or CONCURRENCY
        self.timeout = timeout or getattr(policy, "timeout_seconds", None) or TIMEOUT_SECONDS
        self.ping_interval = ping_interval if ping_interval is not None else PING_INTERVAL_SECONDS
        self.rounds = 0
        self.last_round: dict[str, Any] = {}
        self.problems: dict[str, str] = {}  # target → why it could not be judged last round
        self._round_lock = threading.Lock()  # a direct run_round never overlaps the thread's
        self._stop = threading.Event()
        self.thread: threading.Thread | None = None

    # -- lifecycle
    def start(self) -> None:
        if self.thread is not None:
            return
        self._stop.clear()
        self.thread = threading.Thread(target=self._run, name="ping-prober", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self.thread is not None:
            self.thread.join(timeout=self.policy.count * (self.timeout + self.ping_interval) + 30)
            self.thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            began = time.monotonic()
            try:
                self.run_round()
            except Exception:  # storage away, a bad target list: log, keep probing
                log.exception("probes: round failed")
            self._stop.wait(max(0.0, self.policy.interval_seconds - (time.monotonic() - began)))

    # -- one round
    def run_round(self) -> list[AlarmEvent]:
        """Ping every target once (count echoes each), deliver the transitions; returns them."""
        with self._round_lock:
            return self._round()

    def _round(self) -> list[AlarmEvent]:
        targets = list({t.ne: t for t in self.targets()}.values())  # one probe per NE
        events: list[AlarmEvent] = []
        undo: list[tuple[str, Transition]] = []
        listed = {t.ne for t in targets}
        for ne in sorted(self.state.raised - listed):  # no longer probed: do not leave it raised forever
            self.state.forget(ne)
            undo.append((ne, "clear"))
            events.append(self._event(Target(ne, ""), "clear", "no longer probed"))
        results = self._ping_all(targets)
        problems: dict[str, str] = {}
        for target, outcome in zip(targets, results, strict=True):
            if isinstance(outcome, str):
                problems[target.ne] = outcome
                continue
            self.counters.received += 1
            transition = self.state.observe(target.ne, outcome.loss_percent)
            if transition:
                undo.append((target.ne, transition))
                events.append(self._event(target, transition, describe(target, outcome)))
        try:
            self.deliver(events)
        except Exception:
            for ne, transition in undo:
                self.state.undo(ne, transition)
            raise
        finally:
            self.rounds += 1
            self.problems = problems
            self.last_round = {
                "at": self.now().isoformat(),
                "targets": len(targets),
                "unjudged": len(problems),
                "transitions": len(events),
            }
        if problems:
            log.warning("probes: %d of %d targets not judged, e.g. %s", len(problems), len(targets), problems)
        return events

    def _ping_all(self, targets: list[Target]) -> list[PingResult | str]:
        if not targets:
            return []
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(targets))) as pool:
            return list(pool.map(self._ping_one, targets))

    def _ping_one(self, target: Target) -> PingResult | str:
        """A measurement, or why there is none (never a guess: an unjudged target keeps its state)."""
        try:
            address = str(ipaddress.ip_address(target.address))  # literal IPs only: no DNS lookups
        except ValueError:
            return f"{target.address!r} is not an IP address"
        try:
            return self.ping(address, self.policy.count, self.ping_interval, self.timeout)
        except ProbeUnavailable as exc:
            return str(exc)
        except Exception as exc:
            return f"ping failed: {type(exc).__name__}: {exc}"

    def _event(self, target: Target, transition: Transition, text: str) -> AlarmEvent:
        return AlarmEvent(
            source=SOURCE,
            type=ALARM_TYPE,
            severity=SEVERITY if transition == "raise" else Severity.CLEARED.value,
            event_time=self.now(),
            ne=target.ne,
            ne_ip=target.address,
            text=text,
        )

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def diagnostics(self) -> dict[str, Any]:
        ping = self.ping
        return {
            **super().diagnostics(),
            "rounds": self.rounds,
            "last_round": self.last_round,
            "raised": len(self.state.raised),
            "mode": getattr(ping, "mode", "injected"),
            "problem": getattr(ping, "problem", ""),
            "unjudged": dict(list(self.problems.items())[:20]),
        }


def describe(target: Target, result: PingResult) -> str:
    rtt = f"rtt avg {result.avg_rtt_ms:.1f} ms" if result.received else "no replies"
    return (
        f"ping {target.address}: {result.loss_percent:.0f}% loss "
        f"({result.received}/{result.sent} replies), {rtt}"
    )


# ---------------------------------------------------------------------------- feeding from the inventory


def inventory_targets(db: Database, types: Collection[str] | None = None) -> list[Target]:
    """NEs with a management IP (of the given types, all when None), as probe targets."""
    query = select(NetworkElement.name, NetworkElement.mgmt_ip).where(
        NetworkElement.mgmt_ip.is_not(None), NetworkElement.mgmt_ip != ""
    )
    if types is not None:
        query = query.where(NetworkElement.type.in_([t.upper() for t in types]))
    with db.reading() as session:
        return [Target(name, ip) for name, ip in session.execute(query.order_by(NetworkElement.name))]


def active_ping_loss(db: Database) -> set[str]:
    """NE names with an active probe PING_LOSS alarm: seed :class:`ProbeState` with them on start."""
    query = select(AlarmRecord.ne_name).where(
        AlarmRecord.state == AlarmState.ACTIVE.value,
        AlarmRecord.type == ALARM_TYPE,
        AlarmRecord.source == SOURCE,
        AlarmRecord.drill.is_(False),
    )
    with db.reading() as session:
        return set(session.scalars(query))
