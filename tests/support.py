"""Shared test helpers: free ports and real X servers (Xvfb, optionally with openbox)."""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from typing import Iterator

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def need(*programs: str) -> None:
    """Skip the test with a clear reason when a program it needs is not installed."""
    missing = [p for p in programs if shutil.which(p) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (CI installs it: see .ci/run)")


@contextlib.contextmanager
def xvfb(width: int = 1024, height: int = 768, *, window_manager: bool = False) -> Iterator[str]:
    """A real X server on a free display number; yields the DISPLAY value (":N").

    With ``window_manager`` openbox runs too, since without a window manager there is no
    ``_NET_ACTIVE_WINDOW`` (focus tests need one).
    """
    need("Xvfb", *(["openbox"] if window_manager else []))
    read_fd, write_fd = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        number = pipe.readline().strip()
    if not number:
        server.kill()
        raise RuntimeError("Xvfb did not start")
    display = f":{number}"
    wm = None
    try:
        if window_manager:
            env = dict(os.environ, DISPLAY=display)
            wm = subprocess.Popen(["openbox", "--sm-disable"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            _wait_for_wm(display)
        yield display
    finally:
        for proc in (wm, server):
            if proc is not None:
                proc.terminate()
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()


def _wait_for_wm(display: str, timeout: float = 10.0) -> None:
    from Xlib import display as xdisplay

    conn = xdisplay.Display(display)
    try:
        atom = conn.intern_atom("_NET_SUPPORTING_WM_CHECK")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if conn.screen().root.get_full_property(atom, 0) is not None:
                return
            time.sleep(0.05)
        raise RuntimeError("openbox did not start")
    finally:
        conn.close()
