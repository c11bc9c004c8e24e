"""The session's delivery logic with an in-memory server stand-in (the real server is in
test_companion_e2e.py): refused events are kept aside, unreachable keeps everything,
stopping records companion_stopped and keeps what could not be sent."""
from __future__ import annotations

import json
from pathlib import Path

from agent.client import ServerRefused, ServerUnreachable
from core.events import event
from companion.session import CompanionConfig, Session


class FakeServer:
    def __init__(self) -> None:
        self.up = True
        self.stored: dict[str, dict] = {}
        self.beats: list[dict] = []
        self.enrolments = 0

    def ensure_enrolled(self, room, machine) -> str:
        if not self.up:
            raise ServerUnreachable("down")
        self.enrolments += 1
        return "m1"

    def post_events(self, events: list[dict]) -> dict:
        if not self.up:
            raise ServerUnreachable("down")
        if any(e.get("poison") for e in events):
            raise ServerRefused("invalid event", 422)
        new = [e for e in events if e["id"] not in self.stored]
        self.stored.update({e["id"]: e for e in events})
        return {"stored": len(new), "duplicates": len(events) - len(new)}

    def heartbeat(self, payload: dict) -> dict:
        if not self.up:
            raise ServerUnreachable("down")
        self.beats.append(payload)
        return {"live": "online"}


def session(tmp_path: Path, server: FakeServer) -> Session:
    return Session(CompanionConfig(server="http://x", room="R", platform_url=None, settle_s=0), client=server, machine=None,
                   focus_watcher=None, os_name="linux", home=tmp_path)


def test_refused_event_is_kept_aside_and_the_rest_delivered(tmp_path: Path) -> None:
    server = FakeServer()
    s = session(tmp_path, server)
    good1 = event("net_down", url="u", error="timeout")
    bad = event("net_up", url="u", down_s=1.0, poison=True)
    good2 = event("net_up", url="u", down_s=2.0)
    for ev in (good1, bad, good2):
        s.record(ev)
    assert s._flush_once() is False          # the batch was refused: split
    assert set(server.stored) == {good1.id, good2.id}
    assert s.outbox.count("event") == 0
    kept = s.outbox.peek("event_refused")
    assert [p["event"]["id"] for _, p in kept] == [bad.id] and kept[0][1]["error"] == "invalid event"
    assert s._flush_once() is True


def test_unreachable_keeps_everything_then_delivers_once(tmp_path: Path) -> None:
    server = FakeServer()
    server.up = False
    s = session(tmp_path, server)
    ids = [s.record(event("focus_lost", title=f"t{i}", process="p", exam_title_pattern="Pix")) or None
           for i in range(250)]
    assert ids and s._flush_once() is False
    assert s.outbox.count("event") == 250 and s.status.server_ok is False
    server.up = True
    assert s._flush_once() and s._flush_once()   # batches of 200
    assert len(server.stored) == 250 and s.outbox.count("event") == 0
    journal = [json.loads(l) for l in (tmp_path / "companion-journal.jsonl").read_text().splitlines()]
    assert {e["id"] for e in journal} == set(server.stored)


def test_stop_records_companion_stopped_and_keeps_it_when_the_server_is_down(tmp_path: Path) -> None:
    server = FakeServer()
    s = session(tmp_path, server)
    s.start()
    server.up = False
    s.stop("sigterm", flush_s=0.5)
    kinds = [p["kind"] for _, p in s.outbox.peek("event")]
    assert "companion_stopped" in kinds and s.status.pending == len(kinds)
    assert s.outbox.peek("event")[-1][1]["reason"] == "sigterm"


def test_heartbeat_payload_shape_and_long_titles_are_clipped(tmp_path: Path) -> None:
    from companion.focus import Foreground

    s = session(tmp_path, FakeServer())
    s.on_focus(Foreground("Pix " + "x" * 5000, "firefox", 123))
    payload = s.heartbeat_payload()
    assert set(payload) >= {"at", "interval_s", "net", "focus", "forbidden", "companion_version"}
    assert payload["focus"]["exam"] is True and len(payload["focus"]["title"]) == 1000
    assert payload["net"] == {"up": None, "latency_ms": None, "platform_url": None}
    s.tracker.armed = True
    s.on_focus(Foreground("y" * 5000, "chat", 124))
    lost = s.outbox.peek("event")[-1][1]
    assert lost["kind"] == "focus_lost" and len(lost["title"]) == 1000


