"""``examroom room settings CODE`` and ``examroom room delete CODE``: administer a room on the
server's database (supervisor/roomadmin.py holds the rules; the dashboard and the API do the same).

Facts read: the flags, the database (``--db``, else the running server's: supervisor/cli.py).
A running server takes a change within a few seconds (roomadmin.REFRESH_S), no restart. Bad
input (unknown room, a wrong setting, no ``--yes``, a room in use without ``--force``, an
archive file that cannot be written) is one line and exit code 2.
"""
from __future__ import annotations

import asyncio
import json
from pathlib import Path

import click

from core.errors import BadInput
from core.i18n import detect_lang, t
from core.oserror import describe
from core.roomsettings import FIELDS, RoomSettings, effective
from supervisor.cli import SETTING_FLAGS, _open, _room_db, checked_settings, settings_options
from supervisor.store import Store, normalize_code


async def _run(store: Store, action):
    await store.start()
    try:
        return await action()
    finally:
        await store.close()


def _room_or_exit(found: dict | None, code: str, lang: str) -> dict:
    if found is None:
        raise BadInput(t("server.room_unknown", lang, code=code), "CODE", t("server.room_unknown.hint", lang))
    return found


@click.command("settings")
@click.argument("code")
@settings_options
@click.option("--reset", is_flag=True, help="Forget this room's own settings first (back to the server's).")
@click.option("--db", metavar="PATH|URL", help="The server's database, as for 'examroom serve --db'.")
@click.option("--lang", type=click.Choice(["fr", "en"]), default=None, help="Language of the messages.")
def settings(code, heartbeat, lost_after, exam_title, platform_url, reset, db, lang) -> None:
    """Show or change a room's companion settings (heartbeat, lost timeout, exam title, platform)."""
    from supervisor import roomadmin

    lang = lang or detect_lang()
    code = normalize_code(code)
    flags = {"heartbeat": heartbeat, "lost_after": lost_after, "exam_title": exam_title, "platform_url": platform_url}
    changes = {SETTING_FLAGS[k]: v for k, v in flags.items() if v is not None}
    store, _target = _open(_room_db(db, lang), lang)

    async def act() -> tuple[dict | None, dict, bool]:
        room = await store.room(code)
        if room is None:
            return None, {}, False
        own = {} if reset else await roomadmin.own_settings(store, code)
        if not changes and not reset:
            return room, own, False
        own = checked_settings({**own, **changes}, lang)
        await roomadmin.save_own_settings(store, code, own, RoomSettings(), "cli")
        return room, own, True

    room, own, changed = asyncio.run(_run(store, act))
    room = _room_or_exit(room, code, lang)
    if changed:
        click.echo(t("server.room_settings.saved", lang, code=code, name=room["name"]), err=True)
    shown = effective(RoomSettings(), own)
    for field in FIELDS:
        flag = "--" + next(f for f, name in SETTING_FLAGS.items() if name == field).replace("_", "-")
        if field in own:
            value = f"{own[field]}  ({t('server.room_settings.own', lang)})"
        elif field == "lost_after_s" and "heartbeat_s" in own:
            value = f"{shown.lost_after_s}  ({t('server.room_settings.derived', lang)})"
        else:
            value = t("server.room_settings.server", lang, flag=flag.replace("--", "--room-"))
        click.echo(f"{field:<14}{value}")


@click.command("delete")
@click.argument("code")
@click.option("--yes", is_flag=True, help="Confirm the deletion (its machines must enrol in another room).")
@click.option("--force", is_flag=True, help="Delete even if the room received reports or events in the last 24 hours.")
@click.option("--archive", "archive_path", metavar="FILE",
              help="First write everything the room recorded (reports, events, PV edits) to FILE (JSON).")
@click.option("--db", metavar="PATH|URL", help="The server's database, as for 'examroom serve --db'.")
@click.option("--lang", type=click.Choice(["fr", "en"]), default=None, help="Language of the messages.")
def delete(code, yes, force, archive_path, db, lang) -> None:
    """Delete a room: its machines' tokens are revoked; its reports and events are kept."""
    from supervisor import roomadmin
    from supervisor.live import Hub
    from supervisor.service import Server
    from supervisor.watchdog import Liveness

    lang = lang or detect_lang()
    code = normalize_code(code)
    store, _target = _open(_room_db(db, lang), lang)

    async def act() -> dict:
        room = _room_or_exit(await store.room(code), code, lang)
        if not yes:
            raise BadInput(t("server.room_delete.confirm", lang, code=code, name=room["name"]), "--yes",
                           t("server.room_delete.confirm.hint", lang))
        activity = await store.room_activity(code)
        if roomadmin.is_active(activity) and not force:
            raise BadInput(t("server.room_delete.active", lang, code=code, reports=activity["reports"],
                             events=activity["events"], at=activity["last_received_at"]), "--force",
                           t("server.room_delete.active.hint", lang))
        if archive_path:
            _write_archive(Path(archive_path), await roomadmin.archive(store, code), lang)
        machines = len(await store.machines(code))
        done = await Server(store, Hub(), Liveness()).delete_room(room, "cli", force=force)
        return {**done, "machines": machines}

    done = asyncio.run(_run(store, act))
    if archive_path:
        click.echo(t("server.room_delete.archived", lang, path=archive_path), err=True)
    click.echo(t("server.room_delete.done", lang, code=code, name=done["name"], machines=done["machines"],
                 reports=done["reports"], events=done["events"]), err=True)


def _write_archive(path: Path, archive: dict | None, lang: str) -> None:
    """Written whole to a temporary file, then renamed: a half-written archive is never left."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".part")
        partial.write_text(json.dumps(archive, ensure_ascii=False, indent=1), encoding="utf-8")
        partial.replace(path)
    except OSError as exc:
        raise BadInput(t("server.file_unwritable", lang, reason=describe(exc, lang)), str(path),
                       t("server.room_delete.archive.hint", lang)) from None
