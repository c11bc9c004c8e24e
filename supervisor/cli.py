"""``examroom serve``, ``examroom room create`` and ``examroom room list``.

Facts read: the flags, ``EXAMROOM_ADMIN_PASSWORD`` (or ``--admin-password-file``, or a
prompt), the certificate and key files, the
database file. Bad input (unreadable certificate, unusable database, busy port, no admin
password on a fresh database) is one line and exit code 2, before anything starts.
"""
from __future__ import annotations

import asyncio
import os
import re
import socket
import sqlite3
import ssl
import sys
from pathlib import Path

import click

from core.i18n import detect_lang, join_list, t
from core.errors import BadInput
from core.kinds import KindsError, kinds
from core.roomsettings import DEFAULT_EXAM_TITLE, RoomSettings
from core.oserror import describe
from supervisor.dburl import DbTarget, open_store, parse_db
from supervisor.passwords import read_password_file, require_strong
from supervisor.slowguard import BODY_IDLE_S, BODY_TIMEOUT_S, HEADER_TIMEOUT_S, MAX_PER_ADDRESS, guarded_protocol
from supervisor.runtime import RuntimeFile, running_servers, server_home, uses
from supervisor.store import Store


def _open(db: str | None, lang: str) -> tuple[Store, DbTarget]:
    """The store ``--db`` names (a path or a URL, supervisor/dburl.py), or one line and exit 2."""
    target = parse_db(db)
    try:
        if target.kind == "sqlite":
            private_db_files(target.path)
        store = open_store(target)
        asyncio.run(_reachable(store))
        return store, target
    except (sqlite3.Error, OSError) as exc:
        raise BadInput(t("server.db_unusable", lang, reason=exc), target.shown(),
                       t("server.db_unusable.hint", lang)) from None
    except BadInput:
        raise
    except Exception as exc:  # the backend's own errors (psycopg.OperationalError...): one line
        if target.kind != "postgresql":
            raise
        raise BadInput(t("server.db_pg_unusable", lang, reason=_first_line(exc)), target.shown(),
                       t("server.db_pg_unusable.hint", lang)) from None


async def _reachable(store: Store) -> None:
    await store.start()
    await store.close()


async def _has_admin(store: Store) -> bool:
    await store.start()
    try:
        return await store.admin_hash() is not None
    finally:
        await store.close()


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def private_db_files(path: Path) -> None:
    """The database holds password hashes and every candidate's events: readable by the
    server's account only. SQLite gives its -wal and -shm files the mode of the database
    file, so creating it 0600 (and tightening an older one) covers all three."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for suffix in ("", "-wal", "-shm", "-journal"):
        candidate = Path(f"{path}{suffix}")
        if candidate.exists() and os.name == "posix":
            os.chmod(candidate, 0o600)


def _admin_password(given: str | None, password_file: str | None, store: Store, reset: bool, lang: str) -> str | None:
    """The admin password from the flag/env, a file or a prompt; checked when it will be stored."""
    source = click.get_current_context().get_parameter_source("admin_password")
    if given and source == click.core.ParameterSource.COMMANDLINE:
        click.echo(t("server.admin_password_argv", lang), err=True)
    password = read_password_file(password_file, lang) if password_file else given
    will_store = reset or not asyncio.run(_has_admin(store))
    if not password and will_store and sys.stdin.isatty():
        password = click.prompt(t("server.admin_password_prompt", lang), hide_input=True,
                                confirmation_prompt=True, err=True)
    if password and will_store:
        where = ("--admin-password-file" if password_file else "EXAMROOM_ADMIN_PASSWORD"
                 if source == click.core.ParameterSource.ENVIRONMENT else "--admin-password")
        require_strong(password, where, lang)
    return password


def _check_tls(cert: str | None, key: str | None, lang: str) -> None:
    if bool(cert) != bool(key):
        raise BadInput(t("server.cert_and_key", lang), "--cert/--key", t("server.cert_and_key.hint", lang))
    if cert and key:
        try:
            ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
        except (OSError, ssl.SSLError) as exc:
            reason = exc if isinstance(exc, ssl.SSLError) else describe(exc, lang)
            raise BadInput(t("server.file_unreadable", lang, reason=reason), f"{cert} / {key}",
                           t("server.file_unreadable.hint", lang)) from None


def _self_signed(wanted: bool, cert: str | None, lang: str) -> bool:
    if wanted and cert:
        raise BadInput(t("server.self_signed_with_cert", lang), "--self-signed",
                       t("server.self_signed_with_cert.hint", lang))
    return wanted


def _own_certificate(lang: str):
    from supervisor import selfsigned

    try:
        return selfsigned.ensure(server_home() / "tls")
    except OSError as exc:
        raise BadInput(t("server.self_signed_unwritable", lang, reason=describe(exc, lang)),
                       str(server_home() / "tls"), t("server.self_signed_unwritable.hint", lang)) from None


def _loopback(host: str) -> bool:
    """Whether only this machine can reach the address (no candidate on the network can read it)."""
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _check_port(host: str, port: int, lang: str) -> None:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        with socket.socket(infos[0][0], socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(infos[0][4])
    except OSError as exc:
        raise BadInput(t("server.port_busy", lang, host=host, port=port, reason=describe(exc, lang)),
                       "--host/--port", t("server.port_busy.hint", lang)) from None


def _audit_to_stderr() -> None:
    """Who did what to accounts and machines (supervisor/routes_admin.py, credentials.py): one
    line each on the server's output, beside uvicorn's, for the school's records."""
    import logging

    audit = logging.getLogger("examroom.audit")
    if not audit.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s examroom: %(message)s"))
        audit.addHandler(handler)
        audit.setLevel(logging.INFO)
        audit.propagate = False


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0: every interface).")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(1, 65535))
@click.option("--db", metavar="PATH|URL", help="SQLite file (a path or sqlite:///PATH; default: in the server's "
              "data folder) or postgresql://USER@HOST:PORT/DB (password from PGPASSWORD or ~/.pgpass).")
