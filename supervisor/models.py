"""What crosses the wire between agents, the dashboard and the server (pydantic).

Reports are ``core.report.Report`` as the agent built them: the server stores and shows
them, it never re-evaluates a check. Floats refuse NaN and infinities (they are not JSON).
"""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from core.report import Machine

LiveStatus = Literal["online", "lost", "never"]


class _In(BaseModel):
    model_config = ConfigDict(allow_inf_nan=False, str_max_length=4096)


class ErrorBody(BaseModel):
    error: str
    detail: Any = None


class LoginIn(_In):
    username: str = Field(max_length=64)
    password: str = Field(max_length=1024)
    device: str | None = Field(None, max_length=200, description="the device token a previous login of this "
                               "account gave this browser: its failures are then counted apart")


class TokenOut(BaseModel):
    token: str
    device: str | None = Field(None, description="keep it and send it with the next logins of this account")


class RoomSettingsIn(_In):
    """A room's own companion settings; a field left out (or null) is the server's value."""
    model_config = ConfigDict(allow_inf_nan=False, str_max_length=4096, extra="forbid")

    heartbeat_s: float | None = Field(None, description="seconds between two heartbeats (0.2 to 600)")
    lost_after_s: float | None = Field(None, description="silence after which a companion is lost (1 to 3600, "
                                       "at least two heartbeats)")
    exam_title: str | None = Field(None, max_length=512, description="pattern (regex) of the exam window's title")
    platform_url: str | None = Field(None, max_length=2048, description="the exam platform (http or https)")


class RoomSettingsOut(BaseModel):
    code: str
    settings: dict[str, Any] = Field(description="what the room's companions run with")
    own: dict[str, Any] = Field(description="the values the room sets itself")
    server: dict[str, Any] = Field(description="the server's values, for what the room does not set")


class RoomIn(_In):
    name: str = Field(min_length=1, max_length=120)
    settings: RoomSettingsIn | None = Field(None, description="the room's own companion settings")


class RoomOut(BaseModel):
    code: str
    name: str


class RoomSummary(BaseModel):
    code: str
    name: str
    created_at: str
    machines: int
    ready: int
    alerts: int


class EnrollIn(_In):
    room_code: str = Field(min_length=1, max_length=32)
    machine: Machine
    secret: str | None = Field(None, max_length=128, description="the secret this machine's first enrolment "
                               "returned: required to enrol this machine id again")


class EnrollOut(BaseModel):
    machine_id: str
    token: str
    secret: str | None = Field(None, description="first enrolment only: keep it, send it when enrolling again")
    token_expires_at: str | None = Field(None, description="when this token stops working (the server's clock)")
    token_lifetime_s: float | None = Field(None, description="the token's lifetime: enrol again (with the secret) "
                                                             "before it runs out; an expired token is 401 token_expired")


class EnrolmentIn(_In):
    open_hours: float | None = Field(None, ge=0, le=24 * 30, description="open for that long from now; 0: close")
    max_machines: int | None = Field(None, ge=1, le=5000)


class EnrolmentOut(BaseModel):
    open: bool
    open_until: str | None
    max_machines: int


class ReportOut(BaseModel):
    machine_id: str
    report_at: str
    status: str
    ready: bool


class EventIn(_In):
    """One companion event; every other field is a detail kept as it came."""

    model_config = ConfigDict(extra="allow", allow_inf_nan=False, str_max_length=4096)

    id: UUID
    kind: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")
    at: datetime


class EventsIn(_In):
    events: list[EventIn] = Field(max_length=1000)


class EventsOut(BaseModel):
    stored: int
    duplicates: int


class NetIn(_In):
    up: bool | None = None
    latency_ms: float | None = Field(None, ge=0, le=86_400_000)
    platform_url: str | None = Field(None, max_length=2048)


class FocusIn(_In):
    exam: bool | None = None
    title: str | None = Field(None, max_length=1024)
    process: str | None = Field(None, max_length=256)
    focus_required: bool | None = Field(None, description="the platform's current question requires focus")


