"""What the server does with what it receives: store it, update live state, tell dashboards.

Routes (supervisor/app.py) validate and authenticate; this module holds the behaviour so it
reads in one place: every change to a machine's row is published on the room's SSE stream,
every new event too, and the watchdog raises ``companion_lost`` once per loss. The rules that
decide what is stored (alerts, problems, facts, room codes, idempotent event ids, the machine
token cache) are here and in supervisor/rules.py, never in a backend: SQLite and PostgreSQL
then behave the same.
"""
from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import datetime, timezone
from typing import Any

from core.kinds import kinds
from core.roomsettings import effective
from supervisor import diskfull, roomadmin, rules
from supervisor.apierror import ApiError
from supervisor.clock import corrected
from supervisor.alertservice import AlertsAndBytes
from supervisor.credentials import REVOKED_NS, REVOKED_TOKEN_NS, Credentials
from supervisor.auth import LoginThrottle
from supervisor.fanout import Notice, PgFanout
from supervisor.quotas import BYTES_KEPT, Quotas
from supervisor.throttle import LoginGuard
from supervisor.live import Hub
from supervisor.models import HeartbeatIn
from supervisor.store import Store, dumps, iso, new_room_code, utcnow
from supervisor.watchdog import Key, Liveness


SAVE_LAST_SEEN_S = 10.0


