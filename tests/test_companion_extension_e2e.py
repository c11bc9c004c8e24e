"""Issue 11's sessions, for real: Xvfb + openbox, a HEADED Chromium with the examroom extension
loaded (``--load-extension``) and its native messaging host installed, a real companion
process, a real ``examroom serve`` with its SQLite file, real LibreOffice Calc, evince,
pcmanfm, xterm, firefox-esr and x11vnc windows, and the supervisor's dashboard in a second
(headless) Chromium that is never reloaded.

One room (server, companion, browser, dashboard) is shared by the module; the tests run in
order: the honest session, then the cheating one (which ends by disabling the extension).
The exam phase comes from the local platform page dispatching the platform's own messages.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.companion_support import CompanionProcess, wait_for, x_window
from tests.extension_support import CHROMIUM, EXTENSION_ID, Room, app_window, xdo
from tests.support import free_port, need, xvfb

sync_api = pytest.importorskip("playwright.sync_api", reason="needs playwright (pip install -e '.[test]')")
OUTPUT = Path(__file__).parent / "output"
FOCUS = ("focus_lost", "focus_moved", "focus_regained")


@pytest.fixture(scope="module")
def room(tmp_path_factory):
    need(CHROMIUM, "xdotool", "Xvfb", "openbox")
    tmp = tmp_path_factory.mktemp("extroom")
    with xvfb(1280, 800, window_manager=True) as display:
        r = Room(display, tmp, sync_api)
        r.started_pids = set()   # the forbidden programs this test started (see _own_alert)
        try:
            r.wait_event(lambda e: e["kind"] == "extension_connected", timeout=30)
            r.dashboard = _dashboard(r)
            yield r
        finally:
            r.close()


def _dashboard(r: Room):
    """The supervisor's page: logged in, on the room, live (SSE), never reloaded."""
    browser = r.pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
    page = browser.new_page(viewport={"width": 1400, "height": 900}, locale="fr-FR")
    page.goto(r.server.url + "/")
    page.fill("#login-password", r.server.password)
    page.click("#login-submit")
    page.goto(f"{r.server.url}/#/room/{r.room}")
    page.wait_for_selector("body[data-live=on]", timeout=20000)
    page.evaluate("window.__not_reloaded = 1")
    return page


def _own_alert(r: Room, e: dict) -> bool:
    """An alert of this room's machine. Every alert counts, forbidden_process included, except
    a forbidden program this test did not start: the shared test host runs other tests' fakes
    (their "Discord" is not this candidate's act)."""
    return e["kind"] != "forbidden_process" or e.get("pid") in r.started_pids


def _alerts(r: Room, since: str) -> list[dict]:
    return [e for e in r.events() if e["alert"] and e["at"] >= since and _own_alert(r, e)]


def _on_dashboard(r: Room, event_id: str) -> None:
    alert = r.dashboard.locator(f'.alert[data-alert-id="{event_id}"]')
    sync_api.expect(alert).to_be_visible(timeout=10000)
    assert r.dashboard.evaluate("window.__not_reloaded") == 1


