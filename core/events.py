"""The companion's Event model: what travels from the watchers to the outbox and the server.

Wire shape (agreed with the server): ``{"id", "kind", "at", ...details}`` with the details
flat beside id/kind/at; ``at`` is UTC ISO 8601 with milliseconds and a ``Z``.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from pydantic import BaseModel, Field

# Kinds sent: focus_lost, focus_regained, net_down, net_up, forbidden_process,
# companion_started, companion_stopped (CONTRACT section 5), and exam_started / exam_ended
# when the exam page tells the local endpoint (companion/localapi.py).
_RESERVED = ("id", "kind", "at")


def utc_iso(moment: datetime | None = None) -> str:
    moment = (moment or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class Event(BaseModel):
    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    kind: str
    at: str = Field(default_factory=utc_iso)
    details: dict[str, Any] = Field(default_factory=dict)

    def wire(self) -> dict[str, Any]:
        # details never overwrite the identity fields (a title called "id" stays a title)
        flat = {k: v for k, v in self.details.items() if k not in _RESERVED}
        return {"id": self.id, "kind": self.kind, "at": self.at, **flat}

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> "Event":
        details = {k: v for k, v in data.items() if k not in _RESERVED}
        return cls(id=data["id"], kind=data["kind"], at=data["at"], details=details)


def event(kind: str, **details: Any) -> Event:
    return Event(kind=kind, details=details)