@click.option("--admin-password", envvar="EXAMROOM_ADMIN_PASSWORD",
              help="Admin password on the first start (or env EXAMROOM_ADMIN_PASSWORD); later, the stored one wins.")
@click.option("--admin-password-file", metavar="FILE",
              help="Read the admin password from the first line of FILE (not visible in the process list).")
@click.option("--reset-admin-password", is_flag=True, help="Replace the stored admin password by the one given.")
@click.option("--cert", metavar="FILE", help="HTTPS certificate (PEM), with --key.")
@click.option("--key", metavar="FILE", help="Private key of the HTTPS certificate (PEM).")
@click.option("--self-signed", is_flag=True,
              help="Serve HTTPS with a certificate of the server's own, made once in its data folder "
                   "(machines then use --ca-file with a copy of it).")
@click.option("--room-heartbeat", type=click.FloatRange(min=0.2, max=600), default=2.0, show_default=True,
              metavar="SECONDS", help="Seconds between two heartbeats of every companion (the room's setting).")
@click.option("--room-lost-after", type=click.FloatRange(min=1, max=3600), default=None, metavar="SECONDS",
              help="Silence after which a companion is lost (default: 3 heartbeats, at least 6 s).")
@click.option("--room-exam-title", metavar="REGEX", default=DEFAULT_EXAM_TITLE, show_default=True,
              help="Pattern of the exam window's title every companion must use.")
@click.option("--room-platform-url", metavar="URL", default=None,
              help="Exam platform every companion must watch (default: any).")
@click.option("--lang", type=click.Choice(["fr", "en"]), default=None, help="Language of the messages.")
@click.option("--session-hours", type=click.FloatRange(0.0005, 24 * 7), default=12.0, show_default=True,
              help="How long a supervisor's login lasts.")
@click.option("--machine-token-days", type=click.FloatRange(0.00002, 3650), default=30.0, show_default=True,
              help="How long a machine token lasts; agents and companions renew theirs before it ends.")
@click.option("--header-timeout", type=click.FloatRange(0.5, 600), default=HEADER_TIMEOUT_S, show_default=True,
              help="Seconds a client has to send a request's headers.")
@click.option("--body-timeout", type=click.FloatRange(0.5, 3600), default=BODY_TIMEOUT_S, show_default=True,
              help="Seconds a client has to send a request's body (and at most 5 s between two parts).")
@click.option("--max-connections-per-address", type=click.IntRange(1, 100_000), default=MAX_PER_ADDRESS,
              show_default=True, help="Open connections allowed from one address.")
@click.option("--machine-quota-mb", type=click.FloatRange(0.001, 1_000_000), default=64.0, show_default=True,
              help="Megabytes the server keeps at most per machine (its reports and events).")
