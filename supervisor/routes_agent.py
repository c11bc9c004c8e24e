"""Routes used by agents and companions: enrolment, reports, events, heartbeats.

Facts read: the request bodies (validated by supervisor/models.py) and the caller's machine
token. A machine token only ever writes rows of its own (room, machine id).
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

from fastapi import APIRouter, Depends, Request

from core import __version__
from core.report import Report
from core.kinds import kinds
from supervisor.auth import MACHINE_PREFIX, new_token, token_hash
from supervisor import enrolment, limits
from supervisor.apierror import ApiError
from supervisor.deps import get_server, machine_auth, room_of
from supervisor.models import (EnrollIn, EnrollOut, ErrorBody, EventsIn, EventsOut, HeartbeatIn,
                               HeartbeatOut, ReportOut)
from supervisor.service import Server
from supervisor.store import iso, utcnow

ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorBody}
                                           for code in (400, 401, 403, 404, 413, 422, 429)}
router = APIRouter(responses=ERRORS)


def _storable(value: Any) -> None:
    try:
        json.dumps(value, allow_nan=False)
    except ValueError:
        raise ApiError(422, "invalid", "numbers must be finite (no NaN or Infinity)") from None


@router.get("/health", tags=["public"])
def health() -> dict[str, Any]:
    return {"ok": True, "version": __version__}


@router.post("/enroll", response_model=EnrollOut, tags=["agent"])
async def enroll(body: EnrollIn, request: Request, server: Server = Depends(get_server)) -> EnrollOut:
    """Enrol a machine in a room with the room's code, while the room's enrolment is open (24 h
    after its creation by default; supervisors open and close it). The first enrolment of a
    machine id returns a ``secret``; enrolling that id again needs it (then even when closed),
    gives a new token and revokes the previous one. Another machine cannot take the id (409);
    a supervisor removes a machine that lost its secret. Guessing codes is throttled per
    address (a whole room behind one NAT mistyping a code stays well below)."""
    who = request.client.host if request.client else "?"
    wait = server.enrol_throttle.wait_s(who)
    if wait > 0:
        raise ApiError(429, "too_many_attempts", "too many unknown room codes: try again later",
                       {"retry_after_s": int(wait) + 1})
    server.enrol_throttle.failed(who)  # charged before the await: concurrent guesses count too
    room = await room_of(body.room_code, server)  # unknown code: 404, the charge stays
    server.enrol_throttle.succeeded(who)
    machine_id = body.machine.id.strip()
    if not machine_id or len(machine_id) > 128:
        raise ApiError(422, "invalid", "machine.id must hold 1 to 128 characters")
    machine = body.machine.model_dump(mode="json")
    machine["id"] = machine_id
    _storable(machine)
    limits.check_machine(machine)
    secret = await enrolment.admit(server.store, room, machine_id, body.secret)
    token = new_token(MACHINE_PREFIX)
    await server.enroll(room["code"], machine, token_hash(token))
    await server.publish_machine(room["code"], machine_id)
    lifetime = server.machine_token_s
    expires = iso(datetime.now(timezone.utc) + timedelta(seconds=lifetime))
    return EnrollOut(machine_id=machine_id, token=token, secret=secret, token_expires_at=expires,
                     token_lifetime_s=lifetime)


@router.post("/reports", response_model=ReportOut, tags=["agent"])
async def post_report(report: Report, who: tuple[str, str] = Depends(machine_auth),
                      server: Server = Depends(get_server)) -> ReportOut:
    """Store the machine's crash-test report (the latest one is shown, older ones are kept)."""
    room, machine_id = who
    if report.machine.id.strip() != machine_id:
        raise ApiError(403, "not_your_machine",
                       f"this token belongs to machine {machine_id!r}, not {report.machine.id!r}")
    data = report.to_dict()
    _storable(data)
    data = limits.check_report(data, datetime.now(timezone.utc))
    server.quotas.charge(who, reports=1)  # and its bytes kept, when stored (Server.report)
    await server.report(room, machine_id, data)
    return ReportOut(machine_id=machine_id, report_at=data["finished_at"], status=report.status.value,
                     ready=report.ready)


@router.post("/events", response_model=EventsOut, tags=["agent"])
async def post_events(body: EventsIn, who: tuple[str, str] = Depends(machine_auth),
                      server: Server = Depends(get_server)) -> EventsOut:
    """Store companion events; idempotent on each event's id (a replayed batch stores nothing twice)."""
    return await store_events(server, who, body)


async def store_events(server: Server, who: tuple[str, str], body: EventsIn) -> EventsOut:
    events = []
    received = datetime.now(timezone.utc)
    server_only = kinds().server_only()
    for n, event in enumerate(body.events):
        if event.kind in server_only:
            raise ApiError(422, "server_kind", f"events[{n}].kind: {event.kind!r} is raised by the server only, "
                           "never sent by a machine", {"field": f"events[{n}].kind"})
        extra = dict(event.model_extra or {})
        nested = extra.pop("details", None)
        details = {**nested, **extra} if isinstance(nested, dict) else extra
        if nested is not None and not isinstance(nested, dict):
            details["details"] = nested
        limits.check_details(details, f"events[{n}]")
        # typed as the kind's spec declares (machines are untrusted: a list where a name is
        # expected, or a megabyte of undeclared details, never reaches the consumers)
        details = kinds().clean(event.kind, details)
        at = limits.sane_time(event.at, received)
        if at is received:
            details["at_claimed"] = str(event.model_dump(mode="json")["at"])[:64]
        events.append({"id": str(event.id), "kind": event.kind, "at": iso(at), "details": details})
    _storable([e["details"] for e in events])
    server.quotas.charge(who, events=len(events))  # and their bytes kept, when stored (Server.add_events)
    stored, duplicates = await server.events(who[0], who[1], events)
    return EventsOut(stored=stored, duplicates=duplicates)


@router.post("/heartbeat", response_model=HeartbeatOut, tags=["agent"])
async def heartbeat(body: HeartbeatIn, who: tuple[str, str] = Depends(machine_auth),
                    server: Server = Depends(get_server)) -> HeartbeatOut:
    """Companion liveness, focus, connectivity and forbidden programs running."""
    return await record_heartbeat(server, who, body)


async def record_heartbeat(server: Server, who: tuple[str, str], body: HeartbeatIn) -> HeartbeatOut:
    live = await server.heartbeat(who[0], who[1], body)
    # the machine's room's settings ride on every answer: a companion follows them (companion/roomsettings.py)
    return HeartbeatOut(live=live, server_time=utcnow(), settings=server.liveness.settings_for(who[0]).model_dump())
