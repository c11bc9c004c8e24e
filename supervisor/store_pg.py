"""The PostgreSQL store: an académie's shared database, for several ``examroom serve`` processes.

psycopg 3 (async): reads on a connection pool, writes through one connection with group commit
(supervisor/pgwriter.py). Durability: a write is acknowledged once its transaction has committed
(PostgreSQL's default ``synchronous_commit=on``: the WAL is flushed). Everything JSON is kept as
text written by ``dumps``, exactly as in the SQLite file (JSONB would refuse ``\\u0000`` and
reorder keys).

Several processes write at once, so what SQLite got from its single writer is asked for here:
- event ``seq`` must follow commit order within a room (a dashboard resumes a stream with
  ``after=seq``): a batch writing a room's rows holds that room's transaction-level advisory
  lock, taken first and in sorted order, which also keeps two processes' batches from
  deadlocking on the same machine rows (each updating rows the other holds);
- a machine's token is replaced under a row lock, the PV edits' version is bumped atomically;
- the schema is created under an advisory lock (two processes starting together).

Cross-process notifications (LISTEN/NOTIFY) for the dashboards' streams: supervisor/fanout.py.
"""
from __future__ import annotations

import json
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from supervisor.alertgroups import group_row, subject_of
from supervisor.fanout import PgFanout
from supervisor.pgwriter import PgGroupCommit, Result
from supervisor.store import dumps

