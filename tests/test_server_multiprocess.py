"""Two ``examroom serve`` processes on one PostgreSQL database, as an académie runs them
behind one address: what a companion posts to one reaches the dashboards streaming from the
other (LISTEN/NOTIFY, supervisor/fanout.py), tokens and sessions work on both, a token
revoked on one is refused by the other, and a companion heart-beating to one process is not
declared lost by the other. Real processes, real HTTP, a real PostgreSQL (tests/pg_support.py).
"""
from __future__ import annotations

import time

import pytest
import requests

from tests.server_support import LiveServer, event
from tests.test_server_live import SSEReader


@pytest.fixture()
def pair(tmp_path, pg_url):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = LiveServer(tmp_path / "a", db=pg_url).start()
    second = None
    try:
        second = LiveServer(tmp_path / "b", db=pg_url).start()
        yield first, second
    finally:
        for server in (second, first):
            if server is not None:
                server.stop()


def _stream(server: LiveServer, room: str, sup: dict[str, str]) -> requests.Response:
    reply = requests.get(f"{server.url}/api/v1/rooms/{room}/stream", params={"token": sup["Authorization"][7:]},
                         stream=True, timeout=(5, 10))
    assert reply.status_code == 200
    return reply


def _until(what, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while True:
        value = what()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def test_an_event_posted_to_one_process_reaches_the_stream_of_the_other(pair):
    a, b = pair
    sup = a.login()  # a session made on A is valid on B: one database
    room = a.create_room(sup)
    token = a.enroll(room, "m1", "B12-PC1")
    with _stream(b, room, sup) as reply_b, _stream(a, room, sup) as reply_a:
        on_b, on_a = SSEReader(reply_b), SSEReader(reply_a)
        assert next(on_b.lines).startswith("retry") and next(on_a.lines).startswith("retry")
        lost = event("focus_lost", title="Discord", process="Discord.exe")
        assert a.post("/events", token, {"events": [lost]}).json() == {"stored": 1, "duplicates": 0}
        got = dict(on_b.read(2))
        assert got["event"]["id"] == lost["id"] and got["event"]["alert"] is True
        assert got["event"]["hostname"] == "B12-PC1" and got["event"]["details"]["title"] == "Discord"
        assert got["machine"]["machine_id"] == "m1" and got["machine"]["alerts"] == 1
        assert got["machine"]["focus"] == "away"

        # The other way: a supervisor acknowledges on B, A's dashboards see it.
        assert [k for k, _ in on_a.read(2)] == ["event", "machine"]
        assert b.post(f"/rooms/{room}/alerts/{lost['id']}/ack", sup, None).ok
        got = dict(on_a.read(2))
        assert got["ack"]["id"] == lost["id"] and got["ack"]["acked_by"] == "admin"
        assert got["machine"]["alerts"] == 0
        assert [k for k, _ in on_b.read(2)] == ["ack", "machine"]  # B's own dashboards too

        # A row too big for one notification travels as a reference and is read back.
        big = event("net_down", **{f"extra{n}": ["y" * 240] * 4 for n in range(8)})  # ~7.9 kB of details
        assert a.post("/events", token, {"events": [big]}).json()["stored"] == 1
        (kind, row), = on_b.read(1)
        assert kind == "event" and row["id"] == big["id"] and row["details"]["extra7"] == ["y" * 240] * 4

    # The same event replayed to the other process is a duplicate: one database, one id.
    assert b.post("/events", token, {"events": [lost]}).json() == {"stored": 0, "duplicates": 1}


def test_a_token_revoked_on_one_process_is_refused_by_the_other(pair):
    a, b = pair
    sup = a.login()
    room = a.create_room(sup)
    old = a.enroll(room, "m1")
    assert b.post("/heartbeat", old, {"interval_s": 2}).status_code == 200  # B has it cached now
    new = a.enroll(room, "m1")  # re-enrolled on A: the old token is revoked
    assert _until(lambda: b.post("/heartbeat", old, {"interval_s": 2}).status_code == 401, 5)
    assert b.post("/heartbeat", new, {"interval_s": 2}).status_code == 200


def test_a_companion_beating_to_one_process_is_not_lost_on_the_other(pair):
    a, b = pair
    sup = b.login()
    room = b.create_room(sup)
    token = a.enroll(room, "m1")
    started = time.monotonic()
    while time.monotonic() - started < 8:  # longer than the 6 s after which a silent companion is lost
        assert a.post("/heartbeat", token, {"interval_s": 1, "net": {"up": True}}).json()["live"] == "online"
        time.sleep(0.5)
    rows = b.get(f"/rooms/{room}/machines", sup).json()
    assert rows[0]["live"] == "online" and rows[0]["net"] == "up"  # B shows what A was told
    assert [e["kind"] for e in b.get(f"/rooms/{room}/events", sup).json()] == []

    # Now it goes silent: lost once (by A, which owned it), and B's row says so too.
    assert _until(lambda: b.get(f"/rooms/{room}/events", sup).json(), 10)
    assert _until(lambda: b.get(f"/rooms/{room}/machines", sup).json()[0]["live"] == "lost", 5)
    kinds = [e["kind"] for e in b.get(f"/rooms/{room}/events", sup).json()]
    assert kinds == ["companion_lost"]
