"""Routes that manage the server: accounts (admin), a room's enrolment and its machines.

Facts read: the request bodies and the caller's account (supervisor/accounts.py decides who
may call which route). Every change is published on the room's stream so open dashboards
follow it.
"""
from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from core.i18n import t
from supervisor import accounts, enrolment
from supervisor.auth import hash_password
from supervisor.apierror import ApiError
from supervisor.auth import token_hash
from supervisor.deps import bearer, get_server, room_of, supervisor_auth
from supervisor.models import EnrolmentIn, EnrolmentOut, ErrorBody, _In
from supervisor.passwords import MIN_LENGTH, weakness
from supervisor.service import Server

ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorBody} for code in (400, 401, 403, 404, 409, 422)}
router = APIRouter(responses=ERRORS)

class UserIn(_In):
    username: str = Field(min_length=2, max_length=32)
    password: str = Field(min_length=1, max_length=1024)
    role: Literal["admin", "technician", "supervisor"]
    room: str | None = Field(None, max_length=32, description="the room of a supervisor account")


class UserChangeIn(_In):
    role: Literal["admin", "technician", "supervisor"] | None = None
    room: str | None = Field(None, max_length=32, description="the room of a supervisor account")
    password: str | None = Field(None, min_length=1, max_length=1024, description="a new password")


class UserOut(BaseModel):
    username: str
    role: str
    room: str | None
    created_at: str | None
    created_by: str | None
    changed_at: str | None = None
    changed_by: str | None = None
    builtin: bool = Field(False, description="the server's own admin account (cannot be removed nor demoted)")


class MeOut(BaseModel):
    username: str
    role: str
    room: str | None


def _weak(password: str) -> None:
    why = weakness(password)
    if why is not None:
        raise ApiError(422, "weak_password", f"the password needs at least {MIN_LENGTH} characters and must not be "
                       "a common one", {"reason": why.rsplit(".", 1)[-1]})


@router.get("/me", response_model=MeOut, tags=["supervisor"])
async def me(request: Request, user: str = Depends(supervisor_auth)) -> dict:
    """The caller's account: the dashboard shows what its role allows."""
    who = request.state.account
    return {"username": who["username"], "role": who["role"], "room": who.get("room")}


@router.get("/users", response_model=list[UserOut], tags=["admin"])
async def list_users(user: str = Depends(supervisor_auth), server: Server = Depends(get_server)) -> list[dict]:
    return await accounts.listed(server.store)


@router.post("/users", response_model=UserOut, tags=["admin"])
async def add_user(body: UserIn, user: str = Depends(supervisor_auth), server: Server = Depends(get_server)) -> dict:
    """A named account (the journal and the PV then say who did what)."""
    _weak(body.password)
    hashed = await run_in_threadpool(hash_password, body.password)
    try:
        made = await accounts.add(server.store, body.username, body.role, body.room, hashed, user)
    except accounts.AccountError as exc:
        raise ApiError(409 if exc.reason == "exists" else 422, "bad_user", str(exc), {"reason": exc.reason}) from None
    server.audit("audit.account_created", by=user, name=made["username"], role=made["role"],
                 room=f" {made['room']}" if made["room"] else "")
    return made


