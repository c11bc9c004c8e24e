"""macOS archive tools: Archive Utility (part of macOS), The Unarchiver and Keka."""
from __future__ import annotations

from checks.probes.archivers import ArchiveTool, ZipHandler, default_zip_handler
from core.host import Host

_MACOS = (
    ("Archive Utility", ("/System/Library/CoreServices/Applications/Archive Utility.app",
                         "/System/Library/CoreServices/Archive Utility.app")),
    ("The Unarchiver", ("/Applications/The Unarchiver.app",)),
    ("Keka", ("/Applications/Keka.app",)),
)


def archive_tools(host: Host) -> list[ArchiveTool]:
    found = []
    for name, paths in _MACOS:
        where = next((p for p in paths if host.path(p).is_dir()), None)
        if where:
            found.append(ArchiveTool(name, True, where))
    return found


def zip_handler(host: Host) -> ZipHandler | None:
    """None unless the user chose another application than Archive Utility in Finder."""
    return default_zip_handler(host)
