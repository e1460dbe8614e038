"""The store process: the pipeline's rounds written by a process of their own (decision 180).

The pipeline's writer applies a round to the books while its committer writes the round before.
Both are Python on one interpreter, and the driver takes the interpreter lock back for every row
it steps, so in a batch storm the two ran one after the other (performance.md, "Session 5").
With a store process the committer only turns the round into a plan (statements and their
parameters, ``Batch.plan``), sends it down a pipe and waits with the lock free, while this child
runs the plan in one transaction on its own interpreter and answers. A 2xx still means
committed: the sender is answered only after the child's "ok".

The child knows nothing of the books. If it dies, the round it had is failed (503, the books are
reloaded from the database: whatever it committed is there) and the next round starts a new one.
It stops when its stdin closes, so a parent killed by SIGKILL takes it along; a transaction it had
open is rolled back by the database.
"""

from __future__ import annotations

import logging
import os
import pickle
import signal
import subprocess
import sys
import threading
from multiprocessing.connection import Connection
from typing import Any

from sqlalchemy.exc import OperationalError

from linewatch.db.batch import Plan, run_plan
from linewatch.db.engine import Database, is_busy

log = logging.getLogger("linewatch.db.store")
START_SECONDS = 60.0  # a child that has not said "ready" by then (imports, connection) has failed


class StoreFailed(Exception):
    """The store process could not write the round: nothing of it was committed (or the child died
    and the database decides; the caller reloads its state from it either way)."""

    def __init__(self, message: str, busy: bool = False) -> None:
        super().__init__(message)
        self.busy = busy  # another writer held the lock past the busy timeout: worth a retry


class StoreProcess:
    """The parent's handle: one child, started on demand, one round at a time."""

    def __init__(self, url: str, busy_timeout_seconds: float) -> None:
        self.url, self.busy_timeout = url, busy_timeout_seconds
        self.process: subprocess.Popen[bytes] | None = None
        self.requests: Connection | None = None
        self.replies: Connection | None = None
        self.lock = threading.Lock()  # one round at a time (the committer's thread, and a stop)
        self.started = 0  # children started (a replaced one counts again)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None and self.process.poll() is None else None

    def start(self) -> None:
        with self.lock:
            if self.process is None:
                self._spawn()

    def write(self, plan: Plan) -> None:
        """Run ``plan`` in one transaction in the child; raises :class:`StoreFailed`."""
        with self.lock:
            if self.process is None or self.process.poll() is not None:
                self._drop()
                self._spawn()
            assert self.requests is not None and self.replies is not None
            try:
                self.requests.send_bytes(pickle.dumps(plan, pickle.HIGHEST_PROTOCOL))
                reply = self.replies.recv()
            except (EOFError, OSError) as exc:
                self._drop()
                raise StoreFailed(f"the store process died ({type(exc).__name__})") from exc
        if reply[0] != "ok":
            _, kind, message, busy = reply
            raise StoreFailed(f"{kind}: {message}", busy=busy)

    def stop(self, timeout: float = 10.0) -> None:
        """Close its stdin (it finishes the round under way, then exits) and wait for it."""
        with self.lock:
            self._drop(wait=timeout)  # killed if it does not stop by then

    def _spawn(self) -> None:
        # the URL (it may hold a password) goes down the pipe, not on the command line
        process = subprocess.Popen(
            [sys.executable, "-m", "linewatch.db.store"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        assert process.stdin is not None and process.stdout is not None
        requests = Connection(os.dup(process.stdin.fileno()), readable=False)
        replies = Connection(os.dup(process.stdout.fileno()), writable=False)
        process.stdin.close()
        process.stdout.close()
        self.process, self.requests, self.replies = process, requests, replies
        try:
            requests.send((self.url, self.busy_timeout))
            ready = replies.recv() if replies.poll(START_SECONDS) else ("failed", "no answer")
        except (EOFError, OSError) as exc:
            ready = ("failed", type(exc).__name__)
        if ready[0] != "ready":
            self._drop()
            raise StoreFailed(f"the store process did not start: {ready[1]}")
        self.started += 1
        log.info("store process %d started", process.pid)

    def _drop(self, wait: float = 5.0) -> None:
        for connection in (self.requests, self.replies):
            if connection is not None:
                connection.close()
        self.requests = self.replies = None
        if self.process is not None:
            try:
                self.process.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None


def serve(requests: Connection, replies: Connection) -> None:
    """The child: plans in, one transaction each, "ok" or the error out; stops at end of input."""
    try:
        url, busy_timeout = requests.recv()
        db = Database(url, busy_timeout_seconds=busy_timeout)
    except Exception as exc:  # a bad URL or an unreachable database: said, not hidden
        replies.send(("failed", f"{type(exc).__name__}: {exc}"))
        return
    replies.send(("ready", os.getpid()))
    try:
        while True:
            try:
                data = requests.recv_bytes()
            except EOFError:  # the parent closed the pipe, or is gone
                return
            plan: Plan = pickle.loads(data)
            reply: tuple[Any, ...]
            try:
                with db.hot_transaction() as connection:
                    run_plan(connection, plan)
                reply = ("ok",)
            except Exception as exc:  # the round is rolled back; the parent answers 503
                busy = isinstance(exc, OperationalError) and is_busy(exc)
                reply = ("error", type(exc).__name__, str(exc)[:2000], busy)
            try:
                replies.send(reply)
            except OSError:  # the parent is gone (killed mid-round): its round's fate is the database's
                return
    finally:
        db.dispose()


def main() -> None:
    # Ctrl+C and a service manager's SIGTERM reach the whole process group: the child finishes the
    # round under way and stops when its parent closes the pipe, after the parent's own drain
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    # the pipe is fd 0 and 1; anything printed by accident goes to stderr instead of into it
    replies = Connection(os.dup(1), readable=False)
    os.dup2(2, 1)
    serve(Connection(0, writable=False), replies)


if __name__ == "__main__":
    main()
