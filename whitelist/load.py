"""Whitelist files: the bundled TOML list and the user's .toml / .txt / .xlsx files.

Reads only the file it is given (CONTRACT section 4). Every error is a ``BadInput`` naming
the file and the line (for a spreadsheet: the sheet and its row), so a technician can fix
it without reading code.
"""
from __future__ import annotations

import ipaddress
import re
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseModel

from core.errors import BadInput

BUNDLED = Path(__file__).parent / "data" / "pix.toml"

_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$", re.IGNORECASE)
_TOML_KEYS = {"url", "category", "required", "note", "source"}
_HEADER_NAMES = {"url", "urls", "adresse", "adresses", "adresse url", "lien", "site"}


class Entry(BaseModel):
    """One URL candidates must reach."""

    url: str
    host: str
    category: str = ""
    required: bool = True
    note: str = ""
    source: str = ""
    where: str = ""          # "FILE:LINE" it came from, for messages


def load(path: Path | str | None) -> list[Entry]:
    """The entries of ``path`` (by extension), or the bundled list when ``path`` is None."""
    if path is None:
        return _load_toml(BUNDLED)
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".txt", ".xlsx"):
        raise BadInput.keyed("input.wl.unknown_format", str(path), "input.wl.hint_format",
                             suffix=path.suffix or "-")
    if not path.is_file():
        raise BadInput.keyed("input.file_not_found", str(path), "input.wl.hint_file")
    loader = {".toml": _load_toml, ".txt": _load_txt, ".xlsx": _load_xlsx}[suffix]
    entries = loader(path)
    if not entries:
        raise BadInput.keyed("input.wl.empty", str(path), "input.wl.hint_empty")
    return entries


def normalize_url(text: str, where: str) -> tuple[str, str]:
    """``pix.fr`` -> ``("https://pix.fr/", "pix.fr")``; anything that is not a URL is BadInput."""
    raw = text.strip()
    hint = "input.url.hint"
    if not raw:
        raise BadInput.keyed("input.url.empty", where, hint)
    candidate = raw if "://" in raw else "https://" + raw
    try:
        parts = urlsplit(candidate)
        port = parts.port
    except ValueError as exc:
        raise BadInput.keyed("input.url.bad_detail", where, hint, raw=raw, reason=exc) from None
    if parts.scheme.lower() not in ("http", "https"):
        raise BadInput.keyed("input.url.not_web", where, "input.url.hint_web", raw=raw, scheme=parts.scheme)
    host = (parts.hostname or "").rstrip(".").lower()
    if not host or any(c.isspace() for c in raw) or not _valid_host(host):
        raise BadInput.keyed("input.url.bad", where, hint, raw=raw)
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    path = parts.path or "/"
    query = f"?{parts.query}" if parts.query else ""
    return f"{parts.scheme.lower()}://{netloc}{path}{query}", host


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    labels = host.split(".")
    # A bare word ("pix") is not a site a candidate reaches; "localhost" is, for tests and labs.
    if len(labels) < 2 and host != "localhost":
        return False
    return all(_LABEL.match(label) for label in labels)


