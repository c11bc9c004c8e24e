"""Live session on the server: heartbeats, lost companions, Server-Sent Events, the PV draft.

The lost-companion and SSE tests run against a real ``examroom serve``; the state machine
and the PV wording are also tested directly, with a fake clock.
"""
from __future__ import annotations

import json
import time

import pytest
import requests

from supervisor.incidents import build_draft, draft_csv
from supervisor.models import HeartbeatIn
from supervisor.watchdog import Liveness
from tests.server_support import LiveServer, event


@pytest.fixture()
def server(tmp_path, store_url):
    live = LiveServer(tmp_path, db=store_url).start()
    yield live
    live.stop()


def _machine_row(server, sup, room, machine_id):
    return next(r for r in server.get(f"/rooms/{room}/machines", sup).json() if r["machine_id"] == machine_id)


def test_a_silent_companion_is_lost_within_10_s_and_comes_back(server):
    sup = server.login()
    room = server.create_room(sup)
    token = server.enroll(room, "m1")
    assert _machine_row(server, sup, room, "m1")["live"] == "never"
    for _ in range(3):
        assert server.post("/heartbeat", token, {"interval_s": 1, "focus": {"exam": True, "title": "Pix"},
                                                 "net": {"up": True, "latency_ms": 12.5}}).json()["live"] == "online"
        time.sleep(0.2)
    row = _machine_row(server, sup, room, "m1")
    assert (row["live"], row["focus"], row["focus_title"], row["net"]) == ("online", "exam", "Pix", "up")

    silent_since = time.monotonic()  # as if the companion was killed -9 now
    # The row turns "lost" in memory a moment before the event's commit: wait for both.
    while _machine_row(server, sup, room, "m1")["live"] != "lost" or \
            not (events := server.get(f"/rooms/{room}/events", sup).json()):
        assert time.monotonic() - silent_since < 10, "companion_lost must come within 10 s"
        time.sleep(0.2)
    assert [e["kind"] for e in events] == ["companion_lost"]
    assert events[0]["alert"] is True and events[0]["details"]["silent_s"] >= 6
    time.sleep(1.5)  # one loss, one event: the watchdog does not repeat itself
    assert len(server.get(f"/rooms/{room}/events", sup).json()) == 1

    assert server.post("/heartbeat", token, {"interval_s": 1}).json()["live"] == "online"
    kinds = [e["kind"] for e in server.get(f"/rooms/{room}/events", sup).json()]
    assert kinds == ["companion_lost", "companion_back"]
    assert _machine_row(server, sup, room, "m1")["alerts"] == 1


class SSEReader:
    """(event, data) pairs from a live text/event-stream, read byte by byte so nothing waits in a buffer.
    Messages of the kinds in ``skip`` are passed over (``group``: the alert groups' counts, followed
    by tests/test_server_alert_groups.py)."""

    def __init__(self, reply: requests.Response, skip: tuple[str, ...] = ("group",)) -> None:
        self.lines = reply.iter_lines(chunk_size=1, decode_unicode=True)
        self.skip = skip

    def read(self, wanted: int) -> list[tuple[str, dict]]:
        messages: list[tuple[str, dict]] = []
        name = None
        for line in self.lines:  # the reply's read timeout bounds each wait
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: ") and name:
                if name not in self.skip:
                    messages.append((name, json.loads(line[6:])))
                name = None
                if len(messages) >= wanted:
                    break
        return messages


def test_the_stream_pushes_machine_rows_events_and_acks(server):
    sup = server.login()
    room = server.create_room(sup)
    token = server.enroll(room, "m1", "B12-PC1")
    assert server.post("/heartbeat", token, {"interval_s": 2, "focus": {"exam": True, "title": "Pix"}}).ok
    url = f"{server.url}/api/v1/rooms/{room}/stream"
    assert requests.get(url, timeout=5).status_code == 401
    assert requests.get(url, params={"token": "sv_forged"}, timeout=5).status_code == 401
    assert requests.get(url, headers=token, timeout=5).status_code == 403
    with requests.get(url, params={"token": sup["Authorization"][7:]}, stream=True, timeout=(5, 10)) as reply:
        assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/event-stream")
        sse = SSEReader(reply)
        lost = event("focus_lost", title="Discord", process="Discord.exe")
        assert server.post("/events", token, {"events": [lost]}).json()["stored"] == 1
        got = sse.read(2)
        assert got[0][0] == "event" and got[0][1]["id"] == lost["id"] and got[0][1]["alert"] is True
        assert got[1][0] == "machine" and got[1][1]["focus"] == "away" and got[1][1]["alerts"] == 1
        assert got[1][1]["focus_title"] == "Discord" and got[1][1]["hostname"] == "B12-PC1"

        assert server.post(f"/rooms/{room}/alerts/{lost['id']}/ack", sup, None).ok
        got = sse.read(2)
        assert got[0] == ("ack", {"id": lost["id"], "acked_at": got[0][1]["acked_at"], "acked_by": "admin"})
        assert got[1][0] == "machine" and got[1][1]["alerts"] == 0

        # A heartbeat that changes nothing visible is not pushed; one that does, is.
        assert server.post("/heartbeat", token, {"focus": {"exam": False, "title": "Discord"}}).ok
        assert server.post("/heartbeat", token, {"focus": {"exam": True, "title": "Pix"}, "forbidden": ["Zoom"]}).ok
        got = sse.read(1)
        assert got[0][0] == "machine" and got[0][1]["focus"] == "exam" and got[0][1]["forbidden"] == ["Zoom"]


