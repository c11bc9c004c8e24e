"""Runs checks concurrently, each within its time budget.

A check that raises becomes ``error`` with the reason; one that overruns its budget becomes
``error`` too and is abandoned (its daemon thread cannot hold the process). Callers follow
along through ``on_event`` (the progress line of the terminal and the window).
"""
from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass
from typing import Callable

from core.i18n import t
from checks.base import DEFAULT_BUDGET_S, CheckContext
from checks.registry import check_module
from core.result import CheckResult, Status


@dataclass
class RunEvent:
    kind: str                 # "start" | "progress" | "done"
    check_id: str
    result: CheckResult | None = None
    done: int = 0
    total: int = 0


EventSink = Callable[[RunEvent], None]


def run_checks(ids: list[str], ctx: CheckContext, on_event: EventSink | None = None) -> list[CheckResult]:
    """Run ``ids`` at once; results come back in the order of ``ids``."""
    sink = on_event or (lambda _e: None)
    finished: queue.Queue[tuple[str, CheckResult]] = queue.Queue()
    events: queue.Queue[RunEvent] = queue.Queue()
    ctx.progress = lambda cid, done, total: events.put(RunEvent("progress", cid, done=done, total=total))

    deadlines: dict[str, float] = {}
    for check_id in ids:
        budget = _budget(check_id, ctx)
        deadlines[check_id] = time.monotonic() + budget
        thread = threading.Thread(target=_run_one, args=(check_id, ctx, finished), daemon=True,
                                  name=f"check-{check_id}")
        sink(RunEvent("start", check_id))
        thread.start()

    results: dict[str, CheckResult] = {}
    while len(results) < len(ids):
        _drain(events, sink)
        now = time.monotonic()
        pending = [i for i in ids if i not in results]
        next_deadline = min(deadlines[i] for i in pending)
        try:
            check_id, result = finished.get(timeout=max(0.0, min(0.1, next_deadline - now)))
        except queue.Empty:
            for overdue in [i for i in pending if time.monotonic() >= deadlines[i]]:
                budget = _budget(overdue, ctx)
                results[overdue] = _error(ctx, overdue, t("runner.timeout", ctx.lang, seconds=budget)).with_duration(budget)
                sink(RunEvent("done", overdue, results[overdue]))
            continue
        if check_id in results:  # finished after we gave up on it
            continue
        results[check_id] = result
        sink(RunEvent("done", check_id, result))
    _drain(events, sink)
    return [results[i] for i in ids]


def _run_one(check_id: str, ctx: CheckContext, finished: queue.Queue) -> None:
    start = time.monotonic()
    try:
        module = check_module(check_id)
    except ModuleNotFoundError as exc:
        if exc.name != f"checks.{check_id}":
            raise
        finished.put((check_id, _error(ctx, check_id, t("runner.not_available", ctx.lang))))
        return
    try:
        result = module.run(ctx)
        if not isinstance(result, CheckResult):
            raise TypeError(f"checks.{check_id}.run returned {type(result).__name__}, not a CheckResult")
    except Exception as exc:  # noqa: BLE001 - a broken check must never crash the crash test
        reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        result = _error(ctx, check_id, t("runner.crashed", ctx.lang, reason=reason))
    finished.put((check_id, result.with_duration(time.monotonic() - start)))


def _budget(check_id: str, ctx: CheckContext) -> float:
    try:
        module = check_module(check_id)
    except Exception:  # noqa: BLE001 - the import error is reported by _run_one
        return DEFAULT_BUDGET_S
    budget = getattr(module, "budget_s", None)
    return float(budget(ctx)) if callable(budget) else DEFAULT_BUDGET_S


def _error(ctx: CheckContext, check_id: str, summary: str) -> CheckResult:
    return ctx.result(check_id, Status.error, summary,
                      remediation=t("runner.error_remediation", ctx.lang))


def _drain(events: queue.Queue, sink: EventSink) -> None:
    while True:
        try:
            sink(events.get_nowait())
        except queue.Empty:
            return
