"""Portable programs on Windows: what no installer registered, so no Uninstall key names.

Looks at every fixed or removable drive (C: included, USB keys too):

- PortableApps.com layouts: ``X:\\PortableApps\\<App>Portable\\App\\AppInfo\\appinfo.ini``
  (``[Details] AppID=FirefoxPortable``, ``[Version] DisplayVersion=140.0``), also one folder
  down (``D:\\Outils\\PortableApps\\...``);
- a program folder copied onto a drive, one or two levels down (``D:\\Firefox\\firefox.exe``,
  ``E:\\Logiciels\\GIMP\\bin\\gimp-2.10.exe`` is not searched deeper than that): Firefox's
  version from ``application.ini`` beside it (``[App] Version=``), Chromium-family versions from
  the version-named folder beside ``chrome.exe``/``msedge.exe`` (``131.0.6778.204\\``).

System folders (Windows, Program Files, Users, ProgramData...) are skipped: installed programs
are the registry's business.
"""
from __future__ import annotations

import configparser
import os
import re
import string
from pathlib import Path

from core.host import Host
from checks.probes.software import CatalogEntry, Finding, catalog

# PortableApps.com AppIDs -> catalog keys.
PORTABLE_IDS = {
    "FirefoxPortable": "firefox", "FirefoxPortableESR": "firefox_esr", "GoogleChromePortable": "chrome",
    "ChromiumPortable": "chromium", "OperaPortable": "opera", "LibreOfficePortable": "libreoffice",
    "LibreOfficePortablePrevious": "libreoffice", "OpenOfficePortable": "openoffice", "GIMPPortable": "gimp",
    "KritaPortable": "krita", "PintaPortable": "pinta", "PhotoFiltrePortable": "photofiltre",
    "SumatraPDFPortable": "sumatrapdf", "FoxitReaderPortable": "foxit", "PDF-XChangeViewerPortable": "pdfxchange",
    "OpenShotPortable": "openshot", "ShotcutPortable": "shotcut",
}
_SKIP = {"windows", "program files", "program files (x86)", "programdata", "users", "$recycle.bin",
         "system volume information", "recovery", "perflogs", "$windows.~bt", "$winreagent", "msocache",
         "intel", "amd", "nvidia", "drivers", "boot", "efi", "portableapps"}
_CHROMIUM_EXES = {"chrome.exe": None, "msedge.exe": None}
_VERSION_DIR = re.compile(r"^\d+\.\d+\.\d+\.\d+$")


def drives(host: Host) -> list[str]:
    """Drive letters to look at: fixed and removable drives (no network shares, no CD)."""
    listing = host.native("win32.drives", _drive_lister)
    return listing() if listing is not None else []


def _drive_lister():
    try:
        import ctypes

        kind = ctypes.windll.kernel32.GetDriveTypeW  # type: ignore[attr-defined]
    except (ImportError, AttributeError):
        kind = None

    def letters() -> list[str]:
        found = []
        for letter in string.ascii_uppercase[2:]:
            root = f"{letter}:\\"
            if kind is not None and kind(root) not in (2, 3):  # DRIVE_REMOVABLE, DRIVE_FIXED
                continue
            if os.path.isdir(root):
                found.append(letter)
        return found
    return letters


def _ini(path: Path) -> configparser.ConfigParser | None:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        text = path.read_bytes().decode("utf-8-sig", errors="replace")
        parser.read_string(text)
    except (OSError, configparser.Error):
        return None
    return parser


def _children(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.iterdir() if p.is_dir())
    except OSError:
        return []


def from_portableapps(host: Host, letter: str, shown) -> list[Finding]:
    findings = []
    base = host.path(f"{letter}:\\")
    roots = [base / "PortableApps"] + [c / "PortableApps" for c in _children(base)
                                       if c.name.lower() not in _SKIP]
    by_key = {s.key: s for s in catalog()}
    for root in roots:
        for app in _children(root):
            info = _ini(app / "App" / "AppInfo" / "appinfo.ini")
            if info is None:
                continue
            app_id = info.get("Details", "AppID", fallback=app.name)
            spec = by_key.get(PORTABLE_IDS.get(app_id, PORTABLE_IDS.get(app.name, "")))
            if spec is None:
                continue
            version = info.get("Version", "DisplayVersion", fallback=None) or \
                info.get("Version", "PackageVersion", fallback=None)
            folder = shown(app)
            findings.append(Finding(key=spec.key, source="portable", version=version, path=folder,
                                    display_name=info.get("Details", "Name", fallback=spec.name),
                                    variant=f"at:{folder.lower()}",
                                    components=_components(host, spec, app / "App")))
    return findings


def _components(host: Host, spec: CatalogEntry, folder: Path) -> set[str]:
    if not spec.components:
        return set()
    found = set()
    for exe_dir in [folder, *(c / "program" for c in _children(folder)), folder / "program"]:
        for component, tokens in spec.components.items():
            if any(t.endswith(".exe") and (exe_dir / t).is_file() for t in tokens):
                found.add(component)
    return found


def from_program_folders(host: Host, letter: str, shown) -> list[Finding]:
    """Catalog executables in top-level folders of a drive and one level below."""
    exes: dict[str, CatalogEntry] = {}
    for spec in catalog():
        for exe in spec.exe:
            if exe.lower().endswith(".exe"):
                exes.setdefault(exe.lower(), spec)
    findings = []
    base = host.path(f"{letter}:\\")
    level1 = [c for c in _children(base) if c.name.lower() not in _SKIP]
    folders = level1 + [g for c in level1 for g in _children(c) if g.name.lower() not in _SKIP]
    for folder in folders:
        try:
            names = {p.name.lower(): p for p in folder.iterdir() if p.is_file()}
        except OSError:
            continue
        for name, path in names.items():
            spec = exes.get(name)
            if spec is None or spec.components and name not in {e.lower() for e in spec.exe}:
                continue
            version = _folder_version(folder, name, names)
            where = shown(folder)
            findings.append(Finding(key=spec.key, source="portable", version=version, path=where,
                                    variant=f"at:{where.lower()}",
                                    components=_components(host, spec, folder.parent)))
    return findings


def _folder_version(folder: Path, exe: str, names: dict[str, Path]) -> str | None:
    if "application.ini" in names:  # Firefox (and Thunderbird) builds
        info = _ini(names["application.ini"])
        if info is not None:
            return info.get("App", "Version", fallback=None)
    if exe in _CHROMIUM_EXES:  # Chrome/Edge/Chromium: the version-named folder beside the exe
        versions = [c.name for c in _children(folder) if _VERSION_DIR.match(c.name)]
        if versions:
            return max(versions, key=lambda v: tuple(int(x) for x in v.split(".")))
    return None


def scan(host: Host, stats: dict[str, float]) -> list[Finding]:
    shown = host.os_path

    findings: list[Finding] = []
    letters = drives(host)
    stats["drives"] = len(letters)
    for letter in letters:
        findings += from_portableapps(host, letter, shown)
        findings += from_program_folders(host, letter, shown)
    stats["portable"] = len(findings)
    return findings
