"""Which window is in front, and whether it is the exam: the logic shared by every OS.

Watchers (x11.py, windows.py, macos.py, poll.py) only report facts: "this window, with this
title, of this process, is now in front" (a ``Foreground``). ``FocusTracker`` (tracker.py)
judges them, with what the browser extension says, and produces the focus events. It is
pure (clock injected) so it is tested table-style.
"""
from __future__ import annotations

from companion.focus.base import (BROWSERS, DEFAULT_EXAM_TITLE, FocusWatcher, Foreground, OnChange,  # noqa: F401
                                  compile_exam_title, is_browser)


def make_watcher(os_name: str, display: str | None) -> FocusWatcher | None:
    """The event-driven watcher for this OS, or None when there is no window system."""
    if os_name == "windows":
        from companion.focus.windows import WindowsFocusWatcher

        return WindowsFocusWatcher()
    if os_name == "macos":
        from companion.focus.macos import MacFocusWatcher

        return MacFocusWatcher()
    if display:
        from companion.focus.x11 import X11FocusWatcher

        return X11FocusWatcher(display)
    return None


from companion.focus.tracker import FocusTracker, Place  # noqa: E402,F401  (the package's public face)
