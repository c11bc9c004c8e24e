"""A timed download through the machine's proxy: the rate, in Mbit/s, as limiters let it through.

Facts: the bytes of a URL received over at most ``MAX_SECONDS`` or ``MAX_BYTES``, whichever
comes first, and the latency from the TCP connect to the first byte of the answer. The
connection goes through whitelist.probe, so the proxy, ``--dns`` and TLS are those of the
whitelist and a failure has the same precise reason. Used by the ``bandwidth`` check and by
the companion's part of the room-wide test.

Rate limiters start with a burst (nginx ``limit_rate`` lets up to one second's worth go at
once, a squid delay pool starts with its bucket full): a figure over the whole download reads
high (+24 % at 2 Mbit/s over 4 s). They also let bytes through in steps (squid refills once a
second, nginx writes its buffers whole), so a window cut mid-step is off by part of a step.
The rate is therefore taken after the download's first third (the burst is at the very start)
as the growth, over a whole number of seconds, of the bytes received *averaged over one
second*: a step pattern repeating within a second cancels out whatever its phase. The download
lasts until the two last one-second growths agree within ``STEADY``, at least ``MIN_SECONDS``
and at most ``MAX_SECONDS``.
"""
from __future__ import annotations

import bisect
import http.client
import math
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from whitelist import filters
from whitelist.notes import note
from whitelist.probe import Outcome, ProbeSettings, open_url

MAX_SECONDS = 8.0
MIN_SECONDS = 4.5
STEADY = 0.02                 # two consecutive sixths of the download agreeing this closely: done
MAX_BYTES = 64 * 1024 * 1024  # 100 Mbit/s for 5 s


@dataclass
class Measure:
    outcome: Outcome
    mbps: float | None = None
    received: int = 0
    seconds: float = 0.0        # the span the figure was measured over
    skipped: float = 0.0        # seconds set aside at the start (a limiter's initial burst)
    complete: bool = False      # the whole file came before the limits


def measure(url: str, settings: ProbeSettings, max_seconds: float = MAX_SECONDS,
            max_bytes: int = MAX_BYTES, min_seconds: float = MIN_SECONDS) -> Measure:
    fetch = open_url(url, settings)
    result = Measure(fetch.outcome)
    try:
        response = fetch.response
        if response is None:
            return result
        if response.status != 200:
            _refused(result, response, url)
            return result
        _download(result, response, fetch.sock, settings.timeout, max_seconds, max_bytes, min(min_seconds, max_seconds))
        return result
    finally:
        fetch.close()


def _refused(result: Measure, response: http.client.HTTPResponse, url: str) -> None:
    body = response.read(64 * 1024).decode("utf-8", errors="replace")
    headers = {k.lower(): v for k, v in response.getheaders()}
    via = None if urlsplit(url).scheme == "https" else result.outcome.proxy
    verdict = filters.classify(response.status, headers, body, url, via_proxy=via)
    if verdict is not None:
        result.outcome.reason, result.outcome.note = verdict.reason, verdict.evidence
    else:
        result.outcome.reason = "http_error"
        result.outcome.note = note("net.http.site_error", status=response.status, phrase=response.reason, title="")


def _download(result: Measure, response, sock: socket.socket | None, timeout: float,
              max_seconds: float, max_bytes: int, min_seconds: float) -> None:
    if sock is not None:
        sock.settimeout(timeout)
    asked = time.monotonic()
    samples: list[tuple[float, int]] = []    # (time, bytes so far), from the first byte on
    try:
        while result.received < max_bytes:
            chunk = response.read1(256 * 1024)
            if not chunk:
                result.complete = True
                break
            now = time.monotonic()
            result.received += len(chunk)
            samples.append((now, result.received))
            elapsed = now - samples[0][0]
            if elapsed >= max_seconds or (elapsed >= min_seconds and _steady(samples)):
                break
    except (TimeoutError, socket.timeout, OSError, http.client.HTTPException) as exc:
        if result.received == 0:
            result.outcome.reason = "timeout" if isinstance(exc, (TimeoutError, socket.timeout)) else "connect_failed"
            result.outcome.note = note("net.bw.stalled", error=type(exc).__name__)
            return
    if not samples:
        result.outcome.reason, result.outcome.note = "http_error", note("net.bw.empty")
        return
    first, last = samples[0][0], samples[-1][0]
    gap = math.floor((last - first) * 2 / 3 - AVERAGE_S)  # whole seconds between the two averages
    if gap >= 1:
        # Timing starts at the first byte (latency is measured apart); the first third is set aside.
        result.mbps = (_mean_bytes(samples, last) - _mean_bytes(samples, last - gap)) * 8 / gap / 1e6
        result.seconds, result.skipped = gap + AVERAGE_S, last - gap - AVERAGE_S - first
    elif last - first >= 0.3:  # a fast link and a small file: its last two thirds
        start = first + (last - first) / 3
        index = bisect.bisect_left(samples, (start, -1))
        result.mbps = (samples[-1][1] - samples[index][1]) * 8 / (last - samples[index][0]) / 1e6
        result.seconds, result.skipped = last - samples[index][0], samples[index][0] - first
    else:  # a small file arrived in one go: count from the request instead
        span = max(last - asked, 1e-3)
        result.mbps, result.seconds = result.received * 8 / span / 1e6, span


AVERAGE_S = 1.0   # the bytes received are averaged over this long (limiters refill once a second)
_POINTS = 200


def _mean_bytes(samples: list[tuple[float, int]], until: float) -> float:
    """The bytes received so far, averaged over the ``AVERAGE_S`` seconds before ``until``."""
    total = 0
    for n in range(_POINTS):
        when = until - AVERAGE_S * n / _POINTS
        index = bisect.bisect_right(samples, (when, float("inf"))) - 1
        total += samples[index][1] if index >= 0 else 0
    return total / _POINTS


def _steady(samples: list[tuple[float, int]]) -> bool:
    """The last two one-second growths of the averaged bytes agree within STEADY."""
    last = samples[-1][0]
    if last - samples[0][0] < 3 * AVERAGE_S:
        return False
    m0, m1, m2 = (_mean_bytes(samples, last - n) for n in range(3))
    after, before = m0 - m1, m1 - m2
    return after > 0 and abs(before - after) / after <= STEADY