def test_honest_session_gives_no_alert_and_a_journal_of_steps(room: Room) -> None:
    need("soffice", "evince", "pcmanfm")
    r, display = room, room.display
    r.front(r.exam)
    r.exam.evaluate("startCertification()")
    started = r.wait_event(lambda e: e["kind"] == "exam_started")
    assert started["source"] == "extension" and started["host"] == f"127.0.0.1:{r.port}"
    since = started["at"]

    r.exam.fill("#answer", "Paris")                                     # answer
    with r.exam.expect_download() as info:                              # download the question's file
        r.exam.click("#download")
    sheet = r.tmp / "tableau.xlsx"
    info.value.save_as(sheet)
    profile = f"-env:UserInstallation=file://{r.tmp}/lo-profile"
    with app_window(display, ["soffice", "--calc", "--norestore", "--nologo", profile, str(sheet)], "tableau",
                    timeout=90) as (_, calc):
        r.wait_event(lambda e: e["kind"] == "focus_lost" and e.get("category") == "tool" and e["at"] >= since)
        xdo(display, "key", "--window", str(calc), "ctrl+shift+s")      # Save as: LibreOffice's dialog
        wait_for(lambda: "Enregistrer" in xdo(display, "getactivewindow", "getwindowname", check=False)
                 or "Save" in xdo(display, "getactivewindow", "getwindowname", check=False), timeout=20)
        # the dialog is a step of its own: LibreOffice, role dialog, a tool, without its title
        dialog = r.wait_event(lambda e: e["kind"] == "focus_moved" and e.get("role") == "dialog" and e["at"] >= since)
        xdo(display, "key", "Escape")
        after = r.wait_event(lambda e: e["kind"] == "focus_moved" and e["at"] > dialog["at"])
        assert (after["program"], after.get("role"), after["category"]) == ("LibreOffice", None, "tool"), after
        # the supervisor's journal (live, French): « LibreOffice » — boîte de dialogue
        line = r.dashboard.locator("#journal li", has_text="boîte de dialogue").first
        sync_api.expect(line).to_contain_text("LibreOffice", timeout=10000)
        r.front(r.exam)
        r.wait_event(lambda e: e["kind"] == "focus_regained" and e["at"] >= since)

    with r.exam.expect_download() as info:
        r.exam.click("#pdf-download")
    pdf = r.tmp / "sujet.pdf"
    info.value.save_as(pdf)
    with app_window(display, ["evince", str(pdf)], "sujet") as _:     # the PDF viewer
        r.wait_event(lambda e: e.get("process") == "evince" and e["at"] >= since)
        viewer = r.context.new_page()                                   # and in Chromium's viewer
        viewer.goto(pdf.as_uri())
        r.front(viewer)
        r.wait_event(lambda e: e.get("label") == "file://" and e["at"] >= since)
        viewer.close()
    search = r.context.new_page()                                       # a web search, new tab
    search.goto(f"http://search.example.test:{r.port}/?q=capitale+de+la+france&title=Recherche")
    r.front(search)
    r.wait_event(lambda e: e.get("category") == "search" and e["at"] >= since)
    with app_window(display, ["pcmanfm", "--no-desktop", str(r.tmp)], r.tmp.name) as _:   # the file manager
        r.wait_event(lambda e: e.get("process") == "pcmanfm" and e["at"] >= since)
    search.close()
    r.front(r.exam)
    back = r.wait_event(lambda e: e["kind"] == "focus_regained" and e["at"] > since and e.get("previous_s") is not None
                        and e["at"] >= max(x["at"] for x in r.events() if x.get("process") == "pcmanfm"))
    r.exam.evaluate("stopCertification()")
    ended = r.wait_event(lambda e: e["kind"] == "exam_ended")
    assert ended["source"] == "extension"

    assert _alerts(r, since) == []
    steps = [e for e in r.journal() if e["kind"] in FOCUS and e["at"] >= since]
    seen = [(e["kind"], e["category"], e.get("host") or (e["label"] if e["source"] == "extension" else e["process"]))
            for e in steps]
    for step in (("focus_lost", "tool", "soffice.bin"), ("focus_regained", "exam", f"127.0.0.1:{r.port}"),
                 ("focus_moved", "tool", "file://"), ("focus_moved", "tool", "pcmanfm")):
        assert step in seen, seen
    assert any(e["process"] == "evince" and e["category"] == "tool" for e in steps), seen
    assert any(e["category"] == "search" and e["host"] == f"search.example.test:{r.port}" for e in steps), seen
    # each step says how long the previous one lasted; every level is journal
    assert all(e["previous_s"] is not None and e["previous_s"] >= 0 for e in steps if e["kind"] != "focus_lost")
    assert {e["level"] for e in steps} == {"journal"}, seen
    assert back["away_s"] > 0
    assert (dialog["program"], dialog["category"], dialog["level"], dialog["process"]) == (
        "LibreOffice", "tool", "journal", "soffice.bin")
    assert dialog["title"] == "" and dialog["previous_s"] > 0       # no file name; how long Calc was in front
    assert after["previous_s"] > 0                                   # how long the dialog was open
    assert r.exam.evaluate("window.pongs") == 0              # the platform's ping is not ours to answer


