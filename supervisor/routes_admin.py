"""Routes that manage the server: accounts (admin), a room's enrolment and its machines.

Facts read: the request bodies and the caller's account (supervisor/accounts.py decides who
may call which route). Every change is published on the room's stream so open dashboards
follow it.
"""
from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from supervisor import accounts, enrolment
from supervisor.auth import hash_password
from supervisor.apierror import ApiError
from supervisor.deps import get_server, room_of, supervisor_auth
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


class UserOut(BaseModel):
    username: str
    role: str
    room: str | None
    created_at: str | None
    created_by: str | None


@router.get("/users", response_model=list[UserOut], tags=["admin"])
async def list_users(user: str = Depends(supervisor_auth), server: Server = Depends(get_server)) -> list[dict]:
    return await accounts.listed(server.store)


@router.post("/users", response_model=UserOut, tags=["admin"])
async def add_user(body: UserIn, user: str = Depends(supervisor_auth), server: Server = Depends(get_server)) -> dict:
    """A named account (the journal and the PV then say who did what)."""
    why = weakness(body.password)
    if why is not None:
        raise ApiError(422, "weak_password", f"the password needs at least {MIN_LENGTH} characters and must not be "
                       "a common one", {"reason": why.rsplit(".", 1)[-1]})
    hashed = await run_in_threadpool(hash_password, body.password)
    try:
        return await accounts.add(server.store, body.username, body.role, body.room, hashed, user)
    except ValueError as exc:
        raise ApiError(409 if "exists" in str(exc) else 422, "bad_user", str(exc)) from None


@router.delete("/users/{name}", tags=["admin"])
async def remove_user(name: str, user: str = Depends(supervisor_auth),
                      server: Server = Depends(get_server)) -> dict[str, bool]:
    """Remove an account: its tokens stop working at their next request."""
    if accounts.normalize_name(name) == accounts.ADMIN:
        raise ApiError(422, "bad_user", "the admin account cannot be removed")
    if not await accounts.remove(server.store, name):
        raise ApiError(404, "no_user", f"no user {name!r}")
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
    """Revoke the machine's token and secret: it must enrol again (while enrolment is open)."""
    if not await server.revoke_machine((await room_of(code, server))["code"], machine_id, remove=False):
        raise ApiError(404, "no_machine", f"no machine {machine_id!r} in this room")
    return {"ok": True}


@router.delete("/rooms/{code}/machines/{machine_id}", tags=["supervisor"])
async def remove_machine(code: str, machine_id: str, user: str = Depends(supervisor_auth),
                         server: Server = Depends(get_server)) -> dict[str, bool]:
    """Remove the machine from the room (its reports and events are kept); its id is free again."""
    if not await server.revoke_machine((await room_of(code, server))["code"], machine_id, remove=True):
        raise ApiError(404, "no_machine", f"no machine {machine_id!r} in this room")
    return {"ok": True}
