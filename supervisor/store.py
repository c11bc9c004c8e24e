"""Persistence of the supervisor server, behind a narrow asynchronous interface.

The application only talks to a ``Store``. A store keeps and returns rows; it holds no rule
of the domain (which event is an alert, how problems are sorted, what a machine's facts are,
how room codes are drawn, which tokens are cached): those live in supervisor/service.py and
supervisor/rules.py, so every backend behaves the same. Backends:
``SQLiteStore`` (supervisor/store_sqlite.py, the default: one file, nothing to install) and
``PostgresStore`` (supervisor/store_pg.py, an académie's shared database); the ``--db`` value
picks one (supervisor/dburl.py).

Every method is a coroutine: writes return once the data is committed (durable), reads never
block the event loop. Records are plain dicts shaped like the API's models. ``start`` is
awaited on the loop that will use the store, ``close`` when it ends; a store may be started
again after ``close`` (the command line opens it once to check the admin password, then the
server's loop opens it again).
"""
from __future__ import annotations

import json
import secrets
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol


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


def dumps(value: Any) -> str:
    """JSON as every backend keeps it: ASCII only (lone surrogates or NUL characters can break
    neither SQLite's encoder nor PostgreSQL's text type), compact, no NaN."""
    return json.dumps(value, ensure_ascii=True, allow_nan=False, separators=(",", ":"))


def default_db_path() -> Path:
    from supervisor.runtime import server_home

    return server_home() / "examroom-server.sqlite3"


