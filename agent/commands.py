"""``examroom check``: from flags to a report on screen, in files and on the server."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from agent.crashtest import preflight, run_crash_test, selected_ids
from agent.request import CheckRequest
from core.i18n import t
from agent.render import text
from core.report import Report
from checks.base import CheckContext
from core.errors import BadInput
from checks.policy import load_policy
from core.host import Host
from checks.registry import parse_ids
from core.exitcodes import ExitCode
from core.result import CHECK_IDS
from core.oserror import describe


def check_command(request: CheckRequest) -> ExitCode:
    lang, json_path, html_path = request.lang, request.json_path, request.html_path
    server, room = request.server, request.room
    only_ids = _ids(request.only, "--only", lang)
    skip_ids = _ids(request.skip, "--skip", lang)
    if bool(server) != bool(room):
        raise BadInput(t("cli.server_needs_room", lang), "--server/--room")
    if request.options.candidates is None and server and "bandwidth" in selected_ids(only_ids, skip_ids):
        from agent.client import room_size  # the room's size, as the server knows it

        request.options.candidates = room_size(server, room, request.ca_file, lang)
    ctx = CheckContext(host=Host.current(), policy=load_policy(request.config_path), lang=lang,
                       options=request.options)
    ids = selected_ids(only_ids, skip_ids)
    preflight(ids, ctx)
    # Checked before the crash test, not after: a typo in --json/--html must not cost the
    # technician a full run (and the report) before exit 2.
    for path in (json_path, html_path):
        if path and path != "-":
            _check_writable(path, lang)

    if request.gui:
        from agent.render import window

        report = window.run_in_window(ids, ctx)  # None: no GUI backend, fall back to the terminal
        if report is None:
            report = _run_in_terminal(ids, ctx, json_path)
        else:  # the window is closed: leave the plain report where the command was typed (logs, scripts)
            text.write(text.render_report(report, colour=False), sys.stderr if json_path == "-" else sys.stdout)
    else:
        report = _run_in_terminal(ids, ctx, json_path)

    # where the files went: on stderr, so stdout keeps the report (its verdict as last line) or the JSON
    if json_path:
        _write_json(report, json_path)
        if json_path != "-":
            click.echo(t("cli.json_written", lang, path=Path(json_path).resolve()), err=True)
    if html_path:
        from agent.render.html import write_report_html

        _write(html_path, lambda p: write_report_html(report, p), lang)
        click.echo(t("cli.html_written", lang, path=Path(html_path).resolve()), err=True)
    if server:
        from agent.client import ServerUnreachable, upload_report

        try:
            message = upload_report(report, server=server, room=room, ca_file=request.ca_file, lang=lang)
        except ServerUnreachable as exc:
            click.echo(f"examroom: {exc}", err=True)
            return ExitCode.UNREACHABLE
        click.echo(message, err=json_path == "-")
    return ExitCode.OK if report.ready else ExitCode.NOT_READY


def _ids(value: str | None, flag: str, lang: str) -> list[str]:
    try:
        return parse_ids(value)
    except ValueError as exc:
        raise BadInput(t("cli.unknown_check", lang, ids=str(exc)), flag,
                       t("cli.known_checks", lang, ids=", ".join(CHECK_IDS))) from None


def _run_in_terminal(ids: list[str], ctx: CheckContext, json_path: str | None) -> Report:
    # With --json -, stdout carries the JSON and the human report goes to stderr.
    stream = sys.stderr if json_path == "-" else sys.stdout
    colour = text.wants_colour(stream)
    live = None
    if stream.isatty():
        text.write(_header_line(ctx) + "\n\n", stream)
        live = text.LiveBlock(stream, ids, {i: ctx.t(f"check.{i}.title") for i in ids}, ctx.lang, colour)
    report = run_crash_test(ids, ctx, live)
    if live is not None:
        text.write(text.render_report(report, colour=colour, with_checks=False), stream)
    else:
        text.write(text.render_report(report, colour=False), stream)
    return report


def _header_line(ctx: CheckContext) -> str:
    from core import __version__
    from core.i18n import fmt_datetime
    from core.state import hostname

    return t("cli.header", ctx.lang, version=__version__, hostname=hostname(), os=ctx.host.os,
             when=fmt_datetime(ctx.host.now(), ctx.lang))


def _write_json(report: Report, json_path: str) -> None:
    if json_path == "-":
        sys.stdout.write(report.to_json() + "\n")
        sys.stdout.flush()
        return
    _write(json_path, lambda p: p.write_text(report.to_json() + "\n", encoding="utf-8"), report.lang)


def _check_writable(path: str, lang: str) -> None:
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise BadInput(t("cli.cannot_write", lang, reason=t("cli.is_a_folder", lang)), str(target),
                       t("cli.choose_other_path", lang))
    if not folder.is_dir():
        raise BadInput(t("cli.cannot_write", lang, reason=t("cli.no_such_folder", lang, folder=str(folder))),
                       str(target), t("cli.choose_other_path", lang))


def _write(path: str, writer, lang: str) -> None:
    target = Path(path)
    try:
        writer(target)
    except OSError as exc:
        raise BadInput(t("cli.cannot_write", lang, reason=describe(exc, lang)), str(target),
                       t("cli.choose_other_path", lang)) from None
