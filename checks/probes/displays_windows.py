"""Windows displays through the Win32 API (ctypes), reached through ``host.native``.

Why DPI awareness first: a process that has not declared it gets "virtualised" sizes,
divided by the scaling factor (a 1920 px panel at 150 % reads as 1280 px), and the
result would depend on how examroom was started. Per-monitor awareness (v2 where the
system has it) makes GetMonitorInfoW report the panels' real pixels; GetDpiForMonitor
then gives each one's scaling. Qt (the --gui window) asks for the same awareness, so
declaring it here first does not change its behaviour.
"""
from __future__ import annotations

from typing import Protocol

from checks.probes.displayparse import Display
from checks.probes.displays import DisplayFacts
from core.host import Host

MONITORINFOF_PRIMARY = 1
MDT_EFFECTIVE_DPI = 0
DPI_AWARENESS_CONTEXT_PER_MONITOR_AWARE_V2 = -4
PROCESS_PER_MONITOR_DPI_AWARE = 2
SM_CXSCREEN, SM_CYSCREEN = 0, 1


def declare_dpi_awareness() -> str:
    """The awareness this process ends up with: "per-monitor-v2", "per-monitor",
    "system" or "unaware" (Windows 7 and older without the calls)."""
    import ctypes

    user32 = ctypes.windll.user32
    try:
        if user32.SetProcessDpiAwarenessContext(ctypes.c_void_p(DPI_AWARENESS_CONTEXT_PER_MONITOR_AWARE_V2)):
            return "per-monitor-v2"
    except AttributeError:  # before Windows 10 1703
        pass
    try:
        # S_OK, or E_ACCESSDENIED when it was already declared (by us or by Qt): both fine.
        if ctypes.windll.shcore.SetProcessDpiAwareness(PROCESS_PER_MONITOR_DPI_AWARE) in (0, -2147024891):
            return "per-monitor"
    except (AttributeError, OSError):  # Windows 7: no shcore.dll
        pass
    try:
        if user32.SetProcessDPIAware():
            return "system"
    except AttributeError:
        pass
    return "unaware"


class WindowsDisplays(Protocol):
    """What the Windows probe needs from the OS: ``host.native("win32.displays", ...)``."""

    def monitors(self) -> list[Display]: ...


def read_displays(host: Host) -> DisplayFacts:
    api = host.native("win32.displays", CtypesDisplays)
    if api is None:
        return DisplayFacts(problem="unreadable", reason="no Windows display API on this host")
    try:
        found = api.monitors()
    except (OSError, AttributeError, ValueError) as exc:
        return DisplayFacts(problem="unreadable", reason=f"Windows display API: {exc}")
    if not found:
        # A service or SSH session (session 0) has no desktop, hence no monitors.
        return DisplayFacts(problem="no_display", source="windows")
    return DisplayFacts(found, "windows")


class CtypesDisplays:
    """The real ``WindowsDisplays``: one Display per monitor of the interactive desktop."""

    def monitors(self) -> list[Display]:
        import ctypes
        from ctypes import wintypes

        declare_dpi_awareness()
        user32 = ctypes.windll.user32

        class MONITORINFOEXW(ctypes.Structure):
            _fields_ = [("cbSize", wintypes.DWORD), ("rcMonitor", wintypes.RECT),
                        ("rcWork", wintypes.RECT), ("dwFlags", wintypes.DWORD),
                        ("szDevice", wintypes.WCHAR * 32)]

        found: list[Display] = []
        proc_type = ctypes.WINFUNCTYPE(wintypes.BOOL, wintypes.HMONITOR, wintypes.HDC,
                                       ctypes.POINTER(wintypes.RECT), wintypes.LPARAM)

        def callback(hmonitor, _hdc, _rect, _data):
            info = MONITORINFOEXW()
            info.cbSize = ctypes.sizeof(MONITORINFOEXW)
            if not user32.GetMonitorInfoW(hmonitor, ctypes.byref(info)):
                return True
            rect = info.rcMonitor
            found.append(Display(
                info.szDevice.replace("\\\\.\\", ""), rect.right - rect.left, rect.bottom - rect.top,
                bool(info.dwFlags & MONITORINFOF_PRIMARY), rect.left, rect.top,
                _monitor_scale(hmonitor)))
            return True

        user32.EnumDisplayMonitors(None, None, proc_type(callback), 0)
        if not found:
            # Remote or odd sessions where enumeration fails but the primary screen is known.
            width, height = user32.GetSystemMetrics(SM_CXSCREEN), user32.GetSystemMetrics(SM_CYSCREEN)
            if width and height:
                found.append(Display("primary", width, height, True))
        return found


def _monitor_scale(hmonitor) -> float | None:
    import ctypes
    from ctypes import wintypes

    dpi_x, dpi_y = wintypes.UINT(), wintypes.UINT()
    try:
        result = ctypes.windll.shcore.GetDpiForMonitor(hmonitor, MDT_EFFECTIVE_DPI,
                                                       ctypes.byref(dpi_x), ctypes.byref(dpi_y))
    except (AttributeError, OSError):
        return None
    return round(dpi_x.value / 96, 2) if result == 0 and dpi_x.value else None
