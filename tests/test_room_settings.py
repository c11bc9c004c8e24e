"""The room's settings come from the server, and event times are shown on the server's clock
(issue 11, item 5), with a real server subprocess, SQLite and a real companion process.

- a companion started with ``--heartbeat 600`` is flagged on its tile, beats at the room's
  pace after its first answer, and once killed -9 is lost after the ROOM's lost timeout (not
  after 30 minutes);
- a machine whose clock is 5 minutes ahead: the server estimates the offset from the
  heartbeat exchange, keeps its own receive time beside the machine's, and shows corrected
  times in the journal (API and dashboard in Chromium) and in the PV d'incident.
"""
from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from core.roomsettings import DEFAULT_EXAM_TITLE
from tests.server_support import LiveServer, dashboard_login


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = LiveServer(tmp_path_factory.mktemp("roomsettings")).start()
    try:
        yield srv
    finally:
        srv.stop()


def _row(server, sup, room, machine_id):
    return next((r for r in server.get(f"/rooms/{room}/machines", sup).json() if r["machine_id"] == machine_id), None)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_the_default_exam_title_is_the_companions():
    from companion.focus import DEFAULT_EXAM_TITLE as COMPANION_DEFAULT

    assert DEFAULT_EXAM_TITLE == COMPANION_DEFAULT


def test_a_companion_with_a_slow_heartbeat_is_flagged_follows_the_room_and_is_lost_in_time(server, tmp_path):
    from tests.companion_support import CompanionProcess, wait_for

    sup = server.login()
    room = server.create_room(sup, "Salle R1")
    companion = CompanionProcess(tmp_path, "m-slow", server.url, room, platform_url=f"{server.url}/api/v1/health",
                                 extra=["--heartbeat", "600"])
    try:
        row = wait_for(lambda: (r := _row(server, sup, room, "m-slow")) and r["live"] == "online" and r, 30)
        assert row, companion.log_path.read_text()
        flagged = wait_for(lambda: (r := _row(server, sup, room, "m-slow")) and r["flags"].get("settings") and r, 10)
        assert flagged and flagged["flags"]["settings"] == "notice"
        # the tile's flag is in memory a moment before its companion_settings event is committed
        def settings_events():
            return [e for e in server.get(f"/rooms/{room}/events", sup).json() if e["kind"] == "companion_settings"]
        outside = wait_for(settings_events, 10)
        assert len(outside) == 1 and outside[0]["details"]["outside"]["heartbeat_s"] == [600.0, 2.0]
        assert outside[0]["alert"] is False   # a flag for the supervisor, not an alert
        # it follows the room: heartbeats keep coming every 2 s, not every 10 minutes
        first_seen = _row(server, sup, room, "m-slow")["last_seen"]
        assert wait_for(lambda: _row(server, sup, room, "m-slow")["last_seen"] != first_seen, 15), \
            "the companion must beat at the room's pace after its first answer"
        assert "as the room asks" in companion.log_path.read_text()
        companion.kill9()
        killed = time.monotonic()
        lost = wait_for(lambda: _row(server, sup, room, "m-slow")["live"] == "lost", 20, step=0.2)
        assert lost, "a killed companion must be lost after the room's timeout"
        assert time.monotonic() - killed < 12   # the room's 6 s (+ a watchdog round), not 3 x 600 s
        # the tile turns lost a moment before its companion_lost event is committed: wait for the event
        def lost_events() -> int:
            return [e["kind"] for e in server.get(f"/rooms/{room}/events", sup).json()].count("companion_lost")
        assert wait_for(lambda: lost_events() >= 1, 10, step=0.2)
        assert lost_events() == 1
    finally:
        companion.cleanup()


