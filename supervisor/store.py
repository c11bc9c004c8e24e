"""Persistence of the supervisor server, behind a narrow interface.

The application only talks to a ``Store``; ``SQLiteStore`` (supervisor/store_sqlite.py) is the
default. A PostgreSQL backend for a regional deployment implements the same methods (writes
are coroutines that return once the data is durable; reads are plain calls, run in a worker
thread by the app). Records are plain dicts shaped like the API's models.
"""
from __future__ import annotations

import secrets
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from platformdirs import user_data_dir

# Like Pix's own access codes: no 0/O, 1/I/L, so a code read aloud in a room is typed right.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6


def new_room_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(code: str) -> str:
    """What a human typed -> the stored form: ``"ab3 k7m"`` -> ``"AB3K7M"``."""
    return "".join(ch for ch in code.upper() if ch not in " -_\t")


def utcnow() -> str:
    return iso(datetime.now(timezone.utc))


def iso(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def default_db_path() -> Path:
    return Path(user_data_dir("examroom", appauthor=False)) / "server" / "examroom-server.sqlite3"


class Store(Protocol):
    # -- admin and supervisor sessions
    def admin_hash(self) -> str | None: ...
    async def set_admin_hash(self, password_hash: str) -> None: ...
    async def add_session(self, token_hash: str, username: str, expires_at: str) -> None: ...
    def session_user(self, token_hash: str, now: str) -> str | None: ...
    async def remove_session(self, token_hash: str) -> None: ...

    # -- rooms
    async def create_room(self, name: str) -> dict[str, Any]: ...
    def room(self, code: str) -> dict[str, Any] | None: ...
    def rooms(self) -> list[dict[str, Any]]: ...

    # -- machines and their reports
    async def enroll(self, room_code: str, machine: dict[str, Any], token_hash: str) -> None: ...
    def machine_for_token(self, token_hash: str) -> tuple[str, str] | None: ...
    async def add_report(self, room_code: str, machine_id: str, report: dict[str, Any]) -> None: ...
    def latest_report(self, room_code: str, machine_id: str) -> dict[str, Any] | None: ...
    def latest_reports(self, room_code: str) -> list[dict[str, Any]]: ...
    def machines(self, room_code: str, machine_id: str | None = None) -> list[dict[str, Any]]: ...

    # -- live state (heartbeats), persisted so a restart keeps last_seen
    async def save_live(self, room_code: str, machine_id: str, last_seen: str | None,
                        live: dict[str, Any]) -> None: ...
    def live_states(self) -> list[tuple[str, str, str | None, dict[str, Any]]]: ...

    # -- events and alerts
    async def add_events(self, room_code: str, machine_id: str,
                         events: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]: ...
    def events(self, room_code: str, after: int = 0, limit: int = 1000,
               alerts_only: bool = False, open_only: bool | None = None) -> list[dict[str, Any]]: ...
    async def ack(self, room_code: str, event_id: str, by: str) -> dict[str, Any] | None: ...

    # -- the supervisors' edits of the PV d'incident draft (one record per room)
    def pv_edits(self, room_code: str) -> dict[str, Any] | None: ...
    async def save_pv_edits(self, room_code: str, edits: dict[str, Any], by: str) -> dict[str, Any]: ...

    def close(self) -> None: ...


def open_store(path: str | Path | None) -> Store:
    from supervisor.store_sqlite import SQLiteStore

    return SQLiteStore(Path(path) if path else default_db_path())
