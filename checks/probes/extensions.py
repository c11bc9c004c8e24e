"""Browser extensions: which extensions a browser has, from its profiles and from the
enterprise policies that force or block them. Facts only; ``checks/pix_companion.py`` judges.

Chromium family (Chrome, Chromium, Edge, Opera): each profile folder (``Default``,
``Profile 1``...) of the browser's user-data folder holds ``Extensions/<id>/<version>/manifest.json``
and, in ``Preferences`` / ``Secure Preferences``, ``extensions.settings.<id>`` with ``state``
(0 = disabled) and ``disable_reasons``. Policies: ``ExtensionInstallForcelist`` ("id;update_url")
and ``ExtensionSettings`` (``installation_mode``: force_installed, normal_installed, blocked),
``ExtensionInstallBlocklist``; on Windows in ``HKLM``/``HKCU\\SOFTWARE\\Policies\\<vendor>``,
on Linux in ``/etc/opt/chrome/policies/managed/*.json``, ``/etc/chromium/policies/managed/``,
``/etc/opt/edge/policies/managed/``, on macOS in ``/Library/Managed Preferences/<bundle id>.plist``.

Firefox: ``profiles.ini`` names the profiles; each profile's ``extensions.json`` lists add-ons
with ``active``/``userDisabled``. Policies: ``policies.json`` (``/etc/firefox/policies``, the
install's ``distribution`` folder) and ``HKLM\\SOFTWARE\\Policies\\Mozilla\\Firefox``
(``ExtensionSettings``, ``Extensions\\Install``).

Only the current user's profiles are read (the technician runs the check in the candidates'
session); only extension ids, names and states, never browsing data.
"""
from __future__ import annotations

import configparser
import json
import plistlib
from dataclasses import dataclass, field
from pathlib import Path

from core.host import OS_LINUX, OS_MACOS, OS_WINDOWS, Host
from checks.probes.parsing import registry_str

CHROMIUM_FAMILY = ("chrome", "chromium", "edge", "opera")


@dataclass
class Sighting:
    """One extension in one place: a profile, or a policy."""

    ext_id: str
    name: str = ""
    where: str = ""            # "profile Default", "policy /etc/opt/chrome/policies/managed/pix.json"
    enabled: bool = True
    forced: bool = False       # force-installed by a policy
    blocked: bool = False      # a policy forbids it


@dataclass
class BrowserExtensions:
    browser: str                       # catalog key
    profiles: list[str] = field(default_factory=list)
    sightings: list[Sighting] = field(default_factory=list)
    blocklist_all: bool = False        # ExtensionInstallBlocklist = ["*"]


# -- where each browser keeps its profiles and policies -----------------------------------------

def _chromium_dirs(host: Host, key: str) -> list[Path]:
    home = host.home or host.path("/")
    if host.os == OS_WINDOWS:
        local = host.path(host.getenv("LOCALAPPDATA") or f"{home}\\AppData\\Local")
        roaming = host.path(host.getenv("APPDATA") or f"{home}\\AppData\\Roaming")
        return {"chrome": [local / "Google/Chrome/User Data"], "chromium": [local / "Chromium/User Data"],
                "edge": [local / "Microsoft/Edge/User Data"], "opera": [roaming / "Opera Software/Opera Stable"]}[key]
    if host.os == OS_MACOS:
        support = home / "Library/Application Support"
        return {"chrome": [support / "Google/Chrome"], "chromium": [support / "Chromium"],
                "edge": [support / "Microsoft Edge"], "opera": [support / "com.operasoftware.Opera"]}[key]
    config = home / ".config"
    return {"chrome": [config / "google-chrome", home / ".var/app/com.google.Chrome/config/google-chrome"],
            "chromium": [config / "chromium", home / "snap/chromium/common/chromium",
                         home / ".var/app/org.chromium.Chromium/config/chromium"],
            "edge": [config / "microsoft-edge", home / ".var/app/com.microsoft.Edge/config/microsoft-edge"],
            "opera": [config / "opera"]}[key]


_CHROMIUM_POLICY_DIRS = {"chrome": ["/etc/opt/chrome/policies/managed"],
                         "chromium": ["/etc/chromium/policies/managed", "/etc/chromium-browser/policies/managed"],
                         "edge": ["/etc/opt/edge/policies/managed"], "opera": []}
_CHROMIUM_REG = {"chrome": "Google\\Chrome", "chromium": "Chromium", "edge": "Microsoft\\Edge", "opera": ""}
_CHROMIUM_MAC = {"chrome": "com.google.Chrome", "chromium": "org.chromium.Chromium", "edge": "com.microsoft.Edge",
                 "opera": ""}