def test_event_times_are_corrected_by_the_machines_clock_offset(server):
    from tests.test_dashboard_browser import CHROMIUM, CHROMIUM_ARGS, WAIT_MS, sync_api
    from tests.support import need

    sup = server.login()
    room = server.create_room(sup, "Salle R2")
    pc = server.enroll(room, "m-ahead", "PC-AHEAD")
    ahead = timedelta(minutes=5)
    for _ in range(3):
        reply = server.post("/heartbeat", pc, {"at": _iso(datetime.now(timezone.utc) + ahead), "interval_s": 2,
                                               "rtt_ms": 4}).json()
        assert reply["settings"]["heartbeat_s"] == 2.0 and reply["settings"]["lost_after_s"] == 6.0
    row = _row(server, sup, room, "m-ahead")
    assert -302 < row["clock_offset_s"] < -298
    assert row["flags"] == {"clock": "notice"}   # said on the tile
    machine_at = datetime.now(timezone.utc) + ahead
    event = {"id": str(uuid.uuid4()), "kind": "focus_lost", "at": _iso(machine_at), "title": "Discord",
             "process": "Discord", "program": "Discord", "category": "communication", "level": "alert"}
    assert server.post("/events", pc, {"events": [event]}).json()["stored"] == 1
    stored = next(e for e in server.get(f"/rooms/{room}/events", sup).json() if e["kind"] == "focus_lost")
    assert stored["at"] == event["at"]          # the machine's time is kept as it came
    received = _parse(stored["received_at"])   # beside the server's own receive time
    corrected = _parse(stored["at_corrected"])
    assert abs((received - datetime.now(timezone.utc)).total_seconds()) < 30
    assert abs((corrected - received).total_seconds()) < 3   # on the server's clock
    line = server.get(f"/rooms/{room}/incidents", sup, lang="fr").json()[0]
    assert line["at"] == event["at"] and line["at_corrected"] == stored["at_corrected"]
    started = {"id": str(uuid.uuid4()), "kind": "exam_started", "at": _iso(machine_at)}
    assert server.post("/events", pc, {"events": [started]}).json()["stored"] == 1
    timeline = server.get(f"/rooms/{room}/incidents/timeline", sup).json()
    assert abs((_parse(timeline["started_at"]) - corrected).total_seconds()) < 1   # the PV's header too
    csv = server.get(f"/rooms/{room}/incidents", sup, lang="fr", format="csv", tz="UTC").text
    assert csv.splitlines()[1].startswith(corrected.strftime("%H:%M:%S") + ";PC-AHEAD;C6;")

    need("chromium")
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = chromium.new_context(locale="fr-FR", timezone_id="UTC").new_page()
            page.set_default_timeout(WAIT_MS)
            dashboard_login(page, server.url)
            page.goto(f"{server.url}/#/room/{room}")
            # its journal line (a companion_lost may come after it: this machine stopped beating)
            shown = page.locator("#journal li", has_text="Discord").locator("time")
            sync_api.expect(shown).to_have_attribute("datetime", stored["at_corrected"])
            assert (shown.text_content() or "").startswith(corrected.strftime("%H:%M"))
            assert machine_at.strftime("%H:%M") in (shown.get_attribute("title") or "")
        finally:
            chromium.close()


def test_a_replayed_stop_of_the_previous_run_does_not_make_the_running_companion_come_back():
    """The outbox delivers the previous run's companion_stopped just before this run's
    companion_started: the companion delivering them is alive, no companion_back follows."""
    from supervisor.models import HeartbeatIn
    from supervisor.watchdog import Liveness

    live = Liveness(clock=lambda: 1000.0)
    key = ("R", "m")
    live.beat(key, HeartbeatIn(interval_s=0.5), "t")
    live.on_event(key, "companion_stopped", {"reason": "sigterm"})   # the previous run's, replayed
    live.on_event(key, "companion_started", {"heartbeat_s": 0.5, "exam_title_pattern": DEFAULT_EXAM_TITLE})
    assert live.get(key).status == "online" and not live.get(key).stopped
    changed, back = live.beat(key, HeartbeatIn(interval_s=0.5), "t2")
    assert not back
    # a slow heartbeat announced at start is outside the room's settings, a flag on the tile
    live.on_event(key, "companion_started", {"heartbeat_s": 600})
    assert live.get(key).flags == {"settings": "notice"} and live.get(key).outside == {"heartbeat_s": [600, 2.0]}
    live.on_event(key, "companion_started", {"heartbeat_s": 2})
    assert live.get(key).flags == {} and live.get(key).outside == {}
