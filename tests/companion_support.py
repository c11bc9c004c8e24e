"""Helpers for the companion tests and benches: real X11 windows with a chosen process name.

``x_window(display, title, process_name)`` runs a tiny python-xlib program under the given
process name (a symlink to the Python interpreter named like the program: Linux takes the
process name from the executed file's name), which maps a window with ``WM_NAME``,
``_NET_WM_NAME`` and ``_NET_WM_PID`` set, as real toolkits do.
"""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

_WINDOW = r"""
import os, sys
from Xlib import X, Xatom, display
d = display.Display(sys.argv[1])
s = d.screen()
w = s.root.create_window(10, 10, 300, 200, 0, s.root_depth, X.InputOutput, X.CopyFromParent,
                         background_pixel=s.white_pixel, event_mask=X.StructureNotifyMask)
title = sys.argv[2]
w.set_wm_name(title)
w.change_property(d.intern_atom("_NET_WM_NAME"), d.intern_atom("UTF8_STRING"), 8, title.encode())
w.change_property(d.intern_atom("_NET_WM_PID"), Xatom.CARDINAL, 32, [os.getpid()])
w.map()
d.sync()
print(w.id, flush=True)
sys.stdin.read()   # lives until the test closes our stdin
"""


@contextlib.contextmanager
def x_window(display: str, title: str, process_name: str = "python3") -> Iterator[int]:
    """A mapped top-level window; yields its X id."""
    tmp = Path(tempfile.mkdtemp(prefix="examroom-xwin-"))
    exe = tmp / process_name
    exe.symlink_to(sys.executable)
    script = tmp / "window.py"
    script.write_text(_WINDOW)
    proc = subprocess.Popen([str(exe), str(script), display, title], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, env=dict(os.environ, DISPLAY=display))
    try:
        line = proc.stdout.readline()
        if not line.strip():
            raise RuntimeError("the test window did not start")
        yield int(line)
    finally:
        proc.stdin.close()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def activate(display: str, window: int) -> None:
    subprocess.run(["xdotool", "windowactivate", "--sync", str(window)], check=True, timeout=10,
                   env=dict(os.environ, DISPLAY=display), capture_output=True)


def rename(display: str, window: int, title: str) -> None:
    subprocess.run(["xdotool", "set_window", "--name", title, str(window)], check=True, timeout=10,
                   env=dict(os.environ, DISPLAY=display), capture_output=True)


def wait_for(predicate, timeout: float = 10.0, step: float = 0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()
