"""Live state of each machine's companion, and the watchdog that notices lost ones.

Facts read: heartbeats (``POST /heartbeat``) and companion events, both already validated.
A companion is ``online`` while it heart-beats, ``lost`` once it has been silent for its
ROOM's lost timeout (the room's own, else the server's: core/roomsettings.py; 6 s by default,
so one killed -9 is reported after 6 to 7 s, within the 10 s promised) - never for longer
because the companion announced a slow
heartbeat (``--heartbeat 600`` would otherwise stay "online" for half an hour) - and
``never`` if it never sent one. Time is measured on the server's monotonic clock: agents'
clocks are not trusted for this; their offset is estimated (supervisor/clock.py) to show
their events' times on the server's clock.
Several server processes on one PostgreSQL database: the process a companion heart-beats to
owns its state; the others ``adopt`` what the owner tells them (supervisor/fanout.py) and
declare it lost only if they hear nothing for REMOTE_GRACE_S more (the owner died with it).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

from core.kinds import KindSpec, kinds
from core.roomsettings import RoomSettings
from supervisor.clock import ClockEstimate
from supervisor.models import HeartbeatIn

MIN_LOST_S = 6.0
CLOCK_FLAG_S = 60.0
# The owner saves (and announces) a live state at least every 10 s (service.SAVE_LAST_SEEN_S).
REMOTE_GRACE_S = 12.0
Key = tuple[str, str]  # (room code, machine id)


@dataclass
class LiveState:
    status: str = "never"
    last_beat: float | None = None
    last_seen: str | None = None
    interval_s: float = 2.0
    stopped: bool = False
    focus: str | None = None
    focus_title: str | None = None
    net: str | None = None
    forbidden: list[str] = field(default_factory=list)
    exam: str | None = None      # "started" / "ended": what the exam page told the companion
    exam_at: str | None = None   # when (the event's time, as the machine saw it)
    # where the candidate is when away, as the companion judged it (focus_lost's details)
    focus_level: str | None = None
    focus_category: str | None = None
    focus_label: str | None = None
    focus_required: bool = False   # away during a question the platform says requires focus
    flags: dict[str, str] = field(default_factory=dict)  # tile flag -> level (extension absent...)
    clock: ClockEstimate = field(default_factory=ClockEstimate)  # server clock - machine clock
    outside: dict[str, Any] = field(default_factory=dict)  # settings announced outside the room's
    outside_reported: bool = False   # companion_settings raised for this companion run
    saved_at: float | None = None  # when this state was last written to the store (monotonic)
    remote: bool = False  # heart-beats go to another server process (see the module's doc)

    def public(self) -> dict[str, Any]:
        return {"live": self.status, "stopped": self.stopped, "focus": self.focus, "focus_title": self.focus_title,
                "net": self.net, "forbidden": list(self.forbidden), "exam": self.exam, "exam_at": self.exam_at,
                "focus_level": self.focus_level, "focus_category": self.focus_category,
                "focus_label": self.focus_label, "focus_required": self.focus_required, "flags": dict(self.flags),
                "clock_offset_s": self.clock.offset_s}

    def persisted(self) -> dict[str, Any]:
        return {"status": self.status, "interval_s": self.interval_s, "stopped": self.stopped,
                "focus": self.focus, "focus_title": self.focus_title, "net": self.net,
                "forbidden": self.forbidden, "exam": self.exam, "exam_at": self.exam_at,
                "focus_level": self.focus_level, "focus_category": self.focus_category,
                "focus_label": self.focus_label, "focus_required": self.focus_required, "flags": self.flags,
                "clock_offset_s": self.clock.offset_s}


class Liveness:
    def __init__(self, *, clock: Callable[[], float] = time.monotonic, min_lost_s: float = MIN_LOST_S,
                 room: RoomSettings | None = None) -> None:
        self._clock = clock
        self.min_lost_s = min_lost_s
        self.room = room or RoomSettings(lost_after_s=min_lost_s)   # the server's (every room's default)
        # each room's own settings, kept here by the service (supervisor/roomadmin.py)
        self.rooms: dict[str, RoomSettings] = {}
        self._states: dict[Key, LiveState] = {}

    def settings_for(self, room: str) -> RoomSettings:
        """The settings of this room's companions: its own, else the server's."""
        return self.rooms.get(room, self.room)

    def set_room(self, room: str, settings: RoomSettings | None) -> list[Key]:
        """A room's settings changed (None: back to the server's): its companions are judged
        again against them at their next heartbeat. Returns the machines whose tile changed."""
        before = self.settings_for(room)
        if settings is None:
            self.rooms.pop(room, None)
        else:
            self.rooms[room] = settings
        if self.settings_for(room) == before:
            return []
        changed = []
        for key, state in self._states.items():
            if key[0] == room and state.outside:
                state.outside, state.outside_reported = {}, False
                state.flags.pop("settings", None)
                changed.append(key)
        return changed

    def forget_room(self, room: str) -> None:
        """A deleted room: its companions are no longer watched (no companion_lost for them)."""
        self.rooms.pop(room, None)
        for key in [k for k in self._states if k[0] == room]:
            del self._states[key]

    def get(self, key: Key) -> LiveState:
        return self._states.get(key) or LiveState()

    def keys(self) -> list[Key]:
        return list(self._states)

    def forget(self, key: Key) -> None:
        self._states.pop(key, None)

    def now(self) -> float:
        return self._clock()

    def load(self, key: Key, last_seen: str | None, saved: dict[str, Any], *, remote: bool = False) -> None:
        """State kept in the database by a previous run of the server, or (``remote``) told by
        the process that owns it, or read at start when other processes may own it."""
        state = LiveState(last_seen=last_seen, interval_s=float(saved.get("interval_s") or 2.0),
                          stopped=bool(saved.get("stopped")), focus=saved.get("focus"),
                          focus_title=saved.get("focus_title"), net=saved.get("net"),
                          forbidden=list(saved.get("forbidden") or []),
                          exam=saved.get("exam"), exam_at=saved.get("exam_at"),
                          focus_level=saved.get("focus_level"), focus_category=saved.get("focus_category"),
                          focus_label=saved.get("focus_label"), focus_required=saved.get("focus_required") is True,
                          flags=dict(saved.get("flags") or {}))
        offset = saved.get("clock_offset_s")
        if isinstance(offset, (int, float)) and not isinstance(offset, bool):
            state.clock.offset_s = float(offset)
        state.status = saved.get("status") or ("lost" if last_seen else "never")
        if state.status == "online":
            # We were down, not the companions: give them a full period to reach us again.
            state.last_beat = self._clock()
        state.remote = remote
        self._states[key] = state

    def lost_after_s(self, room: str | None = None) -> float:
        return (self.room if room is None else self.settings_for(room)).lost_after_s

    def beat(self, key: Key, hb: HeartbeatIn, now_iso: str, received: datetime | None = None) -> tuple[bool, bool]:
        """Record a heartbeat; returns (the visible row changed, the companion is back after a loss).
        ``received``: the server's receive time, for the machine's clock offset."""
        state = self._states.setdefault(key, LiveState())
        before = state.public()
        if hb.at is not None and received is not None:
            at = hb.at if hb.at.tzinfo else hb.at.replace(tzinfo=timezone.utc)
            offset = state.clock.sample(at, received, hb.rtt_ms / 1000 if hb.rtt_ms is not None else None)
            # a clock more than a minute off: said on the tile (its events are shown corrected)
            if abs(offset) > CLOCK_FLAG_S:
                state.flags["clock"] = "notice"
            else:
                state.flags.pop("clock", None)
        outside = self.settings_for(key[0]).outside(heartbeat_s=hb.interval_s, exam_title=hb.exam_title,
                                                    platform_url=hb.net.platform_url if hb.net is not None else None)
        if outside and not state.outside:
            state.outside = outside   # the service raises companion_settings once per companion run
            state.flags["settings"] = "notice"
        back = state.status == "lost" and not state.stopped
        state.status, state.stopped, state.remote = "online", False, False
        state.last_beat, state.last_seen = self._clock(), now_iso
        if hb.interval_s:
            state.interval_s = hb.interval_s
        if hb.focus is not None and hb.focus.exam is not None:
            state.focus = "exam" if hb.focus.exam else "away"
            state.focus_title = hb.focus.title
        if hb.focus is not None and hb.focus.focus_required is not None:
            state.focus_required = hb.focus.focus_required
        if hb.net is not None and hb.net.up is not None:
            state.net = "up" if hb.net.up else "down"
        if hb.forbidden is not None:
            state.forbidden = sorted(set(hb.forbidden))
        return state.public() != before, back

    def on_event(self, key: Key, kind: str, details: dict[str, Any], at: str | None = None) -> bool:
        """A companion event also moves the live state (heartbeats correct it within one period):
        what it does is its kind's ``tile`` effect (core/data/kinds.toml)."""
        state = self._states.setdefault(key, LiveState())
        before = state.public()
        spec = kinds().get(kind).resolve(details)
        effect = _EFFECTS.get(spec.tile or "")
        if effect is not None:
            effect(state, spec, kind, details, at)
        if spec.tile == "started":
            # a new run: judged again on what it says it runs with (its heartbeats follow)
            heartbeat = details.get("heartbeat_s")
            outside = self.settings_for(key[0]).outside(
                heartbeat_s=heartbeat if isinstance(heartbeat, (int, float)) else None,
                exam_title=_text(details, "exam_title_pattern"), platform_url=_text(details, "platform_url"))
            if not outside:
                state.outside, state.outside_reported = {}, False
                state.flags.pop("settings", None)
            elif outside != state.outside:   # the heartbeat may have told the same already
                state.outside, state.outside_reported = outside, False
                state.flags["settings"] = "notice"
        return state.public() != before

    def expire(self) -> list[tuple[Key, float]]:
        """Companions that just went silent for too long: (key, seconds since their last beat)."""
        now = self._clock()
        lost = []
        for key, state in self._states.items():
            if state.status != "online" or state.last_beat is None:
                continue
            silent = now - state.last_beat
            # the room's timeout: a companion announcing a slow heartbeat is not trusted for it
            if silent >= self.lost_after_s(key[0]) + (REMOTE_GRACE_S if state.remote else 0.0):
                state.status = "lost"
                lost.append((key, silent))
        return lost


