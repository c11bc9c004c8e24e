"""Which programs a candidate can use to open a zip archive.

Facts read, through the Host:

- Windows: Explorer's built-in "Extract all" (part of Windows 10/11), 7-Zip, WinRAR and
  PeaZip from their registry keys (``HKLM\\SOFTWARE\\7-Zip`` ``Path``, ``App Paths``) or
  their usual folders under ``%ProgramFiles%`` / ``%ProgramFiles(x86)%``.
- macOS: Archive Utility (``/System/Library/CoreServices/Applications/Archive Utility.app``),
  The Unarchiver and Keka in ``/Applications``.
- Linux: ``.desktop`` files of graphical archive managers in the XDG data dirs
  (``$XDG_DATA_HOME``, ``$XDG_DATA_DIRS``, Flatpak exports), then programs on PATH.
  Command-line tools (unzip, 7z) are listed but marked ``graphical = False``: candidates
  work in a file manager, not a terminal.

What a double-click on a .zip opens is ``checks.probes.filetypes`` (an uninstalled WinRAR
or 7-Zip often leaves its association behind). Each OS is in ``archivers_<os>.py``.
"""
from __future__ import annotations

from dataclasses import dataclass

from checks.probes import for_os
from checks.probes.filetypes import default_program
from core.host import Host

OS_FUNCTIONS = ("archive_tools", "zip_handler")


@dataclass(frozen=True)
class ArchiveTool:
    name: str
    graphical: bool
    where: str


@dataclass(frozen=True)
class ZipHandler:
    """What a double-click on a .zip opens."""

    name: str                 # Windows ProgID or Linux desktop id
    program: str | None       # the program it runs; None for the shell's own (CompressedFolder)
    present: bool | None      # None when it cannot be told (Store apps)


def archive_tools(host: Host) -> list[ArchiveTool]:
    return for_os(host, "archivers").archive_tools(host)


def zip_handler(host: Host) -> ZipHandler | None:
    """The default program for .zip files, None when the OS's own is used."""
    return for_os(host, "archivers").zip_handler(host)


def default_zip_handler(host: Host, suffix: str = "") -> ZipHandler | None:
    """What the OS's file-type association says opens a .zip (``suffix`` completes the name the
    association gives: Linux's ``.desktop``), None when there is no association."""
    found = default_program(host, "zip")
    if found is None:
        return None
    return ZipHandler(found.handler + suffix, found.program, found.present)
