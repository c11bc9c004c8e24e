"""Check ``whitelist``: every required URL of the whitelist is reachable from this machine.

Judges the probe's outcomes (whitelist.probe) against the list's ``required`` flags: all
required URLs ok -> ok; an optional one failing, or TLS inspection by a CA this machine
trusts -> warn; a required one failing -> fail. Remediations are grouped by reason and
written so a technician can forward them to the network administrator as they are.

The environment variable ``EXAMROOM_EXTRA_CA`` (a PEM file) adds CAs to the trust store;
it exists for tests and labs, the default being the machine's real trust store.
"""
from __future__ import annotations

import math
import threading
from functools import lru_cache

from checks.base import CheckContext
from core.i18n import join_list
from core.result import CheckResult, Item, Status, worst
from whitelist import load as wl_load
from whitelist.probe import BODY_READ_S, ProbeSettings, probe_all
from whitelist.schedule import MAX_THREADS
from whitelist.proxy import detect
from whitelist.resolve import Resolver, parse_dns_server

# The order in which problems are listed: what blocks the session first.
REASONS = ("blocked", "proxy_auth_required", "tls_intercepted", "dns_failed", "connect_failed",
           "timeout", "tls_error", "http_error")


def preflight(ctx: CheckContext) -> None:
    wl_load.load(ctx.options.whitelist)
    if ctx.options.dns:
        parse_dns_server(ctx.options.dns)


def budget_s(ctx: CheckContext) -> float:
    try:
        count = len(wl_load.load(ctx.options.whitelist))
    except Exception:  # noqa: BLE001 - preflight reports bad files; here we only size the budget
        count = 1
    # Slow URLs wait side by side (whitelist.schedule): the list takes about one URL's limit
    # (timeout + a short body read) plus the fast work; beyond MAX_THREADS black holes, waves.
    waves = math.ceil(count / MAX_THREADS)
    # The PAC file costs one more timeout; the last term is the fast URLs' own work.
    return waves * (ctx.options.timeout + BODY_READ_S + 2) + ctx.options.timeout + 5 + count * 0.01


def settings_for(ctx: CheckContext) -> ProbeSettings:
    return ProbeSettings(timeout=ctx.options.timeout, resolver=Resolver(ctx.options.dns),
                         proxies=detect(ctx.host, ctx.options.timeout, pac=ctx.options.pac),
                         cafile=ctx.host.getenv("EXAMROOM_EXTRA_CA") or None,
                         local_cafiles=local_bundles(ctx.host))


def local_bundles(host) -> tuple[str, ...]:
    """CA bundles this machine's tools were pointed at: a school that deploys its inspection
    CA often does it there (requests, OpenSSL). Trusted like the system store, not public."""
    return tuple(dict.fromkeys(v for v in (host.getenv(n) for n in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "CURL_CA_BUNDLE")) if v))


def run(ctx: CheckContext) -> CheckResult:
    entries = wl_load.load(ctx.options.whitelist)
    settings = settings_for(ctx)
    urls = [e.url for e in entries]
    firefox = _firefox_own(ctx, settings)
    firefox_outcomes: list = []
    if firefox is not None:
        # Firefox's own proxy: its probes run beside the system's, so the list still takes
        # about one timeout.
        fx_settings = ProbeSettings(timeout=settings.timeout, resolver=settings.resolver, proxies=firefox.settings,
                                    cafile=settings.cafile, local_cafiles=settings.local_cafiles)
        worker = threading.Thread(target=lambda: firefox_outcomes.extend(probe_all(urls, fx_settings)))
        worker.start()
    outcomes = probe_all(urls, settings, lambda done, total: ctx.progress("whitelist", done, total))
    items = _items(ctx, entries, outcomes)
    summary, remediation = _summary(ctx, items), _remediation(ctx, items, settings)
    if settings.proxies.problem:
        summary += ctx.t("whitelist.summary_pac", problem=settings.proxies.problem)
    if firefox is not None:
        worker.join()
        fx_items = _items(ctx, entries, firefox_outcomes)
        for item, fx_item in zip(items, fx_items):
            item.firefox = {"reason": fx_item.reason, "status": fx_item.status, "proxy": fx_item.proxy,  # type: ignore[attr-defined]
                            "detail": fx_item.detail}
            item.status = worst([item.status, fx_item.status])
        def said(found) -> str:
            return ctx.t("whitelist.direct") if found.describe() == "direct" else found.describe()

        summary += ctx.t("whitelist.browsers_differ", firefox=said(firefox.settings), where=firefox.where,
                         system=said(settings.proxies), summary=_summary(ctx, fx_items))
        fx_fix = _remediation(ctx, fx_items, fx_settings)
        if fx_fix:
            prefix = ctx.t("whitelist.firefox_prefix")
            remediation = "\n    ".join(filter(None, [remediation, prefix + fx_fix]))
    status = worst([i.status for i in items], default=Status.ok)
    return ctx.result("whitelist", status, summary, remediation=remediation, items=items)


def _firefox_own(ctx: CheckContext, settings: ProbeSettings):
    """Firefox's own proxy settings when they differ from the system's (None otherwise)."""
    from whitelist.browsers import firefox
    from whitelist.proxy import load_pac

    for found in firefox(ctx.host):
        if found.settings.describe() != settings.proxies.describe():
            load_pac(found.settings, ctx.options.timeout)
            return found
    return None


