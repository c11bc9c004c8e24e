"""Where a candidate saves files: the user's Documents folder as the OS names it.

Facts read, through the Host:

- Linux: ``$XDG_CONFIG_HOME/user-dirs.dirs`` (default ``~/.config/user-dirs.dirs``), line
  ``XDG_DOCUMENTS_DIR="$HOME/Documents"`` (localised: ``$HOME/Documents`` is
  ``$HOME/Documents`` in French too, but may be anything the user chose).
- Windows: ``HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\User Shell Folders``
  value ``Personal`` (REG_EXPAND_SZ, e.g. ``%USERPROFILE%\\Documents``, or a UNC path
  ``\\\\server\\eleves$\\dupont\\Documents`` when the school redirects folders to a file
  server), then the already-expanded ``Shell Folders`` key.
- macOS: ``~/Documents``.

The result is an OS path string (it may be a UNC path); the caller maps it with
``host.path``. This module never judges whether the folder is usable: ``storage`` does.
Each OS is in ``folders_<os>.py`` (``checks.probes.for_os``).
"""
from __future__ import annotations

import contextlib
import os
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from checks.probes import for_os
from core.host import OS_WINDOWS, Host

OS_FUNCTIONS = ("documents_dir",)


@dataclass(frozen=True)
class SaveLocation:
    path: str            # as the OS writes it (C:\Users\x\Documents, \\srv\share\x, /home/x)
    source: str          # "option" (--storage), "documents" or "home"

    @property
    def is_network(self) -> bool:
        """A UNC path (Windows folder redirection to a file server)."""
        return self.path.startswith(("\\\\", "//"))


def save_location(host: Host, option: str | None = None) -> SaveLocation:
    """``--storage`` when given, else the Documents folder, else the home folder."""
    if option:
        return SaveLocation(str(option), "option")
    docs = documents_dir(host)
    if docs:
        return SaveLocation(docs, "documents")
    return SaveLocation(home_folder(host), "home")


def running_as_root(host: Host) -> bool:
    """True when this examroom runs as root on Linux/macOS: root writes through every
    permission, so a successful write proves nothing about the candidates' account."""
    return host.os != OS_WINDOWS and host.euid == 0


def documents_dir(host: Host) -> str | None:
    """The Documents folder the OS would offer in a "Save as" dialog, or None."""
    return for_os(host, "folders").documents_dir(host)


def home_folder(host: Host) -> str:
    """The user's home folder as the OS writes it (``%USERPROFILE%`` on Windows)."""
    if host.os == OS_WINDOWS:
        profile = host.getenv("USERPROFILE")
        if profile:
            return profile
    return host.home_os or host.getenv("HOME") or "/"


# -- leaving a folder as found ------------------------------------------------------------
_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


@contextlib.contextmanager
def folder_times_kept(folder: Path) -> Iterator[None]:
    """Give ``folder`` its access and modification times back after we created and removed
    things in it, so the candidates' folder looks untouched (file managers sort by date).

    storage and archive run at once in the same folder: without the lock, one would
    record the times while the other's test file is there, and put those back last.
    """
    with _LOCKS_GUARD:
        lock = _LOCKS.setdefault(os.path.abspath(folder), threading.Lock())
    with lock:
        try:
            before = folder.stat()
        except OSError:
            before = None
        try:
            yield
        finally:
            if before is not None:
                try:
                    os.utime(folder, ns=(before.st_atime_ns, before.st_mtime_ns))
                except OSError:
                    pass  # a share that refuses utime: the contents are still as found


def unique_name(prefix: str) -> str:
    """A name no candidate file can have: the test never overwrites anything."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"
