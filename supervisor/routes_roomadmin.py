"""Routes that administer a room: its own companion settings, its deletion, its archive.

Facts read: the request bodies, the caller's account (supervisor/accounts.py: settings for
admins and technicians, deletion for admins), the store through supervisor/service.py.
The rules (what a setting may be, when a room may be deleted, what is kept) are in
supervisor/roomadmin.py and core/roomsettings.py.
"""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from core.roomsettings import SettingsProblem
from supervisor import roomadmin
from supervisor.apierror import ApiError
from supervisor.deps import get_server, room_of, supervisor_auth
from supervisor.models import ErrorBody, RoomSettingsIn, RoomSettingsOut
from supervisor.service import Server
from supervisor.store import normalize_code

ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorBody} for code in (400, 401, 403, 404, 409, 422)}
router = APIRouter(responses=ERRORS)


def bad_setting(exc: SettingsProblem) -> ApiError:
    return ApiError(422, "bad_setting", str(exc), {"field": exc.field, "reason": exc.key.rsplit(".", 1)[-1]})


@router.get("/rooms/{code}/settings", response_model=RoomSettingsOut, tags=["supervisor"])
async def get_settings(code: str, user: str = Depends(supervisor_auth), server: Server = Depends(get_server)) -> dict:
    """The room's companion settings: what its companions run with, what it sets itself, the server's."""
    return await server.room_settings((await room_of(code, server))["code"])


@router.put("/rooms/{code}/settings", response_model=RoomSettingsOut, tags=["supervisor"])
async def put_settings(code: str, body: RoomSettingsIn, user: str = Depends(supervisor_auth),
                       server: Server = Depends(get_server)) -> dict:
    """Replace the room's own settings (a field left out: the server's value). Its companions
    get them in their next heartbeat answer; a companion outside them is flagged."""
    room = (await room_of(code, server))["code"]
    try:
        return await server.set_room_settings(room, body.model_dump(exclude_none=True), user)
    except SettingsProblem as exc:
        raise bad_setting(exc) from None


@router.delete("/rooms/{code}", tags=["admin"])
async def delete_room(code: str, force: bool = Query(False, description="delete even if the room received "
                                                     "reports or events in the last 24 hours"),
                      user: str = Depends(supervisor_auth), server: Server = Depends(get_server)) -> dict:
    """Delete a room: its machines' tokens are revoked at once; its reports, events and PV edits
    are kept (``GET /rooms/{code}/archive`` exports them) and its code is never drawn again. A
    room in use (a report or an event in the last 24 hours) is refused (409) unless ``force``."""
    room = await room_of(code, server)
    try:
        return await server.delete_room(room, user, force=force)
    except roomadmin.RoomActive as exc:
        raise ApiError(409, "room_active", f"{exc}: export it (GET /rooms/{room['code']}/archive), then delete "
                       "with force=true", exc.activity) from None
    except LookupError:
        raise ApiError(404, "unknown_room", f"no room with code {code!r}") from None


@router.get("/rooms/{code}/archive", tags=["supervisor"],
            responses={200: {"description": "everything the room recorded (examroom.room-archive/1)"}})
async def room_archive(code: str, user: str = Depends(supervisor_auth), server: Server = Depends(get_server)) -> dict:
    """Everything a room recorded - room, machines, reports, events, PV edits - also for a
    deleted room."""
    found = await roomadmin.archive(server.store, normalize_code(code))
    if found is None:
        raise ApiError(404, "unknown_room", f"no room with code {code!r}")
    return found
