"""Focus logic without a display: the tracker's rules, and the Windows / macOS watchers
replaying recorded sequences of OS callbacks through fake APIs."""
from __future__ import annotations

import threading

from core.events import Event
from companion.focus import FocusTracker, Foreground
from companion.focus.macos import MacFocusWatcher
from companion.focus.poll import PollFocusWatcher
from companion.focus.windows import (EVENT_OBJECT_NAMECHANGE, EVENT_SYSTEM_FOREGROUND,
                                     WindowsFocusWatcher)

EXAM = Foreground("Pix - Certification - Mozilla Firefox", "firefox", 10, 1)
CHAT = Foreground("Discord", "Discord", 20, 2)
TERM = Foreground("bash", "xterm", 30, 3)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def tracker(**kw) -> tuple[FocusTracker, list[Event], Clock]:
    events: list[Event] = []
    clock = Clock()
    return FocusTracker(exam_title=kw.pop("exam_title", "Pix"), emit=events.append, clock=clock, **kw), events, clock


def test_lost_then_regained_with_time_away() -> None:
    tr, events, clock = tracker()
    tr.update(EXAM)
    clock.now += 5
    tr.update(CHAT)
    clock.now += 2
    tr.update(TERM)          # still away, elsewhere: one step more in the journal
    clock.now += 1.5
    tr.update(EXAM)
    assert [e.kind for e in events] == ["focus_lost", "focus_moved", "focus_regained"]
    assert events[0].details == {"title": "Discord", "process": "Discord", "exam_title_pattern": "Pix",
                                 "focus_required": False, "category": "communication", "level": "alert",
                                 "source": "process", "label": "Discord", "program": "Discord"}
    assert events[1].details["process"] == "xterm" and events[1].details["previous_s"] == 2
    assert events[1].details["previous_category"] == "communication"
    assert events[2].details["away_s"] == 3.5 and events[2].details["previous_s"] == 1.5
    assert events[2].details["title"] == EXAM.title and events[2].details["category"] == "exam"
    snap = tr.snapshot()
    assert (snap["exam"], snap["title"], snap["process"], snap["category"]) == (True, EXAM.title, "firefox", "exam")


def test_nothing_before_the_exam_window_was_seen_unless_armed() -> None:
    tr, events, _ = tracker()
    tr.update(CHAT)
    tr.update(TERM)
    assert events == []
    tr.arm()                 # the exam page said "test started" while the candidate is away
    assert [e.kind for e in events] == ["focus_lost"]
    assert events[0].details["title"] == "bash"


def test_own_window_is_not_leaving_the_exam_and_pattern_is_case_insensitive() -> None:
    tr, events, _ = tracker(own_pids=frozenset({99}), exam_title=r"pix|certif")
    tr.update(Foreground("PIX", "chrome", 1))
    tr.update(Foreground("examroom", "python3", 99))
    tr.update(Foreground("PIX", "chrome", 1))
    assert events == []


class FakeWin:
    """Replays a recorded sequence of SetWinEventHook callbacks."""

    def __init__(self, windows: dict[int, tuple[str, int]], first: int, calls: list[tuple]) -> None:
        self.windows, self.first, self.calls = windows, first, calls

    def foreground(self) -> int:
        return self.first

    def title(self, hwnd: int) -> str:
        return self.windows[hwnd][0]

    def pid(self, hwnd: int) -> int | None:
        return self.windows[hwnd][1]

    def process_name(self, pid: int | None) -> str:
        return {100: "firefox.exe", 200: "Teams.exe", 300: "explorer.exe"}.get(pid, "")

    def pump(self, callback, stop: threading.Event) -> None:
        for call in self.calls:
            if call[0] == "title":          # the window's title changes before its NAMECHANGE
                self.windows[call[1]] = (call[2], self.windows[call[1]][1])
            else:
                callback(*call)


