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
  instead of sizes divided by the scaling factor (``checks.probes.displays_windows``).
- macOS: Quartz when pyobjc is importable (``checks.probes.displays_macos``), else
  ``system_profiler SPDisplaysDataType -json`` (``_spdisplays_pixels`` are the panel's
  pixels, ``_spdisplays_resolution`` what the desktop "looks like").

Parsers are pure functions of the programs' text (``checks.probes.displayparse``); each
OS is in ``displays_<os>.py`` (``checks.probes.for_os``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from checks.probes import for_os
from checks.probes.displayparse import Display
from core.host import Host

__all__ = ["Display", "DisplayFacts", "read_displays"]
OS_FUNCTIONS = ("read_displays",)


@dataclass
class DisplayFacts:
    displays: list[Display] = field(default_factory=list)
    source: str = ""
    # None when displays were read; "no_display" when there is no graphical session at
    # all; "unreadable" when there is one but it could not be asked (reason says why).
    problem: str | None = None
    reason: str = ""


def read_displays(host: Host) -> DisplayFacts:
    return for_os(host, "displays").read_displays(host)
