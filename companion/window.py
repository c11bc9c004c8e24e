"""The candidate's small always-on-top status window (pywebview), in its own process.

Why a separate process: a GUI toolkit owns its thread's event loop and may crash or be
missing (no display, no Qt/GTK); the companion must keep watching either way, and must
keep receiving SIGTERM normally. The window reads the companion's state from the local
API (``GET /status`` with the per-run token) and reports its own JS ``blur``/``focus``
events back (``POST /window/focus``, through ``js_api``): a second focus signal.

``start_window`` (in the companion) never raises: a window that cannot start is one log
line and the companion runs on without it.
"""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
from typing import Any

log = logging.getLogger("examroom.companion")

_PAGE = """<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><style>
body{{font:14px system-ui,sans-serif;margin:0;padding:10px;background:#f4f7fb;color:#123}}
h1{{font-size:15px;margin:0 0 6px}} .ok{{color:#0a6b2b}} .bad{{color:#a40000}} p{{margin:3px 0}}
</style></head><body>
<h1 id="title">{active}</h1><p>{room_label} <b>{room}</b></p>
<p id="server">…</p><p id="net"></p>
<script>
window.addEventListener('blur', () => window.pywebview && pywebview.api.focus_changed(false));
window.addEventListener('focus', () => window.pywebview && pywebview.api.focus_changed(true));
window.addEventListener('pywebviewready', () => pywebview.api.focus_changed(document.hasFocus()));
function show(s) {{
  const server = document.getElementById('server');
  server.textContent = s.server_text; server.className = s.server_ok ? 'ok' : 'bad';
  const net = document.getElementById('net');
  net.textContent = s.net_text || ''; net.className = s.net_up === false ? 'bad' : 'ok';
}}
</script></body></html>"""


def status_texts(session: Any, lang: str) -> dict:
    """The window's texts for the current state (also what ``GET /status`` answers)."""
    from core.i18n import t

    st = session.status
    net = session.network.state if session.network else None
    if st.server_ok:
        server_text = t("companion.window.server_ok", lang)
    elif st.server_ok is None:
        server_text = t("companion.window.server_connecting", lang)
    else:
        server_text = t("companion.window.server_down", lang, pending=st.pending)
    net_text = None
    if net is not None and net.up is not None:
        net_text = t("companion.window.net_up" if net.up else "companion.window.net_down", lang)
    return {"room": session.config.room, "server_ok": bool(st.server_ok), "server_text": server_text,
            "net_up": net.up if net else None, "net_text": net_text, "pending": st.pending,
            "lang": lang}


def start_window(*, port: int, token: str, room: str, lang: str, timeout_s: float = 5.0) -> subprocess.Popen | None:
    """Start the window process; None (and one log line) when it cannot show a window."""
    env = dict(os.environ)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # QtWebEngine's sandbox refuses to run as root (lab images often auto-login as root)
        env.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--no-sandbox")
    try:
        proc = subprocess.Popen([sys.executable, "-m", "companion.window", str(port), token, room, lang],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    except OSError as exc:
        log.warning("no status window: %s", exc)
        return None
    try:
        proc.wait(timeout=timeout_s)  # still running after this = the window is up
    except subprocess.TimeoutExpired:
        threading.Thread(target=_drain, args=(proc,), daemon=True).start()
        return proc
    reason = (proc.stderr.read() or "").strip().splitlines()
    log.warning("no status window: %s", reason[-1] if reason else f"exit code {proc.returncode}")
    return None


def _drain(proc: subprocess.Popen) -> None:
    for line in proc.stderr:
        log.debug("window: %s", line.rstrip())


class _Bridge:
    """js_api: the page's blur/focus go to the companion through the local API."""

    def __init__(self, port: int, token: str) -> None:
        self.port, self.token = port, token

    def focus_changed(self, focused: bool) -> None:
        _call(self.port, self.token, "POST", "/window/focus", {"focused": bool(focused)})


def _call(port: int, token: str, method: str, path: str, body: dict | None = None) -> dict | None:
    import urllib.request

    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                     headers={"X-Examroom-Token": token, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=2) as answer:
            return json.loads(answer.read() or b"{}")
    except (OSError, ValueError):
        return None


def main(argv: list[str]) -> int:
    port, token, room, lang = int(argv[0]), argv[1], argv[2], argv[3]
    from core.i18n import t

    try:
        import webview
    except ImportError as exc:
        print(f"pywebview is not installed: {exc}", file=sys.stderr)
        return 3
    page = _PAGE.format(lang=lang, active=t("companion.window.active", lang),
                        room_label=t("companion.window.room", lang), room=room)
    window = webview.create_window(t("companion.window.title", lang), html=page, js_api=_Bridge(port, token),
                                   width=320, height=150, on_top=True, resizable=False)

    def refresh() -> None:
        while True:
            state = _call(port, token, "GET", "/status")
            if state is None:  # the companion is gone: close the window with it
                window.destroy()
                return
            try:
                window.evaluate_js(f"show({json.dumps(state)})")
            except Exception:
                pass  # the page is not loaded yet
            time.sleep(1.0)

    try:
        webview.start(refresh)
    except Exception as exc:  # no GUI backend, no display
        print(f"cannot open a window: {exc}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
