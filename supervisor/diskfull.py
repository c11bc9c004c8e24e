"""A full disk: recognised whatever the backend, answered 503, logged once per episode.

SQLite says ``database or disk is full`` (SQLITE_FULL), the OS says ENOSPC (or EDQUOT for a
quota), PostgreSQL says SQLSTATE 53100. Whichever it is, nothing was stored and the agents
keep what they sent in their outbox: they are told to come back later (503, Retry-After),
and the log gets one line when the episode starts and one when writes succeed again, not a
traceback per refused write.
"""
from __future__ import annotations

import errno
import logging
import sqlite3
import time

RETRY_AFTER_S = 30
QUIET_S = 5.0  # no failed write for that long after a success: the episode is over
_log = logging.getLogger("examroom.server")


def is_disk_full(exc: BaseException | None) -> bool:
    seen = 0
    while exc is not None and seen < 10:  # the cause chain (a driver may wrap the OS error)
        if isinstance(exc, sqlite3.OperationalError) and "full" in str(exc).lower():
            return True
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if getattr(exc, "sqlstate", None) == "53100":  # psycopg: disk_full
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


class Episode:
    def __init__(self) -> None:
        self.active = False
        self.refused = 0
        self.last_failure = 0.0

    def failed(self, exc: BaseException) -> None:
        self.refused += 1
        self.last_failure = time.monotonic()
        if not self.active:
            self.active = True
            _log.error("disk full (%s): writes are refused with 503 until space is freed", exc)

    def wrote(self) -> None:
        """A write request succeeded. Not every one touches the disk (most heartbeats stay in
        memory), so the episode ends only once no write has failed for a retry period."""
        if self.active and time.monotonic() - self.last_failure >= QUIET_S:
            self.active = False
            _log.warning("disk space is back: writes succeed again (%d refused meanwhile)", self.refused)
            self.refused = 0


episode = Episode()
