"""What the examroom extension last said, per browser that runs it.

Facts come from ``companion/extchannel.py`` (verified native hosts): the focused browser
window (``-1``: the browser lost the focus), the active tab's scheme/host/port, tabs and
DevTools, the platform's phase messages and a heartbeat every second. This module only keeps
them (thread-safe, clock injected) and answers: is the extension alive, and does this
foreground window belong to a browser it watches (the window's pid is the browser's, which is
the native host's parent)?
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable

NO_WINDOW = -1
SILENT_AFTER_S = 3.0      # three missed heartbeats
WEB = ("http", "https")


@dataclass(frozen=True)
class Tab:
    """The active tab of the focused window: never more than where it is."""

    scheme: str = ""
    host: str = ""
    port: str = ""
    pdf: bool = False
    tab: int | None = None

    @property
    def where(self) -> str:
        """What the classifier judges: ``host[:port]`` for the web, ``file://``, ``chrome://newtab``..."""
        if self.scheme in WEB:
            return f"{self.host}:{self.port}" if self.port else self.host
        if self.scheme == "file":
            return "file://"
        if self.scheme == "about":
            return "about:blank"
        return f"{self.scheme}://{self.host}" if self.scheme else ""


def tab_of(message: dict) -> Tab:
    def text(key: str, limit: int = 253) -> str:
        value = message.get(key)
        return value[:limit].lower() if isinstance(value, str) else ""

    tab = message.get("tab")
    return Tab(scheme=text("scheme", 32), host=text("host"), port=text("port", 5), pdf=message.get("pdf") is True,
               tab=tab if isinstance(tab, int) else None)


@dataclass
class BrowserState:
    browser_pid: int
    browser: str
    version: str = ""
    connections: int = 0
    last_seen: float = 0.0
    focused_window: int = NO_WINDOW
    active: Tab | None = None
    silent: bool = False            # reported as silent, not back yet
    silent_at: float | None = None  # since when (its last heartbeat, or its channel closing)
    gone_at: float | None = None    # its last connection closed at


@dataclass
class ExtensionState:
    clock: Callable[[], float] = time.monotonic
    silent_after_s: float = SILENT_AFTER_S
    browsers: dict[int, BrowserState] = field(default_factory=dict)   # by browser pid
    ever: bool = False
    # where each tab was last seen, by (browser pid, tab id): whether a forbidden site is
    # still open (companion/acts.py: closing its last tab ends the act)
    tabs: dict[tuple[int, int], str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def connected(self, browser_pid: int, browser: str) -> BrowserState:
        with self._lock:
            state = self.browsers.setdefault(browser_pid, BrowserState(browser_pid, browser))
            state.connections += 1
            state.last_seen, state.gone_at = self.clock(), None
            self.ever = True
            return state

    def disconnected(self, browser_pid: int) -> None:
        with self._lock:
            state = self.browsers.get(browser_pid)
            if state is not None:
                state.connections = max(0, state.connections - 1)
                if state.connections == 0:
                    state.gone_at = self.clock()

    def heard(self, browser_pid: int, message: dict) -> BrowserState | None:
        """A message from that browser's extension; returns its state (None: unknown)."""
        with self._lock:
            state = self.browsers.get(browser_pid)
            if state is None:
                return None
            state.last_seen = self.clock()
            kind = message.get("type")
            if kind == "hello" and isinstance(message.get("version"), str):
                state.version = message["version"][:32]
            elif kind == "active":
                window = message.get("window")
                state.focused_window = window if isinstance(window, int) else NO_WINDOW
                state.active = tab_of(message) if state.focused_window != NO_WINDOW else state.active
                if state.focused_window != NO_WINDOW and state.active is not None:
                    self._tab_at(browser_pid, state.active)
            elif kind == "tab_opened":
                self._tab_at(browser_pid, tab_of(message))
            elif kind == "tab_closed":
                tab = tab_of(message).tab
                if tab is not None:
                    self.tabs.pop((browser_pid, tab), None)
            return state

    def _tab_at(self, browser_pid: int, tab: Tab) -> None:
        key = (browser_pid, tab.tab)
        # bounded: the tab ids come from the candidate's machine
        if tab.tab is not None and tab.where and (key in self.tabs or len(self.tabs) < 4096):
            self.tabs[key] = tab.where

    def open_hosts(self) -> set[str] | None:
        """Where the tabs known to be open are (None: no extension ever spoke, so not known)."""
        with self._lock:
            if not self.ever:
                return None
            # a closed or crashed browser's tabs are not open any more (its host acts end)
            return {where for (pid, _), where in self.tabs.items()
                    if where and pid in self.browsers and self.alive(self.browsers[pid])}

    def alive(self, state: BrowserState) -> bool:
        return state.connections > 0 and self.clock() - state.last_seen < self.silent_after_s

    def live(self) -> bool:
        with self._lock:
            return any(self.alive(s) for s in self.browsers.values())

    def owner(self, pid: int | None) -> BrowserState | None:
        """The live browser whose window this is (its pid is the browser's main process)."""
        if pid is None:
            return None
        with self._lock:
            state = self.browsers.get(pid)
            return state if state is not None and self.alive(state) else None

    def snapshot(self) -> dict:
        with self._lock:
            return {"seen": self.ever,
                    "browsers": [{"browser": s.browser, "version": s.version, "alive": self.alive(s),
                                  "host": s.active.where if s.active else None}
                                 for s in self.browsers.values()]}
