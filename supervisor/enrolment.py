"""Enrolment a supervisor controls: a window per room, a secret per machine, a cap per room.

Facts read: the room, the enrolling machine's id and the secret it presents, the records of
the store (``enrolment``: the room's window and cap; ``machine_secret``: the SHA-256 of each
machine's secret). Rules:

- A new room is open for enrolment for ``DEFAULT_OPEN_H`` hours (the contract's enrolment
  with the room code keeps working as scripts use it); a supervisor opens and closes it from
  the dashboard. A room without a record (made before this existed) counts from its creation.
- A machine's first enrolment binds its id to a secret generated then, returned once; the
  agent keeps it in its state folder and sends it when it enrols again. Another machine
  presenting the same id without that secret is refused (409): it cannot take the identity.
  With its secret, a machine re-enrols even when the window is closed (it proved who it is).
- At most ``max_machines`` machines per room (default ``DEFAULT_MAX_MACHINES``).
- A supervisor can revoke a machine (its token and secret are forgotten, and it stays refused,
  posts and enrolment alike, with ``machine_revoked``, until removed) or remove it (its tile
  goes, its id is free again: it may enrol while the window is open; its reports and events stay).
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta, timezone
from typing import Any

from supervisor.apierror import ApiError
from supervisor.store import Store, iso

DEFAULT_OPEN_H = 24.0
DEFAULT_MAX_MACHINES = 200
WINDOW_NS, SECRET_NS = "enrolment", "machine_secret"


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def window(store: Store, room: dict[str, Any]) -> dict[str, Any]:
    found = await store.record(WINDOW_NS, room["code"])
    value = found[0] if found else {}
    if "open_until" in value:
        open_until = value["open_until"]  # None: closed by a supervisor
    else:
        open_until = iso(_parse(room["created_at"]) + timedelta(hours=DEFAULT_OPEN_H))
    now = datetime.now(timezone.utc)
    return {"open": open_until is not None and _parse(open_until) > now, "open_until": open_until,
            "max_machines": int(value.get("max_machines") or DEFAULT_MAX_MACHINES)}


async def set_window(store: Store, room: dict[str, Any], *, open_hours: float | None,
                     max_machines: int | None) -> dict[str, Any]:
    """``open_hours``: open for that long from now (0: close now); None: leave as it is."""
    current = await window(store, room)
    value = {"open_until": current["open_until"], "max_machines": current["max_machines"]}
    if open_hours is not None:
        value["open_until"] = iso(datetime.now(timezone.utc) + timedelta(hours=open_hours)) if open_hours > 0 else None
    if max_machines is not None:
        value["max_machines"] = max_machines
    await store.put_record(WINDOW_NS, room["code"], value)
    return await window(store, room)


def _secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


async def admit(store: Store, room: dict[str, Any], machine_id: str, secret: str | None) -> str | None:
    """May this machine enrol? Returns a new secret to hand it (first enrolment), or None when
    it proved its identity with its secret. Raises ApiError (403 closed, 409 taken, 429 full)."""
    key = f"{room['code']}|{machine_id}"
    revoked = await store.record("machine_revoked", key)  # supervisor/service.py REVOKED_NS
    if revoked is not None:
        raise ApiError(403, "machine_revoked", f"a supervisor revoked machine {machine_id!r}: it cannot enrol "
                       "again until a supervisor removes it from the room in the dashboard",
                       {"machine_id": machine_id, "revoked_at": revoked[0].get("at"), "revoked_by": revoked[0].get("by")})
    bound = await store.record(SECRET_NS, key)
    if bound is not None:
        if secret and hmac.compare_digest(bound[0]["hash"], _secret_hash(secret)):
            return None
        raise ApiError(409, "machine_id_taken", f"machine id {machine_id!r} is already enrolled in this room by "
                       "another machine: a supervisor can remove it from the dashboard", {"machine_id": machine_id})
    state = await window(store, room)
    if not state["open"]:
        raise ApiError(403, "enrolment_closed", "enrolment in this room is closed: a supervisor opens it "
                       "from the dashboard", {"open_until": state["open_until"]})
    known = await store.machines(room["code"], machine_id)
    if not known and len(await store.machines(room["code"])) >= state["max_machines"]:
        raise ApiError(429, "room_full", f"this room already has {state['max_machines']} machines",
                       {"max_machines": state["max_machines"]})
    fresh = secrets.token_urlsafe(32)
    if await store.put_record(SECRET_NS, key, {"hash": _secret_hash(fresh)}, expected=0) is None:
        # Another machine with this id enrolled at the very same moment: it won.
        raise ApiError(409, "machine_id_taken", f"machine id {machine_id!r} was just enrolled by another machine",
                       {"machine_id": machine_id})
    return fresh


async def forget_secret(store: Store, room_code: str, machine_id: str) -> None:
    await store.delete_record(SECRET_NS, f"{room_code}|{machine_id}")