# ---------- the state machine, with a fake clock ----------

class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_lost_after_the_rooms_timeout_whatever_the_companion_announces():
    # issue 11: a companion announcing a slow heartbeat (--heartbeat 600) is not trusted for
    # it; both are lost after the room's 6 s, and the slow one is flagged outside the room's settings
    clock = Clock()
    live = Liveness(clock=clock)
    live.beat(("R", "fast"), HeartbeatIn(interval_s=1), "t")
    live.beat(("R", "slow"), HeartbeatIn(interval_s=600), "t")
    assert live.get(("R", "slow")).flags == {"settings": "notice"} and live.get(("R", "fast")).flags == {}
    assert live.get(("R", "slow")).outside == {"heartbeat_s": [600, 2.0]}
    clock.now += 5.9
    assert live.expire() == []
    clock.now += 0.2
    assert sorted(key for key, _ in live.expire()) == [("R", "fast"), ("R", "slow")]
    assert live.expire() == []  # once per loss
    changed, back = live.beat(("R", "fast"), HeartbeatIn(), "t2")
    assert changed and back and live.get(("R", "fast")).status == "online"


def test_a_stopped_companion_is_not_also_reported_lost():
    clock = Clock()
    live = Liveness(clock=clock)
    live.beat(("R", "m"), HeartbeatIn(interval_s=2), "t")
    assert live.on_event(("R", "m"), "companion_stopped", {})
    clock.now += 60
    assert live.expire() == []
    changed, back = live.beat(("R", "m"), HeartbeatIn(), "t")
    assert changed and not back


def test_events_and_heartbeats_move_the_live_fields():
    live = Liveness(clock=Clock())
    key = ("R", "m")
    live.on_event(key, "forbidden_process", {"name": "AnyDesk", "state": "started"})
    live.on_event(key, "forbidden_process", {"name": "Discord"})
    live.on_event(key, "net_down", {})
    assert live.get(key).public() | {"live": None} == {"live": None, "stopped": False, "focus": None, "focus_title": None,
                                                       "net": "down", "forbidden": ["AnyDesk", "Discord"],
                                                       "exam": None, "exam_at": None, "focus_level": None,
                                                       "focus_category": None, "focus_label": None, "focus_required": False, "flags": {},
                                                       "clock_offset_s": None}
    live.on_event(key, "forbidden_process", {"name": "AnyDesk", "state": "stopped"})
    assert live.get(key).forbidden == ["Discord"]
    live.beat(key, HeartbeatIn(net={"up": True}, forbidden=[], focus={"exam": False, "title": "Zoom"}), "t")
    assert live.get(key).public() == {"live": "online", "stopped": False, "focus": "away", "focus_title": "Zoom", "net": "up",
                                      "forbidden": [], "exam": None, "exam_at": None, "focus_level": None,
                                      "focus_category": None, "focus_label": None, "focus_required": False, "flags": {},
                                      "clock_offset_s": None}


# ---------- the PV d'incident draft ----------

def _ev(kind, at, machine="m1", **details):
    return {"kind": kind, "at": at, "machine_id": machine, "hostname": f"PC-{machine}", "details": details}


