"""Which window is in front, and whether it is the exam: the logic shared by every OS.

Watchers (x11.py, windows.py, macos.py, poll.py) only report facts: "this window, with this
title, of this process, is now in front" (a ``Foreground``). ``FocusTracker`` judges them
against the exam-title pattern and produces ``focus_lost`` / ``focus_regained`` events.
It is pure (clock injected) so it is tested table-style.
"""
from __future__ import annotations

import re
import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Callable

from core.events import Event, event, utc_iso


@dataclass(frozen=True)
class Foreground:
    """One fact: the window in front. ``process`` is the program name ("" when unknown)."""

    title: str
    process: str = ""
    pid: int | None = None
    window: int | str | None = None


OnChange = Callable[[Foreground], None]


class FocusWatcher(ABC):
    """Calls ``on_change`` with each new foreground window (or title) until ``stop`` is set."""

    name = "none"

    @abstractmethod
    def run(self, on_change: OnChange, stop: threading.Event) -> None: ...


@dataclass
class FocusChange:
    """What the local endpoint's ``/ping`` reports to the exam page."""

    at: str
    exam: bool
    title: str
    process: str


@dataclass
class FocusTracker:
    """Turns foreground facts into focus events.

    Rules, and why:
    - No ``focus_lost`` before the exam window was seen once (or the exam page said the test
      started): the companion starts before the candidate opens the exam, and a room of
      twenty "focus lost" alerts at the start would teach supervisors to ignore alerts.
    - One ``focus_lost`` per absence: going from the exam to Discord then to a terminal is
      one absence; its end is one ``focus_regained`` with the time away.
    - Our own windows (the status window) never count as leaving the exam: the candidate
      may glance at it, and it is always on top.
    - After the exam page said the test ended, nothing counts until it says a test started
      again: candidates close the browser at the end, and twenty alerts then are noise.
    - The exam window is a BROWSER's window whose title matches: a title is whatever a
      program wants it to be (a Discord server called "Pix", a note "pix.txt", a terminal
      retitled "Pix"), and taking it for the exam would hide the very absences we watch
      for. When the process is unknown (no pid on the window) the title alone decides.
    """

    exam_title: str
    emit: Callable[[Event], None]
    own_pids: set[int] | frozenset[int] = frozenset()
    clock: Callable[[], float] = time.monotonic
    armed: bool = False
    ended: bool = False              # the exam page said the test ended: seeing the exam re-arms nothing
    focus_required: bool = False     # the exam page says the current question requires focus
    exam: bool | None = None
    current: Foreground | None = None
    left_at: float | None = None
    changes: list[FocusChange] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self._pattern = compile_exam_title(self.exam_title)

    def is_exam(self, fg: Foreground) -> bool:
        if not self._pattern.search(fg.title or ""):
            return False
        return not fg.process or is_browser(fg.process)

    def arm(self) -> None:
        """The exam page told us the test started: from now on, leaving it counts."""
        with self._lock:
            self.armed, self.ended = True, False
            if self.current is not None and not self.is_exam(self.current) and self.exam is not False:
                self._lost(self.current)

    def disarm(self) -> None:
        """The exam page told us the test ended: leaving the window no longer counts."""
        with self._lock:
            self.armed, self.ended = False, True

    def update(self, fg: Foreground) -> Event | None:
        with self._lock:
            if fg.pid is not None and fg.pid in self.own_pids:
                return None
            previous, self.current = self.current, fg
            if previous == fg:
                return None
            if self.is_exam(fg):
                self.armed = self.armed or not self.ended
                was_away = self.exam is False
                self.exam = True
                self._note(fg, True)
                if was_away:
                    away = max(0.0, self.clock() - (self.left_at or self.clock()))
                    self.left_at = None
                    return self._send(event("focus_regained", title=fg.title, process=fg.process,
                                            away_s=round(away, 3)))
                return None
            if not self.armed:
                return None
            if self.exam is False:
                self._note(fg, False)  # still away, somewhere else: no second alert
                return None
            return self._lost(fg)

    def _lost(self, fg: Foreground) -> Event:
        self.exam = False
        self.left_at = self.clock()
        self._note(fg, False)
        return self._send(event("focus_lost", title=fg.title, process=fg.process,
                                exam_title_pattern=self.exam_title, focus_required=self.focus_required))

    def _note(self, fg: Foreground, exam: bool) -> None:
        self.changes.append(FocusChange(at=utc_iso(), exam=exam, title=fg.title, process=fg.process))
        del self.changes[:-100]  # the page pings every second; keep the list bounded

    def _send(self, ev: Event) -> Event:
        self.emit(ev)
        return ev

    def take_changes(self) -> list[FocusChange]:
        with self._lock:
            taken, self.changes = self.changes, []
        return taken

    def snapshot(self) -> dict:
        with self._lock:
            fg = self.current
            return {"exam": self.exam, "title": fg.title if fg else None,
                    "process": fg.process if fg else None}


# Process names of web browsers (lower case, ".exe" stripped) on Windows, Linux and macOS,
# including Safe Exam Browser, which some centres use for Pix; a browser missing here shows
# its exam window as "away", with its process name, which tells what to add.
BROWSERS = frozenset({
    "chrome", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "google chrome",
    "google chrome for testing", "msedge", "microsoft-edge", "microsoft-edge-stable", "microsoft edge",
    "firefox", "firefox-esr", "firefox-bin", "firefox-developer-edition", "firefox nightly", "librewolf",
    "waterfox", "floorp", "opera", "opera_gx", "brave", "brave-browser", "brave browser", "vivaldi",
    "vivaldi-bin", "vivaldi-stable", "safari", "arc", "iexplore", "safeexambrowser", "safe exam browser",
    "seb", "epiphany", "falkon", "konqueror", "qutebrowser", "midori", "seamonkey", "palemoon", "thorium",
    "yandex", "browser", "orion", "min",
})


def is_browser(process: str) -> bool:
    name = process.strip().lower()
    if name.endswith(".exe"):
        name = name[:-4]
    return name in BROWSERS


# "Pix" as a word: a bare case-insensitive search would take "Pixabay", "Pixel", "Pixlr" or
# "Pixar" tabs for the exam; "Pix", "Certification | Pix", "app.pix.fr", "Pix Orga" match
DEFAULT_EXAM_TITLE = r"\bPix\b"


def compile_exam_title(pattern: str) -> re.Pattern[str]:
    """Case-insensitive search: browsers show "Pix" or "pix" depending on the page."""
    return re.compile(pattern, re.IGNORECASE)


def make_watcher(os_name: str, display: str | None) -> FocusWatcher | None:
    """The event-driven watcher for this OS, or None when there is no window system."""
    if os_name == "windows":
        from companion.focus.windows import WindowsFocusWatcher

        return WindowsFocusWatcher()
    if os_name == "macos":
        from companion.focus.macos import MacFocusWatcher

        return MacFocusWatcher()
    if display:
        from companion.focus.x11 import X11FocusWatcher

        return X11FocusWatcher(display)
    return None
