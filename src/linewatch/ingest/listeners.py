"""Which listeners a server runs, from its settings (a port of 0 turns one off)."""

from __future__ import annotations

from typing import Protocol

from linewatch.ingest.base import Sink


class Listener(Protocol):
    name: str

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def diagnostics(self) -> dict[str, object]: ...


def build_listeners(
    sink: Sink,
    *,
    host: str,
    snmp_port: int,
    syslog_port: int,
    snmp_community: str,
    snmp_mapping: str | None,
    syslog_rules: str | None,
) -> list[Listener]:
    listeners: list[Listener] = []
    if syslog_port:
        from linewatch.ingest.syslog import SyslogListener

        listeners.append(SyslogListener(sink, host=host, port=syslog_port, rules_file=syslog_rules))
    if snmp_port:
        from linewatch.ingest.snmp import SnmpTrapListener

        listeners.append(
            SnmpTrapListener(
                sink, host=host, port=snmp_port, community=snmp_community, mapping_file=snmp_mapping
            )
        )
    return listeners
