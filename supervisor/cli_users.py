"""``examroom user add|list|remove``: named supervisor accounts on the server's database.

Facts read: the flags, the password (``EXAMROOM_USER_PASSWORD``, ``--password-file`` or a
prompt; never a flag, which every local user could read in the process list), the database.
Bad input (weak password, unknown role or room, a name taken) is one line and exit code 2.
"""
from __future__ import annotations

import asyncio
import os
import sys

import click

from core.i18n import detect_lang, t
from core.errors import BadInput
from supervisor import accounts
from supervisor.auth import hash_password
from supervisor.passwords import read_password_file, require_strong


@click.group()
def user() -> None:
    """Manage the supervisor accounts (admin, technician, supervisor of one room)."""


def _store(db: str | None, lang: str):
    from supervisor.cli import _open, _room_db

    return _open(_room_db(db, lang), lang)[0]


async def _run(store, action):
    await store.start()
    try:
        return await action()
    finally:
        await store.close()


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(accounts.ROLES), required=True,
              help="admin: rooms and accounts; technician: readiness and commands; supervisor: one room's live view and PV.")
@click.option("--room", "room_code", metavar="CODE", help="The room of a supervisor account.")
@click.option("--password-file", metavar="FILE", help="Read the password from the first line of FILE "
              "(else env EXAMROOM_USER_PASSWORD, else a prompt).")
@click.option("--db", metavar="PATH|URL", help="The server's database, as for 'examroom serve --db'.")
@click.option("--lang", type=click.Choice(["fr", "en"]), default=None, help="Language of the messages.")
def add(name, role, room_code, password_file, db, lang) -> None:
    """Create a named account; the journal and the PV then say who did what."""
    lang = lang or detect_lang()
    password = _password(name, password_file, lang)
    store = _store(db, lang)
    hashed = hash_password(password)
    try:
        created = asyncio.run(_run(store, lambda: accounts.add(store, name, role, room_code, hashed, "cli")))
    except ValueError as exc:
        raise BadInput(str(exc), name, t("server.user_bad.hint", lang)) from None
    click.echo(t("server.user_created", lang, name=created["username"], role=created["role"]), err=True)


def _password(name: str, password_file: str | None, lang: str) -> str:
    """The new password: --password-file, else EXAMROOM_USER_PASSWORD, else a prompt; checked."""
    if password_file:
        password = read_password_file(password_file, lang)
    elif os.environ.get("EXAMROOM_USER_PASSWORD"):
        password = os.environ["EXAMROOM_USER_PASSWORD"]
    elif sys.stdin.isatty():
        password = click.prompt(t("server.user_password_prompt", lang, name=name), hide_input=True,
                                confirmation_prompt=True, err=True)
    else:
        raise BadInput(t("server.user_no_password", lang), "--password-file", t("server.password_file.hint", lang))
    require_strong(password, "--password-file" if password_file else "EXAMROOM_USER_PASSWORD", lang)
    return password


@user.command("change")
@click.argument("name")
@click.option("--role", type=click.Choice(accounts.ROLES), help="The account's new role.")
@click.option("--room", "room_code", metavar="CODE", help="The room of a supervisor account.")
@click.option("--new-password", is_flag=True, help="Set a new password (from --password-file, else env "
              "EXAMROOM_USER_PASSWORD, else a prompt).")
@click.option("--password-file", metavar="FILE", help="Read the new password from the first line of FILE.")
@click.option("--db", metavar="PATH|URL", help="The server's database, as for 'examroom serve --db'.")
@click.option("--lang", type=click.Choice(["fr", "en"]), default=None, help="Language of the messages.")
def change(name, role, room_code, new_password, password_file, db, lang) -> None:
    """Change an account's role, room or password (as the dashboard's accounts panel does); its
    sessions end: it logs in again with what it may now do."""
    lang = lang or detect_lang()
    if not (role or room_code or new_password or password_file):
        raise BadInput(t("server.user_nothing_to_change", lang), name, t("server.user_bad.hint", lang))
    hashed = hash_password(_password(name, password_file, lang)) if new_password or password_file else None
    store = _store(db, lang)

    async def apply():
        changed = await accounts.change(store, name, role=role, room=room_code, hashed=hashed, by="cli")
        await store.remove_sessions_of(changed["username"])
        return changed

    try:
        changed = asyncio.run(_run(store, apply))
    except LookupError:
        raise BadInput(t("server.user_unknown", lang, name=name), name, t("server.user_bad.hint", lang)) from None
    except ValueError as exc:
        raise BadInput(str(exc), name, t("server.user_bad.hint", lang)) from None
    click.echo(t("server.user_changed", lang, name=changed["username"], role=changed["role"]), err=True)


@user.command("list")
@click.option("--db", metavar="PATH|URL", help="The server's database, as for 'examroom serve --db'.")
@click.option("--lang", type=click.Choice(["fr", "en"]), default=None, help="Language of the messages.")
def list_users(db, lang) -> None:
    """List the accounts: name, role, room."""
    lang = lang or detect_lang()
    store = _store(db, lang)
    for row in asyncio.run(_run(store, lambda: accounts.listed(store))):
        click.echo(f"{row['username']}\t{row['role']}\t{row['room'] or ''}")


@user.command("remove")
@click.argument("name")
@click.option("--db", metavar="PATH|URL", help="The server's database, as for 'examroom serve --db'.")
@click.option("--lang", type=click.Choice(["fr", "en"]), default=None, help="Language of the messages.")
def remove(name, db, lang) -> None:
    """Remove an account (its logins stop working at their next request)."""
    lang = lang or detect_lang()
    if accounts.normalize_name(name) == accounts.ADMIN:
        raise BadInput(t("server.user_bad.hint", lang), name, t("server.user_bad.hint", lang))
    store = _store(db, lang)

    async def remove_and_logout() -> bool:
        # its sessions end too (a running server closes their live streams at the next keep-alive)
        if not await accounts.remove(store, name):
            return False
        await store.remove_sessions_of(accounts.normalize_name(name))
        return True

    if not asyncio.run(_run(store, remove_and_logout)):
        raise BadInput(t("server.user_unknown", lang, name=name), name, t("server.user_bad.hint", lang))
    click.echo(t("server.user_removed", lang, name=name), err=True)
