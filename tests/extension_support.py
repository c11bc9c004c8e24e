"""A real exam room for the extension tests and benches: Xvfb + openbox, the supervisor
server, a loopback web server standing for the platform and other sites, a companion
process with the native messaging host installed, and a HEADED Chromium with the unpacked
examroom extension (``--load-extension``), driven by playwright.

Sites: Chromium maps every ``*.test`` name to 127.0.0.1 (``--host-resolver-rules``), so a
tab's host is ``mail.example-webmail.test`` while no traffic leaves loopback. The platform
is ``http://127.0.0.1:PORT/`` (the companion's ``--platform-url``: the companion probes it
too). Its page dispatches the platform's own messages (``startCertification()``,
``stopCertification()``), as mon-pix's pix-companion service does, and shows its questions with
the platform's marker of a question that requires focus (``showQuestion(n, focused)``: the
statement's ``tooltip__tag--focused`` or ``tooltip__tag--regular`` tag).
"""
from __future__ import annotations

import contextlib
import http.server
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Iterator
from urllib.parse import parse_qs, urlparse

from tests.companion_support import REPO, CompanionProcess, SupervisorServer, wait_for

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
EXTENSION_ID = "amjjmkcinalclaphjnmpemllheealacp"

EXAM_PAGE = """<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Pix - Certification</title></head>
<body><article class="challenge-item" id="question"><h1>Question 1</h1>
<div class="tooltip__tag tooltip__tag--regular"></div></article>
<label>Réponse <input id="answer"></label>
<a id="search" target="_blank" href="about:blank">recherche</a>
<a id="download" href="/files/tableau.xlsx" download>tableau.xlsx</a>
<a id="pdf-download" href="/files/sujet.pdf" download>sujet.pdf</a>
<script>
// the platform's candidate app does exactly this (mon-pix/app/services/pix-companion.js)
function startCertification() {
  window.dispatchEvent(new CustomEvent('pix:certification:start'));
  window.postMessage({event: 'pix:certification:start'}, window.location.origin);
}
function stopCertification() {
  window.dispatchEvent(new CustomEvent('pix:certification:stop'));
  window.postMessage({event: 'pix:certification:stop'}, window.location.origin);
}
// the next question, rendered as the candidate app renders a statement: its tooltip tag says
// whether the question requires focus (mon-pix's challenge statement tooltip)
function showQuestion(n, focused) {
  document.getElementById('question').innerHTML = '<h1>Question ' + n + '</h1><div class="tooltip__tag tooltip__tag--'
    + (focused ? 'focused' : 'regular') + '"></div>';
}
// and pings its own extension; ours must not answer
window.pongs = 0;
window.addEventListener('pix:companion:pong', () => { window.pongs += 1; });
setInterval(() => window.dispatchEvent(new CustomEvent('pix:companion:ping')), 200);
</script></body></html>"""

# a minimal valid one-page PDF
PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
       b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 300 200]/Contents 4 0 R/Resources<<>>>>endobj\n"
       b"4 0 obj<</Length 0>>stream\n\nendstream endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")


def _xlsx() -> bytes:
    import io

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in (("pays", "population"), ("France", 68), ("Italie", 59)):
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


XLSX = _xlsx()

# the test centre's own policy (examroom companion --policy): names standing for real sites
POLICY = """
[[site]]
label = "Moteur de recherche (test)"
category = "search"
hosts = ["search.example.test"]

[[site]]
label = "Assistant IA (test)"
category = "ai_assistant"
hosts = ["assistant.example-ai.test"]

[[site]]
label = "Messagerie instantanée (test)"
category = "communication"
hosts = ["chat.example-chat.test"]
"""


