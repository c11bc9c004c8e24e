"""Foreground window on X11, event-driven, through python-xlib.

Facts read: the root window's ``_NET_ACTIVE_WINDOW`` (set by the window manager; without
one there is no active window and this watcher reports nothing), the active window's
``_NET_WM_NAME`` (UTF-8) or ``WM_NAME``, and ``_NET_WM_PID`` -> process name via psutil.
We listen to PropertyNotify on the root (window switches) AND on the active window (title
changes: a browser changes its title when the candidate switches tabs).
"""
from __future__ import annotations

import logging
import select
import threading
import time

import psutil

from companion.focus import FocusWatcher, Foreground, OnChange

log = logging.getLogger(__name__)
EMPTY_GRACE_S = 0.25


def process_name(pid: int | None) -> str:
    if not pid:
        return ""
    try:
        return psutil.Process(pid).name()
    except (psutil.Error, ValueError):
        return ""


class X11FocusWatcher(FocusWatcher):
    name = "x11"

    def __init__(self, display: str | None = None, poll_s: float = 0.5) -> None:
        self.display_name = display
        self.poll_s = poll_s

    def run(self, on_change: OnChange, stop: threading.Event) -> None:
        from Xlib import X, display as xdisplay
        from Xlib.error import XError

        conn = xdisplay.Display(self.display_name)
        # errors of asynchronous requests (a window closed under us) are expected: no stderr noise
        conn.set_error_handler(lambda *args: None)
        try:
            atoms = {name: conn.intern_atom(name) for name in
                     ("_NET_ACTIVE_WINDOW", "_NET_WM_NAME", "WM_NAME", "_NET_WM_PID", "UTF8_STRING",
                      "_NET_SUPPORTING_WM_CHECK")}
            root = conn.screen().root
            if root.get_full_property(atoms["_NET_SUPPORTING_WM_CHECK"], X.AnyPropertyType) is None:
                # no EWMH window manager (kiosk sessions, bare X): nobody announces the active
                # window, so ask the server for the input focus instead, by polling
                from companion.focus.poll import PollFocusWatcher

                log.info("x11: no EWMH window manager, polling the input focus")
                PollFocusWatcher(lambda: self._input_focus(conn, root, atoms), self.poll_s).run(on_change, stop)
                return
            root.change_attributes(event_mask=X.PropertyChangeMask)
            watched = None
            last: Foreground | None = None
            # openbox clears _NET_ACTIVE_WINDOW for an instant between two windows: "no
            # window" is reported only if it lasts, else every switch would carry an empty title
            pending_empty: float | None = None

            def refresh() -> None:
                nonlocal watched, last, pending_empty
                win = self._active(conn, root, atoms)
                if win is not None and (watched is None or win.id != watched.id):
                    try:
                        # title changes of the window in front = tab switches
                        win.change_attributes(event_mask=X.PropertyChangeMask)
                    except XError:
                        win = None
                    if watched is not None:
                        try:
                            watched.change_attributes(event_mask=X.NoEventMask)
                        except XError:
                            pass  # the window is gone
                    watched = win
                if win is None:
                    if last is not None and pending_empty is None:
                        pending_empty = time.monotonic() + EMPTY_GRACE_S
                        return
                    if last is not None and time.monotonic() < pending_empty:
                        return
                pending_empty = None
                fg = self._describe(win, atoms) if win is not None else Foreground(title="")
                if fg != last:
                    last = fg
                    on_change(fg)

            refresh()
            fd = conn.fileno()
            while not stop.is_set():
                if not conn.pending_events():
                    # select with a timeout so a stop request is seen within 0.5 s
                    wait = 0.5 if pending_empty is None else max(0.0, pending_empty - time.monotonic())
                    ready, _, _ = select.select([fd], [], [], wait)
                    if not ready:
                        if pending_empty is not None and time.monotonic() >= pending_empty:
                            refresh()
                        continue
                changed = False
                while conn.pending_events():
                    ev = conn.next_event()
                    if ev.type == X.PropertyNotify and ev.atom in (
                            atoms["_NET_ACTIVE_WINDOW"], atoms["_NET_WM_NAME"], atoms["WM_NAME"]):
                        changed = True
                if changed:
                    try:
                        refresh()
                    except XError as exc:  # a window closing between event and read
                        log.debug("x11 refresh: %s", exc)
        finally:
            conn.close()

    @staticmethod
    def _active(conn, root, atoms):
        from Xlib import X

        prop = root.get_full_property(atoms["_NET_ACTIVE_WINDOW"], X.AnyPropertyType)
        if prop is None or not prop.value or not prop.value[0]:
            return None
        return conn.create_resource_object("window", int(prop.value[0]))

    @classmethod
    def _input_focus(cls, conn, root, atoms) -> Foreground:
        """The top-level window holding the keyboard focus (the focus may be on a child)."""
        from Xlib.error import XError

        try:
            win = conn.get_input_focus().focus
            if isinstance(win, int) or win is None or win.id == root.id:
                return Foreground(title="")
            while True:
                parent = win.query_tree().parent
                if parent is None or parent.id == root.id:
                    break
                if cls._describe(win, atoms).title:
                    break
                win = parent
        except XError:
            return Foreground(title="")
        return cls._describe(win, atoms)

    @staticmethod
    def _describe(win, atoms) -> Foreground:
        from Xlib import X
        from Xlib.error import XError

        title, pid = "", None
        try:
            prop = win.get_full_property(atoms["_NET_WM_NAME"], atoms["UTF8_STRING"])
            if prop is None or not prop.value:
                prop = win.get_full_property(atoms["WM_NAME"], X.AnyPropertyType)
            if prop is not None and prop.value:
                value = prop.value
                title = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
            pid_prop = win.get_full_property(atoms["_NET_WM_PID"], X.AnyPropertyType)
            if pid_prop is not None and len(pid_prop.value):
                pid = int(pid_prop.value[0])
        except XError:
            pass
        return Foreground(title=title, process=process_name(pid), pid=pid, window=win.id)
