"""A fresh database per test (SQLite file, or a PostgreSQL database of its own on the shared
server), migrated and holding the small network, for a real ``linewatch serve`` process."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.crash.harness import GatedPeer, pg_database, prepare
from tests.notify.peers import HttpReceiver

_count = iter(range(1_000_000))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'linewatch.db'}"
        prepare(url)
        yield url
        return
    if request.getfixturevalue("pg_migrated") is None:  # the shared fixture says whether PG is there
        pytest.skip("PostgreSQL unreachable")
    yield from _pg(f"linewatch_crash_{os.getpid()}_{next(_count)}")


@pytest.fixture
def pg_fresh_url(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.getfixturevalue("pg_migrated") is None:
        pytest.skip("PostgreSQL unreachable")
    yield from _pg(f"linewatch_crash_{os.getpid()}_{next(_count)}")


def _pg(name: str) -> Iterator[str]:
    for url in pg_database(name):
        prepare(url)
        yield url


@pytest.fixture
def peer() -> Iterator[HttpReceiver]:
    receiver = HttpReceiver()
    yield receiver
    receiver.close()


def unlimited_policy(tmp_path: Path) -> str:
    """The group robot's 20 a minute would hold the storm's messages for the next (manual) minute:
    the limiter is not under test here."""
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump({"notify": {"rate_per_minute": {"webhook": 100_000}}}))
    return str(path)


def notify_config(tmp_path: Path, receiver: HttpReceiver | GatedPeer) -> str:
    """The NOC group robot as the only channel: every notification reaches the peer."""
    path = tmp_path / "notify.yaml"
    path.write_text(yaml.safe_dump({"channels": [{"kind": "webhook", "name": "noc", "url": receiver.url}]}))
    return str(path)
