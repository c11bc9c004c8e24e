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
"""
from __future__ import annotations

import contextlib
import os
import re
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from core.host import OS_MACOS, OS_WINDOWS, Host

SHELL_FOLDERS = r"HKCU\Software\Microsoft\Windows\CurrentVersion\Explorer"
# FOLDERID_Documents: Windows 10/11 write the moved location under this name too, and
# some folder-redirection tools write it alone.
DOCUMENTS_GUID = "{F42EE2D3-909F-4907-8871-4C22FC0BF756}"


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
    return SaveLocation(_home(host), "home")


def running_as_root(host: Host) -> bool:
    """True when this examroom runs as root on Linux/macOS: root writes through every
    permission, so a successful write proves nothing about the candidates' account."""
    return host.is_real and host.os != OS_WINDOWS and hasattr(os, "geteuid") and os.geteuid() == 0


def documents_dir(host: Host) -> str | None:
    """The Documents folder the OS would offer in a "Save as" dialog, or None."""
    if host.os == OS_WINDOWS:
        return _windows_documents(host)
    if host.os == OS_MACOS:
        path = _home(host).rstrip("/") + "/Documents"
        return path if host.path(path).is_dir() else None
    return _xdg_documents(host)


def _home(host: Host) -> str:
    if host.os == OS_WINDOWS:
        profile = host.getenv("USERPROFILE")
        if profile:
            return profile
    if host.is_real and host.home is not None:
        return str(host.home)
    if host.home is not None and not host.is_real:
        # A fake host's home is mapped under its root: give back the OS path.
        try:
            rel = host.home.relative_to(host.root)
        except ValueError:
            return str(host.home)
        if host.os == OS_WINDOWS and rel.parts:
            return rel.parts[0] + ":/" + "/".join(rel.parts[1:])
        return "/" + "/".join(rel.parts)
    return host.getenv("HOME") or "/"


# -- Windows ------------------------------------------------------------------------------
def _windows_documents(host: Host) -> str | None:
    if host.registry is None:
        return None
    for key in ("User Shell Folders", "Shell Folders"):
        values = {name.upper(): value for name, value in host.registry.values(f"{SHELL_FOLDERS}\\{key}").items()}
        for name in ("PERSONAL", DOCUMENTS_GUID):
            value = values.get(name)
            if isinstance(value, str) and value.strip():
                return expand_windows_vars(value.strip(), host)
    return None


def expand_windows_vars(value: str, host: Host) -> str:
    """``%USERPROFILE%\\Documents`` -> ``C:\\Users\\eleve\\Documents`` (unknown names kept)."""
    def repl(match: re.Match[str]) -> str:
        found = host.getenv(match.group(1))
        return found if found is not None else match.group(0)

    return re.sub(r"%([^%]+)%", repl, value)


# -- Linux (XDG user dirs) ----------------------------------------------------------------
def _xdg_documents(host: Host) -> str | None:
    home = _home(host).rstrip("/") or "/"
    config = host.getenv("XDG_CONFIG_HOME") or f"{home}/.config"
    try:
        text = host.path(f"{config}/user-dirs.dirs").read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    configured = parse_user_dirs(text, home).get("DOCUMENTS")
    # The XDG spec: a value of $HOME itself means "no Documents folder". A configured
    # folder that was never created is what file managers treat as missing too.
    for candidate in ([configured] if configured else []) + [f"{home}/Documents"]:
        if candidate.rstrip("/") != home and host.path(candidate).is_dir():
            return candidate
    return None


def parse_user_dirs(text: str, home: str) -> dict[str, str]:
    """``XDG_DOCUMENTS_DIR="$HOME/Documents"`` lines -> ``{"DOCUMENTS": "/home/x/Documents"}``."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        match = re.match(r'\s*XDG_([A-Z]+)_DIR\s*=\s*"(.*)"\s*$', line)
        if not match:
            continue
        value = match.group(2).replace('\\"', '"')
        if value.startswith("$HOME"):
            value = home.rstrip("/") + value[len("$HOME"):]
        elif not value.startswith("/"):
            continue  # the spec allows only $HOME-relative or absolute paths
        found[match.group(1)] = value
    return found


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
