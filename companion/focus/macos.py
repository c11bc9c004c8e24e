"""Foreground application on macOS: NSWorkspace activation notifications (pyobjc).

Facts read: ``NSWorkspaceDidActivateApplicationNotification`` (the app in front changed;
its ``localizedName`` and ``processIdentifier``), and the front window's title from
``CGWindowListCopyWindowInfo`` (``kCGWindowName`` of the first on-screen, layer-0 window of
that pid; empty without the Screen Recording permission, which the window says). macOS
sends no notification when a browser switches tabs, so the front window's title is re-read
every ``title_poll_s`` as well. pyobjc is imported only inside ``CocoaApi``; the logic is
tested on Linux by replaying recorded notifications through a fake API.
"""
from __future__ import annotations

import threading
from typing import Callable, Protocol

from companion.focus.base import FocusWatcher, Foreground, OnChange

Activation = Callable[[str, int], None]   # (application name, pid)
MODAL_PANEL_LEVEL = 8   # kCGModalPanelWindowLevel: NSSavePanel / NSOpenPanel run as a modal window


class MacApi(Protocol):
    def front_app(self) -> tuple[str, int] | None: ...
    def window_title(self, pid: int) -> str: ...
    def observe(self, on_activate: Activation, stop: threading.Event, tick: Callable[[], None],
                tick_s: float) -> None:
        """Deliver activations (and call ``tick`` every ``tick_s``) until ``stop`` is set."""


class MacFocusLogic:
    def __init__(self, api: MacApi, on_change: OnChange) -> None:
        self.api = api
        self.on_change = on_change
        self.app: tuple[str, int] | None = None
        self.last: Foreground | None = None

    def start(self) -> None:
        self.app = self.api.front_app()
        self._report()

    def activated(self, name: str, pid: int) -> None:
        self.app = (name, pid)
        self._report()

    def tick(self) -> None:
        self._report()  # a tab switch only shows as a new title

    def _report(self) -> None:
        if self.app is None:
            fg = Foreground(title="")
        else:
            name, pid = self.app
            panel = getattr(self.api, "front_is_panel", None)   # optional: an API without it sees no dialogs
            fg = Foreground(title=self.api.window_title(pid), process=name, pid=pid,
                            dialog=bool(panel(pid)) if panel is not None else False)
        if fg != self.last:
            self.last = fg
            self.on_change(fg)


class MacFocusWatcher(FocusWatcher):
    name = "macos"

    def __init__(self, api: MacApi | None = None, title_poll_s: float = 0.5) -> None:
        self.api = api
        self.title_poll_s = title_poll_s

    def run(self, on_change: OnChange, stop: threading.Event) -> None:
        api = self.api or CocoaApi()
        logic = MacFocusLogic(api, on_change)
        logic.start()
        api.observe(logic.activated, stop, logic.tick, self.title_poll_s)


class CocoaApi:  # pragma: no cover - needs macOS and pyobjc; the logic is tested with a fake
    _observer_class = None
    def front_app(self) -> tuple[str, int] | None:
        from AppKit import NSWorkspace

        app = NSWorkspace.sharedWorkspace().frontmostApplication()
        return (str(app.localizedName() or ""), int(app.processIdentifier())) if app else None

    def window_title(self, pid: int) -> str:
        import Quartz

        windows = Quartz.CGWindowListCopyWindowInfo(
            Quartz.kCGWindowListOptionOnScreenOnly | Quartz.kCGWindowListExcludeDesktopElements,
            Quartz.kCGNullWindowID) or []
        for info in windows:
            if int(info.get("kCGWindowOwnerPID", -1)) == pid and int(info.get("kCGWindowLayer", 1)) == 0:
                return str(info.get("kCGWindowName") or "")
        return ""

    def front_is_panel(self, pid: int) -> bool:
        """The app shows a modal panel (a standalone Save / Open / Print panel: window level 8,
        kCGModalPanelWindowLevel); a sheet attached to a document window is
        not told apart by the window list (that needs the Accessibility permission)."""
        import Quartz

        windows = Quartz.CGWindowListCopyWindowInfo(
            Quartz.kCGWindowListOptionOnScreenOnly | Quartz.kCGWindowListExcludeDesktopElements,
            Quartz.kCGNullWindowID) or []
        # a modal panel is on screen only while it is open, and it holds the app's input
        return any(int(info.get("kCGWindowOwnerPID", -1)) == pid and int(info.get("kCGWindowLayer", 0)) == MODAL_PANEL_LEVEL
                   for info in windows)

    def observe(self, on_activate: Activation, stop: threading.Event, tick: Callable[[], None],
                tick_s: float) -> None:
        from AppKit import NSWorkspace, NSWorkspaceApplicationKey
        from Foundation import NSDate, NSObject, NSRunLoop  # noqa: F401

        # an Objective-C class name can be registered once per process: the focus loop may
        # call observe() again after an error, so the class is made once and reused
        cls = type(self)
        if getattr(cls, "_observer_class", None) is None:
            class ExamroomActivationObserver(NSObject):
                def activated_(self, note):
                    app = note.userInfo()[NSWorkspaceApplicationKey]
                    self.callback(str(app.localizedName() or ""), int(app.processIdentifier()))

            cls._observer_class = ExamroomActivationObserver
        observer = cls._observer_class.new()
        observer.callback = on_activate
        center = NSWorkspace.sharedWorkspace().notificationCenter()
        center.addObserver_selector_name_object_(
            observer, "activated:", "NSWorkspaceDidActivateApplicationNotification", None)
        try:
            loop = NSRunLoop.currentRunLoop()
            while not stop.is_set():
                loop.runUntilDate_(NSDate.dateWithTimeIntervalSinceNow_(tick_s))
                tick()
        finally:
            center.removeObserver_(observer)
