"""What every check receives (CheckContext) and the helpers to build its result.

A check module ``checks/<id>.py`` defines ``run(ctx) -> CheckResult`` and may define
``budget_s(ctx) -> float``, the time after which the runner gives up on it (default
``DEFAULT_BUDGET_S``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from core.i18n import t
from checks.policy import Policy
from core.host import Host
from core.result import CheckResult, Item, Status

DEFAULT_BUDGET_S = 30.0


@dataclass
class CheckOptions:
    """The check-related flags of ``examroom check`` (CONTRACT section 1)."""

    storage: Path | None = None
    whitelist: Path | None = None
    dns: str | None = None
    timeout: float = 5.0
    bandwidth_url: str | None = None
    candidates: int | None = None      # how many candidates the room's link must serve (None: 30)
    pac: str | None = None             # a PAC file's URL, as a browser would be given it


@dataclass
class CheckContext:
    host: Host
    policy: Policy = field(default_factory=Policy)
    lang: str = "en"
    options: CheckOptions = field(default_factory=CheckOptions)
    # Long checks (whitelist, bandwidth) report how far they are: progress(check_id, done, total).
    progress: Callable[[str, int, int], None] = lambda _id, _done, _total: None

    def t(self, key: str, /, **fields: object) -> str:
        return t(key, self.lang, **fields)

    def result(
        self,
        check_id: str,
        status: Status,
        summary: str,
        *,
        remediation: str | None = None,
        items: list[Item] | None = None,
        measured: float | None = None,
        threshold: float | None = None,
        unit: str | None = None,
    ) -> CheckResult:
        """A result whose title comes from the table (key ``check.<id>.title``)."""
        return CheckResult(
            id=check_id, title=self.t(f"check.{check_id}.title"), status=status, summary=summary,
            remediation=remediation, items=items or [], measured=measured, threshold=threshold,
            unit=unit,
        )