def _items(ctx: CheckContext, entries: list, outcomes: list) -> list[Item]:
    items = []
    for entry, outcome in zip(entries, outcomes):
        if outcome.reason == "ok":
            status = Status.ok
        elif outcome.reason == "tls_intercepted" and outcome.trusted:
            status = Status.warn
        elif outcome.reason == "proxy_auth_required" and outcome.windows_auth:
            # This probe cannot speak NTLM/Kerberos; the browser of a domain session can.
            status = Status.warn
        else:
            status = Status.fail if entry.required else Status.warn
        items.append(Item(
            name=entry.url, status=status, detail=outcome.text(ctx.lang),
            url=entry.url, host=entry.host, reason=outcome.reason, ip=outcome.ip,
            latency_ms=outcome.latency_ms, http_status=outcome.http_status,
            required=entry.required, category=entry.category or None, proxy=outcome.proxy,
            product=outcome.product or None, windows_auth=outcome.windows_auth or None,
            proxy_code=outcome.proxy_code or None, dns_block=outcome.dns_block or None,
            cdn=outcome.product if outcome.reason == "http_error" and outcome.product else None,
            via=bool(outcome.note and outcome.note.key == "net.http.via_proxy") or None,
        ))
    return items


def _summary(ctx: CheckContext, items: list[Item]) -> str:
    reachable = sum(1 for i in items if i.reason == "ok")  # type: ignore[attr-defined]
    text = ctx.t("whitelist.summary", ok=reachable, total=len(items))
    counts = [(r, sum(1 for i in items if i.reason == r)) for r in REASONS]  # type: ignore[attr-defined]
    parts = [f"{ctx.t('reason.' + r)} : {n}" if ctx.lang == "fr" else f"{ctx.t('reason.' + r)}: {n}"
             for r, n in counts if n]
    required_bad = sum(1 for i in items if i.status == Status.fail)
    if required_bad:
        text += ctx.t("whitelist.summary_required", count=required_bad)
    return text + (" ; " if ctx.lang == "fr" else "; ").join([""] + parts) if parts else text


def _remediation(ctx: CheckContext, items: list[Item], settings: ProbeSettings) -> str | None:
    bad = [i for i in items if i.status != Status.ok]
    if not bad:
        return None
    lines = []
    keys = list(dict.fromkeys(_fix_key(i) for i in sorted(bad, key=lambda i: REASONS.index(i.reason))))  # type: ignore[attr-defined]
    for key in keys:
        group = [i for i in bad if _fix_key(i) == key]
        reason = group[0].reason  # type: ignore[attr-defined]
        hosts = _host_list(group)
        details = list(dict.fromkeys(i.detail for i in group if i.detail))  # distinct, in order
        # Two examples say what was seen; the item list has every one of them.
        seen = join_list(details[:2], ctx.lang) + (f" (+{len(details) - 2})" if len(details) > 2 else "")
        fields = {"hosts": hosts, "seen": seen or "-", "allow": _patterns(group),
                  "dns": settings.resolver.describe(), "timeout": ctx.options.timeout,
                  "proxy": _proxy_of(group)}
        if reason == "proxy_auth_required" and all(getattr(i, "windows_auth", None) for i in group):
            key = "whitelist.fix.proxy_windows_auth"
        lines.append(ctx.t(key, **fields))
    if settings.proxies.problem:
        lines.append(ctx.t("whitelist.fix.pac", problem=settings.proxies.problem))
    return "\n    ".join(lines)  # continuation lines indented under the terminal's "  - " bullet


def _fix_key(item: Item) -> str:
    """The remediation for this item: what to change, and where (filter, DNS, proxy, firewall)."""
    reason = item.reason  # type: ignore[attr-defined]
    via_proxy = bool(getattr(item, "proxy", None))
    if reason == "blocked" and getattr(item, "dns_block", None):
        return "whitelist.fix.blocked_dns"
    if reason in ("dns_failed", "connect_failed") and via_proxy and getattr(item, "proxy_code", None):
        return f"whitelist.fix.{reason}_proxy"  # the proxy met it on its way, not this machine
    if reason == "http_error" and getattr(item, "cdn", None):
        return "whitelist.fix.http_error_cdn"
    if reason == "http_error" and getattr(item, "via", None):
        return "whitelist.fix.http_error_proxy"
    return f"whitelist.fix.{reason}"


def _host_list(group: list[Item]) -> str:
    hosts = list(dict.fromkeys(i.host for i in group))  # type: ignore[attr-defined]
    return ", ".join(hosts[:12]) + (f" (+{len(hosts) - 12})" if len(hosts) > 12 else "")


def _patterns(group: list[Item]) -> str:
    """``*.pix.fr`` when several hosts of one domain fail, else the hosts themselves.
    The registrable domain comes from the public suffix list (``github.io`` is a suffix:
    ``1024pix.github.io`` stays alone rather than opening all of GitHub Pages)."""
    psl = _psl()
    domains: dict[str, set[str]] = {}
    for item in group:
        host = item.host  # type: ignore[attr-defined]
        domains.setdefault(psl.privatesuffix(host) or host, set()).add(host)
    patterns = []
    for domain, hosts in domains.items():
        if len(hosts) > 1:
            patterns += ([domain] if domain in hosts else []) + [f"*.{domain}"]
        else:
            patterns += sorted(hosts)
    return ", ".join(patterns)


@lru_cache(maxsize=1)
def _psl():
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList()


def _proxy_of(group: list[Item]) -> str:
    proxies = [i.proxy for i in group if getattr(i, "proxy", None)]  # type: ignore[attr-defined]
    return proxies[0].split("@")[-1].replace("http://", "") if proxies else "-"
