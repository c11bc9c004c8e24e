"""screen: real X servers (Xvfb) at 1024 and 640 px, several X screens, no display at all
(through the real CLI), and the Wayland, Windows and macOS sources behind their interfaces."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from checks import screen
from checks.base import CheckContext
from core.host import CommandResult, Host
from checks.probes import displays as displays_probe
from checks.probes import displays_linux
from checks.probes.displayparse import (
    Display, parse_kscreen_doctor, parse_system_profiler, parse_wlr_randr, parse_wlr_randr_json,
    parse_xrandr,
)
from core.result import Status
from tests.support import need, xvfb

FIXTURES = Path(__file__).parent / "fixtures" / "system"
ROOT = Path(__file__).resolve().parent.parent


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def x_host(tmp_path: Path, display: str) -> Host:
    # A fake host: the display comes from host.env, and commands are "not found".
    return Host.fake("linux", tmp_path, env={"DISPLAY": display})


@pytest.fixture
def misleading_environment(monkeypatch):
    """This process's own DISPLAY points nowhere: the probe must use host.env."""
    monkeypatch.setenv("DISPLAY", ":987")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)


def test_real_xvfb_1024_is_ok(tmp_path, misleading_environment):
    with xvfb(1024, 768) as display:
        result = screen.run(CheckContext(host=x_host(tmp_path, display), lang="en"))
    assert result.status == Status.ok, result.summary
    assert (result.measured, result.threshold, result.unit) == (1024, 800, "px")
    assert len(result.items) == 1
    item = result.items[0]
    assert (item.width, item.height, item.primary) == (1024, 768, True)
    assert "1024×768" in result.summary


def test_real_xvfb_640_fails(tmp_path, misleading_environment):
    with xvfb(640, 480) as display:
        result = screen.run(CheckContext(host=x_host(tmp_path, display), lang="fr"))
    assert result.status == Status.fail
    assert result.measured == 640
    assert "640 pixels" in result.summary and "800" in result.remediation
    assert result.items[0].status == Status.fail


def test_real_x_server_with_two_screens_reports_both_and_the_widest(tmp_path):
    need("Xvfb")
    read_fd, write_fd = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "640x480x24",
         "-screen", "1", "1280x1024x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    try:
        with os.fdopen(read_fd) as pipe:
            number = pipe.readline().strip()
        assert number, "Xvfb did not start"
        result = screen.run(CheckContext(host=x_host(tmp_path, f":{number}")))
    finally:
        server.terminate()
        server.wait(10)
    assert result.status == Status.ok
    assert result.measured == 1280
    assert sorted((i.width, i.height) for i in result.items) == [(640, 480), (1280, 1024)]
    assert "2 displays" in result.summary


def test_real_xrandr_output_parses_like_xlib(tmp_path):
    need("xrandr")
    with xvfb(1024, 768) as display:
        out = Host.current().run(["xrandr", "--display", display, "--query"], timeout=10)
    assert out is not None and out.ok
    assert [(d.width, d.height) for d in parse_xrandr(out.stdout)] == [(1024, 768)]


def test_no_display_at_all_is_an_error_with_a_clear_summary(tmp_path):
    result = screen.run(CheckContext(host=Host.fake("linux", tmp_path, env={}), lang="en"))
    assert result.status == Status.error
    assert result.summary == "no graphical display: run the test from the machine's desktop session"
    assert "SSH" in result.remediation
    sockets = tmp_path / "tmp/.X11-unix"
    sockets.mkdir(parents=True)
    for name in ("X0", "X12", "not-a-display"):
        (sockets / name).touch()
    over_ssh = screen.run(CheckContext(host=Host.fake("linux", tmp_path, env={}), lang="fr"))
    assert over_ssh.status == Status.error
    assert over_ssh.summary.startswith("aucun écran graphique : lancez le test depuis la session de bureau")
    assert "tourne sur :0, :12" in over_ssh.summary


def test_an_unreachable_x_server_is_an_error_with_the_reason(tmp_path):
    result = screen.run(CheckContext(host=x_host(tmp_path, ":987")))
    assert result.status == Status.error
    assert ":987" in result.summary


