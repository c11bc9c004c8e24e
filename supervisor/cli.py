"""``examroom serve`` and ``examroom room create``. (Placeholder until the server issue lands.)"""
from __future__ import annotations

import click

from checks.errors import NotAvailable


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8765, show_default=True, type=int)
@click.option("--db", metavar="PATH")
@click.option("--admin-password", envvar="EXAMROOM_ADMIN_PASSWORD")
@click.option("--cert", metavar="FILE")
@click.option("--key", metavar="FILE")
def serve(host, port, db, admin_password, cert, key) -> None:
    """Run the supervisor server and its dashboard."""
    raise NotAvailable("the command 'serve' is not available yet in this version of examroom")


@click.group()
def room() -> None:
    """Manage rooms on the server's database."""


@room.command()
@click.argument("name")
@click.option("--db", metavar="PATH")
def create(name, db) -> None:
    """Create a room and print its enrolment code."""
    raise NotAvailable("the command 'room create' is not available yet in this version of examroom")