class HeartbeatIn(_In):
    at: datetime | None = None
    interval_s: float | None = Field(None, gt=0, le=3600)
    net: NetIn | None = None
    focus: FocusIn | None = None
    forbidden: list[Annotated[str, Field(max_length=256)]] | None = Field(None, max_length=200)
    companion_version: str | None = Field(None, max_length=64)
    exam_title: str | None = Field(None, max_length=512, description="the exam pattern the companion runs with")
    rtt_ms: float | None = Field(None, ge=0, le=600_000, description="round trip of the previous heartbeat")


class HeartbeatOut(BaseModel):
    """An extensible object: companions ignore what they do not know."""
    model_config = ConfigDict(extra="allow")

    live: LiveStatus
    server_time: str
    settings: dict[str, Any] | None = Field(None, description="the room's settings (core/roomsettings.py)")


class Problem(BaseModel):
    id: str
    title: str
    status: str
    summary: str
    remediation: str | None = None


class MachineOut(BaseModel):
    machine_id: str
    hostname: str
    ready: bool | None
    report_status: str | None
    report_at: str | None
    live: LiveStatus
    stopped: bool = Field(False, description="the companion said it was stopping (companion_stopped): "
                                             "live is then lost, and the tile says stopped, not lost")
    last_seen: str | None
    alerts: int
    os: str
    os_version: str
    facts: dict[str, Any]
    problems: list[Problem]
    focus: Literal["exam", "away"] | None
    focus_title: str | None
    net: Literal["up", "down"] | None
    forbidden: list[str]
    exam: Literal["started", "ended"] | None = Field(None, description="the exam page's last word (exam_started/exam_ended)")
    exam_at: str | None = Field(None, description="when the exam started or ended (the machine's clock)")
    focus_level: Literal["journal", "notice", "alert"] | None = Field(
        None, description="when away: the level the companion judged (alert, notice or journal)")
    focus_category: str | None = Field(None, description="when away: the category of where the candidate is")
    focus_label: str | None = Field(None, description="when away: the host or program")
    focus_required: bool = Field(False, description="the platform's page shows a question that requires focus "
                                                     "(any departure is then an alert): from the heartbeat, and "
                                                     "from the departure's event when away")
    flags: dict[str, str] = Field(default_factory=dict, description="tile flags (e.g. extension) -> level")
    clock_offset_s: float | None = Field(None, description="server clock minus the machine's (heartbeat exchange)")
    revoked: bool = Field(False, description="a supervisor revoked it: refused (machine_revoked) until removed")
    revoked_at: str | None = None
    revoked_by: str | None = None


class EventOut(BaseModel):
    seq: int
    id: str
    kind: str
    at: str
    received_at: str | None = Field(None, description="when the server received it (the server's clock)")
    at_corrected: str | None = Field(None, description="at, on the server's clock (the machine's offset applied)")
    machine_id: str
    hostname: str
    details: dict[str, Any]
    alert: bool
    acked_at: str | None
    acked_by: str | None = None
    group: int | None = Field(None, description="an alert's group (GET .../alert-groups)")


class AlertOut(BaseModel):
    id: str
    seq: int
    kind: str
    at: str
    received_at: str | None = None
    at_corrected: str | None = None
    machine_id: str
    hostname: str
    details: dict[str, Any]
    acked_at: str | None
    acked_by: str | None
    group: int | None = Field(None, description="its group (GET .../alert-groups)")


class AckOut(BaseModel):
    id: str
    acked_at: str
    acked_by: str
    group: int | None = None


class AlertGroupOut(BaseModel):
    """The alerts of one machine of one kind about one subject (supervisor/alertgroups.py)."""
    gid: int
    machine_id: str
    hostname: str
    kind: str
    subject: str = Field(description="what the alerts are about (program, host...), '' when they do not say")
    count: int
    open: int = Field(description="how many are not acknowledged")
    first_seq: int
    last_seq: int = Field(description="the seq of its newest alert: the paging cursor")
    first_at: str
    last_at: str
    first_at_corrected: str | None = None
    last_at_corrected: str | None = None
    last_id: str = Field(description="id of its newest alert")
    last_details: dict[str, Any]
    acked_at: str | None = Field(None, description="its latest acknowledgement")
    acked_by: str | None = None


