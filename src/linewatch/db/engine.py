"""Engines and the unit of work. Only the unit of work commits; services never do."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_URL = "sqlite:///var/linewatch.db"
SLOW_WRITE_SECONDS = 1.0  # write transactions longer than this are logged (others queue behind them)
log = logging.getLogger("linewatch.db")


def is_busy(exc: OperationalError) -> bool:
    """Another writer held SQLite's lock past the busy timeout (worth a retry)."""
    text = str(exc.orig).lower()
    return "locked" in text or "busy" in text


def normalise_url(url: str) -> str:
    """``postgresql://`` selects psycopg 3; a relative SQLite path is made absolute-safe (parent created)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif parsed.drivername == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    elif not parsed.drivername.startswith(("sqlite", "postgresql")):
        raise ValueError(f"unsupported database URL {url!r}: use sqlite:/// or postgresql://")
    return parsed.render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any, busy_timeout_ms: int = 10_000) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL survives a process crash
    cursor.execute("PRAGMA foreign_keys=ON")
    # how long a writer waits for the write lock before its transaction fails (503 at the edge)
    cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
    # Checkpoints (which fsync) run from a background thread (Database.start_checkpointer), not
    # inside the pipeline's commits; this is only the safety net if that thread is not running.
    cursor.execute("PRAGMA wal_autocheckpoint=20000")
    cursor.execute("PRAGMA cache_size=-32768")  # 32 MiB per connection: index pages stay hot in a storm
    cursor.execute("PRAGMA mmap_size=268435456")
    cursor.close()


def _driver_autocommit(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (below)


def _begin_immediate(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, *, writer: bool = False, busy_timeout_seconds: float = 10.0) -> Engine:
    """``writer`` (SQLite): transactions take the write lock at BEGIN, so concurrent writers queue on
    the busy timeout instead of failing with "database is locked" when a read upgrades to a write.
    ``busy_timeout_seconds`` bounds that wait (SQLite) and a connection attempt (PostgreSQL)."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False})
        busy_ms = int(busy_timeout_seconds * 1000)
        event.listen(engine, "connect", lambda conn, record: _sqlite_pragmas(conn, record, busy_ms))
        if writer:
            event.listen(engine, "connect", _driver_autocommit)
            event.listen(engine, "begin", _begin_immediate)
        return engine
    # pre-ping: after an outage, dead pooled connections are replaced, not handed out
    connect_args = {"connect_timeout": max(1, int(busy_timeout_seconds))}
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True, connect_args=connect_args)


try:
    import fcntl
except ImportError:  # not on Windows: there the turn is per process only
    fcntl = None  # type: ignore[assignment]


