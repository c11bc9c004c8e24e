"""macOS displays through Quartz (pyobjc, reached through ``host.native``) when it is
importable: instant, where ``system_profiler`` takes seconds; else ``system_profiler``.

``CGDisplayModeGetPixelWidth`` is the panel's pixels, ``CGDisplayModeGetWidth`` the width
the desktop "looks like" (points); their ratio is the Retina / scaled-mode factor.
"""
from __future__ import annotations

from typing import Protocol

from checks.probes.displayparse import Display, parse_system_profiler
from checks.probes.displays import DisplayFacts
from core.host import Host

MAX_DISPLAYS = 16


class MacDisplays(Protocol):
    """Quartz on a Mac (``host.native("quartz.displays", ...)``); ``monitors()`` is None
    when pyobjc is not installed."""

    def monitors(self) -> list[Display] | None: ...


def read_displays(host: Host) -> DisplayFacts:
    api = host.native("quartz.displays", QuartzDisplays)
    if api is not None:
        try:
            found = api.monitors()
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


class QuartzDisplays:
    """The real ``MacDisplays``; ``monitors()`` returns None when Quartz is not installed."""

    def monitors(self) -> list[Display] | None:
        try:
            import Quartz  # pyobjc-framework-Quartz: optional
        except ImportError:
            return None
        error, ids, count = Quartz.CGGetActiveDisplayList(MAX_DISPLAYS, None, None)
        if error:
            return None
        main = Quartz.CGMainDisplayID()
        found = []
        for display_id in list(ids)[:count]:
            mode = Quartz.CGDisplayCopyDisplayMode(display_id)
            if mode is None:
                continue
            pixels_w = Quartz.CGDisplayModeGetPixelWidth(mode)
            pixels_h = Quartz.CGDisplayModeGetPixelHeight(mode)
            points_w = Quartz.CGDisplayModeGetWidth(mode)
            bounds = Quartz.CGDisplayBounds(display_id)
            name = "built-in" if Quartz.CGDisplayIsBuiltin(display_id) else f"display {display_id}"
            found.append(Display(name, int(pixels_w), int(pixels_h), display_id == main,
                                 int(bounds.origin.x), int(bounds.origin.y),
                                 round(pixels_w / points_w, 2) if points_w else None))
        return found
