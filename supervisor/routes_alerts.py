"""Routes of the alerts grouped per machine, kind and subject (supervisor/alertgroups.py).

Facts read: the store's alert groups and alerts, through supervisor/service.py. Pages are
newest first with a stable cursor (``before``: the ``next`` of the previous page). The flat
``GET /rooms/{code}/alerts`` and the per-alert acknowledgement (supervisor/routes_room.py)
stay as they were.
"""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Query

from supervisor.alertgroups import PAGE_DEFAULT, PAGE_MAX, page
from supervisor.apierror import ApiError
from supervisor.deps import get_server, room_of, supervisor_auth
from supervisor.models import AlertGroupPage, AlertOut, ErrorBody, GroupAckOut, GroupAlertsPage
from supervisor.service import Server

ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorBody} for code in (401, 403, 404, 422)}
router = APIRouter(responses=ERRORS)
MAX_SEQ = 2**62
# A group id from the address: bounded like the cursors, or SQLite's 64-bit integers overflow (500).
GROUP_ID = Path(..., ge=1, le=MAX_SEQ, description="the group's gid")


@router.get("/rooms/{code}/alert-groups", response_model=AlertGroupPage, tags=["supervisor"])
async def alert_groups(code: str, before: int | None = Query(None, ge=1, le=MAX_SEQ,
                                                             description="the previous page's next"),
                       limit: int = Query(PAGE_DEFAULT, ge=1, le=PAGE_MAX),
                       open: bool | None = Query(None, description="true: with open alerts, false: all acknowledged"),
                       user: str = Depends(supervisor_auth), server: Server = Depends(get_server)) -> dict:
    """The room's alerts grouped per machine, kind and subject (program, host...), the group
    with the newest alert first: count, open count, first and last time, the latest details.
    The stream's ``group`` messages bring a group's new count as alerts arrive."""
    room = (await room_of(code, server))["code"]
    rows = await server.store.alert_groups(room, before, limit + 1, open_only=open)
    groups, cursor = page(rows, limit, "last_seq")
    return {"groups": [server.timed_group(room, g) for g in groups], "next": cursor}


@router.get("/rooms/{code}/alert-groups/{gid}/alerts", response_model=GroupAlertsPage, tags=["supervisor"])
async def group_alerts(code: str, gid: int = GROUP_ID, before: int | None = Query(None, ge=1, le=MAX_SEQ),
                       limit: int = Query(PAGE_DEFAULT, ge=1, le=PAGE_MAX),
                       user: str = Depends(supervisor_auth), server: Server = Depends(get_server)) -> dict:
    """The alerts of one group, newest first."""
    room = (await room_of(code, server))["code"]
    if not await server.store.alert_groups(room, None, 1, gids=[gid]):
        raise ApiError(404, "no_alert_group", f"no alert group {gid} in this room")
    rows, cursor = page(await server.store.group_alerts(room, gid, before, limit + 1), limit, "seq")
    return {"alerts": [{k: r.get(k) for k in AlertOut.model_fields} for r in (server.timed(room, r) for r in rows)],
            "next": cursor}


@router.post("/rooms/{code}/alert-groups/{gid}/ack", response_model=GroupAckOut, tags=["supervisor"])
async def ack_group(code: str, gid: int = GROUP_ID, upto: int | None = Query(None, ge=1, le=MAX_SEQ,
                                                                   description="acknowledge the alerts up to this seq "
                                                                   "(the group's last_seq the supervisor saw); "
                                                                   "default: all"),
                    user: str = Depends(supervisor_auth), server: Server = Depends(get_server)) -> dict:
    """Acknowledge a group's open alerts at once (idempotent). With ``upto``, an alert that
    arrived after the supervisor looked stays open."""
    reply = await server.ack_group((await room_of(code, server))["code"], gid, user, upto)
    if reply is None:
        raise ApiError(404, "no_alert_group", f"no alert group {gid} in this room")
    return reply
