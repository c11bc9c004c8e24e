"""Routes used by supervisors (the dashboard): login, rooms, machines, events, alerts, exports, SSE.

Facts read: the store and the in-memory live state, through supervisor/service.py.
"""
from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response, StreamingResponse

from core.i18n import LANGS, table
from core.report import Report
from core.machines import display_names
from core.roomsummary import csv_text, latest_per_machine
from core.kinds import kinds
from core.roomsettings import SettingsProblem, checked
from supervisor import accounts, incidents, pvmerge
from supervisor.auth import SUPERVISOR_PREFIX, hash_password, new_token, token_hash, verify_password
from supervisor.throttle import TooManyAttempts
from supervisor.apierror import ApiError
from supervisor.deps import bearer, get_server, room_of, stream_auth, supervisor_auth
from supervisor.models import (AckOut, AlertOut, ErrorBody, EventOut, ExamTimeline, IncidentLine, LoginIn, MachineOut,
                               PvEditsIn, PvEditsOut, PvPatchIn, RoomIn, RoomOut, RoomSummary, TokenOut)
from supervisor.routes_roomadmin import bad_setting
from supervisor.service import Server
from supervisor.store import iso, utcnow

ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorBody} for code in (400, 401, 403, 404, 413, 422)}
router = APIRouter(responses=ERRORS)
Lang = Literal["fr", "en"]
MAX_SEQ = 2**62
_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


@router.post("/login", response_model=TokenOut, tags=["supervisor"], responses={429: {"model": ErrorBody}})
async def login(body: LoginIn, request: Request, server: Server = Depends(get_server)) -> TokenOut:
    """A supervisor token (valid for the session's length, 12 h by default)."""
    who = request.client.host if request.client else "?"
    try:
        # Checked and charged before the hash is computed (no await in between): concurrent
        # guesses cannot all pass the check (supervisor/throttle.py).
        attempt = server.login_guard.begin(body.username, who, body.device)
    except TooManyAttempts as exc:
        raise ApiError(429, "too_many_attempts", "too many failed logins: try again later",
                       {"retry_after_s": int(exc.wait_s) + 1}) from None
    username = accounts.normalize_name(body.username)
    stored = await accounts.password_hash(server.store, username)
    # An unknown account costs the same hash as a known one: timing does not tell them apart.
    # A few scrypt at a time (16 MiB each), whatever the load; a known browser has its own
    # slots, so the real admin does not queue behind an attack's guesses.
    async with (server.trusted_hash_slots if attempt.trusted else server.hash_slots):
        ok = await run_in_threadpool(verify_password, body.password, stored or _DUMMY_HASH)
    ok = ok and stored is not None
    if not ok:
        raise ApiError(401, "bad_login", "wrong user name or password")
    device = server.login_guard.succeeded(attempt)
    token = new_token(SUPERVISOR_PREFIX)
    hours = server.settings.session_hours
    expires = iso(datetime.now(timezone.utc) + timedelta(hours=hours))
    await server.add_session(token_hash(token), username, expires)
    return TokenOut(token=token, device=device)



@router.post("/logout", tags=["supervisor"])
async def logout(creds: HTTPAuthorizationCredentials | None = Depends(bearer),
                 user: str = Depends(supervisor_auth), server: Server = Depends(get_server)) -> dict[str, bool]:
    """Revoke this supervisor token and end the live streams opened with it."""
    digest = token_hash(creds.credentials)
    await server.store.remove_session(digest)
    server.hub.close_owner(digest)
    return {"ok": True}


