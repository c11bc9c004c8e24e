"""``examroom companion``: exam-time mode (CONTRACT section 6).

Enrols if needed, then watches focus, forbidden software and connectivity, sends
heartbeats and events, until SIGTERM or Ctrl-C (which send ``companion_stopped`` and exit 0).
A server that is down at start is not an error: events are kept in the outbox and sent when
it is back. A server that refuses the room code is bad input (exit 2).
"""
from __future__ import annotations

import logging
import re
import signal
import sys
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import click

from core.i18n import detect_lang, t
from core.errors import BadInput
from core.exitcodes import ExitCode
from companion.focus import DEFAULT_EXAM_TITLE

log = logging.getLogger("examroom.companion")


def _url(value: str | None, option: str, lang: str) -> str | None:
    if value is None:
        return None
    parts = urlparse(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BadInput(t("companion.bad_url", lang, option=option, value=value), option,
                       t("companion.bad_url.hint", lang))
    return value


@click.group(invoke_without_command=True)
@click.option("--server", metavar="URL", help="Supervisor server URL.")
@click.option("--room", metavar="CODE", help="Enrolment code of the room.")
@click.option("--platform-url", metavar="URL", default="https://app.pix.fr/", show_default=True,
              help="Exam platform whose reachability is watched.")
@click.option("--exam-title", metavar="REGEX", default=DEFAULT_EXAM_TITLE, show_default=True,
              help="Pattern of the exam window's title (case-insensitive); the window must be a web browser's.")
@click.option("--heartbeat", type=click.FloatRange(min=0.2, max=600), default=2.0, show_default=True,
              metavar="SECONDS", help="Seconds between heartbeats.")
@click.option("--no-window", is_flag=True, help="Run without the candidate's status window.")
@click.option("--ca-file", metavar="FILE", help="CA certificate(s) that sign the server's HTTPS certificate.")
@click.option("--local-port", type=click.IntRange(0, 65535), default=None, metavar="PORT",
              help="Port of the local endpoint for the exam page on 127.0.0.1 (default 47615; 0 = any).")
@click.option("--allowed-origin", "allowed_origins", multiple=True, metavar="ORIGIN",
              help="Web origin allowed to call the local endpoint (repeatable; default: Pix's).")
@click.option("--net-interval", type=click.FloatRange(min=0.1, max=600), default=3.0, show_default=True,
              metavar="SECONDS", help="Seconds between two probes of the platform URL.")
# 0.5 s: a new program is seen within 0.25 s (median) after it starts; between two full scans
# only new pids are read (companion/processes.py ProcessLister), so this costs little CPU
@click.option("--process-interval", type=click.FloatRange(min=0.1, max=600), default=0.5, show_default=True,
              metavar="SECONDS", help="Seconds between two scans of the running programs.")
@click.option("--policy", "policy_file", metavar="FILE", default=None,
              help="The centre's classification policy (TOML, tried before the bundled one: "
                   "companion/data/policy.toml).")
@click.option("--lang", type=click.Choice(["fr", "en"]), default=None, help="Language of the texts.")
@click.option("-v", "--verbose", is_flag=True, help="Log every event on stderr.")
@click.pass_context
def companion(ctx, server, room, platform_url, exam_title, heartbeat, no_window, ca_file, local_port,
              allowed_origins, net_interval, process_interval, policy_file, lang, verbose) -> None:
    """Exam-time mode: heartbeats, focus, software and connectivity watch."""
    if ctx.invoked_subcommand is not None:
        return
    for value, option in ((server, "--server"), (room, "--room")):
        if not value:
            raise click.UsageError(f"Missing option '{option}'.", ctx)
    lang = lang or detect_lang()
    try:
        re.compile(exam_title)
    except re.error as exc:
        raise BadInput(t("companion.bad_regex", lang, detail=exc), "--exam-title", t("companion.bad_regex.hint", lang))
    _url(server, "--server", lang)
    _url(platform_url, "--platform-url", lang)
    for origin in allowed_origins:   # an origin is scheme://host[:port], nothing after it
        parts = urlparse(origin)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
            raise BadInput(t("companion.bad_url", lang, option="--allowed-origin", value=origin), "--allowed-origin",
                           t("companion.bad_url.hint", lang))
    from companion.classify import Policy

    # a bad policy is bad input now (exit 2, FILE:LINE), not a surprise during the exam
    policy = Policy.load(Path(policy_file) if policy_file else None, platform_url=platform_url)
    # a missing --ca-file is reported by ApiClient, in the user's language
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    sys.exit(run(server=server, room=room, platform_url=platform_url, exam_title=exam_title,
                 heartbeat=heartbeat, window=not no_window, ca_file=ca_file, local_port=local_port,
                 allowed_origins=tuple(allowed_origins), lang=lang, net_interval=net_interval,
                 process_interval=process_interval, policy=policy))


def run(*, server: str, room: str, platform_url: str | None, exam_title: str, heartbeat: float,
        window: bool, ca_file: str | None, local_port: int | None, allowed_origins: tuple[str, ...],
        lang: str, net_interval: float = 3.0, process_interval: float = 0.5, policy: Any = None) -> int:
    from agent.client import ApiClient, ServerRefused, ServerUnreachable
    from agent.machine import describe_machine
    from core.host import Host
    from companion.localapi import DEFAULT_ORIGINS, DEFAULT_PORT, LocalApi
    from companion.network import system_proxy
    from companion.session import CompanionConfig, Session

    host = Host.current()
    client = ApiClient(server, ca_file=ca_file, lang=lang)
    machine = describe_machine(host)
    try:
        client.ensure_enrolled(room, machine)
    except ServerRefused as exc:
        raise BadInput(t("companion.refused", lang, room=room, detail=exc), "--room", t("companion.refused.hint", lang))
    except ServerUnreachable:
        click.echo(t("companion.server_unreachable", lang), err=True)

    config = CompanionConfig(server=server, room=room, platform_url=platform_url, exam_title=exam_title,
                             heartbeat_s=heartbeat, ca_file=ca_file, lang=lang, net_interval_s=net_interval,
                             process_interval_s=process_interval, policy=policy)
    session = Session(config, client=client, machine=machine, focus_watcher=_focus_watcher(host, lang),
                      os_name=host.os, heartbeat_client=ApiClient(server, ca_file=ca_file, lang=lang),
                      proxy_for=system_proxy(host))

    stopping: dict[str, str] = {}
    done = threading.Event()

    def on_signal(signum, _frame) -> None:
        stopping.setdefault("reason", "sigterm" if signum == signal.SIGTERM else "interrupt")
        done.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if hasattr(signal, "SIGBREAK"):  # Windows console close / Ctrl-Break
        signal.signal(signal.SIGBREAK, on_signal)

    session.start()
    api = None
    port = DEFAULT_PORT if local_port is None else local_port
    try:
        from companion.window import status_texts

        api = LocalApi(session, port=port, origins=allowed_origins or DEFAULT_ORIGINS,
                       status=lambda: status_texts(session, lang))
        api.start()
    except OSError as exc:  # another companion or program holds the port: watch on anyway
        click.echo(t("companion.localapi_unavailable", lang, port=port, detail=exc), err=True)
    win = None
    if window and api is not None:
        from companion.window import start_window

        win = start_window(port=api.port, token=api.token, room=room, lang=lang)
        if win is not None:
            session.own_pids.add(win.pid)
    watcher = session.focus_watcher.name if session.focus_watcher else "-"
    click.echo(t("companion.started", lang, room=room, watcher=watcher), err=True)
    if api is not None:
        log.info("local endpoint on http://127.0.0.1:%d", api.port)

    while not done.wait(0.5):  # a timed wait: signals are handled promptly on every OS
        win = window_gone(win, session)
    session.stop(stopping.get("reason", "stopped"))
    if api is not None:
        api.close()
    if win is not None:
        win.terminate()
        try:
            win.wait(3)
        except Exception:
            win.kill()
    click.echo(t("companion.stopped", lang, pending=session.status.pending), err=True)
    return ExitCode.OK


def window_gone(win, session):
    """The status window's process ended while the companion runs (closed by the candidate,
    crashed): one ``status_window_closed`` event for the supervisor, and no more checks."""
    if win is None or win.poll() is None:
        return win
    from core.events import event

    session.record(event("status_window_closed", returncode=win.returncode))
    return None


def _focus_watcher(host, lang: str):
    from companion.focus import make_watcher

    display = host.getenv("DISPLAY")
    if host.os == "linux" and (host.getenv("WAYLAND_DISPLAY") or host.getenv("XDG_SESSION_TYPE") == "wayland"):
        # under Wayland, DISPLAY is XWayland: native Wayland windows (Firefox's default there)
        # never show as _NET_ACTIVE_WINDOW, so the exam would look "left" all session long
        click.echo(t("companion.no_focus_watch", lang, detail=t("companion.wayland", lang)), err=True)
        return None
    try:
        watcher = make_watcher(host.os, display)
        if watcher is not None and watcher.name == "x11":
            from Xlib import display as xdisplay

            xdisplay.Display(display).close()   # fail now, with a clear line, not in a thread
        if watcher is None:
            click.echo(t("companion.no_focus_watch", lang, detail="no display"), err=True)
        return watcher
    except Exception as exc:
        click.echo(t("companion.no_focus_watch", lang, detail=exc), err=True)
        return None


@companion.command("extension-path")
@click.option("--browser", "family", type=click.Choice(["chromium", "firefox"]), required=True,
              help="Browser family: chromium (Chrome, Edge, Chromium) or firefox.")
def extension_path(family: str) -> None:
    """Print the folder of the unpacked examroom browser extension (it holds manifest.json)."""
    from companion.hostinstall import extension_dir

    click.echo(str(extension_dir(family)))


@companion.command("install-browser-host")
@click.option("--system", is_flag=True, help="For every user of this machine (needs administrator rights).")
@click.option("--user-data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Only for the Chromium profile in this folder (as given to --user-data-dir).")
@click.option("--lang", type=click.Choice(["fr", "en"]), default=None, help="Language of the texts.")
def install_browser_host(system: bool, user_data_dir: Path | None, lang: str | None) -> None:
    """Install the native messaging host the examroom extension talks to (Chrome, Edge, Chromium, Firefox)."""
    from core.state import state_dir
    from core.host import Host
    from companion.hostinstall import install

    lang = lang or detect_lang()
    host = Host.current()
    try:
        written = install(host.os, Path.home(), state_dir() / "native-host", system=system,
                          user_data_dir=user_data_dir)
    except OSError as exc:
        raise BadInput(t("companion.host_install_failed", lang, detail=exc), "install-browser-host",
                       t("companion.host_install_failed.hint", lang))
    for path in written:
        click.echo(t("companion.host_installed", lang, path=path))
