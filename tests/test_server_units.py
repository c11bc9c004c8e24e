"""Server pieces tested in-process (FastAPI's TestClient and plain calls): admin password
policy, login throttling, logout, response headers, restart grace of the live state."""
from __future__ import annotations

import asyncio

import pytest
from fastapi.testclient import TestClient

from core.errors import BadInput
from supervisor.app import Settings, create_app
from supervisor.throttle import LoginGuard
from supervisor.auth import LoginThrottle, hash_password, verify_password
from supervisor.live import Hub
from supervisor.models import HeartbeatIn
from supervisor.service import Server
from supervisor.dburl import open_store
from supervisor.store import normalize_code
from supervisor.watchdog import Liveness


def test_passwords_are_salted_scrypt_hashes():
    one, two = hash_password("secret"), hash_password("secret")
    assert one != two and one.startswith("scrypt$") and "secret" not in one
    assert verify_password("secret", one) and not verify_password("Secret", one)
    assert not verify_password("secret", "garbage") and not verify_password("secret", "md5$x$y$z$a$b")


def test_the_stored_admin_password_wins_unless_reset(tmp_path):
    db = tmp_path / "s.db"
    with pytest.raises(BadInput) as missing:
        create_app(Settings(db=db))
    assert "EXAMROOM_ADMIN_PASSWORD" in missing.value.line()
    assert create_app(Settings(db=db, admin_password="first")).state.admin_state == "set"
    assert create_app(Settings(db=db)).state.admin_state == "kept"
    app = create_app(Settings(db=db, admin_password="second"))
    assert app.state.admin_state == "differs"
    with TestClient(app) as client:
        assert client.post("/api/v1/login", json={"username": "admin", "password": "second"}).status_code == 401
        assert client.post("/api/v1/login", json={"username": "admin", "password": "first"}).status_code == 200
    app = create_app(Settings(db=db, admin_password="second", reset_admin_password=True))
    assert app.state.admin_state == "reset"
    with TestClient(app) as client:
        assert client.post("/api/v1/login", json={"username": "admin", "password": "second"}).status_code == 200
    store = open_store(db)
    stored = asyncio.run(store.admin_hash())
    assert "second" not in stored and stored.startswith("scrypt$")
    asyncio.run(store.close())


def test_login_throttle_logout_and_headers(tmp_path):
    app = create_app(Settings(db=tmp_path / "s.db", admin_password="pw"))
    with TestClient(app) as client:
        for _ in range(10):
            assert client.post("/api/v1/login", json={"username": "admin", "password": "no"}).status_code == 401
        blocked = client.post("/api/v1/login", json={"username": "admin", "password": "pw"})
        assert blocked.status_code == 429 and blocked.json()["detail"]["retry_after_s"] > 0
        app.state.server.login_guard = LoginGuard()
        token = client.post("/api/v1/login", json={"username": "admin", "password": "pw"}).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        rooms = client.get("/api/v1/rooms", headers=auth)
        assert rooms.status_code == 200
        assert rooms.headers["cache-control"] == "no-store" and rooms.headers["x-content-type-options"] == "nosniff"
        assert rooms.headers["x-frame-options"] == "DENY" and rooms.headers["referrer-policy"] == "no-referrer"
        assert client.post("/api/v1/logout", headers=auth).json() == {"ok": True}
        assert client.get("/api/v1/rooms", headers=auth).status_code == 401


def test_login_throttle_window():
    now = [0.0]
    throttle = LoginThrottle(max_failures=3, window_s=60, clock=lambda: now[0])
    for _ in range(3):
        assert throttle.wait_s("10.0.0.5") == 0
        throttle.failed("10.0.0.5")
    # A leaky bucket: 3 per 60 s drains one failure every 20 s.
    assert throttle.wait_s("10.0.0.5") == 20 and throttle.wait_s("10.0.0.6") == 0
    now[0] = 21
    assert throttle.wait_s("10.0.0.5") == 0


def test_room_codes_are_typed_forgivingly():
    assert normalize_code(" ab3-k7m ") == "AB3K7M"


