"""Named supervisor accounts and what each role may do.

Facts read: the store's ``user`` records (name -> role, room, scrypt hash, who created it)
and, for ``admin``, the admin password of ``examroom serve``. Roles:

- ``admin``: everything, including rooms (creating, deleting) and accounts;
- ``technician``: readiness and commands - every room's machines, reports, exports,
  enrolment window, companion settings, revoking and removing machines; not accounts, nor
  deleting rooms, nor the PV or alerts;
- ``supervisor``: one room (``room``): its live view (machines, events, alerts and their
  acknowledgement, the stream) and its PV d'incident.

``permitted`` is the one place deciding, from the route's template and method, so a route
added later gets the rule of its kind (a supervisor may only read its own room).
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from supervisor.store import Store, iso, normalize_code

ROLES = ("admin", "technician", "supervisor")
USER_NS = "user"
NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")
ADMIN = "admin"

# Routes only an admin may use, and what a technician may not do (the live exam's own work).
_ADMIN_ONLY = (("POST", "/rooms"), ("DELETE", "/rooms/{code}"), ("*", "/users"), ("*", "/users/{name}"))
# Every role may read its own account (the dashboard shows what the role allows).
_SELF = {("GET", "/me")}
_NOT_TECHNICIAN = (("POST", "/rooms/{code}/alerts/{event_id}/ack"), ("POST", "/rooms/{code}/alert-groups/{gid}/ack"),
                   ("PUT", "/rooms/{code}/incidents/edits"), ("PATCH", "/rooms/{code}/incidents/edits"))
# What a supervisor may change in its room; every other write is refused.
_SUPERVISOR_WRITES = {("POST", "/rooms/{code}/alerts/{event_id}/ack"), ("POST", "/rooms/{code}/alert-groups/{gid}/ack"),
                      ("PUT", "/rooms/{code}/incidents/edits"),
                      ("PATCH", "/rooms/{code}/incidents/edits"), ("POST", "/logout")}


class AccountError(ValueError):
    """A refused account change; ``reason`` is stable (the dashboard translates it): name, role,
    room_needed, unknown_room, exists, builtin, busy."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def normalize_name(name: str) -> str:
    return name.strip().lower()


async def account(store: Store, name: str) -> dict[str, Any] | None:
    name = normalize_name(name)
    if name == ADMIN:
        return {"username": ADMIN, "role": "admin", "room": None}
    found = await store.record(USER_NS, name)
    if found is None:
        return None
    value = found[0]
    return {"username": name, "role": value["role"], "room": value.get("room")}


async def password_hash(store: Store, name: str) -> str | None:
    name = normalize_name(name)
    if name == ADMIN:
        return await store.admin_hash()
    found = await store.record(USER_NS, name)
    return found[0].get("hash") if found else None


async def _room_of_role(store: Store, role: str, room: str | None) -> str | None:
    """The room an account of ``role`` keeps: a supervisor's must exist, other roles have none."""
    if role != "supervisor":
        return None
    if not room:
        raise AccountError("room_needed", "a supervisor account needs its room (--room CODE)")
    room = normalize_code(room)
    if await store.room(room) is None:
        raise AccountError("unknown_room", f"no room with code {room!r}")
    return room


async def add(store: Store, name: str, role: str, room: str | None, hashed: str, by: str) -> dict[str, Any]:
    """A new account; ValueError (with the reason) when the name, role or room is wrong or taken."""
    name = normalize_name(name)
    if not NAME.match(name) or name == ADMIN:
        raise AccountError("name", "a user name is 2 to 32 of a-z 0-9 . _ - (and not admin)")
    if role not in ROLES:
        raise AccountError("role", f"role must be one of {', '.join(ROLES)}")
    room = await _room_of_role(store, role, room)
    value = {"role": role, "room": room, "hash": hashed, "created_at": iso(datetime.now(timezone.utc)),
             "created_by": by}
    if await store.put_record(USER_NS, name, value, expected=0) is None:
        raise AccountError("exists", f"user {name!r} exists already")
    return {"username": name, "role": role, "room": room, "created_at": value["created_at"], "created_by": by}


async def listed(store: Store) -> list[dict[str, Any]]:
    rows = [{"username": ADMIN, "role": "admin", "room": None, "created_at": None, "created_by": None,
             "builtin": True}]
    for name, value, _version in await store.records(USER_NS):
        rows.append({"username": name, "role": value["role"], "room": value.get("room"),
                     "created_at": value.get("created_at"), "created_by": value.get("created_by"),
                     "changed_at": value.get("changed_at"), "changed_by": value.get("changed_by")})
    return rows


async def remove(store: Store, name: str) -> bool:
    return await store.delete_record(USER_NS, normalize_name(name))


async def change(store: Store, name: str, *, role: str | None = None, room: str | None = None,
                 hashed: str | None = None, by: str) -> dict[str, Any]:
    """Change an account's role (and room) or password; ValueError with the reason, LookupError
    when there is no such account. The built-in admin keeps its role (its password is the
    server's admin password)."""
    name = normalize_name(name)
    if name == ADMIN:
        if role not in (None, "admin"):
            raise AccountError("builtin", "the built-in admin account keeps the admin role")
        if hashed is not None:
            await store.set_admin_hash(hashed)
        return {"username": ADMIN, "role": "admin", "room": None, "created_at": None, "created_by": None}
    for _ in range(10):  # compare-and-set: two admins changing one account at once lose nothing
        found = await store.record(USER_NS, name)
        if found is None:
            raise LookupError(name)
        value, version = dict(found[0]), found[1]
        new_role = role or value["role"]
        if new_role not in ROLES:
            raise AccountError("role", f"role must be one of {', '.join(ROLES)}")
        new_room = await _room_of_role(store, new_role, room if room is not None else value.get("room"))
        value.update(role=new_role, room=new_room, changed_at=iso(datetime.now(timezone.utc)), changed_by=by)
        if hashed is not None:
            value["hash"] = hashed
        if await store.put_record(USER_NS, name, value, expected=version) is not None:
            return {"username": name, "role": new_role, "room": new_room, "created_at": value.get("created_at"),
                    "created_by": value.get("created_by"), "changed_at": value["changed_at"], "changed_by": by}
    raise AccountError("busy", f"user {name!r} kept changing: try again")


def permitted(who: dict[str, Any], method: str, template: str, code: str | None) -> str | None:
    """None if allowed, else the refusal's code."""
    role = who["role"]
    if role == "admin":
        return None

    def matches(rules) -> bool:
        return any(path == template and m in ("*", method) for m, path in rules)

    if (method, template) in _SELF:
        return None
    if matches(_ADMIN_ONLY):
        return "admin_only"
    if role == "technician":
        return "not_for_technicians" if matches(_NOT_TECHNICIAN) else None
    # supervisor: its own room only, reading, plus the live exam's writes
    if code is not None and normalize_code(code) != who.get("room"):
        return "not_your_room"
    if method not in ("GET", "HEAD") and (method, template) not in _SUPERVISOR_WRITES:
        return "not_for_supervisors"
    return None
