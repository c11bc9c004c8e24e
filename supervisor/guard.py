"""Request bodies, errors and headers of every answer (pure ASGI middleware).

The body is read chunk by chunk and never buffered beyond the limit: a 12 MB upload is
drained and discarded (so the client reliably reads its 413 instead of a connection reset),
up to ``drain_limit``, past which the connection is simply closed. JSON carrying lone UTF-16
surrogates (``"\\ud800"``) parses in Python but can be neither stored nor sent back as UTF-8:
it is refused here with a 400, once, instead of failing deep inside a route. JSON nested
deeper than ``MAX_JSON_DEPTH`` is refused too (400): no parser down the line may recurse on it.

``SecurityHeaders`` is the outermost layer: every answer, a 500 included, carries the
security headers and a JSON body; a full disk is a 503 with Retry-After, logged once per
episode (supervisor/diskfull.py) instead of a traceback per failed write.
"""
from __future__ import annotations

import json
import logging
import re
from typing import Any, Awaitable, Callable

from supervisor import diskfull

_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
# Nothing the agents or the dashboard send nests deeper than ~6 levels; 64 leaves room.
MAX_JSON_DEPTH = 64
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_NO_BODY = {"GET", "HEAD", "OPTIONS"}

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


async def send_json(send: Send, status: int, body: dict[str, Any], *, close: bool = False,
                    extra: list[tuple[bytes, bytes]] | None = None) -> None:
    data = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    headers += extra or []
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


class BodyGuard:
    def __init__(self, app: Callable, *, max_body: int = 1 << 20, drain_limit: int = 64 << 20,
                 fast_lane: Any = None) -> None:
        self.app = app
        self.fast_lane = fast_lane  # supervisor/fastlane.py: hot agent posts, given the checked body
        self.max_body = max_body
        self.drain_limit = drain_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in _NO_BODY:
            return await self.app(scope, receive, send)
        declared = None
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    return await send_json(send, 400, {"error": "invalid Content-Length header",
                                                       "code": "bad_request"}, close=True)
        chunks: list[bytes] = []
        size = 0
        more = True
        too_big = declared is not None and declared > self.max_body
        while more and not too_big:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            more = message.get("more_body", False)
            if size > self.max_body:
                too_big = True
            else:
                chunks.append(chunk)
        if too_big:
            chunks.clear()
            drained = await self._drain(receive, size if more else None)
            return await send_json(send, 413, {
                "error": f"request body too large (limit {self.max_body} bytes)", "code": "too_large",
                "detail": {"limit": self.max_body}}, close=not drained)
        body = b"".join(chunks)
        if too_deep(body, MAX_JSON_DEPTH):
            return await send_json(send, 400, {
                "error": f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels", "code": "too_deep",
                "detail": {"limit": MAX_JSON_DEPTH}})
        if _SURROGATE_ESCAPE.search(body) and _has_lone_surrogate(body):
            return await send_json(send, 400, {"error": "the JSON body holds invalid Unicode (lone surrogate)",
                                               "code": "bad_unicode"})
        if self.fast_lane is not None and await self.fast_lane.try_handle(scope, body, send):
            return
        sent = False

        async def replay() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _drain(self, receive: Receive, already: int | None) -> bool:
        """Read and drop the rest of an oversized body; False if we gave up (connection closed)."""
        if already is None:
            return True
        total = already
        while total <= self.drain_limit:
            message = await receive()
            if message["type"] == "http.disconnect":
                return False
            total += len(message.get("body", b""))
            if not message.get("more_body", False):
                return True
        return False


def too_deep(body: bytes, limit: int) -> bool:
    """True when the JSON text opens more than ``limit`` arrays/objects at once (brackets
    inside strings do not count). Cheap for ordinary bodies: few brackets, no scan."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    depth = 0
    for byte in _JSON_STRING.sub(b"", body).translate(None, _NOT_BRACKETS):
        if byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def _has_lone_surrogate(body: bytes) -> bool:
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return False  # malformed JSON: the route's parser reports it
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


# The dashboard loads its own scripts, styles and API only: no inline script or style, no
# third-party origin, no framing, no plugin; a stored XSS could neither run injected markup
# nor send data elsewhere.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")
_SECURITY_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
                     (b"referrer-policy", b"no-referrer"), (b"content-security-policy", CSP.encode())]
_log = logging.getLogger("examroom.server")


class SecurityHeaders:
    """Headers every answer carries: no MIME sniffing, no framing (clickjacking of the
    dashboard), no Referer (the SSE URL carries a token), the CSP above; API answers are
    never cached. Outermost layer, so it also turns an exception into a JSON 500 (or a 503
    when the disk is full) that carries these headers too."""

    def __init__(self, app: Callable) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        api = scope.get("path", "").startswith("/api/")
        started = False
        status = 0

        async def send_with_headers(message: dict[str, Any]) -> None:
            nonlocal started, status
            if message["type"] == "http.response.start":
                started, status = True, message["status"]
                headers = [(n, v) for n, v in message.get("headers", []) if n.lower() not in _OURS]
                headers += _SECURITY_HEADERS
                if api and not any(name.lower() == b"cache-control" for name, _ in headers):
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception as exc:
            if started:
                raise  # too late for an error answer: uvicorn logs it and closes the connection
            if diskfull.is_disk_full(exc):
                diskfull.episode.failed(exc)
                return await send_json(send_with_headers, 503, {
                    "error": "the server's disk is full: nothing was stored, send it again later",
                    "code": "disk_full", "detail": {"retry_after_s": diskfull.RETRY_AFTER_S}},
                    extra=[(b"retry-after", str(diskfull.RETRY_AFTER_S).encode())])
            _log.exception("%s %s failed", scope.get("method"), scope.get("path"))
            return await send_json(send_with_headers, 500, {
                "error": "internal server error (logged on the server)", "code": "internal", "detail": None})
        if status and status < 500 and scope.get("method") not in _NO_BODY:
            diskfull.episode.wrote()


_OURS = {name for name, _ in _SECURITY_HEADERS}
