"""Bounds on everything a machine sends: lengths, sizes, depths, numbers and dates.

Facts read: the bodies of ``/enroll``, ``/reports``, ``/events`` (already parsed by pydantic).
A candidate controls their machine, so each field has a ceiling far above what a real agent
sends (a host name is at most 253 characters in DNS, 15 in NetBIOS; a window title a few
hundred) and far below what would make a supervisor's page or the database suffer. A value
over its ceiling is a 422 naming the field; nothing is silently cut.

Dates: the machine's clock is not trusted. A time outside [server clock - MAX_PAST, server
clock + MAX_FUTURE] (a dead CMOS battery says 2000-01-01, a forged event says 9999) is
replaced by the server's receive time and the machine's claim is kept beside it
(``at_claimed``), so the event is kept, sorts where it arrived, and no later computation
overflows.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

from supervisor.apierror import ApiError

MAX_PAST = timedelta(days=366)    # a crash-test report may be sent long after it ran (outbox)
MAX_FUTURE = timedelta(days=1)    # time zones and a slightly fast clock, no more

# The machine's identity, shown on tiles and repeated in every event row of the API.
MACHINE_FIELDS = {"id": 128, "hostname": 255, "os": 64, "os_version": 128, "arch": 32}
MAX_FACTS_BYTES = 16 << 10        # cpu, RAM, displays...: a few hundred bytes in practice
MAX_DETAILS_BYTES = 8 << 10       # one event's details (a title, a process, a host...)
MAX_DETAIL_STRING = 2048
MAX_REPORT_BYTES = 512 << 10      # a full report with a software inventory is ~40 KB
MAX_REPORT_STRING = 16 << 10
MAX_CHECKS = 200
MAX_DEPTH = 12
MAX_ITEMS = 1000                  # per list or object
MAX_INT = 2**63 - 1               # what SQLite and PostgreSQL store as a number


def bounded(value: Any, where: str, *, max_string: int, depth: int = 0) -> None:
    """Refuse (422) strings, containers, nesting or integers over their ceiling."""
    if isinstance(value, str):
        if len(value) > max_string:
            _refuse(where, f"at most {max_string} characters (got {len(value)})")
    elif isinstance(value, bool) or value is None or isinstance(value, float):
        return
    elif isinstance(value, int):
        if not -MAX_INT <= value <= MAX_INT:
            _refuse(where, "integer out of range (64-bit)")
    elif isinstance(value, (list, tuple, dict)):
        if depth >= MAX_DEPTH:
            _refuse(where, f"nested deeper than {MAX_DEPTH} levels")
        if len(value) > MAX_ITEMS:
            _refuse(where, f"at most {MAX_ITEMS} items (got {len(value)})")
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if isinstance(key, str) and len(key) > 128:
                _refuse(where, "a key longer than 128 characters")
            bounded(item, f"{where}.{key}", max_string=max_string, depth=depth + 1)


def check_machine(machine: dict[str, Any], where: str = "machine") -> None:
    for name, limit in MACHINE_FIELDS.items():
        value = machine.get(name)
        if isinstance(value, str) and len(value) > limit:
            _refuse(f"{where}.{name}", f"at most {limit} characters (got {len(value)})")
    facts = {k: v for k, v in machine.items() if k not in MACHINE_FIELDS}
    bounded(facts, where, max_string=MAX_DETAIL_STRING)
    if _size(facts) > MAX_FACTS_BYTES:
        _refuse(where, f"the machine's facts exceed {MAX_FACTS_BYTES} bytes")


def check_details(details: dict[str, Any], where: str) -> None:
    bounded(details, where, max_string=MAX_DETAIL_STRING)
    if _size(details) > MAX_DETAILS_BYTES:
        _refuse(where, f"an event's details exceed {MAX_DETAILS_BYTES} bytes")


def check_report(data: dict[str, Any], received: datetime) -> dict[str, Any]:
    """The report as it will be stored: bounded, with sane dates (see the module's docstring)."""
    if len(data.get("checks") or ()) > MAX_CHECKS:
        _refuse("checks", f"at most {MAX_CHECKS} checks")
    check_machine(data.get("machine") or {})
    bounded(data, "report", max_string=MAX_REPORT_STRING)
    if _size(data) > MAX_REPORT_BYTES:
        _refuse("report", f"a report may hold at most {MAX_REPORT_BYTES} bytes")
    for name in ("started_at", "finished_at"):
        value = data.get(name)
        parsed = parse_time(value) if isinstance(value, str) else None
        if parsed is None:
            _refuse(name, "an ISO 8601 date and time, e.g. 2026-11-22T08:00:00Z")
        kept = sane_time(parsed, received)
        if kept != parsed:
            data[f"{name}_claimed"] = value
            data[name] = iso(kept)
    return data


def sane_time(value: datetime, received: datetime) -> datetime:
    """``value`` if it is within the window around the server's clock, else ``received``."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    try:
        if received - MAX_PAST <= value <= received + MAX_FUTURE:
            return value.astimezone(timezone.utc)
    except OverflowError:
        pass
    return received


def parse_time(text: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except (ValueError, OverflowError):
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


def iso(value: datetime) -> str:
    return value.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def size_of(value: Any) -> int:
    """Bytes of the value as stored (compact JSON)."""
    return _size(value)


def _size(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8",
                                                                                                    "surrogatepass"))


def _refuse(where: str, what: str) -> None:
    raise ApiError(422, "too_long" if "characters" in what or "bytes" in what else "invalid",
                   f"{where}: {what}", {"field": where})
