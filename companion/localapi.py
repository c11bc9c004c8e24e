"""The local endpoint on 127.0.0.1 only: for our own status window, and a liveness answer.

Routes (JSON):
- ``GET /ping`` -> ``{"companion": "examroom", "version"}``: that a companion runs. It no
  longer lists focus changes: anything on this machine can call it with any ``Origin``.
- ``POST /exam/start``, ``/exam/end``, ``/exam/focus-required``: refused (403
  ``phase_from_extension_only``) and reported (``exam_phase_forged``). The exam phase comes
  only from the platform's own page messages relayed by our browser extension over native
  messaging (companion/extchannel.py): ``curl -H 'Origin: https://app.pix.fr'`` used to end
  the exam and silence the focus watch.
- ``GET /status`` and ``POST /window/focus`` ``{"focused": bool}``: for our own status
  window, which authenticates with a per-run token (``X-Examroom-Token``).

Browsers: any request carrying an ``Origin`` outside the allow-list, or a ``Host`` other than
127.0.0.1 / localhost (DNS rebinding), gets 403 (another web site must not read the
candidate's window titles); allowed origins get CORS headers,
including Chrome's Private Network Access preflight answer, since a public https page
calling 127.0.0.1 is exactly what that check is about.
"""
from __future__ import annotations

import http.server
import json
import logging
import secrets
import threading
from typing import Any, Callable

from core import __version__

log = logging.getLogger(__name__)

DEFAULT_PORT = 47615
DEFAULT_ORIGINS = ("https://app.pix.fr", "https://app.pix.org", "https://certif.pix.fr",
                   "https://app.recette.pix.fr")
MAX_BODY = 16 * 1024


class LocalApi:
    def __init__(self, session: Any, *, port: int = DEFAULT_PORT, origins: tuple[str, ...] = DEFAULT_ORIGINS,
                 status: Callable[[], dict] | None = None) -> None:
        self.session = session
        self.origins = {o.rstrip("/").lower() for o in origins}
        self.token = secrets.token_urlsafe(24)
        self.status = status or (lambda: {})
        handler = _make_handler(self)
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.5},
                                        name="companion-localapi", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def origin_ok(self, origin: str | None) -> bool:
        return origin is None or origin.rstrip("/").lower() in self.origins


def _make_handler(api: LocalApi) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        server_version = "examroom-companion"
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt: str, *args: Any) -> None:
            log.debug("localapi: " + fmt, *args)

        def _cors(self) -> None:
            origin = self.headers.get("Origin")
            if origin and api.origin_ok(origin):
                self.send_header("Access-Control-Allow-Origin", origin)
                self.send_header("Vary", "Origin")

        def _reply(self, code: int, body: dict) -> None:
            data = json.dumps(body, ensure_ascii=False).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self._cors()
            self.end_headers()
            self.wfile.write(data)

        def _guard(self) -> bool:
            host = (self.headers.get("Host") or "").lower()
            if host not in (f"127.0.0.1:{api.port}", f"localhost:{api.port}", "127.0.0.1", "localhost"):
                # DNS rebinding: a site whose name resolves to 127.0.0.1 makes same-origin
                # requests that carry no Origin header, but its own name in Host
                self._reply(403, {"error": "host_not_allowed"})
                return False
            if not api.origin_ok(self.headers.get("Origin")):
                self._reply(403, {"error": "origin_not_allowed", "detail": self.headers.get("Origin")})
                return False
            return True

        def _body(self) -> dict | None:
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            if length < 0 or length > MAX_BODY:
                self._reply(413 if length > MAX_BODY else 400, {"error": "bad_length"})
                return None
            raw = self.rfile.read(length) if length else b"{}"
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                self._reply(400, {"error": "bad_json"})
                return None
            if not isinstance(body, dict):
                self._reply(400, {"error": "bad_json", "detail": "a JSON object is expected"})
                return None
            return body

        def do_OPTIONS(self) -> None:
            if not self._guard():
                return
            self.send_response(204)
            self._cors()
            self.send_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
            self.send_header("Access-Control-Allow-Headers", "Content-Type")
            self.send_header("Access-Control-Max-Age", "600")
            if self.headers.get("Access-Control-Request-Private-Network"):
                self.send_header("Access-Control-Allow-Private-Network", "true")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:
            if not self._guard():
                return
            path = self.path.split("?")[0]
            if path == "/ping":
                self._reply(200, {"companion": "examroom", "version": __version__})
            elif path == "/status":
                if self.headers.get("X-Examroom-Token") != api.token:
                    self._reply(403, {"error": "token_required"})
                    return
                self._reply(200, api.status())
            else:
                self._reply(404, {"error": "not_found"})

        def do_POST(self) -> None:
            if not self._guard():
                return
            path = self.path.split("?")[0]
            body = self._body()
            if body is None:
                return
            if path == "/window/focus":
                if self.headers.get("X-Examroom-Token") != api.token:
                    self._reply(403, {"error": "token_required"})
                    return
                api.session.status.window_focused = bool(body.get("focused"))
                log.info("status window focused: %s", api.session.status.window_focused)
                self._reply(200, {"ok": True})
                return
            if path in ("/exam/start", "/exam/end", "/exam/focus-required"):
                api.session.phase_forged(path, self.headers.get("Origin"))
                self._reply(403, {"error": "phase_from_extension_only"})
            else:
                self._reply(404, {"error": "not_found"})

    return Handler
