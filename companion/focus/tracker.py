"""Where the candidate is, judged, and the focus events it gives.

Facts: the window in front (a ``Foreground`` from the OS watcher) and, when the examroom
extension runs, what its browser says (``companion/extstate.py``). Judgement: the policy
(``companion/classify.py``). Events: ``focus_lost`` (the exam -> elsewhere), ``focus_moved``
(elsewhere -> elsewhere, still away), ``focus_regained`` (back to the exam), each with the
``category``, ``level``, ``source`` and ``host`` or program of where the candidate is, and
the time spent in the place left (``previous_s``), so the journal shows each step.

Rules, and why:
- The exam is a browser window that the extension confirms is on a platform host; a title
  alone never makes a window the exam (a terminal, a second browser or a second tab titled
  "Pix" are departures, named by their program or host). Without the extension (not
  installed, or silent), the fallback is the old rule: a browser's window whose title matches.
- A window of the extension's browser while that browser says no window of its own has the
  focus is one of the browser's own windows (Save as, downloads, DevTools): a tool.
- A screen locker or any override-redirect window covering the screen is a departure.
- A dialog (Save as, Open, Print) is a step of its own, named by its program and role, never
  by its title (a file name); it is what its program is (the browser's own dialogs: tools).
- One alert per act (companion/acts.py): going back to a forbidden program or site already
  alerted in this phase, while it still runs or is open, is a notice naming that alert.
- A place must hold ``settle_s`` before it counts: a new tab is "Untitled" then its page,
  the window manager and the extension report a switch a few ms apart; the event carries
  where the candidate went, not the first transient title.
- No event before the exam was seen once or the platform said the test started; none after
  the platform said it ended, until it starts again. Our own windows never count.
"""
from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from core.events import Event, event
from companion.acts import host_key, pid_key, program_key
from companion.focus.base import Foreground, compile_exam_title, is_browser

TOOL = "tool"
# what a new tab or window says for an instant before its page's title: such a place counts
# only if it holds TRANSIENT_FACTOR times longer (the window path; the extension reports hosts)
TRANSIENT = re.compile(r"^\s*(untitled|new tab|nouvel onglet|sans titre|about:blank|loading|chargement)?"
                       r"\s*([-–—]\s*[^-–—]*)?$", re.IGNORECASE)
TRANSIENT_FACTOR = 4


@dataclass(frozen=True)
class Place:
    exam: bool
    category: str
    level: str
    source: str
    label: str
    host: str = ""
    process: str = ""
    title: str = ""
    pid: int | None = None        # the window's process (ties it to a forbidden program's act)
    role: str = ""                # "dialog": a program's dialog window (Save as, Open...), a step of its own

    def same(self, other: "Place | None") -> bool:
        return other is not None and (self.exam, self.category, self.source, self.label, self.host, self.process,
                                      self.role) == (other.exam, other.category, other.source, other.label,
                                                     other.host, other.process, other.role)

    def details(self) -> dict[str, Any]:
        out = {"title": self.title, "process": self.process, "category": self.category, "level": self.level,
               "source": self.source, "label": self.label}
        if self.host:
            out["host"] = self.host
        elif self.source != "extension" and self.label:
            out["program"] = self.label   # the policy's name for it ("LibreOffice", "Discord")
        if self.role:
            out["role"] = self.role
        return out


def default_policy() -> Any:
    from companion.classify import Policy

    return Policy.load()


