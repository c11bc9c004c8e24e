"""A draft of the session's PV d'incident, from the room's alert-worthy events.

Facts read: the room's events (oldest first). Codes are those of the official form
(shared/seeds/001: C1-C6 candidate, E1-E7 question, A1-A2 other). The draft only suggests:
a window left or a forbidden program is C6 "suspicion de fraude" for the supervisor to
judge, a network cut is A1 (E4 when it interrupted a download, which only the supervisor
knows), a companion lost or stopped is A1. Durations come from the closing event
(focus_regained, net_up, forbidden_process stopped) when there is one.
"""
from __future__ import annotations

import csv
import io
from datetime import datetime, tzinfo
from typing import Any

from agent.i18n import t

CODES = ("C1", "C2", "C3", "C4", "C5", "C6", "E1", "E2", "E3", "E4", "E5", "E6", "E7", "A1", "A2")
SUGGESTED = {"focus_lost": "C6", "forbidden_process": "C6", "net_down": "A1",
             "companion_lost": "A1", "companion_stopped": "A1"}
_CLOSES = {"focus_regained": "focus_lost", "net_up": "net_down"}


def seconds_of(details: dict[str, Any]) -> float | None:
    """The duration a closing event carries, whatever the companion named it."""
    for key in ("away_s", "down_s", "duration_s", "elapsed_s"):
        value = details.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
            return float(value)
    for key in ("away_ms", "down_ms", "duration_ms"):
        value = details.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
            return value / 1000
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
    except ValueError:
        return None
    delta = (b - a).total_seconds()
    return delta if delta >= 0 else None


def _text(details: dict[str, Any], key: str, default: str = "?") -> str:
    value = details.get(key)
    return str(value) if value not in (None, "") else default


def build_draft(events: list[dict[str, Any]], lang: str, tz: tzinfo | None = None) -> list[dict[str, Any]]:
    """One line per alert-worthy event; clock times in ``tz`` (default: the server's own)."""
    lines: list[dict[str, Any]] = []
    open_by: dict[tuple[str, str], dict[str, Any]] = {}  # (machine, kind or program) -> its line
    # In the order things happened: an outbox replayed after an outage delivers late.
    for event in sorted(events, key=lambda e: (e["at"], e.get("seq", 0))):
        kind, details, machine = event["kind"], event["details"], event["machine_id"]
        if kind in _CLOSES or (kind == "forbidden_process" and details.get("state") == "stopped"):
            key = (machine, _CLOSES.get(kind) or f"forbidden:{details.get('name')}")
            line = open_by.pop(key, None)
            if line is not None:
                duration = seconds_of(details) or _elapsed(line["at"], event["at"])
                line["_duration"] = duration
            continue
        if kind not in SUGGESTED:
            continue
        line = {"at": event["at"], "hostname": event["hostname"], "machine_id": machine,
                "code": SUGGESTED[kind], "kind": kind, "_details": details, "_duration": None}
        lines.append(line)
        if kind in ("focus_lost", "net_down"):
            open_by[(machine, kind)] = line
        elif kind == "forbidden_process":
            open_by[(machine, f"forbidden:{details.get('name')}")] = line
    return [_finish(line, lang, tz) for line in lines]


def exam_timeline(events: list[dict[str, Any]]) -> dict[str, Any]:
    """When the exam started and ended, room-wide and per machine (exam_started/exam_ended).

    Not incidents: the PV's header times. Per machine, the first start and the last end; the
    room's start is its first machine's, its end the last machine's (a candidate who
    finishes late is what the PV must show)."""
    machines: dict[str, dict[str, Any]] = {}
    for event in sorted(events, key=lambda e: (e["at"], e.get("seq", 0))):
        if event["kind"] not in ("exam_started", "exam_ended"):
            continue
        row = machines.setdefault(event["machine_id"], {"machine_id": event["machine_id"],
                                                        "hostname": event["hostname"],
                                                        "started_at": None, "ended_at": None})
        if event["kind"] == "exam_started":
            row["started_at"] = row["started_at"] or event["at"]
        else:
            row["ended_at"] = event["at"]
    rows = sorted(machines.values(), key=lambda r: (r["hostname"].lower(), r["machine_id"]))
    starts = [r["started_at"] for r in rows if r["started_at"]]
    ends = [r["ended_at"] for r in rows if r["ended_at"]]
    return {"started_at": min(starts) if starts else None, "ended_at": max(ends) if ends else None,
            "machines": rows}


def _finish(line: dict[str, Any], lang: str, tz: tzinfo | None) -> dict[str, Any]:
    details = line.pop("_details")
    duration = line.pop("_duration")
    kind = line["kind"]
    took = fmt_duration(duration, lang) if duration is not None else None
    if kind == "focus_lost":
        title = _text(details, "title", _text(details, "process"))
        text = (t("incident.focus_lost.for", lang, duration=took, title=title) if took
                else t("incident.focus_lost.open", lang, title=title))
    elif kind == "forbidden_process":
        name = _text(details, "name")
        exe = details.get("exe")
        text = t("incident.forbidden", lang, name=name) + (f" ({exe})" if exe else "")
        if took:
            text += " " + t("incident.during", lang, duration=took)
    elif kind == "net_down":
        text = (t("incident.net_down.for", lang, duration=took) if took else t("incident.net_down.open", lang))
        text += " " + t("incident.net_down.e4", lang)
    elif kind == "companion_lost":
        text = t("incident.companion_lost", lang, last_seen=_clock(details.get("last_seen"), tz))
    else:
        text = t("incident.companion_stopped", lang)
    line["label"] = t(f"incident.code.{line['code']}", lang)
    line["details_text"] = text
    return line


def _clock(value: Any, tz: tzinfo | None) -> str:
    if not isinstance(value, str):
        return "?"
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(tz).strftime("%H:%M:%S")
    except ValueError:
        return value


def draft_csv(lines: list[dict[str, Any]], lang: str, tz: tzinfo | None = None,
              edits: dict[str, Any] | None = None) -> str:
    """The draft as CSV; with ``edits`` (the supervisors' record), as they completed it: changed
    cells, then the lines they added, then their global comment."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";" if lang == "fr" else ",", lineterminator="\r\n")
    writer.writerow([t(f"incident.col.{c}", lang) for c in ("time", "hostname", "code", "label", "details")])
    changed = (edits or {}).get("edits") or {}
    for line in lines:
        cells = {k: v for k, v in (changed.get(edit_key(line)) or {}).items() if v is not None}
        merged = {**line, **cells}
        writer.writerow([_clock(line["at"], tz), line["hostname"], merged["code"], merged["label"],
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
