"""The crash test from start to finish: preflight the inputs, run the checks, build the Report."""
from __future__ import annotations

from datetime import datetime, timezone

from core import __version__
from agent.machine import describe_machine
from core.report import Report
from agent.runner import EventSink, run_checks
from checks.base import CheckContext
from checks.registry import check_module
from core.result import CHECK_IDS, CheckResult, Status


def selected_ids(only: list[str], skip: list[str]) -> list[str]:
    chosen = only or list(CHECK_IDS)
    return [i for i in CHECK_IDS if i in chosen and i not in skip]


def preflight(ids: list[str], ctx: CheckContext) -> None:
    """Let checks refuse bad input (a malformed whitelist, a bad --dns) before anything runs.

    A check module may define ``preflight(ctx)`` that raises ``BadInput``.
    """
    for check_id in ids:
        try:
            module = check_module(check_id)
        except ImportError:
            continue
        hook = getattr(module, "preflight", None)
        if callable(hook):
            hook(ctx)


def run_crash_test(ids: list[str], ctx: CheckContext, on_event: EventSink | None = None) -> Report:
    started = _now()
    results = run_checks(ids, ctx, on_event)
    skipped = [CheckResult(id=i, title=ctx.t(f"check.{i}.title"), status=Status.skip,
                           summary=ctx.t("runner.not_run")) for i in CHECK_IDS if i not in ids]
    return Report.build(agent_version=__version__, machine=describe_machine(ctx.host, results),
                        started_at=started, finished_at=_now(), checks=results, lang=ctx.lang, not_run=skipped)


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
