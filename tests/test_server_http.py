"""The supervisor API over real HTTP: a real ``examroom serve`` (uvicorn) and a real SQLite file.

Enrolment, reports from several machines, the room view, idempotent event batches, alerts and
their acknowledgement, persistence across a SIGKILL of the server, and bad requests (each a
4xx with a JSON error, never a 5xx).
"""
from __future__ import annotations

import socket
import sqlite3

import pytest
import requests

from core.report import Report
from tests.server_support import LiveServer, event, report


@pytest.fixture()
def server(tmp_path, store_url):
    live = LiveServer(tmp_path, db=store_url).start()
    yield live
    live.stop()


def test_three_machines_enrol_report_and_show_in_the_room(server):
    sup = server.login()
    room = server.create_room(sup)
    assert len(room) == 6 and not set(room) & set("0O1I")
    tokens = {mid: server.enroll(room.lower(), mid, f"B12-PC{n}") for n, mid in enumerate(["m1", "m2", "m3"], 1)}
    assert server.post("/reports", tokens["m1"], report("m1", ready=True, hostname="B12-PC1")).status_code == 200
    assert server.post("/reports", tokens["m2"], report("m2", ready=False, hostname="B12-PC2")).status_code == 200

    rows = server.get(f"/rooms/{room}/machines", sup).json()
    by_id = {r["machine_id"]: r for r in rows}
    assert [r["hostname"] for r in rows] == ["B12-PC1", "B12-PC2", "B12-PC3"]
    assert by_id["m1"]["ready"] is True and by_id["m1"]["report_status"] == "ok" and by_id["m1"]["problems"] == []
    assert by_id["m2"]["ready"] is False and by_id["m2"]["report_status"] == "fail"
    assert by_id["m2"]["problems"] == [{"id": "screen", "title": "Largeur d'écran", "status": "fail",
                                        "summary": "640 px",
                                        "remediation": "Brancher un écran d'au moins 800 px de large"}]
    assert by_id["m2"]["facts"]["cpu_count"] == 4 and by_id["m2"]["os"] == "windows"
    assert by_id["m3"]["ready"] is None and by_id["m3"]["report_status"] is None
    assert all(r["live"] == "never" and r["alerts"] == 0 for r in rows)

    # A newer report turns m2 green; the latest full report is served as it was sent.
    later = report("m2", ready=True, hostname="B12-PC2", finished_at="2026-11-22T08:10:00Z")
    assert server.post("/reports", tokens["m2"], later).status_code == 200
    assert server.get(f"/rooms/{room}/machines/m2/report", sup).json() == Report.model_validate(later).to_dict()
    assert server.get(f"/rooms/{room}/machines/m3/report", sup).status_code == 404
    assert server.get("/rooms", sup).json()[0] | {"created_at": "x"} == {
        "code": room, "name": "Salle B12", "created_at": "x", "machines": 3, "ready": 2, "alerts": 0}

    csv_fr = server.get(f"/rooms/{room}/export.csv", sup, lang="fr")
    assert csv_fr.headers["content-type"].startswith("text/csv")
    lines = csv_fr.text.lstrip("\ufeff").splitlines()
    assert lines[0].startswith("Poste;") and len(lines) == 3 and lines[2].startswith("B12-PC2;m2;")