@router.post("/rooms", response_model=RoomOut, tags=["supervisor"])
async def create_room(body: RoomIn, user: str = Depends(supervisor_auth),
                      server: Server = Depends(get_server)) -> RoomOut:
    name = body.name.strip()
    if not name:
        raise ApiError(422, "invalid", "the room name is empty")
    own = body.settings.model_dump(exclude_none=True) if body.settings is not None else {}
    try:   # checked before the room exists: a bad setting creates nothing
        checked(own, server.liveness.room)
    except SettingsProblem as exc:
        raise bad_setting(exc) from None
    room = await server.create_room(name)
    if own:
        await server.set_room_settings(room["code"], own, user)
    return RoomOut(code=room["code"], name=room["name"])


@router.get("/rooms", response_model=list[RoomSummary], tags=["supervisor"])
async def list_rooms(request: Request, user: str = Depends(supervisor_auth),
                     server: Server = Depends(get_server)) -> list[dict]:
    """Every room; a supervisor account sees its own room only."""
    rooms = await server.store.rooms()
    who = request.state.account
    return [r for r in rooms if who["role"] != "supervisor" or r["code"] == who["room"]]


@router.get("/rooms/{code}/machines", response_model=list[MachineOut], tags=["supervisor"])
async def machines(code: str, user: str = Depends(supervisor_auth), server: Server = Depends(get_server)) -> list[dict]:
    return await server.machine_rows((await room_of(code, server))["code"])


@router.get("/rooms/{code}/machines/{machine_id}/report", tags=["supervisor"],
            responses={200: {"description": "the machine's latest report (examroom.report/1)"}})
async def machine_report(code: str, machine_id: str, user: str = Depends(supervisor_auth),
                         server: Server = Depends(get_server)) -> dict:
    report = await server.store.latest_report((await room_of(code, server))["code"], machine_id)
    if report is None:
        raise ApiError(404, "no_report", f"no report from machine {machine_id!r} in this room")
    return report


@router.get("/rooms/{code}/events", response_model=list[EventOut], tags=["supervisor"])
async def events(code: str, after: int = Query(0, ge=0, le=MAX_SEQ), limit: int = Query(1000, ge=1, le=5000),
                 last: int | None = Query(None, ge=1, le=5000, description="only the newest N (still oldest first)"),
                 user: str = Depends(supervisor_auth), server: Server = Depends(get_server)) -> list[dict]:
    room = (await room_of(code, server))["code"]
    if last is not None:  # a journal's first page: the newest, without reading the whole session
        return [server.timed(room, r) for r in await server.store.events(room, after, last, newest=True)]
    return [server.timed(room, r) for r in await server.store.events(room, after, limit)]


@router.get("/rooms/{code}/alerts", response_model=list[AlertOut], tags=["supervisor"])
async def alerts(code: str, open: bool | None = Query(None, description="true: open only, false: acknowledged only"),
                 user: str = Depends(supervisor_auth), server: Server = Depends(get_server)) -> list[dict]:
    room = (await room_of(code, server))["code"]
    rows = [server.timed(room, r) for r in await server.store.events(room, 0, 100_000, alerts_only=True, open_only=open)]
    return [{k: r.get(k) for k in AlertOut.model_fields} for r in rows]


@router.post("/rooms/{code}/alerts/{event_id}/ack", response_model=AckOut, tags=["supervisor"])
async def ack(code: str, event_id: str, user: str = Depends(supervisor_auth),
              server: Server = Depends(get_server)) -> dict:
    """Acknowledge an alert (idempotent: a second ack returns the first one's time and author)."""
    reply = await server.ack((await room_of(code, server))["code"], event_id, user)
    if reply is None:
        raise ApiError(404, "no_alert", f"no alert {event_id!r} in this room")
    return reply


@router.get("/rooms/{code}/export.csv", tags=["supervisor"], response_class=Response,
            responses={200: {"content": {"text/csv": {}}}})
async def export_csv(code: str, lang: Lang = "fr", user: str = Depends(supervisor_auth),
                     server: Server = Depends(get_server)) -> Response:
    room = await room_of(code, server)
    reports = [Report.model_validate(r) for r in await server.store.latest_reports(room["code"])]
    text = csv_text(latest_per_machine(reports), lang)
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="examroom-{room["code"]}.csv"'})


