"""Whether an exam is in progress on this machine, kept across companion restarts.

Facts read and written: ``state_dir()/companion-exam.json`` (``{"armed_at": epoch seconds}``).
Why: a companion restarted (crash, reboot, a candidate who killed it) while the candidate
is away from the exam would otherwise wait to see the exam window again before counting
anything, and that absence would go unreported. Wall-clock time, because a monotonic clock
does not survive a reboot; the state expires after ``RESUME_S`` and on the exam's end.
"""
from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Callable

log = logging.getLogger(__name__)

FILE = "companion-exam.json"
RESUME_S = 3 * 3600     # a Pix certification lasts under two hours


class ExamState:
    def __init__(self, home: Path, clock: Callable[[], float] = time.time) -> None:
        self.path = home / FILE
        self.clock = clock
        self.saved = False

    def read(self) -> dict | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def save(self, *, fresh: bool = False) -> None:
        """The exam is in progress (``fresh``: a new one started now)."""
        self.saved = True
        previous = None if fresh else self.read()
        since = previous.get("armed_at") if previous else None
        try:
            self.path.write_text(json.dumps({"armed_at": since or self.clock()}), encoding="utf-8")
        except OSError as exc:  # a convenience: the session goes on without it
            log.warning("exam state %s: %s", self.path, exc)

    def clear(self) -> None:
        self.saved = False
        try:
            self.path.unlink(missing_ok=True)
        except OSError as exc:
            log.warning("exam state %s: %s", self.path, exc)

    def in_progress(self) -> bool:
        """At start: was an exam in progress, recently enough to still be the same one?"""
        data = self.read()
        armed_at = data.get("armed_at") if data else None
        if isinstance(armed_at, (int, float)) and 0 <= self.clock() - armed_at <= RESUME_S:
            self.saved = True
            return True
        if data is not None:
            self.clear()
        return False