def _firefox_dirs(host: Host) -> list[Path]:
    home = host.home or host.path("/")
    if host.os == OS_WINDOWS:
        return [host.path(host.getenv("APPDATA") or f"{home}\\AppData\\Roaming") / "Mozilla/Firefox"]
    if host.os == OS_MACOS:
        return [home / "Library/Application Support/Firefox"]
    return [home / ".mozilla/firefox", home / "snap/firefox/common/.mozilla/firefox",
            home / ".var/app/org.mozilla.firefox/.mozilla/firefox"]


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, ValueError):
        return None


# -- Chromium family ---------------------------------------------------------------------------

def _chromium_profiles(user_data: Path) -> list[Path]:
    try:
        return sorted(p for p in user_data.iterdir() if p.is_dir() and (p / "Preferences").is_file())
    except OSError:
        return []


def chromium_profile(profile: Path, label: str, to_path=Path) -> list[Sighting]:
    """The extensions of one Chromium profile. ``to_path`` maps an OS path written in the
    profile (an unpacked extension's folder) to where it is on this host."""
    settings: dict = {}
    for name in ("Preferences", "Secure Preferences"):
        data = _read_json(profile / name)
        found = data.get("extensions", {}).get("settings", {}) if isinstance(data, dict) else {}
        if isinstance(found, dict):
            for ext_id, entry in found.items():
                if isinstance(entry, dict):
                    settings.setdefault(ext_id, {}).update(entry)
    sightings = []
    ext_dir = profile / "Extensions"
    on_disk = {}
    try:
        for folder in ext_dir.iterdir():
            versions = sorted(v for v in folder.iterdir() if (v / "manifest.json").is_file()) if folder.is_dir() else []
            if versions:
                on_disk[folder.name] = versions[-1] / "manifest.json"
    except OSError:
        pass
    for ext_id in sorted(set(on_disk) | {i for i, s in settings.items() if s.get("manifest") or s.get("path")}):
        entry = settings.get(ext_id, {})
        manifest = _read_json(on_disk[ext_id]) if ext_id in on_disk else entry.get("manifest")
        folder = str(entry.get("path") or "")
        if not isinstance(manifest, dict) and (folder.startswith("/") or folder[1:3] == ":\\"):
            manifest = _read_json(to_path(folder) / "manifest.json")  # unpacked: its own folder
        name = manifest.get("name", "") if isinstance(manifest, dict) else ""
        reasons = entry.get("disable_reasons")
        disabled = entry.get("state") == 0 or bool(reasons)
        sightings.append(Sighting(ext_id=ext_id, name=str(name), where=label, enabled=not disabled))
    return sightings


def _chromium_policy(data: object, where: str) -> tuple[list[Sighting], bool]:
    if not isinstance(data, dict):
        return [], False
    sightings = []
    for line in data.get("ExtensionInstallForcelist") or []:
        ext_id = str(line).split(";", 1)[0].strip()
        if ext_id:
            sightings.append(Sighting(ext_id=ext_id, where=where, forced=True))
    settings = _extension_settings(data.get("ExtensionSettings"))
    if settings is not None:
        for ext_id, entry in settings.items():
            mode = entry.get("installation_mode", "") if isinstance(entry, dict) else ""
            if ext_id != "*" and mode in ("force_installed", "normal_installed", "blocked", "removed"):
                sightings.append(Sighting(ext_id=ext_id, where=where, forced=mode.endswith("installed"),
                                          blocked=mode in ("blocked", "removed")))
    blocklist = [str(b) for b in data.get("ExtensionInstallBlocklist") or []]
    sightings += [Sighting(ext_id=b, where=where, blocked=True) for b in blocklist if b != "*"]
    return sightings, "*" in blocklist


def _registry_policy(host: Host, path: str) -> dict:
    """A Chromium/Firefox policy key as the same dict shape as the JSON files."""
    registry = host.registry
    if registry is None:
        return {}
    values = registry.values(path)
    data: dict = {}
    for name in ("ExtensionSettings",):
        if name in values:
            raw = values[name]
            data[name] = "\n".join(raw) if isinstance(raw, (list, tuple)) else registry_str(raw)
    for name in ("ExtensionInstallForcelist", "ExtensionInstallBlocklist"):
        listed = registry.values(f"{path}\\{name}")
        if listed:
            data[name] = [registry_str(v) for _k, v in sorted(listed.items())]
    install = registry.values(f"{path}\\Extensions\\Install")
    if install:
        data["Extensions"] = {"Install": [registry_str(v) for _k, v in sorted(install.items())]}
    return data


