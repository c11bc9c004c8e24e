"""Check ``bandwidth``: a timed download through the machine's proxy, in Mbit/s.

Facts: the bytes of ``--bandwidth-url`` (default: an attachment on the platform's own file
host) received over at most ``MAX_SECONDS`` or ``MAX_BYTES``, whichever comes first, and
the latency from the TCP connect to the first byte of the answer. The connection goes
through whitelist.probe, so the proxy, ``--dns`` and TLS checks are those of the whitelist
and a failure has the same precise reason. Judged against policy.min_bandwidth_mbps; the
summary says how many candidates the link could serve at policy.per_candidate_mbps.
"""
from __future__ import annotations

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
MAX_SECONDS = 4.0
MAX_BYTES = 50 * 1024 * 1024
SMALL_FILE = 1024 * 1024      # below this the figure mostly measures latency, not bandwidth


@dataclass
class Measure:
    outcome: Outcome
    mbps: float | None = None
    received: int = 0
    seconds: float = 0.0
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
            max_bytes: int = MAX_BYTES) -> Measure:
    fetch = open_url(url, settings)
    result = Measure(fetch.outcome)
    try:
        response = fetch.response
        if response is None:
            return result
        if response.status != 200:
            _refused(result, response, url)
            return result
        _download(result, response, fetch.sock, settings.timeout, max_seconds, max_bytes)
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
              max_seconds: float, max_bytes: int) -> None:
    if sock is not None:
        sock.settimeout(timeout)
    asked = time.monotonic()
    first = last = None
    after_first = 0
    try:
        while result.received < max_bytes:
            chunk = response.read1(256 * 1024)
            if not chunk:
                result.complete = True
                break
            last = time.monotonic()
            if first is None:
                first = last  # timing starts at the first byte: latency is measured apart
            else:
                after_first += len(chunk)
            result.received += len(chunk)
            if last - first >= max_seconds:
                break
    except (TimeoutError, socket.timeout, OSError, http.client.HTTPException) as exc:
        if result.received == 0:
            result.outcome.reason = "timeout" if isinstance(exc, (TimeoutError, socket.timeout)) else "connect_failed"
            result.outcome.note = note("net.bw.stalled", error=type(exc).__name__)
            return
    if first is None or last is None:
        result.outcome.reason, result.outcome.note = "http_error", note("net.bw.empty")
        return
    span = last - first
    if span >= 0.05:
        result.mbps, result.seconds = after_first * 8 / span / 1e6, span
    else:  # a tiny file arrived in one go: count from the request instead
        span = max(last - asked, 1e-3)
        result.mbps, result.seconds = result.received * 8 / span / 1e6, span


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
    latency = fmt_number(outcome.latency_ms or 0, ctx.lang, 0)
    summary = ctx.t("bandwidth.summary", mbps=fmt_number(mbps, ctx.lang, 1), latency=latency,
                    candidates=candidates, per=fmt_number(policy.per_candidate_mbps, ctx.lang, 2))
    if result.complete and result.received < SMALL_FILE:
        summary += ctx.t("bandwidth.small_file", size=fmt_number(result.received / 1024, ctx.lang, 0))
    status = Status.ok if result.mbps >= policy.min_bandwidth_mbps else Status.fail
    remediation = None
    if status != Status.ok:
        remediation = ctx.t("bandwidth.fix", minimum=fmt_number(policy.min_bandwidth_mbps, ctx.lang, 1),
                            candidates=candidates)
    return ctx.result("bandwidth", status, summary, remediation=remediation, measured=mbps,
                      threshold=policy.min_bandwidth_mbps, unit="Mbit/s")
