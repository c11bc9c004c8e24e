"""Check ``office_suite``: a suite with spreadsheet, word processor, presentation and
drawing, released at most N days ago.

Facts: the software inventory (LibreOffice and Microsoft Office with their components:
LibreOffice's Calc/Writer/Impress/Draw from .desktop files, packages, its program folder or
App Paths; Microsoft Office's Excel/Word/PowerPoint from Click-to-Run (minus ExcludedApps)
or App Paths). Microsoft Office has no drawing program of its own: only Visio counts as its
drawing part, so Office alone is reported incomplete ("drawing missing") unless another
complete suite (typically LibreOffice beside it) is present. Release dates: endoflife.date
(LibreOffice, Office editions) and Microsoft's Microsoft 365 update history.
"""
from __future__ import annotations

from checks.base import CheckContext
from checks.probes.software import COMPONENTS, Program
from checks.releases import Age, Dated
from core.result import CheckResult, Item, Status
from checks.softfix import install_libreoffice, office_fix_old
from checks.softcheck import AGE_STATUS, age_text, date_of, fix_for_os, item, join, label, software, years

ID = "office_suite"


def budget_s(ctx: CheckContext) -> float:
    return 20.0


def _suite_label(ctx: CheckContext, suite: Program) -> str:
    text = label(ctx, suite)
    if suite.key == "msoffice" and suite.edition:
        text += f" ({'Microsoft 365' if suite.edition == '365' else suite.edition.replace('-ltsc', ' LTSC')}"
        text += f", {suite.channel})" if suite.channel else ")"
    return text


def _verdict(ctx: CheckContext, suite: Program, dated: Dated) -> tuple[Status, str, str | None]:
    """Status, summary and remediation of one suite: every problem is said, not just the first."""
    name = _suite_label(ctx, suite)
    missing = [c for c in COMPONENTS if c not in suite.components]
    n = years(ctx)
    problems: list[str] = []
    fixes: list[str] = []
    if missing:
        missing_text = join(ctx, [ctx.t(f"software.component.{c}") for c in missing])
        problems.append(ctx.t("software.office.missing", suite=name, missing=missing_text))
        if suite.key == "msoffice" and missing == ["drawing"]:
            fixes.append(ctx.t("software.office.fix_missing_drawing_ms"))
        elif suite.key in ("onlyoffice", "wps") and missing == ["drawing"]:
            fixes.append(ctx.t("software.office.fix_missing_drawing", suite=suite.name,
                               libreoffice=install_libreoffice(ctx)))
        elif dated.age == Age.old:
            pass  # the update below brings every part; installing parts of an old suite would not pass
        else:
            fixes.append(fix_for_os(ctx, "software.office.fix_missing", suite=suite.name, missing=missing_text))
    if dated.age == Age.old:
        problems.append(ctx.t("software.office.old", suite=name if not problems else suite.name, years=n,
                              age=age_text(ctx, dated)))
        fixes.append(office_fix_old(ctx, suite, n))
    if problems:
        return Status.fail, " ; ".join(problems) if ctx.lang == "fr" else "; ".join(problems), " ".join(fixes)
    if dated.age == Age.unknown:
        return (Status.warn, ctx.t("software.office.unknown_age", suite=name),
                ctx.t("software.office.fix_unknown", suite=suite.name, years=n))
    return Status.ok, ctx.t("software.office.ok", suite=name, age=age_text(ctx, dated)), None


def run(ctx: CheckContext) -> CheckResult:
    suites = software(ctx).of_kind("office")
    if not suites:
        return ctx.result(ID, Status.fail, ctx.t("software.office.none"),
                          remediation=install_libreoffice(ctx))
    verdicts = []
    items: list[Item] = []
    for suite in suites:
        dated = date_of(ctx, suite)
        status, summary, fix = _verdict(ctx, suite, dated)
        verdicts.append((status, summary, fix))
        age_status = AGE_STATUS[dated.age]
        items.append(item(ctx, suite, status, dated, components=sorted(suite.components),
                          missing=[c for c in COMPONENTS if c not in suite.components],
                          age=dated.age.value, edition=suite.edition, channel=suite.channel,
                          age_status=age_status.value))
    # The best suite decides: one complete and recent suite is enough.
    best = min(verdicts, key=lambda v: v[0].severity)
    return ctx.result(ID, best[0], best[1], remediation=best[2], items=items)
