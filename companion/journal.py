"""The machine's own record of a session: ``state_dir()/companion-journal.jsonl``.

One JSON event per line, as sent to the server, written after the outbox has it (the
journal is a copy: its loss is never the event's). At open, a journal past 20 MiB (years of
sessions) becomes ``.1`` (replacing the previous one), so the disk never fills up.
"""
from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

log = logging.getLogger("examroom.companion")

JOURNAL_MAX_BYTES = 20 * 2**20
FILE = "companion-journal.jsonl"


class Journal:
    def __init__(self, path: Path) -> None:
        try:
            if path.stat().st_size > JOURNAL_MAX_BYTES:
                path.replace(path.with_suffix(path.suffix + ".1"))
        except OSError:
            pass
        self._file = path.open("a", encoding="utf-8")
        self._lock = threading.Lock()

    def write(self, wire: dict) -> None:
        try:
            with self._lock:
                if not self._file.closed:  # a watcher thread that outlived stop()'s deadline
                    self._file.write(json.dumps(wire, ensure_ascii=False) + "\n")
                    self._file.flush()
        except (OSError, ValueError) as exc:
            log.error("companion journal: %s", exc)

    def close(self) -> None:
        with self._lock:
            self._file.close()
