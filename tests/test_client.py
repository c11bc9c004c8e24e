"""The agent's side: ``examroom check --server URL --room CODE`` against a real server.

End to end through the real command (subprocess), a real ``examroom serve``, HTTPS with a
throw-away CA (trustme) and ``--ca-file``, and the durable outbox when the server is down.
The request logic (error mapping, re-enrolment) is also unit-tested with ``responses``.
"""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import responses

from agent.client import ApiClient, ServerRefused, ServerUnreachable
from agent.outbox import Outbox
from core.report import Machine
from core.errors import BadInput
from tests.server_support import LiveServer


def run_check(tmp: Path, machine_id: str, server: str, room: str, *extra: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, EXAMROOM_HOME=str(tmp / f"agent-{machine_id}"), EXAMROOM_MACHINE_ID=machine_id)
    storage = tmp / "storage"
    storage.mkdir(exist_ok=True)
    return subprocess.run([sys.executable, "-m", "agent", "check", "--only", "storage", "--storage", str(storage),
                           "--lang", "fr", "--server", server, "--room", room, *extra],
                          capture_output=True, text=True, timeout=120, env=env)


def stored_reports(db: Path, machine_id: str) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT COUNT(*) FROM reports WHERE machine_id=?", (machine_id,)).fetchone()[0]


@pytest.fixture()
def server(tmp_path):
    live = LiveServer(tmp_path).start()
    yield live
    live.stop()


def test_check_enrols_once_and_uploads_each_report(server, tmp_path):
    sup = server.login()
    room = server.create_room(sup)
    for machine_id in ("agent-1", "agent-2"):
        done = run_check(tmp_path, machine_id, server.url, room)
        assert done.returncode == 0, done.stderr
        assert f"Rapport envoyé au serveur {server.url} (salle {room})" in done.stdout
    rows = sorted(server.get(f"/rooms/{room}/machines", sup).json(), key=lambda r: r["machine_id"])
    assert [(r["machine_id"], r["ready"]) for r in rows] == [("agent-1", True), ("agent-2", True)]
    report = server.get(f"/rooms/{room}/machines/agent-1/report", sup).json()
    # a partial run (--only storage): the others are listed as skip, and named in not_run
    assert [c["id"] for c in report["checks"] if c["id"] not in report["not_run"]] == ["storage"]
    assert {c["id"] for c in report["checks"] if c["status"] == "skip"} == set(report["not_run"]) and report["not_run"]
    # The server shows the status the agent decided (ok, or warn when the disk is nearly full).
    assert rows[0]["report_status"] == report["status"] in ("ok", "warn")

    # Second run: no new enrolment (same token), a second report stored.
    token_file = tmp_path / "agent-agent-1" / "enrolment.json"
    before = token_file.read_text()
    assert oct(token_file.stat().st_mode & 0o777) == "0o600"
    assert run_check(tmp_path, "agent-1", server.url, room).returncode == 0
    assert token_file.read_text() == before
    assert stored_reports(server.db, "agent-1") == 2


def test_server_down_exit_3_report_kept_and_sent_next_time(tmp_path):
    server = LiveServer(tmp_path)  # its port is chosen, nothing listens yet
    room = subprocess.run([sys.executable, "-m", "agent", "room", "create", "B12", "--db", str(server.db)],
                          capture_output=True, text=True, timeout=60).stdout.strip()
    down = run_check(tmp_path, "agent-1", server.url, room)
    assert down.returncode == 3
    assert "injoignable" in down.stderr and "conservé" in down.stderr and "Traceback" not in down.stderr
    outbox = Outbox(tmp_path / "agent-agent-1" / "outbox.sqlite")
    assert outbox.count("report") == 1
    outbox.close()

    server.start()
    try:
        up = run_check(tmp_path, "agent-1", server.url, room)
        assert up.returncode == 0, up.stderr
        assert "1 rapport(s) en attente" in up.stdout
        assert stored_reports(server.db, "agent-1") == 2
        outbox = Outbox(tmp_path / "agent-agent-1" / "outbox.sqlite")
        assert outbox.count("report") == 0
        outbox.close()
        wrong_room = run_check(tmp_path, "agent-1", server.url, "ZZZZZZ")
        assert wrong_room.returncode == 2 and "aucune salle" in wrong_room.stderr
    finally:
        server.stop()


def test_https_with_a_school_ca_file(tmp_path):
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    ca_file, chain, key = tmp_path / "ca.pem", tmp_path / "server.pem", tmp_path / "server.key"
    ca.cert_pem.write_to_path(str(ca_file))
    cert.cert_chain_pems[0].write_to_path(str(chain))
    for blob in cert.cert_chain_pems[1:]:
        blob.write_to_path(str(chain), append=True)
    cert.private_key_pem.write_to_path(str(key))
    server = LiveServer(tmp_path, args=("--cert", str(chain), "--key", str(key)), scheme="https",
                        verify=str(ca_file)).start()
    try:
        sup = server.login()
        room = server.create_room(sup)
        untrusted = run_check(tmp_path, "agent-1", server.url, room)
        assert untrusted.returncode == 3 and "--ca-file" in untrusted.stderr
        trusted = run_check(tmp_path, "agent-1", server.url, room, "--ca-file", str(ca_file))
        assert trusted.returncode == 0, trusted.stderr
        # Both reports arrived: the one kept when the certificate was refused, and the new one.
        assert stored_reports(server.db, "agent-1") == 2
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(server.url + "/api/v1/health", timeout=5)
        missing = run_check(tmp_path, "agent-1", server.url, room, "--ca-file", str(tmp_path / "nope.pem"))
        assert missing.returncode == 2 and "nope.pem" in missing.stderr
    finally:
        server.stop()