@click.option("--sse-keepalive", type=click.FloatRange(0.2, 600), default=15.0, hidden=True)
def serve(host, port, db, admin_password, admin_password_file, reset_admin_password, cert, key, self_signed, room_heartbeat,
          room_lost_after, room_exam_title, room_platform_url, lang, session_hours, header_timeout, body_timeout,
          max_connections_per_address, machine_quota_mb, sse_keepalive, machine_token_days) -> None:
    """Run the supervisor server and its dashboard."""
    import uvicorn

    from supervisor.app import Settings, create_app

    lang = lang or detect_lang()
    wants_own = _self_signed(self_signed, cert, lang)
    _check_tls(cert, key, lang)
    own = _own_certificate(lang) if wants_own else None
    if own is not None:
        cert, key = str(own.cert), str(own.key)
    store, target = _open(db, lang)
    admin_password = _admin_password(admin_password, admin_password_file, store, reset_admin_password, lang)
    try:
        re.compile(room_exam_title)
    except re.error as exc:
        raise BadInput(t("companion.bad_regex", lang, detail=exc), "--room-exam-title",
                       t("companion.bad_regex.hint", lang)) from None
    try:   # EXAMROOM_KINDS: a centre's kinds spec, checked now rather than at the first event
        kinds()
    except KindsError as exc:
        raise BadInput(t("server.bad_kinds", lang, detail=exc), None, t("server.bad_kinds.hint", lang)) from None
    lost_after = room_lost_after or max(6.0, 3 * room_heartbeat)
    room_settings = RoomSettings(heartbeat_s=room_heartbeat, lost_after_s=lost_after, exam_title=room_exam_title,
                                 platform_url=room_platform_url)
    _audit_to_stderr()
    app = create_app(Settings(store=store, admin_password=admin_password,
                              reset_admin_password=reset_admin_password, lang=lang,
                              session_hours=session_hours, keepalive_s=sse_keepalive, room=room_settings,
                              machine_token_days=machine_token_days,
                              own_certificate=own,
                              machine_quota_bytes=int(machine_quota_mb * (1 << 20))))
    state = app.state.admin_state
    if state in ("set", "reset", "differs"):
        click.echo(t(f"server.admin_password_{state}", lang), err=True)
    _check_port(host, port, lang)
    scheme = "https" if cert else "http"
    shown = f"[{host}]" if ":" in host else host
    url = f"{scheme}://{shown}:{port}/"
    click.echo(t("server.listening", lang, url=url, db=target.shown()), err=True)
    if own is not None:
        click.echo(t("server.self_signed_ready", lang, cert=own.cert, fingerprint=own.fingerprint), err=True)
        if own.made:
            click.echo(t("server.self_signed_new", lang), err=True)
    elif not cert and not _loopback(host):
        click.echo(t("server.plain_http_network", lang, host=host), err=True)
    # The database writer thread hands the GIL back and forth with the event loop at every
    # SQLite call; at the default 5 ms switch interval a busy loop makes each handoff wait,
    # and a batch of writes waits tens of milliseconds (bench/ingest.py).
    sys.setswitchinterval(0.0002)
    protocol = guarded_protocol(header_timeout=header_timeout, body_timeout=body_timeout,
                                body_idle=min(BODY_IDLE_S, body_timeout), max_per_address=max_connections_per_address)
    config = uvicorn.Config(app, host=host, port=port, ssl_certfile=cert, ssl_keyfile=key, log_level="warning",
                            access_log=False, timeout_graceful_shutdown=3, http=protocol)
    # tells `examroom room create` on this machine which database this server uses (supervisor/runtime.py)
    runtime = RuntimeFile(url, target.shown())
    try:
        _server_class()(config, app.state.server.hub, runtime).run()
    finally:
        runtime.remove()


def _server_class():
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn, plus: on Ctrl+C / SIGTERM the dashboards' streams end at once (their
        EventSource reconnects to the next server), instead of holding the shutdown."""

        def __init__(self, config, hub, runtime: RuntimeFile) -> None:
            super().__init__(config)
            self.hub, self.runtime = hub, runtime
            self.loop = None

        async def serve(self, sockets=None) -> None:
            self.loop = asyncio.get_running_loop()
            await super().serve(sockets)

        def handle_exit(self, sig, frame) -> None:
            # now: uvicorn re-raises the signal once stopped, which ends the process before any finally
            self.runtime.remove()
            if self.loop is not None:
                self.loop.call_soon_threadsafe(self.hub.close_all)
            super().handle_exit(sig, frame)

    return Server


@click.group()
def room() -> None:
    """Manage rooms on the server's database."""


# A room's own companion settings (supervisor/roomadmin.py): flag -> field of core/roomsettings.py.
SETTING_FLAGS = {"heartbeat": "heartbeat_s", "lost_after": "lost_after_s", "exam_title": "exam_title",
                 "platform_url": "platform_url"}


def settings_options(command):
    """The options of a room's own settings (``room create`` and ``room settings``)."""
    for option in reversed((
        click.option("--heartbeat", type=float, default=None, metavar="SECONDS",
                     help="This room's seconds between two heartbeats (default: the server's --room-heartbeat)."),
        click.option("--lost-after", type=float, default=None, metavar="SECONDS",
                     help="This room's silence after which a companion is lost (default: the server's, or 3 heartbeats)."),
        click.option("--exam-title", default=None, metavar="REGEX",
                     help="This room's pattern of the exam window's title (default: the server's --room-exam-title)."),
        click.option("--platform-url", default=None, metavar="URL",
                     help="This room's exam platform (default: the server's --room-platform-url)."),
    )):
        command = option(command)
    return command


