"""Polling fallback: asks "which window is in front?" every ``interval_s``.

Used where no event source exists (an X server without a window manager announcing
``_NET_ACTIVE_WINDOW`` changes, an unknown desktop). Facts come from the ``read`` function
given to it, so it is OS-neutral; it reports only changes.
"""
from __future__ import annotations

import logging
import threading
from typing import Callable

from companion.focus.base import FocusWatcher, Foreground, OnChange

log = logging.getLogger(__name__)


class PollFocusWatcher(FocusWatcher):
    name = "poll"

    def __init__(self, read: Callable[[], Foreground | None], interval_s: float = 0.5) -> None:
        self.read = read
        self.interval_s = interval_s

    def run(self, on_change: OnChange, stop: threading.Event) -> None:
        last: Foreground | None = None
        while not stop.is_set():
            try:
                fg = self.read()
            except Exception as exc:  # a failing read must not end the watch
                log.debug("focus poll: %s", exc)
                fg = None
            if fg is not None and fg != last:
                last = fg
                on_change(fg)
            stop.wait(self.interval_s)