class Server(Credentials, AlertsAndBytes):
    def __init__(self, store: Store, hub: Hub, liveness: Liveness, settings: Any = None,
                 fanout: PgFanout | None = None) -> None:
        self.settings = settings
        self.fanout = fanout  # other processes sharing the database (PostgreSQL), else None
        self.login_guard = LoginGuard()  # failed logins (per account, address, device)
        self.hash_slots = asyncio.Semaphore(4)  # password hashes computed at once
        self.trusted_hash_slots = asyncio.Semaphore(2)  # ...and for browsers with a device token
        # what one machine may send per hour/minute, and keep
        self.quotas = Quotas(bytes_kept=getattr(settings, "machine_quota_bytes", BYTES_KEPT.limit))
        self.enrol_throttle = LoginThrottle(max_failures=100)  # unknown room codes
        self.store = store
        self.hub = hub
        self.liveness = liveness
        # Machine tokens are looked up at every heartbeat: cached once found. An enrolment that
        # revokes a token bumps the generation, so a lookup that read the old row before the
        # revocation committed cannot cache it afterwards.
        self._tokens: dict[str, tuple[str, str, float]] = {}  # hash -> (room, machine id, expiry epoch)
        self._token_generation = 0
        self._kept: dict[Key, int] = {}  # bytes the database keeps per machine (kept_bytes)

    async def start(self) -> None:
        """On the server's loop: open the store, take back the live state of the previous run."""
        await self.store.start()
        revoked = {key for key, _value, _v in await self.store.records(REVOKED_NS)}
        for room, machine_id, last_seen, saved in await self.store.live_states():
            if f"{room}|{machine_id}" in revoked:
                continue  # a revoked machine sends nothing: no companion_lost for its silence
            # With other processes, a companion may be heart-beating to one of them right now.
            self.liveness.load((room, machine_id), last_seen, saved, remote=self.fanout is not None)
        await self.refresh_rooms()
        if self.fanout is not None:
            await self.fanout.start(self._remote)

    async def stop(self) -> None:
        if self.fanout is not None:
            await self.fanout.close()
        await self.store.close()

    # -- what the dashboards are told, here and in the other processes
    def publish(self, room: str, kind: str, data: dict[str, Any], **ref: Any) -> None:
        self.hub.publish(room, kind, data)
        if self.fanout is not None:
            self.fanout.send(Notice(origin=self.fanout.origin, room=room, kind=kind, data=data, **ref))

    async def _remote(self, notice: Notice) -> None:
        """What another process sharing the database published."""
        room = notice.room
        if notice.kind == "revoke":
            self._token_generation += 1
            self._tokens.pop(notice.token_hash or "", None)
        elif notice.kind in ("room_settings", "room_deleted"):
            await self.refresh_rooms()   # another process changed a room: at once, not at the next refresh
            self.hub.publish(room, notice.kind, notice.data)
        elif notice.kind == "live" and notice.machine_id and isinstance(notice.data, dict):
            self.liveness.load((room, notice.machine_id), notice.data.get("last_seen"),
                               notice.data.get("saved") or {}, remote=True)
        elif not self.hub.subscribers(room):
            return
        elif notice.data is not None:
            self.hub.publish(room, notice.kind, notice.data)
        elif notice.kind == "event" and notice.seq is not None:  # too big for a notice: read it
            row = await self.store.event(room, notice.seq)
            if row is not None:
                self.hub.publish(room, "event", self.timed(room, row))
        elif notice.kind == "machine" and notice.machine_id:
            for row in await self.machine_rows(room, notice.machine_id):
                self.hub.publish(room, "machine", row)
        elif notice.kind == "group" and notice.gid is not None:
            await self.publish_groups(room, {notice.gid}, here_only=True)
        elif notice.kind == "pv_edits":
            saved = await self.store.pv_edits(room)
            if saved is not None:
                self.hub.publish(room, "pv_edits", saved)

    # -- rooms, machines and tokens
    async def create_room(self, name: str) -> dict[str, Any]:
        now = utcnow()
        for _ in range(50):
            code = new_room_code()
            # a deleted room's code is never drawn again: its events and reports are kept under it
            if await self.store.record(roomadmin.DELETED_NS, code) is None and \
                    await self.store.insert_room(code, name, now):
                return {"code": code, "name": name, "created_at": now}
        raise RuntimeError("no free room code")

    async def refresh_rooms(self) -> None:
        """Each room's own settings and the deleted rooms, as the store has them now: changed
        by this process, the command line, or another process on the same database."""
        own = await roomadmin.all_own_settings(self.store)
        changed = []
        for code in set(self.liveness.rooms) - set(own):
            changed += self.liveness.set_room(code, None)
        for code, values in own.items():
            changed += self.liveness.set_room(code, effective(self.liveness.room, values))
        for key in changed:   # their settings flag is judged again: the tiles say so now
            await self.publish_machine(*key)
        deleted = await roomadmin.deleted_codes(self.store)
        for code in deleted & {key[0] for key in self.liveness.keys()}:
            self.liveness.forget_room(code)
        for token, (code, *_rest) in list(self._tokens.items()):
            if code in deleted:
                self._token_generation += 1
                self._tokens.pop(token, None)

    async def room_settings(self, code: str) -> dict[str, Any]:
        return roomadmin.described(code, await roomadmin.own_settings(self.store, code), self.liveness.room)

    async def set_room_settings(self, code: str, own: dict[str, Any], by: str | None) -> dict[str, Any]:
        """Store a room's own settings (SettingsProblem when wrong); its companions get them in
        their next heartbeat answer, and its dashboards are told."""
        kept = await roomadmin.save_own_settings(self.store, code, own, self.liveness.room, by)
        for key in self.liveness.set_room(code, effective(self.liveness.room, kept) if kept else None):
            await self.publish_machine(*key)
        described = roomadmin.described(code, kept, self.liveness.room)
        self.publish(code, "room_settings", {**described, "by": by})
        return described

    async def delete_room(self, room: dict[str, Any], by: str, *, force: bool) -> dict[str, Any]:
        """Delete a room (roomadmin.RoomActive when it is in use and not ``force``): its machines'
        tokens are revoked at once, its reports and events are kept (supervisor/roomadmin.py)."""
        from supervisor.enrolment import SECRET_NS, WINDOW_NS

        code = room["code"]
        activity = await self.store.room_activity(code)
        if roomadmin.is_active(activity) and not force:
            raise roomadmin.RoomActive(activity)
        summary = {"code": code, "name": room["name"], "created_at": room["created_at"], "deleted_at": utcnow(),
                   "deleted_by": by, "reports": activity["reports"], "events": activity["events"],
                   "forced": bool(force and roomadmin.is_active(activity))}
        revoked = await self.store.delete_room(code, roomadmin.DELETED_NS, summary)
        if revoked is None:
            raise LookupError(code)
        self._token_generation += 1
        for token in revoked:
            self._tokens.pop(token, None)
            if self.fanout is not None:
                self.fanout.send(Notice(origin=self.fanout.origin, room=code, kind="revoke", token_hash=token))
        await roomadmin.forget_records(self.store, code, keyed=(WINDOW_NS, roomadmin.SETTINGS_NS),
                                       per_machine=(SECRET_NS, REVOKED_NS), per_token=(REVOKED_TOKEN_NS,))
        self.liveness.forget_room(code)
        self.publish(code, "room_deleted", {"code": code, "by": by})
        return summary

    async def enroll(self, room: str, machine: dict[str, Any], token_hash: str) -> None:
        row = {"machine_id": machine["id"], **rules.machine_identity(machine), "enrolled_at": utcnow()}
        revoked = await self.store.enroll(room, row, token_hash)
        if revoked is not None:
            # After the commit, on the event loop (where tokens are looked up).
            self._token_generation += 1
            self._tokens.pop(revoked, None)
            if self.fanout is not None:  # the other processes may have it cached too
                self.fanout.send(Notice(origin=self.fanout.origin, room=room, kind="revoke", token_hash=revoked))

    # -- machine rows: the database's row plus the live state kept in memory
    async def machine_rows(self, room: str, machine_id: str | None = None) -> list[dict[str, Any]]:
        rows = await self.store.machines(room, machine_id)
        revoked = await self.revoked_in(room) if rows else {}
        for row in rows:
            row.pop("live_state", None)
            mark = revoked.get(row["machine_id"])
            row.update(revoked=mark is not None, revoked_at=mark and mark.get("at"), revoked_by=mark and mark.get("by"))
            live = self.liveness.get((room, row["machine_id"]))
            row.update(live.public())
            row["last_seen"] = live.last_seen or row["last_seen"]
        return rows

    async def publish_machine(self, room: str, machine_id: str) -> None:
        if not self.hub.subscribers(room) and self.fanout is None:
            return
        for row in await self.machine_rows(room, machine_id):
            self.publish(room, "machine", row, machine_id=machine_id)

    async def _save_live(self, key: Key) -> None:
        state = self.liveness.get(key)
        state.saved_at = self.liveness.now()
        await self.store.save_live(key[0], key[1], state.last_seen, state.persisted())
        if self.fanout is not None:
            self.fanout.send(Notice(origin=self.fanout.origin, room=key[0], kind="live", machine_id=key[1],
                                    data={"last_seen": state.last_seen, "saved": state.persisted()}))

    # -- agents
    async def report(self, room: str, machine_id: str, report: dict[str, Any]) -> None:
        size = len(dumps(report))
        await self.reserve_bytes((room, machine_id), size)
        try:
            await self.store.add_report(room, machine_id, utcnow(), report, rules.report_summary(report))
        except Exception:  # not stored (disk full...): not kept either
            self._unreserve((room, machine_id), size)
            raise
        await self.publish_machine(room, machine_id)

    async def add_events(self, room: str, machine_id: str,
                         events: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
        """Store a batch idempotently on event ids: an id already stored, or twice in the batch,
        is stored once. Returns the rows stored (in order) and how many were duplicates."""
        received = utcnow()
        unique: dict[str, dict[str, Any]] = {}
        for e in events:
            unique.setdefault(e["id"], {**e, "received_at": received,
                                        "alert": rules.is_alert(e["kind"], e["details"])})
        batch = list(unique.values())
        if batch:
            # Reserved as the store counts it (details as stored); a duplicate is given back after.
            sizes = {e["id"]: len(dumps(e["details"])) for e in batch}
            try:
                await self.reserve_bytes((room, machine_id), sum(sizes.values()))
            except ApiError:
                # Near its quota, an outbox replaying a batch already stored (its answer was
                # lost) must hear "duplicates", not 429 forever: what is stored is not charged.
                known = await self.store.stored_ids(room, machine_id, list(sizes))
                if not known:
                    raise
                batch = [e for e in batch if e["id"] not in known]
                if not batch:
                    return [], len(events)
                sizes = {e["id"]: sizes[e["id"]] for e in batch}
                await self.reserve_bytes((room, machine_id), sum(sizes.values()))
            try:
                rows = await self.store.insert_events(room, machine_id, batch)
            except Exception:  # not stored (disk full...): not kept either
                self._unreserve((room, machine_id), sum(sizes.values()))
                raise
            stored = {r["id"] for r in rows}
            self._unreserve((room, machine_id), sum(n for event_id, n in sizes.items() if event_id not in stored))
        else:
            rows = []
        return rows, len(events) - len(rows)

    async def events(self, room: str, machine_id: str, events: list[dict[str, Any]]) -> tuple[int, int]:
        rows, duplicates = await self.add_events(room, machine_id, events)
        key = (room, machine_id)
        changed = False
        for row in rows:
            self.publish(room, "event", self.timed(room, row), seq=row["seq"])
            changed |= self.liveness.on_event(key, row["kind"], row["details"], row["at"])
            changed |= row["alert"]
        changed |= await self._report_outside(key)
        if changed:
            await self._save_live(key)
            await self.publish_machine(room, machine_id)
        # after the events and the machine row: one message per group the batch touched
        await self.publish_groups(room, {r["group"] for r in rows if r.get("group") is not None})
        return len(rows), duplicates

    async def heartbeat(self, room: str, machine_id: str, hb: HeartbeatIn) -> str:
        key = (room, machine_id)
        received = datetime.now(timezone.utc)
        changed, back = self.liveness.beat(key, hb, iso(received), received)
        state = self.liveness.get(key)
        changed |= await self._report_outside(key)
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
            await self.publish_machine(room, machine_id)
        return self.liveness.get(key).status

    async def _report_outside(self, key: Key) -> bool:
        """Once per companion run: the settings it runs with that are not the room's."""
        state = self.liveness.get(key)
        if not state.outside or state.outside_reported:
            return False
        state.outside_reported = True
        await self.server_event(key, "companion_settings", {"outside": state.outside})
        return True

    async def server_event(self, key: Key, kind: str, details: dict[str, Any]) -> None:
        """An event the server itself raises (companion_lost, companion_back): a fresh UUID."""
        event = {"id": str(uuid.uuid4()), "kind": kind, "at": utcnow(), "details": details}
        rows, _ = await self.add_events(key[0], key[1], [event])
        for row in rows:
            self.publish(key[0], "event", self.timed(key[0], row), seq=row["seq"])
        await self.publish_groups(key[0], {r["group"] for r in rows if r.get("group") is not None})

    def timed(self, room: str, row: dict[str, Any]) -> dict[str, Any]:
        """An event row with its time on the server's clock (``at_corrected``): the machine's
        clock offset applied to what a machine sent; the server's own events are on its clock."""
        if kinds().get(row["kind"]).origin == "server":
            return {**row, "at_corrected": row["at"]}
        offset = self.liveness.get((room, row["machine_id"])).clock.offset_s
        return {**row, "at_corrected": corrected(row["at"], offset)}

    async def check_lost(self) -> int:
        lost = self.liveness.expire()
        for key, silent in lost:
            state = self.liveness.get(key)
            await self.server_event(key, "companion_lost",
                                    {"last_seen": state.last_seen, "silent_s": round(silent, 1)})
            await self._save_live(key)
            await self.publish_machine(*key)
        return len(lost)

    async def watchdog(self, period_s: float = 1.0) -> None:
        refreshed = self.liveness.now()
        while True:
            await asyncio.sleep(period_s)
            try:
                if self.liveness.now() - refreshed >= roomadmin.REFRESH_S:
                    refreshed = self.liveness.now()
                    await self.refresh_rooms()
                await self.check_lost()
            except Exception as exc:  # a failed round (disk full...) must not stop the watchdog
                if diskfull.is_disk_full(exc):
                    diskfull.episode.failed(exc)  # one log line per episode, not one per second
                else:
                    logging.getLogger("examroom.watchdog").exception("watchdog round failed")

    # -- supervisors
    async def ack(self, room: str, event_id: str, by: str) -> dict[str, Any] | None:
        done = await self.store.ack(room, event_id, by, utcnow())
        if done is None:
            return None
        machine_id = done.pop("machine_id")
        group = done.pop("group", None)
        self.publish(room, "ack", done)  # as before groups: {id, acked_at, acked_by}
        await self.publish_machine(room, machine_id)
        if group is not None:  # then the group's new open count
            await self.publish_groups(room, {group})
        return {**done, "group": group}

    async def save_pv_edits(self, room: str, record: dict[str, Any], by: str) -> dict[str, Any]:
        return await self.store.save_pv_edits(room, record, by, utcnow())

    async def merge_pv_edits(self, room: str, build: Any, by: str) -> tuple[dict[str, Any], Any]:
        """Read, merge (``build(stored) -> (record, extra)``), save if nobody saved meanwhile,
        else again: compare-and-set on the record's version, so two processes cannot lose a line."""
        from supervisor import pvmerge

        for _ in range(20):
            stored = await self.store.pv_edits(room)
            record, extra = build(stored)
            version = pvmerge.next_version_of(stored)
            saved = await self.store.save_pv_edits(room, pvmerge.stamp(record, version), by, utcnow(),
                                                   expected_version=version - 1)
            if saved is not None:
                return saved, extra
        raise RuntimeError("the PV edits kept changing under this save")

    async def add_session(self, token_hash: str, username: str, expires_at: str) -> None:
        await self.store.add_session(token_hash, username, utcnow(), expires_at)
