"""The crash test in a window (``examroom check --gui``), for technicians who double-click.

Whether a window can open here is ``agent.render.webview_env``'s question. While the checks
run, the window shows one line per check, updated from the runner's RunEvents; then the
HTML report (``agent.render.html``) with "run again", "save the report" and "close" buttons
(``js_api``). Without a display or a GUI backend it says so on stderr and returns None: the
CLI then prints the terminal report instead.
"""
from __future__ import annotations

import json
import os
import queue
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

from agent.crashtest import run_crash_test
from core.i18n import t
from agent.render import html
from agent.render.webview_env import no_gui_reason, toolkit, watch_pending_scripts
from core.report import Report
from agent.runner import RunEvent
from checks.base import CheckContext
from core.result import Status
from core.oserror import describe

OnShown = Callable[[Any, Report], None]


def run_in_window(ids: list[str], ctx: CheckContext, *, on_shown: OnShown | None = None) -> Report | None:
    """Run the crash test in a window; the last report shown, or None when no window can be shown.

    ``on_shown(window, report)`` is called (from a worker thread) each time a report is
    displayed; tests use it to read the page back and press its buttons.
    """
    reason = no_gui_reason(ctx)
    if reason is not None:
        _say(t("window.fallback", ctx.lang, reason=reason))
        return None
    import logging

    import webview

    # Our own message says when the window cannot open; pywebview's tracebacks would only
    # frighten a technician.
    logging.getLogger("pywebview").setLevel(logging.CRITICAL)
    if "QTWEBENGINE_CHROMIUM_FLAGS" not in os.environ:
        # A report page needs no GPU (lab PCs often lack drivers: Vulkan/GL errors on stderr);
        # Chromium inside Qt WebEngine refuses to run as root with its sandbox on.
        flags = "--disable-gpu --log-level=3"
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            flags += " --no-sandbox"
        os.environ["QTWEBENGINE_CHROMIUM_FLAGS"] = flags
    session = _Session(ids, ctx, on_shown)
    window = webview.create_window(t("window.title", ctx.lang), html=session.progress_page(),
                                   js_api=session.api, width=1024, height=760, min_size=(640, 480))
    session.window = window
    window.events.closed += lambda: session.closed.set()
    window.events.loaded += lambda: watch_pending_scripts(window, session.closed)
    try:
        webview.start(session.first_run, gui=toolkit(ctx))
    except Exception as exc:  # noqa: BLE001 - any backend failure means "use the terminal"
        if session.shown.is_set():
            raise
        _say(t("window.fallback", ctx.lang, reason=t("window.backend_failed", ctx.lang, reason=exc)))
        return None
    if not session.shown.is_set():
        _say(t("window.fallback", ctx.lang, reason=t("window.never_shown", ctx.lang)))
        return None
    if session.report is None:
        # The technician closed the window before the first result: like Ctrl-C in the
        # terminal (exit 130). Not KeyboardInterrupt: click would turn it into "Aborted!", 1.
        sys.stderr.write(t("cli.interrupted", ctx.lang) + "\n")
        raise SystemExit(130)
    return session.report


def save_report_files(report: Report, ctx: CheckContext) -> tuple[Path, Path]:
    """Write ``examroom-HOST-YYYYMMDD-HHMM.html`` and ``.json`` where candidates save files."""
    from checks.probes.folders import save_location

    folder = ctx.host.path(save_location(ctx.host).path)
    stamp = "".join(ch for ch in report.finished_at[:16] if ch.isdigit())
    host = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in report.machine.hostname) or "poste"
    stem = f"examroom-{host}-{stamp[:8]}-{stamp[8:12]}"
    html_path, json_path = folder / f"{stem}.html", folder / f"{stem}.json"
    html.write_report_html(report, html_path)
    json_path.write_text(report.to_json() + "\n", encoding="utf-8")
    return html_path, json_path


def _say(text: str) -> None:
    sys.stderr.write(f"examroom: {text}\n")
    sys.stderr.flush()


class _Api:
    """What the page may call (``pywebview.api.run_again()``); pywebview exposes public methods only."""

    def __init__(self, session: "_Session"):
        self._session = session

    # pywebview hands each call's return value back to the page that made it: both methods
    # return at once and act from a thread of ours, after the page got its answer.
    def run_again(self) -> None:
        threading.Thread(target=self._session.run, daemon=True, name="run-again").start()

    def close(self) -> None:
        threading.Timer(0.2, self._session.window.destroy).start()

    def save(self) -> None:
        threading.Thread(target=self._session.save, daemon=True, name="save-report").start()


