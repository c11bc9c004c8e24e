"""macOS default programs: LaunchServices' LSHandlers (the user's "Change All" in Finder)."""
from __future__ import annotations

import plistlib

from checks.probes.filetypes import DefaultProgram, FileType
from core.host import Host

_PREFS = "Library/Preferences/com.apple.LaunchServices/com.apple.launchservices.secure.plist"
_APP_FOLDERS = ("/Applications", "/System/Applications", "/System/Library/CoreServices/Applications")


def default_program(host: Host, kind: FileType) -> DefaultProgram | None:
    if host.home is None:
        return None
    try:
        prefs = plistlib.loads((host.home / _PREFS).read_bytes())
    except (OSError, plistlib.InvalidFileException, ValueError):
        return None  # never changed: the system's own application
    handlers = prefs.get("LSHandlers", []) if isinstance(prefs, dict) else []
    bundle_id = next((h.get("LSHandlerRoleAll") or h.get("LSHandlerRoleViewer") for h in handlers
                      if isinstance(h, dict) and h.get("LSHandlerContentType") == kind.uti), None)
    if not isinstance(bundle_id, str) or not bundle_id:
        return None
    app = _app_with_bundle_id(host, bundle_id)
    return DefaultProgram(bundle_id, None, app, app is not None)


def _app_with_bundle_id(host: Host, bundle_id: str) -> str | None:
    for folder in _APP_FOLDERS + (str(host.home_os).rstrip("/") + "/Applications",):
        try:
            apps = sorted(host.path(folder).glob("*.app"))
        except OSError:
            continue
        for app in apps:
            try:
                info = plistlib.loads((app / "Contents" / "Info.plist").read_bytes())
            except (OSError, plistlib.InvalidFileException, ValueError):
                continue
            if isinstance(info, dict) and str(info.get("CFBundleIdentifier", "")).lower() == bundle_id.lower():
                return f"{folder}/{app.name}"
    return None
