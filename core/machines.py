"""What a person reads to tell machines apart: the host name, made unique within a room.

Why: cloned lab images often share one host name; a room summary or a dashboard where three
rows read "vm" cannot say which machine to fix. A host name shared by several machines of a
set is followed by the shortest start of each machine id (at least 4 characters) that tells
them apart: "vm · 3f2a", "vm · 9c01". A unique host name is shown alone.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Iterable

SEPARATOR = " · "


def display_names(machines: Iterable[tuple[str, str]]) -> dict[str, str]:
    """{machine_id: name to show} for (machine_id, hostname) pairs of one room."""
    pairs = list(dict.fromkeys(machines))
    shown = {machine_id: (hostname or "").strip() or machine_id for machine_id, hostname in pairs}
    by_host: dict[str, list[str]] = defaultdict(list)
    for machine_id, _ in pairs:
        by_host[shown[machine_id].lower()].append(machine_id)
    names = {}
    for machine_id, _ in pairs:
        host = shown[machine_id]
        twins = by_host[host.lower()]
        names[machine_id] = host if len(twins) < 2 else f"{host}{SEPARATOR}{_short(machine_id, twins)}"
    return names


def _short(machine_id: str, twins: list[str]) -> str:
    longest = max(len(m) for m in twins)
    for size in range(4, longest + 1):
        if len({m[:size] for m in twins}) == len(set(twins)):
            return machine_id[:size]
    return machine_id
