"""A candidate who controls their machine, against a real ``examroom serve`` over real HTTP.

Each test replays one finding of issue 15: forged dates and server-only kinds (row 1, 14),
oversized fields (row 3), deep JSON with a lone surrogate (row 9), security headers and no
third-party swagger page (row 11). After every attack the supervisor's routes still answer.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import requests

from tests.server_support import LiveServer, event, machine, report


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    live = LiveServer(tmp_path_factory.mktemp("hostile")).start()
    yield live
    live.stop()


@pytest.fixture()
def room(server):
    sup = server.login()
    return sup, server.create_room(sup)


def _supervisor_routes_answer(server, sup, room):
    for path, params in ((f"/rooms/{room}/machines", {}), (f"/rooms/{room}/events", {}),
                         (f"/rooms/{room}/alerts", {}), (f"/rooms/{room}/incidents", {}),
                         (f"/rooms/{room}/incidents", {"format": "csv"}), (f"/rooms/{room}/export.csv", {}),
                         (f"/rooms/{room}/incidents/timeline", {}), ("/rooms", {})):
        reply = server.get(path, sup, **params)
        assert reply.status_code == 200, (path, reply.status_code, reply.text[:300])


def test_forged_dates_are_kept_beside_the_servers_receive_time(server, room):
    sup, code = room
    token = server.enroll(code, "m1")
    before = datetime.now(timezone.utc) - timedelta(seconds=1)
    batch = [event("focus_lost", "9999-12-31T23:59:59-14:00", title="Discord"),
             event("focus_lost", "9999-12-31T23:59:59Z", title="Discord"),
             event("net_down", "0001-01-01T00:00:00+14:00"),
             event("focus_lost", "2026-11-22T09:00:00Z", title="in the window")]
    reply = server.post("/events", token, {"events": batch})
    assert reply.status_code == 200, reply.text
    assert reply.json() == {"stored": 4, "duplicates": 0}
    rows = {e["id"]: e for e in server.get(f"/rooms/{code}/events", sup).json()}
    for forged in batch[:3]:
        row = rows[forged["id"]]
        at = datetime.fromisoformat(row["at"].replace("Z", "+00:00"))
        assert before <= at <= datetime.now(timezone.utc) + timedelta(seconds=1), row
        assert row["details"]["at_claimed"].startswith(forged["at"][:10]), row
    assert rows[batch[3]["id"]]["at"] == "2026-11-22T09:00:00.000Z"
    assert "at_claimed" not in rows[batch[3]["id"]]["details"]
    # A report from a machine whose clock says 2000 (dead CMOS battery) is kept too.
    old = report("m1", ready=True, finished_at="2000-01-01T00:00:00Z")
    reply = server.post("/reports", token, old)
    assert reply.status_code == 200 and reply.json()["report_at"][:4] == str(datetime.now(timezone.utc).year)
    stored = server.get(f"/rooms/{code}/machines/m1/report", sup).json()
    assert stored["finished_at_claimed"] == "2000-01-01T00:00:00Z"
    not_a_date = report("m1", ready=True, finished_at="yesterday")
    assert server.post("/reports", token, not_a_date).status_code == 422
    _supervisor_routes_answer(server, sup, code)


def test_kinds_the_server_raises_are_refused_from_machines(server, room):
    sup, code = room
    token = server.enroll(code, "m1")
    for kind in ("companion_lost", "companion_back"):
        forged = event(kind, last_seen="9999-12-31T23:59:59Z")
        reply = server.post("/events", token, {"events": [event("focus_regained"), forged]})
        assert reply.status_code == 422 and reply.json()["code"] == "server_kind", reply.text
    assert server.get(f"/rooms/{code}/events", sup).json() == []  # the whole batch was refused
    _supervisor_routes_answer(server, sup, code)


def test_every_field_a_machine_sends_has_a_ceiling(server, room):
    sup, code = room
    url = server.url + "/api/v1"
    huge_host = requests.post(f"{url}/enroll", json={"room_code": code, "machine": machine("m1", "H" * 300_000)},
                              timeout=30)
    assert huge_host.status_code == 422 and huge_host.json()["detail"]["field"] == "machine.hostname"
    assert requests.post(f"{url}/enroll", json={"room_code": code, "machine": {
        **machine("m1"), "os": "x" * 65}}, timeout=10).status_code == 422
    assert requests.post(f"{url}/enroll", json={"room_code": code, "machine": {
        **machine("m1"), "gpu": ["x" * 2000] * 20}}, timeout=10).status_code == 422  # 40 KB of facts
    token = server.enroll(code, "m1", "H" * 255)  # the ceiling itself is fine
    # Reports: a 900 KB report (under the body limit) is refused; so is a 20 KB summary.
    fat = report("m1", ready=True)
    fat["checks"][0]["summary"] = "x" * 20_000
    assert server.post("/reports", token, fat).status_code == 422
    bloated = report("m1", ready=True)
    bloated["checks"] = [dict(bloated["checks"][1], id=f"c{n}", summary="y" * 9000) for n in range(100)]
    reply = server.post("/reports", token, bloated)
    assert reply.status_code in (413, 422), reply.status_code
    # Events: details over 8 KB, a title over 2048 characters, deep nesting, huge integers.
    for details in ({"title": "t" * 3000}, {"a": "x" * 2000, "b": "x" * 2000, "c": "x" * 2000, "d": "x" * 2000,
                                            "e": "x" * 2000}, {"n": 10**30}, {"deep": [[[[[[[[[[[[[["x"]]]]]]]]]]]]]]}):
        reply = server.post("/events", token, {"events": [event("focus_lost", **details)]})
        assert reply.status_code == 422, (details.keys(), reply.text[:200])
    hb = server.post("/heartbeat", token, {"forbidden": ["F" * 300]})
    assert hb.status_code == 422
    # What fits is stored, and no event row repeats more than the 255-character host name.
    assert server.post("/events", token, {"events": [event("focus_lost", title="T" * 2048)]}).status_code == 200
    rows = server.get(f"/rooms/{code}/events", sup).json()
    assert len(rows) == 1 and len(rows[0]["hostname"]) == 255
    _supervisor_routes_answer(server, sup, code)


def test_deep_json_with_a_lone_surrogate_is_a_json_400_with_the_security_headers(server):
    url = server.url + "/api/v1"
    deep = b'{"username": ' + b"[" * 5000 + b'"\\ud800"' + b"]" * 5000 + b', "password": "x"}'
    for path in ("/login", "/enroll", "/events"):
        reply = requests.post(url + path, data=deep, headers={"Content-Type": "application/json"}, timeout=10)
        assert reply.status_code == 400, (path, reply.status_code, reply.text[:200])
        assert reply.headers["content-type"].startswith("application/json")
        assert reply.json()["code"] == "too_deep"
        assert "default-src 'none'" in reply.headers["content-security-policy"]
        assert reply.headers["x-content-type-options"] == "nosniff"
    # Deep without a surrogate, deep inside strings (not nesting at all): the same or fine.
    assert requests.post(url + "/login", data=b"[" * 100_000, headers={"Content-Type": "application/json"},
                         timeout=10).status_code == 400
    brackets_in_a_string = {"username": "admin", "password": "[{" * 500}
    assert requests.post(url + "/login", json=brackets_in_a_string, timeout=10).status_code == 401
    assert "Traceback" not in server.log_text() and "RecursionError" not in server.log_text()


def test_every_answer_has_a_csp_and_no_third_party_swagger(server):
    for path in ("/", "/app.js", "/style.css", "/openapi.json", "/api/v1/health", "/api/v1/nothing", "/nothing"):
        reply = requests.get(server.url + path, timeout=10)
        csp = reply.headers.get("content-security-policy", "")
        assert "default-src 'none'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp, path
    docs = requests.get(server.url + "/api/docs", timeout=10)
    assert "cdn" not in docs.text.lower() and "swagger" not in docs.text.lower()
    home = requests.get(server.url + "/", timeout=10).text
    assert "http://" not in home and "https://" not in home  # nothing loaded from elsewhere