def test_after_a_server_restart_online_companions_get_a_full_period_to_return():
    now = [500.0]
    live = Liveness(clock=lambda: now[0])
    live.load(("R", "back"), "2026-11-22T09:00:00Z", {"status": "online", "interval_s": 2, "focus": "away"})
    live.load(("R", "gone"), "2026-11-22T09:00:00Z", {"status": "online", "interval_s": 2})
    live.load(("R", "never"), None, {})
    assert live.get(("R", "back")).public()["focus"] == "away"
    now[0] += 3
    live.beat(("R", "back"), HeartbeatIn(interval_s=2), "t")
    assert live.expire() == []
    now[0] += 4
    assert [key for key, _ in live.expire()] == [("R", "gone")]
    assert live.get(("R", "never")).status == "never"


def test_group_commit_refuses_only_the_failing_write_of_a_batch(tmp_path):
    import sqlite3
    import threading

    from supervisor.dbwriter import GroupCommitWriter

    writer = GroupCommitWriter(lambda: sqlite3.connect(tmp_path / "w.db", check_same_thread=False))
    writer.call(lambda c: c.execute("CREATE TABLE t (k INTEGER PRIMARY KEY)"))
    gate, running = threading.Event(), threading.Event()
    blocker = writer.submit(lambda c: running.set() or gate.wait(5))  # holds the writer while a batch queues
    assert running.wait(5)
    first = writer.submit(lambda c: c.execute("INSERT INTO t VALUES (1)").rowcount)
    clash = writer.submit(lambda c: c.execute("INSERT INTO t VALUES (1)"))  # same key: refused
    gone = writer.submit(lambda c: c.execute("INSERT INTO t VALUES (3)"))
    assert gone.cancel()  # its caller went away before the write ran: skipped
    third = writer.submit(lambda c: c.execute("INSERT INTO t VALUES (2)").rowcount)
    batches_before = writer.batches
    gate.set()
    assert blocker.result(5) is True and first.result(5) == 1 and third.result(5) == 1
    with pytest.raises(sqlite3.IntegrityError):
        clash.result(5)
    assert writer.batches == batches_before + 2  # the blocker's batch, then one for the other three
    assert writer.call(lambda c: [r[0] for r in c.execute("SELECT k FROM t ORDER BY k")]) == [1, 2]
    writer.close()


def test_the_hub_keeps_alive_fans_out_and_drops_a_dashboard_that_does_not_read():
    import asyncio

    from supervisor.live import Hub

    async def scenario() -> None:
        hub = Hub(max_queue=3, keepalive_s=0.05)
        reader = hub.stream("R1")
        assert (await reader.__anext__()).startswith(b"retry: 2000\n")
        assert await reader.__anext__() == b": keep-alive\n\n"  # nothing happened for keepalive_s
        other = hub.subscribe("R2")
        hub.publish("R1", "event", {"kind": "focus_lost", "title": "Discord « x »"})
        assert await reader.__anext__() == 'event: event\ndata: {"kind":"focus_lost","title":"Discord « x »"}\n\n'.encode()
        assert other.empty()  # other rooms hear nothing
        for n in range(5):  # R1's reader is not reading: its queue overflows
            hub.publish("R1", "machine", {"n": n})
        assert hub.subscribers("R1") == 0
        with pytest.raises(StopAsyncIteration):  # its stream ends; EventSource reconnects and reloads
            await reader.__anext__()

    asyncio.run(scenario())


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_every_backend_implements_the_whole_store_interface(backend):
    import inspect

    from supervisor.store import Store

    if backend == "sqlite":
        from supervisor.store_sqlite import SQLiteStore as Backend
    else:
        pytest.importorskip("psycopg", reason="the postgres extra (psycopg) is not installed")
        from supervisor.store_pg import PostgresStore as Backend

    wanted = {name: member for name, member in vars(Store).items()
              if callable(member) and not name.startswith("_")}
    assert len(wanted) > 15
    for name, member in wanted.items():
        mine = getattr(Backend, name, None)
        assert mine is not None, name
        assert inspect.iscoroutinefunction(mine) and inspect.iscoroutinefunction(member), name
        assert list(inspect.signature(mine).parameters) == list(inspect.signature(member).parameters), name


