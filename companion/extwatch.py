"""The watcher of the examroom browser extension: one of the session's watchers.

It runs the verified channel (``companion/extchannel.py``), keeps what each browser's
extension says (``companion/extstate.py``), tells the focus tracker when that changes, and
reports what the supervisor must know about the extension itself:

- ``extension_connected`` (a browser's extension said hello), ``extension_absent`` (none
  within ``absent_after_s`` of the start: the tile says "extension absente", a notice);
- ``extension_silent`` (its channel closed and did not come back within ``gone_grace_s``, or
  no heartbeat for ``silent_after_s``: disabled, removed, the browser closed; an alert during
  the exam, a notice otherwise), closed by the next ``extension_connected`` (with ``silent_s``);
- ``extension_forged`` (a local program tried to pass for the extension: an alert);
- ``devtools_opened`` / ``devtools_closed`` (an alert on the exam's tab during the exam),
  ``tab_opened`` / ``tab_closed`` during the exam (journal);
- the platform's phase messages, relayed to ``on_phase`` only from a platform host;
- whether the platform's question requires focus (``companion/focusreq.py``), per tab of a
  platform host, told to ``on_focus_required`` when the overall answer changes.
"""
from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any, Callable

from core.events import Event, event
from companion.extchannel import ExtensionChannel, Peer
from companion.extstate import ExtensionState, tab_of
from companion.focusreq import FocusRequirement

log = logging.getLogger(__name__)

ABSENT_AFTER_S = 10.0
GONE_GRACE_S = 0.5       # a service worker restarted by the browser reconnects within this
TICK_S = 0.1
REFRESH_EVERY_S = 0.2
PIX_HOSTS = ("app.pix.fr", "app.pix.org")


def platform_matches(platform_url: str | None) -> list[str]:
    """Match patterns of the pages where content.js listens (no port: any port matches)."""
    from urllib.parse import urlparse

    hosts = list(PIX_HOSTS)
    if platform_url:
        host = urlparse(platform_url).hostname
        if host and host not in hosts:
            hosts.append(host)
    return [f"*://{host}/*" for host in hosts]


