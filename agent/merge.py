"""``examroom report merge``: one room summary from report files collected by hand (USB key, share).

Reads the JSON reports named on the command line (a folder means every ``*.json`` in it),
keeps the newest report of each machine (``core.roomsummary``), and writes the room as HTML
(the same template as the machine report) and/or CSV, or prints a table. Exit 0 when every
machine is ready, 1 otherwise, 2 when a file is unreadable or is not an examroom report.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from pydantic import ValidationError

from core.i18n import detect_lang, fmt_datetime, t
from agent.render.html import check_title
from core.report import SCHEMA, Report
from core.roomsummary import MachineRow, csv_text, latest_per_machine
from core.errors import BadInput
from core.exitcodes import ExitCode
from core.oserror import describe


@click.group()
def report() -> None:
    """Work with report files collected by hand."""


@report.command()
@click.argument("reports", nargs=-1, required=True, metavar="REPORT.json...")
@click.option("--html", "html_path", metavar="FILE", help="Write the room summary as a self-contained HTML page.")
@click.option("--csv", "csv_path", metavar="FILE", help="Write the room summary as CSV (one line per machine).")
@click.option("--room", "room_name", metavar="NAME", help="Room name shown in the title of the HTML summary.")
@click.option("--lang", type=click.Choice(["fr", "en"]), default=None,
              help="Language of the summary (default: from the system locale).")
def merge(reports, html_path, csv_path, room_name, lang) -> None:
    """One room summary from many machine reports (offline, no server).

    REPORT.json are files written by 'examroom check --json'; a folder stands for every
    .json file in it. Exit code 0 when every machine is ready, 1 otherwise.
    """
    lang = lang or detect_lang()
    rows = latest_per_machine(load_reports([Path(p) for p in reports], lang))
    if html_path:
        from agent.render.html import render_room_html

        _write(Path(html_path), render_room_html(rows, lang, room=room_name), lang)
        click.echo(t("merge.written", lang, what="HTML", path=html_path))
    if csv_path:
        # csv_text starts with a BOM in French; utf-8 (not utf-8-sig) keeps exactly one.
        _write(Path(csv_path), csv_text(rows, lang), lang, newline="")
        click.echo(t("merge.written", lang, what="CSV", path=csv_path))
    if not html_path and not csv_path:
        click.echo(summary_table(rows, lang))
    ready = sum(1 for r in rows if r.ready)
    click.echo(t("report.room.counts", lang, ready=ready, total=len(rows)))
    sys.exit(ExitCode.OK if ready == len(rows) else ExitCode.NOT_READY)


def load_reports(paths: list[Path], lang: str) -> list[Report]:
    """Every report of ``paths``; the first bad one is a BadInput naming the file (and line)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(path.glob("*.json"))
            if not found:
                raise BadInput(t("merge.empty_dir", lang), str(path), t("merge.hint_files", lang))
            files += found
        else:
            files.append(path)
    return [load_report(f, lang) for f in files]


def load_report(path: Path, lang: str) -> Report:
    try:
        text = _decode(path.read_bytes())
    except FileNotFoundError:
        raise BadInput(t("merge.not_found", lang), str(path), t("merge.hint_files", lang)) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = describe(exc, lang) if isinstance(exc, OSError) else exc
        raise BadInput(t("merge.unreadable", lang, reason=reason), str(path), t("merge.hint_json", lang)) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInput(t("merge.bad_json", lang, reason=exc.msg, column=exc.colno),
                       f"{path}:{exc.lineno}", t("merge.hint_json", lang)) from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        found = data.get("schema") if isinstance(data, dict) else type(data).__name__
        raise BadInput(t("merge.not_a_report", lang, schema=SCHEMA, found=found), str(path),
                       t("merge.hint_json", lang))
    try:
        return Report.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "?"
        try:
            line = _line_of(text, first["loc"])
        except (ValueError, IndexError):  # the text parsed once; this is only a hint
            line = None
        where = f"{path}:{line}" if line else str(path)
        raise BadInput(t("merge.bad_field", lang, field=field, reason=first["msg"]), where,
                       t("merge.hint_json", lang)) from None