def test_any_sequence_of_overlapping_batches_stores_each_event_once(tmp_path):
    """Property: however batches overlap and repeat (outbox replays, two threads), the server
    stores each id once, reports stored + duplicates = batch size, and keeps arrival order."""
    import uuid

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from supervisor.auth import MACHINE_PREFIX, new_token, token_hash

    app = create_app(Settings(db=tmp_path / "p.db", admin_password="pw", web_dir=tmp_path / "none"))
    server = app.state.server
    client = TestClient(app)
    login = client.post("/api/v1/login", json={"username": "admin", "password": "pw"}).json()["token"]
    sup = {"Authorization": f"Bearer {login}"}

    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(st.lists(st.integers(0, 11), max_size=6), min_size=1, max_size=8))
    def check(picks):
        import asyncio

        pool = [str(uuid.uuid4()) for _ in range(12)]  # fresh ids: event ids are global
        batches = [[pool[n] for n in pick] for pick in picks]
        room = asyncio.run(server.create_room("P"))["code"]
        token = new_token(MACHINE_PREFIX)
        asyncio.run(server.enroll(room, {"id": "m", "hostname": "h", "os": "linux"}, token_hash(token)))
        mach = {"Authorization": f"Bearer {token}"}
        seen: list[str] = []
        for batch in batches:
            body = {"events": [{"id": i, "kind": "net_up", "at": "2026-11-22T09:00:00Z"} for i in batch]}
            reply = client.post("/api/v1/events", json=body, headers=mach).json()
            new = [i for n, i in enumerate(batch) if i not in seen and i not in batch[:n]]
            assert reply == {"stored": len(new), "duplicates": len(batch) - len(new)}
            seen.extend(new)
        stored = [e["id"] for e in client.get(f"/api/v1/rooms/{room}/events", headers=sup).json()]
        assert stored == seen

    check()


def test_guessing_room_codes_is_throttled(tmp_path):
    app = create_app(Settings(db=tmp_path / "s.db", admin_password="pw"))
    app.state.server.enrol_throttle = LoginThrottle(max_failures=3)
    machine = {"id": "m1", "hostname": "PC", "os": "linux"}
    with TestClient(app) as client:
        for code in ("AAAAAA", "BBBBBB", "CCCCCC"):
            assert client.post("/api/v1/enroll", json={"room_code": code, "machine": machine}).status_code == 404
        blocked = client.post("/api/v1/enroll", json={"room_code": "DDDDDD", "machine": machine})
        assert blocked.status_code == 429 and blocked.json()["code"] == "too_many_attempts"


@pytest.mark.parametrize("sqlite_version", [(3, 40, 1), (3, 31, 1)], ids=["returning", "before-3.35"])
def test_event_batches_on_both_insert_paths(tmp_path, monkeypatch, sqlite_version):
    import asyncio
    import sqlite3
    import uuid

    monkeypatch.setattr(sqlite3, "sqlite_version_info", sqlite_version)
    store = open_store(tmp_path / "e.db")
    server = Server(store, Hub(), Liveness())

    async def scenario():
        await server.start()
        room = (await server.create_room("R"))["code"]
        await server.enroll(room, {"id": "m", "hostname": "PC-7", "os": "linux"}, "h")
        ids = [str(uuid.uuid4()) for _ in range(250)]
        batch = [{"id": i, "kind": "focus_lost", "at": "t", "details": {"n": n}} for n, i in enumerate(ids)]
        rows, dup = await server.add_events(room, "m", batch + batch[:3])
        assert dup == 3 and [r["id"] for r in rows] == ids and rows[5]["details"] == {"n": 5}
        assert rows[0]["hostname"] == "PC-7" and rows[0]["alert"] is True
        assert [r["seq"] for r in rows] == sorted(r["seq"] for r in rows)
        rows, dup = await server.add_events(room, "m", batch[:10])
        assert rows == [] and dup == 10
        assert [e["id"] for e in await store.events(room, 0, 1000)] == ids
        await store.close()

    asyncio.run(scenario())


