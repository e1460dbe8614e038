"""A start that fails (a listener's port is taken) leaves no worker running behind it.

Before, the pipeline, downstream, notify and ticker threads of the failed context kept running
against the database — on PostgreSQL they deadlocked later tests' cleanup."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from linewatch.context import build_context
from linewatch.settings import Settings


def test_a_failed_start_stops_the_workers_it_started(tmp_path: Path) -> None:
    taken = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    taken.bind(("127.0.0.1", 0))
    port = taken.getsockname()[1]
    try:
        ctx = build_context(
            Settings(db=f"sqlite:///{tmp_path / 'x.db'}", host="127.0.0.1", snmp_port=port, syslog_port=0)
        )
        with pytest.raises(OSError):
            ctx.start()
        assert ctx.pipeline.thread is None and ctx.downstream.thread is None
        assert ctx.notifier.thread is None and ctx.ticker is None
    finally:
        taken.close()
