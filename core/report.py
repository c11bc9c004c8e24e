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
    # Partial runs (--only/--skip): the checks not run. They are also in ``checks`` as ``skip``
    # (after the ones that ran), so a report always lists every check; a room summary shows
    # such a report as partial, never as ready.
    not_run: list[str] = Field(default_factory=list)

    @classmethod
    def build(cls, *, agent_version: str, machine: Machine, started_at: str, finished_at: str,
              checks: list[CheckResult], lang: str, not_run: list[CheckResult] = ()) -> "Report":
        status = worst([c.status for c in checks])
        ready = not any(c.status in (Status.fail, Status.error) for c in checks)
        return cls(schema=SCHEMA, agent_version=agent_version, machine=machine,
                   started_at=started_at, finished_at=finished_at, status=status, ready=ready,
                   lang=lang, checks=[*checks, *not_run], not_run=[c.id for c in not_run])

    def ran(self) -> list[CheckResult]:
        """The checks that ran (what the renderers show one by one)."""
        return [c for c in self.checks if c.id not in self.not_run]

    def to_json(self, indent: int | None = 2) -> str:
        return self.model_dump_json(by_alias=True, indent=indent)

    def to_dict(self) -> dict:
        return self.model_dump(mode="json", by_alias=True)