def test_event_batches_are_idempotent_and_alerts_can_be_acknowledged(server):
    sup = server.login()
    room = server.create_room(sup)
    token = server.enroll(room, "m1", "B12-PC1")
    batch = [event("focus_lost", "2026-11-22T09:00:00Z", title="Discord", process="Discord.exe"),
             event("focus_regained", "2026-11-22T09:00:42Z", away_s=42, title="Pix"),
             event("forbidden_process", "2026-11-22T09:01:00Z", name="AnyDesk", exe="AnyDesk.exe", state="started"),
             event("something_new", "2026-11-22T09:02:00Z", details={"free": ["form"]})]
    assert server.post("/events", token, {"events": batch}).json() == {"stored": 4, "duplicates": 0}
    assert server.post("/events", token, {"events": batch}).json() == {"stored": 0, "duplicates": 4}
    more = [batch[0], event("net_down", "2026-11-22T09:03:00Z")]
    assert server.post("/events", token, {"events": more}).json() == {"stored": 1, "duplicates": 1}

    events = server.get(f"/rooms/{room}/events", sup).json()
    assert [e["kind"] for e in events] == ["focus_lost", "focus_regained", "forbidden_process",
                                           "something_new", "net_down"]
    assert [e["seq"] for e in events] == sorted(e["seq"] for e in events)
    assert events[0]["details"] == {"title": "Discord", "process": "Discord.exe"}
    assert events[0]["hostname"] == "B12-PC1" and events[0]["at"] == "2026-11-22T09:00:00.000Z"
    assert events[3]["details"] == {"free": ["form"]} and events[3]["alert"] is False
    assert server.get(f"/rooms/{room}/events", sup, after=events[2]["seq"]).json() == events[3:]

    alerts = server.get(f"/rooms/{room}/alerts", sup, open="true").json()
    assert [a["kind"] for a in alerts] == ["focus_lost", "forbidden_process", "net_down"]
    assert server.get(f"/rooms/{room}/machines", sup).json()[0]["alerts"] == 3
    first = server.post(f"/rooms/{room}/alerts/{alerts[0]['id']}/ack", sup, None).json()
    again = server.post(f"/rooms/{room}/alerts/{alerts[0]['id']}/ack", sup, None).json()
    assert first == again and first["acked_by"] == "admin"
    assert server.post(f"/rooms/{room}/alerts/{events[1]['id']}/ack", sup, None).status_code == 404
    assert [a["kind"] for a in server.get(f"/rooms/{room}/alerts", sup, open="false").json()] == ["focus_lost"]
    assert server.get(f"/rooms/{room}/machines", sup).json()[0]["alerts"] == 2

    draft = server.get(f"/rooms/{room}/incidents", sup, lang="fr").json()
    assert [(d["code"], d["kind"]) for d in draft] == [("C6", "focus_lost"), ("C6", "forbidden_process"),
                                                       ("A1", "net_down")]
    assert draft[0]["details_text"] == "fenêtre d'examen quittée 42 s : « Discord »"
    assert draft[0]["label"] == "Suspicion de fraude"
    pv = server.get(f"/rooms/{room}/incidents", sup, lang="fr", format="csv", tz="Europe/Paris")
    assert pv.headers["content-type"].startswith("text/csv")
    assert pv.text.lstrip("\ufeff").splitlines()[1] == (
        "10:00:00;B12-PC1;C6;Suspicion de fraude;fenêtre d'examen quittée 42 s : « Discord »")
    assert server.get(f"/rooms/{room}/incidents", sup, tz="Mars/Olympus").status_code == 422


def test_acknowledged_writes_survive_a_sigkill_of_the_server(server):
    sup = server.login()
    room = server.create_room(sup)
    token = server.enroll(room, "m1")
    batch = [event("focus_lost", title="WhatsApp"), event("net_down")]
    assert server.post("/reports", token, report("m1", ready=False)).status_code == 200
    assert server.post("/events", token, {"events": batch}).json()["stored"] == 2
    assert server.post("/heartbeat", token, {"interval_s": 2, "net": {"up": True}}).status_code == 200
    server.kill()
    server.start()

    # Same db: the data, the room, the admin password, the machine's token are all there.
    sup = server.login()
    rows = server.get(f"/rooms/{room}/machines", sup).json()
    assert rows[0]["report_status"] == "fail" and rows[0]["alerts"] == 2 and rows[0]["last_seen"]
    assert [e["id"] for e in server.get(f"/rooms/{room}/events", sup).json()] == [e["id"] for e in batch]
    assert server.post("/events", token, {"events": batch}).json() == {"stored": 0, "duplicates": 2}
    if server.backend == "sqlite":
        assert server.sql("PRAGMA journal_mode")[0][0] == "wal"
    else:  # committed means flushed: the server must not have turned PostgreSQL's guarantees off
        assert server.sql("SHOW synchronous_commit")[0][0] == "on" and server.sql("SHOW fsync")[0][0] == "on"


