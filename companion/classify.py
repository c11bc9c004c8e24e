"""Where the candidate is, judged: a category and a level for a browser tab's host or a program.

The policy (companion/data/policy.toml, or a centre's file given with ``--policy``) groups
destinations in categories (exam, tool, search, communication, ai_assistant,
remote_control, unknown), each with a level (journal, notice, alert). The Pix rules allow web
search and the machine's software, forbid communication, AI assistants and remote control:
the supervisor sees those at once and is not bothered by the rest. During a question that
requires focus, any departure is an alert.

The focus watchers call :meth:`Policy.for_host` (what the extension reports) and
:meth:`Policy.for_app` (the foreground window without the extension); the judgement goes
into the ``focus_lost``/``focus_regained`` events (category, level, source, label).
A bad policy file is bad input: ``BadInput`` naming FILE:LINE, exit 2 through the CLI.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from core.errors import BadInput
from core.kinds import CATEGORIES, LEVELS

FIELDS_APP = ("label", "category", "process", "exe", "window_class", "title")
FIELDS_SITE = ("label", "category", "hosts")
_HINT = "policy.hint"


@dataclass(frozen=True)
class Judgement:
    category: str
    level: str
    source: str   # "extension" (a tab's host), "window" (class or title), "process" (name or executable)
    label: str    # the program or host shown to the supervisor


@dataclass(frozen=True)
class _App:
    label: str
    category: str
    names: frozenset[str]          # process and executable names, normalised
    classes: frozenset[str]
    titles: tuple[re.Pattern, ...]


@dataclass(frozen=True)
class _Site:
    label: str
    category: str
    pattern: re.Pattern
    specificity: int   # literal labels: "mail.google.com" (3) wins over "google.*" (1)


def _norm(name: str) -> str:
    name = name.strip().lower()
    return name[:-4] if name.endswith(".exe") else name


def _basename(path: str) -> str:
    return path.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


def normalise_host(host: str) -> str:
    """``Mail.Google.com.`` -> ``mail.google.com``; a port is dropped; browser pages
    (``chrome://downloads/``, ``about:newtab``) keep their scheme."""
    host = host.strip().lower()
    if host.startswith("file:"):
        return "file://"
    if "://" in host and not host.startswith(("http://", "https://")):
        scheme, rest = host.split("://", 1)
        return f"{scheme}://{rest.split('/', 1)[0]}"
    if host.startswith("about:"):
        return host.split("?", 1)[0].split("#", 1)[0]
    if "://" in host:
        host = urlparse(host).netloc
    if host.startswith("["):           # [::1]:8080
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0].rstrip(".") if host.count(":") == 1 else host.rstrip(".")


def _host_pattern(pattern: str) -> tuple[re.Pattern, int]:
    pattern = pattern.strip().lower()
    if "://" in pattern or pattern.startswith("about:"):
        return re.compile(re.escape(normalise_host(pattern)) + r"$"), 10  # a browser page: exact
    labels = pattern.split(".")
    parts = [r"[^.]+(?:\.[^.]+)*" if label == "*" else re.escape(label) for label in labels]
    # the host itself or any subdomain of it
    return re.compile(r"^(?:[^.]+\.)*" + r"\.".join(parts) + "$"), sum(1 for label in labels if label != "*")