def _requirements_heard(r: Room) -> list[bool]:
    """What the companion heard from the platform page's marker, in order (its log)."""
    return ["no longer requires" not in line for line in r.companion.log().splitlines()
            if "the platform's question" in line]


def _search_from_the_question(r: Room, since: str, query: str) -> dict:
    """The candidate opens a web search in a new tab from the question (a link with target
    _blank: the tab opens on the search host, without a blank page first), then comes back."""
    r.exam.evaluate(f"document.getElementById('search').href = 'http://search.example.test:{r.port}/?q={query}'")
    with r.context.expect_page() as opened:
        r.exam.click("#search")
    search = opened.value
    found = r.wait_event(lambda e: e["at"] >= since and e["kind"] == "focus_lost" and e["seq"] > r.last_seq)
    assert found["category"] == "search", found
    r.front(r.exam)
    back = r.wait_event(lambda e: e["kind"] == "focus_regained" and e["seq"] > found["seq"])
    r.last_seq = back["seq"]
    search.close()
    return found


def test_a_focused_question_makes_a_departure_an_alert_saying_so(room: Room) -> None:
    """Issue 11: "during a question that requires focus, any departure is an alert", with the
    requirement taken from the platform's own page (its tooltip__tag--focused marker, read by
    the extension): the same web search is journal on a regular question, one alert naming
    the requirement on a focused one, journal again on the next regular question."""
    r = room
    r.front(r.exam)
    r.exam.evaluate("startCertification()")
    started = r.wait_event(lambda e: e["kind"] == "exam_started" and e["at"] >= r.journal()[-2]["at"])
    since, r.last_seq = started["at"], started["seq"]
    heard = len(_requirements_heard(r))

    r.exam.evaluate("showQuestion(2, false)")                     # a regular question
    regular = _search_from_the_question(r, since, "capitale")
    assert (regular["level"], regular["alert"], regular["focus_required"]) == ("journal", False, False), regular

    tile = r.dashboard.locator(".tile").first
    sync_api.expect(tile.locator(".focus-required")).to_have_count(0)
    r.exam.evaluate("showQuestion(3, true)")                      # a question that requires focus
    assert wait_for(lambda: _requirements_heard(r)[heard:][-1:] == [True], timeout=10), r.companion.log()[-2000:]
    # on the exam, the tile already says the question requires focus (the heartbeat carries it)
    sync_api.expect(tile.locator('[data-focus="exam"] .focus-required')).to_contain_text("épreuve focus", timeout=10000)
    focused = _search_from_the_question(r, since, "fleuve")
    assert (focused["level"], focused["alert"], focused["focus_required"]) == ("alert", True, True), focused
    assert focused["host"] == f"search.example.test:{r.port}" and focused["category"] == "search"
    _on_dashboard(r, focused["id"])
    alert = r.dashboard.locator(f'.alert[data-alert-id="{focused["id"]}"]')
    sync_api.expect(alert).to_contain_text("pendant une épreuve focus")

    r.exam.evaluate("showQuestion(4, false)")                     # a regular question again
    assert wait_for(lambda: _requirements_heard(r)[heard:][-1:] == [False], timeout=10), r.companion.log()[-2000:]
    sync_api.expect(tile.locator(".focus-required")).to_have_count(0, timeout=10000)
    again = _search_from_the_question(r, since, "montagne")
    assert (again["level"], again["alert"], again["focus_required"]) == ("journal", False, False), again

    r.exam.evaluate("stopCertification()")
    r.wait_event(lambda e: e["kind"] == "exam_ended" and e["at"] >= since)
    assert [a["id"] for a in _alerts(r, since)] == [focused["id"]], [
        (a["kind"], a.get("category"), a.get("host")) for a in _alerts(r, since)]


