"""Migration 0012 rebuilds SQLite tables (rowid ids, a link table without rowid): the rows, their
64-bit ids and the indexes survive, both ways. PostgreSQL only loses an index there (every
PostgreSQL test database is migrated through it)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from sqlalchemy import text

from linewatch.db.engine import Database
from linewatch.db.migrate import alembic_config, upgrade

BIG = 2**40  # ids beyond 32 bits must come through unchanged
WHEN = datetime(2026, 11, 1, tzinfo=UTC).replace(tzinfo=None).isoformat(" ")


def _fill(db: Database) -> None:
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO alarm (id, dedup_key, source, ne_name, ne_ip, object, type, probable_cause, "
                "severity, state, count, first_time, last_time, clear_reason, cleared_by, text, source_id, "
                "flapping, planned, drill, matched, circuit_count, received_at) VALUES "
                "(:id, 'k', 's', 'NE-1', '', 'p1', 'LOS', '', 'critical', 'active', 3, :t, :t, '', '', "
                "'告警', '', 0, 0, 0, 1, 2, :t)"
            ),
            {"id": BIG, "t": WHEN},
        )
        conn.execute(
            text(
                "INSERT INTO alarm_event (id, received_at, channel, source, ne, ne_ip, object, type, "
                "severity, event_time, text, source_id, alarm_id, outcome) VALUES "
                "(:id, :t, 'http', 's', 'NE-1', '', 'p1', 'LOS', 'critical', :t, '', '', :a, 'raised')"
            ),
            {"id": BIG + 1, "t": WHEN, "a": BIG},
        )
        conn.execute(
            text(
                "INSERT INTO alarm_circuit (alarm_id, circuit_id, customer_id, route) VALUES "
                "(:a, 7, 3, 'primary'), (:a, 8, 3, 'backup')"
            ),
            {"a": BIG},
        )
        conn.execute(
            text(
                "INSERT INTO incident (id, state, level, level_reason, opened_at, root_alarm_id, "
                "key_customers_down, diagnosis_due, diagnosis_note, planned, drill, updated_at) VALUES "
                "(:id, 'open', 'general', '', :t, :a, 0, :t, '', 0, 0, :t)"
            ),
            {"id": BIG + 2, "t": WHEN, "a": BIG},
        )
        conn.execute(
            text(
                "INSERT INTO incident_impact (id, incident_id, circuit_id, customer_id, impact, since) "
                "VALUES (:id, :i, 7, 3, 'down', :t)"
            ),
            {"id": BIG + 3, "i": BIG + 2, "t": WHEN},
        )


def _contents(db: Database) -> dict[str, object]:
    with db.engine.connect() as conn:
        return {
            "alarm": conn.execute(text("SELECT id, count, text FROM alarm")).all(),
            "event": conn.execute(text("SELECT id, alarm_id FROM alarm_event")).all(),
            "links": conn.execute(text("SELECT * FROM alarm_circuit ORDER BY circuit_id")).all(),
            "incident": conn.execute(text("SELECT id, root_alarm_id FROM incident")).all(),
            "impact": conn.execute(text("SELECT id, incident_id FROM incident_impact")).all(),
        }


def _schema(db: Database) -> dict[str, str]:
    with db.engine.connect() as conn:
        rows = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL")).all()
    return {name: sql for name, sql in rows}


def test_0012_keeps_rows_ids_and_indexes_and_drops_a_btree_per_row(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(db, "0011")
    _fill(db)
    before = _contents(db)
    indexes_before = {n for n, sql in _schema(db).items() if sql.startswith("CREATE INDEX")}
    with db.engine.connect() as conn:  # BIGINT keys: a unique index beside the rowid
        assert conn.scalar(
            text("SELECT count(*) FROM sqlite_master WHERE name LIKE 'sqlite_autoindex_alarm%'")
        )

    upgrade(db)
    assert _contents(db) == before
    schema = _schema(db)
    assert indexes_before - set(schema) == {"ix_alarm_circuit_circuit"}
    assert "WITHOUT ROWID" in schema["alarm_circuit"]
    for table in ("alarm", "alarm_event", "incident", "incident_impact"):
        assert "id INTEGER NOT NULL" in schema[table]
    with db.engine.connect() as conn:
        autoindexes = text(
            "SELECT count(*) FROM sqlite_master WHERE name LIKE 'sqlite_autoindex%' AND tbl_name IN "
            "('alarm', 'alarm_event', 'incident', 'incident_impact', 'alarm_circuit')"
        )
        assert not conn.scalar(autoindexes)
        # the rowid is the id now
        assert conn.scalar(text("SELECT rowid FROM alarm")) == BIG

    config = alembic_config(db.url)
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0011")
    assert _contents(db) == before
    assert {n for n, sql in _schema(db).items() if sql.startswith("CREATE INDEX")} == indexes_before
    db.dispose()
