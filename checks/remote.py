"""The crash test run over a remote session (RDP, VNC, SSH...): the ``screen`` and ``mouse``
checks then measure the technician's viewer, not the candidate's screen and mouse. Like
storage's "run as root" rule, their verdict becomes a ``warn`` that says so (a fail stays a
fail)."""
from __future__ import annotations

from checks.base import CheckContext
from checks.probes.virt import remote_session
from core.result import CheckResult, Status


def over_remote_session(ctx: CheckContext, result: CheckResult) -> CheckResult:
    kind = remote_session(ctx.host)
    if not kind or result.status not in (Status.ok, Status.warn):
        return result
    fix = ctx.t("remote.fix", kind=kind)
    return result.model_copy(update={
        "status": Status.warn, "summary": result.summary + ctx.t("remote.note", kind=kind),
        "remediation": f"{result.remediation} {fix}" if result.remediation else fix})
