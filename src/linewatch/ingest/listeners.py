"""Which listeners a server runs, from its settings (a port of 0, or no probe types, turns one off)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from linewatch.core.policy import Policy
from linewatch.db.engine import Database
from linewatch.ingest.base import Sink
from linewatch.settings import Settings


class Listener(Protocol):
    name: str

    @property
    def running(self) -> bool: ...  # readiness: serving

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def diagnostics(self) -> dict[str, object]: ...


def build_listeners(
    sink: Sink, settings: Settings, policy: Policy, now: Callable[[], datetime], db: Database
) -> list[Listener]:
    listeners: list[Listener] = []
    aliases = policy.alarms.type_aliases
    if settings.syslog_port:
        from linewatch.ingest.syslog import SyslogListener

        listeners.append(
            SyslogListener(
                sink,
                host=settings.host,
                port=settings.syslog_port,
                rules_file=settings.syslog_rules,
                now=now,
                tz=policy.timezone,
            )
        )
    if settings.snmp_port:
        from linewatch.ingest.snmp import SnmpTrapListener

        listeners.append(
            SnmpTrapListener(
                sink,
                host=settings.host,
                port=settings.snmp_port,
                community=settings.snmp_community,
                mapping_file=settings.snmp_mapping,
                now=now,
                type_aliases=aliases,
            )
        )
    types = [t.strip().upper() for t in settings.probe_types.split(",") if t.strip()]
    if types:
        from linewatch.ingest.probes import PingProber, active_ping_loss, inventory_targets

        prober = PingProber(sink, lambda: inventory_targets(db, types), policy.probes, now)
        prober.state.seed(active_ping_loss(db))
        listeners.append(prober)
    return listeners
