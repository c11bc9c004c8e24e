"""Each machine's clock offset, estimated from the heartbeat exchange (as NTP's clock filter).

A heartbeat carries the machine's time when it was sent (``at``) and the round trip the
companion measured for its previous heartbeat (``rtt_ms``). The server's receive time minus
``at`` minus half the round trip is one sample of (server clock - machine clock); of the last
samples, the one with the shortest round trip is the least disturbed by the network, and is
the estimate. Event times (the machine's clock) are shown corrected by it.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

SAMPLES = 8


@dataclass
class ClockEstimate:
    samples: deque = field(default_factory=lambda: deque(maxlen=SAMPLES))   # (rtt_s, offset_s)
    offset_s: float | None = None

    def sample(self, machine_at: datetime, received: datetime, rtt_s: float | None) -> float:
        rtt = rtt_s if rtt_s is not None and rtt_s >= 0 else 0.0
        offset = (received - machine_at).total_seconds() - rtt / 2
        self.samples.append((rtt, offset))
        self.offset_s = round(min(self.samples)[1], 3)
        return self.offset_s


def corrected(at: str, offset_s: float | None) -> str:
    """``at`` (a machine's ISO time) on the server's clock."""
    if not offset_s:
        return at
    try:
        moment = datetime.fromisoformat(at.replace("Z", "+00:00"))
    except ValueError:
        return at
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    moment = (moment + timedelta(seconds=offset_s)).astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
