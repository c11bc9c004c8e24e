"""The SQLite store: one file, WAL mode, group commit, reads on their own connections.

Writes go to the group-commit writer thread; reads run in a small pool of reader threads
(one read-only connection each), so neither blocks the event loop.

Durability choice: ``synchronous=FULL``. In WAL mode NORMAL survives a crash of the server
process (kill -9) but a power cut may lose the last commits, which an agent was already told
were stored (and has removed from its outbox). FULL fsyncs the WAL at every commit; group
commit (supervisor/dbwriter.py) pays that fsync once per batch, not once per request.
"""
from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, TypeVar

from supervisor import alertgroups
from supervisor.alertgroups import group_row, subject_of
from supervisor.dbwriter import GroupCommitWriter
from supervisor.store import dumps

T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (token_hash TEXT PRIMARY KEY, username TEXT NOT NULL,
    created_at TEXT NOT NULL, expires_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rooms (code TEXT PRIMARY KEY, name TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS machines (
    room_code TEXT NOT NULL REFERENCES rooms(code), machine_id TEXT NOT NULL,
    hostname TEXT NOT NULL, os TEXT NOT NULL DEFAULT '', os_version TEXT NOT NULL DEFAULT '',
    facts TEXT NOT NULL DEFAULT '{}', token_hash TEXT UNIQUE, enrolled_at TEXT NOT NULL,
    ready INTEGER, report_status TEXT, report_at TEXT, problems TEXT NOT NULL DEFAULT '[]',
    last_seen TEXT, live TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (room_code, machine_id));
CREATE TABLE IF NOT EXISTS reports (
    rid INTEGER PRIMARY KEY, room_code TEXT NOT NULL, machine_id TEXT NOT NULL,
    received_at TEXT NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS reports_by_machine ON reports (room_code, machine_id, rid);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
    room_code TEXT NOT NULL, machine_id TEXT NOT NULL, kind TEXT NOT NULL, at TEXT NOT NULL,
    received_at TEXT NOT NULL, details TEXT NOT NULL, alert INTEGER NOT NULL,
    acked_at TEXT, acked_by TEXT);
CREATE INDEX IF NOT EXISTS events_by_room ON events (room_code, seq);
CREATE INDEX IF NOT EXISTS open_alerts ON events (room_code, alert, acked_at);
CREATE TABLE IF NOT EXISTS records (ns TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
    version INTEGER NOT NULL, PRIMARY KEY (ns, key));
CREATE TABLE IF NOT EXISTS pv_edits (
    room_code TEXT PRIMARY KEY REFERENCES rooms(code), body TEXT NOT NULL,
    version INTEGER NOT NULL, updated_at TEXT NOT NULL, updated_by TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS alert_groups (
    gid INTEGER PRIMARY KEY AUTOINCREMENT, room_code TEXT NOT NULL, machine_id TEXT NOT NULL,
    kind TEXT NOT NULL, subject TEXT NOT NULL, count INTEGER NOT NULL, open INTEGER NOT NULL,
    first_seq INTEGER NOT NULL, last_seq INTEGER NOT NULL, first_at TEXT NOT NULL, last_at TEXT NOT NULL,
    last_id TEXT NOT NULL, last_details TEXT NOT NULL, acked_at TEXT, acked_by TEXT,
    UNIQUE (room_code, machine_id, kind, subject));
CREATE INDEX IF NOT EXISTS alert_groups_recent ON alert_groups (room_code, last_seq);
CREATE TABLE IF NOT EXISTS machine_bytes (room_code TEXT NOT NULL, machine_id TEXT NOT NULL,
    bytes INTEGER NOT NULL, PRIMARY KEY (room_code, machine_id));
"""
# Migrations: every statement of SCHEMA is "IF NOT EXISTS", so opening a database file made
# by an older version adds the tables it lacks (pv_edits came after the first release);
# _migrate adds the columns (events.gid) and fills what older files lack (alert groups, the
# bytes kept per machine).

_EVENT_COLS = ("SELECT e.seq, e.id, e.kind, e.at, e.machine_id, COALESCE(m.hostname, e.machine_id), "
               "e.details, e.alert, e.acked_at, e.acked_by, e.received_at, e.gid FROM events e LEFT JOIN machines m "
               "ON m.room_code = e.room_code AND m.machine_id = e.machine_id ")


class SQLiteStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(SCHEMA)
            _migrate(conn)
        self._local = threading.local()
        self._writer_lock = threading.Lock()
        self._writer: GroupCommitWriter | None = None
        self._readers: ThreadPoolExecutor | None = None

    @property
    def writer(self) -> GroupCommitWriter:
        # Started on first use and again after close(): an app whose lifespan ends and starts
        # again (test harnesses, a reloaded server) keeps a working store.
        writer = self._writer
        if writer is None or writer.closed:
            with self._writer_lock:
                if self._writer is None or self._writer.closed:
                    self._writer = GroupCommitWriter(self._connect)
                writer = self._writer
        return writer

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA busy_timeout=30000")
        return conn

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
            conn.execute("PRAGMA query_only=ON")
        return conn

    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` on a reader thread's own connection (indexed reads take microseconds, but
        a PV draft of a long session reads thousands of rows: never on the event loop)."""
        with self._writer_lock:
            if self._readers is None:
                self._readers = ThreadPoolExecutor(4, thread_name_prefix="examroom-db-read")
            readers = self._readers
        return await asyncio.get_running_loop().run_in_executor(readers, lambda: fn(self._conn()))

    async def _one(self, sql: str, args: tuple = ()) -> tuple | None:
        return await self._read(lambda c: c.execute(sql, args).fetchone())

    async def start(self) -> None:
        self.writer  # noqa: B018 - started now rather than at the first write

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        with self._writer_lock:
            readers, self._readers = self._readers, None
        if readers is not None:
            readers.shutdown(wait=False)

    # -- admin and sessions
    async def admin_hash(self) -> str | None:
        row = await self._one("SELECT value FROM meta WHERE key='admin_hash'")
        return row[0] if row else None

    async def set_admin_hash(self, password_hash: str) -> None:
        await self.writer.run(lambda c: c.execute(
            "INSERT INTO meta(key, value) VALUES('admin_hash', ?) "
            "ON CONFLICT(key) DO UPDATE SET value=excluded.value", (password_hash,)))

    async def add_session(self, token_hash: str, username: str, created_at: str, expires_at: str) -> None:
        def write(c: sqlite3.Connection) -> None:
            c.execute("DELETE FROM sessions WHERE expires_at < ?", (created_at,))
            c.execute("INSERT INTO sessions VALUES (?, ?, ?, ?)", (token_hash, username, created_at, expires_at))
        await self.writer.run(write)

    async def remove_session(self, token_hash: str) -> None:
        await self.writer.run(lambda c: c.execute("DELETE FROM sessions WHERE token_hash=?", (token_hash,)))

    async def session_user(self, token_hash: str, now: str) -> str | None:
        row = await self._one("SELECT username FROM sessions WHERE token_hash=? AND expires_at > ?",
                              (token_hash, now))
        return row[0] if row else None

    async def remove_sessions_of(self, username: str, keep: str | None = None) -> list[str]:
        def write(c: sqlite3.Connection) -> list[str]:
            rows = c.execute("DELETE FROM sessions WHERE username=? AND token_hash IS NOT ? RETURNING token_hash",
                             (username, keep)).fetchall() if sqlite3.sqlite_version_info >= (3, 35) else None
            if rows is None:  # no RETURNING: read, then delete
                rows = c.execute("SELECT token_hash FROM sessions WHERE username=? AND token_hash IS NOT ?",
                                 (username, keep)).fetchall()
                c.execute("DELETE FROM sessions WHERE username=? AND token_hash IS NOT ?", (username, keep))
            return [r[0] for r in rows]
        return await self.writer.run(write)

    # -- rooms
    async def insert_room(self, code: str, name: str, created_at: str) -> bool:
        return await self.writer.run(lambda c: c.execute(
            "INSERT OR IGNORE INTO rooms VALUES (?, ?, ?)", (code, name, created_at)).rowcount == 1)

    async def room(self, code: str) -> dict[str, Any] | None:
        row = await self._one("SELECT code, name, created_at FROM rooms WHERE code=?", (code,))
        return {"code": row[0], "name": row[1], "created_at": row[2]} if row else None

    async def rooms(self) -> list[dict[str, Any]]:
        rows = await self._read(lambda c: c.execute(
            "SELECT r.code, r.name, r.created_at, "
            "(SELECT COUNT(*) FROM machines m WHERE m.room_code=r.code), "
            "(SELECT COUNT(*) FROM machines m WHERE m.room_code=r.code AND m.ready=1), "
            "(SELECT COALESCE(SUM(g.open), 0) FROM alert_groups g WHERE g.room_code=r.code) "
            "FROM rooms r ORDER BY r.created_at DESC, r.code").fetchall())
        return [dict(zip(("code", "name", "created_at", "machines", "ready", "alerts"), r)) for r in rows]

    async def room_activity(self, code: str) -> dict[str, Any]:
        row = await self._one(
            "SELECT (SELECT COUNT(*) FROM reports WHERE room_code=?), (SELECT COUNT(*) FROM events WHERE room_code=?), "
            "(SELECT MAX(received_at) FROM reports WHERE room_code=?), (SELECT MAX(received_at) FROM events "
            "WHERE room_code=?)", (code, code, code, code))
        return {"reports": row[0], "events": row[1], "last_received_at": max(filter(None, row[2:4]), default=None)}

    async def delete_room(self, code: str, archive_ns: str, archive: dict[str, Any]) -> list[str] | None:
        def write(c: sqlite3.Connection) -> list[str] | None:
            if c.execute("SELECT 1 FROM rooms WHERE code=?", (code,)).fetchone() is None:
                return None
            machines = c.execute("SELECT machine_id, hostname, os, os_version, enrolled_at, token_hash FROM machines "
                                 "WHERE room_code=? ORDER BY machine_id", (code,)).fetchall()
            pv = c.execute("SELECT body, version, updated_at, updated_by FROM pv_edits WHERE room_code=?",
                           (code,)).fetchone()
            value = {**archive, "machines": [dict(zip(("machine_id", "hostname", "os", "os_version", "enrolled_at"),
                                                      m[:5])) for m in machines],
                     "pv_edits": {**json.loads(pv[0]), "version": pv[1], "updated_at": pv[2], "updated_by": pv[3]}
                     if pv else None}
            c.execute("INSERT INTO records VALUES (?, ?, ?, 1) ON CONFLICT(ns, key) DO UPDATE SET "
                      "value=excluded.value, version=version + 1", (archive_ns, code, dumps(value)))
            c.execute("DELETE FROM pv_edits WHERE room_code=?", (code,))
            c.execute("DELETE FROM machines WHERE room_code=?", (code,))
            c.execute("DELETE FROM rooms WHERE code=?", (code,))
            return [m[5] for m in machines if m[5]]
        return await self.writer.run(write)

    async def room_reports(self, room_code: str) -> list[dict[str, Any]]:
        rows = await self._read(lambda c: c.execute(
            "SELECT machine_id, received_at, body FROM reports WHERE room_code=? ORDER BY rid", (room_code,)).fetchall())
        return [{"machine_id": r[0], "received_at": r[1], "report": json.loads(r[2])} for r in rows]

    # -- machines
    async def enroll(self, room_code: str, machine: dict[str, Any], token_hash: str) -> str | None:
        def write(c: sqlite3.Connection) -> str | None:
            old = c.execute("SELECT token_hash FROM machines WHERE room_code=? AND machine_id=?",
                            (room_code, machine["machine_id"])).fetchone()
            c.execute(
                "INSERT INTO machines (room_code, machine_id, hostname, os, os_version, facts, token_hash, "
                "enrolled_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(room_code, machine_id) DO UPDATE SET "
                "hostname=excluded.hostname, os=excluded.os, os_version=excluded.os_version, "
                "token_hash=excluded.token_hash, enrolled_at=excluded.enrolled_at",
                (room_code, machine["machine_id"], machine["hostname"], machine["os"], machine["os_version"],
                 dumps(machine["facts"]), token_hash, machine["enrolled_at"]))
            return old[0] if old and old[0] else None
        return await self.writer.run(write)

    async def machine_token(self, token_hash: str) -> tuple[str, str, str] | None:
        row = await self._one("SELECT room_code, machine_id, enrolled_at FROM machines WHERE token_hash=?",
                              (token_hash,))
        return (row[0], row[1], row[2]) if row else None

    async def add_report(self, room_code: str, machine_id: str, received_at: str,
                         report: dict[str, Any], summary: dict[str, Any]) -> None:
        body = dumps(report)

        def write(c: sqlite3.Connection) -> None:
            c.execute("INSERT INTO reports (room_code, machine_id, received_at, body) VALUES (?, ?, ?, ?)",
                      (room_code, machine_id, received_at, body))
            _add_bytes(c, room_code, machine_id, len(body))
            c.execute("UPDATE machines SET hostname=?, os=?, os_version=?, facts=?, ready=?, report_status=?, "
                      "report_at=?, problems=? WHERE room_code=? AND machine_id=?",
                      (summary["hostname"], summary["os"], summary["os_version"], dumps(summary["facts"]),
                       int(summary["ready"]), summary["report_status"], summary["report_at"],
                       dumps(summary["problems"]), room_code, machine_id))
        await self.writer.run(write)

    async def latest_report(self, room_code: str, machine_id: str) -> dict[str, Any] | None:
        row = await self._one("SELECT body FROM reports WHERE room_code=? AND machine_id=? "
                              "ORDER BY rid DESC LIMIT 1", (room_code, machine_id))
        return json.loads(row[0]) if row else None

    async def latest_reports(self, room_code: str) -> list[dict[str, Any]]:
        rows = await self._read(lambda c: c.execute(
            "SELECT body FROM reports WHERE rid IN (SELECT MAX(rid) FROM reports WHERE room_code=? "
            "GROUP BY machine_id)", (room_code,)).fetchall())
        return [json.loads(r[0]) for r in rows]

    async def machines(self, room_code: str, machine_id: str | None = None) -> list[dict[str, Any]]:
        sql = ("SELECT m.machine_id, m.hostname, m.os, m.os_version, m.facts, m.ready, m.report_status, "
               "m.report_at, m.problems, m.last_seen, m.live, (SELECT COALESCE(SUM(g.open), 0) FROM alert_groups g "
               "WHERE g.room_code=m.room_code AND g.machine_id=m.machine_id) "
               "FROM machines m WHERE m.room_code=?")
        args: tuple = (room_code,)
        if machine_id is not None:
            sql += " AND m.machine_id=?"
            args += (machine_id,)
        sql += " ORDER BY m.hostname COLLATE NOCASE, m.machine_id"
        rows = await self._read(lambda c: c.execute(sql, args).fetchall())
        return [{"machine_id": r[0], "hostname": r[1], "os": r[2], "os_version": r[3],
                 "facts": json.loads(r[4]), "ready": None if r[5] is None else bool(r[5]),
                 "report_status": r[6], "report_at": r[7], "problems": json.loads(r[8]),
                 "last_seen": r[9], "live_state": json.loads(r[10]), "alerts": r[11]} for r in rows]

    # -- live state
    async def save_live(self, room_code: str, machine_id: str, last_seen: str | None,
                        live: dict[str, Any]) -> None:
        text = dumps(live)
        await self.writer.run(lambda c: c.execute(
            "UPDATE machines SET last_seen=COALESCE(?, last_seen), live=? WHERE room_code=? AND machine_id=?",
            (last_seen, text, room_code, machine_id)))

    async def live_states(self) -> list[tuple[str, str, str | None, dict[str, Any]]]:
        rows = await self._read(lambda c: c.execute(
            "SELECT room_code, machine_id, last_seen, live FROM machines").fetchall())
        return [(r[0], r[1], r[2], json.loads(r[3])) for r in rows]

    # -- events
    async def insert_events(self, room_code: str, machine_id: str,
                            events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if not events:
            return []
        prepared = [(e["id"], room_code, machine_id, e["kind"], e["at"], e["received_at"], dumps(e["details"]),
                     int(e["alert"])) for e in events]

        def write(c: sqlite3.Connection) -> list[dict[str, Any]]:
            seqs = _insert_events(c, prepared)
            stored = [p for p in prepared if p[0] in seqs]
            if stored:  # what this machine's rows take: its byte quota (supervisor/quotas.py)
                _add_bytes(c, room_code, machine_id, sum(len(p[6]) for p in stored))
            gids = _group_alerts(c, room_code, machine_id,
                                 [(seqs[p[0]], p[0], p[3], p[4], p[6]) for p in stored if p[7]])
            host = c.execute("SELECT hostname FROM machines WHERE room_code=? AND machine_id=?",
                             (room_code, machine_id)).fetchone()
            rows = [{"seq": seqs[e["id"]], "id": e["id"], "kind": e["kind"], "at": e["at"],
                     "machine_id": machine_id, "hostname": host[0] if host else machine_id,
                     "details": e["details"], "alert": bool(e["alert"]), "acked_at": None, "acked_by": None,
                     "received_at": e["received_at"], "group": gids.get(e["id"])}
                    for e in events if e["id"] in seqs]
            rows.sort(key=lambda r: r["seq"])
            return rows
        return await self.writer.run(write)

    async def events(self, room_code: str, after: int = 0, limit: int = 1000,
                     alerts_only: bool = False, open_only: bool | None = None,
                     newest: bool = False) -> list[dict[str, Any]]:
        sql = _EVENT_COLS + "WHERE e.room_code=? AND e.seq > ?"
        if alerts_only:
            sql += " AND e.alert=1"
        if open_only is True:
            sql += " AND e.acked_at IS NULL"
        elif open_only is False:
            sql += " AND e.acked_at IS NOT NULL"
        order = " ORDER BY e.seq DESC LIMIT ?" if newest else " ORDER BY e.seq LIMIT ?"
        rows = await self._read(lambda c: c.execute(sql + order, (room_code, after, limit)).fetchall())
        return [_event_row(r) for r in (reversed(rows) if newest else rows)]

    async def event(self, room_code: str, seq: int) -> dict[str, Any] | None:
        row = await self._one(_EVENT_COLS + "WHERE e.room_code=? AND e.seq=?", (room_code, seq))
        return _event_row(row) if row else None

    async def ack(self, room_code: str, event_id: str, by: str, at: str) -> dict[str, Any] | None:
        def write(c: sqlite3.Connection) -> dict[str, Any] | None:
            changed = c.execute("UPDATE events SET acked_at=?, acked_by=? WHERE id=? AND room_code=? AND alert=1 "
                                "AND acked_at IS NULL", (at, by, event_id, room_code)).rowcount
            row = c.execute("SELECT id, acked_at, acked_by, machine_id, gid FROM events WHERE id=? AND room_code=? "
                            "AND alert=1", (event_id, room_code)).fetchone()
            if row and changed and row[4] is not None:
                c.execute(_RECOUNT, (row[4],))
                c.execute("UPDATE alert_groups SET acked_at=?, acked_by=? WHERE gid=?", (at, by, row[4]))
            return {"id": row[0], "acked_at": row[1], "acked_by": row[2], "machine_id": row[3],
                    "group": row[4]} if row else None
        return await self.writer.run(write)

    # -- alert groups (supervisor/alertgroups.py)
    async def alert_groups(self, room_code: str, before: int | None = None, limit: int = 50,
                           open_only: bool | None = None, gids: list[int] | None = None) -> list[dict[str, Any]]:
        sql = _GROUP_COLS + "WHERE g.room_code=? AND g.last_seq < ?"
        args: list[Any] = [room_code, before if before is not None else 2**62]
        if open_only is True:
            sql += " AND g.open > 0"
        elif open_only is False:
            sql += " AND g.open = 0"
        if gids is not None:
            sql += f" AND g.gid IN ({', '.join('?' * len(gids))})"
            args += gids
        rows = await self._read(lambda c: c.execute(sql + " ORDER BY g.last_seq DESC LIMIT ?",
                                                    (*args, limit)).fetchall())
        return [group_row(r, json.loads) for r in rows]

    async def group_alerts(self, room_code: str, gid: int, before: int | None = None,
                           limit: int = 50) -> list[dict[str, Any]]:
        rows = await self._read(lambda c: c.execute(
            _EVENT_COLS + "WHERE e.gid=? AND e.room_code=? AND e.seq < ? ORDER BY e.seq DESC LIMIT ?",
            (gid, room_code, before if before is not None else 2**62, limit)).fetchall())
        return [_event_row(r) for r in rows]

    async def ack_group(self, room_code: str, gid: int, upto: int, by: str, at: str) -> int | None:
        def write(c: sqlite3.Connection) -> int | None:
            if c.execute("SELECT 1 FROM alert_groups WHERE gid=? AND room_code=?", (gid, room_code)).fetchone() is None:
                return None
            n = c.execute("UPDATE events SET acked_at=?, acked_by=? WHERE gid=? AND room_code=? AND seq <= ? "
                          "AND acked_at IS NULL", (at, by, gid, room_code, upto)).rowcount
            if n:
                c.execute(_RECOUNT, (gid,))
                c.execute("UPDATE alert_groups SET acked_at=?, acked_by=? WHERE gid=?", (at, by, gid))
            return n
        return await self.writer.run(write)

    async def machine_bytes(self, room_code: str, machine_id: str) -> int:
        row = await self._one("SELECT bytes FROM machine_bytes WHERE room_code=? AND machine_id=?",
                              (room_code, machine_id))
        return row[0] if row else 0

    async def stored_ids(self, room_code: str, machine_id: str, ids: list[str]) -> set[str]:
        def read(c: sqlite3.Connection) -> set[str]:
            found: set[str] = set()
            for start in range(0, len(ids), 500):  # SQLite's bound on parameters
                chunk = ids[start:start + 500]
                found.update(r[0] for r in c.execute(
                    f"SELECT id FROM events WHERE room_code=? AND machine_id=? AND id IN ({', '.join('?' * len(chunk))})",
                    (room_code, machine_id, *chunk)))
            return found
        return await self._read(read)

    # -- PV d'incident edits
    async def pv_edits(self, room_code: str) -> dict[str, Any] | None:
        row = await self._one("SELECT body, version, updated_at, updated_by FROM pv_edits WHERE room_code=?",
                              (room_code,))
        if row is None:
            return None
        return {**json.loads(row[0]), "version": row[1], "updated_at": row[2], "updated_by": row[3]}

    async def save_pv_edits(self, room_code: str, edits: dict[str, Any], by: str, at: str,
                            expected_version: int | None = None) -> dict[str, Any] | None:
        body = dumps(edits)

        def write(c: sqlite3.Connection) -> dict[str, Any] | None:
            row = c.execute("SELECT version FROM pv_edits WHERE room_code=?", (room_code,)).fetchone()
            if expected_version is not None and (row[0] if row else 0) != expected_version:
                return None  # someone saved meanwhile: the caller merges and tries again
            version = (row[0] if row else 0) + 1
            c.execute("INSERT INTO pv_edits VALUES (?, ?, ?, ?, ?) ON CONFLICT(room_code) DO UPDATE SET "
                      "body=excluded.body, version=excluded.version, updated_at=excluded.updated_at, "
                      "updated_by=excluded.updated_by", (room_code, body, version, at, by))
            return {**edits, "version": version, "updated_at": at, "updated_by": by}
        return await self.writer.run(write)


    # -- records: accounts, enrolment windows, machine secrets (supervisor/records.py)
    async def record(self, ns: str, key: str) -> tuple[dict[str, Any], int] | None:
        row = await self._one("SELECT value, version FROM records WHERE ns=? AND key=?", (ns, key))
        return (json.loads(row[0]), row[1]) if row else None

    async def records(self, ns: str) -> list[tuple[str, dict[str, Any], int]]:
        rows = await self._read(lambda c: c.execute(
            "SELECT key, value, version FROM records WHERE ns=? ORDER BY key", (ns,)).fetchall())
        return [(r[0], json.loads(r[1]), r[2]) for r in rows]

    async def put_record(self, ns: str, key: str, value: dict[str, Any], expected: int | None = None) -> int | None:
        body = dumps(value)

        def write(c: sqlite3.Connection) -> int | None:
            row = c.execute("SELECT version FROM records WHERE ns=? AND key=?", (ns, key)).fetchone()
            current = row[0] if row else 0
            if expected is not None and current != expected:
                return None
            c.execute("INSERT INTO records VALUES (?, ?, ?, ?) ON CONFLICT(ns, key) DO UPDATE SET "
                      "value=excluded.value, version=excluded.version", (ns, key, body, current + 1))
            return current + 1
        return await self.writer.run(write)

    async def delete_record(self, ns: str, key: str) -> bool:
        return await self.writer.run(lambda c: c.execute(
            "DELETE FROM records WHERE ns=? AND key=?", (ns, key)).rowcount > 0)

    async def revoke_machine(self, room_code: str, machine_id: str, *, remove: bool) -> tuple[bool, str | None]:
        def write(c: sqlite3.Connection) -> tuple[bool, str | None]:
            row = c.execute("SELECT token_hash FROM machines WHERE room_code=? AND machine_id=?",
                            (room_code, machine_id)).fetchone()
            if row is None:
                return False, None
            if remove:  # its reports and events stay: nothing a machine sent is lost
                c.execute("DELETE FROM machines WHERE room_code=? AND machine_id=?", (room_code, machine_id))
            else:
                c.execute("UPDATE machines SET token_hash=NULL WHERE room_code=? AND machine_id=?",
                          (room_code, machine_id))
            return True, row[0]
        return await self.writer.run(write)

_GROUP_COLS = ("SELECT g.gid, g.machine_id, COALESCE(m.hostname, g.machine_id), g.kind, g.subject, g.count, "
               "g.open, g.first_seq, g.last_seq, g.first_at, g.last_at, g.last_id, g.last_details, g.acked_at, g.acked_by "
               "FROM alert_groups g "
               "LEFT JOIN machines m ON m.room_code = g.room_code AND m.machine_id = g.machine_id ")
# A group's open count after acknowledgements, from its alerts (index events_by_group).
_RECOUNT = ("UPDATE alert_groups SET open=(SELECT COUNT(*) FROM events e WHERE e.gid=alert_groups.gid "
            "AND e.acked_at IS NULL) WHERE gid=?")


def _migrate(c: sqlite3.Connection) -> None:
    """Bring a file made by an older version up to date (once; each step is marked in meta)."""
    with c:
        if "gid" not in [r[1] for r in c.execute("PRAGMA table_info(events)")]:
            c.execute("ALTER TABLE events ADD COLUMN gid INTEGER")
        c.execute("CREATE INDEX IF NOT EXISTS events_by_group ON events (gid, seq)")
        if c.execute("SELECT 1 FROM meta WHERE key='alert_groups'").fetchone() is None:
            alerts = c.execute("SELECT seq, id, room_code, machine_id, kind, at, details, acked_at IS NULL "
                               "FROM events WHERE alert=1 AND gid IS NULL ORDER BY seq").fetchall()
            by_room: dict[tuple[str, str], list[tuple]] = {}
            for seq, event_id, room, machine, kind, at, details, _open in alerts:
                by_room.setdefault((room, machine), []).append((seq, event_id, kind, at, details))
            for (room, machine), rows in by_room.items():
                _group_alerts(c, room, machine, rows, recount=True)
            c.execute("INSERT INTO meta VALUES ('alert_groups', '1')")
        if c.execute("SELECT 1 FROM meta WHERE key='machine_bytes'").fetchone() is None:
            c.execute("INSERT OR REPLACE INTO machine_bytes SELECT room_code, machine_id, SUM(n) FROM ("
                      "SELECT room_code, machine_id, length(body) AS n FROM reports UNION ALL "
                      "SELECT room_code, machine_id, length(details) FROM events) GROUP BY room_code, machine_id")
            c.execute("INSERT INTO meta VALUES ('machine_bytes', '1')")


def _add_bytes(c: sqlite3.Connection, room_code: str, machine_id: str, n: int) -> None:
    c.execute("INSERT INTO machine_bytes VALUES (?, ?, ?) ON CONFLICT(room_code, machine_id) DO UPDATE SET "
              "bytes = bytes + excluded.bytes", (room_code, machine_id, n))


def _group_alerts(c: sqlite3.Connection, room_code: str, machine_id: str,
                  alerts: list[tuple[int, str, str, str, str]], recount: bool = False) -> dict[str, int]:
    """Fold new alerts (seq, id, kind, at, details text; oldest first) into their groups and
    mark each with its group's ``gid``; returns {event id: gid}. New alerts are all open; an old
    file's may be acknowledged (``recount``: the open count is then counted from the alerts)."""
    folded: dict[tuple[str, str], list[tuple[int, str, str, str, str]]] = {}
    for alert in sorted(alerts):
        folded.setdefault((alert[2], subject_of(json.loads(alert[4]))), []).append(alert)
    gids: dict[str, int] = {}
    for (kind, subject), rows in folded.items():
        first, last = rows[0], rows[-1]
        c.execute(
            "INSERT INTO alert_groups (room_code, machine_id, kind, subject, count, open, first_seq, last_seq, "
            "first_at, last_at, last_id, last_details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(room_code, machine_id, kind, subject) DO UPDATE SET count = count + excluded.count, "
            "open = open + excluded.open, last_seq = excluded.last_seq, last_at = excluded.last_at, "
            "last_id = excluded.last_id, last_details = excluded.last_details",
            (room_code, machine_id, kind, subject, len(rows), len(rows), first[0], last[0], first[3], last[3],
             last[1], last[4]))
        gid = c.execute("SELECT gid FROM alert_groups WHERE room_code=? AND machine_id=? AND kind=? AND subject=?",
                        (room_code, machine_id, kind, subject)).fetchone()[0]
        c.executemany("UPDATE events SET gid=? WHERE seq=?", [(gid, r[0]) for r in rows])
        if recount:  # an old file's: its open count and latest acknowledgement from its alerts
            c.execute(_RECOUNT, (gid,))
            c.execute("UPDATE alert_groups SET (acked_at, acked_by) = (SELECT acked_at, acked_by FROM events "
                      "WHERE gid=alert_groups.gid AND acked_at IS NOT NULL ORDER BY acked_at DESC LIMIT 1) "
                      "WHERE gid=?", (gid,))
        gids.update((r[1], gid) for r in rows)
    return gids


_INSERT_EVENT = ("INSERT OR IGNORE INTO events (id, room_code, machine_id, kind, at, received_at, details, alert) "
                 "VALUES ")
_ROW = "(?, ?, ?, ?, ?, ?, ?, ?)"


def _insert_events(c: sqlite3.Connection, prepared: list[tuple]) -> dict[str, int]:
    """Insert a batch, skipping ids already stored; returns {id: seq} of the rows inserted.

    One multi-row INSERT ... RETURNING per 100 events: the writer thread then hands the GIL
    over once per chunk instead of twice per event, which is what keeps event latency low
    while the event loop is busy with heartbeats (bench/ingest.py)."""
    seqs: dict[str, int] = {}
    if sqlite3.sqlite_version_info < (3, 35):  # no RETURNING: one statement per event
        for row in prepared:
            cur = c.execute(_INSERT_EVENT + _ROW, row)
            if cur.rowcount:
                seqs.setdefault(row[0], cur.lastrowid)
        return seqs
    for start in range(0, len(prepared), 100):
        chunk = prepared[start:start + 100]
        sql = _INSERT_EVENT + ", ".join([_ROW] * len(chunk)) + " RETURNING id, seq"
        for event_id, seq in c.execute(sql, [value for row in chunk for value in row]).fetchall():
            seqs[event_id] = seq
    return seqs


def _event_row(r: tuple) -> dict[str, Any]:
    return {"seq": r[0], "id": r[1], "kind": r[2], "at": r[3], "machine_id": r[4], "hostname": r[5],
            "details": json.loads(r[6]), "alert": bool(r[7]), "acked_at": r[8], "acked_by": r[9],
            "received_at": r[10], "group": r[11]}
