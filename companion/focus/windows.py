"""Foreground window on Windows: SetWinEventHook, no polling.

Facts read: EVENT_SYSTEM_FOREGROUND (another window came to the front),
EVENT_OBJECT_NAMECHANGE of that window (its title changed: a browser tab switch),
EVENT_SYSTEM_MINIMIZESTART/END (the window in front minimized: Windows may leave it the
"foreground" window with nothing else to show, so no FOREGROUND event comes) and
EVENT_SYSTEM_DESKTOPSWITCH (the screen locked, Ctrl-Alt-Del, a UAC prompt: the window in
front does not change but the candidate is no longer in the exam), then
GetWindowTextW for the title and GetWindowThreadProcessId -> psutil for the program name.
ctypes is imported only inside ``Win32Api`` so the decision logic (``WindowsFocusLogic``)
is tested on Linux by replaying recorded hook callbacks through a fake API.
"""
from __future__ import annotations

import logging
import threading
from typing import Callable, Protocol

from companion.focus.base import FocusWatcher, Foreground, OnChange

EVENT_SYSTEM_FOREGROUND = 0x0003
EVENT_OBJECT_NAMECHANGE = 0x800C
EVENT_SYSTEM_MINIMIZESTART = 0x0016
EVENT_SYSTEM_MINIMIZEEND = 0x0017
EVENT_SYSTEM_DESKTOPSWITCH = 0x0020
OBJID_WINDOW = 0
CHILDID_SELF = 0

log = logging.getLogger(__name__)

HookCallback = Callable[[int, int, int, int], None]   # (event, hwnd, id_object, id_child)


class WinApi(Protocol):
    def foreground(self) -> int: ...
    def title(self, hwnd: int) -> str: ...
    def pid(self, hwnd: int) -> int | None: ...
    def process_name(self, pid: int | None) -> str: ...
    # optional (an API without it sees no dialogs): an owned window or the dialog class #32770
    # def dialog(self, hwnd: int) -> bool: ...
    def pump(self, callback: HookCallback, stop: threading.Event) -> None:
        """Install the hooks, deliver callbacks until ``stop`` is set, remove the hooks."""


class WindowsFocusLogic:
    """What a hook callback means. Name changes of other windows, or of a window's child
    objects (a button's label, a progress bar: Windows sends NAMECHANGE for those too), are
    noise and ignored; only the title of the window in front matters."""

    def __init__(self, api: WinApi, on_change: OnChange) -> None:
        self.api = api
        self.on_change = on_change
        self.front: int | None = None
        self.last: Foreground | None = None

    def start(self) -> None:
        hwnd = self.api.foreground()
        self.front = hwnd or None
        self._report(hwnd)

    def callback(self, event: int, hwnd: int, id_object: int, id_child: int) -> None:
        if event == EVENT_SYSTEM_FOREGROUND:
            self.front = hwnd
            self._report(hwnd)
        elif event == EVENT_OBJECT_NAMECHANGE:
            if hwnd and hwnd == self.front and id_object == OBJID_WINDOW and id_child == CHILDID_SELF:
                self._report(hwnd)
        elif event == EVENT_SYSTEM_MINIMIZESTART:
            if hwnd and hwnd == self.front:
                self.front = None
                self._report(None)          # nothing of the exam is on screen any more
        elif event in (EVENT_SYSTEM_MINIMIZEEND, EVENT_SYSTEM_DESKTOPSWITCH):
            # restored, or back from the lock screen: whatever is in front now (0 while the
            # secure desktop is shown: GetForegroundWindow has nothing on our desktop)
            front = self.api.foreground()
            self.front = front or None
            self._report(front)

    def _report(self, hwnd: int | None) -> None:
        if not hwnd:
            fg = Foreground(title="")
        else:
            pid = self.api.pid(hwnd)
            dialog = getattr(self.api, "dialog", None)
            fg = Foreground(title=self.api.title(hwnd), process=self.api.process_name(pid), pid=pid, window=hwnd,
                            dialog=bool(dialog(hwnd)) if dialog is not None else False)
        if fg != self.last:
            self.last = fg
            self.on_change(fg)


class WindowsFocusWatcher(FocusWatcher):
    name = "windows"

    def __init__(self, api: WinApi | None = None) -> None:
        self.api = api

    def run(self, on_change: OnChange, stop: threading.Event) -> None:
        api = self.api or Win32Api()
        logic = WindowsFocusLogic(api, on_change)
        logic.start()
        api.pump(logic.callback, stop)