def test_bad_options_are_one_line_and_exit_2() -> None:
    import subprocess
    import sys

    cases = [
        (["--exam-title", "Pix("], "--exam-title"),
        (["--platform-url", "app.pix.fr"], "--platform-url"),
        (["--allowed-origin", "https://app.pix.fr/exam"], "--allowed-origin"),
        (["--heartbeat", "0"], "--heartbeat"),
        (["--ca-file", "/nonexistent/ca.pem"], "/nonexistent/ca.pem"),
    ]
    for extra, where in cases:
        proc = subprocess.run([sys.executable, "-m", "agent", "companion", "--server", "http://127.0.0.1:9",
                               "--room", "R", "--no-window", "--lang", "en", *extra],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 2, (extra, proc.stderr)
        assert where in proc.stderr and "Traceback" not in proc.stderr, proc.stderr


def test_a_big_journal_is_rotated_at_start(tmp_path: Path, monkeypatch) -> None:
    import companion.journal as mod

    monkeypatch.setattr(mod, "JOURNAL_MAX_BYTES", 100)
    (tmp_path / "companion-journal.jsonl").write_text("x" * 200 + "\n")
    s = session(tmp_path, FakeServer())
    s.record(event("net_down", url="u", error="timeout"))
    assert (tmp_path / "companion-journal.jsonl.1").read_text().startswith("x" * 200)
    assert json.loads((tmp_path / "companion-journal.jsonl").read_text())["kind"] == "net_down"


class BrokenOutbox:
    """The real outbox until ``broken``: then every write fails as SQLite does on a full disk."""

    def __init__(self, real) -> None:
        self.real, self.broken = real, False

    def put(self, *args, **kwargs):
        if self.broken:
            import sqlite3
            raise sqlite3.OperationalError("database or disk is full")
        return self.real.put(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.real, name)


def test_an_event_the_outbox_cannot_store_is_neither_lost_nor_raised_into_the_watcher(tmp_path: Path) -> None:
    server = FakeServer()
    server.up = False
    s = session(tmp_path, server)
    s.outbox = BrokenOutbox(s.outbox)
    s.outbox.broken = True
    lost = event("focus_lost", title="Discord", process="Discord", exam_title_pattern="Pix")
    s.record(lost)                               # must not raise into the focus watcher
    assert s.pending_count() == 1 and s.heartbeat_payload()["pending_events"] == 1
    server.up = True
    assert s._flush_once() is True               # sent straight from memory while the disk is full
    assert lost.id in server.stored and s.pending_count() == 0
    # and when the outbox recovers first, the kept event goes into it, then to the server once
    server.up = False
    again = event("focus_regained", title="Pix", process="firefox", away_s=3.0)
    s.record(again)
    s.outbox.broken = False
    assert s._flush_once() is False and s.outbox.count("event") == 1
    server.up = True
    assert s._flush_once() is True and again.id in server.stored and s.pending_count() == 0


def test_a_loop_that_crashes_is_reported_and_restarted_and_the_others_go_on(tmp_path: Path) -> None:
    import threading

    server = FakeServer()
    s = session(tmp_path, server)
    calls: list[int] = []
    second_run = threading.Event()

    def flaky_scan(stop) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("psutil exploded")
        second_run.set()
        stop.wait()

    s.forbidden.run = flaky_scan
    s.config.heartbeat_s = 0.1
    s.start()
    try:
        assert second_run.wait(10), "the crashed loop was not restarted"
        s.record(event("net_down", url="u", error="timeout"))   # the sender still delivers
        deadline = threading.Event()
        for _ in range(200):
            kinds = [e["kind"] for e in server.stored.values()]
            if "companion_error" in kinds and "net_down" in kinds and any(b["errors"] for b in server.beats):
                break
            deadline.wait(0.05)
        errors = [e for e in server.stored.values() if e["kind"] == "companion_error"]
        assert len(errors) == 1 and errors[0]["loop"] == "processes" and "psutil exploded" in errors[0]["error"]
        assert "net_down" in [e["kind"] for e in server.stored.values()]
        assert any(b["errors"] == 1 and "psutil exploded" in b["last_error"] for b in server.beats)
    finally:
        s.stop("test")


def test_an_exam_in_progress_survives_a_companion_restart(tmp_path: Path) -> None:
    """Killed while the candidate is in the exam, restarted while they are on Discord: the
    absence is reported without waiting to see the exam window again."""
    import time as _time

    from companion.focus import Foreground

    server = FakeServer()
    first = session(tmp_path, server)
    first.on_focus(Foreground("Pix - Certification", "firefox", 10))
    assert first.tracker.armed
    # (the process dies here: no stop, no exam_ended)
    second = session(tmp_path, server)
    second.start()
    try:
        def journal(kind: str) -> list[dict]:
            lines = (tmp_path / "companion-journal.jsonl").read_text().splitlines()
            return [e for e in map(json.loads, lines) if e["kind"] == kind]

        assert journal("companion_started")[-1]["exam_in_progress"] is True
        second.on_focus(Foreground("Discord", "Discord", 20))
        assert [e["title"] for e in journal("focus_lost")] == ["Discord"]
        second.exam_phase("ended")
    finally:
        second.stop("test")
    # after the end (or too long after the start) a restart waits for the exam again
    third = session(tmp_path, server)
    assert third._resume_exam() is False and not third.tracker.armed
    (tmp_path / "companion-exam.json").write_text('{"armed_at": %f}' % (_time.time() - 4 * 3600))
    fourth = session(tmp_path, server)
    assert fourth._resume_exam() is False and not (tmp_path / "companion-exam.json").exists()


def test_a_status_window_that_goes_away_is_reported_once(tmp_path: Path) -> None:
    import subprocess
    import sys

    from companion.cli import window_gone

    s = session(tmp_path, FakeServer())
    win = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        assert window_gone(win, s) is win                  # running: nothing recorded
        win.kill()
        win.wait(10)
        assert window_gone(win, s) is None and window_gone(None, s) is None
    finally:
        if win.poll() is None:
            win.kill()
            win.wait(10)
    closed = [p for _, p in s.outbox.peek("event", 10) if p["kind"] == "status_window_closed"]
    assert len(closed) == 1 and closed[0]["returncode"] == -9


def test_a_loop_failing_again_and_again_is_reported_once_and_slowed_down(tmp_path: Path, monkeypatch) -> None:
    import threading

    import companion.session as session_module

    monkeypatch.setattr(session_module, "ERROR_RESTART_S", 0.01)
    server = FakeServer()
    s = session(tmp_path, server)
    runs: list[int] = []
    fifth = threading.Event()

    def always_failing(stop) -> None:
        runs.append(1)
        if len(runs) >= 5:
            fifth.set()
        raise OSError("disk I/O error")

    s._spawn("processes", always_failing, s.stop_event)
    try:
        assert fifth.wait(10)
    finally:
        s.stop_event.set()
        for thread in s._threads:
            thread.join(5)
    errors = [p for _, p in s.outbox.peek("event", 100) if p["kind"] == "companion_error"]
    assert len(errors) == 1 and s.status.errors >= 5


def test_a_clean_stop_ends_the_exam_state_and_says_the_platform_did_not(tmp_path: Path) -> None:
    """The next candidate in the same room must not start with alerts: companion-exam.json
    survives a crash (above) but not a clean stop, and a stop during an exam the platform
    did not end is itself an alert."""
    from companion.focus import Foreground

    server = FakeServer()
    first = session(tmp_path, server)
    first.start()
    first.on_focus(Foreground("Pix - Certification", "firefox", 10))
    assert first.tracker.armed and (tmp_path / "companion-exam.json").exists()
    first.stop("sigterm")
    assert not (tmp_path / "companion-exam.json").exists()
    kinds = [json.loads(line)["kind"] for line in (tmp_path / "companion-journal.jsonl").read_text().splitlines()]
    assert kinds[-2:] == ["exam_end_unsignalled", "companion_stopped"]
    second = session(tmp_path, server)
    assert second._resume_exam() is False and not second.tracker.armed
    # an exam the platform ended: a clean stop afterwards is nothing to report
    second.start()
    second.exam_phase("started", source="extension", host="app.pix.fr")
    second.exam_phase("ended", source="extension", host="app.pix.fr")
    second.stop("sigterm")
    kinds = [json.loads(line)["kind"] for line in (tmp_path / "companion-journal.jsonl").read_text().splitlines()]
    assert kinds[-3:] == ["exam_started", "exam_ended", "companion_stopped"]


def test_the_focus_requirement_ends_with_the_exam_phase_and_a_clean_stop(tmp_path: Path) -> None:
    """What the platform's page said about its question (through the extension) belongs to
    one exam phase: forgotten when the exam ends, and when the companion stops cleanly."""
    from companion.extchannel import Peer

    peer = Peer(pid=50, browser_pid=40, browser="chromium", origin="chrome-extension://x/")
    focused = {"type": "focus", "required": True, "tab": 3, "scheme": "https", "host": "app.pix.fr", "port": ""}
    s = session(tmp_path, FakeServer())
    s.extension._peer(peer, True)
    s.exam_phase("started", source="extension", host="app.pix.fr")
    s.extension._message(peer, focused)
    assert s.status.focus_required and s.tracker.focus_required
    s.exam_phase("ended", source="extension", host="app.pix.fr")
    assert not s.status.focus_required and not s.tracker.focus_required
    s.exam_phase("started", source="extension", host="app.pix.fr")
    assert not s.tracker.focus_required          # the next phase starts without it
    s.extension._message(peer, focused)
    assert s.tracker.focus_required
    s.start()
    s.stop("sigterm")
    assert not s.status.focus_required and not s.tracker.focus_required


def test_a_repeated_exam_start_keeps_the_phases_acts(tmp_path: Path) -> None:
    """The exam page reloaded says "started" again: an act already alerted stays one act; only
    a new phase (ended, then started) forgets them."""
    s = session(tmp_path, FakeServer())
    s.exam_phase("started", source="extension", host="app.pix.fr")
    assert s.acts.claim("a1", {"program:discord"}, held=True) is None
    s.exam_phase("started", source="extension", host="app.pix.fr")
    assert s.acts.claim("a2", {"program:discord"}, held=True) == "a1"
    s.exam_phase("ended", source="extension", host="app.pix.fr")
    s.exam_phase("started", source="extension", host="app.pix.fr")
    assert s.acts.claim("a3", {"program:discord"}, held=True) is None
