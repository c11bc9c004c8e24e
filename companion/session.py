"""The companion's loop: watchers -> events -> durable outbox -> server; heartbeats.

Facts read: none directly; it wires the watchers (focus, forbidden software, network), the
outbox (``state_dir()/outbox.sqlite``, kind "event") and the server client
(``agent.client.ApiClient``). Every event is written to the outbox FIRST and to a local
journal (``state_dir()/companion-journal.jsonl``, the machine's own record of the session),
and leaves the outbox only when the server acknowledged it, so a server outage, a
restart of either side or a network cut loses nothing and the server's idempotence on
event ids keeps replays from counting twice.
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
from companion.bandwidth import make_client as bandwidth_client
from companion.extwatch import ExtensionWatcher
from companion.focus import DEFAULT_EXAM_TITLE, FocusTracker, FocusWatcher, Foreground
from companion.network import NetworkWatcher
from companion.roomsettings import RoomFollower
from companion.processes import ForbiddenWatcher, load_catalog, metadata_reader

log = logging.getLogger("examroom.companion")

BATCH = 200
MAX_BACKOFF_S = 5.0
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


JOURNAL_MAX_BYTES = 20 * 2**20


def _open_journal(path: Path):
    """The local record of every event; at start, a journal past 20 MiB (years of sessions)
    becomes ``.1`` (replacing the previous one) so the disk never fills up."""
    try:
        if path.stat().st_size > JOURNAL_MAX_BYTES:
            path.replace(path.with_suffix(path.suffix + ".1"))
    except OSError:
        pass
    return path.open("a", encoding="utf-8")


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
        self._journal = _open_journal(self.home / "companion-journal.jsonl")
        self._journal_lock = threading.Lock()
        self.status = Status()
        self.stop_event = threading.Event()
        self._wake = threading.Event()
        self.own_pids: set[int] = {os.getpid()}
        if config.policy is None:
            from companion.classify import Policy

            config.policy = Policy.load(platform_url=config.platform_url)
        self.extension = ExtensionWatcher(self.home, record=self.record, policy=config.policy,
                                          platform_url=config.platform_url, on_phase=self.exam_phase,
                                          on_change=self._browser_changed, armed=lambda: self.tracker.armed)
        self.tracker = FocusTracker(exam_title=config.exam_title, emit=self.record, own_pids=self.own_pids,
                                    policy=config.policy, extension=self.extension.state, settle_s=config.settle_s,
                                    ask_browser=self.extension.refresh)
        self.forbidden = forbidden or ForbiddenWatcher(load_catalog(os_name), self.record,
                                                        interval_s=config.process_interval_s,
                                                        metadata=metadata_reader(os_name), find_installed=True)
        self.network = (NetworkWatcher(config.platform_url, self.record, interval_s=config.net_interval_s,
                                       down_after=config.net_down_after, proxy_for=proxy_for)
                        if config.platform_url else None)
        self._threads: list[threading.Thread] = []
        self._enrolled: set[int] = set()   # ids of the clients that hold a token
        self._flush_lock = threading.Lock()
        # events the outbox could not take (disk full, file locked): kept in memory and put
        # in the outbox again by the sender before anything else, never dropped
        self._unsaved: list[dict] = []
        self._unsaved_lock = threading.Lock()
        self.exam_state = ExamState(self.home)
        # the room-wide bandwidth test: a long poll of its own (a client of its own, like the
        # heartbeats'), a download when the supervisor asks; only with a real server client
        from agent.client import ApiClient

        self.bandwidth = (BandwidthWatcher(lambda: bandwidth_client(config.server, config.ca_file, config.lang),
                                           enrol=self._enrol) if isinstance(client, ApiClient) else None)
        self.room = RoomFollower(config)   # companion/roomsettings.py

    # -- events ---------------------------------------------------------------------------
    def record(self, ev: Event) -> None:
        """Durable first (outbox), then the journal, then wake the sender."""
        # typed and clipped as the kind's spec declares (core/data/kinds.toml), as the server will
        ev = Event(id=ev.id, kind=ev.kind, at=ev.at,
                   details=kinds().clean(ev.kind, {k: _clip(v) for k, v in ev.details.items()}))
        wire = ev.wire()
        # never raises into a watcher: a watcher that already changed its state (the tracker
        # is now "away") would otherwise lose the event for good
        try:
            self._save_unsaved()
            self.outbox.put("event", wire, item_id=ev.id)
        except Exception as exc:  # sqlite3 "disk full", "database is locked", an I/O error
            log.error("outbox unavailable, event %s kept in memory: %s", ev.id, exc)
            with self._unsaved_lock:
                self._unsaved.append(wire)
        try:
            with self._journal_lock:
                if not self._journal.closed:  # a watcher thread that outlived stop()'s deadline
                    self._journal.write(json.dumps(wire, ensure_ascii=False) + "\n")
                    self._journal.flush()
        except (OSError, ValueError) as exc:  # the journal is a copy: its loss is not the event's
            log.error("companion journal: %s", exc)
        log.info("event %s %s", ev.kind, json.dumps(ev.details, ensure_ascii=False))
        self._wake.set()

    def _save_unsaved(self) -> None:
        """Put the events the outbox refused earlier into it, oldest first (raises if it still
        cannot: they stay in memory)."""
        with self._unsaved_lock:
            while self._unsaved:
                wire = self._unsaved[0]
                self.outbox.put("event", wire, item_id=wire["id"])
                self._unsaved.pop(0)

    def pending_count(self) -> int:
        with self._unsaved_lock:
            unsaved = len(self._unsaved)
        try:
            return self.outbox.count("event") + unsaved
        except Exception:
            return unsaved

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
        self._spawn("sender", self._sender_loop)
        self._spawn("heartbeat", self._heartbeat_loop)
        self._spawn("processes", self.forbidden.run, self.stop_event)
        if self.network is not None:
            self._spawn("network", self.network.run, self.stop_event)
        if self.focus_watcher is not None:
            self._spawn("focus", self._focus_loop)
        self._spawn("extension", self.extension.run, self.stop_event)
        self._spawn("settle", self._settle_loop)
        if self.bandwidth is not None:
            self._spawn("bandwidth", self.bandwidth.run, self.stop_event)

    def _browser_changed(self) -> None:
        if hasattr(self, "tracker"):
            self.tracker.browser_changed()
            self._exam_seen()

    def _settle_loop(self) -> None:
        while not self.stop_event.wait(SETTLE_TICK_S):
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

    def _focus_loop(self) -> None:
        while not self.stop_event.is_set():
            try:
                self.focus_watcher.run(self.on_focus, self.stop_event)
            except Exception as exc:  # the X server restarted, a session change...: retry
                log.warning("focus watcher (%s) stopped: %s", self.focus_watcher.name, exc)
            self.stop_event.wait(5.0)

    def stop(self, reason: str, flush_s: float = 3.0) -> None:
        """Record ``companion_stopped``, stop the loops, try to deliver what is pending."""
        if self.stop_event.is_set():
            return
        self.stop_event.set()
        self._wake.set()
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
        self.record(event("companion_stopped", reason=reason))
        deadline = time.monotonic() + flush_s
        while self.pending_count() and time.monotonic() < deadline:
            try:
                if not self._flush_once():
                    break
            except Exception as exc:  # the outbox keeps what it holds: stopping goes on
                log.error("final delivery failed: %s", exc)
                break
        self.status.pending = self.pending_count()
        if self.network is not None:
            self.network.close()
        with self._journal_lock:
            self._journal.close()

    # -- server ---------------------------------------------------------------------------
    def _enrol(self, client: Any = None) -> bool:
        client = client or self.client
        if id(client) in self._enrolled:
            return True
        from agent.client import ServerRefused, ServerUnreachable

        try:
            self.status.machine_id = client.ensure_enrolled(self.config.room, self.machine)
        except ServerUnreachable as exc:
            log.info("server unreachable for enrolment: %s", exc)
            self.status.server_ok = False
            return False
        except ServerRefused as exc:
            log.warning("enrolment refused: %s", exc)
            self.status.server_ok = True
            return False
        self._enrolled.add(id(client))
        self.status.enrolled = True
        return True

    def _flush_once(self) -> bool:
        """Send one batch; True when the server took it (or there was nothing to send)."""
        # the final flush at stop may overlap a sender still waiting on the network: one at a time
        with self._flush_lock:
            return self._flush_locked()

    def _flush_locked(self) -> bool:
        from agent.client import ServerRefused, ServerUnreachable

        try:
            self._save_unsaved()
        except Exception as exc:
            log.error("outbox still unavailable: %s", exc)
        if not self._enrol():
            return False
        if not self._send_unsaved():
            return False
        batch = self.outbox.peek("event", BATCH)
        if not batch:
            return True
        try:
            self.client.post_events([payload for _, payload in batch])
        except ServerUnreachable as exc:
            log.info("server unreachable, %d event(s) kept: %s", len(batch), exc)
            self.status.server_ok = False
            return False
        except ServerRefused as exc:
            self.status.server_ok = True
            self._refused(batch, exc)
            return False
        self.outbox.ack([item for item, _ in batch])
        self.status.server_ok = True
        self.status.pending = self.pending_count()
        return True

    def _send_unsaved(self) -> bool:
        """While the outbox cannot store, the events kept in memory go straight to the server
        (its idempotence on ids makes a later copy from the outbox harmless)."""
        from agent.client import ServerRefused, ServerUnreachable

        with self._unsaved_lock:
            batch = list(self._unsaved[:BATCH])
        if not batch:
            return True
        try:
            self.client.post_events(batch)
        except ServerUnreachable as exc:
            log.info("server unreachable, %d unsaved event(s) kept in memory: %s", len(batch), exc)
            self.status.server_ok = False
            return False
        except ServerRefused as exc:
            log.error("server refused unsaved events (kept in memory): %s", exc)
            self.status.server_ok = True
            return False
        sent = {wire["id"] for wire in batch}
        with self._unsaved_lock:
            self._unsaved = [wire for wire in self._unsaved if wire["id"] not in sent]
        self.status.server_ok = True
        return True

    def _refused(self, batch: list[tuple[str, dict]], exc: Exception) -> None:
        """A 4xx: the server cannot take one of them. Send one by one; an event it refuses
        alone is kept aside (kind "event_refused") rather than lost or retried forever."""
        from agent.client import ServerRefused, ServerUnreachable

        if getattr(exc, "status", None) in (401, 403):
            # the token is no longer valid and the client could not enrol again by itself
            self._enrolled.discard(id(self.client))
            log.warning("server refused our token: %s", exc)
            return
        for item, payload in batch:
            try:
                self.client.post_events([payload])
            except ServerRefused as single:
                log.error("server refused event %s: %s", item, single)
                # its own id: the outbox's ids are unique across kinds, and the original goes below
                self.outbox.put("event_refused", {"event": payload, "error": str(single)}, item_id=f"refused-{item}")
            except ServerUnreachable:
                return
            self.outbox.ack([item])

    def _sender_loop(self) -> None:
        backoff = 0.25
        while not self.stop_event.is_set():
            if self._flush_once():
                backoff = 0.25
                if self.pending_count() == 0:
                    self._wake.wait(1.0)
                    self._wake.clear()
                continue
            self.stop_event.wait(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_S)

    def heartbeat_payload(self) -> dict[str, Any]:
        net = self.network.state if self.network else None
        focus = self.tracker.snapshot()
        return {
            "at": utc_iso(),
            "interval_s": self.config.heartbeat_s,
            "net": {"up": net.up if net else None, "latency_ms": net.latency_ms if net else None,
                    "platform_url": self.config.platform_url},
            "focus": {"exam": focus["exam"], "title": _clip(focus["title"]), "process": _clip(focus["process"]),
                      "category": focus["category"], "level": focus["level"], "host": focus["host"]},
            "extension": self.extension.snapshot(),
            "forbidden": self.forbidden.names(),
            "companion_version": __version__,
            "pending_events": self.pending_count(),
            "exam_phase": self.status.exam_phase,
            "window_focused": self.status.window_focused,
            "errors": self.status.errors,
            "last_error": self.status.last_error,
        }

    def _heartbeat_loop(self) -> None:
        from agent.client import ServerRefused, ServerUnreachable

        while not self.stop_event.is_set():
            started = time.monotonic()
            if self._enrol(self.heartbeat_client):
                try:
                    sent = time.monotonic()
                    answer = self.heartbeat_client.heartbeat(self.room.payload(self.heartbeat_payload()))
                    self.room.answered(answer, time.monotonic() - sent)   # the room's settings
                    self.status.server_ok = True
                except ServerUnreachable:
                    self.status.server_ok = False
                except ServerRefused as exc:
                    log.warning("heartbeat refused: %s", exc)
                    if getattr(exc, "status", None) in (401, 403):
                        self._enrolled.discard(id(self.heartbeat_client))
            self.stop_event.wait(max(0.1, self.config.heartbeat_s - (time.monotonic() - started)))

    # -- signals from the exam page and the status window ---------------------------------
    def exam_phase(self, phase: str, **details: Any) -> None:
        self.status.exam_phase = phase
        self.record(event(f"exam_{phase}", **details))
        if phase == "started":
            self.tracker.arm()   # after the start event: an absence in progress follows it
            self.exam_state.save(fresh=True)
        elif phase == "ended":
            self.tracker.disarm()
            self.exam_state.clear()

    def set_focus_required(self, required: bool) -> None:
        self.status.focus_required = required
        self.tracker.set_focus_required(required)

    def phase_forged(self, path: str, origin: str | None) -> None:
        """A phase change posted to the loopback endpoint: refused (any local program can send
        one, with any Origin), and shown to the supervisor, since someone tried."""
        self.record(event("exam_phase_forged", path=path[:64], origin=(origin or "")[:256], level="alert"))