class _Sites(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_HEAD(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        url = urlparse(self.path)
        host = (self.headers.get("Host") or "").split(":")[0]
        if url.path == "/files/sujet.pdf":
            body, kind = PDF, "application/pdf"
        elif url.path == "/files/tableau.xlsx":
            body, kind = XLSX, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        elif host == "127.0.0.1":
            body, kind = self.server.exam_page.encode(), "text/html; charset=utf-8"
        else:
            title = parse_qs(url.query).get("title", [host])[0]
            body = f"<!doctype html><title>{title}</title><p>{host}</p>".encode()
            kind = "text/html; charset=utf-8"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def sites(exam_page: str = EXAM_PAGE) -> http.server.ThreadingHTTPServer:
    """The platform (on 127.0.0.1) and every other site (any other name), on one free port."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Sites)
    server.exam_page = exam_page   # type: ignore[attr-defined]
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    return server


def xdo(display: str, *args: str, check: bool = True) -> str:
    done = subprocess.run(["xdotool", *args], env=dict(os.environ, DISPLAY=display), capture_output=True,
                          text=True, timeout=20)
    if check and done.returncode != 0:
        raise RuntimeError(f"xdotool {args}: {done.stderr}")
    return done.stdout.strip()


def windows_of(display: str, pid: int) -> list[int]:
    out = xdo(display, "search", "--onlyvisible", "--pid", str(pid), check=False)
    return [int(w) for w in out.split()]


class Room:
    """Everything of one machine in an exam room; ``close()`` stops it all."""

    def __init__(self, display: str, tmp: Path, sync_api) -> None:
        from tests.support import free_port

        self.display, self.tmp = display, tmp
        self.server = SupervisorServer(tmp, free_port())
        self.room = self.server.create_room("Salle 12")
        self.server.start()
        self.sites = sites()
        self.port = self.sites.server_address[1]
        self.platform = f"http://127.0.0.1:{self.port}/"
        (tmp / "centre-policy.toml").write_text(POLICY, encoding="utf-8")
        self.machine = "PC-EXT"
        self.home = tmp / self.machine
        self.home.mkdir()
        self.profile = tmp / "profile"
        env = dict(os.environ, EXAMROOM_HOME=str(self.home))
        subprocess.run([sys.executable, "-m", "agent", "companion", "install-browser-host",
                        "--user-data-dir", str(self.profile)], check=True, env=env, cwd=REPO, timeout=60,
                       capture_output=True)
        self.companion = CompanionProcess(tmp, self.machine, self.server.url, self.room, platform_url=self.platform,
                                          display=display, extra=["--policy", str(tmp / "centre-policy.toml")])
        self.pw = sync_api.sync_playwright().start()
        self.downloads = tmp / "downloads"
        extension = subprocess.run([sys.executable, "-m", "agent", "companion", "extension-path", "--browser",
                                    "chromium"], capture_output=True, text=True, check=True, cwd=REPO).stdout.strip()
        self.context = self.pw.chromium.launch_persistent_context(
            str(self.profile), executable_path=CHROMIUM, headless=False, accept_downloads=True,
            downloads_path=str(self.downloads), ignore_default_args=["--disable-extensions"],
            args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync", "--disable-component-update",
                  "--disable-background-networking", f"--load-extension={extension}",
                  f"--disable-extensions-except={extension}", "--host-resolver-rules=MAP *.test 127.0.0.1",
                  "--window-position=0,0", "--window-size=1000,700"],
            env={**env, "DISPLAY": display, "HOME": str(tmp)})
        self.browser_pid = self._browser_pid()
        self.exam = self.context.pages[0] if self.context.pages else self.context.new_page()
        self.exam.goto(self.platform)

    def _browser_pid(self) -> int:
        import psutil

        found = [p for p in psutil.Process(os.getpid()).children(recursive=True)
                 if p.name() == "chromium" and not any(a.startswith("--type=") for a in p.cmdline()[1:])]
        return found[0].pid

    def journal(self) -> list[dict]:
        return self.companion.journal()

    def events(self) -> list[dict]:
        """The room's events as the server stored them, details flattened beside id/kind/at."""
        return [{**e["details"], **{k: v for k, v in e.items() if k != "details"}} for e in self.server.events(self.room)]

    def wait_event(self, predicate, timeout: float = 15.0) -> dict:
        """The first server event matching ``predicate``, waiting for it."""
        found = wait_for(lambda: next((e for e in self.events() if predicate(e)), None), timeout=timeout, step=0.1)
        assert found, f"no such event; journal: {[(e['kind'], e.get('label'), e.get('level')) for e in self.journal()]}"
        return found

    def browser_window(self) -> int:
        wins = windows_of(self.display, self.browser_pid)
        assert wins, "no Chromium window"
        return wins[0]

    def front(self, page) -> None:
        """The candidate clicks back into the browser, on this tab."""
        page.bring_to_front()
        xdo(self.display, "windowactivate", "--sync", str(self.browser_window()))

    def close(self) -> None:
        for step in (self.context.close, self.pw.stop, lambda: self.companion.terminate(20),
                     self.companion.cleanup, self.server.stop, self.sites.shutdown):
            with contextlib.suppress(Exception):
                step()


@contextlib.contextmanager
def app_window(display: str, argv: list[str], name_hint: str, timeout: float = 60) -> Iterator[tuple[subprocess.Popen, int]]:
    """A real program's window (soffice, evince, pcmanfm, xterm...), activated; yields (process, window)."""
    before = set(xdo(display, "search", "--onlyvisible", "--name", ".", check=False).split())
    proc = subprocess.Popen(argv, env=dict(os.environ, DISPLAY=display), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        def new_window():
            now = xdo(display, "search", "--onlyvisible", "--name", name_hint, check=False).split()
            fresh = [w for w in now if w not in before]
            return int(fresh[-1]) if fresh else None

        window = wait_for(new_window, timeout=timeout, step=0.2)
        assert window, f"no window for {argv}"
        xdo(display, "windowactivate", "--sync", str(window), check=False)
        yield proc, window
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 15)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait(5)
