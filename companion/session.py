"""The companion's session: watchers -> events -> durable outbox -> server; heartbeats.

Facts read: none directly. ``Session`` owns the list of watchers (``companion/watchers.py``:
each has ``name``, ``run(stop)``, ``snapshot()``; focus, the browser extension, forbidden
software, the platform's reachability, the room's bandwidth test) and runs each in its own
guarded thread; what they report goes through ``record``: the outbox first and the server
next (``companion/delivery.py``), a copy in the machine's journal (``companion/journal.py``).
It also keeps the exam phase and whether the question on screen requires focus (both from
the platform's page, through the extension) and the exam state across a crash
(``companion/examstate.py``).
"""
from __future__ import annotations

import json
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from core import __version__
from agent.outbox import Outbox
from core.state import state_dir
from core.kinds import kinds
from core.events import Event, event, utc_iso
from companion.examstate import ExamState
from companion.bandwidth import BandwidthWatcher
from companion.acts import Acts
from companion.bandwidth import make_client as bandwidth_client
from companion.extwatch import ExtensionWatcher
from companion.delivery import Delivery
from companion.focus import DEFAULT_EXAM_TITLE, FocusTracker, FocusWatcher, Foreground
from companion.journal import FILE as JOURNAL_FILE, Journal
from companion.watchers import Loop, Watcher
from companion.network import NetworkWatcher
from companion.roomsettings import RoomFollower
from companion.processes import ForbiddenWatcher, load_catalog, metadata_reader

log = logging.getLogger("examroom.companion")

TEXT_MAX = 1000   # titles can be long (a web page's title); the server caps strings
# a loop that crashed is restarted after this pause (no busy crash loop), doubled at each
# new failure up to the maximum
ERROR_RESTART_S = 1.0
ERROR_RESTART_MAX_S = 30.0
# a place must hold this long to count: a new tab is "Untitled" then its page, and the window
# manager and the extension report one switch a few ms apart (events carry where one went)
SETTLE_S = 0.25
SETTLE_TICK_S = 0.05
# what a clean stop is (the exam state is then cleared); a crash or kill leaves no reason
CLEAN_STOPS = ("sigterm", "interrupt", "stopped")


@dataclass
class CompanionConfig:
    server: str
    room: str
    platform_url: str | None = None
    exam_title: str = DEFAULT_EXAM_TITLE
    heartbeat_s: float = 2.0
    ca_file: str | None = None
    lang: str = "fr"
    process_interval_s: float = 0.5
    net_interval_s: float = 3.0
    net_down_after: int = 2
    policy: Any = None   # companion.classify.Policy (--policy FILE); None: the bundled one
    settle_s: float = SETTLE_S


@dataclass
class Status:
    """What the status window and the local API show; updated by the loops."""

    server_ok: bool | None = None
    enrolled: bool = False
    machine_id: str | None = None
    pending: int = 0
    exam_phase: str | None = None          # "started" / "ended", from the exam page
    focus_required: bool = False
    window_focused: bool | None = None
    errors: int = 0                        # loops that died on an unexpected error (restarted)
    last_error: str | None = None


def _child_of_us(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).ppid() == os.getpid()
    except (psutil.Error, ValueError):
        return False


def _clip(value: Any) -> Any:
    return value[:TEXT_MAX] if isinstance(value, str) else value