class ExtensionWatcher:
    name = "extension"

    def __init__(self, home: Path, *, record: Callable[[Event], None], policy: Any, platform_url: str | None,
                 on_phase: Callable[..., None], on_change: Callable[[], None] = lambda: None,
                 on_focus_required: Callable[[bool], None] = lambda required: None,
                 armed: Callable[[], bool] = lambda: False, clock: Callable[[], float] = time.monotonic,
                 absent_after_s: float = ABSENT_AFTER_S, gone_grace_s: float = GONE_GRACE_S) -> None:
        self.home, self.record, self.policy, self.platform_url = home, record, policy, platform_url
        self.on_phase, self.on_change, self.armed, self.clock = on_phase, on_change, armed, clock
        self.on_focus_required = on_focus_required
        self.focus = FocusRequirement()
        self.absent_after_s, self.gone_grace_s = absent_after_s, gone_grace_s
        self.state = ExtensionState(clock=clock)
        self._hello: set[int] = set()
        self._absent_reported = False
        self._devtools: dict[int, tuple[str, float]] = {}   # tab -> (host, opened at)
        self._asked: dict[int, float] = {}                  # browser pid -> last refresh asked
        self._lock = threading.Lock()
        self.channel: ExtensionChannel | None = None

    # -- the watcher protocol -------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        channel = ExtensionChannel(self.home, on_message=self._message, on_peer=self._peer,
                                   on_refused=self._refused, config=self._config)
        channel.start()
        self.channel = channel
        started = self.clock()
        try:
            while not stop.wait(TICK_S):
                self.check(started)
        finally:
            channel.close()

    def snapshot(self) -> dict:
        return self.state.snapshot()

    def refresh(self, browser_pid: int) -> None:
        """Ask that browser's extension which window has the focus now (at most every 0.2 s):
        the window manager raised one of its windows, and the browser may not have said so."""
        now = self.clock()
        with self._lock:
            if now - self._asked.get(browser_pid, -1.0) < REFRESH_EVERY_S:
                return
            self._asked[browser_pid] = now
        if self.channel is not None:
            self.channel.send(browser_pid, {"type": "refresh"})

    # -- channel callbacks ----------------------------------------------------------------
    def _config(self) -> dict:
        return {"platform_matches": platform_matches(self.platform_url)}

    def _peer(self, peer: Peer, up: bool) -> None:
        if up:
            self.state.connected(peer.browser_pid, peer.browser)
        else:
            self.state.disconnected(peer.browser_pid)
            state = self.state.browsers.get(peer.browser_pid)
            if (state is None or state.connections == 0) and self.focus.browser_gone(peer.browser_pid):
                self.on_focus_required(self.focus.required)
        self.on_change()

    def _refused(self, reason: str, pid: int | None) -> None:
        process = ""
        if isinstance(pid, int):
            import psutil

            try:
                process = psutil.Process(pid).name()
            except (psutil.Error, ValueError):
                pass
        self.record(event("extension_forged", reason=reason, pid=pid, process=process, level="alert"))

    def _message(self, peer: Peer, message: dict) -> None:
        state = self.state.heard(peer.browser_pid, message)
        if state is None:
            return
        kind = message.get("type")
        if kind == "hello":
            with self._lock:
                first = peer.browser_pid not in self._hello
                self._hello.add(peer.browser_pid)
            silent_s = self._back()
            if first or silent_s is not None:
                details = {"silent_s": silent_s} if silent_s is not None else {}
                self.record(event("extension_connected", browser=peer.browser, version=state.version, **details))
        elif kind == "active":
            log.debug("extension: %s window %s tab %s", message.get("reason"), state.focused_window,
                     state.active.where if state.active else None)
            self.on_change()
        elif kind == "phase":
            self._phase(message)
        elif kind == "focus":
            self._focus(peer, message)
        elif kind in ("devtools_opened", "devtools_closed"):
            self._devtools_event(kind, message)
        if kind == "tab_closed" and isinstance(message.get("tab"), int) \
                and self.focus.tab_closed(peer.browser_pid, message["tab"]):
            self.on_focus_required(self.focus.required)
        if kind in ("tab_opened", "tab_closed") and self.armed():
            where = tab_of(message).where
            judged = self.policy.for_host(where) if where else None
            self.record(event(kind, host=where, category=judged.category if judged else "unknown", level="journal"))
        if kind == "tab_closed":
            # the last tab of a forbidden site may be gone: its act ends (companion/acts.py), so
            # opening the site again is a new act, a new alert
            self.on_change()

    def _phase(self, message: dict) -> None:
        tab = tab_of(message)
        if tab.scheme not in ("http", "https") or not self.policy.is_exam_host(tab.where):
            log.warning("exam phase from a page that is not the platform's: %s", tab.where)
            return
        phase = {"start": "started", "stop": "ended"}.get(message.get("phase"))
        if phase:
            self.on_phase(phase, source="extension", host=tab.where)

    def _focus(self, peer: Peer, message: dict) -> None:
        """The platform's page says whether its question requires focus (a boolean)."""
        tab, required = tab_of(message), message.get("required")
        if not isinstance(required, bool) or tab.tab is None:
            return
        if tab.scheme not in ("http", "https") or not self.policy.is_exam_host(tab.where):
            log.warning("focus requirement from a page that is not the platform's: %s", tab.where)
            return
        if self.focus.heard(peer.browser_pid, tab.tab, required):
            log.info("the platform's question %s focus", "requires" if self.focus.required else "no longer requires")
            self.on_focus_required(self.focus.required)

    def reset_focus(self) -> None:
        """The exam phase ended (or the companion stops cleanly): no question is on screen."""
        if self.focus.reset():
            self.on_focus_required(False)

    def _devtools_event(self, kind: str, message: dict) -> None:
        tab = tab_of(message)
        exam = tab.scheme in ("http", "https") and self.policy.is_exam_host(tab.where)
        if kind == "devtools_opened":
            self._devtools[tab.tab or -1] = (tab.where, self.clock())
            level = "alert" if exam and self.armed() else "journal"
            self.record(event(kind, host=tab.where, exam=exam, level=level))
        else:
            _, opened = self._devtools.pop(tab.tab or -1, ("", self.clock()))
            self.record(event(kind, host=tab.where, exam=exam, open_s=round(self.clock() - opened, 3),
                              level="journal"))

    # -- silence and absence --------------------------------------------------------------
    def check(self, started: float) -> None:
        now = self.clock()
        if not self.state.ever and not self._absent_reported and now - started >= self.absent_after_s:
            self._absent_reported = True
            self.record(event("extension_absent", browser="", after_s=round(now - started, 1)))
        silenced = []
        with self.state._lock:
            for state in self.state.browsers.values():
                if state.silent:
                    continue
                gone = state.connections == 0 and state.gone_at is not None and now - state.gone_at >= self.gone_grace_s
                quiet = state.connections > 0 and now - state.last_seen >= self.state.silent_after_s
                if gone or quiet:
                    state.silent, state.silent_at = True, (state.gone_at if gone else state.last_seen)
                    silenced.append((state, "disconnected" if gone else "no_heartbeat"))
        for state, reason in silenced:
            self.record(event("extension_silent", browser=state.browser, reason=reason,
                              silent_s=round(max(0.0, now - (state.silent_at or now)), 3),
                              level="alert" if self.armed() else "notice"))
            self.on_change()

    def _back(self) -> float | None:
        """A hello after a silence (the same browser or another one): the extension is back;
        returns how long it was silent (None: it was not)."""
        now = self.clock()
        back = []
        with self.state._lock:
            for pid, state in list(self.state.browsers.items()):
                if state.silent:
                    state.silent = False
                    back.append(state)
                    if state.connections == 0:      # that browser is gone: another one took over
                        del self.state.browsers[pid]
        if not back:
            return None
        return round(max(0.0, max(now - (state.silent_at or now) for state in back)), 3)