def _decode(raw: bytes) -> str:
    # Windows PowerShell 5 writes `examroom check --json - > r.json` in UTF-16 with a BOM;
    # Notepad and other Windows tools add a UTF-8 BOM.
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    return raw.decode("utf-8-sig")


def _line_of(text: str, loc: tuple) -> int | None:
    """The line of the value at ``loc`` (pydantic's error path), found by walking the JSON text."""
    decoder = json.JSONDecoder()
    ws = " \t\r\n"
    pos = _skip(text, 0, ws)
    for part in loc:
        if pos >= len(text):
            break
        if isinstance(part, str) and text[pos] == "{":
            pos = _member(text, pos, part, decoder, ws)
        elif isinstance(part, int) and text[pos] == "[":
            pos = _skip(text, pos + 1, ws)
            for _ in range(part):
                _value, pos = decoder.raw_decode(text, pos)
                pos = _skip(text, _skip(text, pos, ws) + 1, ws)  # past the comma
        else:
            break
        if pos < 0:
            return None
    return text.count("\n", 0, pos) + 1


def _skip(text: str, pos: int, chars: str) -> int:
    while pos < len(text) and text[pos] in chars:
        pos += 1
    return pos


def _member(text: str, pos: int, name: str, decoder: json.JSONDecoder, ws: str) -> int:
    """Position of the value of key ``name`` in the object starting at ``pos`` (-1 if absent)."""
    pos = _skip(text, pos + 1, ws)
    while pos < len(text) and text[pos] == '"':
        key, pos = json.decoder.scanstring(text, pos + 1)
        pos = _skip(text, _skip(text, pos, ws) + 1, ws)  # past the colon
        if key == name:
            return pos
        _value, pos = decoder.raw_decode(text, pos)
        pos = _skip(text, _skip(text, pos, ws) + 1, ws)  # past the comma
    return -1


def _write(path: Path, content: str, lang: str, newline: str | None = None) -> None:
    try:
        with path.open("w", encoding="utf-8", newline=newline) as handle:
            handle.write(content)
    except OSError as exc:
        raise BadInput(t("cli.cannot_write", lang, reason=describe(exc, lang)), str(path),
                       t("cli.choose_other_path", lang)) from None


def summary_table(rows: list[MachineRow], lang: str) -> str:
    """The room in the terminal: one line per machine, then what to do on each."""
    head = [t("summary.col.hostname", lang), t("summary.col.ready", lang),
            t("summary.col.report_at", lang), t("merge.col.problems", lang)]
    body = []
    for row in rows:
        problems = ", ".join(f"{check_title(c, lang)} ({t(f'status.{c.status.value}', lang)})" for c in row.problems)
        if row.partial:
            problems = ", ".join(filter(None, [problems, t("summary.partial_title", lang)]))
        body.append([row.label or row.hostname, row.ready_word(lang),
                     fmt_datetime(row.report_at, lang), problems or "—"])
    widths = [max(len(r[i]) for r in [head] + body) for i in range(3)]
    lines = ["  ".join(cell.ljust(widths[i]) if i < 3 else cell for i, cell in enumerate(r)) for r in [head] + body]
    lines.insert(1, "  ".join("-" * w for w in widths) + "  " + "-" * len(head[3]))
    todo = [r for r in rows if any(c.remediation for c in r.problems)]
    if todo:
        sep = " : " if lang == "fr" else ": "
        lines += ["", t("report.room.todo", lang) + (" :" if lang == "fr" else ":")]
        for row in todo:
            lines.append(f"  {row.label or row.hostname}")
            lines += [f"    - {check_title(c, lang)}{sep}{c.remediation}" for c in row.problems if c.remediation]
    return "\n".join(lines)

