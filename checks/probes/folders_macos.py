"""The macOS Documents folder: ``~/Documents`` (Finder offers no other)."""
from __future__ import annotations

from checks.probes.folders import home_folder
from core.host import Host


def documents_dir(host: Host) -> str | None:
    path = home_folder(host).rstrip("/") + "/Documents"
    return path if host.path(path).is_dir() else None
