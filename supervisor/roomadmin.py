"""Room administration: each room's own companion settings, and deleting a room without losing
what it recorded.

Facts read: the store's records (``room_settings``: a room's own settings, only the fields it
sets; ``room_deleted``: what remains of a deleted room) and the room's activity (counts and
newest receive time of its reports and events). Rules:

- A room's settings are the server's (``examroom serve --room-*``) overlaid by the room's own
  (core/roomsettings.py ``effective``); a room made before this existed has none of its own, so
  it behaves as before. Set by ``examroom room create``/``room settings``, ``PUT
  /rooms/{code}/settings`` (admin or technician). The server reads them again every
  ``REFRESH_S`` seconds, so a change made by the command line (or by another process on the
  same PostgreSQL database) reaches a running server without a restart.
- Deleting a room (admin only) revokes its machines' tokens and forgets their secrets and the
  room's settings and enrolment window. Its reports and events are KEPT in the database, with
  the room's name, machines and PV edits in the ``room_deleted`` record, and can be exported
  (``GET /rooms/{code}/archive``, ``examroom room delete --archive FILE``); the room's code is
  never drawn again. A room that received a report or an event in the last ``ACTIVE_H`` hours
  (an exam session today) is not deleted unless forced: the refusal says what it holds.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from core.roomsettings import FIELDS, RoomSettings, checked, effective
from supervisor.store import Store, iso

SETTINGS_NS, DELETED_NS = "room_settings", "room_deleted"
REFRESH_S = 5.0
ACTIVE_H = 24.0


async def own_settings(store: Store, code: str) -> dict[str, Any]:
    found = await store.record(SETTINGS_NS, code)
    return {k: v for k, v in (found[0] if found else {}).items() if k in FIELDS}


async def all_own_settings(store: Store) -> dict[str, dict[str, Any]]:
    return {code: {k: v for k, v in value.items() if k in FIELDS}
            for code, value, _version in await store.records(SETTINGS_NS)}


async def save_own_settings(store: Store, code: str, own: dict[str, Any], base: RoomSettings,
                            by: str | None = None) -> dict[str, Any]:
    """Check (core.roomsettings.SettingsProblem names the wrong field) and store a room's own
    settings; an empty set forgets them (the server's values again). Returns what is kept."""
    kept = checked(own, base)
    if kept:
        await store.put_record(SETTINGS_NS, code, {**kept, "updated_by": by, "updated_at": iso(_now())})
    else:
        await store.delete_record(SETTINGS_NS, code)
    return kept


def described(code: str, own: dict[str, Any], base: RoomSettings) -> dict[str, Any]:
    """The API's view of a room's settings: what its companions run with, what the room sets
    itself, and the server's values it inherits."""
    return {"code": code, "settings": effective(base, own).model_dump(), "own": own,
            "server": base.model_dump()}


async def forget_records(store: Store, code: str, *, keyed: tuple[str, ...], per_machine: tuple[str, ...],
                         per_token: tuple[str, ...]) -> None:
    """A deleted room's state records: ``keyed`` by its code, ``per_machine`` keyed
    "CODE|machine id", ``per_token`` whose value names the room. (After the deletion's
    transaction: a crash in between leaves records of a code never drawn again, harmless.)"""
    for ns in keyed:
        await store.delete_record(ns, code)
    for ns in per_machine:
        for key, _value, _version in await store.records(ns):
            if key.startswith(code + "|"):
                await store.delete_record(ns, key)
    for ns in per_token:
        for key, value, _version in await store.records(ns):
            if value.get("room") == code:
                await store.delete_record(ns, key)


async def deleted_codes(store: Store) -> set[str]:
    return {code for code, _value, _version in await store.records(DELETED_NS)}


def is_active(activity: dict[str, Any], now: datetime | None = None) -> bool:
    """Did the room receive a report or an event in the last ACTIVE_H hours?"""
    last = activity.get("last_received_at")
    if not last:
        return False
    moment = datetime.fromisoformat(str(last).replace("Z", "+00:00"))
    return moment > (now or _now()) - timedelta(hours=ACTIVE_H)


class RoomActive(Exception):
    """The room received a report or an event in the last ACTIVE_H hours: not deleted unforced."""

    def __init__(self, activity: dict[str, Any]) -> None:
        super().__init__(f"the room holds {activity['reports']} reports and {activity['events']} events, the "
                         f"latest received at {activity['last_received_at']}")
        self.activity = activity


def _now() -> datetime:
    return datetime.now(timezone.utc)


async def archive(store: Store, code: str) -> dict[str, Any] | None:
    """Everything a room recorded, live or deleted: the room, its machines, its reports and
    events, its PV edits (``examroom.room-archive/1``). None when the code was never a room."""
    room = await store.room(code)
    deleted = None
    if room is None:
        found = await store.record(DELETED_NS, code)
        if found is None:
            return None
        deleted = found[0]
        room = {k: deleted.get(k) for k in ("code", "name", "created_at")}
        machines = deleted.get("machines") or []
        pv_edits = deleted.get("pv_edits")
    else:
        machines = [{k: m.get(k) for k in ("machine_id", "hostname", "os", "os_version")}
                    for m in await store.machines(code)]
        pv_edits = await store.pv_edits(code)
    events: list[dict[str, Any]] = []
    while True:   # in pages: a long session holds many thousands of events
        page = await store.events(code, events[-1]["seq"] if events else 0, 5000)
        events.extend(page)
        if len(page) < 5000:
            break
    return {"schema": "examroom.room-archive/1", "exported_at": iso(_now()), "room": room,
            "deleted": None if deleted is None else {"at": deleted.get("deleted_at"), "by": deleted.get("deleted_by")},
            "machines": machines, "pv_edits": pv_edits, "reports": await store.room_reports(code), "events": events}
