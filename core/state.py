"""The agent's state directory and the machine's identity.

``EXAMROOM_HOME`` overrides the directory (several simulated agents on one host);
``EXAMROOM_MACHINE_ID`` overrides the identity. Otherwise the id is derived once from the
OS's own machine id (systemd/D-Bus machine-id, Windows MachineGuid, macOS IOPlatformUUID)
and kept in the state directory, so it survives a reinstall of examroom.
"""
from __future__ import annotations

import hashlib
import os
import socket
import uuid
from pathlib import Path

from platformdirs import user_data_dir

from core.host import OS_MACOS, OS_WINDOWS, Host


def state_dir() -> Path:
    path = Path(os.environ.get("EXAMROOM_HOME") or user_data_dir("examroom", appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def machine_id(host: Host | None = None) -> str:
    forced = os.environ.get("EXAMROOM_MACHINE_ID")
    if forced:
        return forced.strip()
    stored = state_dir() / "machine_id"
    try:
        value = stored.read_text(encoding="utf-8").strip()
        if value:
            return value
    except OSError:
        pass
    source = _os_machine_id(host or Host.current())
    value = hashlib.sha256(source.encode()).hexdigest()[:16] if source else uuid.uuid4().hex[:16]
    stored.write_text(value + "\n", encoding="utf-8")
    return value


def hostname() -> str:
    return socket.gethostname()


def _os_machine_id(host: Host) -> str:
    if host.os == OS_WINDOWS and host.registry is not None:
        guid = host.registry.values(r"HKLM\SOFTWARE\Microsoft\Cryptography").get("MachineGuid")
        return str(guid or "")
    if host.os == OS_MACOS:
        out = host.run(["ioreg", "-rd1", "-c", "IOPlatformExpertDevice"], timeout=5)
        for line in (out.stdout if out else "").splitlines():
            if "IOPlatformUUID" in line:
                return line.split("=")[-1].strip().strip('"')
        return ""
    for name in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        try:
            return host.path(name).read_text().strip()
        except OSError:
            continue
    return ""
