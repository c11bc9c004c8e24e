"""The local endpoint for the exam page, over real HTTP on 127.0.0.1."""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from companion.focus import Foreground
from companion.localapi import LocalApi
from companion.session import CompanionConfig, Session


class NoClient:
    """Never called in these tests: the session is not started."""


@pytest.fixture()
def api(tmp_path: Path):
    session = Session(CompanionConfig(server="http://127.0.0.1:9", room="R", settle_s=0), client=NoClient(), machine=None,
                      focus_watcher=None, os_name="linux", home=tmp_path)
    local = LocalApi(session, port=0, origins=("https://app.pix.fr",), status=lambda: {"room": "R"})
    local.start()
    yield local
    local.close()
    session.outbox.close()


def call(api: LocalApi, method: str, path: str, body: dict | None = None, headers: dict | None = None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"http://127.0.0.1:{api.port}{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            raw = answer.read()
            return answer.status, (json.loads(raw) if raw else None), dict(answer.headers)
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null"), dict(err.headers)


PIX = {"Origin": "https://app.pix.fr"}


def test_ping_says_a_companion_runs_and_nothing_more(api: LocalApi) -> None:
    session = api.session
    session.on_focus(Foreground("Pix - Certification", "firefox", 1))
    session.on_focus(Foreground("Discord", "Discord", 2))
    code, body, headers = call(api, "GET", "/ping", headers=PIX)
    assert code == 200 and body == {"companion": "examroom", "version": body["version"]} and body["version"]
    assert headers["Access-Control-Allow-Origin"] == "https://app.pix.fr"
    # anything local can call it with any Origin: it tells no window title, no focus state
    assert call(api, "GET", "/ping")[1] == body


def test_other_origins_are_refused(api: LocalApi) -> None:
    code, body, headers = call(api, "GET", "/ping", headers={"Origin": "https://evil.example"})
    assert code == 403 and body["error"] == "origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in headers
    code, _, _ = call(api, "POST", "/exam/start", {}, headers={"Origin": "https://app.pix.fr.evil.example"})
    assert code == 403
    code, body, _ = call(api, "POST", "/exam/start", {})     # a local program
    assert code == 403 and body["error"] == "phase_from_extension_only"
    # DNS rebinding: same-origin GET without Origin, but the attacker's name in Host
    code, body, _ = call(api, "GET", "/ping", headers={"Host": f"evil.example:{api.port}"})
    assert code == 403 and body["error"] == "host_not_allowed"
    assert call(api, "GET", "/ping", headers={"Host": f"localhost:{api.port}"})[0] == 200
    # the pages refused by the browser guard left nothing; the local program's try is reported
    assert [p["kind"] for _, p in api.session.outbox.peek("event")] == ["exam_phase_forged"]


def test_preflight_with_private_network_access(api: LocalApi) -> None:
    code, _, headers = call(api, "OPTIONS", "/exam/start", headers={
        **PIX, "Access-Control-Request-Method": "POST", "Access-Control-Request-Private-Network": "true"})
    assert code == 204
    assert headers["Access-Control-Allow-Private-Network"] == "true"
    assert "POST" in headers["Access-Control-Allow-Methods"]


def test_forged_phase_changes_are_refused_and_reported(api: LocalApi) -> None:
    """curl -X POST -H 'Origin: https://app.pix.fr' .../exam/end used to end the exam and
    silence the focus watch: the phase now comes only from the extension's channel."""
    session = api.session
    session.on_focus(Foreground("Pix - Certification", "firefox", 5))     # the exam, seen: armed
    assert session.tracker.armed
    for path in ("/exam/end", "/exam/start", "/exam/focus-required"):
        code, body, _ = call(api, "POST", path, {"required": False}, headers=PIX)
        assert code == 403 and body["error"] == "phase_from_extension_only"
    assert session.tracker.armed and session.status.exam_phase is None
    forged = [p for _, p in session.outbox.peek("event")]
    assert [(p["kind"], p["path"], p["origin"], p["level"]) for p in forged] == [
        ("exam_phase_forged", path, "https://app.pix.fr", "alert")
        for path in ("/exam/end", "/exam/start", "/exam/focus-required")]
    session.on_focus(Foreground("Discord", "Discord", 6))                # still watched
    assert session.outbox.peek("event")[-1][1]["kind"] == "focus_lost"


def test_status_and_window_focus_need_the_token(api: LocalApi) -> None:
    assert call(api, "GET", "/status")[0] == 403
    code, body, _ = call(api, "GET", "/status", headers={"X-Examroom-Token": api.token})
    assert code == 200 and body == {"room": "R"}
    assert call(api, "POST", "/window/focus", {"focused": False})[0] == 403
    assert call(api, "POST", "/window/focus", {"focused": False}, headers={"X-Examroom-Token": api.token})[0] == 200
    assert api.session.status.window_focused is False


def test_bad_bodies(api: LocalApi) -> None:
    request = urllib.request.Request(f"http://127.0.0.1:{api.port}/exam/start", data=b"[1,", method="POST",
                                     headers=PIX)
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(request, timeout=5)
    assert err.value.code == 400
    assert call(api, "POST", "/exam/start", [1], headers=PIX)[0] == 400
    assert call(api, "GET", "/nothing", headers=PIX)[0] == 404


def test_no_loopback_call_sets_the_focus_requirement(api: LocalApi) -> None:
    """Only the platform page's marker, through the extension, says a question requires
    focus: a local program posting it is refused, reported, and changes nothing."""
    session = api.session
    for body in ({"required": True}, {"focus_required": True}, {}):
        code, answer, _ = call(api, "POST", "/exam/focus-required", body, headers=PIX)
        assert code == 403 and answer["error"] == "phase_from_extension_only"
    assert session.status.focus_required is False and session.tracker.focus_required is False
    forged = [p for _, p in session.outbox.peek("event")]
    assert [(p["kind"], p["path"]) for p in forged] == [("exam_phase_forged", "/exam/focus-required")] * 3
