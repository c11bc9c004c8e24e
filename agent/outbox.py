"""A durable queue on disk for what must reach the supervisor server.

Facts kept: whatever callers put (companion events, reports waiting for upload), in one
SQLite file (``state_dir()/outbox.sqlite`` by convention). Nothing is deleted until the
server acknowledged it (``ack``), so a crash, a reboot or a server outage loses nothing.

Why SQLite in WAL mode with ``synchronous=FULL``: ``put`` must be durable before it
returns (a candidate's machine may be switched off mid-session), WAL lets a reader and a
writer work at once, and the file survives a kill -9 of the process.
"""
from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_kind_seq ON outbox(kind, seq);
"""


class Outbox:
    """Durable FIFO per ``kind``; safe for use from several threads (one connection, one lock)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        # check_same_thread=False: the lock below serialises every use of the connection.
        self._db = sqlite3.connect(str(self.path), timeout=30.0, check_same_thread=False,
                                   isolation_level=None)
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)

    def put(self, kind: str, payload: dict, item_id: str | None = None) -> str:
        """Store one item; durable when this returns. A second put with the same id is ignored."""
        item_id = item_id or uuid.uuid4().hex
        text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO outbox(id, kind, payload, created) VALUES (?, ?, ?, ?)",
                (item_id, kind, text, time.time()),
            )
        return item_id

    def peek(self, kind: str, limit: int = 100) -> list[tuple[str, dict]]:
        """The oldest ``limit`` items of ``kind``, oldest first, left in place."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, payload FROM outbox WHERE kind = ? ORDER BY seq LIMIT ?",
                (kind, max(0, int(limit))),
            ).fetchall()
        return [(row[0], json.loads(row[1])) for row in rows]

    def ack(self, ids: list[str]) -> None:
        """Delete items the server acknowledged (unknown ids are ignored)."""
        ids = list(ids)
        if not ids:
            return
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                # chunks: SQLite limits the number of bound parameters per statement
                for start in range(0, len(ids), 500):
                    chunk = ids[start:start + 500]
                    marks = ",".join("?" * len(chunk))
                    self._db.execute(f"DELETE FROM outbox WHERE id IN ({marks})", chunk)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def count(self, kind: str | None = None) -> int:
        with self._lock:
            if kind is None:
                row = self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()
            else:
                row = self._db.execute("SELECT COUNT(*) FROM outbox WHERE kind = ?", (kind,)).fetchone()
        return int(row[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()