class Session:
    def __init__(self, config: CompanionConfig, *, client: Any, machine: Any,
                 focus_watcher: FocusWatcher | None, os_name: str, home: Path | None = None,
                 forbidden: ForbiddenWatcher | None = None, heartbeat_client: Any = None,
                 proxy_for: Callable[[str], str | None] | None = None) -> None:
        self.config = config
        self.client = client
        # a second client for heartbeats: its HTTP session is not shared between threads, and
        # a slow heartbeat never delays the delivery of events
        self.heartbeat_client = heartbeat_client or client
        self.machine = machine
        self.focus_watcher = focus_watcher
        self.home = home or state_dir()
        self.outbox = Outbox(self.home / "outbox.sqlite")
        self.journal = Journal(self.home / JOURNAL_FILE)
        self.status = Status()
        self.stop_event = threading.Event()
        self.delivery = Delivery(outbox=self.outbox, client=client, room=config.room, machine=machine,
                                 status=self.status, stop=self.stop_event)
        self.own_pids: set[int] = {os.getpid()}
        if config.policy is None:
            from companion.classify import Policy

            config.policy = Policy.load(platform_url=config.platform_url)
        self.extension = ExtensionWatcher(self.home, record=self.record, policy=config.policy,
                                          platform_url=config.platform_url, on_phase=self.exam_phase,
                                          on_change=self._browser_changed, armed=lambda: self.tracker.armed,
                                          on_focus_required=self.set_focus_required)
        # one alert per act (companion/acts.py): shared by the focus tracker and the process watcher
        self.acts = Acts(open_hosts=self.extension.state.open_hosts)
        self.tracker = FocusTracker(exam_title=config.exam_title, emit=self.record, own_pids=self.own_pids,
                                    policy=config.policy, extension=self.extension.state, settle_s=config.settle_s,
                                    ask_browser=self.extension.refresh, acts=self.acts)
        self.forbidden = forbidden or ForbiddenWatcher(load_catalog(os_name), self.record,
                                                        interval_s=config.process_interval_s,
                                                        metadata=metadata_reader(os_name), find_installed=True)
        if getattr(self.forbidden, "acts", False) is None:
            self.forbidden.acts = self.acts
        self.network = (NetworkWatcher(config.platform_url, self.record, interval_s=config.net_interval_s,
                                       down_after=config.net_down_after, proxy_for=proxy_for)
                        if config.platform_url else None)
        self._threads: list[threading.Thread] = []
        self.exam_state = ExamState(self.home)
        # the room-wide bandwidth test: a long poll of its own (a client of its own, like the
        # heartbeats'), a download when the supervisor asks; only with a real server client
        from agent.client import ApiClient

        self.bandwidth = (BandwidthWatcher(lambda: bandwidth_client(config.server, config.ca_file, config.lang),
                                           enrol=self._enrol) if isinstance(client, ApiClient) else None)
        self.room = RoomFollower(config)   # companion/roomsettings.py
        self.watchers: list[Watcher] = self._watchers()

    def _watchers(self) -> list[Watcher]:
        """Everything that watches, in start order (a new watcher is one more line here)."""
        # lambdas, not bound methods: a watcher replaced after construction (tests) is the one run
        found: list[Watcher] = [Loop("processes", lambda stop: self.forbidden.run(stop),
                                     lambda: {"forbidden": self.forbidden.names()})]
        if self.network is not None:
            network = self.network
            found.append(Loop("network", lambda stop: network.run(stop), lambda: {"up": network.state.up,
                                                               "latency_ms": network.state.latency_ms}))
        if self.focus_watcher is not None:
            found.append(Loop("focus", self._focus_loop, self.tracker.snapshot))
        found.append(self.extension)
        found.append(Loop("settle", self._settle_loop))
        if self.bandwidth is not None:
            bandwidth = self.bandwidth
            found.append(Loop("bandwidth", lambda stop: bandwidth.run(stop)))
        return found

    # -- events ---------------------------------------------------------------------------
    def record(self, ev: Event) -> None:
        """Durable first (outbox), then the journal, then wake the sender."""
        # typed and clipped as the kind's spec declares (core/data/kinds.toml), as the server will
        ev = Event(id=ev.id, kind=ev.kind, at=ev.at,
                   details=kinds().clean(ev.kind, {k: _clip(v) for k, v in ev.details.items()}))
        wire = ev.wire()
        self.delivery.put(wire)
        self.journal.write(wire)
        log.info("event %s %s", ev.kind, json.dumps(ev.details, ensure_ascii=False))

    def pending_count(self) -> int:
        return self.delivery.pending_count()

    def _flush_once(self) -> bool:
        return self.delivery.flush_once()

    def _enrol(self, client: Any = None) -> bool:
        return self.delivery.enrol(client)

    def on_focus(self, fg: Foreground) -> None:
        if fg.pid is not None and fg.pid not in self.own_pids and _child_of_us(fg.pid):
            # our status window (a child process) can take focus before its pid is known here
            self.own_pids.add(fg.pid)
        self.tracker.update(fg)
        self._exam_seen()

    def _resume_exam(self) -> bool:
        if not self.exam_state.in_progress():
            return False
        self.tracker.armed = True
        return True

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        watcher_name = self.focus_watcher.name if self.focus_watcher else "none"
        resumed = self._resume_exam()
        self.record(event("companion_started", version=__version__, exam_title_pattern=self.config.exam_title,
                          heartbeat_s=self.config.heartbeat_s,
                          platform_url=self.config.platform_url, watcher=watcher_name, exam_in_progress=resumed))
        self._spawn("sender", self.delivery.sender_loop)
        # the room's settings (companion/roomsettings.py) ride on the heartbeat and its answer
        self._spawn("heartbeat", self.delivery.heartbeat_loop, self.heartbeat_client,
                    lambda: self.room.payload(self.heartbeat_payload()), lambda: self.config.heartbeat_s,
                    self.room.answered)
        for watcher in self.watchers:
            self._spawn(watcher.name, watcher.run, self.stop_event)

    def _browser_changed(self) -> None:
        if hasattr(self, "acts"):
            self.acts.prune()   # a tab closed: the act of its site may be over
        if hasattr(self, "tracker"):
            self.tracker.browser_changed()
            self._exam_seen()

    def _settle_loop(self, stop: threading.Event) -> None:
        while not stop.wait(SETTLE_TICK_S):
            self.tracker.tick()
            self._exam_seen()

    def _exam_seen(self) -> None:
        if self.tracker.armed and not self.exam_state.saved:
            self.exam_state.save()

    def _spawn(self, name: str, target: Callable, *args: Any) -> None:
        thread = threading.Thread(target=self._guarded, args=(name, target, *args), name=f"companion-{name}",
                                  daemon=True)
        thread.start()
        self._threads.append(thread)

    def _guarded(self, name: str, target: Callable, *args: Any) -> None:
        """Run a loop until stop; an unexpected exception is logged, reported (a
        ``companion_error`` event and the heartbeat's ``errors``) and the loop restarted, so
        one faulty watcher never silences the others nor the companion. A loop that keeps
        failing the same way is restarted less and less often and reported once, not every
        second (a broken outbox file would otherwise flood the supervisor's journal)."""
        pause, reported = ERROR_RESTART_S, None
        while not self.stop_event.is_set():
            try:
                target(*args)
                return
            except Exception as exc:
                self.status.errors += 1
                self.status.last_error = f"{name}: {type(exc).__name__}: {exc}"[:TEXT_MAX]
                log.exception("companion %s loop failed, restarting it in %.0f s", name, pause)
                if self.status.last_error != reported:
                    reported = self.status.last_error
                    try:
                        self.record(event("companion_error", loop=name, error=reported))
                    except Exception:  # reporting must not be what kills the thread
                        log.exception("could not record the error of the %s loop", name)
            self.stop_event.wait(pause)
            pause = min(pause * 2, ERROR_RESTART_MAX_S)

    def _focus_loop(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.focus_watcher.run(self.on_focus, stop)
            except Exception as exc:  # the X server restarted, a session change...: retry
                log.warning("focus watcher (%s) stopped: %s", self.focus_watcher.name, exc)
            stop.wait(5.0)

    def stop(self, reason: str, flush_s: float = 3.0) -> None:
        """Record ``companion_stopped``, stop the loops, try to deliver what is pending."""
        if self.stop_event.is_set():
            return
        self.stop_event.set()
        self.delivery.wake.set()
        # watchers first, so that companion_stopped is the last event this run records; one
        # shared deadline: a service manager kills what does not stop within ~10 s
        joined_by = time.monotonic() + 3.0
        for thread in self._threads:
            thread.join(timeout=max(0.0, joined_by - time.monotonic()))
        if reason in CLEAN_STOPS:
            if self.tracker.armed:
                # the companion stopped during an exam the platform did not say had ended
                self.record(event("exam_end_unsignalled", reason=reason, level="alert"))
            # a clean stop ends the session: the next candidate's companion starts afresh
            self.exam_state.clear()
            self.extension.reset_focus()
        self.record(event("companion_stopped", reason=reason))
        self.delivery.final_flush(flush_s)
        if self.network is not None:
            self.network.close()
        self.journal.close()

    # -- server ---------------------------------------------------------------------------
    def heartbeat_payload(self) -> dict[str, Any]:
        net = self.network.state if self.network else None
        focus = self.tracker.snapshot()
        return {
            "at": utc_iso(),
            "interval_s": self.config.heartbeat_s,
            "net": {"up": net.up if net else None, "latency_ms": net.latency_ms if net else None,
                    "platform_url": self.config.platform_url},
            "focus": {"exam": focus["exam"], "title": _clip(focus["title"]), "process": _clip(focus["process"]),
                      "category": focus["category"], "level": focus["level"], "host": focus["host"],
                      # the platform's current question requires focus (the tile says so even on the exam)
                      "focus_required": self.status.focus_required},
            "extension": self.extension.snapshot(),
            "forbidden": self.forbidden.names(),
            "companion_version": __version__,
            "pending_events": self.pending_count(),
            "exam_phase": self.status.exam_phase,
            "window_focused": self.status.window_focused,
            "errors": self.status.errors,
            "last_error": self.status.last_error,
        }

    # -- signals from the exam page and the status window ---------------------------------
    def exam_phase(self, phase: str, **details: Any) -> None:
        if phase != self.status.exam_phase:
            # a new phase: nothing done before counts as already alerted (a repeated "started",
            # e.g. the exam page reloaded, keeps the phase's acts, so an act does not alert twice)
            self.acts.reset()
        self.status.exam_phase = phase
        self.record(event(f"exam_{phase}", **details))
        if phase == "started":
            self.tracker.arm()   # after the start event: an absence in progress follows it
            self.exam_state.save(fresh=True)
        elif phase == "ended":
            self.tracker.disarm()
            self.exam_state.clear()
            self.extension.reset_focus()   # a question's requirement belongs to this exam phase

    def set_focus_required(self, required: bool) -> None:
        """Only the extension calls this (the platform page's marker, companion/focusreq.py)."""
        self.status.focus_required = required
        self.tracker.set_focus_required(required)

    def phase_forged(self, path: str, origin: str | None) -> None:
        """A phase change posted to the loopback endpoint: refused (any local program can send
        one, with any Origin), and shown to the supervisor, since someone tried."""
        self.record(event("exam_phase_forged", path=path[:64], origin=(origin or "")[:256], level="alert"))
