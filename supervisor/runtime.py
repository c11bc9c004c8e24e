"""Which database a running ``examroom serve`` uses, for ``examroom room create`` / ``list``.

Why: a technician starts ``examroom serve --db /srv/salles.sqlite3`` in one terminal and types
``examroom room create "Salle B12"`` in another; without ``--db`` that room went to the default
file, and the dashboard never showed it. So each ``serve`` writes a small runtime file
(``serve-<pid>.json``: pid, process start time, URL, the database as shown, never a password)
in the server's data folder while it runs, and the room commands read them:

- no ``--db``: one running server -> its database (said on stderr); several on different
  databases -> the default one if one of them uses it, else exit 2 asking for ``--db``;
  none -> the default file;
- ``--db`` given while servers run on other databases -> a note naming them (the command
  still does what it was told).

A runtime file whose process is gone (killed, power cut), or whose pid now belongs to another
process, is ignored and removed. The server's data folder is ``EXAMROOM_SERVER_HOME`` when
set (tests, several installs on one machine), else the OS's user data folder.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import psutil
from platformdirs import user_data_dir

_PREFIX = "serve-"


def server_home() -> Path:
    """The server's data folder: its default SQLite file and the runtime files live there."""
    override = os.environ.get("EXAMROOM_SERVER_HOME")
    return Path(override) if override else Path(user_data_dir("examroom", appauthor=False)) / "server"


@dataclass(frozen=True)
class RunningServer:
    pid: int
    url: str
    db: str          # the database as DbTarget.shown() gives it: a path or a URL without password
    started_at: str


def _same_db(a: str, b: str) -> bool:
    if "://" in a or "://" in b:
        return a == b
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return a == b


def uses(server: RunningServer, db: str) -> bool:
    return _same_db(server.db, db)


class RuntimeFile:
    """The file of one running server; ``remove()`` when it stops."""

    def __init__(self, url: str, db: str, home: Path | None = None) -> None:
        self.path = (home or server_home()) / f"{_PREFIX}{os.getpid()}.json"
        me = psutil.Process()
        data = {"pid": me.pid, "create_time": me.create_time(), "url": url, "db": db,
                "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(data), encoding="utf-8")
            tmp.replace(self.path)
        except OSError:  # a read-only data folder must not stop the server: the note is a convenience
            self.path = None

    def remove(self) -> None:
        if self.path is not None:
            self.path.unlink(missing_ok=True)
            self.path = None


def running_servers(home: Path | None = None) -> list[RunningServer]:
    """The servers running now (their runtime files, stale ones removed), oldest first."""
    found = []
    folder = home or server_home()
    for path in sorted(folder.glob(f"{_PREFIX}*.json")) if folder.is_dir() else []:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            pid, created = int(data["pid"]), float(data["create_time"])
            server = RunningServer(pid, str(data["url"]), str(data["db"]), str(data.get("started_at", "")))
        except (OSError, ValueError, KeyError, TypeError):
            continue  # half-written or foreign: not ours to judge
        if not _alive(pid, created):
            path.unlink(missing_ok=True)
            continue
        found.append(server)
    return sorted(found, key=lambda s: s.started_at)


def _alive(pid: int, create_time: float) -> bool:
    try:
        return abs(psutil.Process(pid).create_time() - create_time) < 1.0   # not a reused pid
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False
