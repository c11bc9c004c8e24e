"""A draft of the session's PV d'incident, from the room's alert-worthy events.

Repeats are one line: the same alert (machine, kind and subject, supervisor/alertgroups.py)
again while its line is still open (nothing closed it yet), or within REPEAT_WINDOW_S of the
previous repeat for a kind nothing closes, adds to that line's ``repeats`` (said in its text).

Facts read: the room's events (oldest first). Codes are those of the official form
(shared/seeds/001: C1-C6 candidate, E1-E7 question, A1-A2 other). The draft only suggests:
each alert's kind names its code, its text and what closes it (core/data/kinds.toml: a
window left or a forbidden program is C6 "suspicion de fraude" for the supervisor to judge, a
network cut is A1 (E4 when it interrupted a download, which only the supervisor knows), a
companion lost or stopped is A1).
"""
from __future__ import annotations

import io
from datetime import datetime, tzinfo
from typing import Any

from core import csvsafe
from core.i18n import t
from core.kinds import KindSpec, kinds
from supervisor.alertgroups import subject_of

# An alert that is not closed by another event (a forged phase, a stopped companion...) and
# comes again within this many seconds of its previous repeat is the same incident.
REPEAT_WINDOW_S = 60.0
CODES = ("C1", "C2", "C3", "C4", "C5", "C6", "E1", "E2", "E3", "E4", "E5", "E6", "E7", "A1", "A2")


