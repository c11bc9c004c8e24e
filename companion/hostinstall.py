"""Where the examroom extension lives, and the native messaging host manifests browsers read.

``extension_dir(family)``: the unpacked extension shipped inside the package. One folder
serves both families: its ``manifest.json`` names ``background.service_worker`` (Chromium,
which since version 121 ignores ``background.scripts`` beside it) and ``background.scripts``
(Firefox, which since version 121 ignores ``service_worker`` beside it), and
``browser_specific_settings.gecko.id`` (Chromium warns about an unknown key and goes on).

``install(...)``: writes the host manifest (``org.examroom.companion.json``) and a launcher
that runs ``python -m companion.nativehost`` with this interpreter, where each browser looks
for them (user level by default, system level with ``system=True``; Windows: the manifest
file plus a registry key per browser, written through ``registry_writer``).
"""
from __future__ import annotations

import json
import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from companion.extchannel import EXTENSION_ID, GECKO_ID

HOST_NAME = "org.examroom.companion"
FAMILIES = ("chromium", "firefox")


def extension_dir(family: str) -> Path:
    if family not in FAMILIES:
        raise ValueError(family)
    return Path(__file__).resolve().parent / "extension"


def host_manifest(family: str, launcher: Path) -> dict:
    manifest = {"name": HOST_NAME, "description": "examroom companion (exam-time monitoring)",
                "path": str(launcher), "type": "stdio"}
    if family == "firefox":
        manifest["allowed_extensions"] = [GECKO_ID]
    else:
        manifest["allowed_origins"] = [f"chrome-extension://{EXTENSION_ID}/"]
    return manifest


@dataclass(frozen=True)
class Target:
    browser: str
    family: str
    folder: Path | None                 # where the manifest file goes (None: beside the launcher)
    registry_key: str | None = None     # Windows: HKCU/HKLM key whose default value is its path


def targets(os_name: str, home: Path, *, system: bool = False, user_data_dir: Path | None = None) -> list[Target]:
    """Each browser's folder (or registry key) for native messaging host manifests."""
    if user_data_dir is not None:       # a Chromium profile of its own (--user-data-dir)
        return [Target("chromium", "chromium", user_data_dir / "NativeMessagingHosts")]
    if os_name == "windows":
        root = "HKLM" if system else "HKCU"
        keys = {"chrome": ("chromium", r"Software\Google\Chrome"), "edge": ("chromium", r"Software\Microsoft\Edge"),
                "chromium": ("chromium", r"Software\Chromium"), "firefox": ("firefox", r"Software\Mozilla")}
        return [Target(name, fam, None, rf"{root}\{key}\NativeMessagingHosts\{HOST_NAME}")
                for name, (fam, key) in keys.items()]
    if os_name == "macos":
        base = Path("/Library") if system else home / "Library"
        support = base / "Application Support"
        return [Target("chrome", "chromium", support / "Google/Chrome/NativeMessagingHosts"),
                Target("edge", "chromium", support / "Microsoft Edge/NativeMessagingHosts"),
                Target("chromium", "chromium", support / "Chromium/NativeMessagingHosts"),
                Target("firefox", "firefox", support / "Mozilla/NativeMessagingHosts")]
    if system:
        return [Target("chrome", "chromium", Path("/etc/opt/chrome/native-messaging-hosts")),
                Target("edge", "chromium", Path("/etc/opt/edge/native-messaging-hosts")),
                Target("chromium", "chromium", Path("/etc/chromium/native-messaging-hosts")),
                Target("firefox", "firefox", Path("/usr/lib/mozilla/native-messaging-hosts"))]
    config = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
    return [Target("chrome", "chromium", config / "google-chrome/NativeMessagingHosts"),
            Target("edge", "chromium", config / "microsoft-edge/NativeMessagingHosts"),
            Target("chromium", "chromium", config / "chromium/NativeMessagingHosts"),
            Target("firefox", "firefox", home / ".mozilla/native-messaging-hosts")]


def write_launcher(folder: Path, os_name: str, python: str = sys.executable) -> Path:
    """A program the browser can start (a manifest names one executable, no arguments)."""
    folder.mkdir(parents=True, exist_ok=True)
    # the host must find this interpreter's packages: the source tree when run from a checkout
    source = Path(__file__).resolve().parent.parent
    if os_name == "windows":
        launcher = folder / "examroom-native-host.bat"
        home = f'set "EXAMROOM_HOME={os.environ["EXAMROOM_HOME"]}"\r\n' if os.environ.get("EXAMROOM_HOME") else ""
        launcher.write_text(f'@echo off\r\n{home}set "PYTHONPATH={source};%PYTHONPATH%"\r\n'
                            f'"{python}" -m companion.nativehost %*\r\n', encoding="utf-8")
        return launcher
    launcher = folder / "examroom-native-host"
    # the companion's state folder, when it is not the default one, must be the host's too
    home = f'EXAMROOM_HOME="{os.environ["EXAMROOM_HOME"]}" ' if os.environ.get("EXAMROOM_HOME") else ""
    launcher.write_text(f'#!/bin/sh\n{home}PYTHONPATH="{source}${{PYTHONPATH:+:$PYTHONPATH}}" '
                        f'exec "{python}" -m companion.nativehost "$@"\n', encoding="utf-8")
    launcher.chmod(launcher.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return launcher


RegistryWriter = Callable[[str, str], None]   # (key path, default value)


def install(os_name: str, home: Path, launcher_dir: Path, *, system: bool = False,
            user_data_dir: Path | None = None, registry_writer: RegistryWriter | None = None) -> list[Path]:
    """Write the launcher and one host manifest per browser; returns the manifests written."""
    launcher = write_launcher(launcher_dir, os_name)
    written: list[Path] = []
    for target in targets(os_name, home, system=system, user_data_dir=user_data_dir):
        folder = target.folder or launcher_dir / target.family
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{HOST_NAME}.json"
        path.write_text(json.dumps(host_manifest(target.family, launcher), indent=2) + "\n", encoding="utf-8")
        if target.registry_key is not None:
            (registry_writer or _winreg_writer)(target.registry_key, str(path))
        if path not in written:
            written.append(path)
    return written


def _winreg_writer(key: str, value: str) -> None:
    import winreg  # Windows only

    hive, _, sub = key.partition("\\")
    root = winreg.HKEY_LOCAL_MACHINE if hive == "HKLM" else winreg.HKEY_CURRENT_USER
    with winreg.CreateKey(root, sub) as handle:
        winreg.SetValueEx(handle, "", 0, winreg.REG_SZ, value)