def test_bad_requests_are_4xx_with_a_json_error(server):
    sup = server.login()
    room = server.create_room(sup)
    mach = server.enroll(room, "m1")
    url = server.url + "/api/v1"
    forged = {"Authorization": "Bearer mt_" + "A" * 43}
    cases = {
        "no token": requests.post(f"{url}/heartbeat", json={}, timeout=10),
        "no token (supervisor)": requests.get(f"{url}/rooms", timeout=10),
        "forged token": requests.post(f"{url}/events", json={"events": []}, headers=forged, timeout=10),
        "forged supervisor token": requests.get(f"{url}/rooms", headers=forged, timeout=10),
        "machine token on supervisor route": requests.get(f"{url}/rooms/{room}/machines", headers=mach, timeout=10),
        "machine token creating a room": requests.post(f"{url}/rooms", json={"name": "x"}, headers=mach, timeout=10),
        "supervisor token heart-beating": requests.post(f"{url}/heartbeat", json={}, headers=sup, timeout=10),
        "supervisor token posting a report": requests.post(f"{url}/reports", json=report("m1", ready=True),
                                                           headers=sup, timeout=10),
        "report of another machine": requests.post(f"{url}/reports", json=report("m2", ready=True),
                                                   headers=mach, timeout=10),
        "malformed JSON": requests.post(f"{url}/events", data=b'{"events": [', headers={
            **mach, "Content-Type": "application/json"}, timeout=10),
        "wrong types": requests.post(f"{url}/heartbeat", json={"interval_s": "often", "forbidden": "Discord"},
                                     headers=mach, timeout=10),
        "event id not a UUID": requests.post(f"{url}/events", json={"events": [{"id": "1", "kind": "x",
                                             "at": "2026-11-22T09:00:00Z"}]}, headers=mach, timeout=10),
        "12 MB body": requests.post(f"{url}/reports", data=b"[" + b"0," * (6 << 20) + b"0]", headers={
            **mach, "Content-Type": "application/json"}, timeout=30),
        "unknown room (enrol)": requests.post(f"{url}/enroll", json={"room_code": "ZZZZZZ", "machine": {
            "id": "m9", "hostname": "h", "os": "linux"}}, timeout=10),
        "unknown room (machines)": requests.get(f"{url}/rooms/ZZZZZZ/machines", headers=sup, timeout=10),
        "wrong password": requests.post(f"{url}/login", json={"username": "admin", "password": "nope"}, timeout=10),
        "NaN in a heartbeat": requests.post(f"{url}/heartbeat", data=b'{"net": {"latency_ms": NaN}}', headers={
            **mach, "Content-Type": "application/json"}, timeout=10),
        "lone surrogate": requests.post(f"{url}/events", data=b'{"events": [{"id": "6f1c4a52-3d1b-4c43-9f0e-'
                                        b'8e3a3c7c2b11", "kind": "x", "at": "2026-11-22T09:00:00Z", '
                                        b'"title": "\\udc00"}]}', headers={**mach, "Content-Type":
                                        "application/json"}, timeout=10),
    }
    expected = {"no token": 401, "no token (supervisor)": 401, "forged token": 401, "forged supervisor token": 401,
                "machine token on supervisor route": 403, "machine token creating a room": 403,
                "supervisor token posting a report": 403, "supervisor token heart-beating": 403,
                "report of another machine": 403,
                "malformed JSON": 400, "wrong types": 422, "event id not a UUID": 422, "12 MB body": 413,
                "unknown room (enrol)": 404, "unknown room (machines)": 404, "wrong password": 401,
                "NaN in a heartbeat": 422, "lone surrogate": 400}
    got = {name: reply.status_code for name, reply in cases.items()}
    assert got == expected
    for name, reply in cases.items():
        assert reply.headers["content-type"].startswith("application/json"), name
        assert isinstance(reply.json()["error"], str) and reply.json()["error"], name
    # The server is still fine afterwards.
    assert server.get(f"/rooms/{room}/machines", sup).status_code == 200


