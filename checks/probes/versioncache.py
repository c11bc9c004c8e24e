"""``--version`` outputs kept between runs, keyed by the program file's (path, size, mtime):
asking twelve programs for their version takes most of a second, and programs rarely change
between two crash tests. Stored as JSON in the agent's state directory; real hosts only."""
from __future__ import annotations

import json
import os
from pathlib import Path

CACHE_NAME = "version_cache.json"
_MAX_ENTRIES = 200


class VersionCache:
    def __init__(self, file: Path | None):
        self.file = file
        self.entries: dict[str, dict] = {}
        self.changed = False
        if file is not None:
            try:
                data = json.loads(file.read_text(encoding="utf-8"))
                self.entries = data if isinstance(data, dict) else {}
            except (OSError, ValueError):
                self.entries = {}

    @staticmethod
    def _stamp(path: Path) -> list[int] | None:
        try:
            st = os.stat(path)  # the file the link leads to: an upgrade changes it
        except OSError:
            return None
        return [st.st_size, st.st_mtime_ns]

    def get(self, path: Path) -> str | None:
        entry = self.entries.get(str(path))
        if not isinstance(entry, dict) or entry.get("stamp") != self._stamp(path):
            return None
        output = entry.get("output")
        return output if isinstance(output, str) else None

    def put(self, path: Path, output: str) -> None:
        stamp = self._stamp(path)
        if stamp is None:
            return
        self.entries[str(path)] = {"stamp": stamp, "output": output[:4000]}
        self.changed = True

    def save(self) -> None:
        if self.file is None or not self.changed:
            return
        entries = dict(list(self.entries.items())[-_MAX_ENTRIES:])
        tmp = self.file.with_suffix(".tmp")
        try:
            tmp.write_text(json.dumps(entries), encoding="utf-8")
            os.replace(tmp, self.file)
        except OSError:
            pass  # a read-only state dir only costs the next run its speed


def on_disk() -> VersionCache:
    """The cache kept in examroom's state folder (the real machine's; a fake host gets none, or
    the stand-in its test gives for ``"examroom.version_cache"``)."""
    try:
        from core.state import state_dir

        return VersionCache(state_dir() / CACHE_NAME)
    except OSError:
        return VersionCache(None)
