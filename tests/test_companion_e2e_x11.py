"""End to end on a real X server: the companion process watches focus (Xvfb + openbox +
xdotool) and its events, with titles and process names, reach the supervisor server."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.companion_support import (CompanionProcess, Platform, SupervisorServer, activate, rename, wait_for,
                                     x_window)
from tests.support import free_port, need, xvfb


def test_focus_events_reach_the_server(tmp_path: Path) -> None:
    need("xdotool")
    server = SupervisorServer(tmp_path, free_port())
    room = server.create_room("Salle X")
    platform = Platform(free_port())
    companion = None
    try:
        server.start()
        platform.start()
        with xvfb(window_manager=True) as display, \
                x_window(display, "Pix - Certification - Chromium", "chromium") as exam, \
                x_window(display, "Discord | #maths", "Discord") as chat:
            activate(display, exam)
            companion = CompanionProcess(tmp_path, "pc-x11", server.url, room, platform_url=platform.url,
                                         display=display, extra=["--exam-title", "Pix|Certification"])
            assert wait_for(lambda: server.machines(room).get("pc-x11", {}).get("focus") == "exam",
                            timeout=20), companion.log()
            started = next(e for e in companion.journal() if e["kind"] == "companion_started")
            assert started["watcher"] == "x11"

            activate(display, chat)

            def server_kinds() -> list[dict]:
                return [e for e in server.events(room) if e["kind"].startswith("focus_")]

            assert wait_for(lambda: len(server_kinds()) == 1, timeout=10), companion.log()
            lost = server_kinds()[0]
            assert lost["details"]["title"] == "Discord | #maths"
            assert lost["details"]["process"] == "Discord"
            # Discord's process (forbidden_process) and its window (focus_lost) are one act: the
            # one the companion saw first is the alert, the other a notice naming it (the first
            # process scan may come after the focus on a loaded machine)
            chat_pid = int(subprocess.run(["xdotool", "getwindowpid", str(chat)], capture_output=True, text=True,
                                          env=dict(os.environ, DISPLAY=display), check=True).stdout)
            running = wait_for(lambda: next((e for e in server.events(room) if e["kind"] == "forbidden_process"
                                             and e["details"].get("pid") == chat_pid), None), timeout=15)
            assert running and running["details"]["program"] == "Discord"
            assert lost["machine_id"] == "pc-x11"
            lost = next(e for e in server.events(room) if e["id"] == lost["id"])
            first, second = (running, lost) if running["alert"] else (lost, running)
            assert first["alert"] is True and "act_of" not in first["details"]
            assert second["alert"] is False
            assert (second["details"]["level"], second["details"]["act_of"]) == ("notice", first["id"])
            assert wait_for(lambda: server.machines(room)["pc-x11"]["focus"] == "away", timeout=5)

            activate(display, exam)
            assert wait_for(lambda: len(server_kinds()) == 2, timeout=10)
            back = server_kinds()[1]
            assert back["kind"] == "focus_regained" and back["details"]["away_s"] >= 0

            rename(display, exam, "Wikipédia - Chromium")        # a tab switch in the exam browser
            assert wait_for(lambda: len(server_kinds()) == 3, timeout=10)
            tab = server_kinds()[2]
            assert (tab["kind"], tab["details"]["title"], tab["details"]["process"]) == (
                "focus_lost", "Wikipédia - Chromium", "chromium")
            assert companion.terminate() == 0
    finally:
        if companion is not None:
            companion.cleanup()
        server.stop()
        platform.stop()
