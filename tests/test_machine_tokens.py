"""Machine tokens expire (issue 15, row 14), over real HTTP against ``examroom serve``.

The server runs with a lifetime of a few seconds (``--machine-token-days``, the option a
school would set to days): the companion's own delivery code (companion/delivery.py, with its
durable outbox and the agent's client) renews its token before it runs out, so every post of
a session is accepted and no event is lost; a machine that was off past the expiry (and an
enrolment file from an older examroom that does not know when to renew) is told 401
``token_expired`` with how to fix it, enrols again with its secret (even with the room's
enrolment closed) and delivers what its outbox kept. ``examroom check`` itself (a real
subprocess) renews an expired token, is refused in one French line (exit 2, report kept) once a
supervisor revoked the machine, and delivers the kept report once the machine is removed.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import pytest
import requests

from agent.client import ApiClient
from agent.outbox import Outbox
from companion.delivery import Delivery
from companion.session import Status
from core.report import Machine
from tests.server_support import LiveServer, event

LIFETIME_S = 3.0
MACHINE = Machine(id="pc-token", hostname="PC-TOKEN", os="linux")


@pytest.fixture()
def server(tmp_path, monkeypatch):
    monkeypatch.setenv("EXAMROOM_HOME", str(tmp_path / "machine-home"))  # the agent's state folder
    live = LiveServer(tmp_path, args=("--machine-token-days", f"{LIFETIME_S / 86400:.10f}")).start()
    yield live
    live.stop()


def _delivery(server, tmp_path, room):
    client = ApiClient(server.url)
    outbox = Outbox(tmp_path / "outbox.sqlite")
    return Delivery(outbox=outbox, client=client, room=room, machine=MACHINE, status=Status(),
                    stop=threading.Event()), client, outbox


def _journal_ids(server, sup, room):
    return [e["id"] for e in server.get(f"/rooms/{room}/events", sup).json() if e["machine_id"] == MACHINE.id]


def test_the_companion_renews_its_token_before_it_expires_and_every_post_is_accepted(server, tmp_path):
    sup = server.login()
    room = server.create_room(sup)
    delivery, client, outbox = _delivery(server, tmp_path, room)
    assert delivery.enrol()
    first = client.token
    tokens, sent = [first], []
    deadline = time.monotonic() + 40
    # Beyond two lifetimes: each batch and heartbeat must go through at the first try.
    while len(tokens) < 3 and time.monotonic() < deadline:
        wire = event("focus_lost", title=f"n{len(sent)}")
        delivery.put(wire)
        sent.append(wire["id"])
        assert delivery.flush_once(), f"post {len(sent)} was not accepted"
        assert client.heartbeat({})["live"]
        if client.token != tokens[-1]:
            tokens.append(client.token)
        delivery.stop.wait(0.2)
    assert len(tokens) == 3, "the token was not renewed twice"
    assert outbox.count("event") == 0 and outbox.count("event_refused") == 0
    assert sorted(_journal_ids(server, sup, room)) == sorted(sent)
    # The renewed token replaced the first one, which no longer works.
    old = server.post("/heartbeat", {"Authorization": f"Bearer {first}"}, {})
    assert old.status_code == 401
    # The machine's tile is the same one all along (renewal is not a new machine).
    assert [m["machine_id"] for m in server.get(f"/rooms/{room}/machines", sup).json()] == [MACHINE.id]
    outbox.close()


def test_an_expired_token_is_told_how_to_fix_it_and_the_outbox_keeps_everything(server, tmp_path):
    sup = server.login()
    room = server.create_room(sup)
    delivery, client, outbox = _delivery(server, tmp_path, room)
    assert delivery.enrol()
    token = {"Authorization": f"Bearer {client.token}"}
    # The machine goes off with three events in its outbox, past the token's lifetime.
    kept = [event("focus_lost", title=f"off {n}") for n in range(3)]
    for wire in kept:
        delivery.put(wire)
    outbox.close()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        answer = server.post("/heartbeat", token, {})
        if answer.status_code != 200:
            break
        time.sleep(0.2)
    assert answer.status_code == 401 and answer.headers["content-type"].startswith("application/json")
    body = answer.json()
    assert body["code"] == "token_expired" and "secret" in body["error"]
    assert body["detail"]["machine_id"] == MACHINE.id and body["detail"]["expired_at"]
    assert "/api/v1/enroll" in body["detail"]["fix"]
    events = server.post("/events", token, {"events": [event("focus_lost")]})
    assert events.status_code == 401 and events.json()["code"] == "token_expired"
    # Meanwhile the room's enrolment closed: the machine still comes back with its secret.
    assert server.put_json(f"/rooms/{room}/enrolment", sup, {"open_hours": 0}).json()["open"] is False
    # It restarts with an enrolment file from an older examroom (no renewal date): its first
    # post is refused as expired, it enrols again by itself and the outbox is delivered.
    state = tmp_path / "machine-home"
    files = list(state.rglob("enrolment.json"))
    assert len(files) == 1
    data = json.loads(files[0].read_text())
    for entry in data.values():
        entry.pop("renew_after", None)
    files[0].write_text(json.dumps(data))
    delivery, client, outbox = _delivery(server, tmp_path, room)
    assert outbox.count("event") == 3
    assert delivery.enrol()
    assert delivery.flush_once()
    assert outbox.count("event") == 0 and outbox.count("event_refused") == 0
    assert sorted(_journal_ids(server, sup, room)) == sorted(w["id"] for w in kept)
    assert client.token != token["Authorization"].split()[1]
    outbox.close()


def _check(server, room, home, *extra):
    """``examroom check`` on this machine, as a technician runs it, sending to the server."""
    env = {**os.environ, "EXAMROOM_HOME": str(home), "EXAMROOM_MACHINE_ID": "pc-check-run"}
    return subprocess.run([sys.executable, "-m", "agent", "check", "--only", "storage", "--storage", str(home),
                           "--server", server.url, "--room", room, "--lang", "fr", *extra],
                          capture_output=True, text=True, timeout=120, env=env)


def _reports(server, room, sup):
    return server.sql(f"SELECT COUNT(*) FROM reports WHERE room_code='{room}' AND machine_id='pc-check-run'")[0][0]


def test_examroom_check_renews_an_expired_token_and_is_stopped_by_a_revocation(server, tmp_path):
    sup = server.login()
    room = server.create_room(sup)
    home = tmp_path / "check-home"
    first = _check(server, room, home)
    assert first.returncode in (0, 1), first.stderr
    token = json.loads(next(home.rglob("enrolment.json")).read_text())
    token = next(iter(token.values()))["token"]
    deadline = time.monotonic() + 30
    while server.post("/heartbeat", {"Authorization": f"Bearer {token}"}, {}).status_code == 200:
        assert time.monotonic() < deadline, "the token never expired"
        time.sleep(0.2)
    # Weeks later (here: seconds): the next run renews the token by itself and sends its report.
    again = _check(server, room, home)
    assert again.returncode in (0, 1), again.stderr
    assert _reports(server, room, sup) == 2
    # Revoked from the dashboard: the next run is refused, said in one French line, exit 2,
    # and its report is kept on the machine.
    assert server.post(f"/rooms/{room}/machines/pc-check-run/revoke", sup, None).json() == {"ok": True}
    refused = _check(server, room, home)
    assert refused.returncode == 2, refused.stderr
    line = refused.stderr.strip().splitlines()[-1]
    assert "révoqué ce poste" in line and "Traceback" not in refused.stderr
    assert _reports(server, room, sup) == 2
    # Removed: the machine enrols afresh and the report kept meanwhile is delivered too.
    assert requests.delete(f"{server.url}/api/v1/rooms/{room}/machines/pc-check-run", headers=sup,
                           timeout=10).json() == {"ok": True}
    back = _check(server, room, home)
    assert back.returncode in (0, 1), back.stderr
    assert _reports(server, room, sup) == 4
