"""The extension watcher's rules without a browser (clock injected): what the supervisor is
told about the extension itself, and where a phase may come from; the tracker with the
extension's facts: the exam is the extension's browser on a platform host, nothing else."""
from __future__ import annotations

from pathlib import Path

from companion.classify import Policy
from companion.extchannel import Peer
from companion.extwatch import ExtensionWatcher, platform_matches
from companion.focus import FocusTracker, Foreground

PLATFORM = "http://127.0.0.1:8080/"
PEER = Peer(pid=50, browser_pid=40, browser="chromium", origin="chrome-extension://x/")


class Clock:
    now = 1000.0

    def __call__(self) -> float:
        return self.now


def setup(tmp_path: Path):
    events, phases, clock = [], [], Clock()
    armed = {"on": True}
    policy = Policy.load(platform_url=PLATFORM)
    watcher = ExtensionWatcher(tmp_path, record=events.append, policy=policy, platform_url=PLATFORM,
                               on_phase=lambda phase, **d: phases.append((phase, d)), armed=lambda: armed["on"],
                               clock=clock)
    tracker = FocusTracker(exam_title="Pix", emit=events.append, policy=policy, extension=watcher.state, clock=clock)
    watcher.on_change = tracker.browser_changed
    return watcher, tracker, events, phases, clock, armed


def active(host: str, port: str = "", scheme: str = "http", window: int = 7) -> dict:
    return {"type": "active", "window": window, "tab": 3, "scheme": scheme, "host": host, "port": port}


def test_connected_silent_and_back(tmp_path: Path) -> None:
    w, _, events, _, clock, armed = setup(tmp_path)
    w._peer(PEER, True)
    w._message(PEER, {"type": "hello", "version": "0.1.0"})
    assert [(e.kind, e.details["browser"], e.details["version"]) for e in events] == [
        ("extension_connected", "chromium", "0.1.0")]
    w._peer(PEER, False)                       # the extension disabled: its channel closes
    clock.now += 0.2
    w.check(started=0)
    assert len(events) == 1                    # a service worker restart reconnects within the grace
    clock.now += 0.4
    w.check(started=0)
    silent = events[-1]
    assert (silent.kind, silent.details["reason"], silent.details["level"]) == ("extension_silent", "disconnected", "alert")
    w.check(started=0)
    assert len(events) == 2                    # once
    clock.now += 5
    w._peer(PEER, True)
    w._message(PEER, {"type": "hello", "version": "0.1.0"})
    back = events[-1]
    assert back.kind == "extension_connected" and back.details["silent_s"] == 5.6
    # no heartbeat for 3 s: silent too; after the exam it is a notice, not an alert
    armed["on"] = False
    clock.now += 3.1
    w.check(started=0)
    assert (events[-1].kind, events[-1].details["reason"], events[-1].details["level"]) == (
        "extension_silent", "no_heartbeat", "notice")


def test_absent_once_and_forged_peers_reported(tmp_path: Path) -> None:
    w, _, events, _, clock, _ = setup(tmp_path)
    w.check(started=clock.now)
    clock.now += 10
    w.check(started=990.0)
    w.check(started=990.0)
    assert [e.kind for e in events] == ["extension_absent"]
    w._refused("not started by a browser (parent: bash)", None)
    assert events[-1].kind == "extension_forged" and events[-1].details["level"] == "alert"


def test_phases_only_from_a_platform_page(tmp_path: Path) -> None:
    w, _, events, phases, _, _ = setup(tmp_path)
    w._peer(PEER, True)
    w._message(PEER, {"type": "phase", "phase": "start", "scheme": "http", "host": "127.0.0.1", "port": "8080"})
    w._message(PEER, {"type": "phase", "phase": "stop", "scheme": "https", "host": "mail.example.org", "port": ""})
    w._message(PEER, {"type": "phase", "phase": "stop", "scheme": "https", "host": "app.pix.fr", "port": ""})
    assert phases == [("started", {"source": "extension", "host": "127.0.0.1:8080"}),
                      ("ended", {"source": "extension", "host": "app.pix.fr"})]
    assert platform_matches(PLATFORM) == ["*://app.pix.fr/*", "*://app.pix.org/*", "*://127.0.0.1/*"]


def test_devtools_on_the_exam_tab_is_an_alert_during_the_exam(tmp_path: Path) -> None:
    w, _, events, _, clock, armed = setup(tmp_path)
    w._peer(PEER, True)
    w._message(PEER, {"type": "devtools_opened", "tab": 3, "scheme": "http", "host": "127.0.0.1", "port": "8080"})
    clock.now += 12
    w._message(PEER, {"type": "devtools_closed", "tab": 3, "scheme": "http", "host": "127.0.0.1", "port": "8080"})
    w._message(PEER, {"type": "devtools_opened", "tab": 4, "scheme": "https", "host": "fr.wikipedia.org", "port": ""})
    assert [(e.kind, e.details["level"]) for e in events] == [
        ("devtools_opened", "alert"), ("devtools_closed", "journal"), ("devtools_opened", "journal")]
    assert events[1].details["open_s"] == 12


