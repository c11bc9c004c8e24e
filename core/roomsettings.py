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