def test_a_restarted_companion_hears_the_focus_requirement_again(room: Room) -> None:
    """The companion crashes during a focused question and is started again: the extension's
    native host reconnects, the companion's platform list makes the background inject
    content.js again, and the page's script says its current answer again: the next departure
    is still an alert saying the question requires focus."""
    r = room
    r.front(r.exam)
    r.exam.evaluate("startCertification()")
    started = r.wait_event(lambda e: e["kind"] == "exam_started" and e["at"] >= r.journal()[-2]["at"])
    since, r.last_seq = started["at"], started["seq"]
    r.exam.evaluate("showQuestion(5, true)")
    assert wait_for(lambda: _requirements_heard(r)[-1:] == [True], timeout=10), r.companion.log()[-2000:]

    r.companion.kill9()
    r.companion = CompanionProcess(r.tmp, r.machine, r.server.url, r.room, platform_url=r.platform,
                                   display=r.display, extra=["--policy", str(r.tmp / "centre-policy.toml")])
    restarted = r.wait_event(lambda e: e["kind"] == "companion_started" and e["seq"] > r.last_seq, timeout=30)
    assert restarted["exam_in_progress"] is True
    assert wait_for(lambda: _requirements_heard(r) == [True], timeout=20), r.companion.log()[-3000:]
    r.last_seq = restarted["seq"]
    focused = _search_from_the_question(r, since, "riviere")
    assert (focused["level"], focused["alert"], focused["focus_required"]) == ("alert", True, True), focused

    r.exam.evaluate("showQuestion(6, false)")
    r.exam.evaluate("stopCertification()")
    r.wait_event(lambda e: e["kind"] == "exam_ended" and e["seq"] > focused["seq"])


def _act(r: Room, since: str, predicate, act) -> dict:
    """Do something forbidden; its alert reaches the server and the dashboard (no reload)."""
    act()
    found = r.wait_event(lambda e: e["at"] >= since and e["alert"] and predicate(e))
    _on_dashboard(r, found["id"])
    return found


def _back_to_exam(r: Room) -> None:
    r.front(r.exam)
    wait_for(lambda: r.journal()[-1]["kind"] == "focus_regained" or r.journal()[-1]["kind"] == "exam_started",
             timeout=10)