# Same tables and columns as the SQLite store (supervisor/store_sqlite.py), in PostgreSQL's types.
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (token_hash TEXT PRIMARY KEY, username TEXT NOT NULL,
    created_at TEXT NOT NULL, expires_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rooms (code TEXT PRIMARY KEY, name TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS machines (
    room_code TEXT NOT NULL REFERENCES rooms(code), machine_id TEXT NOT NULL,
    hostname TEXT NOT NULL, os TEXT NOT NULL DEFAULT '', os_version TEXT NOT NULL DEFAULT '',
    facts TEXT NOT NULL DEFAULT '{}', token_hash TEXT UNIQUE, enrolled_at TEXT NOT NULL,
    ready BOOLEAN, report_status TEXT, report_at TEXT, problems TEXT NOT NULL DEFAULT '[]',
    last_seen TEXT, live TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (room_code, machine_id));
CREATE TABLE IF NOT EXISTS reports (
    rid BIGSERIAL PRIMARY KEY, room_code TEXT NOT NULL, machine_id TEXT NOT NULL,
    received_at TEXT NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS reports_by_machine ON reports (room_code, machine_id, rid);
CREATE TABLE IF NOT EXISTS events (
    seq BIGSERIAL PRIMARY KEY, id TEXT NOT NULL UNIQUE,
    room_code TEXT NOT NULL, machine_id TEXT NOT NULL, kind TEXT NOT NULL, at TEXT NOT NULL,
    received_at TEXT NOT NULL, details TEXT NOT NULL, alert BOOLEAN NOT NULL,
    acked_at TEXT, acked_by TEXT);
CREATE INDEX IF NOT EXISTS events_by_room ON events (room_code, seq);
CREATE INDEX IF NOT EXISTS open_alerts ON events (room_code, alert, acked_at);
CREATE TABLE IF NOT EXISTS records (ns TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
    version INTEGER NOT NULL, PRIMARY KEY (ns, key));
CREATE TABLE IF NOT EXISTS pv_edits (
    room_code TEXT PRIMARY KEY REFERENCES rooms(code), body TEXT NOT NULL,
    version INTEGER NOT NULL, updated_at TEXT NOT NULL, updated_by TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS alert_groups (
    gid BIGSERIAL PRIMARY KEY, room_code TEXT NOT NULL, machine_id TEXT NOT NULL,
    kind TEXT NOT NULL, subject TEXT NOT NULL, count BIGINT NOT NULL, open BIGINT NOT NULL,
    first_seq BIGINT NOT NULL, last_seq BIGINT NOT NULL, first_at TEXT NOT NULL, last_at TEXT NOT NULL,
    last_id TEXT NOT NULL, last_details TEXT NOT NULL, acked_at TEXT, acked_by TEXT,
    UNIQUE (room_code, machine_id, kind, subject));
CREATE INDEX IF NOT EXISTS alert_groups_recent ON alert_groups (room_code, last_seq);
CREATE TABLE IF NOT EXISTS machine_bytes (room_code TEXT NOT NULL, machine_id TEXT NOT NULL,
    bytes BIGINT NOT NULL, PRIMARY KEY (room_code, machine_id));
ALTER TABLE events ADD COLUMN IF NOT EXISTS gid BIGINT;
CREATE INDEX IF NOT EXISTS events_by_group ON events (gid, seq);
"""

# Advisory lock keys (first int: this application; second: what is locked).
_APP_LOCK = 0x6578616D  # "exam"
_SCHEMA_LOCK = 1

_EVENT_COLS = ("SELECT e.seq, e.id, e.kind, e.at, e.machine_id, COALESCE(m.hostname, e.machine_id), "
               "e.details, e.alert, e.acked_at, e.acked_by, e.received_at, e.gid FROM events e LEFT JOIN machines m "
               "ON m.room_code = e.room_code AND m.machine_id = e.machine_id ")


class PostgresStore:
    def __init__(self, dsn: str, *, min_size: int = 2, max_size: int = 10) -> None:
        self.dsn = dsn
        self.min_size, self.max_size = min_size, max_size
        self.pool: AsyncConnectionPool | None = None
        self.writer = PgGroupCommit(self._connect, f"SELECT pg_advisory_xact_lock({_APP_LOCK}, hashtext(%s))")

    async def _connect(self) -> psycopg.AsyncConnection:
        return await psycopg.AsyncConnection.connect(self.dsn, autocommit=True)

    async def start(self) -> None:
        if self.pool is not None:
            return
        # Fail now, with libpq's reason (wrong host, password, database), not at the first request.
        async with await psycopg.AsyncConnection.connect(self.dsn, autocommit=True) as conn:
            async with conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", (_APP_LOCK, _SCHEMA_LOCK))
                await conn.execute(SCHEMA)
                await _migrate(conn)
        pool = AsyncConnectionPool(self.dsn, min_size=self.min_size, max_size=self.max_size,
                                   kwargs={"autocommit": True}, open=False, name="examroom")
        await pool.open(wait=True, timeout=30)
        self.pool = pool
        await self.writer.start()

    def fanout(self) -> "PgFanout":
        """How this process tells the others sharing the database what changed (LISTEN/NOTIFY)."""
        return PgFanout(self.dsn)

    async def close(self) -> None:
        await self.writer.close()
        pool, self.pool = self.pool, None
        if pool is not None:
            await pool.close()

    def _pool(self) -> AsyncConnectionPool:
        if self.pool is None:
            raise RuntimeError("the PostgreSQL store is not started (await store.start())")
        return self.pool

    async def _one(self, sql: str, args: tuple = ()) -> tuple | None:
        async with self._pool().connection() as conn:
            return await (await conn.execute(sql, args)).fetchone()

    async def _all(self, sql: str, args: tuple = ()) -> list[tuple]:
        async with self._pool().connection() as conn:
            return await (await conn.execute(sql, args)).fetchall()

    async def _write(self, sql: str, args: tuple = (), lock: str | None = None) -> int:
        async def write(conn: psycopg.AsyncConnection) -> Result:
            cur = await conn.execute(sql, args)
            return lambda: _done(cur.rowcount)
        return await self.writer.run(write, lock)

    # -- admin and sessions
    async def admin_hash(self) -> str | None:
        row = await self._one("SELECT value FROM meta WHERE key='admin_hash'")
        return row[0] if row else None

    async def set_admin_hash(self, password_hash: str) -> None:
        await self._write("INSERT INTO meta(key, value) VALUES('admin_hash', %s) "
                          "ON CONFLICT(key) DO UPDATE SET value=excluded.value", (password_hash,))

    async def add_session(self, token_hash: str, username: str, created_at: str, expires_at: str) -> None:
        async def write(conn: psycopg.AsyncConnection) -> Result:
            await conn.execute("DELETE FROM sessions WHERE expires_at < %s", (created_at,))
            await conn.execute("INSERT INTO sessions VALUES (%s, %s, %s, %s)",
                               (token_hash, username, created_at, expires_at))
            return lambda: _done(None)
        await self.writer.run(write)

    async def session_user(self, token_hash: str, now: str) -> str | None:
        row = await self._one("SELECT username FROM sessions WHERE token_hash=%s AND expires_at > %s",
                              (token_hash, now))
        return row[0] if row else None

    async def remove_session(self, token_hash: str) -> None:
        await self._write("DELETE FROM sessions WHERE token_hash=%s", (token_hash,))

    async def remove_sessions_of(self, username: str, keep: str | None = None) -> list[str]:
        async with self._pool().connection() as conn, conn.transaction():
            rows = await (await conn.execute(
                "DELETE FROM sessions WHERE username=%s AND token_hash IS DISTINCT FROM %s RETURNING token_hash",
                (username, keep))).fetchall()
        return [r[0] for r in rows]

    # -- rooms
    async def insert_room(self, code: str, name: str, created_at: str) -> bool:
        return await self._write("INSERT INTO rooms VALUES (%s, %s, %s) ON CONFLICT (code) DO NOTHING",
                                 (code, name, created_at)) == 1

    async def room(self, code: str) -> dict[str, Any] | None:
        row = await self._one("SELECT code, name, created_at FROM rooms WHERE code=%s", (code,))
        return {"code": row[0], "name": row[1], "created_at": row[2]} if row else None

    async def rooms(self) -> list[dict[str, Any]]:
        rows = await self._all(
            "SELECT r.code, r.name, r.created_at, "
            "(SELECT COUNT(*) FROM machines m WHERE m.room_code=r.code), "
            "(SELECT COUNT(*) FROM machines m WHERE m.room_code=r.code AND m.ready), "
            "(SELECT COALESCE(SUM(g.open), 0)::bigint FROM alert_groups g WHERE g.room_code=r.code) "
            "FROM rooms r ORDER BY r.created_at DESC, r.code")
        return [dict(zip(("code", "name", "created_at", "machines", "ready", "alerts"), r)) for r in rows]

    async def room_activity(self, code: str) -> dict[str, Any]:
        row = await self._one(
            "SELECT (SELECT COUNT(*) FROM reports WHERE room_code=%s), (SELECT COUNT(*) FROM events WHERE room_code=%s), "
            "(SELECT MAX(received_at) FROM reports WHERE room_code=%s), (SELECT MAX(received_at) FROM events "
            "WHERE room_code=%s)", (code, code, code, code))
        return {"reports": row[0], "events": row[1], "last_received_at": max(filter(None, row[2:4]), default=None)}

    async def delete_room(self, code: str, archive_ns: str, archive: dict[str, Any]) -> list[str] | None:
        async with self._pool().connection() as conn, conn.transaction():
            # the room's lock (as event batches take it), then its row: one deletion at a time
            await conn.execute(f"SELECT pg_advisory_xact_lock({_APP_LOCK}, hashtext(%s))", (code,))
            if await (await conn.execute("SELECT 1 FROM rooms WHERE code=%s FOR UPDATE", (code,))).fetchone() is None:
                return None
            machines = await (await conn.execute(
                "SELECT machine_id, hostname, os, os_version, enrolled_at, token_hash FROM machines "
                "WHERE room_code=%s ORDER BY machine_id FOR UPDATE", (code,))).fetchall()
            pv = await (await conn.execute("SELECT body, version, updated_at, updated_by FROM pv_edits "
                                           "WHERE room_code=%s", (code,))).fetchone()
            value = {**archive, "machines": [dict(zip(("machine_id", "hostname", "os", "os_version", "enrolled_at"),
                                                      m[:5])) for m in machines],
                     "pv_edits": {**json.loads(pv[0]), "version": pv[1], "updated_at": pv[2], "updated_by": pv[3]}
                     if pv else None}
            await conn.execute("INSERT INTO records AS r VALUES (%s, %s, %s, 1) ON CONFLICT (ns, key) DO UPDATE "
                               "SET value=excluded.value, version=r.version + 1", (archive_ns, code, dumps(value)))
            await conn.execute("DELETE FROM pv_edits WHERE room_code=%s", (code,))
            await conn.execute("DELETE FROM machines WHERE room_code=%s", (code,))
            await conn.execute("DELETE FROM rooms WHERE code=%s", (code,))
        return [m[5] for m in machines if m[5]]

    async def room_reports(self, room_code: str) -> list[dict[str, Any]]:
        rows = await self._all("SELECT machine_id, received_at, body FROM reports WHERE room_code=%s ORDER BY rid",
                               (room_code,))
        return [{"machine_id": r[0], "received_at": r[1], "report": json.loads(r[2])} for r in rows]

    # -- machines
    async def enroll(self, room_code: str, machine: dict[str, Any], token_hash: str) -> str | None:
        async def write(conn: psycopg.AsyncConnection) -> Result:
            old = await conn.execute(
                "SELECT token_hash FROM machines WHERE room_code=%s AND machine_id=%s FOR UPDATE",
                (room_code, machine["machine_id"]))
            await conn.execute(
                "INSERT INTO machines (room_code, machine_id, hostname, os, os_version, facts, token_hash, "
                "enrolled_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (room_code, machine_id) "
                "DO UPDATE SET hostname=excluded.hostname, os=excluded.os, os_version=excluded.os_version, "
                "token_hash=excluded.token_hash, enrolled_at=excluded.enrolled_at",
                (room_code, machine["machine_id"], machine["hostname"], machine["os"], machine["os_version"],
                 dumps(machine["facts"]), token_hash, machine["enrolled_at"]))

            async def result() -> str | None:
                row = await old.fetchone()
                return row[0] if row and row[0] else None
            return result
        return await self.writer.run(write, lock=room_code)

    async def machine_token(self, token_hash: str) -> tuple[str, str, str] | None:
        row = await self._one("SELECT room_code, machine_id, enrolled_at FROM machines WHERE token_hash=%s",
                              (token_hash,))
        return (row[0], row[1], row[2]) if row else None

    async def add_report(self, room_code: str, machine_id: str, received_at: str,
                         report: dict[str, Any], summary: dict[str, Any]) -> None:
        body = dumps(report)

        async def write(conn: psycopg.AsyncConnection) -> Result:
            await conn.execute("INSERT INTO reports (room_code, machine_id, received_at, body) "
                               "VALUES (%s, %s, %s, %s)", (room_code, machine_id, received_at, body))
            await conn.execute(_ADD_BYTES, (room_code, machine_id, len(body)))
            await conn.execute(
                "UPDATE machines SET hostname=%s, os=%s, os_version=%s, facts=%s, ready=%s, report_status=%s, "
                "report_at=%s, problems=%s WHERE room_code=%s AND machine_id=%s",
                (summary["hostname"], summary["os"], summary["os_version"], dumps(summary["facts"]),
                 bool(summary["ready"]), summary["report_status"], summary["report_at"],
                 dumps(summary["problems"]), room_code, machine_id))
            return lambda: _done(None)
        await self.writer.run(write, lock=room_code)

    async def latest_report(self, room_code: str, machine_id: str) -> dict[str, Any] | None:
        row = await self._one("SELECT body FROM reports WHERE room_code=%s AND machine_id=%s "
                              "ORDER BY rid DESC LIMIT 1", (room_code, machine_id))
        return json.loads(row[0]) if row else None

    async def latest_reports(self, room_code: str) -> list[dict[str, Any]]:
        rows = await self._all("SELECT body FROM reports WHERE rid IN (SELECT MAX(rid) FROM reports "
                               "WHERE room_code=%s GROUP BY machine_id)", (room_code,))
        return [json.loads(r[0]) for r in rows]

    async def machines(self, room_code: str, machine_id: str | None = None) -> list[dict[str, Any]]:
        sql = ("SELECT m.machine_id, m.hostname, m.os, m.os_version, m.facts, m.ready, m.report_status, "
               "m.report_at, m.problems, m.last_seen, m.live, (SELECT COALESCE(SUM(g.open), 0)::bigint FROM "
               "alert_groups g WHERE g.room_code=m.room_code AND g.machine_id=m.machine_id) "
               "FROM machines m WHERE m.room_code=%s")
        args: tuple = (room_code,)
        if machine_id is not None:
            sql += " AND m.machine_id=%s"
            args += (machine_id,)
        rows = await self._all(sql + " ORDER BY lower(m.hostname), m.machine_id", args)
        return [{"machine_id": r[0], "hostname": r[1], "os": r[2], "os_version": r[3],
                 "facts": json.loads(r[4]), "ready": r[5], "report_status": r[6], "report_at": r[7],
                 "problems": json.loads(r[8]), "last_seen": r[9], "live_state": json.loads(r[10]),
                 "alerts": r[11]} for r in rows]

    # -- live state
    async def save_live(self, room_code: str, machine_id: str, last_seen: str | None,
                        live: dict[str, Any]) -> None:
        await self._write("UPDATE machines SET last_seen=COALESCE(%s, last_seen), live=%s "
                          "WHERE room_code=%s AND machine_id=%s", (last_seen, dumps(live), room_code, machine_id),
                          lock=room_code)

    async def live_states(self) -> list[tuple[str, str, str | None, dict[str, Any]]]:
        rows = await self._all("SELECT room_code, machine_id, last_seen, live FROM machines")
        return [(r[0], r[1], r[2], json.loads(r[3])) for r in rows]

    # -- events
    async def insert_events(self, room_code: str, machine_id: str,
                            events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if not events:
            return []
        columns = ([e["id"] for e in events], [e["kind"] for e in events], [e["at"] for e in events],
                   [e["received_at"] for e in events], [dumps(e["details"]) for e in events],
                   [bool(e["alert"]) for e in events])

        alerts = ([e["id"] for e in events if e["alert"]], [subject_of(e["details"]) for e in events if e["alert"]])

        async def write(conn: psycopg.AsyncConnection) -> Result:
            # the rows stored (not the duplicates) count in the machine's bytes kept
            inserted = await conn.execute(
                "WITH ins AS (INSERT INTO events (id, room_code, machine_id, kind, at, received_at, details, alert) "
                "SELECT id, %s, %s, kind, at, received_at, details, alert FROM unnest("
                "%b::text[], %b::text[], %b::text[], %b::text[], %b::text[], %b::boolean[]) WITH ORDINALITY "
                "AS t(id, kind, at, received_at, details, alert, n) ORDER BY n "
                "ON CONFLICT (id) DO NOTHING RETURNING id, seq, details), "
                "acc AS (INSERT INTO machine_bytes (room_code, machine_id, bytes) SELECT %s, %s, SUM(length(details)) "
                "FROM ins HAVING COUNT(*) > 0 ON CONFLICT (room_code, machine_id) DO UPDATE SET "
                "bytes = machine_bytes.bytes + excluded.bytes) SELECT id, seq FROM ins",
                (room_code, machine_id, *columns, room_code, machine_id))
            grouped = None
            if alerts[0]:
                # the new alerts (gid still NULL; a duplicate already has its group) fold into
                # their groups, then get their gid: two statements after the insert, in its transaction
                await conn.execute(_GROUP_NEW, (room_code, machine_id, *alerts, room_code, machine_id))
                grouped = await conn.execute(_MARK_NEW, (*alerts, room_code, machine_id))
            host = await conn.execute("SELECT hostname FROM machines WHERE room_code=%s AND machine_id=%s",
                                      (room_code, machine_id))

            async def result() -> tuple[list, tuple | None, list]:
                marks = await grouped.fetchall() if grouped is not None else []
                return await inserted.fetchall(), await host.fetchone(), marks
            return result
        # (arrays in binary, %b: their text form escapes each quote of the JSON with a regex)
        # the room's lock: seq in commit order within the room, whatever process commits
        inserted, host, marks = await self.writer.run(write, lock=room_code)
        seqs, gids = dict(inserted), dict(marks)
        rows = [{"seq": seqs[e["id"]], "id": e["id"], "kind": e["kind"], "at": e["at"], "machine_id": machine_id,
                 "hostname": host[0] if host else machine_id, "details": e["details"], "alert": bool(e["alert"]),
                 "acked_at": None, "acked_by": None, "received_at": e["received_at"], "group": gids.get(e["id"])}
                for e in events if e["id"] in seqs]
        rows.sort(key=lambda r: r["seq"])
        return rows

    async def events(self, room_code: str, after: int = 0, limit: int = 1000,
                     alerts_only: bool = False, open_only: bool | None = None,
                     newest: bool = False) -> list[dict[str, Any]]:
        sql = _EVENT_COLS + "WHERE e.room_code=%s AND e.seq > %s"
        if alerts_only:
            sql += " AND e.alert"
        if open_only is True:
            sql += " AND e.acked_at IS NULL"
        elif open_only is False:
            sql += " AND e.acked_at IS NOT NULL"
        order = " ORDER BY e.seq DESC LIMIT %s" if newest else " ORDER BY e.seq LIMIT %s"
        rows = await self._all(sql + order, (room_code, after, limit))
        return [_event_row(r) for r in (reversed(rows) if newest else rows)]

    async def event(self, room_code: str, seq: int) -> dict[str, Any] | None:
        row = await self._one(_EVENT_COLS + "WHERE e.room_code=%s AND e.seq=%s", (room_code, seq))
        return _event_row(row) if row else None

    async def ack(self, room_code: str, event_id: str, by: str, at: str) -> dict[str, Any] | None:
        async def write(conn: psycopg.AsyncConnection) -> Result:
            await conn.execute("WITH a AS (UPDATE events SET acked_at=%s, acked_by=%s WHERE id=%s AND room_code=%s "
                               "AND alert AND acked_at IS NULL RETURNING gid) UPDATE alert_groups g SET open = g.open - 1, "
                               "acked_at=%s, acked_by=%s FROM a WHERE g.gid = a.gid", (at, by, event_id, room_code, at, by))
            row = await conn.execute("SELECT id, acked_at, acked_by, machine_id, gid FROM events WHERE id=%s "
                                     "AND room_code=%s AND alert", (event_id, room_code))
            return row.fetchone
        row = await self.writer.run(write, lock=room_code)
        return {"id": row[0], "acked_at": row[1], "acked_by": row[2], "machine_id": row[3],
                "group": row[4]} if row else None

    # -- alert groups (supervisor/alertgroups.py)
    async def alert_groups(self, room_code: str, before: int | None = None, limit: int = 50,
                           open_only: bool | None = None, gids: list[int] | None = None) -> list[dict[str, Any]]:
        sql = _GROUP_COLS + "WHERE g.room_code=%s AND g.last_seq < %s"
        args: list[Any] = [room_code, before if before is not None else 2**62]
        if open_only is True:
            sql += " AND g.open > 0"
        elif open_only is False:
            sql += " AND g.open = 0"
        if gids is not None:
            sql += " AND g.gid = ANY(%s)"
            args.append(list(gids))
        rows = await self._all(sql + " ORDER BY g.last_seq DESC LIMIT %s", (*args, limit))
        return [group_row(r, json.loads) for r in rows]

    async def group_alerts(self, room_code: str, gid: int, before: int | None = None,
                           limit: int = 50) -> list[dict[str, Any]]:
        rows = await self._all(_EVENT_COLS + "WHERE e.gid=%s AND e.room_code=%s AND e.seq < %s "
                               "ORDER BY e.seq DESC LIMIT %s",
                               (gid, room_code, before if before is not None else 2**62, limit))
        return [_event_row(r) for r in rows]

    async def ack_group(self, room_code: str, gid: int, upto: int, by: str, at: str) -> int | None:
        async def write(conn: psycopg.AsyncConnection) -> Result:
            cur = await conn.execute(
                "WITH a AS (UPDATE events SET acked_at=%s, acked_by=%s WHERE gid=%s AND room_code=%s AND seq <= %s "
                "AND acked_at IS NULL RETURNING 1), n AS (SELECT COUNT(*) AS n FROM a), "
                "g AS (UPDATE alert_groups g SET open = g.open - n.n, acked_at = CASE WHEN n.n > 0 THEN %s "
                "ELSE g.acked_at END, acked_by = CASE WHEN n.n > 0 THEN %s ELSE g.acked_by END FROM n "
                "WHERE g.gid=%s AND g.room_code=%s RETURNING n.n) SELECT n FROM g",
                (at, by, gid, room_code, upto, at, by, gid, room_code))
            return cur.fetchone
        row = await self.writer.run(write, lock=room_code)
        return int(row[0]) if row else None

    async def machine_bytes(self, room_code: str, machine_id: str) -> int:
        row = await self._one("SELECT bytes FROM machine_bytes WHERE room_code=%s AND machine_id=%s",
                              (room_code, machine_id))
        return int(row[0]) if row else 0

    async def stored_ids(self, room_code: str, machine_id: str, ids: list[str]) -> set[str]:
        rows = await self._all("SELECT id FROM events WHERE room_code=%s AND machine_id=%s AND id = ANY(%s)",
                               (room_code, machine_id, ids))
        return {r[0] for r in rows}

    # -- PV d'incident edits
    async def pv_edits(self, room_code: str) -> dict[str, Any] | None:
        row = await self._one("SELECT body, version, updated_at, updated_by FROM pv_edits WHERE room_code=%s",
                              (room_code,))
        if row is None:
            return None
        return {**json.loads(row[0]), "version": row[1], "updated_at": row[2], "updated_by": row[3]}

    async def save_pv_edits(self, room_code: str, edits: dict[str, Any], by: str, at: str,
                            expected_version: int | None = None) -> dict[str, Any] | None:
        body = dumps(edits)
        if expected_version is None:
            sql = ("INSERT INTO pv_edits AS p VALUES (%s, %s, 1, %s, %s) ON CONFLICT (room_code) DO UPDATE SET "
                   "body=excluded.body, version=p.version + 1, updated_at=excluded.updated_at, "
                   "updated_by=excluded.updated_by RETURNING version")
            args: tuple = (room_code, body, at, by)
        elif expected_version == 0:  # compare-and-set: None when someone saved meanwhile
            sql = ("INSERT INTO pv_edits VALUES (%s, %s, 1, %s, %s) ON CONFLICT (room_code) "
                   "DO NOTHING RETURNING version")
            args = (room_code, body, at, by)
        else:
            sql = ("UPDATE pv_edits SET body=%s, version=version + 1, updated_at=%s, "
                   "updated_by=%s WHERE room_code=%s AND version=%s RETURNING version")
            args = (body, at, by, room_code, expected_version)

        async def write(conn: psycopg.AsyncConnection) -> Result:
            return (await conn.execute(sql, args)).fetchone
        row = await self.writer.run(write, lock=room_code)
        if row is None:
            return None
        return {**edits, "version": row[0], "updated_at": at, "updated_by": by}

    # -- records: accounts, enrolment windows, machine secrets (supervisor/records.py)
    async def record(self, ns: str, key: str) -> tuple[dict[str, Any], int] | None:
        row = await self._one("SELECT value, version FROM records WHERE ns=%s AND key=%s", (ns, key))
        return (json.loads(row[0]), row[1]) if row else None

    async def records(self, ns: str) -> list[tuple[str, dict[str, Any], int]]:
        rows = await self._all("SELECT key, value, version FROM records WHERE ns=%s ORDER BY key", (ns,))
        return [(r[0], json.loads(r[1]), r[2]) for r in rows]

    async def put_record(self, ns: str, key: str, value: dict[str, Any], expected: int | None = None) -> int | None:
        if expected is None:
            row = await self._one("INSERT INTO records AS r VALUES (%s, %s, %s, 1) ON CONFLICT (ns, key) DO UPDATE "
                                  "SET value=excluded.value, version=r.version + 1 RETURNING version",
                                  (ns, key, dumps(value)))
        elif expected == 0:
            row = await self._one("INSERT INTO records VALUES (%s, %s, %s, 1) ON CONFLICT (ns, key) DO NOTHING "
                                  "RETURNING version", (ns, key, dumps(value)))
        else:
            row = await self._one("UPDATE records SET value=%s, version=version + 1 WHERE ns=%s AND key=%s "
                                  "AND version=%s RETURNING version", (dumps(value), ns, key, expected))
        return row[0] if row else None

    async def delete_record(self, ns: str, key: str) -> bool:
        return await self._write("DELETE FROM records WHERE ns=%s AND key=%s", (ns, key)) > 0

    async def revoke_machine(self, room_code: str, machine_id: str, *, remove: bool) -> tuple[bool, str | None]:
        async with self._pool().connection() as conn, conn.transaction():
            row = await (await conn.execute(
                "SELECT token_hash FROM machines WHERE room_code=%s AND machine_id=%s FOR UPDATE",
                (room_code, machine_id))).fetchone()
            if row is None:
                return False, None
            if remove:  # its reports and events stay: nothing a machine sent is lost
                await conn.execute("DELETE FROM machines WHERE room_code=%s AND machine_id=%s",
                                   (room_code, machine_id))
            else:
                await conn.execute("UPDATE machines SET token_hash=NULL WHERE room_code=%s AND machine_id=%s",
                                   (room_code, machine_id))
        return True, row[0]


_ADD_BYTES = ("INSERT INTO machine_bytes (room_code, machine_id, bytes) VALUES (%s, %s, %s) "
              "ON CONFLICT (room_code, machine_id) DO UPDATE SET bytes = machine_bytes.bytes + excluded.bytes")
_GROUP_COLS = ("SELECT g.gid, g.machine_id, COALESCE(m.hostname, g.machine_id), g.kind, g.subject, g.count, "
               "g.open, g.first_seq, g.last_seq, g.first_at, g.last_at, g.last_id, g.last_details, g.acked_at, g.acked_by "
               "FROM alert_groups g "
               "LEFT JOIN machines m ON m.room_code = g.room_code AND m.machine_id = g.machine_id ")
# New alerts of a batch (ids and subjects) folded into their groups: one row per (kind, subject).
_GROUP_NEW = (
    "INSERT INTO alert_groups AS g (room_code, machine_id, kind, subject, count, open, first_seq, last_seq, "
    "first_at, last_at, last_id, last_details) SELECT %s, %s, e.kind, t.subject, COUNT(*), "
    "COUNT(*) FILTER (WHERE e.acked_at IS NULL), MIN(e.seq), MAX(e.seq), (array_agg(e.at ORDER BY e.seq))[1], "
    "(array_agg(e.at ORDER BY e.seq DESC))[1], (array_agg(e.id ORDER BY e.seq DESC))[1], "
    "(array_agg(e.details ORDER BY e.seq DESC))[1] FROM unnest(%b::text[], %b::text[]) AS t(id, subject) "
    "JOIN events e ON e.id = t.id WHERE e.room_code=%s AND e.machine_id=%s AND e.alert AND e.gid IS NULL "
    "GROUP BY e.kind, t.subject ON CONFLICT (room_code, machine_id, kind, subject) DO UPDATE SET "
    "count = g.count + excluded.count, open = g.open + excluded.open, "
    "first_seq = LEAST(g.first_seq, excluded.first_seq), last_seq = GREATEST(g.last_seq, excluded.last_seq), "
    "last_at = CASE WHEN excluded.last_seq > g.last_seq THEN excluded.last_at ELSE g.last_at END, "
    "last_id = CASE WHEN excluded.last_seq > g.last_seq THEN excluded.last_id ELSE g.last_id END, "
    "last_details = CASE WHEN excluded.last_seq > g.last_seq THEN excluded.last_details ELSE g.last_details END")
_MARK_NEW = (
    "UPDATE events e SET gid = g.gid FROM unnest(%b::text[], %b::text[]) AS t(id, subject), alert_groups g "
    "WHERE e.id = t.id AND e.room_code=%s AND e.machine_id=%s AND e.alert AND e.gid IS NULL "
    "AND g.room_code = e.room_code AND g.machine_id = e.machine_id AND g.kind = e.kind AND g.subject = t.subject "
    "RETURNING e.id, e.gid")


async def _migrate(conn: psycopg.AsyncConnection) -> None:
    """Fill what a database made by an older version lacks (once; each step marked in meta). The
    subject rule is Python's (supervisor/alertgroups.py): the alerts are read, then grouped in SQL."""
    done = {r[0] for r in await (await conn.execute(
        "SELECT key FROM meta WHERE key IN ('alert_groups', 'machine_bytes')")).fetchall()}
    if "alert_groups" not in done:
        rows = await (await conn.execute("SELECT room_code, machine_id, id, details FROM events "
                                         "WHERE alert AND gid IS NULL")).fetchall()
        by_machine: dict[tuple[str, str], tuple[list[str], list[str]]] = {}
        for room, machine, event_id, details in rows:
            ids, subjects = by_machine.setdefault((room, machine), ([], []))
            ids.append(event_id)
            subjects.append(subject_of(json.loads(details)))
        for (room, machine), (ids, subjects) in by_machine.items():
            await conn.execute(_GROUP_NEW, (room, machine, ids, subjects, room, machine))
            await conn.execute(_MARK_NEW, (ids, subjects, room, machine))
        await conn.execute(  # each group's latest acknowledgement, from its alerts
            "UPDATE alert_groups g SET acked_at = x.acked_at, acked_by = x.acked_by FROM (SELECT DISTINCT ON (gid) "
            "gid, acked_at, acked_by FROM events WHERE gid IS NOT NULL AND acked_at IS NOT NULL "
            "ORDER BY gid, acked_at DESC) x WHERE g.gid = x.gid")
        await conn.execute("INSERT INTO meta VALUES ('alert_groups', '1')")
    if "machine_bytes" not in done:
        await conn.execute(
            "INSERT INTO machine_bytes SELECT room_code, machine_id, SUM(n) FROM (SELECT room_code, machine_id, "
            "length(body) AS n FROM reports UNION ALL SELECT room_code, machine_id, length(details) FROM events) u "
            "GROUP BY room_code, machine_id ON CONFLICT (room_code, machine_id) DO UPDATE SET bytes = excluded.bytes")
        await conn.execute("INSERT INTO meta VALUES ('machine_bytes', '1')")


async def _done(value: Any) -> Any:
    """The result of a write whose statements return nothing to read (or a count already known)."""
    return value


def _event_row(r: tuple) -> dict[str, Any]:
    return {"seq": r[0], "id": r[1], "kind": r[2], "at": r[3], "machine_id": r[4], "hostname": r[5],
            "details": json.loads(r[6]), "alert": bool(r[7]), "acked_at": r[8], "acked_by": r[9],
            "received_at": r[10], "group": r[11]}
