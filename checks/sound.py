"""Check ``sound``: an audio output device is present and not muted (some questions play a
video; the PV code C4 lists sound problems). A ``warn``, never a fail: the test can run
without sound, but the supervisor must know beforehand.

Facts: ``checks/probes/sound.py`` (PulseAudio/PipeWire/ALSA, Windows MMDevices, CoreAudio).
"""
from __future__ import annotations

from checks.base import CheckContext
from checks.probes.sound import Output, probe
from core.result import CheckResult, Item, Status
from checks.softcheck import fix_for_os, join

ID = "sound"


def budget_s(ctx: CheckContext) -> float:
    return 20.0


_UNUSABLE = ("disabled", "not_present", "unplugged")


def _item(ctx: CheckContext, output: Output, status: Status) -> Item:
    if output.muted:
        state = "muted"
    elif output.volume_pct == 0:
        state = "volume_zero"
    else:
        state = output.state if output.state in _UNUSABLE else "ok"
    return Item(name=output.name, status=status, detail=ctx.t(f"sound.state.{state}"), muted=output.muted,
                volume_pct=output.volume_pct, default=output.default)


def run(ctx: CheckContext) -> CheckResult:
    sound = probe(ctx.host)
    usable = [o for o in sound.outputs if o.active and o.state not in _UNUSABLE]
    items = [_item(ctx, o, Status.ok if o in usable and not o.muted and o.volume_pct != 0 else Status.warn)
             for o in sound.outputs]
    if not usable:
        return ctx.result(ID, Status.warn, ctx.t("sound.none"), remediation=fix_for_os(ctx, "sound.fix_none"),
                          items=items)
    default = next((o for o in usable if o.default), usable[0])
    if default.muted or default.volume_pct == 0:
        key = "sound.muted" if default.muted else "sound.volume_zero"
        return ctx.result(ID, Status.warn, ctx.t(key, name=default.name),
                          remediation=fix_for_os(ctx, "sound.fix_muted"), items=items)
    names = join(ctx, [o.name for o in usable])
    if default.muted is None and default.volume_pct is None:
        return ctx.result(ID, Status.ok, ctx.t("sound.ok_no_mute_state", names=names), items=items)
    return ctx.result(ID, Status.ok, ctx.t("sound.ok", name=default.name, volume=default.volume_pct or "?"), items=items)
