"""The displays of this machine and their sizes in pixels.

Facts read, through the Host (the display to talk to comes from ``host.env``, never from
this process's own environment):

- Linux X11 (``DISPLAY``): python-xlib, RandR 1.5 monitors of every X screen, else RandR
  1.2 CRTCs, else the root window's size; then the ``xrandr --display D --query`` output.
  The desktop scaling comes from ``Xft.dpi`` in the root window's resources.
- Linux Wayland (``WAYLAND_DISPLAY`` without a usable X server): ``wlr-randr --json`` /
  ``wlr-randr`` (wlroots compositors) or ``kscreen-doctor -o`` (KDE Plasma). GNOME on
  Wayland runs XWayland, which answers the X11 path with the logical sizes.
- Linux, last resort: pywebview's screen list (its Qt or GTK toolkit, in a child process:
  ``checks.probes.webviewscreens``).
- Windows: ``EnumDisplayMonitors`` + ``GetMonitorInfoW`` + ``GetDpiForMonitor`` through
  ctypes, after declaring per-monitor DPI awareness so Windows reports real pixels
  instead of sizes divided by the scaling factor (``checks.probes.windisplay``).
- macOS: Quartz when pyobjc is importable (``checks.probes.macdisplay``), else
  ``system_profiler SPDisplaysDataType -json`` (``_spdisplays_pixels`` are the panel's
  pixels, ``_spdisplays_resolution`` what the desktop "looks like").

Parsers are pure functions of the programs' text (``checks.probes.displayparse``).
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Callable, Protocol

from core.host import OS_MACOS, OS_WINDOWS, Host
from checks.probes.displayparse import (
    Display, parse_kscreen_doctor, parse_system_profiler, parse_wlr_randr, parse_wlr_randr_json,
    parse_xrandr,
)
from checks.probes.webviewscreens import webview_screens

__all__ = ["Display", "DisplayFacts", "WindowsDisplays", "read_displays"]


@dataclass
class DisplayFacts:
    displays: list[Display] = field(default_factory=list)
    source: str = ""
    # None when displays were read; "no_display" when there is no graphical session at
    # all; "unreadable" when there is one but it could not be asked (reason says why).
    problem: str | None = None
    reason: str = ""


class WindowsDisplays(Protocol):
    """What the Windows probe needs from the OS (the real one is ctypes-based)."""

    def monitors(self) -> list[Display]: ...


# Replaced in tests: the Windows API is only reachable on Windows.
def _default_windows_api() -> WindowsDisplays:
    from checks.probes.windisplay import CtypesDisplays

    return CtypesDisplays()


windows_api: Callable[[], WindowsDisplays] = _default_windows_api


class MacDisplays(Protocol):
    """Quartz on a Mac; ``monitors()`` is None when pyobjc is not installed."""

    def monitors(self) -> list[Display] | None: ...


def _default_mac_api() -> MacDisplays:
    from checks.probes.macdisplay import QuartzDisplays

    return QuartzDisplays()


mac_api: Callable[[], MacDisplays] = _default_mac_api


def read_displays(host: Host) -> DisplayFacts:
    if host.os == OS_WINDOWS:
        return _windows(host)
    if host.os == OS_MACOS:
        return _macos(host)
    return _linux(host)


# -- Windows / macOS ----------------------------------------------------------------------
def _windows(host: Host) -> DisplayFacts:
    if not host.is_real and windows_api is _default_windows_api:
        return DisplayFacts(problem="unreadable", reason="no Windows display API on a simulated host")
    try:
        found = windows_api().monitors()
    except (OSError, AttributeError, ValueError) as exc:
        return DisplayFacts(problem="unreadable", reason=f"Windows display API: {exc}")
    if not found:
        # A service or SSH session (session 0) has no desktop, hence no monitors.
        return DisplayFacts(problem="no_display", source="windows")
    return DisplayFacts(found, "windows")


def _macos(host: Host) -> DisplayFacts:
    if host.is_real or mac_api is not _default_mac_api:
        try:
            found = mac_api().monitors()
        except (OSError, AttributeError, ValueError, TypeError):
            found = None  # a pyobjc that does not match this macOS: system_profiler knows
        if found:
            return DisplayFacts(found, "quartz")
    out = host.run(["system_profiler", "SPDisplaysDataType", "-json"], timeout=20)
    if out is None or not out.ok:
        reason = "system_profiler not found" if out is None else (out.stderr.strip() or f"exit {out.returncode}")
        return DisplayFacts(problem="unreadable", reason=reason)
    try:
        found = parse_system_profiler(out.stdout)
    except ValueError as exc:
        return DisplayFacts(problem="unreadable", reason=f"system_profiler: {exc}")
    if not found:
        return DisplayFacts(problem="no_display", source="system_profiler")
    return DisplayFacts(found, "system_profiler")


# -- Linux --------------------------------------------------------------------------------
def _linux(host: Host) -> DisplayFacts:
    x_display = host.getenv("DISPLAY")
    wayland = host.getenv("WAYLAND_DISPLAY")
    if not x_display and not wayland:
        # Typical of a run over SSH or from a service while a desktop is open on the
        # machine: say where it is, so the technician knows where to run the test.
        return DisplayFacts(problem="no_display", reason=", ".join(running_x_displays(host)))
    reasons: list[str] = []
    if x_display:
        found, reason = _xlib(x_display)
        if found:
            return DisplayFacts(_primary_or_origin(found), "x11")
        reasons.append(reason)
        out = host.run(["xrandr", "--display", x_display, "--query"], timeout=10)
        if out is not None and out.ok:
            found = parse_xrandr(out.stdout)
            if found:
                return DisplayFacts(_primary_or_origin(found), "xrandr")
    if wayland:
        for argv, parser in ((["wlr-randr", "--json"], parse_wlr_randr_json),
                             (["wlr-randr"], parse_wlr_randr),
                             (["kscreen-doctor", "-o"], parse_kscreen_doctor)):
            out = host.run(argv, timeout=10)
            if out is None or not out.ok:
                continue
            try:
                found = parser(out.stdout)
            except ValueError:
                continue
            if found:
                return DisplayFacts(found, argv[0])
        reasons.append(f"Wayland {wayland}: no wlr-randr or kscreen-doctor answer")
    found = webview_screens(host)
    if found:
        return DisplayFacts(found, "pywebview")
    return DisplayFacts(problem="unreadable", reason="; ".join(r for r in reasons if r))


def running_x_displays(host: Host) -> list[str]:
    """":0", ":1"... for the X servers whose sockets are in /tmp/.X11-unix."""
    try:
        names = [p.name for p in host.path("/tmp/.X11-unix").iterdir()]
    except OSError:
        return []
    numbers = sorted(int(n[1:]) for n in names if n[:1] == "X" and n[1:].isdigit())
    return [f":{n}" for n in numbers]


def _primary_or_origin(found: list[Display]) -> list[Display]:
    # X servers without a primary output set (Xvfb, many VMs) put panels and new windows
    # on the output at 0,0: that one is the primary display in practice.
    if any(d.primary for d in found):
        return found
    origin = next((d for d in found if (d.x, d.y) == (0, 0)), found[0])
    return [dataclasses.replace(d, primary=d is origin) for d in found]


def _xlib(name: str) -> tuple[list[Display], str]:
    try:
        from Xlib import display as xdisplay
        from Xlib import error as xerror
    except ImportError:
        return [], "python-xlib is not installed"
    try:
        conn = xdisplay.Display(name)
    except (xerror.DisplayError, OSError) as exc:
        return [], str(exc)
    try:
        found: list[Display] = []
        for number in range(conn.screen_count()):
            found += _xlib_screen(conn, number)
        scale = _xft_scale(conn)
        if scale is not None:
            found = [dataclasses.replace(d, scale=d.scale or scale) for d in found]
        return found, ""
    except (xerror.XError, OSError) as exc:
        return [], f"X display {name}: {exc}"
    finally:
        conn.close()


def _xft_scale(conn) -> float | None:
    """The desktop scaling of an X11 session: ``Xft.dpi`` in the root window's resources
    (GNOME and KDE set 192 for 200 %). Chrome and Firefox on X11 size web pages by it."""
    from Xlib import Xatom

    prop = conn.screen(0).root.get_full_property(Xatom.RESOURCE_MANAGER, Xatom.STRING)
    value = prop.value if prop is not None else b""
    text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
    match = re.search(r"^Xft\.dpi:\s*([\d.]+)\s*$", text, re.MULTILINE)
    if not match or float(match[1]) <= 0:
        return None
    return round(float(match[1]) / 96, 2)


def _randr_version(conn) -> tuple[int, int] | None:
    """The RandR version the server speaks, None without the extension."""
    if not conn.has_extension("RANDR"):
        return None
    reply = conn.xrandr_query_version()
    return reply.major_version, reply.minor_version


def _xlib_screen(conn, number: int) -> list[Display]:
    screen = conn.screen(number)
    root = screen.root
    prefix = f"{number}:" if conn.screen_count() > 1 else ""
    version = _randr_version(conn)
    if version is not None:
        from Xlib.ext import randr

        if version >= (1, 5):
            monitors = randr.get_monitors(root, True).monitors
            if monitors:
                return [Display(prefix + conn.get_atom_name(m["name"]), m["width_in_pixels"],
                                m["height_in_pixels"], bool(m["primary"]), m["x"], m["y"])
                        for m in monitors]
        # RandR 1.2-1.4 (older servers, some VNC and thin-client X servers): active CRTCs.
        resources = randr.get_screen_resources(root)
        primary = randr.get_output_primary(root).output if version >= (1, 3) else 0
        crtc_displays = []
        for output in resources.outputs:
            info = randr.get_output_info(root, output, resources.config_timestamp)
            if not info.crtc:  # disconnected or switched off
                continue
            crtc = randr.get_crtc_info(root, info.crtc, resources.config_timestamp)
            crtc_displays.append(Display(prefix + info.name, crtc.width, crtc.height,
                                         output == primary, crtc.x, crtc.y))
        if crtc_displays:
            return crtc_displays
    return [Display(prefix + "screen", screen.width_in_pixels, screen.height_in_pixels, number == 0)]
