"""Pointing devices (mouse, touchpad, touchscreen) attached to this machine.

Facts read, through the Host:

- Linux: ``/proc/bus/input/devices`` (blocks of ``N: Name=``, ``H: Handlers=mouse0
  event3``, ``B: EV=``/``REL=``/``PROP=`` bitmaps), else ``/sys/class/input/mouse*/device/name``.
  Devices created by software (uinput, under ``/devices/virtual/``: remote-control tools,
  ydotool) are not hardware a candidate can hold, so they are left out. The virtual *bus*
  (0x06) is not enough to tell: Hyper-V guests' real pointer sits on it.
- Windows: the raw-input mice (``GetRawInputDeviceList``) without the Remote Desktop
  virtual mouse, ``SM_CMOUSEBUTTONS``; ``SM_MOUSEPRESENT`` only when the list cannot be
  read (ctypes, ``checks.probes.winpointing``, behind the ``WindowsPointing`` interface).
- macOS: ``ioreg -a -r -d 1 -c IOHIDDevice`` (an XML plist): devices whose usage pairs
  include Generic Desktop / Mouse (1, 2) or Pointer (1, 1).
"""
from __future__ import annotations

import plistlib
import re
from dataclasses import dataclass, field
from typing import Callable, Protocol

from core.host import OS_MACOS, OS_WINDOWS, Host

EV_REL, EV_ABS = 0x02, 0x03
REL_X = 0x00
INPUT_PROP_POINTER = 0x00     # touchpads: an absolute surface that moves a cursor
INPUT_PROP_DIRECT = 0x01      # touchscreens: the pointer is where the finger is
_TOUCHPAD = re.compile(r"touch ?pad|trackpad|glidepoint|synaptics", re.IGNORECASE)


@dataclass(frozen=True)
class PointingDevice:
    name: str
    kind: str                 # "mouse" | "touchpad" | "touchscreen" | "pointer" (kind unknown)
    buttons: int | None = None


@dataclass
class PointingFacts:
    devices: list[PointingDevice] = field(default_factory=list)
    readable: bool = True
    reason: str = ""
    source: str = ""


class WindowsPointing(Protocol):
    def mouse_present(self) -> bool: ...

    def button_count(self) -> int: ...

    def remote_session(self) -> bool: ...

    def raw_mice(self) -> list[str] | None: ...


def _default_windows_api() -> WindowsPointing:
    from checks.probes.winpointing import CtypesPointing

    return CtypesPointing()


windows_api: Callable[[], WindowsPointing] = _default_windows_api


def read_pointing(host: Host) -> PointingFacts:
    if host.os == OS_WINDOWS:
        return _windows(host)
    if host.os == OS_MACOS:
        return _macos(host)
    return _linux(host)


# -- Linux --------------------------------------------------------------------------------
def _linux(host: Host) -> PointingFacts:
    proc = host.path("/proc/bus/input/devices")
    try:
        return PointingFacts(parse_proc_input_devices(proc.read_text(errors="replace")),
                             source="/proc/bus/input/devices")
    except OSError as exc:
        proc_error = f"{proc}: {exc.strerror or exc}"
    sys_input = host.path("/sys/class/input")
    try:
        entries = sorted(sys_input.iterdir())
    except OSError as exc:
        return PointingFacts(readable=False, reason=f"{proc_error}; {sys_input}: {exc.strerror or exc}")
    devices = []
    for entry in entries:
        if not re.fullmatch(r"mouse\d+", entry.name):
            continue
        try:
            name = (entry / "device" / "name").read_text(errors="replace").strip()
        except OSError:
            name = entry.name
        devices.append(PointingDevice(name, _TOUCHPAD.search(name) and "touchpad" or "mouse"))
    return PointingFacts(devices, source="/sys/class/input")


