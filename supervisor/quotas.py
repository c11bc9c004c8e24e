"""Per-machine quotas: what one machine may send, whatever its token allows.

A machine is untrusted: bounded fields (supervisor/limits.py) cap each request, these cap the
rate. Defaults sit far above a real agent (a crash test posts a report or two, a companion a
few events a minute; an outbox replaying an outage delivers a few thousand events at once)
and far below what fills a disk: ``reports_per_hour`` 60, ``events_per_minute`` 3000 and
``bytes_per_day`` 64 MB of stored reports and event details. Over a quota: 429 with a clear
JSON body and Retry-After; the agent keeps the data in its outbox and sends it later, so
nothing is lost. Budgets are the decaying, bounded ones of supervisor/throttle.py, in memory
(per server process).
"""
from __future__ import annotations

from dataclasses import dataclass

from supervisor.apierror import ApiError
from supervisor.throttle import Budget


@dataclass(frozen=True)
class Quota:
    name: str
    limit: float
    window_s: float
    what: str


REPORTS = Quota("reports_per_hour", 60, 3600, "reports per hour")
EVENTS = Quota("events_per_minute", 3000, 60, "events per minute")
BYTES = Quota("bytes_per_day", 64 << 20, 86400, "bytes per day")


class Quotas:
    def __init__(self, quotas: tuple[Quota, ...] = (REPORTS, EVENTS, BYTES)) -> None:
        self.quotas = {q.name: q for q in quotas}
        self._budgets = {q.name: Budget(q.limit, q.window_s, max_keys=20_000) for q in quotas}

    def charge(self, who: tuple[str, str], **amounts: float) -> None:
        """Charge every named amount (e.g. events=12, bytes=3400) or none: 429 if one is over."""
        for name, amount in amounts.items():
            quota, budget = self.quotas[_NAMES[name]], self._budgets[_NAMES[name]]
            over = budget.level(who) + amount - quota.limit
            if over > 0:
                wait = int(over / budget.rate) + 1
                raise ApiError(429, "quota_exceeded", f"this machine sent more than {quota.limit:g} {quota.what}: "
                               f"keep the rest and send it again in {wait} s",
                               {"quota": quota.name, "limit": quota.limit, "retry_after_s": wait})
        for name, amount in amounts.items():
            self._budgets[_NAMES[name]].add(who, amount)


_NAMES = {"reports": REPORTS.name, "events": EVENTS.name, "bytes": BYTES.name}