def test_windows_recorded_sequence() -> None:
    windows = {0x10: ("Pix - Certification - Mozilla Firefox", 100), 0x20: ("Microsoft Teams", 200),
               0x30: ("Explorateur", 300)}
    calls = [
        (EVENT_OBJECT_NAMECHANGE, 0x10, -4, 0),                 # a child object of the browser: noise
        (EVENT_SYSTEM_FOREGROUND, 0x20, 0, 0),                  # Alt-Tab to Teams
        (EVENT_OBJECT_NAMECHANGE, 0x30, 0, 0),                  # a background window renamed: noise
        (EVENT_SYSTEM_FOREGROUND, 0x10, 0, 0),                  # back to the exam
        ("title", 0x10, "YouTube — Mozilla Firefox"),
        (EVENT_OBJECT_NAMECHANGE, 0x10, 0, 0),                  # tab switch
        ("title", 0x10, "Pix - Question 2 - Mozilla Firefox"),
        (EVENT_OBJECT_NAMECHANGE, 0x10, 0, 0),
        (EVENT_SYSTEM_FOREGROUND, 0, 0, 0),                     # desktop: no window
    ]
    tr, events, _ = tracker()
    facts: list[Foreground] = []

    def on_change(fg: Foreground) -> None:
        facts.append(fg)
        tr.update(fg)

    WindowsFocusWatcher(FakeWin(windows, 0x10, calls)).run(on_change, threading.Event())
    assert [(f.title, f.process) for f in facts] == [
        ("Pix - Certification - Mozilla Firefox", "firefox.exe"),
        ("Microsoft Teams", "Teams.exe"),
        ("Pix - Certification - Mozilla Firefox", "firefox.exe"),
        ("YouTube — Mozilla Firefox", "firefox.exe"),
        ("Pix - Question 2 - Mozilla Firefox", "firefox.exe"),
        ("", ""),
    ]
    assert [(e.kind, e.details["title"]) for e in events] == [
        ("focus_lost", "Microsoft Teams"), ("focus_regained", "Pix - Certification - Mozilla Firefox"),
        ("focus_lost", "YouTube — Mozilla Firefox"), ("focus_regained", "Pix - Question 2 - Mozilla Firefox"),
        ("focus_lost", ""),
    ]
    assert events[0].details["process"] == "Teams.exe"


class FakeMac:
    """Replays recorded NSWorkspace activations; ticks re-read the title (tab switches)."""

    def __init__(self, steps: list[tuple]) -> None:
        self.steps = steps
        self.titles = {501: "Pix – Safari", 777: "WhatsApp"}

    def front_app(self):
        return ("Safari", 501)

    def window_title(self, pid: int) -> str:
        return self.titles.get(pid, "")

    def observe(self, on_activate, stop, tick, tick_s) -> None:
        for step in self.steps:
            if step[0] == "activate":
                on_activate(step[1], step[2])
            elif step[0] == "title":
                self.titles[step[1]] = step[2]
            else:
                tick()


def test_macos_recorded_notifications() -> None:
    steps = [("tick",), ("activate", "WhatsApp", 777), ("tick",), ("activate", "Safari", 501),
             ("title", 501, "Google – Safari"), ("tick",), ("tick",), ("title", 501, "Pix – Safari"), ("tick",)]
    tr, events, _ = tracker()
    facts: list[Foreground] = []

    def on_change(fg: Foreground) -> None:
        facts.append(fg)
        tr.update(fg)

    MacFocusWatcher(FakeMac(steps)).run(on_change, threading.Event())
    assert [(f.process, f.title) for f in facts] == [
        ("Safari", "Pix – Safari"), ("WhatsApp", "WhatsApp"), ("Safari", "Pix – Safari"),
        ("Safari", "Google – Safari"), ("Safari", "Pix – Safari")]
    assert [(e.kind, e.details["title"]) for e in events] == [
        ("focus_lost", "WhatsApp"), ("focus_regained", "Pix – Safari"),
        ("focus_lost", "Google – Safari"), ("focus_regained", "Pix – Safari")]


def test_poll_watcher_reports_only_changes_and_survives_errors() -> None:
    reads = iter([EXAM, EXAM, RuntimeError("gone"), None, CHAT, CHAT, EXAM])
    stop = threading.Event()
    seen: list[Foreground] = []

    def read():
        try:
            value = next(reads)
        except StopIteration:
            stop.set()
            return None
        if isinstance(value, Exception):
            raise value
        return value

    PollFocusWatcher(read, interval_s=0).run(seen.append, stop)
    assert seen == [EXAM, CHAT, EXAM]


def test_event_wire_shape() -> None:
    ev = Event(kind="focus_lost", details={"title": "x", "id": "not-an-id"})
    wire = ev.wire()
    assert wire["id"] == ev.id and wire["title"] == "x" and wire["kind"] == "focus_lost"
    assert wire["at"].endswith("Z") and len(wire["at"]) == 24
    assert Event.from_wire(wire).wire() == wire


def test_watcher_choice_per_os_and_a_display_that_does_not_answer(tmp_path, capsys) -> None:
    from core.host import Host
    from companion.cli import _focus_watcher
    from companion.focus import make_watcher
    from companion.focus.macos import MacFocusWatcher as Mac
    from companion.focus.windows import WindowsFocusWatcher as Win
    from companion.focus.x11 import X11FocusWatcher

    assert isinstance(make_watcher("windows", None), Win)
    assert isinstance(make_watcher("macos", None), Mac)
    assert isinstance(make_watcher("linux", ":0"), X11FocusWatcher)
    assert make_watcher("linux", None) is None
    # a DISPLAY nobody serves: one line, no watcher, no traceback
    assert _focus_watcher(Host.fake("linux", tmp_path, env={"DISPLAY": ":987"}), "fr") is None
    err = capsys.readouterr().err
    assert "Pas de surveillance de la fenêtre au premier plan" in err and "Traceback" not in err


