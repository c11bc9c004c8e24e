"""Two supervisors editing the PV at once, over real HTTP on both backends (issue 15, row 15).

Edits on different lines made from the same version are both kept; the same line changed by
both is a conflict returned to the second editor (with the first one's text and name), not
a silent replacement; an offline browser coming back sends its line edits and keeps what
was saved meanwhile; a whole-record save with a stale If-Match is refused (412).
"""
from __future__ import annotations

import pytest
import requests

from tests.server_support import LiveServer

STRONG = "un mot de passe solide"


@pytest.fixture()
def server(tmp_path, store_url):
    live = LiveServer(tmp_path, db=store_url).start()
    yield live
    live.stop()


def _patch(server, headers, room, body, if_match=None):
    extra = {"If-Match": f'"{if_match}"'} if if_match is not None else {}
    return requests.patch(f"{server.url}/api/v1/rooms/{room}/incidents/edits", json=body,
                          headers={**headers, **extra}, timeout=10)


def test_line_edits_merge_and_conflicts_are_shown_to_the_second_editor(server):
    admin = server.login()
    room = server.create_room(admin)
    for name in ("marie", "paul"):
        assert server.post("/users", admin, {"username": name, "password": STRONG, "role": "supervisor",
                                             "room": room}).status_code == 200
    marie = {"Authorization": "Bearer " + requests.post(f"{server.url}/api/v1/login", json={
        "username": "marie", "password": STRONG}, timeout=10).json()["token"]}
    paul = {"Authorization": "Bearer " + requests.post(f"{server.url}/api/v1/login", json={
        "username": "paul", "password": STRONG}, timeout=10).json()["token"]}
    first = server.get(f"/rooms/{room}/incidents/edits", marie)
    assert first.headers["etag"] == '"0"'
    a, b = "2026-11-22T09:00:00.000Z|m1|focus_lost", "2026-11-22T09:05:00.000Z|m2|net_down"
    # Both start from version 0 and change different lines: both kept.
    one = _patch(server, marie, room, {"base_version": 0, "edits": {a: {"details_text": "averti"}}})
    two = _patch(server, paul, room, {"base_version": 0, "edits": {b: {"code": "E4"}}})
    assert one.status_code == two.status_code == 200 and two.json()["conflicts"] == []
    saved = server.get(f"/rooms/{room}/incidents/edits", admin).json()
    assert saved["edits"][a]["details_text"] == "averti" and saved["edits"][b]["code"] == "E4"
    assert saved["lines"][f"e:{a}"]["by"] == "marie" and saved["lines"][f"e:{b}"]["by"] == "paul"
    # Paul, still on version 0, changes Marie's line: a conflict, her text stays.
    clash = _patch(server, paul, room, {"base_version": 0, "edits": {a: {"details_text": "exclu"}},
                                        "comment": "RAS"}).json()
    assert [c["line"] for c in clash["conflicts"]] == [f"e:{a}"]
    assert clash["conflicts"][0]["theirs"] == {"details_text": "averti"} and clash["conflicts"][0]["by"] == "marie"
    assert clash["edits"][a]["details_text"] == "averti" and clash["comment"] == "RAS"
    # Having seen it, Paul decides from the current version: saved.
    decided = _patch(server, paul, room, {"edits": {a: {"details_text": "exclu"}}}, if_match=clash["version"]).json()
    assert decided["conflicts"] == [] and decided["edits"][a]["details_text"] == "exclu"
    # An offline browser (last seen version 1) replays its own line: added line, no loss elsewhere.
    offline = _patch(server, marie, room, {"base_version": 1, "extra": {"manual-1": {
        "key": "manual-1", "time": "09:30", "hostname": "PC-3", "code": "C4", "label": "", "details_text": "retard"}}})
    body = offline.json()
    assert body["conflicts"] == [] and body["edits"][a]["details_text"] == "exclu" and body["edits"][b]["code"] == "E4"
    assert [x["key"] for x in body["extra"]] == ["manual-1"] and body["comment"] == "RAS"
    # A whole-record save from a stale version is refused, not applied over the others.
    stale = requests.put(f"{server.url}/api/v1/rooms/{room}/incidents/edits", json={"comment": "écrasé"},
                         headers={**marie, "If-Match": '"1"'}, timeout=10)
    assert stale.status_code == 412 and stale.json()["code"] == "pv_changed"
    assert server.get(f"/rooms/{room}/incidents/edits", admin).json()["comment"] == "RAS"
    assert _patch(server, marie, room, {"extra": {"k1": {"key": "other"}}}).status_code == 422