class _Session:
    def __init__(self, ids: list[str], ctx: CheckContext, on_shown: OnShown | None):
        self.ids, self.ctx, self.on_shown = ids, ctx, on_shown
        self.window: Any = None
        self.report: Report | None = None
        self.api = _Api(self)
        self.shown = threading.Event()
        self.closed = threading.Event()
        self.running = threading.Lock()
        self.done = 0
        # pywebview's Qt backend waits for every script's result, and waits forever once the
        # window is gone: scripts go through this daemon thread so that neither the runner
        # nor the process exit can be held by a closed window.
        self.scripts: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._paint, daemon=True, name="window-painter").start()

    # -- pages -------------------------------------------------------------------------------
    def progress_page(self) -> str:
        lang = self.ctx.lang
        pending = html.esc(t("window.pending", lang))
        rows = "\n".join(
            f'<tr id="row-{i}"><td>{html.esc(t(f"check.{i}.title", lang))}</td>'
            f'<td class="state"><span class="badge badge-skip">{pending}</span></td><td class="summary"></td></tr>'
            for i in self.ids)
        body = (f'<header class="top"><h1>{html.esc(t("window.running", lang))}</h1></header>\n'
                f'<section><progress id="bar" max="{len(self.ids)}" value="0" style="width:100%;height:22px"></progress>\n'
                f'<p id="count" role="status">{html.esc(t("cli.progress", lang, done=0, total=len(self.ids)))}</p></section>\n'
                f'<table class="grid"><thead><tr><th>{html.esc(t("report.col.check", lang))}</th>'
                f'<th>{html.esc(t("report.col.status", lang))}</th><th>{html.esc(t("report.col.summary", lang))}</th>'
                f"</tr></thead><tbody>\n{rows}\n</tbody></table>")
        script = """
window.examroom = {
  progress: function (id, text) { var r = document.getElementById("row-" + id); if (r) r.cells[2].textContent = text; },
  done: function (id, badge, summary, count, n) {
    var r = document.getElementById("row-" + id);
    if (r) { r.cells[1].innerHTML = badge; r.cells[2].textContent = summary; }
    document.getElementById("bar").value = n; document.getElementById("count").textContent = count;
  }
};"""
        return html.page(lang=lang, title=t("window.title", lang), body=body, kind="progress", script=script,
                         with_footer=False)

    def report_page(self, report: Report) -> str:
        lang = self.ctx.lang
        toolbar = (f'<nav class="toolbar"><button id="again" class="primary" '
                   f'onclick="this.disabled=true; pywebview.api.run_again()">{html.esc(t("window.run_again", lang))}</button>'
                   f'<button id="save" onclick="this.disabled=true; pywebview.api.save()">{html.esc(t("window.save", lang))}</button>'
                   f'<button id="close" onclick="pywebview.api.close()">{html.esc(t("window.close", lang))}</button>'
                   f'<span id="saved" role="status"></span></nav>')
        script = ('\nwindow.examroom = {saved: function (text) {'
                  ' document.getElementById("saved").textContent = text; }};')
        return html.render_report_html(report, toolbar=toolbar, script=script)

    def save(self) -> None:
        """The report as HTML and JSON in the Documents folder (the JSON is what
        ``examroom report merge`` reads when reports are collected on a USB key)."""
        report = self.report
        if report is None:
            return
        try:
            html_path, json_path = save_report_files(report, self.ctx)
            text = t("window.saved", self.ctx.lang, html=str(html_path), json=json_path.name)
        except OSError as exc:
            text = t("window.save_failed", self.ctx.lang, reason=describe(exc, self.ctx.lang))
        self.scripts.put(f"examroom.saved({json.dumps(text)})")

    # -- the crash test ----------------------------------------------------------------------
    def first_run(self) -> None:
        if not self.window.events.loaded.wait(60):
            return
        self.shown.set()
        # pywebview's thread is not a daemon: run from one of ours, so that closing the
        # window mid-run ends examroom at once instead of after the slowest check.
        threading.Thread(target=self.run, kwargs={"first": True}, daemon=True, name="crash-test").start()

    def run(self, first: bool = False) -> bool:
        """Run the crash test and show its report; False when a run is already going on."""
        if not self.running.acquire(blocking=False):
            return False
        try:
            if not first:
                self.window.set_title(t("window.title", self.ctx.lang))
                self.window.load_html(self.progress_page())
                self.window.events.loaded.wait(30)
            self.done = 0
            report = run_crash_test(self.ids, self.ctx, self._on_event)
            self._painted()
            if self.closed.is_set():
                self.report = report
                return True
            self.window.load_html(self.report_page(report))
            self.window.events.loaded.wait(30)
            # The verdict in the title too: it shows in the taskbar when the window is behind.
            key, _css = html.verdict_key(report)
            self.window.set_title(t("window.title_done", self.ctx.lang, verdict=t(key, self.ctx.lang),
                                    hostname=report.machine.hostname))
            self.report = report
        finally:
            self.running.release()
        if self.on_shown is not None and not self.closed.is_set():
            self.on_shown(self.window, report)
        return True

    def _on_event(self, event: RunEvent) -> None:
        if self.closed.is_set():
            return
        lang = self.ctx.lang
        if event.kind == "progress" and event.total:
            script = f"examroom.progress({json.dumps(event.check_id)}, {json.dumps(f'{event.done}/{event.total}')})"
        elif event.kind == "done" and event.result is not None:
            self.done += 1
            count = t("cli.progress", lang, done=self.done, total=len(self.ids))
            status: Status = event.result.status
            script = (f"examroom.done({json.dumps(event.check_id)}, {json.dumps(html.badge(status, lang))}, "
                      f"{json.dumps(event.result.summary)}, {json.dumps(count)}, {self.done})")
        else:
            return
        self.scripts.put(script)

    def _paint(self) -> None:
        while True:
            script = self.scripts.get()
            try:
                if not self.closed.is_set():
                    self.window.run_js(script)
            except Exception:  # noqa: BLE001 - the window may be closing; the run goes on regardless
                pass
            finally:
                self.scripts.task_done()

    def _painted(self, timeout: float = 5.0) -> None:
        """Wait (a bounded time) for the progress scripts still queued, before changing page."""
        deadline = time.monotonic() + timeout
        while self.scripts.unfinished_tasks and time.monotonic() < deadline and not self.closed.is_set():
            time.sleep(0.02)
