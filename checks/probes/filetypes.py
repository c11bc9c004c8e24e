"""What a double-click on a file of a given type opens: the OS's default program for it.

- Linux: the ``[Default Applications]`` of the ``mimeapps.list`` files in the XDG order
  (``$XDG_CONFIG_HOME``, ``$XDG_CONFIG_DIRS``, then the data dirs' ``applications/``, with
  the desktop's own ``<desktop>-mimeapps.list`` first and the older ``defaults.list``),
  resolved to the application's .desktop file (``checks.probes.xdg``).
- Windows: the ``UserChoice`` ProgId of ``HKCU\\...\\Explorer\\FileExts\\<ext>``, else the
  default value of ``HKCR\\<ext>``; its ``HKCR\\<ProgId>\\shell\\open\\command``.
- macOS: the ``LSHandlers`` of LaunchServices' preferences (the user's choice in Finder's
  "Open with... / Change All"), resolved to the application with that bundle id; no entry
  means the system's own (Preview for PDF, Archive Utility for zip).

Each OS is in ``filetypes_<os>.py`` (``checks.probes.for_os``).
"""
from __future__ import annotations

from dataclasses import dataclass

from checks.probes import for_os
from core.host import Host

OS_FUNCTIONS = ("default_program",)


@dataclass(frozen=True)
class FileType:
    extension: str      # Windows
    mime: str           # Linux
    uti: str            # macOS


FILE_TYPES = {
    "pdf": FileType(".pdf", "application/pdf", "com.adobe.pdf"),
    "zip": FileType(".zip", "application/zip", "public.zip-archive"),
}


@dataclass(frozen=True)
class DefaultProgram:
    handler: str              # Windows ProgId, Linux desktop id (without .desktop), macOS bundle id
    command: str | None       # the command line it runs (Windows open command, Linux Exec=)
    program: str | None       # the file that must exist for it to open anything (.exe, .desktop, .app)
    present: bool | None      # False: the default points to something gone; None: cannot be told


def default_program(host: Host, kind: str) -> DefaultProgram | None:
    """The default program for ``kind`` (a key of FILE_TYPES); None when none is set."""
    return for_os(host, "filetypes").default_program(host, FILE_TYPES[kind])
