"""Shared fixtures: a migrated database per test on SQLite and PostgreSQL, a manual clock, an app.

PostgreSQL runs wherever it is reachable (``LINEWATCH_TEST_PG``, default the local server); where
it is not, its tests are skipped with the reason printed — unless ``LINEWATCH_REQUIRE_PG=1``
(set by ``.ci/run``), which turns that into a failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from hypothesis import settings as hypothesis_settings
from sqlalchemy import create_engine, text

from linewatch.app import create_app
from linewatch.context import Context, build_context
from linewatch.core.actor import SYSTEM
from linewatch.db.engine import Database, normalise_url
from linewatch.db.migrate import upgrade
from linewatch.inventory.service import import_inventory
from linewatch.inventory.sources import read_path
from linewatch.schema import metadata
from linewatch.settings import Settings

FIXTURES = Path(__file__).parent / "fixtures"
SMALL = FIXTURES / "inventory" / "small"
ADMIN_TOKEN = "test-admin-token-0123456789"
TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)  # a Monday morning
PG_ADMIN_URL = os.environ.get("LINEWATCH_TEST_PG", "postgresql://127.0.0.1:5432/test")
PG_TEST_DB = f"linewatch_test_{os.getpid()}"  # one per test run: parallel runs never collide

# CI replays the same generated examples every run (a red build is reproducible, never luck);
# local runs keep exploring new ones. Crashers found either way go to tests/ingest/fuzz_seeds.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")


def _pg_url() -> str | None:
    """Create a database of our own beside the given one; None when PostgreSQL is absent."""
    try:
        admin = create_engine(normalise_url(PG_ADMIN_URL), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": PG_TEST_DB})
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{PG_TEST_DB}"'))
        admin.dispose()
    except Exception as exc:
        if os.environ.get("LINEWATCH_REQUIRE_PG") == "1":
            pytest.fail(
                f"PostgreSQL required (LINEWATCH_REQUIRE_PG=1) but unreachable at {PG_ADMIN_URL}: {exc}"
            )
        print(f"\nPostgreSQL tests skipped: cannot reach {PG_ADMIN_URL}: {exc}")
        return None
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + PG_TEST_DB


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    db = Database(f"sqlite:///{path}")
    upgrade(db)
    db.dispose()
    return path


@pytest.fixture(scope="session")
def pg_migrated() -> Iterator[str | None]:
    url = _pg_url()
    if url is None:
        yield None
        return
    db = Database(url)
    upgrade(db)
    db.dispose()
    yield url
    admin = create_engine(normalise_url(PG_ADMIN_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_TEST_DB}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "linewatch.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("pg_migrated")
    if url is None:
        pytest.skip("PostgreSQL not reachable (see the printed reason)")
    db = Database(url)
    with db.engine.begin() as conn:
        # only what the last test wrote: truncating every table cost ≈ 0.3 s a test
        filled = conn.scalars(
            text(
                " UNION ALL ".join(
                    f"SELECT '{t.name}' WHERE EXISTS (SELECT 1 FROM \"{t.name}\")"
                    for t in metadata.sorted_tables
                )
            )
        ).all()
        if filled:
            conn.execute(text("TRUNCATE " + ", ".join(f'"{name}"' for name in filled) + " CASCADE"))
        for sequence in conn.scalars(
            text("SELECT quote_ident(sequencename) FROM pg_sequences WHERE last_value IS NOT NULL")
        ):
            conn.execute(text(f"ALTER SEQUENCE {sequence} RESTART"))
    db.dispose()
    return url


@pytest.fixture
def ctx(db_url: str) -> Iterator[Context]:
    settings = Settings(db=db_url, clock="manual", admin_token=ADMIN_TOKEN, snmp_port=0, syslog_port=0)
    context = build_context(settings, migrate=False)
    context.clock.set(START)  # type: ignore[attr-defined]
    yield context
    context.db.dispose()


@pytest.fixture
def small(ctx: Context) -> Context:
    """The hand-made network of tests/fixtures/inventory/small, imported."""
    with ctx.db.unit_of_work() as session:
        report = import_inventory(session, ctx.clock, read_path(SMALL), SYSTEM, dry_run=False)
    assert report.ok, report.errors
    ctx.rebuild_index()
    return ctx


@pytest.fixture
def client(ctx: Context) -> Iterator[TestClient]:
    with TestClient(create_app(ctx)) as test_client:
        yield test_client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


ADMIN = bearer(ADMIN_TOKEN)
