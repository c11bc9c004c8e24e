"""Per-machine quotas: what one machine may send, whatever its token allows.

A machine is untrusted: bounded fields (supervisor/limits.py) cap each request, these cap the
rate. Defaults sit far above a real agent (a crash test posts a report or two, a companion a
few events a minute; an outbox replaying an outage delivers a few thousand events at once)
and far below what fills a disk: ``reports_per_hour`` 60, ``events_per_minute`` 3000 (the
decaying, bounded budgets of supervisor/throttle.py, in memory, per server process) and
``bytes_kept`` 64 MB: what the database keeps for the machine (its reports and event details
as stored), counted by the store in the same transaction as the rows (table machine_bytes),
so a restart or another server process does not reset it. Over a quota: 429 with a clear
JSON body and Retry-After; the agent keeps the data in its outbox and sends it later, so
nothing is lost (over ``bytes_kept`` nothing drains by itself: a supervisor looks at why a
machine sends so much).
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
BYTES_KEPT = Quota("bytes_kept", 64 << 20, 0, "bytes kept")
KEPT_RETRY_S = 3600  # nothing frees a machine's bytes by itself: the agent tries again in an hour


class Quotas:
    def __init__(self, quotas: tuple[Quota, ...] = (REPORTS, EVENTS), bytes_kept: float = BYTES_KEPT.limit) -> None:
        self.bytes_kept = bytes_kept
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

    def check_kept(self, kept: int, amount: int) -> None:
        """429 if keeping ``amount`` more bytes puts a machine that has ``kept`` over its quota."""
        if kept + amount > self.bytes_kept:
            raise ApiError(429, "quota_exceeded", f"this machine already has {kept} bytes kept on the server "
                           f"(at most {self.bytes_kept:g}): keep the rest and send it again later",
                           {"quota": BYTES_KEPT.name, "limit": self.bytes_kept, "kept": kept,
                            "retry_after_s": KEPT_RETRY_S})


_NAMES = {"reports": REPORTS.name, "events": EVENTS.name}