def parse_proc_input_devices(text: str) -> list[PointingDevice]:
    found = []
    for block in re.split(r"\n\s*\n", text.strip()):
        fields: dict[str, str] = {}
        bits: dict[str, int] = {}
        for line in block.splitlines():
            kind, _, rest = line.partition(": ")
            if kind == "B":
                name, _, value = rest.partition("=")
                bits[name] = _bitmap(value)
            elif kind in ("I", "N", "H", "P", "S"):
                fields[kind] = rest
        name_match = re.search(r'Name="(.*)"', fields.get("N", ""))
        name = name_match.group(1) if name_match else "?"
        if fields.get("S", "").startswith("Sysfs=/devices/virtual/"):
            continue
        handlers = fields.get("H", "")
        has_mouse_handler = re.search(r"\bmouse\d+\b", handlers) is not None
        relative = bool(bits.get("EV", 0) >> EV_REL & 1) and bool(bits.get("REL", 0) >> REL_X & 1)
        if not has_mouse_handler and not relative:
            continue
        if bits.get("PROP", 0) >> INPUT_PROP_DIRECT & 1:
            kind = "touchscreen"
        elif _TOUCHPAD.search(name) or (bits.get("PROP", 0) >> INPUT_PROP_POINTER & 1 and not relative):
            kind = "touchpad"
        else:
            kind = "mouse"
        found.append(PointingDevice(name, kind))
    return found


def _bitmap(value: str) -> int:
    """The kernel prints bitmaps as hex words, most significant first: "70000 0 0 0"."""
    words = value.split()
    result = 0
    for word in words:
        try:
            result = (result << 64) | int(word, 16)
        except ValueError:
            return 0
    return result


# -- Windows ------------------------------------------------------------------------------
def _windows(host: Host) -> PointingFacts:
    if not host.is_real and windows_api is _default_windows_api:
        return PointingFacts(readable=False, reason="no Windows API on a simulated host")
    try:
        api = windows_api()
        buttons = api.button_count() or None
        raw = api.raw_mice()
        if raw is None:  # the raw-input list is unavailable: fall back to the coarse flag
            present = api.mouse_present()
            devices = [PointingDevice("mouse", "pointer", buttons)] if present else []
            return PointingFacts(devices, source="GetSystemMetrics")
        remote = api.remote_session()
    except (OSError, AttributeError, ValueError) as exc:
        return PointingFacts(readable=False, reason=f"user32: {exc}")
    devices = [PointingDevice(windows_mouse_name(path), "pointer", buttons) for path in raw
               if remote or not _is_rdp_mouse(path)]
    return PointingFacts(devices, source="GetRawInputDeviceList")


def _is_rdp_mouse(path: str) -> bool:
    return "rdp_mou" in path.lower()


def windows_mouse_name(path: str) -> str:
    """A readable name from a raw-input device path (``\\\\?\\HID#VID_046D&PID_C077#...``
    -> ``USB mouse (VID 046D, PID C077)``)."""
    upper = path.upper()
    ids = re.search(r"VID_([0-9A-F]{4})&PID_([0-9A-F]{4})", upper)
    if ids:
        return f"USB mouse (VID {ids[1]}, PID {ids[2]})"
    # Bluetooth HID (service 00001124): "_VID&0002046D_PID&B01A", vendor after the source byte.
    ids = re.search(r"_VID&[0-9A-F]{4}([0-9A-F]{4})_PID&([0-9A-F]{4})", upper)
    if ids:
        return f"Bluetooth mouse (VID {ids[1]}, PID {ids[2]})"
    if "ACPI#" in upper:
        return "PS/2 mouse"
    if _is_rdp_mouse(path):
        return "Remote Desktop mouse"
    parts = path.split("#")
    return parts[1] if len(parts) > 1 else path


# -- macOS --------------------------------------------------------------------------------
def _macos(host: Host) -> PointingFacts:
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
        found.append(PointingDevice(name, "touchpad" if _TOUCHPAD.search(name) else "mouse"))
    return found