@dataclass
class FocusTracker:
    exam_title: str
    emit: Callable[[Event], None]
    own_pids: set[int] | frozenset[int] = frozenset()
    clock: Callable[[], float] = time.monotonic
    policy: Any = None               # companion.classify.Policy; None: the bundled one
    extension: Any = None            # companion.extstate.ExtensionState, when the companion runs one
    settle_s: float = 0.0
    ask_browser: Callable[[int], None] | None = None   # "which of your windows has the focus?"
    acts: Any = None                 # companion.acts.Acts: one alert per act
    armed: bool = False
    ended: bool = False              # the platform said the test ended: seeing the exam re-arms nothing
    focus_required: bool = False     # the current question requires focus
    current: Foreground | None = None
    place: Place | None = None
    since: float = 0.0               # when the current place began
    left_at: float | None = None     # when the current absence began (None: not away)
    pending: Place | None = None
    pending_at: float = 0.0
    required_alert: str | None = None   # this absence's alert given for the focus requirement
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def __post_init__(self) -> None:
        self._pattern = compile_exam_title(self.exam_title)
        if self.policy is None:
            self.policy = default_policy()

    @property
    def exam(self) -> bool | None:
        return None if self.place is None else self.place.exam

    # -- facts in ---------------------------------------------------------------------------
    def update(self, fg: Foreground) -> None:
        with self._lock:
            if fg.pid is not None and fg.pid in self.own_pids:
                return
            if fg == self.current:
                return
            self.current = fg
            self._evaluate()

    def browser_changed(self) -> None:
        """The extension said something that may change where the candidate is."""
        with self._lock:
            self._evaluate()

    def tick(self) -> None:
        """Commit a place that held long enough (the session calls this every ~50 ms)."""
        with self._lock:
            if self.pending is not None and self.clock() - self.pending_at >= self._settle(self.pending):
                place, self.pending = self.pending, None
                self._commit(place)

    def _settle(self, place: Place) -> float:
        if place.source != "extension" and not place.exam and TRANSIENT.match(place.title or ""):
            return self.settle_s * TRANSIENT_FACTOR
        return self.settle_s

    def arm(self) -> None:
        """The platform said the test started: from now on, leaving it counts."""
        with self._lock:
            self.armed, self.ended = True, False
            if self.place is not None and not self.place.exam and self.left_at is None:
                self._lost(self.place)

    def disarm(self) -> None:
        """The platform said the test ended: leaving the window no longer counts."""
        with self._lock:
            self.armed, self.ended, self.left_at = False, True, None

    def set_focus_required(self, required: bool) -> None:
        with self._lock:
            self.focus_required = required
            self._evaluate()

    # -- judging ----------------------------------------------------------------------------
    def is_exam(self, fg: Foreground) -> bool:
        """The fallback without the extension: a browser's window whose title matches."""
        if not self._pattern.search(fg.title or ""):
            return False
        return not fg.process or is_browser(fg.process)

    def judge(self, fg: Foreground) -> Place:
        required = self.focus_required
        app = dict(process=fg.process, exe=fg.exe, window_class=fg.window_class, title=fg.title)
        ext = self.extension
        owner = ext.owner(fg.pid) if ext is not None and not fg.overlay else None
        if owner is not None:
            if owner.focused_window == -1 or owner.active is None or fg.dialog:
                # the browser's own window (a file dialog, DevTools, the downloads bubble), or
                # a raise it did not report: ask (the answer comes well within the settle time)
                if self.ask_browser is not None:
                    self.ask_browser(owner.browser_pid)
                return Place(False, TOOL, self._tool_level(), "window", fg.process or "browser", process=fg.process,
                             title="" if fg.dialog else fg.title, role="dialog" if fg.dialog else "")
            tab = owner.active
            where = tab.where
            if tab.scheme in ("http", "https") and self.policy.is_exam_host(where):
                return Place(True, "exam", "journal", "extension", tab.host, host=where, process=fg.process)
            j = self.policy.for_host(where, focus_required=required)
            category, level = j.category, j.level
            if tab.pdf and category in ("unknown", "exam"):   # a PDF in the browser's viewer
                category, level = TOOL, "alert" if required else self.policy.levels.get(TOOL, "journal")
            # host: a web host only (a browser page such as file:// or chrome://newtab is its label)
            return Place(False, category, level, "extension", j.label, host=where if tab.scheme in ("http", "https") else "",
                         process=fg.process, title="", pid=fg.pid)   # a page's title is its content: not sent
        if not fg.overlay and not fg.dialog and (ext is None or not ext.live()) and self.is_exam(fg):
            return Place(True, "exam", "journal", "window", fg.title, process=fg.process, title=fg.title)
        if not (fg.title or fg.process or fg.window_class):
            # no window in front (the desktop, a minimized exam, the window closed)
            level = "alert" if required else self.policy.levels.get("unknown", "notice")
            return Place(False, "unknown", level, "window", "", title="")
        j = self.policy.for_app(focus_required=required, **app)
        if fg.dialog:
            return self._dialog(fg, j, app)
        return Place(False, j.category, j.level, j.source, j.label, process=fg.process, title=fg.title, pid=fg.pid)

    def _tool_level(self) -> str:
        return "alert" if self.focus_required else self.policy.levels.get(TOOL, "journal")

    def _dialog(self, fg: Foreground, titled: Any, app: dict) -> Place:
        """A program's dialog (Save as, Open, Print): a step of its own, named by its program and
        role only (its title often holds a file name). It is what its program is (LibreOffice's
        is a tool, Discord's is Discord); the browser's own dialogs are tools."""
        program = self.policy.for_app(focus_required=self.focus_required, **{**app, "title": ""})
        if program.category == "unknown" and (titled.category == TOOL or is_browser(fg.process)):
            return Place(False, TOOL, self._tool_level(), program.source, program.label, process=fg.process,
                         title="", pid=fg.pid, role="dialog")
        return Place(False, program.category, program.level, program.source, program.label, process=fg.process,
                     title="", pid=fg.pid, role="dialog")

    def _evaluate(self) -> None:
        if self.current is None:
            return
        place = self.judge(self.current)
        if place.same(self.place):
            self.pending = None
            if place != self.place:
                self.place = place        # same place, new title: no event
            return
        if self.settle_s <= 0:
            self._commit(place)
        elif not place.same(self.pending):
            self.pending, self.pending_at = place, self.clock()
        else:
            self.pending = place

    # -- events out -------------------------------------------------------------------------
    def _commit(self, place: Place) -> None:
        previous, now = self.place, self.clock()
        spent = round(max(0.0, now - self.since), 3) if previous is not None else None
        self.place, self.since = place, now
        if place.exam:
            self.armed = self.armed or not self.ended
            if self.left_at is not None:
                away = round(max(0.0, now - self.left_at), 3)
                self.left_at = None
                self.emit(event("focus_regained", away_s=away, previous_s=spent, **place.details()))
            return
        if not self.armed:
            return
        if self.left_at is None:
            self._lost(place)
        else:
            self.emit(self._one_alert_per_act(event(
                "focus_moved", previous_s=spent, previous_category=previous.category if previous else None,
                focus_required=self.focus_required, **place.details()), place))

    def _lost(self, place: Place) -> None:
        self.left_at = self.clock()
        self.emit(self._one_alert_per_act(event("focus_lost", exam_title_pattern=self.exam_title,
                                                focus_required=self.focus_required, **place.details()), place))

    def _one_alert_per_act(self, ev: Event, place: Place) -> Event:
        """A departure to a forbidden place is an act (companion/acts.py): the first signal of
        it is the alert, a later one (the program's process was already alerted, the same tab
        visited again) is a notice naming that alert. Departures that are alerts only because
        the question requires focus are each an alert of their own; the steps of one such
        departure (a new tab, then the search engine) are that act: notices naming its alert."""
        if ev.kind == "focus_lost":
            self.required_alert = None
        if place.level == "alert" and self.policy.levels.get(place.category) != "alert":
            # an alert only because the question requires focus: the departure is the act
            if self.required_alert is not None:
                ev.details.update(level="notice", act_of=self.required_alert)
            else:
                self.required_alert = ev.id
            return ev
        if self.acts is None or place.level != "alert":
            return ev
        if place.host:
            keys, pids, hosts = {host_key(place.host)}, set(), {place.host}
        else:
            keys = {program_key(place.label or place.process)}
            pids = {place.pid} if place.pid else set()
            if place.pid and not is_browser(place.process):
                keys.add(pid_key(place.pid))   # a browser's pid is every one of its sites
            hosts = set()
        first = self.acts.claim(ev.id, keys, pids=pids, hosts=hosts)
        if first is not None:
            ev.details.update(level="notice", act_of=first)
        return ev

    def snapshot(self) -> dict:
        with self._lock:
            fg, place = self.current, self.place
            return {"exam": self.exam, "title": fg.title if fg else None, "process": fg.process if fg else None,
                    "category": place.category if place else None, "level": place.level if place else None,
                    "host": place.host if place and place.host else None}