def checked_settings(own: dict, lang: str) -> dict:
    """A room's own settings checked as the server checks them, or one line and exit 2 naming the flag."""
    from core.roomsettings import SettingsProblem, checked

    try:
        return checked(own, RoomSettings())
    except SettingsProblem as exc:
        flag = next((f for f, field in SETTING_FLAGS.items() if field == exc.field), exc.field)
        raise BadInput(exc.text(lang), "--" + flag.replace("_", "-"),
                       t("server.room_settings.hint", lang)) from None


@room.command()
@click.argument("name")
@settings_options
@click.option("--db", metavar="PATH|URL", help="The server's database, as for 'examroom serve --db' "
              "(default: the SQLite file in the server's data folder).")
@click.option("--lang", type=click.Choice(["fr", "en"]), default=None, help="Language of the messages.")
def create(name, heartbeat, lost_after, exam_title, platform_url, db, lang) -> None:
    """Create a room and print its enrolment code."""
    lang = lang or detect_lang()
    name = name.strip()
    if not name or len(name) > 120:
        raise BadInput(t("server.room_name_empty", lang), "NAME", t("server.room_name_empty.hint", lang))
    flags = {"heartbeat": heartbeat, "lost_after": lost_after, "exam_title": exam_title, "platform_url": platform_url}
    own = checked_settings({SETTING_FLAGS[k]: v for k, v in flags.items() if v is not None}, lang)
    store, _target = _open(_room_db(db, lang), lang)
    created = asyncio.run(_create_room(store, name, own))
    click.echo(t("server.room_created", lang, name=created["name"], code=created["code"]), err=True)
    click.echo(t("server.room_created.next", lang, code=created["code"]), err=True)
    click.echo(created["code"])


async def _create_room(store: Store, name: str, own: dict | None = None) -> dict:
    from supervisor import roomadmin
    from supervisor.live import Hub
    from supervisor.service import Server
    from supervisor.watchdog import Liveness

    await store.start()
    try:  # the service draws the code (the same rule as POST /rooms)
        created = await Server(store, Hub(), Liveness()).create_room(name)
        if own:
            await roomadmin.save_own_settings(store, created["code"], own, RoomSettings(), "cli")
        return created
    finally:
        await store.close()


@room.command("list")
@click.option("--db", metavar="PATH|URL", help="The server's database, as for 'examroom serve --db' "
              "(default: the running server's, else the SQLite file in the server's data folder).")
@click.option("--lang", type=click.Choice(["fr", "en"]), default=None, help="Language of the messages.")
def list_rooms(db, lang) -> None:
    """List the rooms of the server's database: code, name, machines, ready, open alerts."""
    from core.i18n import fmt_datetime

    lang = lang or detect_lang()
    store, target = _open(_room_db(db, lang), lang)
    rooms = asyncio.run(_rooms(store))
    if not rooms:
        click.echo(t("server.room_list.empty", lang, db=target.shown()), err=True)
        return
    header = [t(f"server.room_list.{c}", lang) for c in ("code", "name", "machines", "ready", "alerts", "created")]
    rows = [[r["code"], r["name"], str(r["machines"]), str(r["ready"]), str(r["alerts"]),
             fmt_datetime(r["created_at"], lang)] for r in rooms]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())


async def _rooms(store: Store) -> list[dict]:
    await store.start()
    try:
        return await store.rooms()
    finally:
        await store.close()


def _room_db(db: str | None, lang: str) -> str | None:
    """The database the room commands use: --db, else the running server's (supervisor/runtime.py).

    Says on stderr which running server's database it took, or that --db is not the one a
    running server shows on its dashboard."""
    servers = running_servers()
    if db is not None:
        asked = parse_db(db).shown()
        if servers and not any(uses(s, asked) for s in servers):
            for s in servers:
                click.echo(t("server.room_db_elsewhere", lang, url=s.url, running=s.db, db=asked), err=True)
        return db
    if not servers:
        return None
    default = parse_db(None).shown()
    dbs = {s.db for s in servers}
    if len(dbs) > 1:
        if any(uses(s, default) for s in servers):
            return None
        listed = join_list((f"{s.url} ({s.db})" for s in servers), lang)
        raise BadInput.keyed("server.room_db_ambiguous", "--db", "server.room_db_ambiguous.hint", servers=listed)
    server = servers[0]
    if ":***@" in server.db:   # the runtime file never holds a password: it must come from --db
        raise BadInput.keyed("server.room_db_password", "--db", "server.room_db_ambiguous.hint", url=server.url)
    if not uses(server, default):
        click.echo(t("server.room_db_running", lang, url=server.url, db=server.db), err=True)
    return server.db
