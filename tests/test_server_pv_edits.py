"""The PV d'incident edits kept on the server (GET/PUT /rooms/{code}/incidents/edits).

Real ``examroom serve`` subprocess over real HTTP, its real SQLite file: the record survives
a kill -9, reaches another dashboard through SSE, and a database file made before the
pv_edits table existed is migrated when the server opens it.
"""
from __future__ import annotations

import json
import threading

import pytest
import requests

from tests.server_support import LiveServer, event

EDITS = {"edits": {"2026-11-22T09:00:00Z|m1|focus_lost": {"code": "C4", "details_text": "candidat averti"}},
         "extra": [{"key": "manual-1", "time": "09:12", "hostname": "B12-PC2", "code": "A2",
                    "label": "Autre", "details_text": "coupure de courant, 4 min"}],
         "comment": "Séance calme dans l'ensemble. « Rien d'autre »"}


@pytest.fixture()
def server(tmp_path, store_url):
    live = LiveServer(tmp_path, db=store_url).start()
    yield live
    live.stop()


def put(server: LiveServer, room: str, headers: dict[str, str], body=None, **kwargs) -> requests.Response:
    return requests.put(f"{server.url}/api/v1/rooms/{room}/incidents/edits", headers=headers, json=body,
                        timeout=10, **kwargs)


def test_edits_are_stored_versioned_and_survive_a_kill(server):
    sup = server.login()
    room = server.create_room(sup)
    empty = server.get(f"/rooms/{room}/incidents/edits", sup)
    assert empty.status_code == 200
    assert empty.json() == {"edits": {}, "extra": [], "comment": "", "version": 0, "updated_at": None,
                            "updated_by": None, "client": None, "lines": {}, "conflicts": []}
    first = put(server, room, sup, EDITS)
    assert first.status_code == 200, first.text
    assert first.json()["version"] == 1 and first.json()["updated_by"] == "admin"
    second = put(server, room.lower(), sup, {**EDITS, "comment": "v2", "client": "page-a"})
    assert second.json()["version"] == 2 and second.json()["client"] == "page-a"

    server.kill()
    server.start()
    sup = server.login()
    got = server.get(f"/rooms/{room}/incidents/edits", sup).json()
    assert got["version"] == 2 and got["comment"] == "v2"
    assert got["edits"] == {"2026-11-22T09:00:00Z|m1|focus_lost": {"code": "C4", "details_text": "candidat averti",
                                                                    "label": None}}
    assert got["extra"] == EDITS["extra"]
    # The draft itself is unchanged by the edits (they are completed in the dashboard).
    assert server.get(f"/rooms/{room}/incidents", sup).json() == []


def test_a_save_is_pushed_to_the_rooms_sse_stream(server):
    sup = server.login()
    room = server.create_room(sup)
    received: list[dict] = []
    opened = threading.Event()

    def listen() -> None:
        with requests.get(f"{server.url}/api/v1/rooms/{room}/stream", headers=sup, stream=True, timeout=10) as res:
            name = None
            for line in res.iter_lines(decode_unicode=True):
                if line.startswith(": connected"):
                    opened.set()
                elif line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: ") and name == "pv_edits":
                    received.append(json.loads(line[6:]))
                    return

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    assert opened.wait(10)
    assert put(server, room, sup, {**EDITS, "client": "page-b"}).status_code == 200
    thread.join(10)
    assert received and received[0]["comment"] == EDITS["comment"] and received[0]["client"] == "page-b"
    assert received[0]["version"] == 1


def test_bad_edits_are_4xx_json_and_change_nothing(server):
    sup = server.login()
    room = server.create_room(sup)
    machine = server.enroll(room, "m1")
    assert put(server, room, sup, EDITS).status_code == 200
    bad = [
        ({}, EDITS, 401),
        ({"Authorization": "Bearer forged"}, EDITS, 401),
        (machine, EDITS, 403),
        (sup, {"edits": [], "extra": [], "comment": ""}, 422),                    # wrong type
        (sup, {**EDITS, "comment": 5}, 422),
        (sup, {**EDITS, "surprise": 1}, 422),                                     # unknown field
        (sup, {"edits": {"k": {"code": "C4", "hack": "x"}}}, 422),
        (sup, {"extra": [{"key": "<script>"}]}, 422),                             # key outside its alphabet
        (sup, {"extra": [{"key": f"manual-{i}"} for i in range(201)]}, 422),      # too many lines
        (sup, {"comment": "x" * 8001}, 422),
    ]
    for headers, body, status in bad:
        reply = put(server, room, headers, body)
        assert reply.status_code == status, (body if len(str(body)) < 200 else "big", reply.text)
        assert "error" in reply.json()
    malformed = requests.put(f"{server.url}/api/v1/rooms/{room}/incidents/edits", data=b'{"edits": ',
                             headers={**sup, "Content-Type": "application/json"}, timeout=10)
    assert malformed.status_code == 400 and malformed.json()["code"] == "bad_json"
    huge = requests.put(f"{server.url}/api/v1/rooms/{room}/incidents/edits", data=b"x" * (2 << 20),
                        headers={**sup, "Content-Type": "application/json"}, timeout=10)
    assert huge.status_code == 413
    assert put(server, "ZZZZZZ", sup, EDITS).status_code == 404
    assert server.get("/rooms/ZZZZZZ/incidents/edits", sup).status_code == 404
    assert server.get(f"/rooms/{room}/incidents/edits", machine).status_code == 403
    assert server.get(f"/rooms/{room}/incidents/edits", sup).json()["version"] == 1


def test_a_database_from_before_the_edits_is_migrated(server):
    sup = server.login()
    room = server.create_room(sup)
    token = server.enroll(room, "m1")
    assert server.post("/events", token, {"events": [event("focus_lost", title="Discord")]}).status_code == 200
    server.stop()
    server.sql("DROP TABLE pv_edits")  # the database as the previous version left it
    server.start()
    sup = server.login()
    assert server.get(f"/rooms/{room}/incidents/edits", sup).json()["version"] == 0
    assert put(server, room, sup, EDITS).json()["version"] == 1
    assert len(server.get(f"/rooms/{room}/events", sup).json()) == 1


def test_the_servers_csv_can_be_the_edited_pv(server):
    sup = server.login()
    room = server.create_room(sup)
    token = server.enroll(room, "m1", "B12-PC1")
    at = "2026-11-22T09:00:00.000Z"
    assert server.post("/events", token, {"events": [event("focus_lost", at=at, title="Discord")]}).status_code == 200
    assert put(server, room, sup, {"edits": {f"{at}|m1|focus_lost": {"code": "C4", "details_text": "averti"}},
                                   "extra": EDITS["extra"], "comment": "Rien d'autre."}).status_code == 200
    plain = server.get(f"/rooms/{room}/incidents", sup, format="csv", tz="UTC").text.lstrip("\ufeff")
    assert plain.splitlines()[1].startswith("09:00:00;B12-PC1;C6;") and "averti" not in plain
    edited = server.get(f"/rooms/{room}/incidents", sup, format="csv", tz="UTC", edited="true").text.lstrip("\ufeff")
    rows = edited.splitlines()
    assert rows[1] == "09:00:00;B12-PC1;C4;Suspicion de fraude;averti"
    assert rows[2] == "09:12;B12-PC2;A2;Autre;coupure de courant, 4 min"
    assert rows[3] == ";;;Observations générales;Rien d'autre."
    english = server.get(f"/rooms/{room}/incidents", sup, format="csv", lang="en", edited="true").text
    assert english.splitlines()[-1] == ",,,General remarks,Rien d'autre."
