"""Windows zip tools: Explorer's own, then 7-Zip, WinRAR and PeaZip (registry, then folders)."""
from __future__ import annotations

from checks.probes.archivers import ArchiveTool, ZipHandler, default_zip_handler
from core.host import Host

_WINDOWS = (
    ("7-Zip", (r"HKLM\SOFTWARE\7-Zip", r"HKCU\SOFTWARE\7-Zip"), "7zFM.exe", ("7-Zip/7zFM.exe",)),
    ("WinRAR", (r"HKLM\SOFTWARE\WinRAR",), "WinRAR.exe", ("WinRAR/WinRAR.exe",)),
    ("PeaZip", (), "peazip.exe", ("PeaZip/peazip.exe",)),
)
_APP_PATHS = r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\App Paths"


def archive_tools(host: Host) -> list[ArchiveTool]:
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


def zip_handler(host: Host) -> ZipHandler | None:
    found = default_zip_handler(host)
    if found is not None and found.name.lower() == "compressedfolder":  # Explorer's own "compressed folders"
        return ZipHandler(found.name, None, True)
    return found