def test_a_huge_chunked_body_is_refused_without_being_buffered(server):
    mach = server.login()  # any token: the size limit comes first
    chunks = (b"x" * 65536 for _ in range(200))  # 12.5 MiB, no Content-Length
    reply = requests.post(f"{server.url}/api/v1/events", data=chunks, headers={
        **mach, "Content-Type": "application/json"}, timeout=30)
    assert reply.status_code == 413 and reply.json()["code"] == "too_large"


def test_re_enrolling_gives_a_new_token_and_revokes_the_old_one(server):
    sup = server.login()
    room = server.create_room(sup)
    old = server.enroll(room, "m1")
    new = server.enroll(room, "m1")
    assert old != new
    assert server.post("/heartbeat", old, {}).status_code == 401
    assert server.post("/heartbeat", new, {}).status_code == 200
    assert len(server.get(f"/rooms/{room}/machines", sup).json()) == 1


def test_the_dashboard_and_openapi_are_served(server):
    assert requests.get(server.url + "/openapi.json", timeout=10).json()["paths"]["/api/v1/enroll"]
    home = requests.get(server.url + "/", timeout=10)
    assert home.status_code == 200 and "text/html" in home.headers["content-type"]
    texts = requests.get(server.url + "/api/v1/i18n/fr", timeout=10).json()
    # The dashboard's texts, plus the checks' titles, the statuses and the whitelist reasons
    # (the crash test's own names, shown in its language).
    assert texts and all(key.startswith(("dash.", "status.", "reason.")) or
                         (key.startswith("check.") and key.endswith(".title")) for key in texts)
    assert any(key.startswith("dash.") for key in texts)
    assert requests.get(server.url + "/api/v1/i18n/de", timeout=10).status_code == 404
    assert requests.get(server.url + "/api/v1/nothing", timeout=10).json()["error"]


def test_serve_refuses_bad_input_with_exit_2(tmp_path):
    import subprocess
    import sys

    def serve(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "agent", "serve", "--db", str(tmp_path / "s.db"), *args],
                              capture_output=True, text=True, timeout=60,
                              env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": str(tmp_path)})

    no_password = serve()
    assert no_password.returncode == 2 and "EXAMROOM_ADMIN_PASSWORD" in no_password.stderr
    assert "Traceback" not in no_password.stderr
    half_tls = serve("--admin-password", "x", "--cert", str(tmp_path / "c.pem"))
    assert half_tls.returncode == 2 and "--key" in half_tls.stderr
    (tmp_path / "c.pem").write_text("not a certificate")
    bad_tls = serve("--admin-password", "x", "--cert", str(tmp_path / "c.pem"), "--key", str(tmp_path / "c.pem"))
    assert bad_tls.returncode == 2 and "c.pem" in bad_tls.stderr and "Traceback" not in bad_tls.stderr
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = serve("--admin-password", "a long enough password", "--port", str(busy.getsockname()[1]))
    assert taken.returncode == 2 and "--port" in taken.stderr and "Traceback" not in taken.stderr


def test_room_create_works_offline_on_the_db_file(tmp_path):
    import subprocess
    import sys

    db = tmp_path / "offline.db"
    done = subprocess.run([sys.executable, "-m", "agent", "room", "create", "Salle B12", "--db", str(db),
                           "--lang", "fr"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    code = done.stdout.strip()
    assert len(code) == 6 and code in done.stderr and "Salle B12" in done.stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT name FROM rooms WHERE code=?", (code,)).fetchone() == ("Salle B12",)
    empty = subprocess.run([sys.executable, "-m", "agent", "room", "create", " ", "--db", str(db)],
                           capture_output=True, text=True, timeout=60)
    assert empty.returncode == 2 and "Traceback" not in empty.stderr
