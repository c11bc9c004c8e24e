"""A room at a glance, from the latest report of each machine.

Shared by ``examroom report merge`` (offline, from report files) and the supervisor's room
export, so a CSV from either reads the same.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field

from core import csvsafe
from core.i18n import has, t
from core.machines import display_names
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
    # the checks a partial run (--only/--skip) did not run: such a machine is never "ready"
    not_run: list[str] = field(default_factory=list)
    # what a person reads: the host name, followed by a short machine id when shared (core/machines.py)
    label: str = ""

    @property
    def partial(self) -> bool:
        return bool(self.not_run)

    def ready_word(self, lang: str) -> str:
        """oui / non / partiel: a partial report is not a ready machine, whatever it found."""
        if self.partial:
            return t("summary.partial", lang)
        return t("summary.yes", lang) if self.ready else t("summary.no", lang)

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
    not_run = list(report.not_run) or _missing(report)
    return MachineRow(
        machine_id=machine.id, hostname=machine.hostname, os=machine.os, os_version=machine.os_version,
        ready=report.ready and not not_run, status=report.status, report_at=report.finished_at,
        checks={c.id: c for c in report.checks if c.id not in not_run}, facts=facts, not_run=not_run,
        label=machine.hostname,
    )


# The checks of the first contract: a report without ``not_run`` (an older agent) that lacks
# one of them came from a partial run. (Checks added later are not required of old reports.)
_FIRST_CHECKS = ("browser", "pdf_reader", "office_suite", "image_editor", "video_editor", "storage",
                 "archive", "bandwidth", "whitelist", "screen", "mouse")


def _missing(report: Report) -> list[str]:
    if "not_run" in report.model_fields_set:
        return []
    ran = {c.id for c in report.checks}
    return [i for i in _FIRST_CHECKS if i not in ran]


def latest_per_machine(reports: list[Report]) -> list[MachineRow]:
    """One row per machine (its newest report), sorted by host name."""
    newest: dict[str, Report] = {}
    for report in reports:
        known = newest.get(report.machine.id)
        if known is None or report.finished_at > known.finished_at:
            newest[report.machine.id] = report
    rows = [row_from_report(r) for r in newest.values()]
    names = display_names((r.machine_id, r.hostname) for r in rows)
    for row in rows:
        row.label = names[row.machine_id]
    return sorted(rows, key=lambda r: (r.hostname.lower(), r.label))


def check_title(check: CheckResult, lang: str) -> str:
    """The check's title in ``lang``: reports collected in a room may be in either language."""
    key = f"check.{check.id}.title"
    return t(key, lang) if has(key) else check.title


def csv_text(rows: list[MachineRow], lang: str) -> str:
    """The room as CSV: one line per machine, one column per check, then what to do.

    Written with a BOM and ';' in French, so that a double-click opens it right in a French
    spreadsheet; ',' otherwise.
    """
    out = io.StringIO()
    writer = csvsafe.writer(out, delimiter=";" if lang == "fr" else ",", lineterminator="\r\n")
    sep = " : " if lang == "fr" else ": "   # French typography: « Souris : Branchez... »
    writer.writerow([t("summary.col.hostname", lang), t("summary.col.machine_id", lang),
                     t("summary.col.os", lang), t("summary.col.ready", lang),
                     t("summary.col.report_at", lang)]
                    + [t(f"check.{i}.title", lang) for i in CHECK_IDS]
                    + [t("summary.col.todo", lang)])
    for row in rows:
        writer.writerow(
            [row.label, row.machine_id, f"{row.os} {row.os_version}".strip(), row.ready_word(lang), row.report_at]
            + [t(f"status.{row.checks[i].status.value}", lang) if i in row.checks else "" for i in CHECK_IDS]
            + [" | ".join(f"{check_title(c, lang)}{sep}{c.remediation}" for c in row.problems if c.remediation)]
        )
    return ("\ufeff" if lang == "fr" else "") + out.getvalue()
