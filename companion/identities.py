"""Forbidden programs known by their executable's content, whatever their file name.

A renamed copy (``cp /usr/bin/x11vnc /tmp/notes-de-cours``) is still that program:
- a copy of a catalog program installed on this machine has the same SHA-256: at start each
  catalog name found on the PATH is hashed, and a running executable is hashed only when its
  size is one of theirs;
- a copy brought from elsewhere (another build) still carries the product's own strings: an
  executable outside the system's package folders is searched for the catalog's
  ``signatures`` (bytes no other program has, e.g. x11vnc's "===== x11vnc log").
Results are cached per (path, size, mtime): each executable is read at most once.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
from typing import Any, Iterable

# package-managed folders: what is installed there is known by its name (and the hash above)
SYSTEM_PREFIXES = ("/usr/", "/bin/", "/sbin/", "/lib/", "/lib64/", "/snap/", "/var/lib/flatpak/", "/nix/store/",
                   "c:/windows/", "/system/", "/applications/")
SCAN_MAX_BYTES = 256 * 2**20


class Identities:
    def __init__(self, catalog: list[Any], search: Iterable[str] | None = None) -> None:
        self.by_size: dict[int, dict[str, Any]] = {}
        self._cache: dict[tuple[str, int, int], Any] = {}
        seen: set[str] = set()
        folders = list(search) if search is not None else None
        for program in catalog:
            for name in sorted(program.names):
                if program.args or name in program.ambiguous:
                    continue  # a plain tool (ffmpeg) or a shared name: its content proves nothing
                path = shutil.which(name, path=os.pathsep.join(folders) if folders is not None else None)
                if not path:
                    continue
                real = os.path.realpath(path)
                if real in seen:
                    continue
                seen.add(real)
                digest = _digest(real)
                if digest is not None:
                    self.by_size.setdefault(os.path.getsize(real), {})[digest] = program
        self._signatures: dict[bytes, Any] = {sig.encode(): p for p in catalog for sig in getattr(p, "signatures", ())}
        self._pattern = (re.compile(b"|".join(re.escape(s) for s in sorted(self._signatures, key=len, reverse=True)))
                         if self._signatures else None)

    def program_of(self, exe: str) -> Any:
        try:
            info = os.stat(exe)
        except OSError:
            return None
        key = (exe, info.st_size, int(info.st_mtime))
        if key not in self._cache:
            self._cache[key] = self._identify(exe, info.st_size)
        return self._cache[key]

    def _identify(self, exe: str, size: int) -> Any:
        known = self.by_size.get(size)
        if known:
            found = known.get(_digest(exe) or "")
            if found is not None:
                return found
        folder = exe.replace("\\", "/").lower()
        if self._pattern is None or folder.startswith(SYSTEM_PREFIXES) or size > SCAN_MAX_BYTES:
            return None
        return self._scan(exe)

    def _scan(self, exe: str) -> Any:
        overlap = max(len(s) for s in self._signatures)
        tail = b""
        try:
            with open(exe, "rb") as handle:
                while chunk := handle.read(1 << 20):
                    found = self._pattern.search(tail + chunk)
                    if found:
                        return self._signatures[found.group(0)]
                    tail = chunk[-overlap:]
        except OSError:
            return None
        return None


def _digest(path: str) -> str | None:
    try:
        with open(path, "rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError:
        return None


