"""The ``examroom`` command (click). Exit codes of CONTRACT section 1: ``core.exitcodes.ExitCode``
(0 ready / success, 1 not ready, 2 bad usage or input, 3 supervisor server unreachable).

Each area owns its commands in its own module (whitelist.cli, supervisor.cli,
companion.cli, agent.merge); this module wires them and runs the crash test.
"""
from __future__ import annotations

import sys
from pathlib import Path

import click

from agent.request import CheckRequest, into
from core import __version__
from core.exitcodes import ExitCode
from core.i18n import detect_lang, t
from core.errors import BadInput, NotAvailable
from core.result import CHECK_IDS

class ExamroomGroup(click.Group):
    """Turns BadInput and NotAvailable into one line on stderr and exit code 2."""

    def invoke(self, ctx: click.Context):
        # click empties these before running the sub-command: keep them to find its --lang.
        # (_protected_args: the public alias warns since click 8.2)
        words = [*getattr(ctx, "_protected_args", []), *ctx.args]
        try:
            return super().invoke(ctx)
        except BadInput as exc:
            click.echo(f"examroom: {exc.line(_lang_asked(words))}", err=True)
            ctx.exit(ExitCode.BAD_INPUT)
        except NotAvailable as exc:
            click.echo(f"examroom: {exc}", err=True)
            ctx.exit(ExitCode.BAD_INPUT)


def _lang_asked(args: list[str]) -> str:
    """The --lang of the command that failed (its own context is gone by now), else the locale's."""
    for i, arg in enumerate(args):
        if arg == "--lang" and i + 1 < len(args) and args[i + 1] in ("fr", "en"):
            return args[i + 1]
        if arg in ("--lang=fr", "--lang=en"):
            return arg.split("=", 1)[1]
    return detect_lang()


@click.group(cls=ExamroomGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="examroom")
def cli() -> None:
    """examroom: get a computer room ready for the Pix certification, and watch it live.

    \b
    examroom check              crash test of this machine
    examroom serve              supervisor server and dashboard
    examroom companion          live monitoring during a session
    """


# Each flag of ``check`` stores its value in one CheckRequest through its callback (agent/request.py):
# declared once here, read once in agent/commands.py.
@cli.command()
@click.option("--only", metavar="ID[,ID...]", help=f"Run only these checks: {', '.join(CHECK_IDS)}.",
              callback=into("only"), expose_value=False)
@click.option("--skip", metavar="ID[,ID...]", help="Skip these checks.", callback=into("skip"), expose_value=False)
@click.option("--json", "json_path", metavar="PATH", help="Write the JSON report; '-' for stdout.",
              callback=into("json_path"), expose_value=False)
@click.option("--html", "html_path", metavar="PATH", help="Write a self-contained HTML report.",
              callback=into("html_path"), expose_value=False)
@click.option("--whitelist", "whitelist_path", metavar="FILE", help="Whitelist to probe (.toml, .txt, .xlsx).",
              callback=into("options.whitelist", Path), expose_value=False)
@click.option("--dns", metavar="HOST[:PORT]", help="Resolve names through this DNS server.",
              callback=into("options.dns"), expose_value=False)
@click.option("--timeout", type=click.FloatRange(min=0.1, max=600), default=5.0, show_default=True, metavar="SECONDS",
              help="Per-probe network timeout in seconds.", callback=into("options.timeout"), expose_value=False)
@click.option("--bandwidth-url", metavar="URL", help="File downloaded to measure bandwidth.",
              callback=into("options.bandwidth_url"), expose_value=False)
@click.option("--storage", metavar="PATH", help="Where candidates save files (default: Documents, else home).",
              callback=into("options.storage", Path), expose_value=False)
@click.option("--candidates", type=click.IntRange(min=1, max=10000), metavar="N",
              help="How many candidates the room's link must serve at once (default: the room size the server knows, else 30).",
              callback=into("options.candidates"), expose_value=False)
@click.option("--pac", "pac_url", metavar="URL", help="Proxy auto-configuration (PAC) file to use, as a browser would.",
              callback=into("options.pac"), expose_value=False)
@click.option("--config", "config_path", metavar="FILE", help="TOML policy (thresholds).",
              callback=into("config_path"), expose_value=False)
@click.option("--lang", type=click.Choice(["fr", "en"]), default=None,
              help="Language of the output (default: from the system locale).",
              callback=lambda ctx, param, value: into("lang")(ctx, param, value or detect_lang()), expose_value=False)
@click.option("--server", metavar="URL", help="Supervisor server to upload the report to.",
              callback=into("server"), expose_value=False)
@click.option("--room", metavar="CODE", help="Enrolment code of the room (with --server).",
              callback=into("room"), expose_value=False)
@click.option("--ca-file", metavar="FILE", help="CA certificate(s) that sign the supervisor server's HTTPS certificate.",
              callback=into("ca_file"), expose_value=False)
@click.option("--gui", is_flag=True, help="Show the report in a window instead of the terminal.",
              callback=into("gui"), expose_value=False)
@click.pass_obj
def check(request: CheckRequest) -> None:
    """Run the crash test on this machine and print a readable report."""
    from agent.commands import check_command

    sys.exit(check_command(request))


def _add_area_commands() -> None:
    from agent.merge import report
    from companion.cli import companion
    from supervisor.cli import room, serve
    from supervisor.cli_rooms import delete as room_delete, settings as room_settings
    from supervisor.cli_users import user
    from whitelist.cli import whitelist

    room.add_command(room_settings)
    room.add_command(room_delete)

    for command in (whitelist, report, serve, room, user, companion):
        cli.add_command(command)


_add_area_commands()


def main() -> None:
    from agent.clihelp import localize

    localize(cli, detect_lang())   # --help in the system's language (and check's exit codes)
    try:
        cli.main(prog_name="examroom")
    except KeyboardInterrupt:
        click.echo(t("cli.interrupted", detect_lang()), err=True)
        sys.exit(ExitCode.INTERRUPTED)
