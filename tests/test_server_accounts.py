"""Enrolment a supervisor controls and named accounts with roles (issue 15, rows 6, 8, 15),
over real HTTP against ``examroom serve`` on both backends (SQLite file, PostgreSQL).

Another machine cannot take an enrolled machine's id; 1,000 phantom machines stop at the
room's cap; a closed room refuses new machines but lets a known one (with its secret) back;
machines are revoked and removed; accounts are created with ``examroom user add`` and over
the API, each role reaches only what it is for, and the journal says who acknowledged.
"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
import requests

from tests.server_support import LiveServer, event, machine

STRONG = "un mot de passe solide"


@pytest.fixture()
def server(tmp_path, store_url):
    live = LiveServer(tmp_path, db=store_url, args=("--sse-keepalive", "0.5", "--lang", "fr")).start()
    yield live
    live.stop()


def _enrol(server, room, machine_id, secret=None, hostname=None):
    body = {"room_code": room, "machine": machine(machine_id, hostname)}
    if secret:
        body["secret"] = secret
    return requests.post(f"{server.url}/api/v1/enroll", json=body, timeout=10)


def _login(server, username, password):
    reply = requests.post(f"{server.url}/api/v1/login", json={"username": username, "password": password}, timeout=10)
    assert reply.status_code == 200, reply.text
    return {"Authorization": f"Bearer {reply.json()['token']}"}


def test_a_machine_id_is_bound_to_its_first_enrolment(server):
    sup = server.login()
    room = server.create_room(sup)
    first = _enrol(server, room, "pc-07", hostname="PC-07")
    assert first.status_code == 200 and first.json()["secret"]
    secret, token = first.json()["secret"], {"Authorization": f"Bearer {first.json()['token']}"}
    # Someone else with the room code and the id: refused, and the real machine keeps working.
    thief = _enrol(server, room, "pc-07", hostname="EVIL")
    assert thief.status_code == 409 and thief.json()["code"] == "machine_id_taken"
    assert _enrol(server, room, "pc-07", secret="wrong").status_code == 409
    assert server.post("/heartbeat", token, {}).status_code == 200
    assert server.get(f"/rooms/{room}/machines", sup).json()[0]["hostname"] == "PC-07"
    # The machine itself (with its secret) enrols again: new token, the old one revoked.
    again = _enrol(server, room, "pc-07", secret=secret)
    assert again.status_code == 200 and again.json()["secret"] is None
    assert server.post("/heartbeat", token, {}).status_code == 401


def test_the_rooms_window_and_cap_and_removing_machines(server):
    sup = server.login()
    room = server.create_room(sup)
    state = server.get(f"/rooms/{room}/enrolment", sup).json()
    assert state["open"] is True and state["open_until"] and state["max_machines"] == 200
    # Phantom machines stop at the cap.
    assert server.put_json(f"/rooms/{room}/enrolment", sup, {"max_machines": 5}).json()["max_machines"] == 5
    statuses = [_enrol(server, room, f"phantom-{n}").status_code for n in range(12)]
    assert statuses.count(200) == 5 and set(statuses[5:]) == {429}
    # Closed: no new machine, but a known one comes back with its secret.
    server.put_json(f"/rooms/{room}/enrolment", sup, {"max_machines": 50})
    known = _enrol(server, room, "known")
    assert known.status_code == 200
    closed = server.put_json(f"/rooms/{room}/enrolment", sup, {"open_hours": 0}).json()
    assert closed["open"] is False
    refused = _enrol(server, room, "newcomer")
    assert refused.status_code == 403 and refused.json()["code"] == "enrolment_closed"
    assert _enrol(server, room, "known", secret=known.json()["secret"]).status_code == 200
    # Revoked: its token is dead at once and it cannot come back while the room is closed.
    token = {"Authorization": f"Bearer {_enrol(server, room, 'known', secret=known.json()['secret']).json()['token']}"}
    assert server.post("/events", token, {"events": [event("focus_lost")]}).status_code == 200
    assert server.post(f"/rooms/{room}/machines/known/revoke", sup, None).json() == {"ok": True}
    assert server.post("/heartbeat", token, {}).status_code == 401
    assert _enrol(server, room, "known", secret=known.json()["secret"]).status_code == 403
    # Removed: its tile goes, its events stay; reopened, a machine may take the id again.
    reply = requests.delete(f"{server.url}/api/v1/rooms/{room}/machines/phantom-0", headers=sup, timeout=10)
    assert reply.json() == {"ok": True}
    ids = [m["machine_id"] for m in server.get(f"/rooms/{room}/machines", sup).json()]
    assert "phantom-0" not in ids and "known" in ids
    # (and the journal says who revoked and who removed)
    journal = [(e["kind"], e["machine_id"], e["details"].get("by")) for e in server.get(f"/rooms/{room}/events", sup).json()]
    assert sorted(journal) == [("focus_lost", "known", None), ("machine_removed", "phantom-0", "admin"),
                               ("machine_revoked", "known", "admin")]
    server.put_json(f"/rooms/{room}/enrolment", sup, {"open_hours": 1})
    assert _enrol(server, room, "phantom-0").status_code == 200
    assert requests.delete(f"{server.url}/api/v1/rooms/{room}/machines/nobody", headers=sup,
                           timeout=10).status_code == 404


def test_accounts_roles_and_who_did_what(server, tmp_path):
    admin = server.login()
    room, other_room = server.create_room(admin, "Salle B12"), server.create_room(admin, "Salle C3")
    # From the command line, on the server's database (as a technician would on the server).
    env = {**os.environ, "EXAMROOM_USER_PASSWORD": STRONG}
    db = server.db_url or str(server.db)
    done = subprocess.run([sys.executable, "-m", "agent", "user", "add", "marie", "--role", "supervisor",
                           "--room", room.lower(), "--db", db, "--lang", "en"], capture_output=True, text=True,
                          env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    weak = subprocess.run([sys.executable, "-m", "agent", "user", "add", "paul", "--role", "technician", "--db", db],
                          capture_output=True, text=True, env={**env, "EXAMROOM_USER_PASSWORD": "azerty123"}, timeout=60)
    assert weak.returncode == 2 and "Traceback" not in weak.stderr
    # From the API (the dashboard's accounts panel).
    made = server.post("/users", admin, {"username": "Paul", "password": STRONG, "role": "technician"})
    assert made.status_code == 200 and made.json()["username"] == "paul" and made.json()["created_by"] == "admin"
    assert server.post("/users", admin, {"username": "paul", "password": STRONG, "role": "technician"}).status_code == 409
    assert server.post("/users", admin, {"username": "x1", "password": "a", "role": "technician"}).status_code == 422
    names = {u["username"]: u for u in server.get("/users", admin).json()}
    assert names["marie"]["role"] == "supervisor" and names["marie"]["room"] == room and names["admin"]

    marie, paul = _login(server, "marie", STRONG), _login(server, "PAUL", STRONG)
    token = server.enroll(room, "m1", "B12-PC1")
    server.enroll(other_room, "m2", "C3-PC1")
    assert server.post("/events", token, {"events": [event("focus_lost", title="Discord")]}).status_code == 200
    # The supervisor: their room's live view and PV, nothing else.
    assert [r["code"] for r in server.get("/rooms", marie).json()] == [room]
    assert server.get(f"/rooms/{room}/machines", marie).status_code == 200
    assert server.get(f"/rooms/{other_room}/machines", marie).json()["code"] == "not_your_room"
    assert server.post("/rooms", marie, {"name": "x"}).status_code == 403
    assert server.get("/users", marie).status_code == 403
    assert server.put_json(f"/rooms/{room}/enrolment", marie, {"open_hours": 0}).status_code == 403
    alert = server.get(f"/rooms/{room}/alerts", marie).json()[0]
    acked = server.post(f"/rooms/{room}/alerts/{alert['id']}/ack", marie, None).json()
    assert acked["acked_by"] == "marie"
    assert server.get(f"/rooms/{room}/events", admin).json()[0]["acked_by"] == "marie"
    saved = server.put_json(f"/rooms/{room}/incidents/edits", marie, {"comment": "RAS"})
    assert saved.status_code == 200 and saved.json()["updated_by"] == "marie"
    # The technician: readiness and machines of every room, not accounts nor the exam's journal work.
    assert len(server.get("/rooms", paul).json()) == 2
    assert server.get(f"/rooms/{other_room}/export.csv", paul).status_code == 200
    assert server.put_json(f"/rooms/{other_room}/enrolment", paul, {"open_hours": 2}).json()["open"] is True
    assert server.post(f"/rooms/{room}/alerts/{alert['id']}/ack", paul, None).status_code == 403
    assert server.post("/users", paul, {"username": "eve", "password": STRONG, "role": "admin"}).status_code == 403
    # A removed account's tokens stop at once.
    assert requests.delete(f"{server.url}/api/v1/users/marie", headers=admin, timeout=10).json() == {"ok": True}
    assert server.get(f"/rooms/{room}/machines", marie).status_code == 401


def test_a_revoked_machine_is_told_why_and_stays_out_until_removed(server):
    sup = server.login()
    room = server.create_room(sup)
    token = server.enroll(room, "pc-09", "PC-09")
    secret = server.secrets[(room, "pc-09")]
    assert server.post(f"/rooms/{room}/machines/pc-09/revoke", sup, None).json() == {"ok": True}
    refused = server.post("/events", token, {"events": [event("focus_lost")]})
    assert refused.status_code == 401 and refused.json()["code"] == "machine_revoked"
    assert refused.json()["detail"]["revoked_by"] == "admin" and "supervisor" in refused.json()["error"]
    # The room is open, yet it cannot come back by itself, with or without its old secret.
    for body_secret in (secret, None):
        again = _enrol(server, room, "pc-09", secret=body_secret)
        assert again.status_code == 403 and again.json()["code"] == "machine_revoked"
    tile = server.get(f"/rooms/{room}/machines", sup).json()[0]
    assert tile["revoked"] is True and tile["revoked_by"] == "admin" and tile["revoked_at"]
    # Removed: its id is free; the old token is now merely unknown, the machine enrols afresh.
    assert requests.delete(f"{server.url}/api/v1/rooms/{room}/machines/pc-09", headers=sup, timeout=10).json() == {"ok": True}
    assert server.post("/heartbeat", token, {}).json()["code"] == "bad_token"
    back = _enrol(server, room, "pc-09")
    assert back.status_code == 200 and back.json()["secret"]
    assert server.get(f"/rooms/{room}/machines", sup).json()[0]["revoked"] is False
    # The server's output keeps who did what.
    log = server.log_text()
    assert f"admin a révoqué le poste pc-09 de la salle {room}" in log
    assert f"admin a retiré le poste pc-09 de la salle {room}" in log


def test_the_admin_changes_roles_and_passwords_and_removed_accounts_lose_their_sessions(server):
    admin = server.login()
    room, other = server.create_room(admin, "Salle B12"), server.create_room(admin, "Salle C3")
    assert server.post("/users", admin, {"username": "marie", "password": STRONG, "role": "supervisor",
                                          "room": room}).status_code == 200
    marie = _login(server, "marie", STRONG)
    assert server.get("/me", marie).json() == {"username": "marie", "role": "supervisor", "room": room}
    assert server.get("/me", admin).json()["role"] == "admin"
    # A supervisor moved to another room: its session ends, the new login sees the new room.
    patch = requests.patch(f"{server.url}/api/v1/users/marie", json={"room": other}, headers=admin, timeout=10)
    assert patch.status_code == 200 and patch.json()["room"] == other and patch.json()["changed_by"] == "admin"
    assert server.get("/rooms", marie).status_code == 401
    marie = _login(server, "marie", STRONG)
    assert [r["code"] for r in server.get("/rooms", marie).json()] == [other]
    # An empty change writes nothing and ends no session.
    empty = requests.patch(f"{server.url}/api/v1/users/marie", json={}, headers=admin, timeout=10)
    assert empty.status_code == 422 and empty.json()["detail"]["reason"] == "nothing"
    assert server.get("/rooms", marie).status_code == 200
    # Role and password: the same strength rule as the command line.
    weak = requests.patch(f"{server.url}/api/v1/users/marie", json={"password": "azerty123"}, headers=admin, timeout=10)
    assert weak.status_code == 422 and weak.json()["code"] == "weak_password"
    bad = requests.patch(f"{server.url}/api/v1/users/marie", json={"role": "supervisor", "room": "NOROOM"},
                         headers=admin, timeout=10)
    assert bad.status_code == 422 and bad.json()["code"] == "bad_user"
    done = requests.patch(f"{server.url}/api/v1/users/marie", json={"role": "technician", "password": STRONG + "!"},
                          headers=admin, timeout=10)
    assert done.json()["role"] == "technician" and done.json()["room"] is None
    marie = _login(server, "marie", STRONG + "!")
    assert len(server.get("/rooms", marie).json()) == 2
    assert requests.patch(f"{server.url}/api/v1/users/marie", json={"role": "admin"}, headers=marie,
                          timeout=10).status_code == 403
    assert requests.patch(f"{server.url}/api/v1/users/admin", json={"role": "technician"}, headers=admin,
                          timeout=10).status_code == 422
    assert requests.patch(f"{server.url}/api/v1/users/nobody", json={"role": "admin"}, headers=admin,
                          timeout=10).status_code == 404
    # A named admin removing itself must confirm; the built-in admin cannot be removed.
    assert server.post("/users", admin, {"username": "chef", "password": STRONG, "role": "admin"}).status_code == 200
    chef = _login(server, "chef", STRONG)
    assert requests.delete(f"{server.url}/api/v1/users/chef", headers=chef, timeout=10).json()["code"] == "confirm_self"
    assert requests.delete(f"{server.url}/api/v1/users/admin", headers=chef, timeout=10).status_code == 422
    # Removed: its open session stops at once.
    assert requests.delete(f"{server.url}/api/v1/users/marie", headers=chef, timeout=10).json() == {"ok": True}
    assert server.get("/rooms", marie).status_code == 401
    assert requests.delete(f"{server.url}/api/v1/users/chef", headers=chef, params={"confirm_self": "true"},
                           timeout=10).json() == {"ok": True}
    assert server.get("/rooms", chef).status_code == 401
    assert [u["username"] for u in server.get("/users", admin).json()] == ["admin"]
    log = server.log_text()
    assert "admin a créé le compte marie (supervisor " in log and "chef a supprimé le compte marie" in log


def test_examroom_user_change_on_the_servers_database(server, tmp_path):
    admin = server.login()
    room = server.create_room(admin)
    env = {**os.environ, "EXAMROOM_USER_PASSWORD": STRONG}
    db = server.db_url or str(server.db)

    def cli(*args, **extra):
        return subprocess.run([sys.executable, "-m", "agent", "user", *args, "--db", db, "--lang", "fr"],
                              capture_output=True, text=True, env={**env, **extra}, timeout=60)

    assert cli("add", "lea", "--role", "technician").returncode == 0
    lea = _login(server, "lea", STRONG)
    done = cli("change", "lea", "--role", "supervisor", "--room", room)
    assert done.returncode == 0 and "lea" in done.stderr and "sessions" in done.stderr
    assert server.get("/rooms", lea).status_code == 401  # its session ended
    assert server.get("/me", _login(server, "lea", STRONG)).json() == {"username": "lea", "role": "supervisor", "room": room}
    weak = cli("change", "lea", "--new-password", EXAMROOM_USER_PASSWORD="azerty123")
    assert weak.returncode == 2 and "Traceback" not in weak.stderr
    assert cli("change", "lea", "--new-password", EXAMROOM_USER_PASSWORD=STRONG + "2").returncode == 0
    lea = _login(server, "lea", STRONG + "2")
    for bad in (("change", "nobody", "--role", "admin"), ("change", "lea"), ("change", "lea", "--room", "NOROOM")):
        refused = cli(*bad)
        assert refused.returncode == 2 and "Traceback" not in refused.stderr and len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    # Removed from the command line while its live stream is open: the stream ends (at the
    # next keep-alive, the running server not being told) and the token is refused.
    stream = requests.get(f"{server.url}/api/v1/rooms/{room}/stream", headers=lea, stream=True, timeout=30)
    assert stream.status_code == 200
    assert cli("remove", "lea").returncode == 0
    assert server.get("/rooms", lea).status_code == 401
    received = b"".join(stream.iter_content(chunk_size=None))  # returns once the server ends it
    assert b"connected" in received
