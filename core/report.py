"""Report and Machine: the JSON report of CONTRACT section 3 (``examroom.report/1``)."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from core.result import CheckResult, Status, worst

SCHEMA = "examroom.report/1"


class Machine(BaseModel):
    # Extra facts (cpu_count, ram_gb, displays...) are added by the system checks issue.
    model_config = ConfigDict(extra="allow")

    id: str
    hostname: str
    os: str
    os_version: str = ""
    arch: str = ""


class Report(BaseModel):
    model_config = ConfigDict(extra="allow")

    schema_: str = Field(SCHEMA, alias="schema")
    agent_version: str
    machine: Machine
    started_at: str
    finished_at: str
    status: Status
    ready: bool
    lang: str = "en"
    checks: list[CheckResult]

    @classmethod
    def build(cls, *, agent_version: str, machine: Machine, started_at: str, finished_at: str,
              checks: list[CheckResult], lang: str) -> "Report":
        status = worst([c.status for c in checks])
        ready = not any(c.status in (Status.fail, Status.error) for c in checks)
        return cls(schema=SCHEMA, agent_version=agent_version, machine=machine,
                   started_at=started_at, finished_at=finished_at, status=status, ready=ready,
                   lang=lang, checks=checks)

    def to_json(self, indent: int | None = 2) -> str:
        return self.model_dump_json(by_alias=True, indent=indent)

    def to_dict(self) -> dict:
        return self.model_dump(mode="json", by_alias=True)
