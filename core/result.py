"""Status, Item and CheckResult: the unit of the crash test that travels (JSON report, server).

The shapes are those of CONTRACT.md section 3. The server imports these models, never the
check code: a status is decided once, on the machine.
"""
from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, ConfigDict, Field

# The check ids of CONTRACT section 2, in the order a technician reads them.
CHECK_IDS: tuple[str, ...] = (
    "browser", "pix_companion", "pdf_reader", "office_suite", "image_editor", "video_editor", "sound",
    "storage", "archive", "screen", "mouse", "bandwidth", "whitelist",
)


class Status(str, Enum):
    ok = "ok"
    warn = "warn"
    fail = "fail"
    error = "error"
    skip = "skip"

    @property
    def severity(self) -> int:
        return _SEVERITY[self]


# Contract: fail > error > warn > ok > skip.
_SEVERITY = {Status.skip: 0, Status.ok: 1, Status.warn: 2, Status.error: 3, Status.fail: 4}


def worst(statuses: list[Status] | tuple[Status, ...], default: Status = Status.skip) -> Status:
    """The worst status of a list (the report's status is the worst of its checks)."""
    return max(statuses, key=lambda s: s.severity, default=default)


class Item(BaseModel):
    """One thing a check found: a program, a URL, a display...

    Extra fields are kept (whitelist items carry url, host, reason, ip, latency_ms,
    http_status; display items carry width and height).
    """

    model_config = ConfigDict(extra="allow")

    name: str
    version: str | None = None
    released: str | None = None
    status: Status = Status.ok
    detail: str | None = None


class CheckResult(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    title: str
    status: Status
    summary: str
    remediation: str | None = None
    measured: float | None = None
    threshold: float | None = None
    unit: str | None = None
    duration_s: float = 0.0
    items: list[Item] = Field(default_factory=list)

    def with_duration(self, seconds: float) -> "CheckResult":
        return self.model_copy(update={"duration_s": round(seconds, 3)})
