"""Linux default applications: mimeapps.list in the XDG order, resolved to .desktop files."""
from __future__ import annotations

from checks.probes import xdg
from checks.probes.filetypes import DefaultProgram, FileType
from checks.probes.parsing import parse_desktop, parse_mimeapps
from core.host import Host


def default_program(host: Host, kind: FileType) -> DefaultProgram | None:
    desktop_id = default_desktop_id(host, kind.mime)
    if not desktop_id:
        return None
    path = xdg.desktop_file(host, desktop_id)
    command = None
    if path is not None:
        entry = parse_desktop(path.read_text(encoding="utf-8", errors="replace"), desktop_id)
        command = entry.exec if entry is not None and entry.exec else None
    # a default pointing to an uninstalled application opens nothing
    return DefaultProgram(desktop_id, command, str(path) if path else None, path is not None)


def default_desktop_id(host: Host, mime: str) -> str | None:
    """The desktop id ``mime`` opens with: the first mimeapps.list that names one wins."""
    desktops = [d.lower() for d in (host.getenv("XDG_CURRENT_DESKTOP") or "").split(":") if d]
    names = [f"{d}-mimeapps.list" for d in desktops] + ["mimeapps.list", "defaults.list"]
    for folder in xdg.config_dirs(host) + xdg.application_dirs(host):
        for name in names:
            path = folder / name
            if path.is_file():
                found = parse_mimeapps(path.read_text(encoding="utf-8", errors="replace"), mime)
                if found:
                    return found[0]
    return None
