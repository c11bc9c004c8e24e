"""macOS pointing devices: ``ioreg -a -r -d 1 -c IOHIDDevice`` (an XML plist)."""
from __future__ import annotations

import plistlib

from checks.probes.pointing import TOUCHPAD_NAMES, PointingDevice, PointingFacts
from core.host import Host


def read_pointing(host: Host) -> PointingFacts:
    out = host.run(["ioreg", "-a", "-r", "-d", "1", "-c", "IOHIDDevice"], timeout=15)
    if out is None or not out.ok:
        reason = "ioreg not found" if out is None else (out.stderr.strip() or f"exit {out.returncode}")
        return PointingFacts(readable=False, reason=reason)
    try:
        return PointingFacts(parse_ioreg_hid(out.stdout), source="ioreg")
    except ValueError as exc:
        return PointingFacts(readable=False, reason=f"ioreg: {exc}")


def parse_ioreg_hid(text: str) -> list[PointingDevice]:
    if not text.strip():
        return []
    try:
        data = plistlib.loads(text.encode("utf-8"))
    except Exception as exc:  # noqa: BLE001 - plistlib raises several unrelated types
        raise ValueError(f"not a property list: {exc}") from None
    found = []
    for device in data if isinstance(data, list) else [data]:
        if not isinstance(device, dict):
            continue
        pairs = {(p.get("DeviceUsagePage"), p.get("DeviceUsage"))
                 for p in device.get("DeviceUsagePairs", []) if isinstance(p, dict)}
        pairs.add((device.get("PrimaryUsagePage"), device.get("PrimaryUsage")))
        if not pairs & {(1, 2), (1, 1)}:
            continue
        name = str(device.get("Product") or "HID pointer")
        found.append(PointingDevice(name, "touchpad" if TOUCHPAD_NAMES.search(name) else "mouse"))
    return found
