"""The two posts every companion sends all session long, served without FastAPI's machinery.

Heartbeats (every 2 s per machine) and event batches are most of the server's traffic.
FastAPI's routing and dependency resolution cost several times the work itself, so a
request that is plainly fine - POST, JSON, a known machine token, a body that validates -
is handled here with the very same models and functions as the documented routes
(supervisor/routes_agent.py). Anything else (no token, unknown token, invalid body...) falls
through to those routes, which answer it with their usual errors: one behaviour, one place.
"""
from __future__ import annotations

from typing import Any, Awaitable, Callable

from pydantic import BaseModel, ValidationError

from supervisor.auth import token_hash
from supervisor.apierror import ApiError
from supervisor.models import EventsIn, HeartbeatIn

Send = Callable[[dict[str, Any]], Awaitable[None]]


def _lanes():
    from supervisor.routes_agent import record_heartbeat, store_events

    return {"/api/v1/heartbeat": (HeartbeatIn, record_heartbeat), "/api/v1/events": (EventsIn, store_events)}


class FastLane:
    def __init__(self, server: Any) -> None:
        self.server = server
        self.lanes = _lanes()

    async def try_handle(self, scope: dict[str, Any], body: bytes, send: Send) -> bool:
        """True when the request was answered here; False: let the regular route take it."""
        lane = self.lanes.get(scope.get("path", ""))
        if lane is None or scope.get("method") != "POST":
            return False
        token = content_type = None
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                token = value
            elif name == b"content-type":
                content_type = value
        if not token or token[:7].lower() != b"bearer " or content_type is None \
                or not content_type.split(b";")[0].strip().lower() == b"application/json":
            return False
        who = await self.server.machine_for_token(token_hash(token[7:].strip().decode("latin-1")))
        if who is None:
            return False
        model, handler = lane
        try:
            parsed = model.model_validate_json(body)
            reply: BaseModel = await handler(self.server, who, parsed)
        except (ValidationError, ApiError, ValueError):
            return False
        data = reply.model_dump_json().encode()
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]})
        await send({"type": "http.response.body", "body": data})
        return True
