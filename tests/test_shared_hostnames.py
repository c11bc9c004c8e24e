"""Cloned lab machines sharing one host name, as the server shows them: the PV draft (JSON and
CSV) names each by the room-wide rule of core/machines.py (tiles, alerts and journal: the
dashboard test of the same name; the room summary: test_merge)."""
from __future__ import annotations

import csv
import io
import uuid

from core.machines import display_names
from tests.server_support import LiveServer


def test_display_names_rule() -> None:
    names = display_names([("3f2a91c0", "vm"), ("3f2b07aa", "vm"), ("9c01ffee", "VM"), ("a1", "PC-01"), ("b2", "")])
    assert names == {"3f2a91c0": "vm · 3f2a", "3f2b07aa": "vm · 3f2b", "9c01ffee": "VM · 9c01",
                     "a1": "PC-01", "b2": "b2"}
    # ids sharing a long start: as many characters as it takes
    assert display_names([("agent-1", "vm"), ("agent-2", "vm")]) == {"agent-1": "vm · agent-1", "agent-2": "vm · agent-2"}


def test_pv_draft_tells_cloned_machines_apart(tmp_path) -> None:
    server = LiveServer(tmp_path).start()
    try:
        sup = server.login()
        room = server.create_room(sup, "Salle clones")
        ids = ["3f2a91c0d4e5b6a7", "3f2b07aa11223344", "9c01ffee55667788"]
        for machine_id in ids:
            agent = server.enroll(room, machine_id, "vm")
            reply = server.post("/events", agent, {"events": [{
                "id": str(uuid.uuid4()), "kind": "forbidden_process", "at": "2026-12-01T09:00:00.000Z",
                "name": "AnyDesk.exe", "program": "AnyDesk", "category": "remote_control", "state": "started"}]})
            assert reply.status_code == 200, reply.text
        lines = server.get(f"/rooms/{room}/incidents", sup).json()
        assert sorted(line["hostname"] for line in lines) == ["vm · 3f2a", "vm · 3f2b", "vm · 9c01"]
        text = server.get(f"/rooms/{room}/incidents", sup, format="csv").text
        rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
        assert sorted(r[1] for r in rows[1:]) == ["vm · 3f2a", "vm · 3f2b", "vm · 9c01"]
    finally:
        server.stop()
