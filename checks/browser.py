"""Check ``browser``: at least one supported browser released at most N days ago.

Facts: the software inventory (browsers of the catalog, with versions). Release dates: MDN
browser-compat-data (``checks/releases.py``). An outdated browser beside a recent one is a
``warn`` (candidates may open it out of habit), only outdated ones a ``fail``.
"""
from __future__ import annotations

from checks.base import CheckContext
from checks.releases import Age
from checks.result import CheckResult, Status
from checks.softcheck import AGE_STATUS, date_of, fix_for_os, item, join, label, software, years

ID = "browser"


def budget_s(ctx: CheckContext) -> float:
    return 20.0


def run(ctx: CheckContext) -> CheckResult:
    browsers = software(ctx).of_kind("browser")
    if not browsers:
        return ctx.result(ID, Status.fail, ctx.t("software.browser.none"),
                          remediation=fix_for_os(ctx, "software.browser.fix_none"))
    dated = [(b, date_of(ctx, b)) for b in browsers]
    items = [item(ctx, b, AGE_STATUS[d.age], d) for b, d in dated]
    recent = [label(ctx, b) for b, d in dated if d.age == Age.recent]
    old = [label(ctx, b) for b, d in dated if d.age == Age.old]
    unknown = [label(ctx, b) for b, d in dated if d.age == Age.unknown]
    n = years(ctx)
    if recent and old:
        return ctx.result(ID, Status.warn,
                          ctx.t("software.browser.warn_old", recent=join(ctx, recent), old=join(ctx, old), years=n),
                          remediation=ctx.t("software.browser.fix_old", old=join(ctx, old)), items=items)
    if recent:
        return ctx.result(ID, Status.ok, ctx.t("software.browser.ok", recent=join(ctx, recent)), items=items)
    if unknown:
        return ctx.result(ID, Status.warn, ctx.t("software.browser.unknown", names=join(ctx, unknown)),
                          remediation=ctx.t("software.browser.fix_unknown", names=join(ctx, unknown), years=n),
                          items=items)
    return ctx.result(ID, Status.fail, ctx.t("software.browser.fail_old", old=join(ctx, old), years=n),
                      remediation=ctx.t("software.browser.fix_all_old", old=join(ctx, old)), items=items)