class WriteTurn:
    """SQLite writers take turns here: this process's threads on a lock, and processes on the same
    database file (``serve`` and its worker process, a CLI import) on a file lock beside it.

    SQLite's busy handler polls with sleeps of up to 100 ms, so a writer that commits many short
    transactions (the pipeline) could starve behind another process's writers past the busy
    timeout. The file lock is tried without blocking every millisecond or two; after the busy
    timeout the writer goes on without it and SQLite's own busy timeout decides, so a stuck
    process never blocks the others for good.

    Ingest first: a writer entering with ``urgent`` (the pipeline's committer) holds a shared lock
    on a second file while it waits; other writers do not start while anyone holds it."""

    def __init__(self, database_path: str | None, timeout_seconds: float) -> None:
        self.lock = threading.RLock()
        self.depth = 0  # changed only by the thread that holds ``lock``
        self.timeout = timeout_seconds
        self.fd: int | None = None
        self.urgent_fd: int | None = None
        if database_path and fcntl is not None:
            self.fd = os.open(database_path + "-writeturn", os.O_RDWR | os.O_CREAT, 0o600)
            self.urgent_fd = os.open(database_path + "-writeturn-urgent", os.O_RDWR | os.O_CREAT, 0o600)
            # tests make many databases: the files close with the object
            self._closer = weakref.finalize(self, _close_all, (self.fd, self.urgent_fd))
        self.waited_seconds = 0.0  # on other processes (diagnostics)

    def acquire(self, urgent: bool = False) -> None:
        """``urgent``: ahead of the other processes' writers (the pipeline's commits)."""
        self.lock.acquire()
        self.depth += 1
        if self.depth == 1 and self.fd is not None:
            try:
                self._take_file_lock(urgent)
            except BaseException:
                self.depth -= 1
                self.lock.release()
                raise

    def release(self) -> None:
        self.depth -= 1
        if self.depth == 0 and self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        self.lock.release()

    def __enter__(self) -> WriteTurn:
        self.acquire()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()

    def _take_file_lock(self, urgent: bool) -> None:
        assert self.fd is not None and self.urgent_fd is not None
        started = time.monotonic()
        if urgent:
            fcntl.flock(self.urgent_fd, fcntl.LOCK_SH)  # others wait until we are in
        pause = 0.0005
        try:
            while True:
                if urgent or self._nobody_urgent():
                    try:
                        fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except BlockingIOError:
                        pass
                waited = time.monotonic() - started
                if waited > self.timeout:
                    log.warning("write turn: another process held the database for %.1f s", waited)
                    break  # SQLite's busy timeout decides from here
                time.sleep(pause)  # polling a lock another process holds, not timing anything
                pause = min(pause * 2, 0.002)
        finally:
            if urgent:
                fcntl.flock(self.urgent_fd, fcntl.LOCK_UN)
        self.waited_seconds += time.monotonic() - started

    def _nobody_urgent(self) -> bool:
        assert self.urgent_fd is not None
        try:
            fcntl.flock(self.urgent_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(self.urgent_fd, fcntl.LOCK_UN)
        return True

    def close(self) -> None:
        if self.fd is not None:
            self.fd = self.urgent_fd = None
            self._closer()


def _close_all(fds: tuple[int, ...]) -> None:
    for fd in fds:
        os.close(fd)


def _warn_if_slow(started: float) -> None:
    held = time.perf_counter() - started
    if held > SLOW_WRITE_SECONDS:  # on SQLite every other writer waited this long
        frame = sys._getframe(1)
        while frame.f_back and frame.f_code.co_filename in (__file__, contextlib.__file__):
            frame = frame.f_back
        caller = frame.f_code
        log.warning(
            "slow write transaction: %.2f s in %s (%s:%d) on thread %s",
            held,
            caller.co_name,
            caller.co_filename.rsplit("/", 2)[-1],
            caller.co_firstlineno,
            threading.current_thread().name,
        )


class Database:
    """One engine and its session factory; ``unit_of_work()`` is the only place that commits."""

    def __init__(self, url: str, busy_timeout_seconds: float = 10.0) -> None:
        self.url = normalise_url(url)
        self.engine = make_engine(self.url, busy_timeout_seconds=busy_timeout_seconds)
        # SQLite: a second engine whose transactions are write transactions from their first statement
        self.write_engine = (
            make_engine(self.url, writer=True, busy_timeout_seconds=busy_timeout_seconds)
            if self.url.startswith("sqlite")
            else self.engine
        )
        # SQLite: writers take turns (threads and processes; see WriteTurn)
        self.write_turn: WriteTurn | None = None
        self.in_memory = False  # an in-memory SQLite database: no other process can reach it
        if self.url.startswith("sqlite"):
            path = make_url(self.url).database
            self.in_memory = not path or path == ":memory:" or "mode=memory" in self.url
            self.write_turn = WriteTurn(None if self.in_memory else path, busy_timeout_seconds)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.write_sessions = sessionmaker(self.write_engine, expire_on_commit=False)
        self._checkpointer: threading.Thread | None = None
        self._hot: Connection | None = None  # the pipeline committer's connection (hot_transaction)
        self._stop_checkpoints = threading.Event()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def unit_of_work(self, *, urgent: bool = False) -> Iterator[Session]:
        """One write transaction. ``urgent`` (the pipeline's commits): on SQLite, ahead of the
        other processes' writers waiting for their turn (``WriteTurn``)."""
        if self.write_turn is None:
            with self._transaction() as session:
                yield session
        else:
            self.write_turn.acquire(urgent)
            try:
                with self._transaction() as session:
                    yield session
            finally:
                self.write_turn.release()

    @contextmanager
    def hot_transaction(self) -> Iterator[Connection]:
        """The pipeline committer's write transaction (its thread only): on a connection kept open
        from round to round — no pool checkout, session or pre-ping per round, which was most of a
        small round's cost — and, on SQLite, ahead of other processes' writers. A failed round
        drops the connection; the next round opens a new one (the database may have restarted)."""
        if self.write_turn is not None:
            self.write_turn.acquire(urgent=True)
        started = time.perf_counter()
        try:
            if self._hot is None:
                self._hot = self.write_engine.connect()
            connection = self._hot
            try:
                with connection.begin():
                    yield connection
            except BaseException:
                self._hot = None
                connection.invalidate()
                raise
        finally:
            if self.write_turn is not None:
                self.write_turn.release()
            _warn_if_slow(started)

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        session = self.write_sessions()
        started = time.perf_counter()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
            _warn_if_slow(started)

    @contextmanager
    def reading(self) -> Iterator[Session]:
        session = self.sessions()
        try:
            yield session
        finally:
            session.rollback()
            session.close()

    def start_checkpointer(self, interval_seconds: float = 1.0) -> None:
        """SQLite: fold the WAL into the database file in the background (PASSIVE: never blocks writers)."""
        if self.dialect != "sqlite" or self._checkpointer is not None:
            return
        self._stop_checkpoints.clear()

        def run() -> None:
            while not self._stop_checkpoints.wait(interval_seconds):
                try:
                    with self.engine.connect() as connection:
                        connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
                except Exception:  # a missed checkpoint is retried next round
                    log.warning("WAL checkpoint failed", exc_info=True)

        self._checkpointer = threading.Thread(target=run, name="sqlite-checkpoint", daemon=True)
        self._checkpointer.start()

    def stop_checkpointer(self) -> None:
        if self._checkpointer is not None:
            self._stop_checkpoints.set()
            self._checkpointer.join(timeout=10)
            self._checkpointer = None

    def dispose(self) -> None:
        self.stop_checkpointer()
        if self._hot is not None:
            self._hot.close()
            self._hot = None
        if self.write_turn is not None:
            self.write_turn.close()
        self.engine.dispose()
        if self.write_engine is not self.engine:
            self.write_engine.dispose()
