"""screen: every display's width in pixels; the widest must reach ``min_screen_width_px``.

Facts: ``checks.probes.displays.read_displays`` (X11/Wayland/Windows/macOS). ``measured``
is the widest display's own pixels. When the desktop scaling is known and shrinks every
display below the threshold as a web page sees it (a 1366 px laptop at 200 % gives the
Pix page 683 CSS px), the result is a ``warn``: the panel is fine, the setting is not.
"""
from __future__ import annotations

from checks.base import CheckContext
from checks.remote import over_remote_session
from checks.probes.displays import Display, read_displays
from core.result import CheckResult, Item, Status

CHECK_ID = "screen"


def budget_s(ctx: CheckContext) -> float:
    return 25.0  # system_profiler takes a few seconds on a Mac


def run(ctx: CheckContext) -> CheckResult:
    return over_remote_session(ctx, _measure(ctx))  # over RDP/VNC/SSH: the viewer's, a warn


def _measure(ctx: CheckContext) -> CheckResult:
    facts = read_displays(ctx.host)
    need = ctx.policy.min_screen_width_px
    if facts.problem == "no_display":
        summary = ctx.t("screen.no_display")
        if facts.reason:
            summary += ctx.t("screen.no_display.running", displays=facts.reason)
        return ctx.result(CHECK_ID, Status.error, summary,
                          remediation=ctx.t("screen.no_display.fix"), threshold=need, unit="px")
    if facts.problem or not facts.displays:
        return ctx.result(CHECK_ID, Status.error, ctx.t("screen.unreadable", reason=facts.reason),
                          remediation=ctx.t("screen.unreadable.fix"), threshold=need, unit="px")

    widest = max(facts.displays, key=lambda d: d.width)
    items = [_item(d, need, widest.width >= need, ctx) for d in facts.displays]
    sizes = ", ".join(f"{d.width}×{d.height}" for d in facts.displays)
    common = dict(items=items, measured=widest.width, threshold=need, unit="px")
    count = ctx.t("screen.count.one" if len(facts.displays) == 1 else "screen.count.many",
                  count=len(facts.displays))
    if widest.width < need:
        return ctx.result(CHECK_ID, Status.fail,
                          ctx.t("screen.too_narrow", width=widest.width, need=need, count=count, sizes=sizes),
                          remediation=ctx.t("screen.too_narrow.fix", need=need), **common)
    logical = [d.logical_width for d in facts.displays if d.width >= need]
    if logical and all(w is not None and w < need for w in logical):
        best = max((d for d in facts.displays if d.width >= need), key=lambda d: d.logical_width or 0)
        return ctx.result(CHECK_ID, Status.warn,
                          ctx.t("screen.scaled", width=best.width, logical=best.logical_width,
                                percent=round((best.scale or 1) * 100), need=need),
                          remediation=ctx.t("screen.scaled.fix", need=need), **common)
    return ctx.result(CHECK_ID, Status.ok,
                      ctx.t("screen.ok", width=widest.width, need=need, count=count, sizes=sizes),
                      **common)


def _item(display: Display, need: int, another_is_wide: bool, ctx: CheckContext) -> Item:
    fields: dict[str, object] = dict(width=display.width, height=display.height,
                                     primary=display.primary)
    if display.scale:
        fields.update(scale=display.scale, logical_width=display.logical_width)
    detail = f"{display.width}×{display.height}"
    if display.scale and display.scale != 1:
        detail += " " + ctx.t("screen.item.scaled", percent=round(display.scale * 100),
                              logical=display.logical_width)
    if display.primary:
        detail += " " + ctx.t("screen.item.primary")
    # A narrow projector beside a wide panel: worth a look, not a failure.
    status = Status.ok if display.width >= need else Status.warn if another_is_wide else Status.fail
    return Item(name=display.name, detail=detail, status=status, **fields)
