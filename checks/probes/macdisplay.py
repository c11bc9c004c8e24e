"""macOS displays through Quartz (pyobjc), when it is importable: instant, where
``system_profiler`` takes seconds. Imported only on a Mac.

``CGDisplayModeGetPixelWidth`` is the panel's pixels, ``CGDisplayModeGetWidth`` the width
the desktop "looks like" (points); their ratio is the Retina / scaled-mode factor.
"""
from __future__ import annotations

from checks.probes.displayparse import Display

MAX_DISPLAYS = 16


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
