"""``examroom companion``. (Placeholder until the companion issue lands.)"""
from __future__ import annotations

import click

from checks.errors import NotAvailable


@click.command()
@click.option("--server", required=True, metavar="URL")
@click.option("--room", required=True, metavar="CODE")
@click.option("--platform-url", metavar="URL")
@click.option("--exam-title", metavar="REGEX", default="Pix", show_default=True)
@click.option("--heartbeat", type=float, default=2.0, show_default=True, metavar="SECONDS")
@click.option("--no-window", is_flag=True)
def companion(server, room, platform_url, exam_title, heartbeat, no_window) -> None:
    """Exam-time mode: heartbeats, focus, software and connectivity watch."""
    raise NotAvailable("the command 'companion' is not available yet in this version of examroom")
