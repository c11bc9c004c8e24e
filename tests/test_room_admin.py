"""Room administration over real HTTP (a real ``examroom serve`` subprocess): each room's own
companion settings (two rooms, two real companion processes, kill -9), their checks, the
command line on a running server's database, and deleting a room without losing what it
recorded (SQLite and PostgreSQL)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.server_support import LiveServer, event, machine, report

ROOT = Path(__file__).resolve().parent.parent
STRONG = "un mot de passe solide"


def _row(server, sup, room, machine_id):
    return next((r for r in server.get(f"/rooms/{room}/machines", sup).json() if r["machine_id"] == machine_id), None)


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "agent", "room", *args], capture_output=True, text=True,
                          timeout=60, cwd=ROOT, env={**os.environ, **(env or {})})


def _login(server, username, password):
    reply = requests.post(f"{server.url}/api/v1/login", json={"username": username, "password": password}, timeout=10)
    assert reply.status_code == 200, reply.text
    return {"Authorization": f"Bearer {reply.json()['token']}"}


@pytest.fixture()
def server(tmp_path, store_url):
    live = LiveServer(tmp_path, db=store_url).start()
    try:
        yield live
    finally:
        live.stop()


def test_two_rooms_two_companions_each_follows_and_is_judged_by_its_own_room(tmp_path):
    from tests.companion_support import CompanionProcess, wait_for

    server = LiveServer(tmp_path).start()
    companions = []
    try:
        sup = server.login()
        made = server.post("/rooms", sup, {"name": "Salle rapide", "settings": {"heartbeat_s": 1, "lost_after_s": 4}})
        assert made.status_code == 200, made.text
        fast = made.json()["code"]
        slow = server.create_room(sup, "Salle lente")
        put = server.put_json(f"/rooms/{slow}/settings", sup, {"heartbeat_s": 2, "lost_after_s": 10,
                                                                "exam_title": r"\bPix\b|Certification"})
        assert put.status_code == 200, put.text
        assert put.json()["own"] == {"heartbeat_s": 2.0, "lost_after_s": 10.0, "exam_title": r"\bPix\b|Certification"}
        assert server.get(f"/rooms/{fast}/settings", sup).json()["settings"]["lost_after_s"] == 4.0

        platform = f"{server.url}/api/v1/health"
        # A: announces a heartbeat of 10 s in a 1 s room; B: the default title in a room with its own
        a = CompanionProcess(tmp_path, "m-fast", server.url, fast, platform_url=platform, extra=["--heartbeat", "10"])
        companions.append(a)
        b = CompanionProcess(tmp_path, "m-slow", server.url, slow, platform_url=platform)
        companions.append(b)
        for room, machine in ((fast, "m-fast"), (slow, "m-slow")):
            assert wait_for(lambda: (r := _row(server, sup, room, machine)) and r["live"] == "online", 30), \
                (a.log(), b.log())
            assert wait_for(lambda: _row(server, sup, room, machine)["flags"].get("settings") == "notice", 10)

        def outside(room):
            return [e["details"]["outside"] for e in server.get(f"/rooms/{room}/events", sup).json()
                    if e["kind"] == "companion_settings"]
        # the tile's flag is in memory a moment before its companion_settings event is committed
        assert wait_for(lambda: outside(fast) and outside(slow), 10)
        assert outside(fast) == [{"heartbeat_s": [10.0, 1.0]}]
        assert outside(slow) == [{"exam_title": [r"\bPix\b", r"\bPix\b|Certification"]}]
        # A follows ITS room: a heartbeat every second, not every 10 s
        assert wait_for(lambda: "heartbeat every 1.0 s as the room asks" in a.log(), 10), a.log()

        a.kill9()
        b.kill9()
        assert wait_for(lambda: _row(server, sup, fast, "m-fast")["live"] == "lost", 15, step=0.2)
        # A is lost after its room's 4 s; B, killed at the same moment, is still online (its room: 10 s)
        assert _row(server, sup, slow, "m-slow")["live"] == "online"
        assert wait_for(lambda: _row(server, sup, slow, "m-slow")["live"] == "lost", 20, step=0.2)

        def lost(room):
            return [e["details"] for e in server.get(f"/rooms/{room}/events", sup).json()
                    if e["kind"] == "companion_lost"]
        assert wait_for(lambda: lost(fast) and lost(slow), 10)
        assert 4 <= lost(fast)[0]["silent_s"] < 10 and lost(slow)[0]["silent_s"] >= 10
    finally:
        for companion in companions:
            companion.cleanup()
        server.stop()


def test_settings_are_checked_by_role_and_reach_machines_and_the_command_line(server):
    admin = server.login()
    room = server.create_room(admin, "Salle B12")
    pc = server.enroll(room, "m1")
    answer = server.post("/heartbeat", pc, {"interval_s": 2}).json()
    assert answer["settings"]["heartbeat_s"] == 2.0 and answer["settings"]["lost_after_s"] == 6.0   # the server's
    # wrong values: 422 with the field, nothing stored
    for body, field in (({"heartbeat_s": 0}, "heartbeat_s"), ({"lost_after_s": 99999}, "lost_after_s"),
                        ({"exam_title": "."}, "exam_title"), ({"exam_title": "(Pix"}, "exam_title"),
                        ({"platform_url": "javascript:alert(1)"}, "platform_url"),
                        ({"heartbeat_s": 5, "lost_after_s": 6}, "lost_after_s")):
        refused = server.put_json(f"/rooms/{room}/settings", admin, body)
        assert refused.status_code == 422 and refused.json()["detail"]["field"] == field, (body, refused.text)
    assert server.put_json(f"/rooms/{room}/settings", admin, {"heartbeat": 5}).status_code == 422   # a typo
    assert server.post("/rooms", admin, {"name": "Mauvaise", "settings": {"heartbeat_s": -1}}).status_code == 422
    assert "Mauvaise" not in [r["name"] for r in server.get("/rooms", admin).json()]   # nothing created
    # a heartbeat alone: the lost timeout follows (three heartbeats)
    saved = server.put_json(f"/rooms/{room}/settings", admin, {"heartbeat_s": 5})
    assert saved.status_code == 200 and saved.json()["settings"]["lost_after_s"] == 15.0
    assert server.post("/heartbeat", pc, {"interval_s": 2}).json()["settings"]["heartbeat_s"] == 5.0

    # roles: a technician changes them, a supervisor of the room reads them only
    server.post("/users", admin, {"username": "paul", "password": STRONG, "role": "technician"})
    server.post("/users", admin, {"username": "marie", "password": STRONG, "role": "supervisor", "room": room})
    paul, marie = _login(server, "paul", STRONG), _login(server, "marie", STRONG)
    assert server.put_json(f"/rooms/{room}/settings", paul, {"heartbeat_s": 3}).status_code == 200
    assert server.get(f"/rooms/{room}/settings", marie).json()["own"] == {"heartbeat_s": 3.0}
    assert server.put_json(f"/rooms/{room}/settings", marie, {}).status_code == 403

    # the command line, on the running server's database: the server applies it without a restart
    db = server.db_url or str(server.db)
    bad = _cli("settings", room, "--lost-after", "2", "--db", db, "--lang", "fr")
    assert bad.returncode == 2 and bad.stderr.startswith("examroom: --lost-after: un délai de perte de 2.0 s") \
        and "Traceback" not in bad.stderr, bad.stderr
    done = _cli("settings", room.lower(), "--heartbeat", "1.5", "--exam-title", r"\bPix\b", "--db", db, "--lang", "en")
    assert done.returncode == 0, done.stderr
    assert "heartbeat_s   1.5  (this room's own)" in done.stdout
    from tests.companion_support import wait_for

    assert wait_for(lambda: server.post("/heartbeat", pc, {"interval_s": 2}).json()["settings"]["heartbeat_s"] == 1.5,
                    15, step=0.5)
    assert server.get(f"/rooms/{room}/settings", admin).json()["own"] == {"heartbeat_s": 1.5, "exam_title": r"\bPix\b"}
    made = _cli("create", "Salle C3", "--heartbeat", "4", "--platform-url", "https://app.pix.fr", "--db", db)
    assert made.returncode == 0, made.stderr
    other = made.stdout.strip()
    assert server.get(f"/rooms/{other}/settings", admin).json()["settings"] == {
        "heartbeat_s": 4.0, "lost_after_s": 12.0, "exam_title": r"\bPix\b", "platform_url": "https://app.pix.fr"}
    # back to the server's values
    assert server.put_json(f"/rooms/{room}/settings", admin, {}).json()["own"] == {}
    assert server.post("/heartbeat", pc, {"interval_s": 2}).json()["settings"]["heartbeat_s"] == 2.0


def test_deleting_a_room_revokes_its_machines_and_keeps_what_it_recorded(server, tmp_path):
    admin = server.login()
    room, other = server.create_room(admin, "Salle à supprimer"), server.create_room(admin, "Salle voisine")
    pc = server.enroll(room, "m1", "B12-PC1")
    neighbour = server.enroll(other, "m9")
    assert server.post("/reports", pc, report("m1", ready=True, hostname="B12-PC1")).status_code == 200
    assert server.post("/events", pc, {"events": [event("focus_lost", title="Discord", category="communication",
                                                        level="alert")]}).status_code == 200
    server.put_json(f"/rooms/{room}/incidents/edits", admin, {"comment": "RAS"})
    # only an admin deletes
    server.post("/users", admin, {"username": "paul", "password": STRONG, "role": "technician"})
    paul = _login(server, "paul", STRONG)
    assert server_delete(server, room, paul).status_code == 403
    # in use today: refused, saying what it holds
    refused = server_delete(server, room, admin)
    assert refused.status_code == 409 and refused.json()["code"] == "room_active"
    assert refused.json()["detail"]["reports"] == 1 and refused.json()["detail"]["events"] == 1
    assert server.post("/heartbeat", pc, {}).status_code == 200   # nothing changed
    archive = server.get(f"/rooms/{room}/archive", admin).json()
    assert archive["schema"] == "examroom.room-archive/1" and len(archive["reports"]) == 1
    assert [e["kind"] for e in archive["events"]] == ["focus_lost"]

    done = server_delete(server, room, admin, force=True)
    assert done.status_code == 200, done.text
    assert done.json()["reports"] == 1 and done.json()["events"] == 1 and done.json()["forced"] is True
    assert server.post("/heartbeat", pc, {}).status_code == 401    # its machines' tokens are revoked at once
    assert server.post("/heartbeat", neighbour, {}).status_code == 200   # not the other rooms'
    assert room not in [r["code"] for r in server.get("/rooms", admin).json()]
    assert server.get(f"/rooms/{room}/machines", admin).status_code == 404
    assert server_delete(server, room, admin).status_code == 404
    enrol = requests.post(f"{server.url}/api/v1/enroll", json={"room_code": room, "machine": machine("m1")}, timeout=10)
    assert enrol.status_code == 404
    # nothing recorded is lost: the archive of the deleted room still has it all
    kept = server.get(f"/rooms/{room}/archive", admin).json()
    assert kept["deleted"]["by"] == "admin" and kept["room"]["name"] == "Salle à supprimer"
    assert [m["hostname"] for m in kept["machines"]] == ["B12-PC1"]
    assert kept["pv_edits"]["comment"] == "RAS"
    assert len(kept["reports"]) == 1 and kept["reports"][0]["report"]["machine"]["hostname"] == "B12-PC1"
    assert [e["kind"] for e in kept["events"]] == ["focus_lost"]

    # the command line: confirmation, refusal while in use, archive first, then deletion
    db = server.db_url or str(server.db)
    assert server.post("/events", neighbour, {"events": [event("focus_lost", title="Word")]}).status_code == 200
    unconfirmed = _cli("delete", other, "--db", db, "--lang", "fr")
    assert unconfirmed.returncode == 2 and "--yes" in unconfirmed.stderr and "Traceback" not in unconfirmed.stderr
    active = _cli("delete", other, "--yes", "--db", db, "--lang", "en")
    assert active.returncode == 2 and "an exam session may be under way" in active.stderr, active.stderr
    unwritable = _cli("delete", other, "--yes", "--force", "--archive", "/proc/no/such.json", "--db", db)
    assert unwritable.returncode == 2 and "nothing was deleted" in unwritable.stderr
    assert server.post("/heartbeat", neighbour, {}).status_code == 200
    path = tmp_path / "archive" / "voisine.json"
    gone = _cli("delete", other.lower(), "--yes", "--force", "--archive", str(path), "--db", db, "--lang", "en")
    assert gone.returncode == 0, gone.stderr
    assert "1 machine(s) revoked" in gone.stderr
    written = json.loads(path.read_text(encoding="utf-8"))
    assert written["room"]["code"] == other and [e["details"]["title"] for e in written["events"] if e["kind"] == "focus_lost"] == ["Word"], \
        written["events"]
    from tests.companion_support import wait_for

    # the running server forgets the token it had cached within a few seconds (no restart)
    assert wait_for(lambda: server.post("/heartbeat", neighbour, {}).status_code == 401, 15, step=0.5)
    missing = _cli("delete", "ZZZZZZ", "--yes", "--db", db)
    assert missing.returncode == 2 and "no room has the code ZZZZZZ" in missing.stderr


def server_delete(server, code, headers, force=False):
    return requests.delete(f"{server.url}/api/v1/rooms/{code}", headers=headers, params={"force": str(force).lower()},
                           timeout=10)


# -- the rules themselves (unit tests, beside the real ones above)

def test_each_room_is_judged_by_its_own_lost_timeout_and_settings():
    from core.roomsettings import RoomSettings
    from supervisor.models import HeartbeatIn
    from supervisor.watchdog import Liveness

    now = [1000.0]
    live = Liveness(clock=lambda: now[0])
    live.set_room("FAST", RoomSettings(heartbeat_s=1, lost_after_s=3))
    for key in (("FAST", "a"), ("SLOW", "b")):
        live.beat(key, HeartbeatIn(interval_s=1), "t")
    now[0] += 3.5
    assert [key for key, _silent in live.expire()] == [("FAST", "a")]   # SLOW: the server's 6 s
    now[0] += 3
    assert [key for key, _silent in live.expire()] == [("SLOW", "b")]
    # outside its room's settings: flagged; the room changes its settings: judged again
    live.beat(("FAST", "c"), HeartbeatIn(interval_s=2), "t")
    assert live.get(("FAST", "c")).flags == {"settings": "notice"}
    assert live.set_room("FAST", RoomSettings(heartbeat_s=2, lost_after_s=6)) == [("FAST", "c")]
    assert live.get(("FAST", "c")).flags == {}
    live.beat(("FAST", "c"), HeartbeatIn(interval_s=2), "t")
    assert live.get(("FAST", "c")).flags == {}
    live.forget_room("FAST")
    assert live.keys() == [("SLOW", "b")] and live.settings_for("FAST") == live.room


def test_a_rooms_settings_are_checked_and_inherit_the_servers():
    from core.roomsettings import RoomSettings, SettingsProblem, checked, effective

    server = RoomSettings(heartbeat_s=2, lost_after_s=8, exam_title=r"\bPix\b", platform_url="https://app.pix.fr")
    assert effective(server, {}) == server
    assert effective(server, {"heartbeat_s": 4}).lost_after_s == 12     # three heartbeats
    assert effective(server, {"heartbeat_s": 1}).lost_after_s == 8      # never below the server's
    assert effective(server, {"exam_title": "Certif"}).platform_url == "https://app.pix.fr"
    assert checked({"heartbeat_s": 3, "lost_after_s": None}, server) == {"heartbeat_s": 3.0}
    for own, field, reason in (({"heartbeat_s": 0.1}, "heartbeat_s", "range"),
                               ({"heartbeat_s": float("nan")}, "heartbeat_s", "range"),
                               ({"heartbeat_s": True}, "heartbeat_s", "range"),
                               ({"lost_after_s": 3}, "lost_after_s", "lost_short"),   # < 2 x the server's 2 s
                               ({"exam_title": ".*"}, "exam_title", "title_any"),
                               ({"exam_title": r"\w"}, "exam_title", "title_any"),
                               ({"exam_title": " "}, "exam_title", "title_empty"),
                               ({"exam_title": "[Pix"}, "exam_title", "title_regex"),
                               ({"platform_url": "app.pix.fr"}, "platform_url", "url"),
                               ({"platform_url": "http://[x/"}, "platform_url", "url")):   # urlparse's ValueError
        with pytest.raises(SettingsProblem) as raised:
            checked(own, server)
        assert (raised.value.field, raised.value.key) == (field, f"room.settings.{reason}"), own
        assert raised.value.text("fr") and raised.value.text("en")


def test_a_room_is_in_use_when_it_received_data_in_the_last_24_hours():
    from datetime import datetime, timezone

    from supervisor.roomadmin import is_active

    now = datetime(2026, 12, 2, 10, 0, tzinfo=timezone.utc)
    assert not is_active({"last_received_at": None}, now)
    assert is_active({"last_received_at": "2026-12-02T08:00:00.000Z"}, now)
    assert is_active({"last_received_at": "2026-12-01T10:30:00.000Z"}, now)
    assert not is_active({"last_received_at": "2026-12-01T09:30:00.000Z"}, now)


def test_a_deleted_rooms_code_is_never_drawn_again(tmp_path, monkeypatch):
    import asyncio

    from supervisor import service
    from supervisor.dburl import open_store
    from supervisor.live import Hub
    from supervisor.watchdog import Liveness

    async def run() -> None:
        store = open_store(str(tmp_path / "rooms.sqlite3"))
        await store.start()
        try:
            server = service.Server(store, Hub(), Liveness())
            drawn = iter(["AAAAAA", "AAAAAA", "BBBBBB"])
            monkeypatch.setattr(service, "new_room_code", lambda: next(drawn))
            first = await server.create_room("Salle A")
            await server.delete_room(first, "admin", force=False)   # empty: not in use
            again = await server.create_room("Salle B")
            assert (first["code"], again["code"]) == ("AAAAAA", "BBBBBB")
            assert await store.room("AAAAAA") is None and (await store.record("room_deleted", "AAAAAA"))[0]["name"] == "Salle A"
        finally:
            await store.close()

    asyncio.run(run())


def test_two_server_processes_on_one_postgresql_share_a_rooms_settings_and_its_deletion(tmp_path, pg_url):
    """An académie's servers: a room changed or deleted on one process holds on the other at once."""
    from tests.companion_support import wait_for

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = LiveServer(tmp_path / "a", db=pg_url).start()
    try:
        second = LiveServer(tmp_path / "b", db=pg_url).start()
        try:
            admin = first.login()
            room = first.create_room(admin, "Salle académique")
            pc = second.enroll(room, "m1")    # this machine talks to the second process
            assert second.post("/heartbeat", pc, {"interval_s": 2}).json()["settings"]["heartbeat_s"] == 2.0
            assert first.put_json(f"/rooms/{room}/settings", admin, {"heartbeat_s": 4}).status_code == 200
            assert wait_for(lambda: second.post("/heartbeat", pc, {"interval_s": 2}).json()["settings"]
                            ["lost_after_s"] == 12.0, 10, step=0.2)
            assert second.post("/reports", pc, report("m1", ready=True)).status_code == 200
            assert server_delete(first, room, admin).status_code == 409   # in use, whichever process took it
            assert server_delete(first, room, admin, force=True).status_code == 200
            assert wait_for(lambda: second.post("/heartbeat", pc, {}).status_code == 401, 10, step=0.2)
            assert len(second.get(f"/rooms/{room}/archive", second.login()).json()["reports"]) == 1
        finally:
            second.stop()
    finally:
        first.stop()
