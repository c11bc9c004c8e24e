"""Events to the server, durably, and heartbeats: the companion's side of the HTTP API.

Facts kept: the outbox (``state_dir()/outbox.sqlite``, kind "event"; "event_refused" for an
event the server refused alone), and, while the outbox cannot store (disk full, file
locked), the events in memory, sent straight from there and put in the outbox as soon as it
can take them: never dropped. An event leaves the outbox only when the server acknowledged
it; the server's idempotence on event ids keeps replays from counting twice.

How the server's answers are handled is written once (``call``): unreachable -> the server
is marked down and the work is kept for later; refused with 401/403 -> the client's token is
forgotten (the next call enrols again); any other refusal -> the caller decides (a batch is
split, a heartbeat is skipped).
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable

log = logging.getLogger("examroom.companion")

BATCH = 200
MAX_BACKOFF_S = 5.0


class Delivery:
    def __init__(self, *, outbox: Any, client: Any, room: str, machine: Any, status: Any,
                 stop: threading.Event) -> None:
        self.outbox, self.client, self.room, self.machine = outbox, client, room, machine
        self.status, self.stop = status, stop
        self.wake = threading.Event()
        self._enrolled: set[int] = set()   # ids of the clients that hold a token
        self._flush_lock = threading.Lock()
        self._unsaved: list[dict] = []
        self._unsaved_lock = threading.Lock()

    # -- keeping ----------------------------------------------------------------------------
    def put(self, wire: dict) -> None:
        """Durable first; never raises (a watcher that changed its state must not lose its event)."""
        try:
            self._save_unsaved()
            self.outbox.put("event", wire, item_id=wire["id"])
        except Exception as exc:  # sqlite3 "disk full", "database is locked", an I/O error
            log.error("outbox unavailable, event %s kept in memory: %s", wire["id"], exc)
            with self._unsaved_lock:
                self._unsaved.append(wire)
        self.wake.set()

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

    # -- the server's answers, once ---------------------------------------------------------
    def call(self, client: Any, what: str, fn: Callable[[], Any]) -> tuple[str, Any]:
        """``("ok", result)``, ``("unreachable", exc)`` or ``("refused", exc)``."""
        from agent.client import ServerRefused, ServerUnreachable

        try:
            result = fn()
        except ServerUnreachable as exc:
            log.info("%s: server unreachable: %s", what, exc)
            self.status.server_ok = False
            return "unreachable", exc
        except ServerRefused as exc:
            log.warning("%s refused: %s", what, exc)
            self.status.server_ok = True
            if getattr(exc, "status", None) in (401, 403):
                # the token is no longer valid and the client could not enrol again by itself
                self._enrolled.discard(id(client))
            return "refused", exc
        self.status.server_ok = True
        return "ok", result

    def enrol(self, client: Any = None) -> bool:
        client = client or self.client
        if id(client) in self._enrolled:
            return True
        outcome, machine_id = self.call(client, "enrolment",
                                        lambda: client.ensure_enrolled(self.room, self.machine))
        if outcome != "ok":
            return False
        self.status.machine_id = machine_id
        self._enrolled.add(id(client))
        self.status.enrolled = True
        return True

    # -- events -----------------------------------------------------------------------------
    def flush_once(self) -> bool:
        """Send one batch; True when the server took it (or there was nothing to send)."""
        # the final flush at stop may overlap a sender still waiting on the network: one at a time
        with self._flush_lock:
            return self._flush_locked()

    def _flush_locked(self) -> bool:
        try:
            self._save_unsaved()
        except Exception as exc:
            log.error("outbox still unavailable: %s", exc)
        if not self.enrol():
            return False
        if not self._send_unsaved():
            return False
        batch = self.outbox.peek("event", BATCH)
        if not batch:
            return True
        outcome, exc = self.call(self.client, f"{len(batch)} event(s)",
                                 lambda: self.client.post_events([payload for _, payload in batch]))
        if outcome == "refused":
            self._refused(batch, exc)
        if outcome != "ok":
            return False
        self.outbox.ack([item for item, _ in batch])
        self.status.pending = self.pending_count()
        return True

    def _send_unsaved(self) -> bool:
        """While the outbox cannot store, the events kept in memory go straight to the server
        (its idempotence on ids makes a later copy from the outbox harmless)."""
        with self._unsaved_lock:
            batch = list(self._unsaved[:BATCH])
        if not batch:
            return True
        if self.call(self.client, f"{len(batch)} unsaved event(s)", lambda: self.client.post_events(batch))[0] != "ok":
            return False
        sent = {wire["id"] for wire in batch}
        with self._unsaved_lock:
            self._unsaved = [wire for wire in self._unsaved if wire["id"] not in sent]
        return True

    def _refused(self, batch: list[tuple[str, dict]], exc: Exception) -> None:
        """A 4xx other than a bad token: the server cannot take one of them. Send one by one;
        an event it refuses alone is kept aside ("event_refused") rather than lost or retried
        forever."""
        if getattr(exc, "status", None) in (401, 403):
            return
        for item, payload in batch:
            outcome, single = self.call(self.client, f"event {item}", lambda: self.client.post_events([payload]))
            if outcome == "unreachable":
                return
            if outcome == "refused":
                # its own id: the outbox's ids are unique across kinds, and the original goes below
                self.outbox.put("event_refused", {"event": payload, "error": str(single)}, item_id=f"refused-{item}")
            self.outbox.ack([item])

    def sender_loop(self) -> None:
        backoff = 0.25
        while not self.stop.is_set():
            if self.flush_once():
                backoff = 0.25
                if self.pending_count() == 0:
                    self.wake.wait(1.0)
                    self.wake.clear()
                continue
            self.stop.wait(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_S)

    def final_flush(self, flush_s: float) -> None:
        """At stop: try to deliver what is pending within ``flush_s``; the outbox keeps the rest."""
        deadline = time.monotonic() + flush_s
        while self.pending_count() and time.monotonic() < deadline:
            try:
                if not self.flush_once():
                    break
            except Exception as exc:
                log.error("final delivery failed: %s", exc)
                break
        self.status.pending = self.pending_count()

    # -- heartbeats -------------------------------------------------------------------------
    def heartbeat_loop(self, client: Any, payload: Callable[[], dict], interval_s: Callable[[], float],
                       on_answer: Callable[[Any, float], None] | None = None) -> None:
        """A heartbeat every ``interval_s()`` seconds (the room's setting may change it) with its
        own client (a slow one never delays events); ``on_answer(answer, round_trip_s)``."""
        while not self.stop.is_set():
            started = time.monotonic()
            if self.enrol(client):
                body = payload()
                sent = time.monotonic()
                outcome, answer = self.call(client, "heartbeat", lambda: client.heartbeat(body))
                if outcome == "ok" and on_answer is not None:
                    on_answer(answer, time.monotonic() - sent)
            self.stop.wait(max(0.1, interval_s() - (time.monotonic() - started)))
