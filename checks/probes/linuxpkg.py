"""Which package a program file belongs to, on Debian-family systems, read from dpkg's own
files (no ``dpkg -S`` process): ``/var/lib/dpkg/info/<package>[:<arch>].list`` of the packages
we care about, and ``/var/lib/dpkg/diversions`` (firefox-esr diverts ``/usr/bin/firefox`` to
``/usr/bin/firefox.real`` and puts its own wrapper script there).

Also follows what stands between a name on PATH and the real program: symbolic links
(``/usr/bin/gimp`` -> ``gimp-2.10``, the alternatives in ``/etc/alternatives``) and small
shell wrappers whose last ``exec`` names the program (``exec firefox-esr "$@"``).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from core.host import Host

_EXEC = re.compile(r"^\s*exec\s+(?:-a\s+\S+\s+)?(\"[^\"]+\"|'[^']+'|\S+)", re.M)
_MAX_SCRIPT = 64 * 1024


@dataclass
class DpkgOwners:
    """Who owns the program files of the packages read."""

    listers: dict[str, list[str]] = field(default_factory=dict)   # path -> packages listing it
    diversions: dict[str, tuple[str, str]] = field(default_factory=dict)  # to -> (from, by)
    diverted_by: dict[str, str] = field(default_factory=dict)     # from -> diverting package

    def owner(self, os_path: str) -> str | None:
        """The package whose file is really at ``os_path``: a diverted path (``/usr/bin/firefox``
        diverted by firefox-esr) holds the diverting package's file; the diverted-to path
        (``/usr/bin/firefox.real``) holds the file of the other package that lists the original."""
        if os_path in self.diversions:
            original, by = self.diversions[os_path]
            others = [p for p in self.listers.get(original, []) if p != by]
            return others[0] if others else None
        if os_path in self.diverted_by and self.diverted_by[os_path] in self.listers.get(os_path, []):
            return self.diverted_by[os_path]
        listed = self.listers.get(os_path)
        return listed[0] if listed else None


_PROGRAM_DIRS = ("/usr/bin/", "/bin/", "/usr/lib/", "/usr/libexec/", "/opt/", "/usr/games/")


def read_owners(host: Host, packages: list[str]) -> DpkgOwners:
    """Reads the file lists of ``packages`` (only their program paths) and the diversions."""
    index = DpkgOwners()
    info = host.path("/var/lib/dpkg/info")
    listing: list[str] | None = None  # the info folder holds ~10 files a package: listed once, if needed
    for package in packages:
        path = info / f"{package}.list"
        if not path.is_file():  # Multi-Arch: same packages are "<name>:<arch>.list"
            if listing is None:
                listing = sorted(os.listdir(info)) if info.is_dir() else []
            arch = [n for n in listing if n.startswith(package + ":") and n.endswith(".list")]
            if not arch:
                continue
            path = info / arch[0]
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for line in text.splitlines():
            if line.startswith(_PROGRAM_DIRS):
                index.listers.setdefault(line, []).append(package)
    try:
        lines = host.path("/var/lib/dpkg/diversions").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        lines = []
    for i in range(0, len(lines) - 2, 3):  # triplets: from, to, diverting package
        original, to, by = lines[i], lines[i + 1], lines[i + 2]
        index.diversions[to] = (original, by)
        index.diverted_by[original] = by
    return index


def resolve(host: Host, path: Path, depth: int = 0) -> Path:
    """Where ``path`` really leads: symbolic links resolved inside the host's root, then a
    shell wrapper's ``exec`` target (by absolute path, or by name on PATH), a few levels deep."""
    real = host.realpath(path)
    if depth >= 4:
        return real
    target = _wrapper_target(host, real)
    if target is None or target == real:
        return real
    return resolve(host, target, depth + 1)


def _wrapper_target(host: Host, path: Path) -> Path | None:
    try:
        if path.stat().st_size > _MAX_SCRIPT:
            return None
        with path.open("rb") as handle:
            head = handle.read(_MAX_SCRIPT)
    except OSError:
        return None
    if not head.startswith(b"#!") or b"\0" in head:
        return None
    text = head.decode("utf-8", errors="replace")
    targets = [t.strip("\"'") for t in _EXEC.findall(text)]
    # The last exec is the fall-through one; "$FIREFOX.real"-style variables are skipped.
    for target in reversed(targets):
        if "$" in target or target.startswith("-"):
            continue
        if target.startswith("/"):
            candidate = host.path(target)
            return candidate if candidate.exists() else None
        found = host.which(target)
        if found is not None and found != path:
            return found
    return None

