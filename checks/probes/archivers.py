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
"""
from __future__ import annotations

from dataclasses import dataclass

from core.host import OS_MACOS, OS_WINDOWS, Host


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

_WINDOWS = (
    ("7-Zip", (r"HKLM\SOFTWARE\7-Zip", r"HKCU\SOFTWARE\7-Zip"), "7zFM.exe", ("7-Zip/7zFM.exe",)),
    ("WinRAR", (r"HKLM\SOFTWARE\WinRAR",), "WinRAR.exe", ("WinRAR/WinRAR.exe",)),
    ("PeaZip", (), "peazip.exe", ("PeaZip/peazip.exe",)),
)
_APP_PATHS = r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\App Paths"

_MACOS = (
    ("Archive Utility", ("/System/Library/CoreServices/Applications/Archive Utility.app",
                         "/System/Library/CoreServices/Archive Utility.app")),
    ("The Unarchiver", ("/Applications/The Unarchiver.app",)),
    ("Keka", ("/Applications/Keka.app",)),
)


def archive_tools(host: Host) -> list[ArchiveTool]:
    if host.os == OS_WINDOWS:
        return _windows(host)
    if host.os == OS_MACOS:
        found = []
        for name, paths in _MACOS:
            where = next((p for p in paths if host.path(p).is_dir()), None)
            if where:
                found.append(ArchiveTool(name, True, where))
        return found
    return _linux(host)


def _windows(host: Host) -> list[ArchiveTool]:
    # Explorer's zip support ships with every Windows 10/11 edition (even N and LTSC).
    found = [ArchiveTool("Windows Explorer", True, "C:\\Windows\\explorer.exe")]
    program_dirs = [host.getenv("ProgramFiles") or "C:\\Program Files",
                    host.getenv("ProgramFiles(x86)") or "C:\\Program Files (x86)"]
    registry = host.registry
    for name, keys, exe, relatives in _WINDOWS:
        where = None
        if registry is not None:
            for key in keys:
                values = registry.values(key)
                folder = values.get("Path") or values.get("Path64") or values.get("exe64")
                if isinstance(folder, str) and folder:
                    where = folder
                    break
            if where is None:
                path = registry.values(f"{_APP_PATHS}\\{exe}").get("")
                if isinstance(path, str) and path:
                    where = path.strip('"')
        if where is None:
            for base in program_dirs:
                candidate = f"{base.rstrip(chr(92) + '/')}\\{relatives[0].replace('/', chr(92))}"
                if host.path(candidate).is_file():
                    where = candidate
                    break
        if where:
            found.append(ArchiveTool(name, True, where))
    return found


def xdg_data_dirs(host: Host) -> list[str]:
    home = str(host.home or "~") if host.is_real else None
    data_home = host.getenv("XDG_DATA_HOME") or (f"{home}/.local/share" if home else None)
    dirs = [d for d in (host.getenv("XDG_DATA_DIRS") or "/usr/local/share:/usr/share").split(":") if d]
    extra = ["/var/lib/flatpak/exports/share", "/var/lib/snapd/desktop"]
    return ([data_home] if data_home else []) + dirs + [d for d in extra if d not in dirs]


def _linux(host: Host) -> list[ArchiveTool]:
    found: list[ArchiveTool] = []
    app_dirs = [host.path(d) / "applications" for d in xdg_data_dirs(host)]
    if not host.is_real and host.home is not None:  # a fake host's home is already mapped
        app_dirs.insert(0, host.home / ".local/share/applications")
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


# -- what a double-click on a .zip opens ----------------------------------------------------
_USER_CHOICE = r"HKCU\Software\Microsoft\Windows\CurrentVersion\Explorer\FileExts\.zip\UserChoice"


def zip_handler(host: Host) -> ZipHandler | None:
    """The default program for .zip files (an uninstalled WinRAR or 7-Zip often leaves its
    association behind, and then a double-click on the question's attachment does nothing)."""
    if host.os == OS_WINDOWS:
        return _windows_zip_handler(host)
    if host.os == OS_MACOS:
        return None  # Archive Utility is part of macOS and handles .zip unless changed in Finder
    out = host.run(["xdg-mime", "query", "default", "application/zip"], timeout=5)
    desktop_id = out.stdout.strip() if out is not None and out.ok else ""
    if not desktop_id:
        return None
    app_dirs = [host.path(d) / "applications" for d in xdg_data_dirs(host)]
    if not host.is_real and host.home is not None:
        app_dirs.insert(0, host.home / ".local/share/applications")
    found = next((folder / desktop_id for folder in app_dirs if (folder / desktop_id).is_file()), None)
    return ZipHandler(desktop_id, str(found) if found else None, found is not None)


def _windows_zip_handler(host: Host) -> ZipHandler | None:
    registry = host.registry
    if registry is None:
        return None
    progid = registry.values(_USER_CHOICE).get("ProgId") or registry.values(r"HKCR\.zip").get("")
    if not isinstance(progid, str) or not progid:
        return None
    if progid.lower() == "compressedfolder":
        return ZipHandler(progid, None, True)
    command = registry.values(f"HKCR\\{progid}\\shell\\open\\command").get("")
    if not isinstance(command, str) or not command.strip():
        return ZipHandler(progid, None, None)
    program = _program_of(command, host)
    return ZipHandler(progid, program, host.path(program).is_file())


def _program_of(command: str, host: Host) -> str:
    """``"C:\\Program Files\\7-Zip\\7zFM.exe" "%1"`` -> ``C:\\Program Files\\7-Zip\\7zFM.exe``."""
    from checks.probes.folders import expand_windows_vars

    command = expand_windows_vars(command.strip(), host)
    if command.startswith('"'):
        return command[1:].split('"', 1)[0]
    lowered = command.lower()
    end = lowered.find(".exe")
    return command[: end + 4] if end >= 0 else command.split(" ", 1)[0]
