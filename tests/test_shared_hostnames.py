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


def test_dashboard_rule_agrees_with_core(tmp_path) -> None:
    """The dashboard names machines in the page (a newcomer renames its twins at once), so the
    rule is written twice: base.js machineName() and core/machines.py. Both run here on the same
    rooms (twins by case, blank and missing host names, ids sharing long prefixes) and must agree."""
    import functools
    import http.server
    import random
    import threading

    import pytest
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs playwright (pip install -e '.[test]')")
    from pathlib import Path

    from tests.support import need

    need("chromium")

    web = Path(__file__).resolve().parent.parent / "supervisor" / "web"
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(web))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    rng = random.Random(20261202)
    rooms = []
    for _ in range(60):
        stem = "".join(rng.choice("0123456789abcdef") for _ in range(rng.choice([0, 3, 6])))
        ids = list(dict.fromkeys(stem + uuid.UUID(int=rng.getrandbits(128)).hex[:rng.choice([2, 8, 32])]
                                 for _ in range(rng.randint(1, 6))))
        hosts = ["vm", "VM", " vm ", "", "   ", None, "PC-01", "pc-01"]
        rooms.append([(m, rng.choice(hosts)) for m in ids])
    rooms.append([("3f2a91c0", "vm"), ("3f2b07aa", "vm"), ("9c01ffee", "VM"), ("a1", "PC-01"), ("b2", "")])
    try:
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{httpd.server_address[1]}/style.css")
            in_page = page.evaluate("""async (rooms) => {
                const base = await import('/base.js');
                return rooms.map((room) => {
                    base.state.machines = new Map(room.map(([id, host]) => [id, {machine_id: id, hostname: host}]));
                    return Object.fromEntries(room.map(([id, host]) => [id, base.machineName(id, host)]));
                });
            }""", rooms)
            browser.close()
    finally:
        httpd.shutdown()
    for room, names in zip(rooms, in_page):
        assert names == display_names(room), room