def test_cheating_session_gives_one_alert_per_act(room: Room) -> None:
    need("xterm", "firefox-esr", "x11vnc", "pidgin")
    r, display = room, room.display
    r.front(r.exam)
    r.exam.evaluate("startCertification()")
    since = r.wait_event(lambda e: e["kind"] == "exam_started" and e["at"] >= r.journal()[-2]["at"])["at"]
    found: list[dict] = []

    mail = r.context.new_page()                                          # a webmail, second tab
    found.append(_act(r, since, lambda e: e.get("host", "").startswith("mail.example-webmail.test"),
                      lambda: (mail.goto(f"http://mail.example-webmail.test:{r.port}/"), r.front(mail))))
    _back_to_exam(r)
    ai = r.context.new_page()                                            # an AI assistant tab
    found.append(_act(r, since, lambda e: e.get("category") == "ai_assistant",
                      lambda: (ai.goto(f"http://assistant.example-ai.test:{r.port}/"), r.front(ai))))
    _back_to_exam(r)
    mark = max(e["at"] for e in r.events())
    r.front(mail)                                                        # back to the webmail tab: the same act
    again = r.wait_event(lambda e: e["at"] > mark and e["kind"] in FOCUS
                         and e.get("host", "").startswith("mail.example-webmail.test"))
    assert (again["alert"], again["level"], again["act_of"]) == (False, "notice", found[0]["id"]), again
    _back_to_exam(r)
    mail.close()                                                         # closed, then opened again: a new act
    mark = max(e["at"] for e in r.events())
    mail = r.context.new_page()
    found.append(_act(r, mark, lambda e: e.get("host", "").startswith("mail.example-webmail.test"),
                      lambda: (mail.goto(f"http://mail.example-webmail.test:{r.port}/"), r.front(mail))))
    assert found[-1]["id"] != found[0]["id"] and "act_of" not in found[-1]
    _back_to_exam(r)
    pix_tab = r.context.new_page()                                       # a second tab titled "Pix", elsewhere
    pix_tab.goto(f"http://pix.other-site.test:{r.port}/?title=Pix")
    r.front(pix_tab)
    other = r.wait_event(lambda e: e["at"] >= since and e["kind"] in FOCUS
                         and e.get("host", "").startswith("pix.other-site.test"))
    assert other["category"] != "exam" and other["kind"] != "focus_regained"
    _back_to_exam(r)

    with x_window(display, "Discord", "Discord") as chat:                # a Discord-like app
        r.started_pids.add(int(xdo(display, "getwindowpid", str(chat))))
        # its process (forbidden_process) and its window's focus (focus_lost): one act, one alert,
        # whichever the companion saw first; the other signal names it (act_of) as a notice
        discord = _act(r, since, lambda e: e.get("program") == "Discord" and (
                           e["kind"] == "forbidden_process" or e.get("process") == "Discord"),
                       lambda: xdo(display, "windowactivate", "--sync", str(chat)))
        found.append(discord)
        focus = r.wait_event(lambda e: e["at"] >= since and e["kind"] in FOCUS and e.get("process") == "Discord")
        process = r.wait_event(lambda e: e["at"] >= since and e["kind"] == "forbidden_process"
                               and e.get("pid") in r.started_pids and e.get("state") == "started")
        second = process if discord["id"] == focus["id"] else focus
        assert focus["category"] == "communication" and process["program"] == "Discord"
        assert (second["alert"], second["level"], second["act_of"]) == (False, "notice", discord["id"]), second
        # back by the window manager alone (Alt-Tab: the browser does not always report it)
        xdo(display, "windowactivate", "--sync", str(r.browser_window()))
        regained = r.wait_event(lambda e: e["at"] > focus["at"] and e["kind"] in FOCUS)
        assert (regained["kind"], regained["category"]) == ("focus_regained", "exam"), regained
    with app_window(display, ["xterm", "-T", "Pix - Certification"], "Pix - Certification") as _:
        term = r.wait_event(lambda e: e["at"] >= since and e["kind"] in FOCUS and e.get("process") == "xterm")
        assert term["kind"] != "focus_regained" and term["category"] != "exam"
    _back_to_exam(r)
    ff_home = r.tmp / "ff-home"
    ff_home.mkdir(exist_ok=True)
    with app_window(display, ["firefox-esr", "--no-remote", "--profile", str(ff_home), "--new-instance",
                              r.platform], "Pix", timeout=60) as _:      # a second browser on "Pix"
        fox = r.wait_event(lambda e: e["at"] >= since and e["kind"] in FOCUS
                           and e.get("process", "").startswith("firefox"), timeout=30)
        assert fox["kind"] != "focus_regained" and fox["category"] != "exam"
    _back_to_exam(r)

    vnc = r.tmp / "notes-helper"                                          # x11vnc, renamed
    shutil.copy("/usr/bin/x11vnc", vnc)
    proc = subprocess.Popen([str(vnc), "-display", display, "-localhost", "-rfbport", str(free_port()), "-quiet",
                             "-nopw", "-forever"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    r.started_pids.add(proc.pid)
    try:
        remote = r.wait_event(lambda e: e["at"] >= since and e["kind"] == "forbidden_process" and e.get("pid") == proc.pid,
                              timeout=20)
        assert remote["alert"] and "vnc" in (remote.get("program") or "").lower()
        _on_dashboard(r, remote["id"])
        found.append(remote)
    finally:
        proc.terminate()
        proc.wait(10)

    # Pidgin of another build (one byte more: not the installed file's hash), renamed: known by
    # its content; its process and its window (if it takes the focus) are one act, one alert
    chat_copy = r.tmp / "cahier-texte"
    shutil.copy("/usr/bin/pidgin", chat_copy)
    with chat_copy.open("ab") as handle:
        handle.write(b"\0")
    purple = subprocess.Popen([str(chat_copy), f"--config={r.tmp / 'purple'}"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, env=dict(os.environ, DISPLAY=display, HOME=str(r.tmp)))
    r.started_pids.add(purple.pid)
    try:
        flagged = r.wait_event(lambda e: e["at"] >= since and e["kind"] == "forbidden_process"
                               and e.get("pid") == purple.pid, timeout=20)
        assert (flagged["program"], flagged["name"], flagged["state"]) == ("Pidgin", "cahier-texte", "started")
        pidgin = flagged if flagged["alert"] else next(e for e in r.events() if e["id"] == flagged["act_of"])
        assert pidgin["alert"] and pidgin.get("program") == "Pidgin", pidgin
        _on_dashboard(r, pidgin["id"])
        found.append(pidgin)
    finally:
        purple.terminate()
        try:
            purple.wait(10)
        except subprocess.TimeoutExpired:  # a loaded machine: Pidgin's clean exit can take longer
            purple.kill()
            purple.wait(10)

    _back_to_exam(r)                                                      # DevTools on the exam page (F12)
    found.append(_act(r, since, lambda e: e["kind"] == "devtools_opened",
                      lambda: xdo(display, "key", "--window", str(r.browser_window()), "F12")))
    assert found[-1]["exam"] is True and found[-1]["host"] == f"127.0.0.1:{r.port}"
    xdo(display, "key", "--window", str(r.browser_window()), "F12")
    r.wait_event(lambda e: e["kind"] == "devtools_closed" and e["at"] >= since)

    ext = r.context.new_page()                                            # the extension disabled
    ext.goto("chrome://extensions")

    def disable() -> None:
        ext.evaluate(f"new Promise(done => chrome.management.setEnabled('{EXTENSION_ID}', false, done))")

    silent = _act(r, since, lambda e: e["kind"] == "extension_silent", disable)
    assert silent["browser"] == "chromium"
    found.append(silent)

    # exactly one alert per act, every alert of the machine counted (forbidden_process too),
    # each with its category and its host or program
    alerts = _alerts(r, since)
    assert sorted(a["id"] for a in alerts) == sorted(f["id"] for f in found), [
        (a["kind"], a.get("category"), a.get("host") or a.get("program") or a.get("process")) for a in alerts]
    webmail, assistant, webmail_again, discord, vnc, pidgin, devtools, silent = found
    assert webmail_again["category"] == "communication"
    # (focus_lost, or focus_moved when the new tab's blank page was its first step)
    assert webmail["kind"] in ("focus_lost", "focus_moved")
    assert (webmail["category"], webmail["source"]) == ("communication", "extension")
    assert webmail["host"].startswith("mail.example-webmail.test")
    assert (assistant["category"], assistant["host"].split(":")[0]) == ("ai_assistant", "assistant.example-ai.test")
    assert discord["program"] == "Discord" and discord["category"] == "communication"
    assert (vnc["kind"], vnc["program"], vnc["category"]) == ("forbidden_process", "VNC", "remote_control")
    assert vnc["name"] == "notes-helper"
    assert devtools["kind"] == "devtools_opened" and silent["kind"] == "extension_silent"
    OUTPUT.mkdir(exist_ok=True)
    r.dashboard.screenshot(path=str(OUTPUT / "dashboard_cheating_session.png"), full_page=True)