@router.patch("/users/{name}", response_model=UserOut, tags=["admin"])
async def change_user(name: str, body: UserChangeIn, creds: HTTPAuthorizationCredentials | None = Depends(bearer),
                      user: str = Depends(supervisor_auth), server: Server = Depends(get_server)) -> dict:
    """Change an account's role (a supervisor's room) or password. The account's other sessions
    end (and their live streams close): it logs in again with what it may now do."""
    if body.role is None and body.room is None and body.password is None:
        # as `examroom user change` with no option: nothing is written, no session ends
        raise ApiError(422, "bad_user", "nothing to change: give role, room or password", {"reason": "nothing"})
    if body.password is not None:
        _weak(body.password)
    hashed = await run_in_threadpool(hash_password, body.password) if body.password is not None else None
    try:
        changed = await accounts.change(server.store, name, role=body.role, room=body.room, hashed=hashed, by=user)
    except LookupError:
        raise ApiError(404, "no_user", f"no user {name!r}") from None
    except accounts.AccountError as exc:
        status = 409 if exc.reason == "busy" else 422   # edited meanwhile: try again, the body was right
        raise ApiError(status, "bad_user", str(exc), {"reason": exc.reason}) from None
    # The caller's own session stays (an admin changing their own password is not logged out).
    await server.end_sessions(changed["username"], keep=token_hash(creds.credentials) if creds else None)
    server.audit("audit.account_changed", by=user, name=changed["username"], role=changed["role"],
                 room=f" {changed['room']}" if changed.get("room") else "",
                 password=t("audit.password_changed", server.settings.lang) if body.password else "")
    return changed


@router.delete("/users/{name}", tags=["admin"])
async def remove_user(name: str, user: str = Depends(supervisor_auth), server: Server = Depends(get_server),
                      confirm_self: bool = Query(False, description="needed to remove one's own account")
                      ) -> dict[str, bool]:
    """Remove an account: its sessions end at once and their live streams close. The built-in
    admin cannot be removed (so there is always an admin); removing one's own account needs
    ``confirm_self=true``."""
    name = accounts.normalize_name(name)
    if name == accounts.ADMIN:
        raise ApiError(422, "bad_user", "the admin account cannot be removed", {"reason": "builtin"})
    if name == user and not confirm_self:
        raise ApiError(409, "confirm_self", "this is your own account: confirm (confirm_self=true) to remove it")
    if not await accounts.remove(server.store, name):
        raise ApiError(404, "no_user", f"no user {name!r}")
    await server.end_sessions(name)
    server.audit("audit.account_removed", by=user, name=name)
    return {"ok": True}


@router.get("/rooms/{code}/enrolment", response_model=EnrolmentOut, tags=["supervisor"])
async def get_enrolment(code: str, user: str = Depends(supervisor_auth), server: Server = Depends(get_server)) -> dict:
    return await enrolment.window(server.store, await room_of(code, server))


@router.put("/rooms/{code}/enrolment", response_model=EnrolmentOut, tags=["supervisor"])
async def set_enrolment(code: str, body: EnrolmentIn, user: str = Depends(supervisor_auth),
                        server: Server = Depends(get_server)) -> dict:
    """Open the room's enrolment for ``open_hours`` (0: close it now), set its machine cap."""
    room = await room_of(code, server)
    state = await enrolment.set_window(server.store, room, open_hours=body.open_hours,
                                       max_machines=body.max_machines)
    server.publish(room["code"], "enrolment", {**state, "by": user})
    return state


@router.post("/rooms/{code}/machines/{machine_id}/revoke", tags=["supervisor"])
async def revoke_machine(code: str, machine_id: str, user: str = Depends(supervisor_auth),
                         server: Server = Depends(get_server)) -> dict[str, bool]:
    """Revoke the machine's token and secret: its posts and enrolments are refused
    (``machine_revoked``) until it is removed; the journal says who revoked it."""
    if not await server.revoke_machine((await room_of(code, server))["code"], machine_id, remove=False, by=user):
        raise ApiError(404, "no_machine", f"no machine {machine_id!r} in this room")
    return {"ok": True}


@router.delete("/rooms/{code}/machines/{machine_id}", tags=["supervisor"])
async def remove_machine(code: str, machine_id: str, user: str = Depends(supervisor_auth),
                         server: Server = Depends(get_server)) -> dict[str, bool]:
    """Remove the machine from the room: its tile goes, its id is free again (it may enrol while
    the room's enrolment is open); its reports and events are kept for the journal and the PV."""
    if not await server.revoke_machine((await room_of(code, server))["code"], machine_id, remove=True, by=user):
        raise ApiError(404, "no_machine", f"no machine {machine_id!r} in this room")
    return {"ok": True}
