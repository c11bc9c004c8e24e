"""Group commit for SQLite: one writer thread, many waiting requests.

Each write is a function of a connection. The writer takes every write waiting in its queue
(up to ``max_batch``), runs them in ONE transaction, each inside its own SAVEPOINT (a write
that fails is rolled back alone and its caller gets the exception), commits, and only then
resolves the callers' futures. So a request is acknowledged only once its data is on disk,
and 500 concurrent heartbeats cost one commit (one fsync) instead of 500.
"""
from __future__ import annotations

import asyncio
import logging
import queue
import sqlite3
import threading
from concurrent.futures import Future
from typing import Any, Callable

WriteFn = Callable[[sqlite3.Connection], Any]
_STOP = object()


class GroupCommitWriter:
    def __init__(self, connect: Callable[[], sqlite3.Connection], *, max_batch: int = 500) -> None:
        self._connect = connect
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._max_batch = max_batch
        self._thread = threading.Thread(target=self._run, name="examroom-db-writer", daemon=True)
        self._started = threading.Event()
        self.closed = False
        self._thread.start()
        self._started.wait()
        self.batches = 0  # for the bench: how many commits served how many writes
        self.writes = 0

    def submit(self, fn: WriteFn) -> Future:
        future: Future = Future()
        self._queue.put((fn, future))
        return future

    def call(self, fn: WriteFn) -> Any:
        """Blocking form, for the command line and tests."""
        return self.submit(fn).result(timeout=60)

    async def run(self, fn: WriteFn) -> Any:
        return await asyncio.wrap_future(self.submit(fn))

    def close(self, timeout: float = 10.0) -> None:
        """Commit what is queued, then stop the thread."""
        self.closed = True
        self._queue.put(_STOP)
        self._thread.join(timeout)

    def _run(self) -> None:
        conn = self._connect()
        # We manage transactions ourselves (BEGIN / SAVEPOINT / COMMIT).
        conn.isolation_level = None
        self._started.set()
        try:
            while True:
                item = self._queue.get()
                if item is _STOP:
                    return
                batch = [item]
                stop = False
                while len(batch) < self._max_batch:
                    try:
                        more = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if more is _STOP:
                        stop = True
                        break
                    batch.append(more)
                try:
                    self._commit(conn, batch)
                except Exception:  # never let the only writer die: log, and serve the next batch
                    logging.getLogger("examroom.db").exception("write batch failed")
                if stop:
                    return
        finally:
            conn.close()

    def _commit(self, conn: sqlite3.Connection, batch: list) -> None:
        # A caller that went away (client disconnected, request cancelled) cancelled its future:
        # its write is skipped, and resolving it later cannot raise in this thread.
        batch = [(fn, future) for fn, future in batch if future.set_running_or_notify_cancel()]
        if not batch:
            return
        try:
            outcomes = self._transaction(conn, batch, isolate=False)
        except _Retry:
            outcomes = None
        except Exception as exc:  # the commit itself failed (disk full...): nobody is acknowledged
            self._fail(conn, batch, exc)
            return
        if outcomes is None:
            try:
                outcomes = self._transaction(conn, batch, isolate=True)
            except Exception as exc:
                self._fail(conn, batch, exc)
                return
        self.batches += 1
        self.writes += len(batch)
        for (ok, value), (_fn, future) in zip(outcomes, batch):
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)

    @staticmethod
    def _transaction(conn: sqlite3.Connection, batch: list, *, isolate: bool) -> list[tuple[bool, Any]]:
        """One transaction for the batch. Optimistic first (no savepoints: writes almost never
        fail); if one does, the whole attempt is rolled back and replayed with a SAVEPOINT
        around each write, so that only the failing one is refused."""
        outcomes: list[tuple[bool, Any]] = []
        conn.execute("BEGIN IMMEDIATE")
        for fn, _future in batch:
            if not isolate:
                try:
                    outcomes.append((True, fn(conn)))
                except Exception:
                    conn.execute("ROLLBACK")
                    raise _Retry() from None
                continue
            conn.execute("SAVEPOINT one")
            try:
                outcomes.append((True, fn(conn)))
                conn.execute("RELEASE one")
            except Exception as exc:  # the caller gets it; the others go on
                conn.execute("ROLLBACK TO one")
                conn.execute("RELEASE one")
                outcomes.append((False, exc))
        conn.execute("COMMIT")
        return outcomes

    @staticmethod
    def _fail(conn: sqlite3.Connection, batch: list, exc: Exception) -> None:
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass
        for _fn, future in batch:
            future.set_exception(exc)


class _Retry(Exception):
    """A write failed in an optimistic batch: replay it write by write."""
