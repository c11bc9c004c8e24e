"""The local endpoint seen from a real browser (headless Chromium): an exam page from an
allowed origin may ping the companion but not change the exam phase (that comes from the
extension only, and the attempt is reported); a page from another origin is refused by CORS
and cannot read anything."""
from __future__ import annotations

import http.server
import json
import shutil
import threading
from pathlib import Path

import pytest

from companion.localapi import LocalApi
from companion.session import CompanionConfig, Session
from tests.support import need

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]

PAGE = b"""<!doctype html><html><body><pre id="out">...</pre><script>
async function ping(port) {
  try {
    const answer = await fetch('http://127.0.0.1:' + port + '/ping');
    return JSON.stringify(await answer.json());
  } catch (e) { return 'refused: ' + e.name; }
}
async function start(port) {
  try {
    const answer = await fetch('http://127.0.0.1:' + port + '/exam/start', {method: 'POST',
      headers: {'Content-Type': 'application/json'}, body: JSON.stringify({session: 'S-42'})});
    return answer.status;
  } catch (e) { return 'refused: ' + e.name; }
}
</script></body></html>"""


class _Page(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, *args) -> None:
        pass


def _site() -> http.server.ThreadingHTTPServer:
    site = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    return site


def test_exam_page_in_chromium(tmp_path: Path) -> None:
    need(CHROMIUM)
    sync_api = pytest.importorskip("playwright.sync_api")
    exam_site, other_site = _site(), _site()
    exam_origin = f"http://localhost:{exam_site.server_address[1]}"
    other_origin = f"http://localhost:{other_site.server_address[1]}"
    session = Session(CompanionConfig(server="http://127.0.0.1:9", room="R", settle_s=0), client=None,
                      machine=None, focus_watcher=None, os_name="linux", home=tmp_path)
    api = LocalApi(session, port=0, origins=(exam_origin,))
    api.start()
    try:
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                exam = browser.new_page()
                exam.goto(exam_origin + "/")
                assert exam.evaluate(f"start({api.port})") == 403
                answer = json.loads(exam.evaluate(f"ping({api.port})"))
                assert answer["companion"] == "examroom" and "focus_changes" not in answer

                other = browser.new_page()
                other.goto(other_origin + "/")
                assert other.evaluate(f"ping({api.port})").startswith("refused")
                assert str(other.evaluate(f"start({api.port})")).startswith("refused")
            finally:
                browser.close()
    finally:
        api.close()
        exam_site.shutdown()
        other_site.shutdown()
    events = [payload for _, payload in session.outbox.peek("event")]
    # the allowed page's try is refused and reported; the other page never reached the handler
    assert [(e["kind"], e["origin"]) for e in events] == [("exam_phase_forged", exam_origin)]
    assert session.status.exam_phase is None and not session.tracker.armed
