"""Forbidden software, issue 11: the Debian chat/remote programs, no false positive on
Debian's `slack`, `xzoom` or `teams`-named tools in bin folders, ffmpeg only when it grabs the
screen, a renamed copy of an installed program still recognised (a real x11vnc copied under
another name, run on Xvfb), and one event per catalog entry however many processes."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from companion.processes import ForbiddenWatcher, Identities, Proc, load_catalog, match
from tests.support import free_port, need, xvfb

LINUX = load_catalog("linux")


def label(proc: Proc, cmdline: list[str] | None = None) -> str | None:
    found = match(proc, LINUX, cmdline=lambda _pid: cmdline or [])
    return found.label if found else None


@pytest.mark.parametrize("proc, expected", [
    (Proc(1, "pidgin", "/usr/bin/pidgin"), "Pidgin"),
    (Proc(1, "hexchat", "/usr/bin/hexchat"), "HexChat"),
    (Proc(1, "dino", "/usr/bin/dino"), "Dino"),
    (Proc(1, "weechat", "/usr/bin/weechat"), "WeeChat / Irssi"),
    (Proc(1, "irssi", "/usr/bin/irssi"), "WeeChat / Irssi"),
    (Proc(1, "mumble", "/usr/bin/mumble"), "Mumble"),
    (Proc(1, "tmate", "/usr/bin/tmate"), "tmate"),
    (Proc(1, "X0tigervnc", "/usr/bin/X0tigervnc"), "VNC"),
    (Proc(1, "slack", "/usr/lib/slack/slack"), "Slack"),            # the desktop app
    (Proc(1, "slack", "/snap/slack/123/usr/lib/slack/slack"), "Slack"),
    (Proc(1, "slack", "/usr/bin/perl"), None),                       # Debian's slack (a Perl script)
    (Proc(1, "slack", "/usr/sbin/slack"), None),
    (Proc(1, "xzoom", "/usr/bin/xzoom"), None),
    (Proc(1, "teams", "/usr/local/bin/teams"), None),
    (Proc(1, "teams", "/home/eleve/bin/teams"), None),
    (Proc(1, "teams", "/home/eleve/.local/bin/teams"), None),
    (Proc(1, "teams", "/usr/share/teams/teams"), "Microsoft Teams"),
])
def test_linux_catalog_entries_and_false_positives(proc, expected):
    assert label(proc) == expected


def test_ffmpeg_counts_only_when_it_grabs_the_screen():
    ffmpeg = Proc(1, "ffmpeg", "/usr/bin/ffmpeg")
    assert label(ffmpeg, ["ffmpeg", "-f", "x11grab", "-i", ":0", "out.mkv"]) == "Enregistrement d'écran (ffmpeg)"
    assert label(ffmpeg, ["ffmpeg", "-i", "in.mp4", "out.webm"]) is None


def _run(path: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([str(path), *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _stop(*procs: subprocess.Popen) -> None:
    for proc in procs:
        proc.kill()
        proc.wait(5)


def test_a_renamed_x11vnc_is_still_vnc(tmp_path):
    need("Xvfb", "x11vnc")
    renamed = tmp_path / "notes-de-cours"
    shutil.copy(shutil.which("x11vnc"), renamed)
    events = []
    watcher = ForbiddenWatcher(LINUX, events.append, me=-1, identities=Identities(LINUX))
    watcher.scan()
    with xvfb(800, 600) as display:
        server = _run(renamed, "-display", display, "-localhost", "-rfbport", str(free_port()), "-nopw",
                      "-forever", "-quiet")
        try:
            watcher.scan()
            vnc = [e.details for e in events if e.details["pid"] == server.pid]
            assert len(vnc) == 1 and vnc[0]["program"] == "VNC" and vnc[0]["name"] == "notes-de-cours"
            assert vnc[0]["state"] == "started" and vnc[0]["category"] == "remote_control"
        finally:
            _stop(server)
    # a copy of another program under the same size/name tricks is not VNC
    other = tmp_path / "x11vnc-like"
    shutil.copy(shutil.which("sleep"), other)
    assert Identities(LINUX).program_of(str(other)) is None


def test_a_renamed_x11vnc_of_another_build_is_known_by_its_own_strings(tmp_path):
    need("x11vnc")
    other_build = tmp_path / "calculatrice"
    shutil.copy(shutil.which("x11vnc"), other_build)
    with other_build.open("ab") as handle:
        handle.write(b"\0another build")   # not the installed file's hash any more
    identities = Identities(LINUX)
    found = identities.program_of(str(other_build))
    assert found is not None and found.label == "VNC"
    assert label(Proc(1, "calculatrice", str(other_build))) is None   # the name alone says nothing
    assert match(Proc(1, "calculatrice", str(other_build)), LINUX, identities=identities).label == "VNC"
    # the system's own folders are known by name, not read: /usr/bin/sleep is not scanned as VNC
    assert identities.program_of(shutil.which("sleep")) is None


def test_a_second_process_of_the_same_entry_raises_no_new_event(tmp_path):
    fake = tmp_path / "pidgin"
    shutil.copy(shutil.which("sleep"), fake)
    events = []
    watcher = ForbiddenWatcher(LINUX, events.append, me=-1)
    watcher.scan()
    first = _run(fake, "30")
    second = None
    try:
        watcher.scan()
        second = _run(fake, "30")
        watcher.scan()
        pidgin = [e.details["state"] for e in events if e.details["program"] == "Pidgin"]
        assert pidgin == ["started"]
        _stop(first)
        watcher.scan()
        assert [e.details["state"] for e in events if e.details["program"] == "Pidgin"] == ["started"]
    finally:
        _stop(*(p for p in (first, second) if p is not None and p.poll() is None))
    watcher.scan()
    assert [e.details["state"] for e in events if e.details["program"] == "Pidgin"] == ["started", "stopped"]


def test_a_real_ffmpeg_like_process_is_judged_by_its_command_line(tmp_path):
    fake = tmp_path / "ffmpeg"
    shutil.copy(shutil.which("dash") or shutil.which("sh"), fake)
    events = []
    watcher = ForbiddenWatcher(LINUX, events.append, me=-1)
    plain = _run(fake, "-c", "sleep 30; true", "ffmpeg", "-i", "in.mp4")
    grab = None
    try:
        watcher.scan()
        assert not [e for e in events if e.details["pid"] == plain.pid]
        grab = _run(fake, "-c", "sleep 30; true", "ffmpeg", "-f", "x11grab")
        watcher.scan()
        assert [e.details["program"] for e in events if e.details["pid"] == grab.pid] == \
            ["Enregistrement d'écran (ffmpeg)"]
    finally:
        _stop(*(p for p in (plain, grab) if p is not None))
