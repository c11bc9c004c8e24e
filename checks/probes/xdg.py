"""The XDG base directories of a Linux desktop, computed once for every probe that needs them
(the software inventory's .desktop files, archive managers, default applications).

Data dirs, in the spec's order of precedence: ``$XDG_DATA_HOME`` (default
``~/.local/share``), ``$XDG_DATA_DIRS`` (default ``/usr/local/share:/usr/share``), then the
Flatpak and Snap export folders desktops add to it (listed even when the session's
``XDG_DATA_DIRS`` lacks them: a technician's terminal often does). Config dirs:
``$XDG_CONFIG_HOME`` (default ``~/.config``), then ``$XDG_CONFIG_DIRS`` (default ``/etc/xdg``).
Paths are those of ``host`` (``host.path``), the home is ``host.home``.
"""
from __future__ import annotations

from pathlib import Path

from core.host import Host


def _home(host: Host) -> Path:
    return host.home or host.path("/root")


def data_dirs(host: Host) -> list[tuple[str, Path]]:
    """(source, folder) of every XDG data dir, first wins: source is "desktop", "flatpak" or "snap"."""
    home = _home(host)
    data_home = host.getenv("XDG_DATA_HOME")
    dirs: list[tuple[str, Path]] = [("desktop", host.path(data_home) if data_home else home / ".local/share")]
    for d in (host.getenv("XDG_DATA_DIRS") or "/usr/local/share:/usr/share").split(":"):
        if d:
            source = "flatpak" if "flatpak" in d else "snap" if "snapd" in d else "desktop"
            dirs.append((source, host.path(d)))
    dirs += [("flatpak", host.path("/var/lib/flatpak/exports/share")),
             ("flatpak", home / ".local/share/flatpak/exports/share"),
             ("snap", host.path("/var/lib/snapd/desktop"))]
    seen: set[Path] = set()
    unique = []
    for source, folder in dirs:
        if folder not in seen:
            seen.add(folder)
            unique.append((source, folder))
    return unique


def application_dirs(host: Host) -> list[Path]:
    """Where .desktop files are: ``applications/`` of every data dir, first wins."""
    return [folder / "applications" for _source, folder in data_dirs(host)]


def config_dirs(host: Host) -> list[Path]:
    config_home = host.getenv("XDG_CONFIG_HOME")
    dirs = [host.path(config_home) if config_home else _home(host) / ".config"]
    return dirs + [host.path(d) for d in (host.getenv("XDG_CONFIG_DIRS") or "/etc/xdg").split(":") if d]


def desktop_file(host: Host, desktop_id: str) -> Path | None:
    """The .desktop file of ``desktop_id`` ("org.kde.ark", with or without ".desktop")."""
    name = desktop_id if desktop_id.endswith(".desktop") else desktop_id + ".desktop"
    return next((folder / name for folder in application_dirs(host) if (folder / name).is_file()), None)
