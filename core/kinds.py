"""Event kinds as data: the one definition of every kind (core/data/kinds.toml).

Who reads it: the companion (it clips its events to the typed details before sending), the
server (which events are alerts, which close which, what they do to a machine's tile, which
only the server may raise), the PV d'incident builder (code, text, durations) and the
dashboard (``GET /api/v1/kinds``: labels, the details shown, tile effects).

Details come from machines, which are untrusted: :meth:`KindSpec.clean` keeps a declared
detail only with its declared type (strings clipped to their ``max``), and bounds the
undeclared ones (a few, strings clipped, small lists or objects), so a consumer never meets a list where it expects a
name. ``EXAMROOM_KINDS`` names a spec file to use instead of the bundled one (a centre's or a
test's own kinds).
"""
from __future__ import annotations

import json
import math
import os
import re
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

BUNDLED = Path(__file__).parent / "data" / "kinds.toml"
LEVELS = ("journal", "notice", "alert")
CATEGORIES = ("exam", "tool", "search", "communication", "ai_assistant", "remote_control", "unknown")
TILE_EFFECTS = ("focus_away", "focus_exam", "net_down", "net_up", "forbidden_add", "forbidden_remove",
                "stopped", "started", "exam_phase", "flag_on", "flag_off")
ACT_OF = "act_of"   # the detail naming the alert of the act an event belongs to (one alert per act)
Level = Literal["journal", "notice", "alert"]
DetailType = Literal["str", "int", "float", "bool", "duration", "time", "host", "category", "level", "list", "map"]

EXTRA_MAX = 16         # undeclared details kept per event
EXTRA_TEXT_MAX = 256   # and the longest string among them
EXTRA_JSON_MAX = 1024  # and the largest list or object among them, as JSON
_HOST = re.compile(r"^[A-Za-z0-9.\-_:\[\]]{1,253}$")
_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?$")


class KindsError(ValueError):
    """A spec file that cannot be used; the message names the file and line."""


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DetailSpec(_Spec):
    type: DetailType = "str"
    max: int = Field(1000, ge=1, le=100_000)
    choices: list[str] | None = None
    text: str | None = None       # dashboard: translation key with {value}
    wrap: str | None = None       # PV: translation key with {value} when present, "" when absent
    fallback: str | None = None   # the detail used when this one is absent
    values: str | None = None     # translation key prefix of its values (dash.category. + value)

    def clean(self, value: Any) -> Any:
        """The value as declared, or None when it cannot be (then the detail is dropped)."""
        kind = self.type
        if kind in ("int", "float", "duration"):
            if not _is_number(value) or (kind == "duration" and value < 0):
                return None
            if kind == "int":
                return int(value) if float(value).is_integer() else None
            return value
        if kind == "bool":
            return value if isinstance(value, bool) else None
        if kind == "map":   # {name: scalar or short list of scalars}, e.g. settings announced vs the room's
            if not isinstance(value, dict):
                return None
            out = {}
            for key, item in list(value.items())[:EXTRA_MAX]:
                items = item if isinstance(item, list) else [item]
                kept = [v[:EXTRA_TEXT_MAX] if isinstance(v, str) else v for v in items[:4]
                        if isinstance(v, (str, bool)) or _is_number(v)]
                out[str(key)[:64]] = kept if isinstance(item, list) else (kept[0] if kept else None)
            return out
        if kind == "list":
            if not isinstance(value, list):
                return None
            kept = [v for v in value[:self.max] if isinstance(v, (str, bool)) or _is_number(v)]
            return [v[:EXTRA_TEXT_MAX] if isinstance(v, str) else v for v in kept]
        if isinstance(value, (int, float)) and not isinstance(value, bool) and kind == "str":
            value = str(value)
        if not isinstance(value, str):
            return None
        if kind == "level":
            return value if value in LEVELS else None
        if kind == "category":
            return value if value in CATEGORIES else None
        if kind == "host":
            value = value.strip().lower()
            return value if _HOST.match(value) else None
        if kind == "time":
            return value if _TIME.match(value) else None
        if self.choices is not None and value not in self.choices:
            return None
        return value[:self.max]


class Variant(_Spec):
    """Overrides for the events of a kind whose details match ``when``."""
    when: dict[str, str | int | bool]
    level: Level | None = None
    label: str | None = None
    closes: str | None = None
    pair_by: list[str] | None = None
    duration: str | None = None
    show: list[str] | None = None
    tile: str | None = None
    pv_code: str | None = None
    pv_text: str | None = None
    pv_text_closed: str | None = None


