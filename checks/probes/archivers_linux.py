"""Linux archive managers: .desktop files in the XDG data dirs, then programs on PATH."""
from __future__ import annotations

from checks.probes import xdg
from checks.probes.archivers import ArchiveTool, ZipHandler, default_zip_handler
from core.host import Host

# (name, .desktop ids, programs on PATH)
_LINUX_GUI = (
    ("File Roller", ("org.gnome.FileRoller.desktop", "file-roller.desktop"), ("file-roller",)),
    ("Ark", ("org.kde.ark.desktop", "ark.desktop"), ("ark",)),
    ("Engrampa", ("engrampa.desktop",), ("engrampa",)),
    ("Xarchiver", ("xarchiver.desktop",), ("xarchiver",)),
    ("PeaZip", ("peazip.desktop", "io.github.peazip.PeaZip.desktop"), ("peazip",)),
    # GNOME Files extracts archives itself since 3.22 (gnome-autoar): "Extract here".
    ("GNOME Files", ("org.gnome.Nautilus.desktop", "nautilus.desktop"), ()),
)
_LINUX_CLI = (("unzip", "unzip"), ("7-Zip (7z)", "7z"), ("7-Zip (7zz)", "7zz"), ("bsdtar", "bsdtar"))


def archive_tools(host: Host) -> list[ArchiveTool]:
    found: list[ArchiveTool] = []
    app_dirs = xdg.application_dirs(host)
    for name, desktop_ids, programs in _LINUX_GUI:
        where = next((str(folder / d) for folder in app_dirs for d in desktop_ids
                      if (folder / d).is_file()), None)
        if where is None:
            where = next((str(p) for p in map(host.which, programs) if p), None)
        if where:
            found.append(ArchiveTool(name, True, where))
    for name, program in _LINUX_CLI:
        path = host.which(program)
        if path:
            found.append(ArchiveTool(name, False, str(path)))
    return found


def zip_handler(host: Host) -> ZipHandler | None:
    return default_zip_handler(host, suffix=".desktop")