@router.get("/rooms/{code}/incidents", response_model=list[IncidentLine], tags=["supervisor"],
            responses={200: {"content": {"text/csv": {}}}})
async def incident_draft(code: str, lang: Lang = "fr", format: Literal["json", "csv"] = "json",
                         tz: str | None = Query(None, max_length=64, description="IANA time zone of the clock times, "
                                                "e.g. Europe/Paris (default: the server's)"),
                         edited: bool = Query(False, description="csv: as the supervisors completed it (incidents/edits)"),
                         user: str = Depends(supervisor_auth), server: Server = Depends(get_server)):
    """Draft of the PV d'incident: one line per alert, with a suggested code for the supervisor to confirm."""
    room = await room_of(code, server)
    zone = _zone(tz)
    # A long session's draft is thousands of rows of work: off the event loop.
    rows = [server.timed(room["code"], r) for r in await server.store.events(room["code"], 0, 1_000_000)]
    lines = await run_in_threadpool(incidents.build_draft, rows, lang, zone)
    # the PV names each machine as the dashboard does: cloned images sharing a host name told apart
    names = display_names((m["machine_id"], m["hostname"]) for m in await server.store.machines(room["code"]))
    for line in lines:
        line["hostname"] = names.get(line["machine_id"], line["hostname"])
    if format == "csv":
        edits = await server.store.pv_edits(room["code"]) if edited else None
        return Response(incidents.draft_csv(lines, lang, zone, edits), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="pv-incident-{room["code"]}.csv"'})
    return lines


@router.get("/rooms/{code}/incidents/timeline", response_model=ExamTimeline, tags=["supervisor"])
async def exam_timeline(code: str, user: str = Depends(supervisor_auth), server: Server = Depends(get_server)) -> dict:
    """When the exam started and ended (events exam_started / exam_ended), for the PV's header."""
    room = (await room_of(code, server))["code"]
    return incidents.exam_timeline([server.timed(room, r) for r in await server.store.events(room, 0, 1_000_000)])


@router.get("/rooms/{code}/incidents/edits", response_model=PvEditsOut, tags=["supervisor"])
async def incident_edits(code: str, response: Response, user: str = Depends(supervisor_auth),
                         server: Server = Depends(get_server)) -> dict:
    """The supervisors' completion of the PV draft: changed cells, added lines, a global comment,
    with the version of each line (ETag: the record's version, for If-Match)."""
    saved = await server.store.pv_edits((await room_of(code, server))["code"])
    saved = saved or {"edits": {}, "extra": [], "comment": "", "version": 0, "updated_at": None, "updated_by": None}
    response.headers["ETag"] = f'"{saved["version"]}"'
    return saved


@router.put("/rooms/{code}/incidents/edits", response_model=PvEditsOut, tags=["supervisor"],
            responses={412: {"model": ErrorBody}})
async def save_incident_edits(code: str, body: PvEditsIn, request: Request, user: str = Depends(supervisor_auth),
                              server: Server = Depends(get_server)) -> dict:
    """Replace the room's PV edits (the whole record) and tell the room's dashboards. With
    ``If-Match: "<version>"`` only if nobody saved since (else 412); without, the last save wins.
    PATCH merges line by line instead."""
    room = (await room_of(code, server))["code"]
    record = body.model_dump(mode="json", exclude={"client"}, exclude_none=True)
    expected = _if_match(request)

    def build(stored):
        if expected is not None and int((stored or {}).get("version") or 0) != expected:
            raise ApiError(412, "pv_changed", "someone saved the PV meanwhile: reload it (or send your line edits "
                           "with PATCH)", {"version": (stored or {}).get("version") or 0})
        return pvmerge.whole(stored, record, user), None

    saved, _ = await server.merge_pv_edits(room, build, user)
    saved["client"] = body.client
    server.publish(room, "pv_edits", saved)
    return saved


@router.patch("/rooms/{code}/incidents/edits", response_model=PvEditsOut, tags=["supervisor"])
async def patch_incident_edits(code: str, body: PvPatchIn, request: Request, user: str = Depends(supervisor_auth),
                               server: Server = Depends(get_server)) -> dict:
    """Line edits made from version ``base_version`` (or ``If-Match``): the lines nobody else
    changed since are saved; the others come back in ``conflicts`` (their text and author),
    left as the other supervisor wrote them. Offline edits are replayed this way."""
    room = (await room_of(code, server))["code"]
    base = _if_match(request)
    base = body.base_version if base is None else base
    patch: dict[str, Any] = {f"e:{k}": (v.model_dump(mode="json") if v is not None else None)
                             for k, v in body.edits.items()}
    for key, line in body.extra.items():
        if line is not None and line.key != key:
            raise ApiError(422, "invalid", f"extra line {key!r}: its key must be {key!r}")
        patch[f"x:{key}"] = line.model_dump(mode="json") if line is not None else None
    if body.comment is not None:
        patch[pvmerge.COMMENT] = body.comment
    saved, conflicts = await server.merge_pv_edits(room, lambda stored: pvmerge.merge(stored, patch, base, user), user)
    saved["client"] = body.client
    server.publish(room, "pv_edits", saved)
    return {**saved, "conflicts": conflicts}


def _if_match(request: Request) -> int | None:
    value = request.headers.get("if-match", "").strip().strip('W/').strip('"')
    if not value:
        return None
    if not value.isdigit() or len(value) > 18:
        raise ApiError(400, "bad_if_match", 'If-Match must be a version, e.g. "3"')
    return int(value)


def _zone(name: str | None) -> tzinfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ApiError(422, "invalid", f"unknown time zone {name!r} (e.g. Europe/Paris)") from None


@router.get("/rooms/{code}/stream", tags=["supervisor"], response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}}}})
async def stream(code: str, who: tuple[str, str] = Depends(stream_auth),
                 server: Server = Depends(get_server)) -> StreamingResponse:
    """Server-Sent Events: ``machine`` (a row changed), ``event`` (a new event), ``ack``. The
    stream ends when its token is revoked (logout: at once) or expires (at the next keep-alive)."""
    room = await room_of(code, server)
    digest = who[1]

    async def still_valid() -> bool:
        # the session (logout, expiry) and its account (removed, e.g. by `examroom user remove`)
        name = await server.store.session_user(digest, utcnow())
        return name is not None and await accounts.account(server.store, name) is not None

    return StreamingResponse(server.hub.stream(room["code"], owner=digest, still_valid=still_valid),
                             media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@router.get("/kinds", tags=["supervisor"])
def event_kinds(user: str = Depends(supervisor_auth)) -> dict[str, Any]:
    """Every event kind with its definition (core/data/kinds.toml): origin (machine or server),
    level, the level's detail, label key, typed details, the details shown, what it closes,
    tile effect, PV code and texts; variants override it for events whose details match."""
    return kinds().public()


@router.get("/i18n/{lang}", tags=["public"])
def translations(lang: str) -> dict[str, str]:
    """The dashboard's texts (keys ``dash.*``) in one language, with the checks' titles
    (``check.<id>.title``), the statuses (``status.<status>``) and the whitelist reasons
    (``reason.<reason>``, the crash test's own names): a tile then names a check in
    the dashboard's language whatever the language the agent ran in."""
    if lang not in LANGS:
        raise ApiError(404, "unknown_lang", f"no language {lang!r} (fr or en)")
    return {key: texts.get(lang) or texts.get("en", key) for key, texts in table().items()
            if key.startswith(("dash.", "status.", "reason.")) or _TITLE.match(key)}


_TITLE = re.compile(r"^check\.[a-z0-9_]+\.title$")
