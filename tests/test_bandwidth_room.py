"""The room-wide bandwidth test, end to end: the real server (subprocess), two real companions
(``examroom companion`` subprocesses, each its own machine), a loopback download server paced
at a known rate, and the dashboard in real Chromium. The supervisor clicks one button; both
machines download at the same moment (their long polls carry the order: nothing listens on
them); the dashboard shows each machine's rate and the room's total against its candidates."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.companion_support import CompanionProcess, Platform, SupervisorServer, wait_for
from tests.netservers import RateLimitedServer
from tests.support import free_port, need

sync_api = pytest.importorskip("playwright.sync_api", reason="needs playwright (pip install -e '.[test]')")
CHROMIUM = "/usr/bin/chromium"
RATE_MBPS = 4.0   # each connection's rate: the room's total is twice this


@pytest.fixture(scope="module")
def room(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("bwroom")
    server = SupervisorServer(tmp_path, free_port())
    code = server.create_room("B12")
    server.start()
    platform = Platform(free_port())
    platform.start()
    files = RateLimitedServer(RATE_MBPS * 1e6, size=256 * 1024 * 1024)
    companions = [CompanionProcess(tmp_path, f"poste-{n}", server.url, code, platform_url=platform.url) for n in (1, 2)]
    try:
        wait_for(lambda: len(server.machines(code)) == 2, timeout=30)
        yield server, code, files, companions
    finally:
        for companion in companions:
            companion.cleanup()
        files.close()
        platform.stop()
        server.stop()


def test_one_click_room_bandwidth_test_in_the_dashboard(room):
    need("chromium")
    server, code, files, companions = room
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_context(locale="en-US").new_page()
            page.set_default_timeout(15000)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(server.url + "/")
            page.fill("#login-password", server.password)
            page.click("#login-submit")
            page.wait_for_selector("body[data-view=rooms]")
            page.goto(f"{server.url}/#/room/{code}")
            page.wait_for_selector("#bandwidth-test")
            page.click("#bandwidth summary")
            page.fill("#bandwidth-url", files.url)
            page.click("#bandwidth-test")  # the one click
            page.wait_for_selector("#bandwidth-rows tr:nth-child(2)", timeout=40000)
            page.wait_for_function("() => document.getElementById('bandwidth-status').textContent.includes('over')",
                                   timeout=40000)
            rows = page.locator("#bandwidth-rows tr")
            texts = [rows.nth(i).inner_text() for i in range(rows.count())]
            total = page.inner_text("#bandwidth-total")
            # in tests/output/, as the dashboard tests do (bench/screenshots/ keeps a copy by hand)
            (Path(__file__).parent / "output").mkdir(exist_ok=True)
            page.screenshot(path=str(Path(__file__).parent / "output/dashboard_room_bandwidth.png"))
        finally:
            browser.close()
    assert not errors, errors
    state = server.api(f"/rooms/{code}/bandwidth-test")
    assert state["candidates"] == 2 and state["test"]["answered"] == 2
    rates = [m["mbps"] for m in state["machines"]]
    # Each machine's own connection is paced at RATE_MBPS: both downloaded at once, each at it.
    assert all(abs(rate - RATE_MBPS) / RATE_MBPS < 0.10 for rate in rates), state["machines"]
    assert all(m["late_s"] == 0 for m in state["machines"])  # both had the order before the start
    assert abs(state["total_mbps"] - 2 * RATE_MBPS) / (2 * RATE_MBPS) < 0.10
    assert state["need_mbps"] == 1.0 and state["serves"] >= 14
    assert all("Mbit/s" in text for text in texts) and len(texts) == 2
    assert "Room total" in total and "the room's 2 machines need 1 Mbit/s" in total, total


def test_check_takes_the_room_size_from_the_server(room, tmp_path):
    """``examroom check --server --room`` without ``--candidates``: the room the server knows
    (two companions, and this machine enrolling: three), not the default 30."""
    server, code, files, _companions = room
    env = dict(os.environ, EXAMROOM_HOME=str(tmp_path / "home"), EXAMROOM_MACHINE_ID="poste-3")
    done = subprocess.run([sys.executable, "-m", "agent", "check", "--only", "bandwidth", "--bandwidth-url", files.url,
                           "--server", server.url, "--room", code, "--lang", "en", "--json", "-"],
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    [result] = [c for c in json.loads(done.stdout)["checks"] if c["id"] == "bandwidth"]
    assert "the room expects 3 (1.5 Mbit/s)" in result["summary"], result["summary"]
