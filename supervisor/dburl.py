"""``--db``: which backend stores the server's data, from a path or a URL.

- nothing: the SQLite file in the server's data folder (one school, nothing to install);
- a path, as before (``/srv/examroom.sqlite3``, ``C:\\examroom\\db.sqlite3``, ``db.sqlite3``);
- ``sqlite:///PATH``: the same, as a URL (``sqlite:////abs/path`` or ``sqlite:///relative``,
  the convention SQLAlchemy users know);
- ``postgresql://USER@HOST:PORT/DB`` (or ``postgres://``): a shared PostgreSQL database, for an
  académie running several ``examroom serve`` processes. Any libpq URI works (``?sslmode=``,
  ``host=/run/postgresql``); the password comes from PGPASSWORD or ``~/.pgpass`` (libpq's own
  rules), so it never shows in a process list.

Anything else that looks like ``scheme:`` is refused (exit 2): a typo such as ``postgress://``
must not silently become a folder named ``postgress:`` holding a SQLite file.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from core.errors import BadInput
from supervisor.store import Store, default_db_path

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")
POSTGRES_SCHEMES = ("postgresql", "postgres")


@dataclass(frozen=True)
class DbTarget:
    kind: str            # "sqlite" or "postgresql"
    path: Path | None = None  # sqlite
    dsn: str | None = None    # postgresql: the URI as given, for libpq

    def shown(self) -> str:
        """For the log line: the file, or the URI without any password."""
        if self.kind == "sqlite":
            return str(self.path)
        parts = urlsplit(self.dsn or "")
        netloc = parts.netloc.rsplit("@", 1)
        if len(netloc) == 2 and ":" in netloc[0]:
            return self.dsn.replace(parts.netloc, netloc[0].split(":", 1)[0] + ":***@" + netloc[1], 1)
        return self.dsn or ""


def parse_db(value: str | Path | None) -> DbTarget:
    if value is None or (isinstance(value, str) and not value.strip()):
        return DbTarget("sqlite", path=default_db_path())
    if isinstance(value, Path):
        return DbTarget("sqlite", path=value)
    text = value.strip()
    match = _SCHEME.match(text)
    # One letter before ':' is a Windows drive (C:\..., c:/...), not a scheme.
    if match is None or len(match.group(1)) == 1:
        return DbTarget("sqlite", path=Path(text))
    scheme = match.group(1).lower()
    if scheme == "sqlite":
        if not text[len("sqlite:"):].startswith("///") or len(text) <= len("sqlite:///"):
            raise BadInput.keyed("server.db_url_bad", text, "server.db_scheme.hint",
                                 reason="sqlite:///PATH")
        return DbTarget("sqlite", path=Path(text[len("sqlite:///"):]))
    if scheme in POSTGRES_SCHEMES:
        parts = urlsplit(text)
        if not parts.path.strip("/") and "dbname=" not in parts.query:
            raise BadInput.keyed("server.db_url_bad", _redact(text), "server.db_scheme.hint",
                                 reason="postgresql://USER@HOST:PORT/DB")
        return DbTarget("postgresql", dsn=text)
    raise BadInput.keyed("server.db_scheme", _redact(text), "server.db_scheme.hint", scheme=match.group(1))


def _redact(text: str) -> str:
    return DbTarget("postgresql", dsn=text).shown()


def open_store(value: str | Path | DbTarget | None) -> Store:
    """The store for ``--db`` (not started yet: ``await store.start()`` on the loop that uses it)."""
    target = value if isinstance(value, DbTarget) else parse_db(value)
    if target.kind == "postgresql":
        try:
            from supervisor.store_pg import PostgresStore
        except ModuleNotFoundError as exc:
            if not (exc.name or "").startswith("psycopg"):
                raise
            raise BadInput.keyed("server.db_pg_missing", target.shown(), "server.db_pg_missing.hint") from None
        return PostgresStore(target.dsn or "")
    from supervisor.store_sqlite import SQLiteStore

    return SQLiteStore(target.path or default_db_path())
