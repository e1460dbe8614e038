"""Backup and restore: SQLite's online backup API, PostgreSQL's pg_dump / pg_restore.

Both run while the server is serving: SQLite's backup copies a consistent snapshot page by page
(writers wait only for the moments a step holds the read), pg_dump reads one repeatable-read
snapshot. A restore goes into a *new, empty* database (never over a live one); the server then
starts on it and brings the schema up to date as at any start.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from linewatch.db.engine import normalise_url


class BackupError(Exception):
    """A backup or restore that could not be done, with what to do about it."""


def backup(db_url: str, target: Path) -> str:
    """Write a backup of the database at ``db_url`` to ``target``; returns what was done."""
    url = make_url(normalise_url(db_url))
    if url.get_backend_name() == "sqlite":
        source = _sqlite_path(url)
        if not source.exists():
            raise BackupError(f"no SQLite database at {source}")
        _sqlite_copy(source, target)
        return f"SQLite online backup of {source} → {target}"
    _run(["pg_dump", "--format=custom", "--no-owner", f"--file={target}", _libpq(url)], url)
    return f"pg_dump (custom format) of {url.database} → {target}"


def restore(source: Path, db_url: str) -> str:
    """Restore a backup made by :func:`backup` into the empty database at ``db_url``."""
    if not source.exists():
        raise BackupError(f"no backup file at {source}")
    url = make_url(normalise_url(db_url))
    if url.get_backend_name() == "sqlite":
        target = _sqlite_path(url)
        if target.exists() and target.stat().st_size > 0:
            raise BackupError(f"{target} exists: restore into a new file (never over a live database)")
        target.parent.mkdir(parents=True, exist_ok=True)
        _sqlite_copy(source, target)
        return f"restored {source} → SQLite {target}"
    tables = _run(
        ["psql", "-Atqc", "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", _libpq(url)], url
    )
    if tables.strip() != "0":
        raise BackupError(
            f"database {url.database} is not empty: create a new one (createdb) and restore there"
        )
    _run(
        [
            "pg_restore",
            "--no-owner",
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={_libpq(url)}",
            str(source),
        ],
        url,
    )
    return f"restored {source} → PostgreSQL {url.database}"


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(url.database)


def _sqlite_copy(source: Path, target: Path) -> None:
    """The online backup API: a consistent copy even while the server writes (WAL included)."""
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(partial)
    try:
        src.backup(dst, pages=4096)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    finally:
        dst.close()
        src.close()
    partial.replace(target)  # a crash mid-backup never leaves a half file under the real name


def _libpq(url: URL) -> str:
    """The URL for libpq tools, without the driver and without the password (that goes in the
    environment, never on a command line that ``ps`` shows)."""
    return url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)


def _run(command: list[str], url: URL) -> str:
    tool = shutil.which(command[0])
    if tool is None:
        raise BackupError(f"{command[0]} not found: install the PostgreSQL client tools")
    env = {**os.environ, **({"PGPASSWORD": str(url.password)} if url.password else {})}
    done = subprocess.run([tool, *command[1:]], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed: {done.stderr.strip()[:2000]}")
    return done.stdout