def test_a_window_titled_like_the_exam_in_another_program_is_an_absence() -> None:
    """A title is whatever a program says: a Discord server called "Pix", a note "pix.txt", a
    terminal retitled "Pix" must not pass for the exam; the exam is a browser's window."""
    tr, events, clock = tracker()
    tr.update(EXAM)
    for fake in (Foreground("Pix - Discord", "Discord", 20, 2), Foreground("pix.txt - Bloc-notes", "notepad.exe", 21, 3),
                 Foreground("Pix", "xterm", 22, 4)):
        tr.update(fake)
        assert tr.snapshot()["exam"] is False, fake
    assert [e.kind for e in events] == ["focus_lost", "focus_moved", "focus_moved"]
    assert [e.details["process"] for e in events] == ["Discord", "notepad.exe", "xterm"]
    clock.now += 4
    tr.update(Foreground("Pix - Certification - Google Chrome", "chrome.exe", 30, 5))   # any browser
    assert events[-1].kind == "focus_regained" and events[-1].details["away_s"] == 4
    # a window whose process is unknown (no pid on it) is judged on its title alone
    tr.update(Foreground("Pix – Safari", "", None, 6))
    assert tr.snapshot()["exam"] is True and len(events) == 4


def test_exam_window_closed_or_minimized_is_an_absence() -> None:
    tr, events, _ = tracker()
    tr.update(EXAM)
    tr.update(Foreground(""))          # X11: no active window (minimized, closed, desktop)
    assert [e.kind for e in events] == ["focus_lost"] and events[0].details["title"] == ""
    tr.update(Foreground("Bureau", "explorer.exe", 4, 9))
    assert [e.kind for e in events] == ["focus_lost", "focus_moved"]     # still the same absence
    assert events[1].details["category"] == "tool"                       # the file explorer


def test_windows_minimized_exam_and_lock_screen_are_absences() -> None:
    """Recorded: the exam minimized with nothing else open (Windows sends MINIMIZESTART and no
    FOREGROUND: the minimized window stays "foreground"), restored; then Win+L (DESKTOPSWITCH,
    GetForegroundWindow = 0 on the secure desktop) and unlock (same window, no FOREGROUND)."""
    from companion.focus.windows import (EVENT_SYSTEM_DESKTOPSWITCH, EVENT_SYSTEM_MINIMIZEEND,
                                         EVENT_SYSTEM_MINIMIZESTART)

    class Fake(FakeWin):
        def pump(self, callback, stop: threading.Event) -> None:
            for call in self.calls:
                if call[0] == "front":       # what GetForegroundWindow answers from now on
                    self.first = call[1]
                else:
                    callback(*call)

    calls = [(EVENT_SYSTEM_MINIMIZESTART, 0x30, 0, 0),     # another window minimized: noise
             (EVENT_SYSTEM_MINIMIZESTART, 0x10, 0, 0),
             (EVENT_SYSTEM_MINIMIZEEND, 0x10, 0, 0),
             ("front", 0), (EVENT_SYSTEM_DESKTOPSWITCH, 0, 0, 0),
             ("front", 0x10), (EVENT_SYSTEM_DESKTOPSWITCH, 0, 0, 0)]
    tr, events, _ = tracker()
    facts: list[Foreground] = []

    def on_change(fg: Foreground) -> None:
        facts.append(fg)
        tr.update(fg)

    windows = {0x10: ("Pix - Certification - Mozilla Firefox", 100), 0x30: ("Explorateur", 300)}
    WindowsFocusWatcher(Fake(windows, 0x10, calls)).run(on_change, threading.Event())
    assert [f.title for f in facts] == ["Pix - Certification - Mozilla Firefox", "",
                                        "Pix - Certification - Mozilla Firefox", "",
                                        "Pix - Certification - Mozilla Firefox"]
    assert [e.kind for e in events] == ["focus_lost", "focus_regained", "focus_lost", "focus_regained"]


def test_default_exam_title_is_pix_as_a_word() -> None:
    from companion.focus import DEFAULT_EXAM_TITLE

    tr, events, _ = tracker(exam_title=DEFAULT_EXAM_TITLE)
    for title in ("Pix", "Certification | Pix - Mozilla Firefox", "app.pix.fr", "Pix Orga - Google Chrome"):
        assert tr.is_exam(Foreground(title, "firefox")), title
    for title in ("Pixabay - Images gratuites - Mozilla Firefox", "Pixlr E - Google Chrome", "Pixel 8 - Google Store"):
        assert not tr.is_exam(Foreground(title, "firefox")), title