class Win32Api:  # pragma: no cover - needs Windows; the logic above is tested with a fake
    """The real calls, through ctypes (user32)."""

    def __init__(self) -> None:
        import ctypes
        from ctypes import wintypes

        self.ctypes, self.wintypes = ctypes, wintypes
        self.user32 = ctypes.windll.user32
        # handles are pointer-sized: ctypes' default int return type would truncate them on 64 bits
        self.user32.GetForegroundWindow.restype = wintypes.HWND
        self.user32.SetWinEventHook.restype = wintypes.HANDLE
        self.user32.UnhookWinEvent.argtypes = [wintypes.HANDLE]

    def foreground(self) -> int:
        return int(self.user32.GetForegroundWindow() or 0)

    def title(self, hwnd: int) -> str:
        length = self.user32.GetWindowTextLengthW(hwnd)
        buffer = self.ctypes.create_unicode_buffer(length + 1)
        self.user32.GetWindowTextW(hwnd, buffer, length + 1)
        return buffer.value

    def pid(self, hwnd: int) -> int | None:
        pid = self.wintypes.DWORD()
        self.user32.GetWindowThreadProcessId(hwnd, self.ctypes.byref(pid))
        return int(pid.value) or None

    def dialog(self, hwnd: int) -> bool:
        """A dialog: the system dialog class (#32770: the common Save as / Open / Print
        dialogs, message boxes) or a window owned by another one (GW_OWNER), as dialogs are."""
        buffer = self.ctypes.create_unicode_buffer(64)
        self.user32.GetClassNameW(hwnd, buffer, 64)
        if buffer.value == "#32770":
            return True
        self.user32.GetWindow.restype = self.wintypes.HWND
        GW_OWNER = 4
        return bool(self.user32.GetWindow(hwnd, GW_OWNER))

    def process_name(self, pid: int | None) -> str:
        from companion.focus.x11 import process_name

        return process_name(pid)

    def pump(self, callback: HookCallback, stop: threading.Event) -> None:
        ctypes, wintypes, user32 = self.ctypes, self.wintypes, self.user32
        WINEVENTPROC = ctypes.WINFUNCTYPE(None, wintypes.HANDLE, wintypes.DWORD, wintypes.HWND,
                                          wintypes.LONG, wintypes.LONG, wintypes.DWORD, wintypes.DWORD)

        def proc(_hook, event, hwnd, id_object, id_child, _thread, _time):
            try:
                callback(int(event), int(hwnd or 0), int(id_object), int(id_child))
            except Exception:  # an exception must never escape into the OS's callback
                log.exception("focus hook callback (event 0x%x)", event)

        keep = WINEVENTPROC(proc)  # referenced until the end, else the GC frees the thunk
        WINEVENT_OUTOFCONTEXT, WINEVENT_SKIPOWNPROCESS = 0x0000, 0x0002
        flags = WINEVENT_OUTOFCONTEXT | WINEVENT_SKIPOWNPROCESS
        hooks = [user32.SetWinEventHook(EVENT_SYSTEM_FOREGROUND, EVENT_SYSTEM_FOREGROUND, 0, keep, 0, 0, flags),
                 user32.SetWinEventHook(EVENT_OBJECT_NAMECHANGE, EVENT_OBJECT_NAMECHANGE, 0, keep, 0, 0, flags),
                 user32.SetWinEventHook(EVENT_SYSTEM_MINIMIZESTART, EVENT_SYSTEM_MINIMIZEEND, 0, keep, 0, 0, flags),
                 user32.SetWinEventHook(EVENT_SYSTEM_DESKTOPSWITCH, EVENT_SYSTEM_DESKTOPSWITCH, 0, keep, 0, 0,
                                        flags)]
        msg = wintypes.MSG()
        PM_REMOVE = 0x0001
        try:
            # out-of-context hooks are delivered through this thread's message queue
            while not stop.is_set():
                while user32.PeekMessageW(ctypes.byref(msg), 0, 0, 0, PM_REMOVE):
                    user32.TranslateMessage(ctypes.byref(msg))
                    user32.DispatchMessageW(ctypes.byref(msg))
                user32.MsgWaitForMultipleObjects(0, None, False, 200, 0x04FF)
        finally:
            for hook in hooks:
                if hook:
                    user32.UnhookWinEvent(hook)