class AlertGroupPage(BaseModel):
    groups: list[AlertGroupOut]
    next: int | None = Field(description="the next page's before= (older groups); null: no more")


class GroupAlertsPage(BaseModel):
    alerts: list[AlertOut]
    next: int | None = Field(description="the next page's before= (older alerts); null: no more")


class GroupAckOut(BaseModel):
    acked: int = Field(description="how many alerts this acknowledged")
    group: AlertGroupOut


class IncidentLine(BaseModel):
    at: str
    at_corrected: str | None = Field(None, description="at on the server's clock (shown); at keys the edits")
    hostname: str
    machine_id: str
    code: str
    label: str
    kind: str
    details_text: str
    repeats: int = Field(1, description="how many times this alert came (repeats are one line)")


# -- the supervisor's completion of the PV d'incident draft (kept on the server, shared by
#    every supervisor of the room). Limits: a session of twenty candidates fills a few
#    dozen lines; these bounds leave room for that many times over while capping a body.
PvText = Field(None, max_length=2000)
PV_KEY = r"^[A-Za-z0-9_.:|+\-]{1,200}$"


class PvLineEdit(_In):
    """Changed cells of one of the server's draft lines (keyed ``at|machine_id|kind``)."""
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, str_max_length=2000)
    code: str | None = Field(None, max_length=64)
    label: str | None = PvText
    details_text: str | None = PvText


class PvExtraLine(_In):
    """A line the supervisor added by hand."""
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, str_max_length=2000)
    key: str = Field(pattern=PV_KEY)
    time: str = Field("", max_length=32)
    hostname: str = Field("", max_length=200)
    code: str = Field("", max_length=64)
    label: str = Field("", max_length=2000)
    details_text: str = Field("", max_length=2000)


class PvEditsIn(_In):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, str_max_length=8000)
    edits: dict[str, PvLineEdit] = Field(default_factory=dict, max_length=500)
    extra: list[PvExtraLine] = Field(default_factory=list, max_length=200)
    comment: str = Field("", max_length=8000)
    client: str | None = Field(None, max_length=64, description="the page that saved (lets it ignore its own echo)")


class PvPatchIn(_In):
    """Line edits made from one version of the record (PATCH: merged line by line)."""
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, str_max_length=8000)
    base_version: int = Field(0, ge=0, le=2**62, description="the version these edits were made from")
    edits: dict[Annotated[str, Field(pattern=PV_KEY)], PvLineEdit | None] = Field(default_factory=dict, max_length=500)
    extra: dict[Annotated[str, Field(pattern=PV_KEY)], PvExtraLine | None] = Field(default_factory=dict, max_length=200)
    comment: str | None = Field(None, max_length=8000)
    client: str | None = Field(None, max_length=64)


class PvLineMeta(BaseModel):
    v: int = Field(description="the record's version when this line last changed")
    by: str | None = None


class PvConflict(BaseModel):
    line: str = Field(description="e:<draft line key>, x:<added line key> or comment")
    theirs: Any = None
    mine: Any = None
    by: str | None = None


class PvEditsOut(BaseModel):
    edits: dict[str, PvLineEdit]
    extra: list[PvExtraLine]
    comment: str
    lines: dict[str, PvLineMeta] = Field(default_factory=dict)
    conflicts: list[PvConflict] = Field(default_factory=list, description="PATCH: lines not saved (changed meanwhile)")
    version: int = Field(description="0: never saved; +1 at each save")
    updated_at: str | None
    updated_by: str | None
    client: str | None = None


class ExamMachine(BaseModel):
    machine_id: str
    hostname: str
    started_at: str | None
    ended_at: str | None


class ExamTimeline(BaseModel):
    started_at: str | None = Field(description="the first exam_started of the room")
    ended_at: str | None = Field(description="the last exam_ended of the room")
    machines: list[ExamMachine]
