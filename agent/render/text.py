"""The terminal report: one line per check, then what to do, then the verdict.

On a terminal the check lines are drawn at once and updated live as checks finish in
parallel (with colour unless NO_COLOR is set); when output is a file or a pipe, nothing is
printed until the end and there is no colour.
"""
from __future__ import annotations

import os
import shutil
import sys
import threading
import time
from typing import TextIO

import click

from core import __version__
from core.i18n import fmt_datetime, t
from core.report import Report
from agent.runner import RunEvent
from core.result import CheckResult, Status

_COLOURS = {Status.ok: "green", Status.warn: "yellow", Status.fail: "red", Status.error: "magenta",
            Status.skip: "bright_black"}
_SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


def wants_colour(stream: TextIO) -> bool:
    return (stream.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"
            and enable_ansi(stream))


def enable_ansi(stream: TextIO) -> bool:
    """True when the terminal understands escape sequences (colour, cursor moves).

    Every terminal does, except a Windows console that has not been switched to "virtual
    terminal" mode: switch it on here; when that fails (older Windows), say no.
    """
    if os.name != "nt":
        return True
    try:  # pragma: no cover - Windows only
        import ctypes
        import msvcrt

        kernel32 = ctypes.windll.kernel32
        handle = msvcrt.get_osfhandle(stream.fileno())
        mode = ctypes.c_uint32()
        if not kernel32.GetConsoleMode(handle, ctypes.byref(mode)):
            return False
        return bool(kernel32.SetConsoleMode(handle, mode.value | 0x0004))  # ENABLE_VIRTUAL_TERMINAL_PROCESSING
    except Exception:  # noqa: BLE001 - no console, no ctypes: plain output
        return False


def status_label(status: Status, lang: str, colour: bool) -> str:
    label = t(f"status.{status.value}", lang).ljust(_label_width(lang))
    return click.style(label, fg=_COLOURS[status], bold=status != Status.ok) if colour else label


def _label_width(lang: str) -> int:
    return max(len(t(f"status.{s.value}", lang)) for s in Status)


def check_line(result: CheckResult, lang: str, colour: bool, title_width: int) -> str:
    return f"  {status_label(result.status, lang, colour)}  {result.title.ljust(title_width)}  {result.summary}"


def render_report(report: Report, *, colour: bool = False, with_checks: bool = True) -> str:
    lang = report.lang
    lines: list[str] = []
    if with_checks:
        lines.append(header(report))
        lines.append("")
        width = max((len(c.title) for c in report.ran()), default=0)
        lines += [check_line(c, lang, colour, width) for c in report.ran()]
        if report.not_run:
            lines.append(t("cli.not_run", lang, checks=", ".join(report.not_run)))
    todo = [c for c in report.ran() if c.status not in (Status.ok, Status.skip) and c.remediation]
    if todo:
        lines += ["", t("cli.remediations", lang) + " :" if lang == "fr" else t("cli.remediations", lang) + ":"]
        for check in todo:
            lines.append(f"  - {check.title} : {check.remediation}" if lang == "fr"
                         else f"  - {check.title}: {check.remediation}")
    lines += ["", verdict_line(report, colour)]
    return "\n".join(lines) + "\n"


def header(report: Report) -> str:
    return t("cli.header", report.lang, version=report.agent_version or __version__,
             hostname=report.machine.hostname, os=report.machine.os,
             when=fmt_datetime(report.finished_at, report.lang))


def verdict_line(report: Report, colour: bool) -> str:
    lang = report.lang
    counts = {s: sum(1 for c in report.ran() if c.status == s) for s in Status}
    if not report.ready:
        key, fg = "verdict.not_ready", "red"
    elif counts[Status.warn]:
        key, fg = "verdict.ready_with_warnings", "yellow"
    else:
        key, fg = "verdict.ready", "green"
    verdict = click.style(t(key, lang), fg=fg, bold=True) if colour else t(key, lang)
    detail = t("cli.summary_counts", lang, ok=counts[Status.ok], warn=counts[Status.warn],
               bad=counts[Status.fail] + counts[Status.error], skip=counts[Status.skip])
    return f"{verdict} ({detail})"


class LiveBlock:
    """Draws one line per check on a terminal and redraws them as events arrive.

    A ticker also redraws a few times a second while checks run, so that a long silent
    check (bandwidth, a slow whitelist) shows a moving spinner and its elapsed time instead
    of looking frozen. On a console that cannot move the cursor (``ansi`` false: an old
    Windows console), each check's line is simply printed when it finishes.
    """

    TICK_S = 0.2

    def __init__(self, stream: TextIO, ids: list[str], titles: dict[str, str], lang: str, colour: bool,
                 ansi: bool | None = None):
        self.stream, self.ids, self.titles, self.lang = stream, ids, titles, lang
        self.ansi = enable_ansi(stream) if ansi is None else ansi
        self.colour = colour and self.ansi
        self.results: dict[str, CheckResult] = {}
        self.progress: dict[str, tuple[int, int]] = {}
        self.started: dict[str, float] = {}
        self.tick = 0
        self.drawn = 0
        self.lock = threading.Lock()
        self.ticker: threading.Thread | None = None
        self.title_width = max((len(v) for v in titles.values()), default=0)

    def __call__(self, event: RunEvent) -> None:
        with self.lock:
            if event.kind == "done" and event.result is not None:
                self.results[event.check_id] = event.result
            elif event.kind == "progress":
                self.progress[event.check_id] = (event.done, event.total)
            elif event.kind == "start":
                self.started.setdefault(event.check_id, time.monotonic())
            if not self.ansi:
                if event.kind == "done" and event.result is not None:
                    self.stream.write(check_line(event.result, self.lang, False, self.title_width) + "\n")
                    self.stream.flush()
                return
            self.tick += 1
            self._draw()
            if self.ticker is None:
                self.ticker = threading.Thread(target=self._tick, daemon=True, name="live-block")
                self.ticker.start()

    def _tick(self) -> None:
        while True:
            time.sleep(self.TICK_S)
            with self.lock:
                if len(self.results) >= len(self.ids):
                    return
                self.tick += 1
                self._draw()

    def _draw(self) -> None:
        columns = shutil.get_terminal_size((100, 20)).columns
        out = []
        if self.drawn:
            out.append(f"\x1b[{self.drawn}F")  # back to the first line of the block
        for check_id in self.ids:
            result = self.results.get(check_id)
            if result is not None:
                line = check_line(result, self.lang, False, self.title_width)
                shown = _fit(line, columns)
                if self.colour:
                    plain = status_label(result.status, self.lang, False)
                    shown = shown.replace(plain, status_label(result.status, self.lang, True), 1)
            else:
                spin = _SPINNER[self.tick % len(_SPINNER)]
                done, total = self.progress.get(check_id, (0, 0))
                extra = f" {done}/{total}" if total else ""
                elapsed = time.monotonic() - self.started.get(check_id, time.monotonic())
                if elapsed >= 2:
                    extra += f" ({elapsed:.0f} s)"
                shown = _fit(f"  {spin.ljust(_label_width(self.lang))}  {self.titles[check_id].ljust(self.title_width)}  …{extra}", columns)
            out.append("\x1b[2K" + shown + "\n")
        self.stream.write("".join(out))
        self.stream.flush()
        self.drawn = len(self.ids)


def _fit(line: str, columns: int) -> str:
    return line if len(line) < columns else line[: max(10, columns - 2)] + "…"


def write(text: str, stream: TextIO | None = None) -> None:
    (stream or sys.stdout).write(text)
    (stream or sys.stdout).flush()