def chromium(host: Host, key: str) -> BrowserExtensions:
    found = BrowserExtensions(browser=key)
    for user_data in _chromium_dirs(host, key):
        for profile in _chromium_profiles(user_data):
            found.profiles.append(profile.name)
            found.sightings += chromium_profile(profile, profile.name, host.path)
    policies: list[tuple[object, str]] = []
    if host.os == OS_LINUX:
        for folder in _CHROMIUM_POLICY_DIRS[key]:
            directory = host.path(folder)
            files = sorted(directory.glob("*.json")) if directory.is_dir() else []
            policies += [(_read_json(f), f"{folder}/{f.name}") for f in files]
    elif host.os == OS_WINDOWS and _CHROMIUM_REG[key]:
        for hive in ("HKLM", "HKCU"):
            path = f"{hive}\\SOFTWARE\\Policies\\{_CHROMIUM_REG[key]}"
            policies.append((_registry_policy(host, path), path))
    elif host.os == OS_MACOS and _CHROMIUM_MAC[key]:
        plist = host.path(f"/Library/Managed Preferences/{_CHROMIUM_MAC[key]}.plist")
        try:
            policies.append((plistlib.loads(plist.read_bytes()), str(plist)))
        except (OSError, plistlib.InvalidFileException, ValueError):
            pass
    for data, where in policies:
        sightings, block_all = _chromium_policy(data, where)
        found.sightings += sightings
        found.blocklist_all |= block_all
    return found


# -- Firefox -----------------------------------------------------------------------------------

def _firefox_profiles(base: Path) -> list[Path]:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string((base / "profiles.ini").read_text(encoding="utf-8", errors="replace"))
    except (OSError, configparser.Error):
        return []
    profiles = []
    for section in parser.sections():
        path = parser.get(section, "Path", fallback="")
        if section.startswith("Profile") and path:
            relative = parser.get(section, "IsRelative", fallback="1") == "1"
            profiles.append(base / path if relative else Path(path))
    return profiles


def firefox_profile(profile: Path) -> list[Sighting]:
    data = _read_json(profile / "extensions.json")
    addons = data.get("addons", []) if isinstance(data, dict) else []
    sightings = []
    for addon in addons if isinstance(addons, list) else []:
        if not isinstance(addon, dict) or addon.get("type", "extension") != "extension" or addon.get("location") == "app-builtin":
            continue
        name = (addon.get("defaultLocale") or {}).get("name", "") if isinstance(addon.get("defaultLocale"), dict) else ""
        enabled = bool(addon.get("active", True)) and not addon.get("userDisabled") and not addon.get("appDisabled")
        sightings.append(Sighting(ext_id=str(addon.get("id", "")), name=str(name), where=profile.name, enabled=enabled))
    return sightings


def _firefox_policy(data: object, where: str) -> list[Sighting]:
    if not isinstance(data, dict):
        return []
    policies = data.get("policies", data)
    if not isinstance(policies, dict):
        return []
    sightings = []
    settings = _extension_settings(policies.get("ExtensionSettings"))
    if settings is not None:
        for ext_id, entry in settings.items():
            mode = entry.get("installation_mode", "") if isinstance(entry, dict) else ""
            if ext_id != "*" and mode:
                sightings.append(Sighting(ext_id=ext_id, where=where, forced=mode.endswith("installed"),
                                          blocked=mode == "blocked"))
    install = (policies.get("Extensions") or {}).get("Install") if isinstance(policies.get("Extensions"), dict) else None
    for url in install or []:
        # Extensions.Install lists .xpi URLs: the add-on's slug or id is in the URL.
        sightings.append(Sighting(ext_id=f"url:{url}", where=where, forced=True))
    return sightings


def firefox(host: Host, install_dirs: list[str]) -> BrowserExtensions:
    found = BrowserExtensions(browser="firefox")
    for base in _firefox_dirs(host):
        for profile in _firefox_profiles(base):
            found.profiles.append(profile.name)
            found.sightings += firefox_profile(profile)
    files = ["/etc/firefox/policies/policies.json"] if host.os == OS_LINUX else []
    if host.os == OS_LINUX:
        files += ["/usr/lib/firefox-esr/distribution/policies.json", "/usr/lib/firefox/distribution/policies.json"]
    if host.os == OS_MACOS:
        files += ["/Applications/Firefox.app/Contents/Resources/distribution/policies.json"]
    sep = "\\" if host.os == OS_WINDOWS else "/"
    files += [d.rstrip("\\/") + sep + "distribution" + sep + "policies.json" for d in install_dirs]
    for name in dict.fromkeys(files):
        path = host.path(name)
        if path.is_file():
            found.sightings += _firefox_policy(_read_json(path), name)
    if host.os == OS_WINDOWS:
        for hive in ("HKLM", "HKCU"):
            path = f"{hive}\\SOFTWARE\\Policies\\Mozilla\\Firefox"
            found.sightings += _firefox_policy(_registry_policy(host, path), path)
    return found


def _extension_settings(value: object) -> dict | None:
    """ExtensionSettings as a mapping: policies give it as an object, the registry as a JSON string."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return value if isinstance(value, dict) else None