def test_the_pv_draft_suggests_codes_and_pairs_durations():
    events = [
        _ev("companion_started", "2026-11-22T09:00:00Z"),
        _ev("focus_lost", "2026-11-22T09:10:00Z", title="Discord", process="Discord.exe"),
        _ev("focus_lost", "2026-11-22T09:10:05Z", machine="m2", title="Google"),
        _ev("focus_regained", "2026-11-22T09:10:42Z", away_s=42),
        _ev("net_down", "2026-11-22T09:20:00Z"),
        _ev("net_up", "2026-11-22T09:23:05Z"),  # no duration given: taken from the times
        _ev("forbidden_process", "2026-11-22T09:30:00Z", name="AnyDesk", exe="C:/AnyDesk.exe", state="started"),
        _ev("forbidden_process", "2026-11-22T09:31:00Z", name="AnyDesk", state="stopped", duration_s=60),
        _ev("companion_lost", "2026-11-22T09:40:00Z", last_seen="2026-11-22T09:39:53Z", silent_s=7),
        _ev("companion_stopped", "2026-11-22T09:50:00Z"),
        _ev("focus_lost", "2026-11-22T08:59:00Z", machine="m3", title="Late"),  # replayed from an outbox
    ]
    fr = build_draft(events, "fr")
    assert fr[0]["machine_id"] == "m3"
    fr = fr[1:]
    assert [(d["machine_id"], d["code"], d["kind"]) for d in fr] == [
        ("m1", "C6", "focus_lost"), ("m2", "C6", "focus_lost"), ("m1", "A1", "net_down"),
        ("m1", "C6", "forbidden_process"), ("m1", "A1", "companion_lost"), ("m1", "A1", "companion_stopped")]
    assert fr[0]["details_text"] == "fenêtre d'examen quittée 42 s : « Discord »"
    assert fr[1]["details_text"] == "fenêtre d'examen quittée pour « Google » (retour non enregistré)"
    assert fr[2]["details_text"].startswith("coupure réseau de 3 min 05 s") and "E4" in fr[2]["details_text"]
    assert fr[3]["details_text"] == "logiciel interdit lancé : AnyDesk (C:/AnyDesk.exe) pendant 1 min 00 s"
    assert fr[0]["label"] == "Suspicion de fraude" and fr[2]["label"].startswith("Problème technique")
    en = build_draft(events, "en")[1:]
    assert en[0]["details_text"] == "exam window left for 42 s: “Discord”" and en[0]["label"] == "Suspected fraud"
    from zoneinfo import ZoneInfo

    assert "dernier signal à 10:39:53" in build_draft(events, "fr", ZoneInfo("Europe/Paris"))[-2]["details_text"]
    assert draft_csv(fr, "fr", ZoneInfo("Europe/Paris")).splitlines()[1].startswith("10:10:00;PC-m1;C6;")
    text = draft_csv(fr, "fr")
    assert text.startswith("\ufeffHeure;Poste;Code;Incident;Détails\r\n") and text.count("\r\n") == 7


def test_sigterm_ends_the_dashboards_streams_and_the_server_promptly(server):
    sup = server.login()
    room = server.create_room(sup)
    with requests.get(f"{server.url}/api/v1/rooms/{room}/stream", params={"token": sup["Authorization"][7:]},
                      stream=True, timeout=(5, 10)) as reply:
        lines = reply.iter_lines(chunk_size=1, decode_unicode=True)
        assert next(lines) == "retry: 2000"
        server.proc.terminate()
        rest = list(lines)  # the stream ends (no read timeout), so the EventSource reconnects
        assert rest[-1:] in ([""], [])
    server.proc.wait(10)
    assert "timeout graceful shutdown exceeded" not in server.log_text()


def test_the_pv_draft_makes_one_line_of_repeats():
    """5,000 spam departures towards one program while away are one PV line saying how many;
    another program, a departure after a return, or a repeat long after are lines of their own."""
    spam = [_ev("focus_lost", f"2026-11-22T09:{n // 600:02d}:{(n // 10) % 60:02d}.{n % 10}00Z", title="Discord",
                program="Discord", level="alert") for n in range(5000)]
    events = spam + [
        _ev("focus_lost", "2026-11-22T09:20:00Z", title="ChatGPT", program="ChatGPT", level="alert"),
        _ev("focus_regained", "2026-11-22T09:21:00Z", away_s=60),
        _ev("focus_lost", "2026-11-22T09:30:00Z", title="Discord", program="Discord", level="alert"),
        _ev("companion_stopped", "2026-11-22T09:40:00Z"), _ev("companion_stopped", "2026-11-22T09:40:20Z"),
        _ev("companion_stopped", "2026-11-22T10:40:00Z"),
    ]
    fr = build_draft(events, "fr")
    assert [(d["kind"], d["repeats"]) for d in fr] == [("focus_lost", 5000), ("focus_lost", 1), ("focus_lost", 1),
                                                       ("companion_stopped", 2), ("companion_stopped", 1)]
    assert fr[0]["details_text"].endswith("(retour non enregistré) (répété 5000 fois)")
    assert fr[0]["at"] == spam[0]["at"]  # the first departure keys the line (and its edits)
    assert "ChatGPT" in fr[1]["details_text"] and "(répété" not in fr[1]["details_text"]
    assert build_draft(events, "en")[3]["details_text"].endswith("(repeated 2 times)")