def _seconds(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return float(value)
    return None


def fmt_duration(seconds: float, lang: str) -> str:
    total = int(round(seconds))
    if total < 60:
        return f"{total} s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _elapsed(start: str, end: str) -> float | None:
    try:
        a = datetime.fromisoformat(start.replace("Z", "+00:00"))
        b = datetime.fromisoformat(end.replace("Z", "+00:00"))
        delta = (b - a).total_seconds()
    except (ValueError, TypeError, OverflowError):  # rows stored before dates were bounded
        return None
    return delta if delta >= 0 else None


def build_draft(events: list[dict[str, Any]], lang: str, tz: tzinfo | None = None) -> list[dict[str, Any]]:
    """One line per alert with a PV code (core/data/kinds.toml); clock times in ``tz``
    (default: the server's own). A line's duration comes from the event that closes it (the
    kind's spec says which), else from the two events' times."""
    table = kinds()
    lines: list[dict[str, Any]] = []
    open_by: dict[tuple, dict[str, Any]] = {}  # (machine, kind, pairing details) -> its line
    latest: dict[tuple, dict[str, Any]] = {}  # (machine, kind, subject) -> its latest line, for repeats
    # In the order things happened (on the server's clock when the machine's offset is known:
    # at_corrected): an outbox replayed after an outage delivers late.
    for event in sorted(events, key=lambda e: (e.get("at_corrected") or e["at"], e.get("seq", 0))):
        kind, details, machine = event["kind"], event["details"], event["machine_id"]
        spec = table.get(kind).resolve(details)
        if spec.closes is not None:
            pairing = tuple(details.get(name) for name in spec.pair_by)
            line = open_by.pop((machine, spec.closes, pairing), None)
            if line is not None:
                given = _seconds(details.get(spec.duration)) if spec.duration else None
                line["_duration"] = given if given is not None else _elapsed(line["at"], event["at"])  # one clock
            continue
        if spec.pv_code is None or not spec.is_alert(details):
            continue
        # The same alert again (a spamming machine, an agent repeating itself) is the same
        # incident: one line saying how many times, as the dashboard's alert groups do.
        pairing = (machine, kind, tuple(details.get(name) for name in table.closable.get(kind, ())))
        repeat_key = (machine, kind, subject_of(details))
        previous = latest.get(repeat_key)
        if previous is not None and (open_by.get(pairing) is previous if kind in table.closable
                                     else _within(previous["_last"], event["at"], REPEAT_WINDOW_S)):
            previous["_repeats"] += 1
            previous["_last"] = event["at"]
            continue
        line = {"at": event["at"], "at_corrected": event.get("at_corrected") or event["at"],
                "hostname": event["hostname"], "machine_id": machine,
                "code": spec.pv_code, "kind": kind, "_details": details, "_duration": None,
                "_repeats": 1, "_last": event["at"]}
        lines.append(line)
        latest[repeat_key] = line
        if kind in table.closable:
            open_by[pairing] = line
    return [_finish(line, lang, tz) for line in lines]


def exam_timeline(events: list[dict[str, Any]]) -> dict[str, Any]:
    """When the exam started and ended, room-wide and per machine (exam_started/exam_ended).

    Not incidents: the PV's header times. Per machine, the first start and the last end; the
    room's start is its first machine's, its end the last machine's (a candidate who
    finishes late is what the PV must show)."""
    machines: dict[str, dict[str, Any]] = {}
    # on the server's clock when the machine's offset is known (at_corrected): machines compared
    def when(e: dict[str, Any]) -> str:
        return e.get("at_corrected") or e["at"]

    for event in sorted(events, key=lambda e: (when(e), e.get("seq", 0))):
        if event["kind"] not in ("exam_started", "exam_ended"):
            continue
        row = machines.setdefault(event["machine_id"], {"machine_id": event["machine_id"],
                                                        "hostname": event["hostname"],
                                                        "started_at": None, "ended_at": None})
        if event["kind"] == "exam_started":
            row["started_at"] = row["started_at"] or when(event)
        else:
            row["ended_at"] = when(event)
    rows = sorted(machines.values(), key=lambda r: (r["hostname"].lower(), r["machine_id"]))
    starts = [r["started_at"] for r in rows if r["started_at"]]
    ends = [r["ended_at"] for r in rows if r["ended_at"]]
    return {"started_at": min(starts) if starts else None, "ended_at": max(ends) if ends else None,
            "machines": rows}


def _within(start: str, end: str, seconds: float) -> bool:
    elapsed = _elapsed(start, end)
    return elapsed is not None and elapsed <= seconds


def _finish(line: dict[str, Any], lang: str, tz: tzinfo | None) -> dict[str, Any]:
    details = line.pop("_details")
    duration = line.pop("_duration")
    repeats = line.pop("_repeats")
    line.pop("_last")
    spec = kinds().get(line["kind"]).resolve(details)
    fields = {name: _shown(spec, name, details, lang, tz) for name in spec.details}
    if duration is not None:
        fields["duration"] = fmt_duration(duration, lang)
    key = spec.pv_text_closed if duration is not None and spec.pv_text_closed else spec.pv_text
    line["label"] = t(f"incident.code.{line['code']}", lang)
    line["details_text"] = t(key, lang, **fields) if key else t(spec.label, lang)
    line["repeats"] = repeats
    if repeats > 1:
        line["details_text"] += t("incident.repeated", lang, n=repeats)
    return line


def _shown(spec: KindSpec, name: str, details: dict[str, Any], lang: str, tz: tzinfo | None) -> str:
    """A detail as the PV line shows it: by its declared type, "?" (or "" when it has a
    ``wrap``) when absent, its ``fallback`` detail first; a bool only when true."""
    detail = spec.details[name]
    value = details.get(name)
    if detail.type == "bool":
        # a flag ("during a focused question"): its words when true, nothing otherwise
        return t(detail.wrap, lang) if value is True and detail.wrap else ""
    if value in (None, "") and detail.fallback:
        value = details.get(detail.fallback)
    if value in (None, ""):
        return "" if detail.wrap else "?"
    if detail.type == "time":
        text = _clock(value, tz)
    elif detail.type == "duration" and _seconds(value) is not None:
        text = fmt_duration(float(value), lang)
    else:
        text = str(value)
    return t(detail.wrap, lang, value=text) if detail.wrap else text


def _clock(value: Any, tz: tzinfo | None) -> str:
    if not isinstance(value, str):
        return "?"
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(tz).strftime("%H:%M:%S")
    except (ValueError, OverflowError):  # 9999-12-31T23:59:59-14:00 is past datetime.max in UTC
        return value[:40]


def draft_csv(lines: list[dict[str, Any]], lang: str, tz: tzinfo | None = None,
              edits: dict[str, Any] | None = None) -> str:
    """The draft as CSV; with ``edits`` (the supervisors' record), as they completed it: changed
    cells, then the lines they added, then their global comment."""
    out = io.StringIO()
    writer = csvsafe.writer(out, delimiter=";" if lang == "fr" else ",", lineterminator="\r\n")
    writer.writerow([t(f"incident.col.{c}", lang) for c in ("time", "hostname", "code", "label", "details")])
    changed = (edits or {}).get("edits") or {}
    for line in lines:
        cells = {k: v for k, v in (changed.get(edit_key(line)) or {}).items() if v is not None}
        merged = {**line, **cells}
        writer.writerow([_clock(line.get("at_corrected") or line["at"], tz), line["hostname"], merged["code"], merged["label"],
                         merged["details_text"]])
    for extra in (edits or {}).get("extra") or []:
        writer.writerow([extra.get(k, "") for k in ("time", "hostname", "code", "label", "details_text")])
    comment = ((edits or {}).get("comment") or "").strip()
    if comment:
        writer.writerow(["", "", "", t("incident.col.comment", lang), comment])
    return ("\ufeff" if lang == "fr" else "") + out.getvalue()


def edit_key(line: dict[str, Any]) -> str:
    """How the dashboard names a draft line in the edits record (its event's time, machine, kind)."""
    return f"{line['at']}|{line['machine_id']}|{line['kind']}"
