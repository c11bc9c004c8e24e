"""A room at a glance, from the latest report of each machine.

Shared by ``examroom report merge`` (offline, from report files) and the supervisor's room
export, so a CSV from either reads the same.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field

from core import csvsafe
from core.i18n import t
from core.report import Report
from core.result import CHECK_IDS
from core.result import CheckResult, Status


@dataclass
class MachineRow:
    machine_id: str
    hostname: str
    os: str
    os_version: str
    ready: bool
    status: Status
    report_at: str
    checks: dict[str, CheckResult] = field(default_factory=dict)
    facts: dict[str, object] = field(default_factory=dict)

    @property
    def problems(self) -> list[CheckResult]:
        """Checks a technician must act on, worst first."""
        bad = [c for c in self.checks.values() if c.status in (Status.fail, Status.error, Status.warn)]
        return sorted(bad, key=lambda c: -c.status.severity)


def row_from_report(report: Report) -> MachineRow:
    machine = report.machine
    facts = {k: v for k, v in machine.model_dump().items()
             if k not in ("id", "hostname", "os", "os_version", "arch")}
    facts["arch"] = machine.arch
    return MachineRow(
        machine_id=machine.id, hostname=machine.hostname, os=machine.os, os_version=machine.os_version,
        ready=report.ready, status=report.status, report_at=report.finished_at,
        checks={c.id: c for c in report.checks}, facts=facts,
    )


def latest_per_machine(reports: list[Report]) -> list[MachineRow]:
    """One row per machine (its newest report), sorted by host name."""
    newest: dict[str, Report] = {}
    for report in reports:
        known = newest.get(report.machine.id)
        if known is None or report.finished_at > known.finished_at:
            newest[report.machine.id] = report
    return sorted((row_from_report(r) for r in newest.values()), key=lambda r: r.hostname.lower())


def csv_text(rows: list[MachineRow], lang: str) -> str:
    """The room as CSV: one line per machine, one column per check, then what to do.

    Written with a BOM and ';' in French, so that a double-click opens it right in a French
    spreadsheet; ',' otherwise.
    """
    out = io.StringIO()
    writer = csvsafe.writer(out, delimiter=";" if lang == "fr" else ",", lineterminator="\r\n")
    writer.writerow([t("summary.col.hostname", lang), t("summary.col.machine_id", lang),
                     t("summary.col.os", lang), t("summary.col.ready", lang),
                     t("summary.col.report_at", lang)]
                    + [t(f"check.{i}.title", lang) for i in CHECK_IDS]
                    + [t("summary.col.todo", lang)])
    for row in rows:
        writer.writerow(
            [row.hostname, row.machine_id, f"{row.os} {row.os_version}".strip(),
             t("summary.yes", lang) if row.ready else t("summary.no", lang), row.report_at]
            + [t(f"status.{row.checks[i].status.value}", lang) if i in row.checks else "" for i in CHECK_IDS]
            + [" | ".join(f"{c.title}: {c.remediation}" for c in row.problems if c.remediation)]
        )
    return ("\ufeff" if lang == "fr" else "") + out.getvalue()
