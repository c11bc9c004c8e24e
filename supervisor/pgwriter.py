"""Group commit for PostgreSQL: one writing connection per process, many waiting requests.

The same idea as supervisor/dbwriter.py (SQLite): every write waiting in the queue (up to
``max_batch``) runs in ONE transaction and the callers are answered once it has committed.
A commit flushes the WAL (synchronous_commit=on), so 300 concurrent event batches cost one
flush instead of 300; and the advisory lock that keeps a room's event ``seq`` in commit
order across processes (supervisor/store_pg.py) is then taken once per batch, not once per
request (held per request, it made every commit of a room wait for the previous one's flush).

Optimistic first (writes almost never fail), in pipeline mode: every statement of the batch
is sent at once and the results are read after one round trip (on a busy machine a round trip
to the database process costs more than the statement). If a write fails, the batch is rolled
back and run again statement by statement with a savepoint around each write, so that only
the failing one is refused. Locks named by the writes are taken first, in sorted order: two
processes never deadlock. Runs on the event loop (psycopg's async connection): no thread.

A write is two steps: ``await fn(conn)`` sends its statements (it must not read results) and
returns ``result``; ``await result()`` reads them (cursors' ``fetchone``/``fetchall``/``rowcount``)
once the batch's statements have all been sent.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, Awaitable, Callable

Result = Callable[[], Awaitable[Any]]
WriteFn = Callable[[Any], Awaitable[Result]]
Connect = Callable[[], Awaitable[Any]]
_STOP = object()
log = logging.getLogger("examroom.db")


class PgGroupCommit:
    def __init__(self, connect: Connect, lock_sql: str, *, max_batch: int = 500) -> None:
        self._connect = connect
        self._lock_sql = lock_sql  # one parameter: the lock's name
        self._max_batch = max_batch
        self._queue: asyncio.Queue | None = None
        self._task: asyncio.Task | None = None
        self.batches = 0  # for the bench: how many commits served how many writes
        self.writes = 0

    async def start(self) -> None:
        conn = await self._connect()
        self._queue = asyncio.Queue()
        self._task = asyncio.create_task(self._run(conn, self._queue), name="examroom-pg-writer")

    async def run(self, fn: WriteFn, lock: str | None = None) -> Any:
        if self._queue is None:
            raise RuntimeError("the PostgreSQL writer is not started")
        future = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((fn, lock, future))
        return await future

    async def close(self) -> None:
        """Commit what is queued, then stop."""
        queue, task = self._queue, self._task
        self._queue = self._task = None
        if queue is None or task is None:
            return
        queue.put_nowait(_STOP)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _run(self, conn: Any, queue: asyncio.Queue) -> None:
        try:
            while True:
                item = await queue.get()
                if item is _STOP:
                    return
                batch, stop = [item], False
                while len(batch) < self._max_batch and not queue.empty():
                    more = queue.get_nowait()
                    if more is _STOP:
                        stop = True
                        break
                    batch.append(more)
                if conn.closed or conn.broken:  # the database restarted: a new connection
                    conn = await self._reconnect(conn)
                await self._commit(conn, batch)
                if stop:
                    return
        finally:
            await conn.close()

    async def _reconnect(self, old: Any) -> Any:
        with contextlib.suppress(Exception):
            await old.close()
        while True:
            try:
                return await self._connect()
            except Exception:  # keep the writer alive; callers wait (their requests time out)
                log.exception("reconnecting the PostgreSQL writer")
                await asyncio.sleep(1.0)

    async def _commit(self, conn: Any, batch: list) -> None:
        batch = [entry for entry in batch if not entry[2].done()]  # a caller that went away: skipped
        if not batch:
            return
        try:
            try:
                outcomes = await self._transaction(conn, batch, isolate=False)
            except _Retry:
                outcomes = await self._transaction(conn, batch, isolate=True)
        except Exception as exc:  # the commit itself failed (disk full, connection lost): nobody is acknowledged
            for _fn, _lock, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        self.batches += 1
        self.writes += len(batch)
        for (ok, value), (_fn, _lock, future) in zip(outcomes, batch):
            if future.done():
                continue
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)

    async def _transaction(self, conn: Any, batch: list, *, isolate: bool) -> list[tuple[bool, Any]]:
        locks = sorted({lock for _fn, lock, _future in batch if lock})
        if isolate:
            outcomes: list[tuple[bool, Any]] = []
            async with conn.transaction():
                for name in locks:
                    await conn.execute(self._lock_sql, (name,))
                for fn, _lock, _future in batch:
                    try:
                        async with conn.transaction():  # a savepoint
                            result = await fn(conn)
                            outcomes.append((True, await result()))
                    except Exception as exc:  # the caller gets it; the others go on
                        outcomes.append((False, exc))
            return outcomes
        try:
            async with conn.pipeline() as pipeline:
                async with conn.transaction():
                    for name in locks:
                        await conn.execute(self._lock_sql, (name,))
                    results = [await fn(conn) for fn, _lock, _future in batch]
                    await pipeline.sync()
                    values = [await result() for result in results]
        except Exception as exc:
            if conn.broken or conn.closed:
                raise  # not a write's fault: nobody is acknowledged
            raise _Retry() from exc  # rolled back: replay write by write
        return [(True, value) for value in values]


class _Retry(Exception):
    """A write failed in an optimistic batch: replay it write by write."""
