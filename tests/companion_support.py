"""Helpers for the companion tests and benches: real X11 windows with a chosen process name.

``x_window(display, title, process_name)`` runs a tiny python-xlib program, with the test's
own interpreter and module path, under the given process name, which maps a window with
``WM_NAME``, ``_NET_WM_NAME`` and ``_NET_WM_PID`` set, as real toolkits do.

How the name is set, so that psutil's ``name()`` (what the companion's watchers read) reports
it: the kernel's ``comm`` (15 characters at most) is set with ``prctl(PR_SET_NAME)``, and
``argv[0]`` is the name, for the longer names psutil completes from the command line. With
an ``argv[0]`` that is not a path Python cannot find its venv from it, so the child is given
the parent's ``sys.path`` (and ``PYTHONHOME``) explicitly; a symlink to the interpreter would
lose the venv the same way, without saying so.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

_WINDOW = r"""
import ctypes, os, sys
# the process name psutil reports (comm); argv[0] already holds the full name
ctypes.CDLL(None, use_errno=True).prctl(15, sys.argv[3].encode()[:15], 0, 0, 0)  # 15: PR_SET_NAME
from Xlib import X, Xatom, display
d = display.Display(sys.argv[1])
s = d.screen()
cover = sys.argv[4] == "cover"   # a screen locker: override-redirect, the whole screen, no pid
size = (0, 0, s.width_in_pixels, s.height_in_pixels) if cover else (10, 10, 300, 200)
w = s.root.create_window(*size, 0, s.root_depth, X.InputOutput, X.CopyFromParent,
                         background_pixel=s.white_pixel, event_mask=X.StructureNotifyMask,
                         override_redirect=cover)
title = sys.argv[2]
w.set_wm_name(title)
w.change_property(d.intern_atom("_NET_WM_NAME"), d.intern_atom("UTF8_STRING"), 8, title.encode())
if not cover:
    w.change_property(d.intern_atom("_NET_WM_PID"), Xatom.CARDINAL, 32, [os.getpid()])
if sys.argv[5] == "typed":    # a dialog by its EWMH type
    w.change_property(d.intern_atom("_NET_WM_WINDOW_TYPE"), Xatom.ATOM, 32, [d.intern_atom("_NET_WM_WINDOW_TYPE_DIALOG")])
elif sys.argv[5] != "-":      # a dialog transient for that window (LibreOffice's, GTK's Save as)
    w.set_wm_transient_for(d.create_resource_object("window", int(sys.argv[5])))
w.map()
d.sync()
print(w.id, flush=True)
sys.stdin.read()   # lives until the test closes our stdin
"""


@contextlib.contextmanager
def x_window(display: str, title: str, process_name: str = "python3", *, cover: bool = False,
             dialog: int | str | None = None) -> Iterator[int]:
    """A mapped top-level window (``cover``: an override-redirect window over the whole screen,
    as screen lockers map, without ``_NET_WM_PID``; ``dialog``: a dialog, transient for that
    window id, or "typed" for ``_NET_WM_WINDOW_TYPE_DIALOG``); yields its X id."""
    tmp = Path(tempfile.mkdtemp(prefix="examroom-xwin-"))
    script = tmp / "window.py"
    script.write_text(_WINDOW)
    home = sys.base_prefix if sys.base_prefix == sys.base_exec_prefix else \
        f"{sys.base_prefix}{os.pathsep}{sys.base_exec_prefix}"
    env = dict(os.environ, DISPLAY=display, PYTHONHOME=home,
               PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    proc = subprocess.Popen([process_name, str(script), display, title, process_name, "cover" if cover else "-",
                             "-" if dialog is None else str(dialog)],
                            executable=sys.executable,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
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
        shutil.rmtree(tmp, ignore_errors=True)


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


# -- a real supervisor server, a loopback "exam platform", companion processes -------------

import http.server
import json
import signal
import threading
import urllib.error
import urllib.request

REPO = Path(__file__).resolve().parent.parent
# loopback only: a proxy from the environment must not carry the tests' own requests
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class SupervisorServer:
    """``python -m agent serve`` on a free port with its SQLite file; killable and restartable."""

    def __init__(self, workdir: Path, port: int, password: str = "pw-test-1234") -> None:
        self.workdir, self.port, self.password = workdir, port, password
        self.db = workdir / "server.sqlite"
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen | None = None
        self._token: str | None = None

    def create_room(self, name: str) -> str:
        out = subprocess.run([sys.executable, "-m", "agent", "room", "create", name, "--db", str(self.db)],
                             capture_output=True, text=True, timeout=60, cwd=REPO, check=True)
        return out.stdout.strip().splitlines()[-1]

    def start(self) -> None:
        log = open(self.workdir / "server.log", "a")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "agent", "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--db", str(self.db), "--admin-password", self.password],
            stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
        log.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("the server exited: " + (self.workdir / "server.log").read_text()[-2000:])
            try:
                _DIRECT.open(self.url + "/openapi.json", timeout=1).close()
                self._token = None
                return
            except OSError:
                time.sleep(0.1)
        self.stop()   # a fixture whose setup fails gets no teardown: leave no server behind
        raise RuntimeError("the server did not start")

    def kill9(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
            self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
            self.proc = None

    def api(self, path: str, body: dict | None = None) -> object:
        if self._token is None and path != "/login":
            self._token = self.api("/login", {"username": "admin", "password": self.password})["token"]
        headers = {"Content-Type": "application/json"}
        if path != "/login":
            headers["Authorization"] = f"Bearer {self._token}"
        request = urllib.request.Request(self.url + "/api/v1" + path, headers=headers,
                                         data=json.dumps(body).encode() if body is not None else None)
        with _DIRECT.open(request, timeout=10) as answer:
            return json.loads(answer.read())

    def events(self, room: str) -> list[dict]:
        return self.api(f"/rooms/{room}/events?limit=5000")

    def machines(self, room: str) -> dict[str, dict]:
        return {m["machine_id"]: m for m in self.api(f"/rooms/{room}/machines")}


class _PlatformHandler(http.server.BaseHTTPRequestHandler):
    def do_HEAD(self) -> None:
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


class Platform:
    """A loopback 'exam platform' that can go away and come back on the same port."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}/"
        self.server: http.server.ThreadingHTTPServer | None = None

    def start(self) -> None:
        http.server.ThreadingHTTPServer.allow_reuse_address = True
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), _PlatformHandler)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


