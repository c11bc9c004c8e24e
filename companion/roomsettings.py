"""The companion follows the room's settings that the server sends (core/roomsettings.py).

Each heartbeat answer carries ``settings``: a companion started with a slower heartbeat than
the room's (``--heartbeat 600``) beats at the room's pace from its first answer on. Each
heartbeat also says what the companion runs with (its exam pattern, the round trip of the
previous heartbeat, for the server's estimate of this machine's clock offset), so the
server can flag a companion outside the room's settings.
"""
from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError

from core.roomsettings import RoomSettings

log = logging.getLogger("examroom.companion")


class RoomFollower:
    def __init__(self, config: Any) -> None:
        self.config = config
        self.rtt_s: float | None = None
        self.settings: RoomSettings | None = None

    def payload(self, payload: dict[str, Any]) -> dict[str, Any]:
        payload["exam_title"] = self.config.exam_title
        if self.rtt_s is not None:
            payload["rtt_ms"] = round(self.rtt_s * 1000, 1)
        return payload

    def answered(self, answer: Any, rtt_s: float) -> None:
        self.rtt_s = rtt_s
        raw = answer.get("settings") if isinstance(answer, dict) else None
        if not isinstance(raw, dict):
            return   # an older server: no settings to follow
        try:
            settings = RoomSettings.model_validate(raw)
        except ValidationError as exc:
            log.warning("room settings not understood: %s", exc)
            return
        self.settings = settings
        # never slower than the room (a faster pace, as in tests, is kept)
        if settings.heartbeat_s < self.config.heartbeat_s:
            log.warning("heartbeat every %.1f s as the room asks (was %.1f s)", settings.heartbeat_s,
                        self.config.heartbeat_s)
            self.config.heartbeat_s = settings.heartbeat_s
