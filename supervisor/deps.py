"""Who is calling: FastAPI dependencies for machine and supervisor tokens, and API errors.

A missing or unknown token is 401; a valid token of the wrong kind (a machine on a
supervisor route, or the reverse) is 403; an unknown room is 404. Errors are JSON
``{"error": text, "code": stable id, "detail": ...}``; the agent translates ``code``.
"""
from __future__ import annotations

from typing import Any

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from supervisor import accounts
from supervisor.apierror import ApiError
from supervisor.auth import token_hash
from supervisor.service import Server
from supervisor.store import normalize_code, utcnow

# Dependencies are coroutines: the store's reads are coroutines too (a dict hit for a cached
# machine token, else one indexed read that never blocks the event loop).
bearer = HTTPBearer(auto_error=False, description="Token from /api/v1/login (supervisor) or /api/v1/enroll (machine)")


async def get_server(request: Request) -> Server:
    return request.app.state.server


def _token(creds: HTTPAuthorizationCredentials | None) -> str:
    if creds is None or not creds.credentials:
        raise ApiError(401, "no_token", "missing bearer token (Authorization: Bearer ...)")
    return creds.credentials


async def machine_auth(creds: HTTPAuthorizationCredentials | None = Depends(bearer),
                 server: Server = Depends(get_server)) -> tuple[str, str]:
    """(room code, machine id) of the calling machine."""
    digest = token_hash(_token(creds))
    found = await server.machine_for_token(digest)
    if found is not None:
        return found
    if await server.store.session_user(digest, utcnow()) is not None:
        raise ApiError(403, "wrong_token_kind", "a supervisor token cannot send machine data")
    why, detail = await server.token_refusal(digest)
    if why == "token_expired":
        raise ApiError(401, why, "this machine token expired: enrol again with this machine's secret "
                       "(the agent and the companion do it by themselves; else run examroom check again)",
                       {**detail, "fix": "POST /api/v1/enroll with the room code, the machine and its secret"})
    if why == "machine_revoked":
        raise ApiError(401, why, "a supervisor revoked this machine: it can send nothing until a supervisor "
                       "removes it from the room in the dashboard (then it enrols again)", detail)
    raise ApiError(401, "bad_token", "unknown or revoked token: enrol this machine again")


async def _supervisor(token: str, server: Server) -> str:
    digest = token_hash(token)
    user = await server.store.session_user(digest, utcnow())
    if user is not None:
        return user
    if await server.machine_for_token(digest) is not None:
        raise ApiError(403, "wrong_token_kind", "a machine token cannot use supervisor routes")
    raise ApiError(401, "bad_token", "unknown or expired token: log in again")


async def _authorised(request: Request, token: str, server: Server) -> str:
    """The supervisor's user name, once their role allows this route (supervisor/accounts.py)."""
    name = await _supervisor(token, server)
    who = await accounts.account(server.store, name)
    if who is None:
        raise ApiError(401, "bad_token", "this account was removed: log in again")
    route = request.scope.get("route")
    # The route's template without the API prefix ("/rooms/{code}/machines").
    template = getattr(route, "path", request.url.path).removeprefix("/api/v1")
    refused = accounts.permitted(who, request.method, template, request.path_params.get("code"))
    if refused is not None:
        raise ApiError(403, refused, f"the {who['role']} role cannot do this", {"role": who["role"]})
    request.state.account = who
    return name


async def supervisor_auth(request: Request, creds: HTTPAuthorizationCredentials | None = Depends(bearer),
                          server: Server = Depends(get_server)) -> str:
    """The supervisor's user name (their account is in ``request.state.account``)."""
    return await _authorised(request, _token(creds), server)


async def stream_auth(request: Request, creds: HTTPAuthorizationCredentials | None = Depends(bearer),
                token: str | None = Query(None, max_length=200,
                                          description="supervisor token (EventSource cannot set headers)"),
                server: Server = Depends(get_server)) -> tuple[str, str]:
    """(user name, token hash): the stream is tied to its token (closed at logout and expiry)."""
    if creds is not None and creds.credentials:
        return await _authorised(request, creds.credentials, server), token_hash(creds.credentials)
    if token:
        return await _authorised(request, token, server), token_hash(token)
    raise ApiError(401, "no_token", "missing bearer token (Authorization header or ?token=)")


async def room_of(code: str, server: Server) -> dict[str, Any]:
    room = await server.store.room(normalize_code(code))
    if room is None:
        raise ApiError(404, "unknown_room", f"no room with code {code!r}")
    return room
