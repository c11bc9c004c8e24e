"""The candidate's status window (pywebview, Qt) on a real X server, in the companion's
own child process: it shows, its JS blur/focus reach the companion, it is never counted as
leaving the exam, and with no display the companion runs on without it."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.companion_support import (CompanionProcess, Platform, SupervisorServer, activate, wait_for,
                                     x_window)
from tests.support import free_port, need, xvfb


def _search(display: str, name: str) -> list[int]:
    out = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", name], capture_output=True, text=True, timeout=10,
                         env=dict(os.environ, DISPLAY=display))
    return [int(w) for w in out.stdout.split()]


@pytest.fixture()
def server(tmp_path: Path):
    srv = SupervisorServer(tmp_path, free_port())
    room = srv.create_room("Salle W")
    platform = Platform(free_port())
    try:
        srv.start()
        platform.start()
        yield srv, room, platform
    finally:
        srv.stop()
        platform.stop()


def test_status_window_blur_focus_and_own_window_ignored(server, tmp_path: Path) -> None:
    pytest.importorskip("webview", reason="pywebview is installed with the [gui] extra")
    need("xdotool")
    srv, room, platform = server
    with xvfb(window_manager=True) as display, x_window(display, "Pix - Certification", "firefox") as exam:
        activate(display, exam)
        c = CompanionProcess(tmp_path, "pc-win", srv.url, room, platform_url=platform.url, display=display)
        # CompanionProcess passes --no-window; this test wants the window: start it by hand
        c.cleanup()
        env = dict(os.environ, EXAMROOM_HOME=str(c.home), EXAMROOM_MACHINE_ID="pc-win", DISPLAY=display)
        log = open(c.log_path, "w")
        c.proc = subprocess.Popen(
            [sys.executable, "-m", "agent", "companion", "--server", srv.url, "--room", room, "--platform-url",
             platform.url, "--heartbeat", "0.5", "--local-port", "0", "--lang", "fr", "-v"],
            env=env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        try:
            found = wait_for(lambda: _search(display, "examroom – compagnon"), timeout=40)
            assert found, c.log()
            window = found[0]
            # the page reports its focus state once loaded (pywebviewready)
            assert wait_for(lambda: "status window focused:" in c.log(), timeout=30), c.log()
            activate(display, exam)
            assert wait_for(lambda: c.log().rstrip().endswith("status window focused: False")
                            or "status window focused: False" in c.log(), timeout=15), c.log()
            mark = c.log().count("status window focused: True")
            activate(display, window)
            assert wait_for(lambda: c.log().count("status window focused: True") > mark, timeout=15), c.log()
            mark = c.log().count("status window focused: False")
            activate(display, exam)
            assert wait_for(lambda: c.log().count("status window focused: False") > mark, timeout=15), c.log()
            # the candidate looked at our window: that is not leaving the exam
            assert [e for e in c.journal() if e["kind"] == "focus_lost"] == []
            assert c.terminate() == 0
            assert wait_for(lambda: not _search(display, "examroom – compagnon"), timeout=10)
        finally:
            c.cleanup()


def test_no_display_degrades_to_no_window(server, tmp_path: Path) -> None:
    srv, room, platform = server
    home = tmp_path / "nodisplay"
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(EXAMROOM_HOME=str(home), EXAMROOM_MACHINE_ID="pc-nodisplay", QT_QPA_PLATFORM="xcb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "agent", "companion", "--server", srv.url, "--room", room, "--platform-url",
         platform.url, "--heartbeat", "0.5", "--local-port", "0", "--lang", "en"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert wait_for(lambda: srv.machines(room).get("pc-nodisplay", {}).get("live") == "online", timeout=30)
        proc.terminate()
        out, _ = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert proc.returncode == 0, out
    assert "no status window" in out and "Traceback" not in out
