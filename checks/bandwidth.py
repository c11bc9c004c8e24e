"""Check ``bandwidth``: a timed download through the machine's proxy, in Mbit/s.

Facts: the bytes of ``--bandwidth-url`` (default: an attachment on the platform's own file
host) received over at most ``MAX_SECONDS`` or ``MAX_BYTES``, whichever comes first, and
the latency from the TCP connect to the first byte of the answer. The connection goes
through whitelist.probe, so the proxy, ``--dns`` and TLS checks are those of the whitelist
and a failure has the same precise reason.

Rate limiters start with a burst (nginx ``limit_rate`` lets up to one second's worth go at
once, a squid delay pool starts with its bucket full): a figure over the whole download reads
high (+24 % at 2 Mbit/s over 4 s). They also let bytes through in steps (squid refills once a
second, nginx writes its buffers whole), so a window cut mid-step is off by part of a step.
The rate is therefore taken after the download's first third (the burst is at the very start)
as the growth, over a whole number of seconds, of the bytes received *averaged over one
second*: a step pattern repeating within a second cancels out whatever its phase. The download
lasts until the two last one-second growths agree within ``STEADY``, at least ``MIN_SECONDS``
and at most ``MAX_SECONDS``.

Judged as the technician's question, "how many candidates can this room's link serve at
once": the figure over policy.per_candidate_mbps, against ``--candidates`` (default: the room
size the server knows, else 30). Below policy.min_bandwidth_mbps: fail; enough for fewer
candidates than the room holds: warn (one machine's download may not show the room's share:
the dashboard's room-wide test does).
"""
from __future__ import annotations

import bisect
import http.client
import math
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from checks.base import CheckContext
from core.errors import BadInput
from core.result import CheckResult, Status
from whitelist import filters
from whitelist.load import normalize_url
from whitelist.notes import note
from whitelist.probe import Outcome, ProbeSettings, open_url

# A question attachment on the platform's file host (dl.pix.fr serves "question attachments
# and images", REFERENCE.md). Not verified from here (no internet while building): a centre
# can point --bandwidth-url at any large file its candidates will download.
DEFAULT_URL = "https://dl.pix.fr/rec3JeDqiooMO30mG1623769711702/smartphone.png"
MAX_SECONDS = 8.0
MIN_SECONDS = 4.5
STEADY = 0.02                 # two consecutive sixths of the download agreeing this closely: done
MAX_BYTES = 64 * 1024 * 1024  # 100 Mbit/s for 5 s
DEFAULT_CANDIDATES = 30
SMALL_FILE = 1024 * 1024      # below this the figure mostly measures latency, not bandwidth


@dataclass
class Measure:
    outcome: Outcome
    mbps: float | None = None
    received: int = 0
    seconds: float = 0.0        # the span the figure was measured over
    skipped: float = 0.0        # seconds set aside at the start (a limiter's initial burst)
    complete: bool = False      # the whole file came before the limits


def preflight(ctx: CheckContext) -> None:
    if ctx.options.bandwidth_url:
        normalize_url(ctx.options.bandwidth_url, "--bandwidth-url")
    if ctx.options.dns:
        from whitelist.resolve import parse_dns_server

        parse_dns_server(ctx.options.dns)


def budget_s(ctx: CheckContext) -> float:
    # DNS + connect + TLS within one timeout (probe.py), then the timed download, then slack.
    return ctx.options.timeout + MAX_SECONDS + ctx.options.timeout + 5


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


def run(ctx: CheckContext) -> CheckResult:
    from checks.whitelist import settings_for  # the same proxy, DNS and trust store

    url = ctx.options.bandwidth_url or DEFAULT_URL
    try:
        url, _host = normalize_url(url, "--bandwidth-url")
    except BadInput as exc:
        return ctx.result("bandwidth", Status.error, exc.line(ctx.lang), remediation=exc.line(ctx.lang),
                          threshold=ctx.policy.min_bandwidth_mbps, unit="Mbit/s")
    ctx.progress("bandwidth", 0, 1)
    result = measure(url, settings_for(ctx))
    ctx.progress("bandwidth", 1, 1)
    outcome = result.outcome
    if result.mbps is None or outcome.reason != "ok":
        reason = ctx.t(f"reason.{outcome.reason}") if outcome.reason != "ok" else "?"
        return ctx.result("bandwidth", Status.error,
                          ctx.t("bandwidth.error", url=url, reason=reason, detail=outcome.text(ctx.lang) or "-"),
                          remediation=ctx.t("bandwidth.error_fix", url=url),
                          # no figure, but the minimum is known: shown like screen's when it errors
                          threshold=ctx.policy.min_bandwidth_mbps, unit="Mbit/s")
    from core.i18n import fmt_number

    policy = ctx.policy
    mbps = round(result.mbps, 2)
    candidates = math.floor(result.mbps / policy.per_candidate_mbps)
    wanted = ctx.options.candidates or DEFAULT_CANDIDATES
    need = wanted * policy.per_candidate_mbps
    latency = fmt_number(outcome.latency_ms or 0, ctx.lang, 0)
    summary = ctx.t("bandwidth.summary", mbps=fmt_number(mbps, ctx.lang, 1), latency=latency,
                    candidates=candidates, per=fmt_number(policy.per_candidate_mbps, ctx.lang, 2),
                    seconds=fmt_number(result.seconds, ctx.lang, 1), skipped=fmt_number(result.skipped, ctx.lang, 1),
                    wanted=wanted, need=fmt_number(need, ctx.lang, 1))
    if result.complete and result.received < SMALL_FILE:
        summary += ctx.t("bandwidth.small_file", size=fmt_number(result.received / 1024, ctx.lang, 0))
    remediation = None
    if result.mbps < policy.min_bandwidth_mbps:
        status = Status.fail
        remediation = ctx.t("bandwidth.fix", minimum=fmt_number(policy.min_bandwidth_mbps, ctx.lang, 1),
                            candidates=candidates)
    elif candidates < wanted:
        status = Status.warn
        remediation = ctx.t("bandwidth.fix_room", candidates=candidates, wanted=wanted,
                            need=fmt_number(need, ctx.lang, 1))
    else:
        status = Status.ok
    result_ = ctx.result("bandwidth", status, summary, remediation=remediation, measured=mbps,
                         threshold=policy.min_bandwidth_mbps, unit="Mbit/s")
    return result_
