"""What the five software checks share: dating a program and turning it into an Item.

Reads the inventory (``checks.probes.software``) and the release tables
(``checks.releases``); judges nothing by itself beyond "recent / old / unknown".
"""
from __future__ import annotations

from checks.base import CheckContext
from checks.probes.software import Inventory, Program, inventory
from checks.releases import Age, Dated, age_of
from core.result import CheckResult, Item, Status

AGE_STATUS = {Age.recent: Status.ok, Age.old: Status.fail, Age.unknown: Status.warn}


def software(ctx: CheckContext) -> Inventory:
    return inventory(ctx.host)


def years(ctx: CheckContext) -> str:
    """The policy's age limit in years: 730 days -> "2", 500 days -> "1.4"."""
    text = f"{ctx.policy.max_software_age_days / 365:.1f}".rstrip("0").rstrip(".")
    return text.replace(".", ",") if ctx.lang == "fr" else text


def date_of(ctx: CheckContext, program: Program) -> Dated:
    return age_of(program.series, program.version, program.edition, ctx.host.now(),
                  ctx.policy.max_software_age_days)


def label(ctx: CheckContext, program: Program, say_unknown: bool = True) -> str:
    """``Firefox 140.0`` / ``Chromium (version inconnue)``; where the version does not matter
    (PDF readers, editors), ``say_unknown=False`` gives the bare name."""
    if program.version:
        return f"{program.name} {program.version}"
    return f"{program.name} ({ctx.t('software.version_unknown')})" if say_unknown else program.name


def age_text(ctx: CheckContext, dated: Dated) -> str:
    from core.i18n import fmt_date

    if dated.newer_than_table:
        return ctx.t("software.newer_than_table")
    if dated.estimated:
        return ctx.t("software.released_estimated", date=fmt_date(dated.estimated, ctx.lang))
    if dated.released:
        return ctx.t("software.released", date=fmt_date(dated.released, ctx.lang))
    if dated.before:
        return ctx.t("software.released_before", date=fmt_date(dated.before, ctx.lang))
    return ctx.t("software.version_unknown")


def item(ctx: CheckContext, program: Program, status: Status, dated: Dated | None = None, **extra) -> Item:
    return Item(name=program.name, version=program.version,
                released=dated.released.isoformat() if dated and dated.released else None,
                status=status, detail=detail(ctx, program), kind=program.kind, **extra)


def detail(ctx: CheckContext, program: Program) -> str:
    """Where the program is and how we know, in words a technician reads:
    ``/usr/bin/chromium (Debian package, applications menu)``."""
    how = [ctx.t(f"software.source.{s}") for s in program.sources]
    return f"{program.path or '?'} ({', '.join(dict.fromkeys(how))})"


def join(ctx: CheckContext, names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + ctx.t("software.and") + names[-1]


def fix_for_os(ctx: CheckContext, prefix: str, **fields: object) -> str:
    """The remediation written for this host's OS (package names, winget ids, sites differ)."""
    os_name = ctx.host.os if ctx.host.os in ("linux", "windows", "macos") else "linux"
    return ctx.t(f"{prefix}.{os_name}", **fields)


def editor_check(ctx: CheckContext, check_id: str, kind: str) -> CheckResult:
    """``image_editor`` and ``video_editor``: a program of ``kind`` is installed, whatever its age
    (the checklist asks for the program, not a recent version)."""
    found = software(ctx).of_kind(kind)
    if not found:
        return ctx.result(check_id, Status.fail, ctx.t(f"software.{kind}.none"),
                          remediation=fix_for_os(ctx, f"software.{kind}.fix"))
    names = join(ctx, [label(ctx, p, say_unknown=False) for p in found])
    return ctx.result(check_id, Status.ok, ctx.t("software.editor.ok", names=names),
                      items=[item(ctx, p, Status.ok) for p in found])