class CompanionProcess:
    """``examroom companion --no-window`` as its own machine (EXAMROOM_HOME / _MACHINE_ID)."""

    def __init__(self, workdir: Path, machine_id: str, server: str, room: str, *, platform_url: str,
                 display: str | None = None, extra: list[str] | None = None) -> None:
        self.machine_id = machine_id
        self.home = workdir / machine_id
        self.home.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, EXAMROOM_HOME=str(self.home), EXAMROOM_MACHINE_ID=machine_id)
        env.pop("DISPLAY", None)
        for name in ("WAYLAND_DISPLAY", "XDG_SESSION_TYPE"):   # the tests' Xvfb is plain X11
            env.pop(name, None)
        if display:
            env["DISPLAY"] = display
        self.log_path = self.home / "companion.log"
        log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "agent", "companion", "--server", server, "--room", room, "--no-window",
             "--platform-url", platform_url, "--heartbeat", "0.5", "--net-interval", "0.3",
             "--process-interval", "0.3", "--local-port", "0", "--lang", "en", "-v", *(extra or [])],
            env=env, stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
        log.close()

    def journal(self) -> list[dict]:
        path = self.home / "companion-journal.jsonl"
        if not path.exists():
            return []
        text = path.read_text(encoding="utf-8")
        # a line being written right now is not read (it would not parse yet): complete lines only
        complete = text[:text.rfind("\n") + 1]
        return [json.loads(line) for line in complete.splitlines() if line.strip()]

    def terminate(self, timeout: float = 15) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def cleanup(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


class FocusRecorder:
    """A watcher's ``on_change`` that feeds a FocusTracker and keeps what it saw: the raw
    foreground facts and the events the tracker emitted."""

    def __init__(self, exam_title: str = "Pix", settle_s: float = 0.0) -> None:
        from companion.focus import FocusTracker

        self.events: list = []
        self.facts: list = []
        self.tracker = FocusTracker(exam_title=exam_title, emit=self.events.append, settle_s=settle_s)
        if settle_s > 0:   # the session's settle loop: a place counts once it held settle_s
            def tick() -> None:
                while True:
                    time.sleep(0.02)
                    self.tracker.tick()

            threading.Thread(target=tick, daemon=True).start()

    def __call__(self, fg) -> None:
        self.facts.append(fg)
        self.tracker.update(fg)


@contextlib.contextmanager
def session_servers(room_name: str = "Bench") -> Iterator[tuple[Path, SupervisorServer, str, Platform]]:
    """A temporary folder, a started supervisor server with one room and a loopback platform
    URL (for the benches); both servers are stopped on exit."""
    from tests.support import free_port

    tmp = Path(tempfile.mkdtemp(prefix="examroom-bench-"))
    server = SupervisorServer(tmp, free_port())
    room = server.create_room(room_name)
    server.start()
    platform = Platform(free_port())
    platform.start()
    try:
        yield tmp, server, room, platform
    finally:
        server.stop()
        platform.stop()
