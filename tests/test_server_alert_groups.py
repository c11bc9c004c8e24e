"""Alerts grouped per machine, kind and subject, against a real ``examroom serve`` (issue 15, row 4).

On SQLite and PostgreSQL: repeats fold into one group (count, open count, first and last time,
latest details); groups and the alerts of a group page newest first with a cursor that
stays right while new alerts arrive; a group is acknowledged at once (up to what the
supervisor saw); the stream says a group's new count; a database made before groups gets
them at its next start.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import requests
import pytest

from tests.server_support import LiveServer, event
from tests.test_server_live import SSEReader


@pytest.fixture()
def server(tmp_path, store_url):
    live = LiveServer(tmp_path, db=store_url).start()
    yield live
    live.stop()


def _spam(n: int, program: str, at: str = "2026-11-22T09:00:00Z", **details):
    return [event("focus_lost", at=at, program=program, level="alert", category="communication", **details)
            for _ in range(n)]


def _groups(server, sup, room, **params):
    reply = server.get(f"/rooms/{room}/alert-groups", sup, **params)
    assert reply.status_code == 200, reply.text
    return reply.json()


def _all_pages(server, sup, path, key, **params):
    seen, before = [], None
    while True:
        page = server.get(path, sup, **params, **({"before": before} if before else {})).json()
        seen += page[key]
        before = page["next"]
        if before is None:
            return seen


def test_repeats_fold_into_groups_that_page_newest_first(server):
    sup = server.login()
    room = server.create_room(sup)
    spam, calm = server.enroll(room, "spam", "PC-SPAM"), server.enroll(room, "calm", "PC-CALM")
    assert server.post("/events", spam, {"events": _spam(300, "Discord", at="2026-11-22T09:00:00Z")}).ok
    assert server.post("/events", spam, {"events": _spam(200, "Discord", at="2026-11-22T09:30:00Z")}).ok
    assert server.post("/events", spam, {"events": _spam(2, "ChatGPT")}).ok
    # journal-level events are no alerts, so in no group
    assert server.post("/events", calm, {"events": [event("focus_regained"), event("net_down", url="https://pix.fr")]}).ok

    page = _groups(server, sup, room)
    assert page["next"] is None
    groups = page["groups"]
    assert [(g["machine_id"], g["kind"], g["subject"], g["count"], g["open"]) for g in groups] == [
        ("calm", "net_down", "", 1, 1), ("spam", "focus_lost", "ChatGPT", 2, 2), ("spam", "focus_lost", "Discord", 500, 500)]
    discord = groups[2]
    assert discord["hostname"] == "PC-SPAM" and discord["first_at"].startswith("2026-11-22T09:00:00")
    assert discord["last_at"].startswith("2026-11-22T09:30:00") and discord["last_details"]["program"] == "Discord"
    assert discord["last_at_corrected"] and discord["first_seq"] < discord["last_seq"]
    machines = {m["machine_id"]: m["alerts"] for m in server.get(f"/rooms/{room}/machines", sup).json()}
    assert machines == {"spam": 502, "calm": 1}
    assert next(r for r in server.get("/rooms", sup).json() if r["code"] == room)["alerts"] == 503

    # Paging, one group a page, while new alerts arrive: every group once, none skipped.
    first = _groups(server, sup, room, limit=1)
    assert [g["subject"] for g in first["groups"]] == [""] and first["next"] == first["groups"][0]["last_seq"]
    assert server.post("/events", spam, {"events": _spam(1, "Discord")}).ok  # Discord moves to the top
    second = _groups(server, sup, room, limit=1, before=first["next"])
    assert [g["subject"] for g in second["groups"]] == ["ChatGPT"] and second["next"] is None
    assert [g["subject"] for g in _groups(server, sup, room)["groups"]] == ["Discord", "", "ChatGPT"]

    # The alerts of a group page newest first too, each alert once.
    path = f"/rooms/{room}/alert-groups/{discord['gid']}/alerts"
    alerts = _all_pages(server, sup, path, "alerts", limit=97)
    assert len(alerts) == 501 and len({a["id"] for a in alerts}) == 501
    assert [a["seq"] for a in alerts] == sorted((a["seq"] for a in alerts), reverse=True)
    assert {a["group"] for a in alerts} == {discord["gid"]} and alerts[0]["details"]["program"] == "Discord"
    assert server.get(f"/rooms/{room}/alert-groups/999999/alerts", sup).status_code == 404
    assert server.get(f"/rooms/{room}/alert-groups/{10**23}/alerts", sup).status_code == 422  # past int64: refused
    assert server.post(f"/rooms/{room}/alert-groups/{10**23}/ack", sup, None).status_code == 422
    assert server.get(f"/rooms/{room}/alert-groups", sup, limit=0).status_code == 422
    # A journal's first page: the newest events only, oldest first.
    newest = server.get(f"/rooms/{room}/events", sup, last=3).json()
    assert [e["kind"] for e in newest] == ["focus_regained", "net_down", "focus_lost"]
    assert newest[0]["seq"] < newest[1]["seq"] < newest[2]["seq"] and newest[1]["group"] is not None
    # The flat list of before is still there, each alert with its group.
    flat = server.get(f"/rooms/{room}/alerts", sup).json()
    assert len(flat) == 504 and {a["group"] for a in flat} == {g["gid"] for g in _groups(server, sup, room)["groups"]}


def test_a_group_is_acknowledged_at_once_up_to_what_the_supervisor_saw(server):
    sup = server.login()
    room = server.create_room(sup)
    spam = server.enroll(room, "spam")
    assert server.post("/events", spam, {"events": _spam(40, "Discord")}).ok
    group = _groups(server, sup, room)["groups"][0]
    seen = group["last_seq"]
    assert server.post("/events", spam, {"events": _spam(3, "Discord")}).ok  # after the supervisor looked

    reply = server.post(f"/rooms/{room}/alert-groups/{group['gid']}/ack?upto={seen}", sup, None)
    assert reply.status_code == 200, reply.text
    assert reply.json()["acked"] == 40 and reply.json()["group"]["open"] == 3 and reply.json()["group"]["count"] == 43
    again = server.post(f"/rooms/{room}/alert-groups/{group['gid']}/ack?upto={seen}", sup, None).json()
    assert again["acked"] == 0 and again["group"]["open"] == 3  # idempotent
    assert again["group"]["acked_by"] == "admin" and again["group"]["acked_at"] == reply.json()["group"]["acked_at"]
    assert server.get(f"/rooms/{room}/machines", sup).json()[0]["alerts"] == 3
    assert _groups(server, sup, room, open="true")["groups"][0]["open"] == 3
    assert _groups(server, sup, room, open="false")["groups"] == []

    # One alert acknowledged on its own (the route of before) counts in its group.
    newest = server.get(f"/rooms/{room}/alert-groups/{group['gid']}/alerts", sup, limit=1).json()["alerts"][0]
    assert newest["acked_at"] is None
    ack = server.post(f"/rooms/{room}/alerts/{newest['id']}/ack", sup, None).json()
    assert ack["id"] == newest["id"] and ack["acked_by"] == "admin" and ack["group"] == group["gid"]
    assert _groups(server, sup, room)["groups"][0]["open"] == 2
    done = server.post(f"/rooms/{room}/alert-groups/{group['gid']}/ack", sup, None).json()
    assert done["acked"] == 2 and done["group"]["open"] == 0
    assert _groups(server, sup, room, open="false")["groups"][0]["gid"] == group["gid"]
    assert all(a["acked_by"] == "admin" for a in server.get(f"/rooms/{room}/alerts", sup).json())
    assert server.post(f"/rooms/{room}/alert-groups/424242/ack", sup, None).status_code == 404
    other = server.create_room(sup, "Salle C")  # a group of another room is not found from this one
    assert server.post(f"/rooms/{other}/alert-groups/{group['gid']}/ack", sup, None).status_code == 404


def test_the_stream_gives_a_groups_new_count_once_per_batch(server):
    sup = server.login()
    room = server.create_room(sup)
    spam = server.enroll(room, "spam", "PC-SPAM")
    assert server.post("/events", spam, {"events": _spam(10, "Discord")}).ok
    url = f"{server.url}/api/v1/rooms/{room}/stream"
    with requests.get(url, params={"token": sup["Authorization"][7:]}, stream=True, timeout=(5, 10)) as reply:
        sse = SSEReader(reply, skip=("event", "machine", "ack"))
        batch = _spam(25, "Discord")
        assert server.post("/events", spam, {"events": batch}).json()["stored"] == 25
        (kind, group), = sse.read(1)
        assert kind == "group" and group["count"] == 35 and group["open"] == 35 and group["subject"] == "Discord"
        assert group["last_id"] == batch[-1]["id"] and group["hostname"] == "PC-SPAM"
        assert server.post(f"/rooms/{room}/alert-groups/{group['gid']}/ack", sup, None).ok
        (kind, acked), = sse.read(1)
        assert kind == "group" and acked["gid"] == group["gid"] and acked["open"] == 0
        assert server.post("/events", spam, {"events": _spam(1, "Zoom")}).ok
        (kind, fresh), = sse.read(1)
        assert kind == "group" and fresh["subject"] == "Zoom" and fresh["count"] == 1 and fresh["gid"] != group["gid"]


def test_a_database_made_before_groups_gets_them_at_its_next_start(server):
    sup = server.login()
    room = server.create_room(sup)
    spam = server.enroll(room, "spam")
    assert server.post("/events", spam, {"events": _spam(30, "Discord") + _spam(5, "ChatGPT")}).ok
    gid = next(g["gid"] for g in _groups(server, sup, room)["groups"] if g["subject"] == "Discord")
    assert server.post(f"/rooms/{room}/alert-groups/{gid}/ack", sup, None).ok
    assert server.post("/events", spam, {"events": _spam(2, "Discord")}).ok
    before = [(g["subject"], g["count"], g["open"], g["first_seq"], g["last_seq"], g["last_id"], g["acked_by"])
              for g in _groups(server, sup, room)["groups"]]
    server.stop()
    # What an older version's database holds: alerts, no groups.
    server.sql("DELETE FROM alert_groups")
    server.sql("UPDATE events SET gid = NULL")
    server.sql("DELETE FROM meta WHERE key = 'alert_groups'")
    server.start()
    after = [(g["subject"], g["count"], g["open"], g["first_seq"], g["last_seq"], g["last_id"], g["acked_by"])
             for g in _groups(server, sup, room)["groups"]]
    assert after == before and [g[:3] + g[6:] for g in after] == [("Discord", 32, 2, "admin"), ("ChatGPT", 5, 5, None)]
    assert server.get("/rooms/" + room + "/machines", sup).json()[0]["alerts"] == 7


def test_two_processes_on_one_postgresql_database_share_groups_and_their_stream(tmp_path, pg_url):
    """Alerts posted to two processes at once fold into one group (the room's lock orders the
    upserts); each process's dashboards hear the other's ``group`` messages (LISTEN/NOTIFY);
    a group acknowledged on one is acknowledged for the other."""
    
    from tests.test_server_multiprocess import _stream

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = LiveServer(tmp_path / "a", db=pg_url).start()
    b = None
    try:
        b = LiveServer(tmp_path / "b", db=pg_url).start()
        sup = a.login()
        room = a.create_room(sup)
        token = a.enroll(room, "spam", "PC-SPAM")
        with _stream(b, room, sup) as reply:
            sse = SSEReader(reply, skip=("event", "machine", "ack"))
            assert a.post("/events", token, {"events": _spam(3, "Discord")}).ok
            (kind, group), = sse.read(1)
            assert kind == "group" and group["count"] == 3 and group["hostname"] == "PC-SPAM"
            # both processes at once, batch after batch: one group, every alert counted once
            def post(server):
                for _ in range(10):
                    assert server.post("/events", token, {"events": _spam(20, "Discord")}).ok
            with ThreadPoolExecutor(2) as pool:   # .result(): a refused post fails the test here
                for done in [pool.submit(post, s) for s in (a, b)]:
                    done.result(timeout=60)
            groups = _groups(b, sup, room)["groups"]
            assert [(g["gid"], g["count"], g["open"]) for g in groups] == [(group["gid"], 403, 403)]
            assert len(b.get(f"/rooms/{room}/alert-groups/{group['gid']}/alerts", sup, limit=500).json()["alerts"]) == 403
            # the stream from B heard the batches posted to A too: the latest says 403
            seen = [g["count"] for _, g in sse.read(20)]
            assert max(seen) == 403
            assert a.post(f"/rooms/{room}/alert-groups/{group['gid']}/ack", sup, None).json()["acked"] == 403
            (kind, acked), = sse.read(1)
            assert kind == "group" and acked["open"] == 0
            assert b.get(f"/rooms/{room}/machines", sup).json()[0]["alerts"] == 0
    finally:
        for server in (b, a):
            if server is not None:
                server.stop()


def test_a_group_id_out_of_range_is_a_clear_refusal_not_a_500(server):
    """Found by the fuzzer: a gid past SQLite's 64-bit integers made the store overflow (500)."""
    sup = server.login()
    room = server.create_room(sup)
    for gid in (2**64, 2**63, 0, -1):
        listed = server.get(f"/rooms/{room}/alert-groups/{gid}/alerts", sup)
        assert listed.status_code == 422 and listed.json()["code"] == "invalid", (gid, listed.text)
        acked = requests.post(f"{server.url}/api/v1/rooms/{room}/alert-groups/{gid}/ack", headers=sup, timeout=10)
        assert acked.status_code == 422, (gid, acked.text)
    missing = server.get(f"/rooms/{room}/alert-groups/{2**62}/alerts", sup)
    assert missing.status_code == 404 and missing.json()["code"] == "no_alert_group"