class Policy:
    def __init__(self, levels: dict[str, str], exam_hosts: set[str], apps: list[_App],
                 sites: list[list[_Site]], platform: str | None = None) -> None:
        self.levels = levels
        self.exam_hosts = set(exam_hosts)
        self.apps = apps
        self.sites = sites   # groups in order (the centre's file, then the bundled one)
        if platform:
            # the extension may give the host with its port or without it
            self.exam_hosts |= {platform, normalise_host(platform)}

    # -- loading
    @classmethod
    def load(cls, path: Path | None = None, *, platform_url: str | None = None) -> "Policy":
        """The bundled policy, with the centre's file at ``path`` tried first when given."""
        bundled_text = resources.files("companion").joinpath("data/policy.toml").read_text(encoding="utf-8")
        bundled = _parse(bundled_text, "companion/data/policy.toml")
        parts = [bundled]
        if path is not None:
            try:
                text = Path(path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise BadInput.keyed("policy.unreadable", str(path), _HINT,
                                     detail=getattr(exc, "strerror", None) or exc) from None
            centre = _parse(text, str(path))
            parts = [centre] if centre["replace"] else [centre, bundled]
        levels = dict(bundled["levels"])
        exam: set[str] = set()
        for part in reversed(parts):
            levels.update(part["levels"])
        for part in parts:
            exam |= part["exam"]
        platform = None
        if platform_url:
            parsed = urlparse(platform_url)
            platform = (parsed.netloc or "").lower() or None
        return cls(levels, exam, [a for p in parts for a in p["apps"]], [p["sites"] for p in parts], platform)

    # -- judging
    def is_exam_host(self, host: str) -> bool:
        """The platform's hosts and the origin of --platform-url (host, or host:port)."""
        raw = host.strip().lower().rstrip(".")
        if "://" in raw:
            raw = urlparse(raw).netloc
        if raw in self.exam_hosts:
            return True
        # a host given without its port: the platform's host name is enough
        bare = normalise_host(raw)
        return bare == raw and bare in {normalise_host(h) for h in self.exam_hosts}

    def _judge(self, category: str, source: str, label: str, focus_required: bool) -> Judgement:
        level = self.levels.get(category, "notice")
        if focus_required and category != "exam":
            level = "alert"
        return Judgement(category=category, level=level, source=source, label=label)

    def for_host(self, host: str, *, focus_required: bool = False) -> Judgement:
        """A browser tab, as the extension reports it (a host, never a full URL)."""
        name = normalise_host(host or "")
        if self.is_exam_host(host or ""):
            return self._judge("exam", "extension", name, focus_required)
        for group in self.sites:
            best: _Site | None = None
            for site in group:
                if site.pattern.match(name) and (best is None or site.specificity > best.specificity):
                    best = site
            if best is not None:
                return self._judge(best.category, "extension", name, focus_required)
        return self._judge("unknown", "extension", name or "?", focus_required)

    def for_app(self, *, process: str = "", exe: str = "", window_class: str = "", title: str = "",
                focus_required: bool = False) -> Judgement:
        """The foreground program (no extension, or not a browser): by window class, process or
        executable name, then title. Never ``exam``: only the extension can confirm the exam."""
        names = {n for n in (_norm(process or ""), _norm(_basename(exe or ""))) if n}
        classes = {c.strip().lower() for c in re.split(r"[\s,\x00]+", window_class or "") if c.strip()}
        if window_class.strip():
            classes.add(window_class.strip().lower())
        seen = (process or _basename(exe or "") or window_class or "?").strip()[:128]
        for app in self.apps:
            by_class = bool(app.classes & classes)
            by_name = bool(app.names & names)
            if app.titles:
                if (app.names or app.classes) and not (by_name or by_class):
                    continue
                found = next((m for m in (p.search(title or "") for p in app.titles) if m), None)
                if found is None:
                    continue
                what = found.group(0).strip(" -–—:")[:80]
                label = app.label or (f"{seen}: {what}" if what else seen)
                return self._judge(app.category, "window", label, focus_required)
            if by_class:
                return self._judge(app.category, "window", app.label or seen, focus_required)
            if by_name:
                return self._judge(app.category, "process", app.label or seen, focus_required)
        return self._judge("unknown", "window" if window_class else "process", seen, focus_required)


# -- the file
def _parse(text: str, where: str) -> dict[str, Any]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = re.search(r"line (\d+)", str(exc))
        raise BadInput.keyed("policy.syntax", f"{where}:{line.group(1) if line else 1}", _HINT,
                             detail=str(exc)) from None
    lines = _Lines(text, where)
    unknown = set(data) - {"replace", "levels", "exam", "app", "site"}
    if unknown:
        name = sorted(unknown)[0]
        raise BadInput.keyed("policy.unknown_field", lines.key(None, name), _HINT, field=name)
    replace = data.get("replace", False)
    if not isinstance(replace, bool):
        raise BadInput.keyed("policy.bad_value", lines.key(None, "replace"), _HINT, field="replace",
                             detail="true / false")
    levels = _table(data, "levels", lines)
    for category, level in levels.items():
        if category not in CATEGORIES:
            raise BadInput.keyed("policy.bad_category", lines.key("levels", category), _HINT,
                                 value=category, choices=", ".join(CATEGORIES))
        if level not in LEVELS:
            raise BadInput.keyed("policy.bad_level", lines.key("levels", category), _HINT,
                                 value=level, choices=", ".join(LEVELS))
    exam_table = _table(data, "exam", lines)
    if set(exam_table) - {"hosts"}:
        name = sorted(set(exam_table) - {"hosts"})[0]
        raise BadInput.keyed("policy.unknown_field", lines.key("exam", name), _HINT, field=name)
    exam = {normalise_host(h) for h in _strings(exam_table, "hosts", lines.key("exam", "hosts"))}
    apps = [_app(entry, lines.entry("app", n)) for n, entry in enumerate(_entries(data, "app", lines))]
    sites = [site for n, entry in enumerate(_entries(data, "site", lines))
             for site in _sites(entry, lines.entry("site", n))]
    return {"replace": replace, "levels": levels, "exam": exam, "apps": apps, "sites": sites}


def _table(data: dict, name: str, lines: "_Lines") -> dict:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise BadInput.keyed("policy.bad_value", lines.key(None, name), _HINT, field=name, detail="[table]")
    return value


def _entries(data: dict, name: str, lines: "_Lines") -> list[dict]:
    value = data.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise BadInput.keyed("policy.bad_value", lines.key(None, name), _HINT, field=name, detail=f"[[{name}]]")
    return value


def _strings(entry: dict, name: str, where: str) -> list[str]:
    value = entry.get(name, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise BadInput.keyed("policy.bad_value", where, _HINT, field=name, detail='["…", "…"]')
    return value


def _common(entry: dict, fields: tuple[str, ...], where: str) -> tuple[str, str]:
    unknown = sorted(set(entry) - set(fields))
    if unknown:
        raise BadInput.keyed("policy.unknown_field", where, _HINT, field=unknown[0])
    category = entry.get("category")
    if category not in CATEGORIES:
        raise BadInput.keyed("policy.bad_category", where, _HINT, value=category, choices=", ".join(CATEGORIES))
    label = entry.get("label", "")  # optional: without one, what was seen is shown
    if not isinstance(label, str) or (entry.get("label") is not None and not label.strip()):
        raise BadInput.keyed("policy.bad_value", where, _HINT, field="label", detail='"…"')
    return label.strip(), category


def _app(entry: dict, where: str) -> _App:
    label, category = _common(entry, FIELDS_APP, where)
    names = {_norm(n) for key in ("process", "exe") for n in _strings(entry, key, where)}
    classes = {c.strip().lower() for c in _strings(entry, "window_class", where)}
    titles = []
    for text in _strings(entry, "title", where):
        try:
            titles.append(re.compile(text, re.IGNORECASE))
        except re.error as exc:
            raise BadInput.keyed("policy.bad_regex", where, _HINT, value=text, detail=exc) from None
    if not (names or classes or titles):
        raise BadInput.keyed("policy.empty_app", where, _HINT)
    return _App(label, category, frozenset(names), frozenset(classes), tuple(titles))


def _sites(entry: dict, where: str) -> list[_Site]:
    label, category = _common(entry, FIELDS_SITE, where)
    hosts = _strings(entry, "hosts", where)
    if not hosts:
        raise BadInput.keyed("policy.empty_site", where, _HINT)
    out = []
    for host in hosts:
        if not re.match(r"^[a-z0-9*.\-:/_\[\]]+$", host.strip().lower()):
            raise BadInput.keyed("policy.bad_host", where, _HINT, value=host)
        pattern, specificity = _host_pattern(host)
        out.append(_Site(label, category, pattern, specificity))
    return out


class _Lines:
    """Where things are in the file: an error names the line of its entry or key."""

    def __init__(self, text: str, where: str) -> None:
        self.lines = text.splitlines()
        self.where = where

    def entry(self, array: str, index: int) -> str:
        header = re.compile(rf"^\s*\[\[\s*{array}\s*\]\]")
        seen = -1
        for number, line in enumerate(self.lines, 1):
            if header.match(line):
                seen += 1
                if seen == index:
                    return f"{self.where}:{number}"
        return f"{self.where}:1"

    def key(self, table: str | None, key: str) -> str:
        inside = table is None
        header = re.compile(rf"^\s*\[\s*{re.escape(table)}\s*\]") if table else None
        for number, line in enumerate(self.lines, 1):
            if header is not None and header.match(line):
                inside = True
                continue
            if table is None and line.lstrip().startswith("["):
                inside = False  # top-level keys come before the first table
            if inside and re.match(rf"^\s*\"?{re.escape(key)}\"?\s*=", line):
                return f"{self.where}:{number}"
            if inside and table is not None and re.match(r"^\s*\[", line) and not header.match(line):
                break
        # a table written as [key] (e.g. `levels` not a table) or not found: its header
        for number, line in enumerate(self.lines, 1):
            if re.match(rf"^\s*\[+\s*{re.escape(key)}\s*\]+", line):
                return f"{self.where}:{number}"
        return f"{self.where}:1"