# ---------- request logic (responses), beside the real tests above ----------

URL = "http://school.example:8765"
MACHINE = Machine(id="m1", hostname="PC1", os="linux")


@responses.activate
def test_errors_map_to_unreachable_or_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("EXAMROOM_HOME", str(tmp_path))
    responses.post(f"{URL}/api/v1/enroll", json={"error": "no room", "code": "unknown_room"}, status=404)
    with pytest.raises(ServerRefused) as refused:
        ApiClient(URL, lang="fr").ensure_enrolled("ZZZZZZ", MACHINE)
    assert refused.value.status == 404 and str(refused.value) == "aucune salle n'a ce code"
    responses.replace(responses.POST, f"{URL}/api/v1/enroll", body="Bad Gateway", status=502)
    with pytest.raises(ServerUnreachable, match="502"):
        ApiClient(URL).ensure_enrolled("ABCDEF", MACHINE)
    responses.replace(responses.POST, f"{URL}/api/v1/enroll", body="<html>captive portal</html>", status=200)
    with pytest.raises(ServerUnreachable, match="not an examroom server"):
        ApiClient(URL).ensure_enrolled("ABCDEF", MACHINE)
    with pytest.raises(BadInput):
        ApiClient(URL, ca_file=str(tmp_path / "missing.pem"))


@responses.activate
def test_a_revoked_token_enrols_again_once(tmp_path, monkeypatch):
    monkeypatch.setenv("EXAMROOM_HOME", str(tmp_path))
    responses.post(f"{URL}/api/v1/enroll", json={"machine_id": "m1", "token": "mt_first"})
    client = ApiClient(URL)
    assert client.ensure_enrolled("abc def", MACHINE) == "m1"
    assert ApiClient(URL).ensure_enrolled("ABCDEF", MACHINE) == "m1"  # stored: no second enrolment
    assert len([c for c in responses.calls if c.request.url.endswith("/enroll")]) == 1

    responses.replace(responses.POST, f"{URL}/api/v1/enroll", json={"machine_id": "m1", "token": "mt_second"})
    responses.post(f"{URL}/api/v1/heartbeat", json={"error": "revoked", "code": "bad_token"}, status=401)
    responses.post(f"{URL}/api/v1/heartbeat", json={"live": "online", "server_time": "t"})
    assert client.heartbeat({}) == {"live": "online", "server_time": "t"}
    sent = [c.request.headers["Authorization"] for c in responses.calls if c.request.url.endswith("/heartbeat")]
    assert sent == ["Bearer mt_first", "Bearer mt_second"]


@responses.activate
def test_two_clients_of_one_machine_do_not_revoke_each_other(tmp_path, monkeypatch):
    """The companion's two threads each hold a client; one re-enrols after a 401, the other
    then adopts the stored token instead of enrolling again (which would revoke it)."""
    monkeypatch.setenv("EXAMROOM_HOME", str(tmp_path))
    issued = iter(["mt_a", "mt_b", "mt_c"])
    responses.add_callback(responses.POST, f"{URL}/api/v1/enroll", callback=lambda req: (
        200, {}, '{"machine_id": "m1", "token": "%s"}' % next(issued)))
    valid = {"token": None}

    def heartbeat(request):
        ok = request.headers["Authorization"] == f"Bearer {valid['token']}"
        return (200, {}, '{"live": "online"}') if ok else (401, {}, '{"error": "revoked", "code": "bad_token"}')

    responses.add_callback(responses.POST, f"{URL}/api/v1/heartbeat", callback=heartbeat)
    first, second = ApiClient(URL), ApiClient(URL)
    first.ensure_enrolled("ABCDEF", MACHINE)
    second.ensure_enrolled("ABCDEF", MACHINE)
    assert first.token == second.token == "mt_a"
    # The server lost our token (database replaced): the first client enrols again...
    responses.calls.reset()
    with pytest.raises(ServerRefused):
        first.heartbeat({})  # mt_b is issued, but this fake server does not know it yet
    valid["token"] = "mt_b"
    assert first.heartbeat({}) == {"live": "online"}
    # ...and the second, on its 401, takes mt_b from the state file without enrolling.
    assert second.heartbeat({}) == {"live": "online"} and second.token == "mt_b"
    assert len([c for c in responses.calls if c.request.url.endswith("/enroll")]) == 1


def test_a_report_the_server_refuses_is_set_aside_not_blocking_the_next(server, tmp_path, monkeypatch):
    from agent.client import upload_report
    from core.report import Report
    from tests.server_support import report as make_report

    monkeypatch.setenv("EXAMROOM_HOME", str(tmp_path / "agent"))
    sup = server.login()
    room = server.create_room(sup)
    huge = make_report("agent-9", ready=True)
    huge["checks"][0]["items"] = [{"name": f"site-{i}", "detail": "x" * 1000} for i in range(1500)]  # > 1 MiB
    with pytest.raises(BadInput) as refused:
        upload_report(Report.model_validate(huge), server=server.url, room=room, ca_file=None, lang="fr")
    assert "trop volumineux" in refused.value.line()
    outbox = Outbox(tmp_path / "agent" / "outbox.sqlite")
    assert outbox.count("report") == 0 and outbox.count("report_refused") == 1  # kept, out of the way
    outbox.close()
    message = upload_report(Report.model_validate(make_report("agent-9", ready=True)), server=server.url,
                            room=room, ca_file=None, lang="en")
    assert message == f"Report sent to the server {server.url} (room {room})."
    assert stored_reports(server.db, "agent-9") == 1