def test_the_exam_is_the_extensions_browser_on_a_platform_host(tmp_path: Path) -> None:
    w, tr, events, _, clock, _ = setup(tmp_path)
    w._peer(PEER, True)
    chromium = Foreground("Pix - Certification - Chromium", "chromium", 40, 1)
    w._message(PEER, active("127.0.0.1", "8080"))
    tr.update(chromium)
    assert tr.exam is True and tr.place.source == "extension"
    w._message(PEER, active("pix.example.org"))          # a tab titled "Pix" on another host
    tr.update(Foreground("Pix - Chromium", "chromium", 40, 1))
    assert tr.exam is False and events[-1].kind == "focus_lost" and events[-1].details["host"] == "pix.example.org"
    w._message(PEER, active("127.0.0.1", "8080"))
    assert events[-1].kind == "focus_regained"
    # another browser, without the extension, on a page titled "Pix": a departure
    tr.update(Foreground("Pix - Certification - Mozilla Firefox", "firefox-esr", 41, 2))
    assert tr.exam is False and events[-1].details["process"] == "firefox-esr"
    tr.update(chromium)
    assert tr.exam is True
    # the browser's own window (a file dialog): it says no window of its own has the focus
    w._message(PEER, active("", window=-1))
    tr.update(Foreground("Enregistrer le fichier", "chromium", 40, 9))
    assert (events[-1].kind, events[-1].details["category"], events[-1].details["level"]) == (
        "focus_lost", "tool", "journal")
    # the extension silent: back to the window rule (a browser titled like the exam)
    w._peer(PEER, False)
    clock.now += 10
    tr.update(Foreground("Pix - Certification - Mozilla Firefox", "firefox-esr", 41, 2))
    assert tr.exam is True and tr.place.source == "window"


def focus(required, host: str = "127.0.0.1", port: str = "8080", tab: int = 3, scheme: str = "http") -> dict:
    return {"type": "focus", "required": required, "tab": tab, "scheme": scheme, "host": host, "port": port}


def test_the_focus_requirement_comes_from_platform_tabs_only(tmp_path: Path) -> None:
    w, _, _, _, _, _ = setup(tmp_path)
    told: list[bool] = []
    w.on_focus_required = told.append
    w._peer(PEER, True)
    w._message(PEER, focus(True, host="mail.example.org", port=""))      # not the platform: ignored
    w._message(PEER, focus("yes"))                                         # not a boolean: ignored
    w._message(PEER, {**focus(True), "tab": None})                         # no tab: ignored
    assert told == [] and w.focus.required is False
    w._message(PEER, focus(True))
    w._message(PEER, focus(True))                                          # told again: no change
    assert told == [True]
    w._message(PEER, focus(False, host="app.pix.fr", port="", tab=4, scheme="https"))   # a second platform tab
    w._message(PEER, focus(False))
    assert told == [True, False]
    # a focused question in the second tab, then that tab closes
    w._message(PEER, focus(True, host="app.pix.fr", port="", tab=4, scheme="https"))
    w._message(PEER, {"type": "tab_closed", "tab": 4, "window": 7, "scheme": "https", "host": "app.pix.fr", "port": ""})
    assert told == [True, False, True, False]
    # the browser's last channel closes: what its tabs said is forgotten (they say it again)
    w._message(PEER, focus(True))
    w._peer(PEER, False)
    assert told[-2:] == [True, False]
    w._peer(PEER, True)
    w._message(PEER, focus(True))
    w.reset_focus()                                                        # the exam phase ended
    w.reset_focus()
    assert told[-2:] == [True, False] and len(told) == 8


def test_a_departure_during_a_focused_question_is_an_alert_saying_so(tmp_path: Path) -> None:
    w, tr, events, _, _, _ = setup(tmp_path)
    w.on_focus_required = tr.set_focus_required
    w._peer(PEER, True)
    tr.arm()
    chromium = Foreground("Pix - Certification - Chromium", "chromium", 40, 1)
    w._message(PEER, active("127.0.0.1", "8080"))
    tr.update(chromium)
    w._message(PEER, focus(False))
    w._message(PEER, {**active("fr.wikipedia.org"), "tab": 5})          # a search tab, regular question
    w._message(PEER, active("127.0.0.1", "8080"))
    w._message(PEER, focus(True))                                        # the next question: focused
    w._message(PEER, {**active("fr.wikipedia.org"), "tab": 5})
    w._message(PEER, active("127.0.0.1", "8080"))
    w._message(PEER, focus(False))                                       # and a regular one again
    w._message(PEER, {**active("fr.wikipedia.org"), "tab": 5})
    lost = [(e.details["level"], e.details["focus_required"], e.details["category"]) for e in events
            if e.kind == "focus_lost"]
    assert lost == [("journal", False, "search"), ("alert", True, "search"), ("journal", False, "search")]


def test_the_steps_of_one_departure_during_a_focused_question_are_one_alert(tmp_path: Path) -> None:
    """Ctrl+T then a search engine during a focused question: one departure, one alert; the
    next step is a notice naming it. Leaving again after coming back is a new alert; a
    forbidden site on the way keeps its own alert (an act of its own)."""
    w, tr, events, _, _, _ = setup(tmp_path)
    w.on_focus_required = tr.set_focus_required
    w._peer(PEER, True)
    tr.arm()
    w._message(PEER, active("127.0.0.1", "8080"))
    tr.update(Foreground("Pix - Certification - Chromium", "chromium", 40, 1))
    w._message(PEER, focus(True))
    w._message(PEER, {**active("newtab", scheme="chrome"), "tab": 5})
    w._message(PEER, {**active("fr.wikipedia.org"), "tab": 5})
    w._message(PEER, active("127.0.0.1", "8080"))
    w._message(PEER, {**active("fr.wikipedia.org"), "tab": 5})
    w._message(PEER, {**active("mail.google.com"), "tab": 6})
    steps = [(e.kind, e.details["level"], e.details.get("act_of")) for e in events if e.kind != "focus_regained"]
    assert steps == [("focus_lost", "alert", None), ("focus_moved", "notice", events[0].id),
                     ("focus_lost", "alert", None), ("focus_moved", "alert", None)], steps
    assert events[-1].details["category"] == "communication"
