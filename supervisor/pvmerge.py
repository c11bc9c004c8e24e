"""PV d'incident edits merged per line, with a version per line (issue 15, row 15).

Facts read: the room's stored edits record and a patch of line edits from one dashboard.
A "line" is a changed draft line (``e:<key>``), a line added by hand (``x:<key>``) or the
global comment (``comment``). The record keeps, per line, the record version at which it
last changed and who changed it. A patch says which version it was made from
(``base_version``, or the ``If-Match`` header): a line nobody else changed since then is
applied; a line someone else changed meanwhile to another value is a conflict, left as they
wrote it and returned to the second editor (their text and author), never silently replaced.
Two supervisors editing different lines at once both keep their work; an offline browser
coming back sends the lines it changed, not the whole document.
"""
from __future__ import annotations

from typing import Any

COMMENT = "comment"


def lines_of(record: dict[str, Any] | None) -> dict[str, Any]:
    record = record or {}
    out: dict[str, Any] = {f"e:{k}": _cells(v) for k, v in (record.get("edits") or {}).items()}
    out.update({f"x:{line['key']}": line for line in record.get("extra") or []})
    out[COMMENT] = record.get("comment") or ""
    return out


def _cells(edit: dict[str, Any] | None) -> dict[str, Any] | None:
    if edit is None:
        return None
    cells = {k: v for k, v in edit.items() if v is not None}
    return cells or None


def _record(values: dict[str, Any], order: list[str]) -> dict[str, Any]:
    edits = {k[2:]: v for k, v in values.items() if k.startswith("e:") and v}
    extra = [values[k] for k in order if k.startswith("x:") and values.get(k)]
    return {"edits": edits, "extra": extra, "comment": values.get(COMMENT) or ""}


def merge(stored: dict[str, Any] | None, patch: dict[str, Any], base_version: int,
          by: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(the record to store, without its new version yet; the conflicts). ``patch`` maps line
    names to their new value (None: removed). Per-line versions are set to ``"next"`` and
    resolved by ``stamp`` once the store gave the version."""
    current = lines_of(stored)
    meta: dict[str, dict[str, Any]] = dict((stored or {}).get("lines") or {})
    order = [f"x:{line['key']}" for line in (stored or {}).get("extra") or []]
    conflicts = []
    for name, value in patch.items():
        value = _cells(value) if name.startswith("e:") else value
        theirs = current.get(name)
        changed_since = int((meta.get(name) or {}).get("v", 0)) > base_version
        if changed_since and theirs != value:
            conflicts.append({"line": name, "theirs": theirs, "mine": value, "by": (meta.get(name) or {}).get("by")})
            continue
        if theirs == value:
            continue
        current[name] = value
        meta[name] = {"v": "next", "by": by}
        if name.startswith("x:") and name not in order:
            order.append(name)
    record = _record(current, order)
    record["lines"] = meta
    return record, conflicts


def whole(stored: dict[str, Any] | None, new: dict[str, Any], by: str) -> dict[str, Any]:
    """A whole record saved at once (PUT, the last save wins): the lines it changed get stamped."""
    patch = {name: value for name, value in lines_of(new).items()}
    for name in lines_of(stored):
        patch.setdefault(name, None)
    record, _ = merge(stored, patch, base_version=2**62, by=by)
    return record


def stamp(record: dict[str, Any], version: int) -> dict[str, Any]:
    for meta in (record.get("lines") or {}).values():
        if meta.get("v") == "next":
            meta["v"] = version
    return record


def next_version_of(stored: dict[str, Any] | None) -> int:
    return int((stored or {}).get("version") or 0) + 1
