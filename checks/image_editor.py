"""Check ``image_editor``: GIMP or an equivalent (Photofiltre, Krita, Paint.NET, Pinta) is installed.

Facts: the software inventory (programs of kind ``image`` in checks/data/software.toml).
No age rule here: the checklist asks for the program, not a recent version.
"""
from __future__ import annotations

from checks.base import CheckContext
from checks.result import CheckResult, Status
from checks.softcheck import fix_for_os, item, join, label, software

ID = "image_editor"


def budget_s(ctx: CheckContext) -> float:
    return 20.0


def run(ctx: CheckContext) -> CheckResult:
    found = software(ctx).of_kind("image")
    if not found:
        return ctx.result(ID, Status.fail, ctx.t("software.image.none"),
                          remediation=fix_for_os(ctx, "software.image.fix"))
    names = join(ctx, [label(ctx, p, say_unknown=False) for p in found])
    return ctx.result(ID, Status.ok, ctx.t("software.editor.ok", names=names),
                      items=[item(ctx, p, Status.ok) for p in found])
