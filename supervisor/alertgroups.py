"""Alerts grouped per machine, kind and subject: what a supervisor reads in a flooded room.

A hostile or confused machine repeats itself: 5,000 ``focus_lost`` towards the same program
are one thing to look at, not 5,000 rows. A group is (room, machine, kind, subject), the
subject being what the event is about when it says so (the program or host it went to, the
forbidden program, the browser); it keeps its count, how many are still open, the first and
the last time and the latest alert's details. Both stores keep groups in the same
transaction as the alerts (table ``alert_groups``, each alert's ``gid``), so a page of groups
is one indexed read whatever the number of alerts, and survives restarts.

Paging is newest first on ``last_seq`` (the seq of the group's latest alert): every seq
belongs to one alert, so the cursor is unique and stable; a group that gets a new alert
while a supervisor pages moves to the top (the stream tells the dashboard) and is not seen
twice. Alerts inside a group page the same way on their own ``seq``.

Which alert is ONE alert is the companion's and supervisor/rules.py's business (one act,
one alert); grouping only folds repeats.
"""
from __future__ import annotations

from typing import Any

# The details naming what an event is about, in order of preference. Declared details only
# (core/data/kinds.toml), already typed and bounded by the time they are stored.
SUBJECT_DETAILS = ("program", "host", "name", "browser", "process")
SUBJECT_MAX = 256
PAGE_DEFAULT = 50
PAGE_MAX = 500


def subject_of(details: dict[str, Any]) -> str:
    """What an alert is about ("" when its details do not say): its group's third key."""
    for name in SUBJECT_DETAILS:
        value = details.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()[:SUBJECT_MAX]
    return ""


GROUP_FIELDS = ("gid", "machine_id", "hostname", "kind", "subject", "count", "open", "first_seq", "last_seq",
                "first_at", "last_at", "last_id", "last_details", "acked_at", "acked_by")


def group_row(values: tuple, details_loads: Any) -> dict[str, Any]:
    """A stored group (columns in GROUP_FIELDS order, details as stored text) as the API shows it."""
    row = dict(zip(GROUP_FIELDS, values))
    row["last_details"] = details_loads(row["last_details"]) if row["last_details"] else {}
    return row


def page(rows: list[dict[str, Any]], limit: int, key: str) -> tuple[list[dict[str, Any]], int | None]:
    """The first ``limit`` rows of ``limit + 1`` read, and the cursor of the next page (None: last page)."""
    if len(rows) > limit:
        rows = rows[:limit]
        return rows, rows[-1][key]
    return rows, None
