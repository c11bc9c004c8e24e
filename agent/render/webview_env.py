"""What this machine offers for a window: a display, pywebview, and a toolkit for it.

Facts read: ``DISPLAY``/``WAYLAND_DISPLAY`` through the Host (Linux), whether the X server
answers (python-xlib), and which GUI modules are importable (``importlib.util.find_spec``:
nothing is imported to find out). Also a guard against a pywebview (Qt) quirk, below.
"""
from __future__ import annotations

import threading
import time
from typing import Any

from core.i18n import t
from checks.base import CheckContext


def no_gui_reason(ctx: CheckContext) -> str | None:
    """Why no window can be shown here, or None when one probably can."""
    if ctx.host.os == "linux":
        display = ctx.host.getenv("DISPLAY")
        if not display and not ctx.host.getenv("WAYLAND_DISPLAY"):
            return t("window.no_display", ctx.lang)
        # Qt aborts the whole process when the X server is unreachable: look first.
        if display and not ctx.host.getenv("WAYLAND_DISPLAY") and not _x_reachable(display):
            return t("window.display_unreachable", ctx.lang, display=display)
    try:
        import webview  # noqa: F401
    except ImportError:
        return t("window.no_backend", ctx.lang)
    native = _NATIVE.get(ctx.host.os)
    if native is not None and toolkit(ctx) is None and not _has_module(native):
        return t("window.no_toolkit", ctx.lang)
    return None


def _has_module(name: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(name) is not None
    except (ValueError, ImportError):  # a module stubbed out as None, a broken package
        return False


def _x_reachable(display: str) -> bool:
    try:
        from Xlib import display as xdisplay
        from Xlib.error import DisplayError
    except ImportError:  # no python-xlib: let the GUI toolkit try
        return True
    try:
        xdisplay.Display(display).close()
    except (DisplayError, OSError, ValueError):
        return False
    return True


def watch_pending_scripts(window: Any, closed: threading.Event) -> None:
    """Once the window is closed, answer the scripts still waiting for it.

    pywebview's Qt backend waits without a time limit for the result of every script (its
    own return values to the page included), in threads that are not daemons: one sent
    while the window closes would keep examroom from ever exiting. Qt only; harmless elsewhere.
    """
    if getattr(window, "_examroom_watched", False):
        return
    window._examroom_watched = True
    try:
        from webview.platforms import qt
        view = qt.BrowserView.instances.get(window.uid)
    except Exception:  # noqa: BLE001 - another backend, or internals that moved: nothing to do
        return
    if view is None or not isinstance(getattr(view, "_js_results", None), dict):
        return

    def release_forever() -> None:
        closed.wait()
        while True:
            for pending in list(view._js_results.values()):
                pending["semaphore"].release()
            time.sleep(0.05)

    threading.Thread(target=release_forever, daemon=True, name="window-janitor").start()


# What pywebview tries first on each OS: GTK (gi), WebView2 through pythonnet (clr), Cocoa.
_NATIVE = {"linux": "gi", "windows": "clr", "macos": "AppKit"}


def toolkit(ctx: CheckContext) -> str | None:
    """pywebview's own choice when its native toolkit is importable, else Qt when it is:
    pywebview would try the missing toolkit first and log a traceback that a technician
    would take for a crash. None also when there is neither (see ``no_gui_reason``)."""
    native = _NATIVE.get(ctx.host.os)
    if native is None or _has_module(native):
        return None
    if _has_module("qtpy") and any(_has_module(m) for m in ("PyQt6", "PySide6", "PyQt5", "PySide2")):
        return "qt"
    return None
