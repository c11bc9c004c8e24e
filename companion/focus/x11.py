"""Foreground window on X11, event-driven, through python-xlib.

Facts read: the root window's ``_NET_ACTIVE_WINDOW`` (set by the window manager; without
one there is no active window and this watcher reports nothing), the active window's
``_NET_WM_NAME`` (UTF-8) or ``WM_NAME``, ``WM_CLASS``, ``_NET_WM_PID`` -> process name
and executable via psutil, and whether it is a dialog (``WM_TRANSIENT_FOR`` or
``_NET_WM_WINDOW_TYPE_DIALOG``). We listen to PropertyNotify on the root (window switches) AND on
the active window (title changes: a browser changes its title when the candidate switches
tabs), and to the root's MapNotify/UnmapNotify: an override-redirect window covering the
screen (a screen locker such as xsecurelock or i3lock, a full-screen overlay) never becomes
the "active window", yet it is what the candidate sees; its pid comes from ``_NET_WM_PID`` or,
lockers rarely setting it, from the X-Resource extension (the client's pid).
"""
from __future__ import annotations

import logging
import select
import threading
import time

import psutil

from companion.focus.base import FocusWatcher, Foreground, OnChange

log = logging.getLogger(__name__)
EMPTY_GRACE_S = 0.25


COVERS = 0.9      # an override-redirect window over 90% of the screen hides everything else


def process_name(pid: int | None) -> str:
    if not pid:
        return ""
    try:
        return psutil.Process(pid).name()
    except (psutil.Error, ValueError):
        return ""


def process_exe(pid: int | None) -> str:
    if not pid:
        return ""
    try:
        return psutil.Process(pid).exe()
    except (psutil.Error, ValueError, OSError):
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
                      "_NET_SUPPORTING_WM_CHECK", "_NET_WM_WINDOW_TYPE", "_NET_WM_WINDOW_TYPE_DIALOG")}
            root = conn.screen().root
            if root.get_full_property(atoms["_NET_SUPPORTING_WM_CHECK"], X.AnyPropertyType) is None:
                # no EWMH window manager (kiosk sessions, bare X): nobody announces the active
                # window, so ask the server for the input focus instead, by polling
                from companion.focus.poll import PollFocusWatcher

                log.info("x11: no EWMH window manager, polling the input focus")
                PollFocusWatcher(lambda: self._input_focus(conn, root, atoms), self.poll_s).run(on_change, stop)
                return
            root.change_attributes(event_mask=X.PropertyChangeMask | X.SubstructureNotifyMask)
            screen = conn.screen()
            area = screen.width_in_pixels * screen.height_in_pixels
            overlays: dict[int, Foreground] = {}   # covering override-redirect windows, mapped
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
                if overlays:
                    fg = list(overlays.values())[-1]
                else:
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
                    elif ev.type == X.MapNotify and ev.override:
                        cover = self._covering(conn, ev.window, area, atoms)
                        if cover is not None:
                            overlays[ev.window.id] = cover
                            changed = True
                    elif ev.type in (X.UnmapNotify, X.DestroyNotify) and ev.window.id in overlays:
                        del overlays[ev.window.id]
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

    @classmethod
    def _covering(cls, conn, win, area: int, atoms) -> Foreground | None:
        """An override-redirect window just mapped: the fact, if it covers the screen."""
        from Xlib.error import XError

        try:
            geometry = win.get_geometry()
        except XError:
            return None
        if geometry.width * geometry.height < COVERS * area:
            return None   # a menu, a tooltip, a notification
        fg = cls._describe(win, atoms)
        pid = fg.pid or cls._client_pid(conn, win)
        return Foreground(title=fg.title, process=process_name(pid), pid=pid, window=win.id, exe=process_exe(pid),
                          window_class=fg.window_class, overlay=True)

    @staticmethod
    def _client_pid(conn, win) -> int | None:
        try:
            from Xlib.ext import res

            if not conn.has_extension("X-Resource"):
                return None
            answer = conn.res_query_client_ids([{"client": win.id, "mask": res.LocalClientPIDMask}])
            for value in answer.ids:
                if value.spec.mask == res.LocalClientPIDMask and value.value:
                    return int(value.value[0])
        except Exception as exc:   # an X server without the extension, an old python-xlib
            log.debug("x11: no client pid for %s: %s", win.id, exc)
        return None

    @classmethod
    def _describe(cls, win, atoms) -> Foreground:
        from Xlib import X
        from Xlib.error import XError

        title, pid, klass, dialog = "", None, "", False
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
            wm_class = win.get_wm_class()
            if wm_class:
                klass = " ".join(part for part in wm_class if part)
            dialog = cls._is_dialog(win, atoms)
        except XError:
            pass
        return Foreground(title=title, process=process_name(pid), pid=pid, window=win.id, exe=process_exe(pid),
                          window_class=klass, dialog=dialog)

    @staticmethod
    def _is_dialog(win, atoms) -> bool:
        """A dialog of its program: typed so (EWMH), or transient for another window (how
        LibreOffice's and GTK's Save as / Open dialogs are made: type NORMAL, WM_TRANSIENT_FOR)."""
        from Xlib import X

        kind = win.get_full_property(atoms["_NET_WM_WINDOW_TYPE"], X.AnyPropertyType)
        if kind is not None and atoms["_NET_WM_WINDOW_TYPE_DIALOG"] in list(kind.value or ()):
            return True
        return bool(win.get_wm_transient_for())
