"""``examroom whitelist show|import``. (Placeholder until the network issue lands.)"""
from __future__ import annotations

import click

from checks.errors import NotAvailable


@click.group()
def whitelist() -> None:
    """Show or import the list of sites candidates must reach."""


@whitelist.command()
@click.argument("file", required=False)
def show(file) -> None:
    """Print the whitelist that 'check' would use (bundled, or FILE)."""
    raise NotAvailable("the command 'whitelist show' is not available yet in this version of examroom")


@whitelist.command(name="import")
@click.argument("file")
@click.option("-o", "--output", required=True, metavar="FILE.toml")
def import_(file, output) -> None:
    """Convert a spreadsheet (.xlsx) list into the TOML format."""
    raise NotAvailable("the command 'whitelist import' is not available yet in this version of examroom")
