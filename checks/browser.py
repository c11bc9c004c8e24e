"""Check ``browser``: at least one supported browser released at most N days ago.

Facts: the software inventory (browsers of the catalog, with versions). Release dates: MDN
browser-compat-data (``checks/releases.py``). An outdated browser beside a recent one is a
``warn`` (candidates may open it out of habit), only outdated ones a ``fail``.
"""
from __future__ import annotations

from checks.base import CheckContext
from checks.releases import Age
from core.result import CheckResult, Status
from checks.softfix import browser_fix_all_old
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
    old_programs = [b for b, d in dated if d.age == Age.old]
    old = [label(ctx, b) for b in old_programs]
    many = ".many" if len(old) > 1 else ""  # "Safari 15.6.1 and Chrome 90 are older..."
    unknown = [label(ctx, b) for b, d in dated if d.age == Age.unknown]
    n, recent_s, old_s, unknown_s = years(ctx), join(ctx, recent), join(ctx, old), join(ctx, unknown)
    if recent and old:  # candidates may still open the old one out of habit
        return ctx.result(ID, Status.warn, ctx.t("software.browser.warn_old" + many, recent=recent_s, old=old_s, years=n),
                          remediation=ctx.t("software.browser.fix_old", old=old_s), items=items)
    if recent:
        return ctx.result(ID, Status.ok, ctx.t("software.browser.ok", recent=recent_s), items=items)
    if unknown:
        return ctx.result(ID, Status.warn, ctx.t("software.browser.unknown", names=unknown_s),
                          remediation=ctx.t("software.browser.fix_unknown", names=unknown_s, years=n), items=items)
    return ctx.result(ID, Status.fail, ctx.t("software.browser.fail_old" + many, old=old_s, years=n),
                      remediation=browser_fix_all_old(ctx, old_programs, old_s), items=items)
