"""Check ``video_editor``: Shotcut or an equivalent (Kdenlive, OpenShot, iMovie) is installed.

Facts: the software inventory (programs of kind ``video`` in checks/data/software.toml).
No age rule here: the checklist asks for the program, not a recent version.
"""
from __future__ import annotations

from checks.base import CheckContext
from checks.result import CheckResult, Status
from checks.softcheck import fix_for_os, item, join, label, software

ID = "video_editor"


def budget_s(ctx: CheckContext) -> float:
    return 20.0


def run(ctx: CheckContext) -> CheckResult:
    found = software(ctx).of_kind("video")
    if not found:
        return ctx.result(ID, Status.fail, ctx.t("software.video.none"),
                          remediation=fix_for_os(ctx, "software.video.fix"))
    names = join(ctx, [label(ctx, p, say_unknown=False) for p in found])
    return ctx.result(ID, Status.ok, ctx.t("software.editor.ok", names=names),
                      items=[item(ctx, p, Status.ok) for p in found])
