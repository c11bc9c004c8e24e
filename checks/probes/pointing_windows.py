"""Windows mouse facts through user32 (ctypes, reached through ``host.native``).

Why not SM_MOUSEPRESENT alone: Microsoft documents that it "is rarely zero, because of
support for virtual mice and because some systems detect the presence of the port instead
of the presence of a mouse". So the probe lists the raw-input mice
(GetRawInputDeviceList, RIM_TYPEMOUSE) with their device paths, and leaves out the
Remote Desktop virtual mouse (``Root#RDP_MOU``, installed on every Windows) unless this
session is itself remote (SM_REMOTESESSION). A PS/2 port declared by the BIOS may still
show up with nothing plugged in: no API tells the difference.
"""
from __future__ import annotations

import re
from typing import Protocol

from checks.probes.pointing import PointingDevice, PointingFacts
from core.host import Host

SM_MOUSEPRESENT = 19
SM_CMOUSEBUTTONS = 43
SM_REMOTESESSION = 0x1000
RIM_TYPEMOUSE = 0
RIDI_DEVICENAME = 0x20000007


class WindowsPointing(Protocol):
    def mouse_present(self) -> bool: ...

    def button_count(self) -> int: ...

    def remote_session(self) -> bool: ...

    def raw_mice(self) -> list[str] | None: ...


def read_pointing(host: Host) -> PointingFacts:
    api = host.native("win32.pointing", CtypesPointing)
    if api is None:
        return PointingFacts(readable=False, reason="no Windows API on this host")
    try:
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


class CtypesPointing:
    def mouse_present(self) -> bool:
        return bool(_metric(SM_MOUSEPRESENT))

    def button_count(self) -> int:
        return int(_metric(SM_CMOUSEBUTTONS))

    def remote_session(self) -> bool:
        return bool(_metric(SM_REMOTESESSION))

    def raw_mice(self) -> list[str] | None:
        """Device paths of the raw-input mice, or None when the list cannot be read."""
        import ctypes
        from ctypes import wintypes

        class RAWINPUTDEVICELIST(ctypes.Structure):
            _fields_ = [("hDevice", wintypes.HANDLE), ("dwType", wintypes.DWORD)]

        user32 = ctypes.windll.user32
        user32.GetRawInputDeviceList.restype = wintypes.UINT
        user32.GetRawInputDeviceInfoW.restype = wintypes.UINT
        user32.GetRawInputDeviceInfoW.argtypes = [wintypes.HANDLE, wintypes.UINT, ctypes.c_void_p,
                                                  ctypes.POINTER(wintypes.UINT)]
        failed = 0xFFFFFFFF
        size = ctypes.sizeof(RAWINPUTDEVICELIST)
        count = wintypes.UINT()
        if user32.GetRawInputDeviceList(None, ctypes.byref(count), size) == failed:
            return None
        devices = (RAWINPUTDEVICELIST * max(count.value, 1))()
        got = user32.GetRawInputDeviceList(devices, ctypes.byref(count), size)
        if got == failed:
            return None
        paths = []
        for device in devices[:got]:
            if device.dwType != RIM_TYPEMOUSE:
                continue
            length = wintypes.UINT()
            user32.GetRawInputDeviceInfoW(device.hDevice, RIDI_DEVICENAME, None, ctypes.byref(length))
            buffer = ctypes.create_unicode_buffer(length.value + 1)
            if user32.GetRawInputDeviceInfoW(device.hDevice, RIDI_DEVICENAME, buffer, ctypes.byref(length)) != failed:
                paths.append(buffer.value)
        return paths


def _metric(index: int) -> int:
    import ctypes

    return ctypes.windll.user32.GetSystemMetrics(index)
