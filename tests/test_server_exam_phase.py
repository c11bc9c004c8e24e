"""exam_started / exam_ended (sent by the companion when the exam page calls its local
endpoint): shown on the machine's row, in the PV's timeline, never as alerts or incidents.
Real ``examroom serve`` subprocess over real HTTP."""
from __future__ import annotations

import pytest

from supervisor.watchdog import Liveness
from tests.server_support import LiveServer, event


@pytest.fixture()
def server(tmp_path, store_url):
    live = LiveServer(tmp_path, db=store_url).start()
    yield live
    live.stop()


def test_exam_phase_on_the_row_in_the_timeline_and_not_an_incident(server):
    sup = server.login()
    room = server.create_room(sup)
    pc1, pc2 = server.enroll(room, "m1", "B12-PC1"), server.enroll(room, "m2", "B12-PC2")
    assert server.post("/events", pc1, {"events": [
        event("exam_started", at="2026-11-22T09:02:00.000Z", session="12345"),
        event("focus_lost", at="2026-11-22T09:10:00.000Z", title="Discord"),
        event("exam_ended", at="2026-11-22T10:40:00.000Z")]}).status_code == 200
    assert server.post("/events", pc2, {"events": [
        event("exam_started", at="2026-11-22T09:05:00.000Z")]}).status_code == 200

    rows = {r["machine_id"]: r for r in server.get(f"/rooms/{room}/machines", sup).json()}
    assert (rows["m1"]["exam"], rows["m1"]["exam_at"]) == ("ended", "2026-11-22T10:40:00.000Z")
    assert (rows["m2"]["exam"], rows["m2"]["exam_at"]) == ("started", "2026-11-22T09:05:00.000Z")
    assert rows["m1"]["alerts"] == 1 and rows["m2"]["alerts"] == 0
    kinds = [e["kind"] for e in server.get(f"/rooms/{room}/events", sup).json()]
    assert kinds.count("exam_started") == 2 and kinds.count("exam_ended") == 1
    assert [a["kind"] for a in server.get(f"/rooms/{room}/alerts", sup).json()] == ["focus_lost"]
    assert [line["kind"] for line in server.get(f"/rooms/{room}/incidents", sup).json()] == ["focus_lost"]

    timeline = server.get(f"/rooms/{room}/incidents/timeline", sup).json()
    assert timeline == {"started_at": "2026-11-22T09:02:00.000Z", "ended_at": "2026-11-22T10:40:00.000Z",
                        "machines": [
                            {"machine_id": "m1", "hostname": "B12-PC1", "started_at": "2026-11-22T09:02:00.000Z",
                             "ended_at": "2026-11-22T10:40:00.000Z"},
                            {"machine_id": "m2", "hostname": "B12-PC2", "started_at": "2026-11-22T09:05:00.000Z",
                             "ended_at": None}]}
    assert server.get("/rooms/ZZZZZZ/incidents/timeline", sup).status_code == 404
    assert server.get(f"/rooms/{room}/incidents/timeline", pc1).status_code == 403

    # Kept across a restart (live state is persisted when it changes).
    server.kill()
    server.start()
    sup = server.login()
    rows = {r["machine_id"]: r for r in server.get(f"/rooms/{room}/machines", sup).json()}
    assert rows["m1"]["exam"] == "ended" and rows["m2"]["exam"] == "started"


def test_a_late_replayed_start_does_not_undo_the_end():
    live = Liveness()
    key = ("ROOM", "m1")
    assert live.on_event(key, "exam_started", {}, "2026-11-22T09:00:00.000Z")
    assert live.on_event(key, "exam_ended", {}, "2026-11-22T10:00:00.000Z")
    assert not live.on_event(key, "exam_started", {}, "2026-11-22T09:00:00.000Z")
    assert live.get(key).public()["exam"] == "ended"
    assert not live.on_event(key, "exam_started", {})  # no time: nothing to show


def test_the_i18n_route_gives_check_titles_and_statuses(server):
    import requests

    from core.result import CHECK_IDS

    for lang, screen, fail in (("fr", "Largeur d'écran", "ÉCHEC"), ("en", "Screen width", "FAIL")):
        texts = requests.get(f"{server.url}/api/v1/i18n/{lang}", timeout=10).json()
        assert texts["check.screen.title"] == screen and texts["status.fail"] == fail
        assert all(f"check.{i}.title" in texts for i in CHECK_IDS)
        assert texts["dash.kind.exam_started"] and "dash.login.title" in texts
        # Only what the page needs: no remediation texts or server messages.
        assert not [k for k in texts if not k.startswith(("dash.", "check.", "status.", "reason."))]
        assert texts["reason.dns_failed"] == {"fr": "nom non résolu (DNS)", "en": "name not resolved (DNS)"}[lang]
        assert not [k for k in texts if k.startswith("check.") and not k.endswith(".title")]