def test_after_the_exam_ended_nothing_counts_until_a_new_start() -> None:
    tr, events, _ = tracker()
    tr.update(EXAM)
    tr.disarm()                       # the exam page: test ended
    tr.update(CHAT)                   # the candidate closes the browser and opens Discord
    tr.update(EXAM)                   # the results page, still titled "Pix"
    tr.update(TERM)
    assert events == []
    tr.arm()                          # a new test starts while the candidate is in the terminal
    assert [e.kind for e in events] == ["focus_lost"] and events[0].details["title"] == "bash"


def test_a_wayland_session_has_no_focus_watch_rather_than_a_blind_one(tmp_path, capsys) -> None:
    from core.host import Host
    from companion.cli import _focus_watcher

    for env in ({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"}, {"DISPLAY": ":0", "XDG_SESSION_TYPE": "wayland"}):
        assert _focus_watcher(Host.fake("linux", tmp_path, env=env), "fr") is None
        err = capsys.readouterr().err
        assert "Wayland" in err and "Pas de surveillance de la fenêtre au premier plan" in err
        assert len(err.strip().splitlines()) == 1


def test_dialogs_are_named_by_program_and_role_and_judged_as_their_program() -> None:
    tr, events, _ = tracker()
    tr.update(EXAM)
    calc = Foreground("tableau.xlsx - LibreOffice Calc", "soffice.bin", 40, 4, window_class="libreoffice libreoffice-calc")
    tr.update(calc)
    tr.update(Foreground("Save as", "soffice.bin", 40, 5, window_class="libreoffice libreoffice-calc", dialog=True))
    tr.update(Foreground("Enregistrer le fichier - sujet-maths.pdf", "chromium", 50, 6, dialog=True))
    tr.update(Foreground("Envoyer un fichier", "Discord", 20, 7, dialog=True))
    _, office, browser, chat = (e.wire() for e in events)
    assert (office["kind"], office["program"], office["role"], office["category"], office["level"], office["title"]) == (
        "focus_moved", "LibreOffice", "dialog", "tool", "journal", "")
    assert (browser["category"], browser["label"], browser["role"], browser["title"]) == ("tool", "chromium", "dialog", "")
    # a forbidden program's dialog is that program
    assert (chat["category"], chat["level"], chat["program"], chat["role"]) == ("communication", "alert", "Discord", "dialog")


def test_a_dialog_is_never_the_exam_and_is_an_alert_during_a_focus_question() -> None:
    tr, events, _ = tracker()
    tr.update(EXAM)
    tr.set_focus_required(True)
    tr.update(Foreground("Pix - Certification", "firefox", 10, 8, dialog=True))   # the exam browser's own dialog
    assert [(e.kind, e.details["category"], e.details["level"], e.details["role"]) for e in events] == [
        ("focus_lost", "tool", "alert", "dialog")]


def test_windows_and_macos_watchers_report_dialogs() -> None:
    """Windows: the API says which windows are dialogs (#32770 or owned); macOS: a modal panel."""
    class FakeWinDialogs(FakeWin):
        def dialog(self, hwnd: int) -> bool:
            return hwnd == 0x40

        def process_name(self, pid: int | None) -> str:
            return {100: "firefox.exe", 400: "soffice.bin"}.get(pid, "")

    windows = {0x10: ("Pix - Certification - Mozilla Firefox", 100), 0x30: ("notes.odt - LibreOffice", 400),
               0x40: ("Enregistrer sous", 400)}
    facts: list[Foreground] = []
    WindowsFocusWatcher(FakeWinDialogs(windows, 0x10, [(EVENT_SYSTEM_FOREGROUND, 0x30, 0, 0),
                                                       (EVENT_SYSTEM_FOREGROUND, 0x40, 0, 0)])).run(
        facts.append, threading.Event())
    assert [(f.process, f.dialog) for f in facts] == [("firefox.exe", False), ("soffice.bin", False),
                                                       ("soffice.bin", True)]

    class FakeMacPanel(FakeMac):
        def front_is_panel(self, pid: int) -> bool:
            return pid == 777

    mac: list[Foreground] = []
    MacFocusWatcher(FakeMacPanel([("activate", "WhatsApp", 777)])).run(mac.append, threading.Event())
    assert [(f.process, f.dialog) for f in mac] == [("Safari", False), ("WhatsApp", True)]
    # a watcher API without the optional call sees no dialogs (older fakes, other platforms)
    plain: list[Foreground] = []
    MacFocusWatcher(FakeMac([("activate", "WhatsApp", 777)])).run(plain.append, threading.Event())
    assert not any(f.dialog for f in plain)