def test_no_display_through_the_cli_exits_1_without_traceback(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(EXAMROOM_HOME=str(tmp_path), LANG="en_US.UTF-8", EXAMROOM_MACHINE_ID="test-screen")
    done = subprocess.run([sys.executable, "-m", "agent", "check", "--only", "screen", "--json", "-"],
                          capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["ready"] is False
    [check] = [c for c in report["checks"] if c["id"] not in report["not_run"]]
    assert check["status"] == "error"
    assert "no graphical display" in check["summary"]
    assert "no graphical display" in done.stderr  # the human report, on stderr with --json -


# -- Wayland -----------------------------------------------------------------------------
def test_wayland_without_x_reads_wlr_randr(tmp_path):
    host = Host.fake("linux", tmp_path, env={"WAYLAND_DISPLAY": "wayland-0"},
                     commands={("wlr-randr", "--json"): CommandResult(1, "", "unknown option --json"),
                               ("wlr-randr",): fixture("wlr_randr.txt")})
    result = screen.run(CheckContext(host=host))
    assert result.status == Status.ok
    assert result.measured == 2256
    assert [(i.name, i.width, i.height) for i in result.items] == [("eDP-1", 2256, 1504), ("HDMI-A-1", 1080, 1920)]
    assert result.items[0].logical_width == 1504


def test_wayland_with_nothing_to_ask_is_an_error(tmp_path):
    host = Host.fake("linux", tmp_path, env={"WAYLAND_DISPLAY": "wayland-0"})
    result = screen.run(CheckContext(host=host))
    assert result.status == Status.error and "wlr-randr" in result.summary


def test_wlr_randr_json_and_text_agree():
    as_json = parse_wlr_randr_json(fixture("wlr_randr.json"))
    assert as_json == [Display("eDP-1", 2256, 1504, True, 0, 0, 1.5)]
    assert parse_wlr_randr(fixture("wlr_randr.txt"))[0] == as_json[0]
    with pytest.raises(ValueError):
        parse_wlr_randr_json("wlr-randr: unrecognized option '--json'")


def test_kscreen_doctor_plasma5_and_plasma6():
    five = parse_kscreen_doctor(fixture("kscreen_doctor_plasma5.txt"))
    assert five == [Display("eDP-1", 1920, 1080, True, 0, 0, 1.25)]  # HDMI-A-1 is disabled
    six = parse_kscreen_doctor(fixture("kscreen_doctor_plasma6.txt"))
    assert [(d.name, d.width, d.height, d.primary, d.scale) for d in six] == [
        ("eDP-1", 2880, 1800, True, 1.5), ("DP-1", 1080, 1920, False, 1.0)]
    assert six[0].logical_width == 1920


def test_xrandr_two_outputs_one_disconnected_one_off():
    found = parse_xrandr(fixture("xrandr_two_outputs.txt"))
    assert found == [Display("eDP-1", 1366, 768, True, 0, 312), Display("HDMI-1", 1920, 1080, False, 1366, 0)]


# -- macOS --------------------------------------------------------------------------------
def test_macos_system_profiler(tmp_path):
    parsed = parse_system_profiler(fixture("system_profiler_displays.json"))
    assert [(d.name, d.width, d.primary, d.scale, d.logical_width) for d in parsed] == [
        ("Color LCD", 2560, True, 1.78, 1438), ("DELL P2219H", 1920, False, 1.0, 1920)]
    host = Host.fake("macos", tmp_path, commands={
        ("system_profiler", "SPDisplaysDataType", "-json"): fixture("system_profiler_displays.json")})
    result = screen.run(CheckContext(host=host))
    assert result.status == Status.ok and result.measured == 2560


def test_macos_without_system_profiler_is_an_error(tmp_path):
    result = screen.run(CheckContext(host=Host.fake("macos", tmp_path)))
    assert result.status == Status.error and "system_profiler" in result.summary


# -- Windows (behind the WindowsDisplays interface) ------------------------------------------
class FakeWindowsDisplays:
    def __init__(self, monitors):
        self._monitors = monitors

    def monitors(self):
        if isinstance(self._monitors, Exception):
            raise self._monitors
        return self._monitors


def windows_ctx(tmp_path, monitors, lang="en") -> CheckContext:
    host = Host.fake("windows", tmp_path, native={"win32.displays": FakeWindowsDisplays(monitors)})
    return CheckContext(host=host, lang=lang)


def test_windows_two_monitors(tmp_path):
    ctx = windows_ctx(tmp_path, [
        Display("DISPLAY1", 1366, 768, True, 0, 0, 1.0), Display("DISPLAY2", 1920, 1080, False, 1366, 0, 1.0)])
    result = screen.run(ctx)
    assert result.status == Status.ok and result.measured == 1920
    assert [i.primary for i in result.items] == [True, False]


def test_windows_small_panel_fails(tmp_path):
    result = screen.run(windows_ctx(tmp_path, [Display("DISPLAY1", 800 - 32, 600, True)]))
    assert result.status == Status.fail and result.measured == 768


def test_windows_scaling_that_leaves_too_little_is_a_warning(tmp_path):
    result = screen.run(windows_ctx(tmp_path, [Display("DISPLAY1", 1366, 768, True, scale=2.0)], "fr"))
    assert result.status == Status.warn
    assert result.measured == 1366
    assert "683" in result.summary and "200 %" in result.summary
    assert "mise à l'échelle" in result.remediation


def test_windows_without_monitors_or_with_a_broken_api(tmp_path):
    assert screen.run(windows_ctx(tmp_path, [])).summary.startswith("no graphical display")
    broken = screen.run(windows_ctx(tmp_path, OSError("access denied")))
    assert broken.status == Status.error and "access denied" in broken.summary


def test_windows_ctypes_code_is_only_imported_on_windows():
    # Importing the probe on Linux must not touch ctypes.windll.
    import checks.probes.displays_windows as windisplay

    assert hasattr(windisplay, "CtypesDisplays")
    if sys.platform != "win32":
        with pytest.raises(AttributeError):
            windisplay.CtypesDisplays().monitors()


def test_real_xvfb_through_the_cli(tmp_path):
    """The whole way: examroom check in a subprocess, DISPLAY pointing at a real Xvfb."""
    with xvfb(1280, 800) as display:
        env = dict(os.environ, DISPLAY=display, EXAMROOM_HOME=str(tmp_path), EXAMROOM_MACHINE_ID="poste-x")
        env.pop("WAYLAND_DISPLAY", None)
        done = subprocess.run([sys.executable, "-m", "agent", "check", "--only", "screen", "--json", "-",
                               "--lang", "fr"], capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    [check] = [c for c in report["checks"] if c["id"] not in report["not_run"]]
    assert (check["status"], check["measured"], check["unit"]) == ("ok", 1280, "px")
    assert check["items"][0]["width"] == 1280 and check["items"][0]["height"] == 800
    assert "1 écran : 1280×800" in check["summary"]


# -- pywebview's toolkit, the last resort ----------------------------------------------------
def test_pywebview_screens_on_a_real_x_server():
    """The child process starts pywebview's real toolkit (Qt here) against a real Xvfb."""
    pytest.importorskip("webview", reason="pywebview is the gui extra (CI installs it)")
    import dataclasses

    from checks.probes.webviewscreens import webview_screens

    with xvfb(1366, 768) as display:
        host = dataclasses.replace(Host.current(), env={"DISPLAY": display})
        found = webview_screens(host, timeout=30)
    if found is None:
        pytest.skip("no pywebview toolkit could start (neither Qt nor GTK is installed)")
    assert [(d.width, d.height, d.primary) for d in found] == [(1366, 768, True)]


def test_wayland_without_tools_falls_back_to_pywebview(tmp_path):
    answer = 'qt.qpa.wayland: warning\n[{"x": 0, "y": 0, "width": 2560, "height": 1600, "scale": 2.0}]\n'
    host = Host.fake("linux", tmp_path, env={"WAYLAND_DISPLAY": "wayland-0"}, commands={sys.executable: answer})
    result = screen.run(CheckContext(host=host))
    assert result.status == Status.ok and result.measured == 2560
    assert result.items[0].logical_width == 1280
    broken = Host.fake("linux", tmp_path, env={"WAYLAND_DISPLAY": "wayland-0"},
                       commands={sys.executable: CommandResult(1, "", "ModuleNotFoundError: No module named 'webview'")})
    assert screen.run(CheckContext(host=broken)).status == Status.error


def test_two_randr_monitors_on_one_x_screen(tmp_path):
    """A laptop panel plus a projector, as RandR 1.5 monitors of one real X screen."""
    need("xrandr")
    from Xlib import display as xdisplay

    with xvfb(1920, 600) as display:
        # Xvfb resets itself when its last client leaves: keep one connected meanwhile.
        keep = xdisplay.Display(display)
        try:
            for args in (["GAUCHE", "1280/300x600/200+0+0", "screen"], ["PROJECTEUR", "640/150x480/120+1280+0", "none"]):
                subprocess.run(["xrandr", "--display", display, "--setmonitor", *args],
                               capture_output=True, timeout=10, check=True)
            result = screen.run(CheckContext(host=x_host(tmp_path, display)))
        finally:
            keep.close()
    assert result.status == Status.ok and result.measured == 1280
    assert [(i.name, i.width, i.height, i.primary, i.status) for i in result.items] == [
        ("GAUCHE", 1280, 600, True, Status.ok), ("PROJECTEUR", 640, 480, False, Status.warn)]


@pytest.mark.parametrize("version", [(1, 4), (1, 2), None], ids=["randr-1.4", "randr-1.2", "no-randr"])
def test_older_x_servers_are_read_too(tmp_path, monkeypatch, version):
    """The same real Xvfb, read the way a RandR 1.2-1.4 server or one without RandR is."""
    monkeypatch.setattr(displays_linux, "_randr_version", lambda conn: version)
    with xvfb(1024, 768) as display:
        result = screen.run(CheckContext(host=x_host(tmp_path, display)))
    assert result.status == Status.ok and result.measured == 1024
    assert [(i.width, i.height, i.primary) for i in result.items] == [(1024, 768, True)]


class FakeQuartz:
    def __init__(self, monitors):
        self._monitors = monitors

    def monitors(self):
        return self._monitors


def test_macos_quartz_first_then_system_profiler(tmp_path):
    argv = ("system_profiler", "SPDisplaysDataType", "-json")
    commands = {argv: fixture("system_profiler_displays.json")}
    quartz = FakeQuartz([Display("built-in", 2880, 1800, True, scale=2.0)])
    host = Host.fake("macos", tmp_path, commands=commands, native={"quartz.displays": quartz})
    fast = displays_probe.read_displays(host)
    assert fast.source == "quartz" and fast.displays[0].logical_width == 1440
    # No pyobjc: the same question goes to system_profiler.
    host = Host.fake("macos", tmp_path, commands=commands, native={"quartz.displays": FakeQuartz(None)})
    slow = displays_probe.read_displays(host)
    assert slow.source == "system_profiler" and [d.width for d in slow.displays] == [2560, 1920]


@pytest.mark.parametrize("dpi, status, logical", [(96, Status.ok, 1366), (192, Status.warn, 683)])
def test_x11_desktop_scaling_from_xft_dpi(tmp_path, dpi, status, logical):
    """GNOME/KDE on X11 set Xft.dpi (192 = 200 %): browsers then give pages half the width."""
    need("xrdb")
    from Xlib import display as xdisplay

    with xvfb(1366, 768) as display:
        keep = xdisplay.Display(display)  # Xvfb resets its resources when the last client leaves
        try:
            subprocess.run(["xrdb", "-display", display, "-merge"], input=f"Xft.dpi: {dpi}\n",
                           text=True, capture_output=True, timeout=10, check=True)
            result = screen.run(CheckContext(host=x_host(tmp_path, display)))
        finally:
            keep.close()
    assert result.status == status and result.measured == 1366
    assert result.items[0].logical_width == logical
    if status == Status.warn:
        assert "683" in result.summary and "200 %" in result.summary