# -- tile effects: what an event does to its machine's live state (named by the kinds' spec)
Effect = Callable[[LiveState, KindSpec, str, dict[str, Any], "str | None"], None]


def _text(details: dict[str, Any], name: str) -> str | None:
    value = details.get(name)
    return value if isinstance(value, str) else None


def _focus_away(state: LiveState, spec: KindSpec, _kind: str, details: dict[str, Any], _at: str | None) -> None:
    state.focus, state.focus_title = "away", _text(details, "title")
    state.focus_level = spec.level_of(details)
    state.focus_category = _text(details, "category")
    state.focus_label = _text(details, "host") or _text(details, "program") or _text(details, "process")
    state.focus_required = details.get("focus_required") is True


def _focus_exam(state: LiveState, _spec: KindSpec, _kind: str, details: dict[str, Any], _at: str | None) -> None:
    state.focus, state.focus_title = "exam", _text(details, "title")
    state.focus_level = state.focus_category = state.focus_label = None
    # focus_required stays: back on the exam, the question is the same; heartbeats say when it changes


def _net(up: bool) -> Effect:
    def apply(state: LiveState, _spec: KindSpec, _kind: str, _details: dict[str, Any], _at: str | None) -> None:
        state.net = "up" if up else "down"
    return apply


def _forbidden(add: bool) -> Effect:
    def apply(state: LiveState, _spec: KindSpec, _kind: str, details: dict[str, Any], _at: str | None) -> None:
        name = _text(details, "name")
        if name is None:
            return
        names = set(state.forbidden)
        names.add(name) if add else names.discard(name)
        state.forbidden = sorted(names)
    return apply