def test_the_service_rules_are_the_same_on_postgresql(pg_url):
    """Through the service on a real PostgreSQL: idempotent ids (within a batch and across
    batches), the alert rule, problems worst first, facts, token revocation, PV versions."""
    import uuid

    store = open_store(pg_url)
    server = Server(store, Hub(), Liveness())

    async def scenario():
        await server.start()
        room = (await server.create_room("R"))["code"]
        await server.enroll(room, {"id": "m", "hostname": "PC-7", "os": "linux", "ram_gb": 8}, "h1")
        assert await server.machine_for_token("h1") == (room, "m")
        await server.enroll(room, {"id": "m", "hostname": "PC-7", "os": "linux"}, "h2")  # revokes h1
        assert await server.machine_for_token("h1") is None and await server.machine_for_token("h2") == (room, "m")
        ids = [str(uuid.uuid4()) for _ in range(250)]
        batch = [{"id": i, "kind": "focus_lost", "at": "t", "details": {"n": n}} for n, i in enumerate(ids)]
        rows, dup = await server.add_events(room, "m", batch + batch[:3])
        assert dup == 3 and [r["id"] for r in rows] == ids and rows[5]["details"] == {"n": 5}
        assert rows[0]["hostname"] == "PC-7" and rows[0]["alert"] is True
        rows, dup = await server.add_events(room, "m", batch[:10])
        assert rows == [] and dup == 10
        assert [e["id"] for e in await store.events(room, 0, 1000)] == ids
        stopped = {"id": str(uuid.uuid4()), "kind": "net_up", "at": "t", "details": {}}
        assert (await server.add_events(room, "m", [stopped]))[0][0]["alert"] is False
        report = {"machine": {"id": "m", "hostname": "PC-7", "os": "linux", "arch": "x86_64"}, "ready": False,
                  "status": "fail", "finished_at": "t", "checks": [
                      {"id": "a", "status": "warn"}, {"id": "b", "status": "ok"}, {"id": "c", "status": "fail"}]}
        await server.report(room, "m", report)
        row = (await store.machines(room))[0]
        assert [p["id"] for p in row["problems"]] == ["c", "a"] and row["facts"] == {"arch": "x86_64"}
        assert row["ready"] is False and row["alerts"] == 250
        assert (await server.save_pv_edits(room, {"comment": "x"}, "admin"))["version"] == 1
        assert (await server.save_pv_edits(room, {"comment": "y"}, "admin"))["version"] == 2
        await store.close()

    asyncio.run(scenario())


def test_postgresql_group_commit_refuses_only_the_failing_write_of_a_batch(pg_url):
    """One batch (one transaction, pipelined); a duplicate key in it: the batch is replayed
    write by write, only that write is refused, the others are committed."""
    import psycopg

    from supervisor.pgwriter import PgGroupCommit

    def insert(key: int):
        async def write(conn):
            cur = await conn.execute("INSERT INTO t VALUES (%s) RETURNING k", (key,))
            return cur.fetchone
        return write

    async def scenario():
        async def connect():
            return await psycopg.AsyncConnection.connect(pg_url, autocommit=True)

        async with await connect() as conn:
            await conn.execute("CREATE TABLE t (k INTEGER PRIMARY KEY)")
        writer = PgGroupCommit(connect, "SELECT pg_advisory_xact_lock(1, hashtext(%s))")
        await writer.start()
        outcomes = await asyncio.gather(writer.run(insert(1), "r"), writer.run(insert(1)),
                                        writer.run(insert(2), "r"), return_exceptions=True)
        assert outcomes[0] == (1,) and outcomes[2] == (2,)
        assert isinstance(outcomes[1], psycopg.errors.UniqueViolation)
        assert (writer.batches, writer.writes) == (1, 3)  # one transaction served all three
        await writer.close()
        async with await connect() as conn:
            assert [r[0] for r in await (await conn.execute("SELECT k FROM t ORDER BY k")).fetchall()] == [1, 2]

    asyncio.run(scenario())


def test_both_backends_have_the_same_tables_and_columns(tmp_path, pg_url):
    """A table or column added to one backend only would make the other fail at run time."""
    import sqlite3

    import psycopg

    async def open_both():
        for store in (open_store(tmp_path / "s.db"), open_store(pg_url)):
            await store.start()
            await store.close()

    asyncio.run(open_both())
    with sqlite3.connect(tmp_path / "s.db") as db:
        names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table' "
                                          "AND name NOT LIKE 'sqlite_%'")]
        lite = {t: sorted(r[1] for r in db.execute(f"PRAGMA table_info({t})")) for t in names}
    with psycopg.connect(pg_url) as conn:
        rows = conn.execute("SELECT table_name, column_name FROM information_schema.columns "
                            "WHERE table_schema='public'").fetchall()
    pg: dict[str, list[str]] = {}
    for table, column in rows:
        pg.setdefault(table, []).append(column)
    assert lite == {t: sorted(c) for t, c in pg.items()}
