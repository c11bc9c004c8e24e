"""The room's settings: what the server expects of every companion in a room.

Sent by the server in its heartbeat answer (``settings``, an object that may grow), so the
room's settings come from the server, not from each machine's command line: a companion
started with ``--heartbeat 600`` beats at the room's pace after its first answer, and the
server judges silence by the room's lost timeout whatever a companion announces. A companion
announcing other settings (a slower heartbeat, another exam pattern or platform) is flagged on
its tile (event ``companion_settings``).
"""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

# the companion's default pattern (companion/focus DEFAULT_EXAM_TITLE; a test checks they agree)
DEFAULT_EXAM_TITLE = r"\bPix\b"
# a companion's heartbeat may lag this much behind the room's before it counts as "outside"
HEARTBEAT_SLACK = 1.5


class RoomSettings(BaseModel):
    model_config = ConfigDict(extra="allow")   # an older companion ignores what it does not know

    heartbeat_s: float = Field(2.0, gt=0, le=600, description="seconds between two heartbeats")
    lost_after_s: float = Field(6.0, gt=0, le=3600, description="silence after which a companion is lost")
    exam_title: str = Field(DEFAULT_EXAM_TITLE, max_length=512, description="pattern of the exam window's title")
    platform_url: str | None = Field(None, max_length=2048, description="the exam platform (None: any)")

    def outside(self, *, heartbeat_s: float | None, exam_title: str | None,
                platform_url: str | None) -> dict[str, object]:
        """What a companion announced that is not the room's: {setting: (announced, room's)}."""
        out: dict[str, object] = {}
        if heartbeat_s is not None and heartbeat_s > self.heartbeat_s * HEARTBEAT_SLACK:
            out["heartbeat_s"] = [heartbeat_s, self.heartbeat_s]
        if exam_title is not None and exam_title != self.exam_title:
            out["exam_title"] = [exam_title, self.exam_title]
        if platform_url is not None and self.platform_url is not None and \
                _origin(platform_url) != _origin(self.platform_url):
            out["platform_url"] = [platform_url, self.platform_url]
        return out


def _origin(url: str) -> str:
    from urllib.parse import urlparse

    parts = urlparse(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


# -- a room's own settings (issue 11 item 5): each room may set its own values; what it leaves
#    unset is the server's (``examroom serve --room-*``), so rooms made before keep working.
FIELDS = ("heartbeat_s", "lost_after_s", "exam_title", "platform_url")
HEARTBEAT_RANGE = (0.2, 600.0)      # the bounds of ``examroom serve --room-heartbeat``
LOST_RANGE = (1.0, 3600.0)          # ... and of ``--room-lost-after``
# Titles of windows that are never the exam: a pattern matching all of them would make every
# window the exam (``--exam-title '.'``), which is refused.
_NOT_THE_EXAM = ("Discord", "LibreOffice Calc", "Terminal", "New Tab", "Nouvel onglet", "evince")


class SettingsProblem(ValueError):
    """A room setting that cannot be used: ``field``, the i18n key of the reason, its fields."""

    def __init__(self, field: str, key: str, **fields: object) -> None:
        from core.i18n import t

        super().__init__(f"{field}: {t(key, 'en', **fields)}")
        self.field, self.key, self.fields = field, key, fields

    def text(self, lang: str) -> str:
        from core.i18n import t

        return t(self.key, lang, **self.fields)


def effective(base: RoomSettings, own: dict[str, object]) -> RoomSettings:
    """The settings a room's companions run with: the server's, overlaid by the room's own.
    A room setting a slower heartbeat but no lost timeout gets three heartbeats' worth (as
    ``examroom serve`` does), so its companions are not declared lost between two beats."""
    values = base.model_dump()
    values.update({k: v for k, v in own.items() if k in FIELDS})
    if own.get("heartbeat_s") is not None and own.get("lost_after_s") is None:
        values["lost_after_s"] = max(base.lost_after_s, 3 * float(own["heartbeat_s"]))  # type: ignore[arg-type]
    # never shorter than two heartbeats (``checked`` refuses it; this holds when the server's
    # own values, unknown to the command line that checked, make it so)
    values["lost_after_s"] = max(float(values["lost_after_s"]), 2 * float(values["heartbeat_s"]))
    return RoomSettings(**values)


def checked(own: dict[str, object], base: RoomSettings) -> dict[str, object]:
    """A room's own settings, checked (SettingsProblem names the first wrong field); keys with
    None are dropped (back to the server's value). Returns what to store."""
    import math
    import re
    from urllib.parse import urlparse

    kept: dict[str, object] = {}
    for name in FIELDS:
        value = own.get(name)
        if value is None:
            continue
        if name in ("heartbeat_s", "lost_after_s"):
            low, high = HEARTBEAT_RANGE if name == "heartbeat_s" else LOST_RANGE
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                    or not low <= value <= high:
                raise SettingsProblem(name, "room.settings.range", value=value, low=low, high=high)
            value = float(value)
        elif name == "exam_title":
            if not isinstance(value, str) or not value.strip() or len(value) > 512:
                raise SettingsProblem(name, "room.settings.title_empty")
            try:
                # as the companion runs it (companion/focus/base.py compile_exam_title: case-insensitive)
                pattern = re.compile(value, re.IGNORECASE)
            except re.error as exc:
                raise SettingsProblem(name, "room.settings.title_regex", detail=str(exc)) from None
            if pattern.search("") or all(pattern.search(title) for title in _NOT_THE_EXAM):
                raise SettingsProblem(name, "room.settings.title_any", value=value)
        else:
            try:
                parts = urlparse(value) if isinstance(value, str) and len(value) <= 2048 else None
                _ = parts and parts.hostname   # "http://[x/" raises here, not at urlparse
            except ValueError:   # an unclosed IPv6 bracket: a bad URL, not a server error
                parts = None
            if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
                raise SettingsProblem(name, "room.settings.url", value=str(value)[:80])
        kept[name] = value
    heartbeat = float(kept.get("heartbeat_s", base.heartbeat_s))  # type: ignore[arg-type]
    lost = float(kept["lost_after_s"]) if "lost_after_s" in kept else effective(base, kept).lost_after_s  # type: ignore[arg-type]
    if lost < 2 * heartbeat:
        field = "lost_after_s" if "lost_after_s" in kept else "heartbeat_s"
        raise SettingsProblem(field, "room.settings.lost_short", lost=lost, heartbeat=heartbeat)
    return kept