class KindSpec(_Spec):
    name: str
    origin: Literal["machine", "server"]
    level: Level = "journal"
    level_from: str | None = None
    label: str = ""
    details: dict[str, DetailSpec] = Field(default_factory=dict)
    show: list[str] = Field(default_factory=list)
    closes: str | None = None
    pair_by: list[str] = Field(default_factory=list)
    duration: str | None = None
    tile: str | None = None
    flag: str | None = None       # flag_on / flag_off: the tile's flag
    pv_code: str | None = None
    pv_text: str | None = None
    pv_text_closed: str | None = None
    variant: list[Variant] = Field(default_factory=list)

    def model_post_init(self, _context: Any) -> None:
        if not self.label:
            self.label = f"dash.kind.{self.name}"
        for name in [*self.show, *([self.level_from] if self.level_from else []), *self.pair_by]:
            if name not in self.details:
                raise ValueError(f"{name!r} is not one of its details")
        for effect in [self.tile, *(v.tile for v in self.variant)]:
            if effect is not None and effect not in TILE_EFFECTS:
                raise ValueError(f"unknown tile effect {effect!r} (one of {', '.join(TILE_EFFECTS)})")
            if effect in ("flag_on", "flag_off") and not self.flag:
                raise ValueError(f"tile effect {effect!r} needs a `flag`")

    def resolve(self, details: dict[str, Any]) -> "KindSpec":
        """This kind as it applies to one event: the first variant its details match, merged in."""
        for variant in self.variant:
            if all(details.get(k) == v for k, v in variant.when.items()):
                changes = {k: v for k, v in variant.model_dump(exclude={"when"}).items() if v is not None}
                return self.model_copy(update={**changes, "variant": []})
        return self

    def level_of(self, details: dict[str, Any]) -> str:
        spec = self.resolve(details)
        level = spec.level
        if spec.level_from and spec.closes is None:
            judged = details.get(spec.level_from)
            if judged in LEVELS:
                level = judged
        if level == "alert" and ACT_OF in self.details and isinstance(details.get(ACT_OF), str) and details[ACT_OF]:
            # another signal of an act already alerted (companion/acts.py): one alert per act
            return "notice"
        return level

    def is_alert(self, details: dict[str, Any]) -> bool:
        return self.level_of(details) == "alert"

    def clean(self, details: dict[str, Any]) -> dict[str, Any]:
        """Declared details with their declared types; a few bounded undeclared ones."""
        out: dict[str, Any] = {}
        extra = 0
        for key, value in details.items():
            spec = self.details.get(key)
            if spec is not None:
                value = spec.clean(value)
                if value is not None:
                    out[key] = value
                continue
            if extra >= EXTRA_MAX or not isinstance(key, str) or len(key) > 64:
                continue
            if isinstance(value, str):
                out[key] = value[:EXTRA_TEXT_MAX]
            elif value is None or isinstance(value, bool) or _is_number(value):
                out[key] = value
            elif _json_size(value) <= EXTRA_JSON_MAX:
                out[key] = value  # kept as it came, never read by a consumer (not declared)
            else:
                continue
            extra += 1
        return out

    def public(self) -> dict[str, Any]:
        return self.model_dump()


class Kinds:
    """Every kind of one spec file; an unknown kind is a journal line shown by its name."""

    def __init__(self, specs: dict[str, KindSpec], source: Path) -> None:
        self.specs = specs
        self.source = source
        # a kind that some event closes: the PV waits for its end to give a duration
        self.closable: dict[str, list[str]] = {}  # opened kind -> details pairing it with its end
        for spec in specs.values():
            for part in (spec, *spec.variant):
                if part.closes:
                    self.closable[part.closes] = list(part.pair_by or [])

    def get(self, kind: str) -> KindSpec:
        spec = self.specs.get(kind)
        if spec is None:
            spec = KindSpec(name=kind, origin="machine", label=f"dash.kind.{kind}")
        return spec

    def __contains__(self, kind: str) -> bool:
        return kind in self.specs

    def is_alert(self, kind: str, details: dict[str, Any]) -> bool:
        return self.get(kind).is_alert(details)

    def level_of(self, kind: str, details: dict[str, Any]) -> str:
        return self.get(kind).level_of(details)

    def clean(self, kind: str, details: dict[str, Any]) -> dict[str, Any]:
        return self.get(kind).clean(details)

    def server_only(self) -> set[str]:
        """Kinds only the server raises: a machine sending one is refused."""
        return {name for name, spec in self.specs.items() if spec.origin == "server"}

    def public(self) -> dict[str, Any]:
        return {"levels": list(LEVELS), "categories": list(CATEGORIES),
                "kinds": {name: spec.public() for name, spec in self.specs.items()}}


def load(path: Path | None = None) -> Kinds:
    """The spec at ``path`` (default: the bundled one); KindsError names file:line."""
    path = path or BUNDLED
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise KindsError(f"{path}: cannot read the event kinds ({exc})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise KindsError(f"{path}: {exc}") from None
    specs: dict[str, KindSpec] = {}
    for name, entry in data.items():
        where = f"{path}:{_line_of(text, name)}"
        if not re.match(r"^[a-z][a-z0-9_]{0,63}$", name) or not isinstance(entry, dict):
            raise KindsError(f"{where}: [{name}] is not an event kind (lower-case name, then a table)")
        try:
            specs[name] = KindSpec(name=name, **entry)
        except (ValidationError, ValueError, TypeError) as exc:
            raise KindsError(f"{where}: kind {name!r}: {_reason(exc)}") from None
    for name, spec in specs.items():
        for closes in {s.closes for s in (spec, *spec.variant) if s.closes}:
            if closes not in specs:
                raise KindsError(f"{path}:{_line_of(text, name)}: kind {name!r} closes {closes!r}, "
                                 "which the file does not define")
    return Kinds(specs, path)


@lru_cache(maxsize=4)
def _cached(path: str) -> Kinds:
    return load(Path(path) if path else None)


def kinds() -> Kinds:
    """The kinds in use: ``EXAMROOM_KINDS`` when set, else the bundled spec (loaded once)."""
    return _cached(os.environ.get("EXAMROOM_KINDS", ""))


def _json_size(value: Any) -> int:
    try:
        return len(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError):
        return EXTRA_JSON_MAX + 1


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _line_of(text: str, name: str) -> int:
    header = re.compile(rf"^\s*\[\s*\"?{re.escape(name)}\"?\s*\]")
    for number, line in enumerate(text.splitlines(), 1):
        if header.match(line):
            return number
    return 1


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return f"{where}: {first['msg']}" if where else first["msg"]
    return str(exc)
