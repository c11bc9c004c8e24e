"""Check ``bandwidth``: a timed download through the machine's proxy, in Mbit/s.

Facts: the bytes of ``--bandwidth-url`` (default: an attachment on the platform's own file
host) received over at most ``MAX_SECONDS`` or ``MAX_BYTES``, whichever comes first, and
the latency from the TCP connect to the first byte of the answer. The connection goes
through whitelist.probe, so the proxy, ``--dns`` and TLS checks are those of the whitelist
and a failure has the same precise reason. The download and its rate (limiters' bursts and
steps set aside) are whitelist.download's.

Judged as the technician's question, "how many candidates can this room's link serve at
once": the figure over policy.per_candidate_mbps, against ``--candidates`` (default: the room
size the server knows, else 30). Below policy.min_bandwidth_mbps: fail; enough for fewer
candidates than the room holds: warn (one machine's download may not show the room's share:
the dashboard's room-wide test does).
"""
from __future__ import annotations

import math

from checks.base import CheckContext
from core.errors import BadInput
from core.result import CheckResult, Status
from whitelist.download import MAX_BYTES, MAX_SECONDS, MIN_SECONDS, Measure, measure  # noqa: F401 - the check's API
from whitelist.load import normalize_url

# A question attachment on the platform's file host (dl.pix.fr serves "question attachments
# and images", REFERENCE.md). Not verified from here (no internet while building): a centre
# can point --bandwidth-url at any large file its candidates will download.
DEFAULT_URL = "https://dl.pix.fr/rec3JeDqiooMO30mG1623769711702/smartphone.png"
DEFAULT_CANDIDATES = 30
SMALL_FILE = 1024 * 1024      # below this the figure mostly measures latency, not bandwidth


def preflight(ctx: CheckContext) -> None:
    if ctx.options.bandwidth_url:
        normalize_url(ctx.options.bandwidth_url, "--bandwidth-url")
    if ctx.options.dns:
        from whitelist.resolve import parse_dns_server

        parse_dns_server(ctx.options.dns)


def budget_s(ctx: CheckContext) -> float:
    # DNS + connect + TLS within one timeout (probe.py), then the timed download, then slack.
    return ctx.options.timeout + MAX_SECONDS + ctx.options.timeout + 5


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
