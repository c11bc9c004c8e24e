"""The supervisor server: ``create_app(settings) -> FastAPI`` (API under /api/v1, dashboard at /).

Facts read: the store (supervisor/store.py), requests from agents and supervisors. Routes
validate and authenticate, supervisor/service.py does the work. Every bad request is a 4xx
with a JSON ``{"error", "code", "detail"}`` body; OpenAPI is at /openapi.json.
"""
from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from core import __version__
from core.i18n import t
from core.errors import BadInput
from core.roomsettings import RoomSettings
from supervisor.auth import hash_password, verify_password
from supervisor.apierror import ApiError
from supervisor.fastlane import FastLane
from supervisor.guard import BodyGuard, SecurityHeaders
from supervisor.live import Hub
from supervisor.service import Server
from supervisor.dburl import open_store
from supervisor.store import Store
from supervisor.watchdog import Liveness

WEB_DIR = Path(__file__).parent / "web"


@dataclass
class Settings:
    db: str | Path | None = None
    admin_password: str | None = None
    reset_admin_password: bool = False
    max_body: int = 1 << 20
    session_hours: float = 12.0
    machine_token_days: float = 30.0  # a machine token's lifetime (renewed by the agent before it ends)
    web_dir: Path = WEB_DIR
    keepalive_s: float = 15.0
    watchdog_s: float = 1.0
    min_lost_s: float = 6.0
    room: RoomSettings | None = None   # what every companion must run with (None: the defaults)
    lang: str = "en"
    store: Store | None = None  # an opened store (the command line); else opened from ``db``
    own_certificate: Any = None  # supervisor.selfsigned.ServerCertificate under ``serve --self-signed``
    machine_quota_bytes: int = 64 << 20  # what the database keeps at most per machine (supervisor/quotas.py)


async def setup_admin(store: Store, password: str | None, *, reset: bool, lang: str) -> str:
    """First start: store the admin password's hash. Later starts: the stored one wins
    (so an old EXAMROOM_ADMIN_PASSWORD left in a service file cannot silently change it)
    unless ``reset``. Returns what happened: "set", "kept", "differs" or "reset"."""
    stored = await store.admin_hash()
    if stored is None and not password:
        raise BadInput(t("server.no_admin_password", lang), "--admin-password",
                       t("server.no_admin_password.hint", lang))
    if stored is None or (reset and password):
        await store.set_admin_hash(hash_password(password))
        return "reset" if stored is not None else "set"
    if password and not verify_password(password, stored):
        return "differs"
    return "kept"


async def _prepare(store: Store, settings: Settings) -> str:
    # Before the server's loop exists (bad input is exit 2 before anything listens): the store
    # is opened on this short-lived loop and closed; the lifespan opens it again on the server's.
    await store.start()
    try:
        return await setup_admin(store, settings.admin_password, reset=settings.reset_admin_password,
                                 lang=settings.lang)
    finally:
        await store.close()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    store = settings.store or open_store(settings.db)
    admin_state = asyncio.run(_prepare(store, settings))
    hub = Hub(keepalive_s=settings.keepalive_s)
    # PostgreSQL: other processes may share the database; they tell each other what changed.
    fanout = store.fanout() if hasattr(store, "fanout") else None
    server = Server(store, hub, Liveness(min_lost_s=settings.min_lost_s, room=settings.room), settings, fanout=fanout)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        await server.start()
        task = asyncio.create_task(server.watchdog(settings.watchdog_s))
        try:
            yield
        finally:
            task.cancel()
            hub.close_all()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await server.stop()

    app = FastAPI(title="examroom supervisor", version=__version__, lifespan=lifespan,
                  description="Supervisor server of examroom: rooms, machine reports, live session events.",
                  # No swagger page: it loads its script from a CDN (a third party on the
                  # dashboard's origin, broken offline). /openapi.json stays.
                  docs_url=None, redoc_url=None)
    app.state.server = server
    app.state.settings = settings
    app.state.admin_state = admin_state
    _error_handlers(app)

    from supervisor.routes_agent import router as agent_router
    from supervisor.routes_room import router as room_router

    app.include_router(agent_router, prefix="/api/v1")
    app.include_router(room_router, prefix="/api/v1")
    from supervisor.routes_bandwidth import router as bandwidth_router

    app.include_router(bandwidth_router, prefix="/api/v1")
    from supervisor.routes_admin import router as admin_router

    app.include_router(admin_router, prefix="/api/v1")
    from supervisor.routes_tls import router as tls_router

    app.include_router(tls_router, prefix="/api/v1")

    from supervisor.routes_alerts import router as alerts_router

    app.include_router(alerts_router, prefix="/api/v1")

    from supervisor.routes_roomadmin import router as roomadmin_router

    app.include_router(roomadmin_router, prefix="/api/v1")
    # The dashboard (static, owned by the dashboard issue) after the API, so the API wins.
    if settings.web_dir.is_dir():
        app.mount("/", StaticFiles(directory=settings.web_dir, html=True), name="web")
    app.add_middleware(BodyGuard, max_body=settings.max_body, fast_lane=FastLane(server))
    app.add_middleware(SecurityHeaders)
    return app


def _error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
        retry = exc.detail.get("retry_after_s") if isinstance(exc.detail, dict) else None
        if exc.status in (429, 503) and isinstance(retry, int):
            headers["Retry-After"] = str(retry)
        return JSONResponse(exc.body(), status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", "")),
                   "type": str(e.get("type", ""))} for e in exc.errors()]
        if any(e["type"] == "json_invalid" for e in errors):
            return JSONResponse({"error": "malformed JSON body", "code": "bad_json", "detail": errors},
                                status_code=400)
        return JSONResponse({"error": "invalid request", "code": "invalid", "detail": errors}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse({"error": str(exc.detail), "code": code, "detail": None},
                            status_code=exc.status_code, headers=getattr(exc, "headers", None))
