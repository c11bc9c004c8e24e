"""What the server does with what it receives: store it, update live state, tell dashboards.

Routes (supervisor/app.py) validate and authenticate; this module holds the behaviour so it
reads in one place: every change to a machine's row is published on the room's SSE stream,
every new event too, and the watchdog raises ``companion_lost`` once per loss.
"""
from __future__ import annotations

import asyncio
import uuid
from typing import Any

from supervisor.auth import LoginThrottle
from supervisor.live import Hub
from supervisor.models import HeartbeatIn
from supervisor.store import Store, utcnow
from supervisor.watchdog import Key, Liveness


SAVE_LAST_SEEN_S = 10.0


class Server:
    def __init__(self, store: Store, hub: Hub, liveness: Liveness, settings: Any = None) -> None:
        self.settings = settings
        self.throttle = LoginThrottle()  # failed logins
        self.enrol_throttle = LoginThrottle(max_failures=100)  # unknown room codes
        self.store = store
        self.hub = hub
        self.liveness = liveness
        for room, machine_id, last_seen, saved in store.live_states():
            liveness.load((room, machine_id), last_seen, saved)

    # -- machine rows: the database's row plus the live state kept in memory
    def machine_rows(self, room: str, machine_id: str | None = None) -> list[dict[str, Any]]:
        rows = self.store.machines(room, machine_id)
        for row in rows:
            row.pop("live_state", None)
            live = self.liveness.get((room, row["machine_id"]))
            row.update(live.public())
            row["last_seen"] = live.last_seen or row["last_seen"]
        return rows

    def publish_machine(self, room: str, machine_id: str) -> None:
        if not self.hub.subscribers(room):
            return
        for row in self.machine_rows(room, machine_id):
            self.hub.publish(room, "machine", row)

    async def _save_live(self, key: Key) -> None:
        state = self.liveness.get(key)
        state.saved_at = self.liveness.now()
        await self.store.save_live(key[0], key[1], state.last_seen, state.persisted())

    # -- agents
    async def report(self, room: str, machine_id: str, report: dict[str, Any]) -> None:
        await self.store.add_report(room, machine_id, report)
        self.publish_machine(room, machine_id)

    async def events(self, room: str, machine_id: str, events: list[dict[str, Any]]) -> tuple[int, int]:
        rows, duplicates = await self.store.add_events(room, machine_id, events)
        key = (room, machine_id)
        changed = False
        for row in rows:
            self.hub.publish(room, "event", row)
            changed |= self.liveness.on_event(key, row["kind"], row["details"], row["at"])
            changed |= row["alert"]
        if changed:
            await self._save_live(key)
            self.publish_machine(room, machine_id)
        return len(rows), duplicates

    async def heartbeat(self, room: str, machine_id: str, hb: HeartbeatIn) -> str:
        key = (room, machine_id)
        changed, back = self.liveness.beat(key, hb, utcnow())
        state = self.liveness.get(key)
        # Live state is a picture of the last seconds, kept in memory; the store gets it when
        # it changes, and last_seen at most every SAVE_LAST_SEEN_S (a restart then shows it
        # a few seconds old at worst). Events and reports, by contrast, are acknowledged only
        # once written.
        if changed or back or state.saved_at is None or \
                self.liveness.now() - state.saved_at >= SAVE_LAST_SEEN_S:
            await self._save_live(key)
        if back:
            await self.server_event(key, "companion_back", {})
        if changed or back:
            self.publish_machine(room, machine_id)
        return self.liveness.get(key).status

    async def server_event(self, key: Key, kind: str, details: dict[str, Any]) -> None:
        """An event the server itself raises (companion_lost, companion_back): a fresh UUID."""
        event = {"id": str(uuid.uuid4()), "kind": kind, "at": utcnow(), "details": details}
        rows, _ = await self.store.add_events(key[0], key[1], [event])
        for row in rows:
            self.hub.publish(key[0], "event", row)

    async def check_lost(self) -> int:
        lost = self.liveness.expire()
        for key, silent in lost:
            state = self.liveness.get(key)
            await self.server_event(key, "companion_lost",
                                    {"last_seen": state.last_seen, "silent_s": round(silent, 1)})
            await self._save_live(key)
            self.publish_machine(*key)
        return len(lost)

    async def watchdog(self, period_s: float = 1.0) -> None:
        while True:
            await asyncio.sleep(period_s)
            try:
                await self.check_lost()
            except Exception:  # a failed round (disk full...) must not stop the watchdog
                import logging

                logging.getLogger("examroom.watchdog").exception("watchdog round failed")

    # -- supervisors
    async def ack(self, room: str, event_id: str, by: str) -> dict[str, Any] | None:
        done = await self.store.ack(room, event_id, by)
        if done is None:
            return None
        machine_id = done.pop("machine_id")
        self.hub.publish(room, "ack", done)
        self.publish_machine(room, machine_id)
        return done