class Store(Protocol):
    """What a backend stores. Times are ISO strings given by the caller (never the backend's clock)."""

    # -- life cycle
    async def start(self) -> None: ...
    async def close(self) -> None: ...

    # -- admin and supervisor sessions
    async def admin_hash(self) -> str | None: ...
    async def set_admin_hash(self, password_hash: str) -> None: ...
    async def add_session(self, token_hash: str, username: str, created_at: str, expires_at: str) -> None:
        """Also forgets the sessions expired before ``created_at``."""
    async def session_user(self, token_hash: str, now: str) -> str | None: ...
    async def remove_session(self, token_hash: str) -> None: ...
    async def remove_sessions_of(self, username: str, keep: str | None = None) -> list[str]:
        """End every session of an account (but ``keep``); returns the token hashes removed."""

    # -- rooms
    async def insert_room(self, code: str, name: str, created_at: str) -> bool:
        """False (and nothing stored) when the code is taken."""
    async def room(self, code: str) -> dict[str, Any] | None: ...
    async def rooms(self) -> list[dict[str, Any]]: ...
    async def room_activity(self, code: str) -> dict[str, Any]:
        """What the room holds: ``reports`` and ``events`` counts, ``last_received_at`` (the
        newest receive time of either, None when empty)."""
    async def delete_room(self, code: str, archive_ns: str, archive: dict[str, Any]) -> list[str] | None:
        """In one transaction: keep ``archive`` (plus the room's ``machines`` rows and its
        ``pv_edits``) as the record (``archive_ns``, code), then remove the room, its machines
        and its PV edits; its reports and events stay. Returns the token hashes revoked, or
        None when there is no such room."""
    async def room_reports(self, room_code: str) -> list[dict[str, Any]]:
        """Every report kept for the room (``machine_id``, ``received_at``, ``report``), oldest first."""

    # -- machines and their reports
    async def enroll(self, room_code: str, machine: dict[str, Any], token_hash: str) -> str | None:
        """Insert or update the machine row (``machine_id``, ``hostname``, ``os``, ``os_version``,
        ``facts``, ``enrolled_at``) with its new token; returns the token hash it replaced."""
    async def machine_token(self, token_hash: str) -> tuple[str, str, str] | None:
        """(room code, machine id, ``enrolled_at``: when this token was issued) of a machine token."""
    async def add_report(self, room_code: str, machine_id: str, received_at: str,
                         report: dict[str, Any], summary: dict[str, Any]) -> None:
        """Keep the report and set the machine row's ``summary`` fields (hostname, os, os_version,
        facts, ready, report_status, report_at, problems) in one transaction."""
    async def latest_report(self, room_code: str, machine_id: str) -> dict[str, Any] | None: ...
    async def latest_reports(self, room_code: str) -> list[dict[str, Any]]: ...
    async def machines(self, room_code: str, machine_id: str | None = None) -> list[dict[str, Any]]: ...

    # -- live state (heartbeats), persisted so a restart keeps last_seen
    async def save_live(self, room_code: str, machine_id: str, last_seen: str | None,
                        live: dict[str, Any]) -> None: ...
    async def live_states(self) -> list[tuple[str, str, str | None, dict[str, Any]]]: ...

    # -- events and alerts
    async def insert_events(self, room_code: str, machine_id: str,
                            events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Store events (``id``, ``kind``, ``at``, ``received_at``, ``details``, ``alert``; ids unique
        within the list), skipping ids already stored; returns the rows stored, in ``seq`` order
        (an alert's ``group``: its gid, its group updated in the same transaction)."""
    async def events(self, room_code: str, after: int = 0, limit: int = 1000,
                     alerts_only: bool = False, open_only: bool | None = None,
                     newest: bool = False) -> list[dict[str, Any]]:
        """Events with ``seq > after``, oldest first: the first ``limit`` (``newest``: the last ``limit``)."""
    async def event(self, room_code: str, seq: int) -> dict[str, Any] | None: ...
    async def ack(self, room_code: str, event_id: str, by: str, at: str) -> dict[str, Any] | None:
        """Acknowledge one alert: ``{id, acked_at, acked_by, machine_id, group}``; its group's open count follows."""

    # -- alert groups: (machine, kind, subject), kept with the alerts (supervisor/alertgroups.py)
    async def alert_groups(self, room_code: str, before: int | None = None, limit: int = 50,
                           open_only: bool | None = None, gids: list[int] | None = None) -> list[dict[str, Any]]:
        """Groups with ``last_seq < before``, newest first (``open_only``: with open alerts / none)."""
    async def group_alerts(self, room_code: str, gid: int, before: int | None = None,
                           limit: int = 50) -> list[dict[str, Any]]:
        """A group's alerts with ``seq < before``, newest first."""
    async def ack_group(self, room_code: str, gid: int, upto: int, by: str, at: str) -> int | None:
        """Acknowledge the group's open alerts up to seq ``upto``: how many, None if no such group."""

    # -- what a machine's rows take (reports and event details as stored), for its quota
    async def machine_bytes(self, room_code: str, machine_id: str) -> int: ...
    async def stored_ids(self, room_code: str, machine_id: str, ids: list[str]) -> set[str]:
        """Which of these event ids this machine already stored."""

    # -- the supervisors' edits of the PV d'incident draft (one record per room)
    async def pv_edits(self, room_code: str) -> dict[str, Any] | None: ...
    async def save_pv_edits(self, room_code: str, edits: dict[str, Any], by: str, at: str,
                            expected_version: int | None = None) -> dict[str, Any] | None:
        """With ``expected_version``: saved only if the stored version is still that one (0: none
        yet), else None (compare-and-set, for the per-line merge of supervisor/pvmerge.py)."""

    # -- records: small versioned JSON values by (namespace, key) - accounts, enrolment
    #    windows, machine secrets (supervisor/records.py)
    async def record(self, ns: str, key: str) -> tuple[dict[str, Any], int] | None: ...
    async def records(self, ns: str) -> list[tuple[str, dict[str, Any], int]]: ...
    async def put_record(self, ns: str, key: str, value: dict[str, Any], expected: int | None = None) -> int | None:
        """Store ``value``; with ``expected`` only if the version is still that one (0: absent).
        Returns the new version, or None when ``expected`` did not match."""
    async def delete_record(self, ns: str, key: str) -> bool: ...
    async def revoke_machine(self, room_code: str, machine_id: str, *, remove: bool) -> tuple[bool, str | None]:
        """Forget the machine's token (``remove``: its row too; reports and events stay).
        Returns (the machine existed, the token hash revoked)."""