def _load_toml(path: Path) -> list[Entry]:
    text = _read_text(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        where = f"{path}:{m.group(1)}" if m else str(path)
        raise BadInput.keyed("input.bad_toml", where, "input.wl.hint_syntax", reason=exc) from None
    tables = data.get("url")
    extra = sorted(set(data) - {"url", "title", "description", "version"})
    if extra:
        raise BadInput.keyed("input.wl.unknown_top_key", f"{path}:{_key_line(text, extra[0]) or 1}",
                             "input.wl.hint_tables", key=extra[0])
    if tables is None:
        return []
    if not isinstance(tables, list):
        raise BadInput.keyed("input.wl.url_not_list", f"{path}:{_key_line(text, 'url') or 1}",
                             "input.wl.hint_url_table")
    lines = _table_lines(text)
    entries = []
    for index, table in enumerate(tables):
        line = lines[index] if index < len(lines) else 1
        where = f"{path}:{line}"
        if not isinstance(table, dict):
            raise BadInput.keyed("input.wl.entry_not_table", where, "input.wl.hint_url_table")
        unknown = sorted(set(table) - _TOML_KEYS)
        if unknown:
            raise BadInput.keyed("input.wl.unknown_key", where, "input.wl.known_keys", key=unknown[0],
                                 known=", ".join(sorted(_TOML_KEYS)))
        if "url" not in table or not isinstance(table["url"], str):
            raise BadInput.keyed("input.wl.no_url", where, "input.wl.hint_add_url")
        if "required" in table and not isinstance(table["required"], bool):
            raise BadInput.keyed("input.wl.required_bool", where, "input.wl.hint_required")
        for key in ("category", "note", "source"):
            if key in table and not isinstance(table[key], str):
                raise BadInput.keyed("input.wl.not_string", where, "input.wl.hint_string", key=key)
        url_line = _first_line_after(text, line, "url") or line
        url, host = normalize_url(table["url"], f"{path}:{url_line}")
        entries.append(Entry(url=url, host=host, category=table.get("category", ""),
                             required=table.get("required", True), note=table.get("note", ""),
                             source=table.get("source", ""), where=f"{path}:{url_line}"))
    return entries


def _table_lines(text: str) -> list[int]:
    return [n for n, line in enumerate(text.splitlines(), 1) if re.match(r"\s*\[\[\s*url\s*\]\]", line)]


def _first_line_after(text: str, start: int, key: str) -> int | None:
    for number, line in enumerate(text.splitlines()[start:], start + 1):
        if re.match(r"\s*\[", line):
            return None
        if re.match(rf"\s*{key}\s*=", line):
            return number
    return None


def _key_line(text: str, key: str) -> int | None:
    for number, line in enumerate(text.splitlines(), 1):
        if re.match(rf"\s*\[*\s*{re.escape(key)}\s*[\]=]", line):
            return number
    return None


def _load_txt(path: Path) -> list[Entry]:
    entries = []
    for number, line in enumerate(_read_text(path).splitlines(), 1):
        content = line.split("#", 1)[0].strip()
        if not content:
            continue
        where = f"{path}:{number}"
        url, host = normalize_url(content, where)
        entries.append(Entry(url=url, host=host, where=where, source=str(path.name)))
    return entries


def _load_xlsx(path: Path) -> list[Entry]:
    from zipfile import BadZipFile

    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (BadZipFile, KeyError, OSError, ValueError) as exc:
        raise BadInput.keyed("input.xlsx.unreadable", str(path), "input.xlsx.hint",
                             reason=type(exc).__name__) from None
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None:
            return []
        column, entries = 0, []
        for number, row in enumerate(sheet.iter_rows(values_only=True), 1):
            cells = ["" if c is None else str(c).strip() for c in row]
            if number == 1:
                titles = [c.lower() for c in cells]
                found = next((i for i, title in enumerate(titles) if title in _HEADER_NAMES), None)
                if found is not None:
                    column = found
                    continue
            value = cells[column] if column < len(cells) else ""
            if not value:
                continue
            # FILE:ROW then the sheet's name, in no language: this prefixes French and English lines
            where = f"{path}:{number} [{sheet.title}]"
            url, host = normalize_url(value, where)
            entries.append(Entry(url=url, host=host, where=where, source=path.name))
        return entries
    finally:
        book.close()


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise BadInput.keyed("input.file_not_found", str(path), "input.wl.hint_file") from None
    except UnicodeDecodeError:
        raise BadInput.keyed("input.not_utf8", str(path), "input.not_utf8.hint") from None
    except OSError as exc:
        raise BadInput.keyed("input.cannot_read", str(path), reason=exc.strerror or exc) from None


def to_toml(entries: list[Entry]) -> str:
    """The TOML form of a list (``whitelist import``)."""
    out = ["# examroom whitelist (CONTRACT section 4): one [[url]] table per site", ""]
    for e in entries:
        out.append("[[url]]")
        out.append(f"url = {_q(e.url)}")
        if e.category:
            out.append(f"category = {_q(e.category)}")
        out.append(f"required = {'true' if e.required else 'false'}")
        if e.note:
            out.append(f"note = {_q(e.note)}")
        if e.source:
            out.append(f"source = {_q(e.source)}")
        out.append("")
    return "\n".join(out)


def _q(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'
