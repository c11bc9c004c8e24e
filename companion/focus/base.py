"""The facts every focus watcher reports and the names they share (no watcher, no judgement).

Kept apart from the package's ``__init__`` (which picks the watcher for this OS) so that the
per-OS watchers and the tracker import these names without importing the package that
imports them back.
"""
from __future__ import annotations

import re
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Foreground:
    """One fact: the window in front. ``process`` is the program name ("" when unknown)."""

    title: str
    process: str = ""
    pid: int | None = None
    window: int | str | None = None
    exe: str = ""                 # the executable's path, when the OS tells it
    window_class: str = ""        # X11 WM_CLASS (instance and class), "" elsewhere
    overlay: bool = False         # an override-redirect window covering the screen (a locker)
    # a program's dialog (Save as, Open, Print...): X11 WM_TRANSIENT_FOR or
    # _NET_WM_WINDOW_TYPE_DIALOG, Windows an owned window or the dialog class #32770, macOS a
    # window at the modal panel level; its title (often a file name) is not kept
    dialog: bool = False


OnChange = Callable[[Foreground], None]


class FocusWatcher(ABC):
    """Calls ``on_change`` with each new foreground window (or title) until ``stop`` is set."""

    name = "none"

    @abstractmethod
    def run(self, on_change: OnChange, stop: threading.Event) -> None: ...


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
