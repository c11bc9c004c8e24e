"""``examroom report merge``. (Placeholder until the technician-experience issue lands.)"""
from __future__ import annotations

import click

from checks.errors import NotAvailable


@click.group()
def report() -> None:
    """Work with report files collected by hand."""


@report.command()
@click.argument("reports", nargs=-1, required=True, metavar="REPORT.json...")
@click.option("--html", "html_path", metavar="FILE")
@click.option("--csv", "csv_path", metavar="FILE")
def merge(reports, html_path, csv_path) -> None:
    """One room summary from many machine reports (offline, no server)."""
    raise NotAvailable("the command 'report merge' is not available yet in this version of examroom")
