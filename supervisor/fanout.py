"""Several ``examroom serve`` processes on one PostgreSQL database tell each other what changed.

An académie runs several server processes behind one address: a companion posts to one of
them, a supervisor's dashboard streams from another. Each process publishes to its own
dashboards (supervisor/live.py) and sends the same news to the others with PostgreSQL's
NOTIFY; each LISTENs on one dedicated connection and republishes what the others sent.

What travels (a ``Notice``, JSON, at most PostgreSQL's 8000-byte payload):
- ``event``, ``machine``, ``ack``, ``pv_edits``, ``group``: what goes to the dashboards' streams, with
  its data; a row too big for a payload travels as a reference (``seq`` / ``machine_id`` / ``gid``) and the
  receiver reads it from the database;
- ``live``: a machine's live state, from the process its companion heart-beats to, so the
  others show it and do not declare it lost (supervisor/watchdog.py, ``remote``);
- ``revoke``: a machine token replaced by a new enrolment, dropped from every process's cache.

A notice is sent after the write it reports has committed, so a receiver that reads the
database sees it. Notices are best effort (a process that is down misses them): the streams'
clients reload the room when they reconnect, and the database stays the truth.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import Any, Awaitable, Callable, Literal

from pydantic import BaseModel, ValidationError

CHANNEL = "examroom"
MAX_PAYLOAD = 7900  # PostgreSQL refuses payloads of 8000 bytes and more
log = logging.getLogger("examroom.fanout")


class Notice(BaseModel):
    origin: str
    room: str
    kind: Literal["event", "machine", "ack", "pv_edits", "live", "revoke", "enrolment", "machine_removed", "group",
                  "room_settings", "room_deleted"]
    data: Any = None
    seq: int | None = None        # event too big: read it by seq
    machine_id: str | None = None  # machine / live
    token_hash: str | None = None  # revoke
    gid: int | None = None         # group too big: read it by gid


Deliver = Callable[[Notice], Awaitable[None]]


class PgFanout:
    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.origin = uuid.uuid4().hex  # this process: its own notices come back, and are skipped
        self._outgoing: asyncio.Queue[str] | None = None
        self._tasks: list[asyncio.Task] = []

    async def start(self, deliver: Deliver) -> None:
        import psycopg

        listener = await psycopg.AsyncConnection.connect(self.dsn, autocommit=True)
        await listener.execute(f"LISTEN {CHANNEL}")
        sender = await psycopg.AsyncConnection.connect(self.dsn, autocommit=True)
        self._outgoing = asyncio.Queue()
        self._tasks = [asyncio.create_task(self._listen(listener, deliver), name="examroom-listen"),
                       asyncio.create_task(self._send(sender), name="examroom-notify")]

    async def close(self) -> None:
        if self._outgoing is not None:
            await self._outgoing.join()  # what was published before the end still goes out
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks, self._outgoing = [], None

    def send(self, notice: Notice) -> None:
        """Queue a notice (never blocks the caller); sent in order by one task."""
        if self._outgoing is None:
            return
        text = notice.model_dump_json(exclude_none=True)
        if len(text.encode()) > MAX_PAYLOAD:
            text = notice.model_copy(update={"data": None}).model_dump_json(exclude_none=True)
        self._outgoing.put_nowait(text)

    async def _send(self, conn: Any) -> None:
        assert self._outgoing is not None
        queue = self._outgoing
        try:
            while True:
                texts = [await queue.get()]
                while not queue.empty():  # what queued meanwhile: sent in one round trip
                    texts.append(queue.get_nowait())
                try:  # one statement, in order (one transaction: delivered in this order); the array
                    # goes in binary (%b): the text form escapes every quote of the JSON with a regex
                    await conn.execute("SELECT pg_notify(%s, t) FROM unnest(%b::text[]) WITH ORDINALITY AS u(t, n) "
                                       "ORDER BY n", (CHANNEL, texts))
                except Exception:  # the database restarted...: log, reconnect, go on with the next
                    log.exception("NOTIFY failed")
                    conn = await _reconnect(conn, self.dsn)
                finally:
                    for _ in texts:
                        queue.task_done()
        finally:
            await conn.close()

    async def _listen(self, conn: Any, deliver: Deliver) -> None:
        while True:
            try:
                async for note in conn.notifies():
                    try:
                        notice = Notice.model_validate_json(note.payload)
                    except ValidationError:
                        log.warning("ignored a malformed notice on %s", CHANNEL)
                        continue
                    if notice.origin == self.origin:
                        continue
                    try:
                        await deliver(notice)
                    except Exception:
                        log.exception("delivering a notice failed")
            except asyncio.CancelledError:
                await conn.close()
                raise
            except Exception:  # connection lost: listen again (notices sent meanwhile are missed)
                log.exception("LISTEN connection lost")
                conn = await _reconnect(conn, self.dsn)
                await conn.execute(f"LISTEN {CHANNEL}")


async def _reconnect(old: Any, dsn: str) -> Any:
    import psycopg

    with contextlib.suppress(Exception):
        await old.close()
    while True:
        try:
            return await psycopg.AsyncConnection.connect(dsn, autocommit=True)
        except psycopg.OperationalError:
            await asyncio.sleep(1.0)