def _flag(on: bool) -> Effect:
    def apply(state: LiveState, spec: KindSpec, _kind: str, details: dict[str, Any], _at: str | None) -> None:
        if spec.flag is None:
            return
        if on:
            state.flags[spec.flag] = spec.level_of(details)
        else:
            state.flags.pop(spec.flag, None)
    return apply


def _stopped(state: LiveState, _spec: KindSpec, _kind: str, _details: dict[str, Any], _at: str | None) -> None:
    # Stopped on purpose: it is an alert by itself, no companion_lost on top of it.
    state.stopped = True
    if state.status == "online":
        state.status = "lost"


def _started(state: LiveState, _spec: KindSpec, _kind: str, _details: dict[str, Any], _at: str | None) -> None:
    # a new run of the companion (its settings are judged again by Liveness.on_event). A
    # companion_stopped of its previous run, replayed from the outbox just before, marked it
    # lost: it is the one delivering this, so it is back (the watchdog judges its silence).
    if state.stopped and state.status == "lost" and state.last_beat is not None:
        state.status = "online"
    state.stopped = False


def _exam_phase(state: LiveState, _spec: KindSpec, kind: str, _details: dict[str, Any], at: str | None) -> None:
    # An outbox replayed late may deliver an older phase after a newer one: keep the newest.
    if at is not None and (state.exam_at is None or at >= state.exam_at):
        state.exam, state.exam_at = kind.removeprefix("exam_"), at


_EFFECTS: dict[str, Effect] = {
    "focus_away": _focus_away, "focus_exam": _focus_exam, "net_down": _net(False), "net_up": _net(True),
    "forbidden_add": _forbidden(True), "forbidden_remove": _forbidden(False),
    "flag_on": _flag(True), "flag_off": _flag(False),
    "stopped": _stopped, "started": _started, "exam_phase": _exam_phase,
}
