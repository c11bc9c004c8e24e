"""mouse: a pointing device is present (the room checklist asks for a mouse).

Facts: ``checks.probes.pointing.read_pointing``. A mouse (or a pointer of unknown kind, as
Windows reports it) is ``ok``; a touchpad or touchscreen alone is a ``warn``, since Pix
questions involve drag-and-drop and precise clicks; nothing is ``fail``; facts that
cannot be read are ``error``.
"""
from __future__ import annotations

from checks.base import CheckContext
from checks.remote import over_remote_session
from checks.probes.pointing import PointingDevice, read_pointing
from core.result import CheckResult, Item, Status

CHECK_ID = "mouse"


def budget_s(ctx: CheckContext) -> float:
    return 20.0


def run(ctx: CheckContext) -> CheckResult:
    return over_remote_session(ctx, _measure(ctx))  # over RDP/VNC/SSH: the viewer's, a warn


def _measure(ctx: CheckContext) -> CheckResult:
    facts = read_pointing(ctx.host)
    if not facts.readable:
        return ctx.result(CHECK_ID, Status.error, ctx.t("mouse.unreadable", reason=facts.reason),
                          remediation=ctx.t("mouse.unreadable.fix"))
    items = [_item(d, ctx) for d in facts.devices]
    names = ", ".join(d.name for d in facts.devices)
    if any(d.kind in ("mouse", "pointer") for d in facts.devices):
        return ctx.result(CHECK_ID, Status.ok, ctx.t("mouse.ok", names=names), items=items)
    if facts.devices:
        return ctx.result(CHECK_ID, Status.warn, ctx.t("mouse.only_touch", names=names),
                          remediation=ctx.t("mouse.only_touch.fix"), items=items)
    return ctx.result(CHECK_ID, Status.fail, ctx.t("mouse.none"),
                      remediation=ctx.t("mouse.none.fix"), items=items)


def _item(device: PointingDevice, ctx: CheckContext) -> Item:
    detail = ctx.t(f"mouse.kind.{device.kind}")
    if device.buttons:
        detail += " " + ctx.t("mouse.buttons", count=device.buttons)
    status = Status.ok if device.kind in ("mouse", "pointer") else Status.warn
    return Item(name=device.name, detail=detail, status=status, kind=device.kind,
                **({"buttons": device.buttons} if device.buttons else {}))
