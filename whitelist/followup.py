"""Second looks: when the first answer could mean two things, ask once more to tell which.

- A DNS answer that is a blocking address (``0.0.0.0``, a loopback address for a public name,
  a filtering DNS service's block-page address) is the school DNS refusing the name: ``blocked``.
- A direct HTTPS connection whose certificate is not the site's may reach a DNS sinkhole: the
  school DNS sent the name to its block-page server. That server answers plain HTTP with its
  block page, so the probe asks ``http://HOST/`` at the same address: a block page there is
  ``blocked`` (by the DNS), not a TLS problem.
- Squid 5 answers a CONNECT to a name that does not exist with ``500 ERR_CANNOT_FORWARD``
  and a GET with ``502 ERR_READ_ERROR`` (squid bug 5294); a squidGuard block of a CONNECT also
  ends in ``ERR_CANNOT_FORWARD``. The probe resolves the name itself (a name no DNS knows is
  ``dns_failed``), then asks the proxy for ``http://HOST/``: the filter's page there means the
  CONNECT was blocked.

Facts read: DNS answers (``resolve``) and one more HTTP answer, within the URL's own deadline.
"""
from __future__ import annotations

import ipaddress
import time
from typing import Any, Callable
from urllib.parse import urlsplit

from whitelist.filters import AMBIGUOUS_SQUID_CODES
from whitelist.notes import Note, note

# The probe passes itself in (``ask``: URL, deadline -> an Outcome of a first look only), so this
# module does not import whitelist.probe, which calls it: no import cycle.
Outcome = Any
ProbeSettings = Any
Ask = Callable[[str, float], Any]

# Names under these suffixes are local by definition (RFC 6761, RFC 8375, common LAN habits):
# a loopback answer for them is normal; for a public name it is a sinkhole.
_LOCAL_SUFFIXES = ("test", "localhost", "local", "lan", "internal", "home.arpa", "example", "invalid",
                   "intranet", "localdomain", "corp", "home")
# Block-page addresses of filtering DNS services (Cisco Umbrella / OpenDNS: 146.112.61.104-110).
_KNOWN_SINKHOLES = frozenset([f"146.112.61.{n}" for n in range(104, 111)]
                             + [f"::ffff:146.112.61.{n}" for n in range(104, 111)])
MIN_SECOND_LOOK_S = 1.0


def dns_sinkhole(host: str, ip: str, server: str) -> Note | None:
    """The note when ``ip`` is a blocking answer of the DNS for ``host``, else None."""
    try:
        address = ipaddress.ip_address(ip)
        ipaddress.ip_address(host)
        return None  # the URL names an address: no DNS was asked
    except ValueError:
        pass
    if address.is_unspecified:
        return note("net.dns.sinkhole", server=server, host=host, ip=ip)
    if str(address) in _KNOWN_SINKHOLES:
        return note("net.dns.sinkhole_service", server=server, host=host, ip=ip)
    local_name = host == "localhost" or any(host == s or host.endswith("." + s) for s in _LOCAL_SUFFIXES)
    if address.is_loopback and not local_name:
        return note("net.dns.sinkhole", server=server, host=host, ip=ip)
    return None


def second_look(outcome: Outcome, settings: ProbeSettings, deadline: float, ask: Ask) -> None:
    """Refine ``outcome`` in place when its reason is one of the ambiguous ones above."""
    if outcome.reason == "connect_failed" and outcome.proxy and outcome.proxy_code in AMBIGUOUS_SQUID_CODES:
        _proxy_could_not_forward(outcome, settings, deadline, ask)
    elif (outcome.reason in ("tls_error", "tls_intercepted") and not outcome.proxy and not outcome.trusted
          and outcome.ip and urlsplit(outcome.url).scheme == "https"):
        _https_to_a_block_server(outcome, settings, deadline, ask)


def _left(deadline: float) -> float:
    return max(MIN_SECOND_LOOK_S, deadline - time.monotonic())


def _plain_http(outcome: Outcome) -> str:
    host = f"[{outcome.host}]" if ":" in outcome.host else outcome.host
    return f"http://{host}/"


def _proxy_could_not_forward(outcome: Outcome, settings: ProbeSettings, deadline: float, ask: Ask) -> None:
    proxy = urlsplit(outcome.proxy or "").netloc.split("@")[-1]
    found = settings.resolver.resolve(outcome.host, min(_left(deadline), settings.timeout))
    if found.ip is None and not found.timed_out:
        outcome.reason = "dns_failed"
        outcome.note = note("net.proxy.name_unknown", proxy=proxy, host=outcome.host, code=outcome.proxy_code,
                            why=found.detail or "-")
        return
    if urlsplit(outcome.url).scheme != "https" or settings.proxies.proxy_for(_plain_http(outcome)) is None:
        return
    again = ask(_plain_http(outcome), time.monotonic() + _left(deadline))
    if again.reason == "blocked":
        outcome.reason, outcome.product = "blocked", again.product
        outcome.note = note("net.proxy.connect_filtered", proxy=proxy, code=outcome.proxy_code,
                            url=_plain_http(outcome), seen=again.note or "-")
    elif again.proxy_code in AMBIGUOUS_SQUID_CODES + ("ERR_DNS_FAIL",):
        # Both ways fail the way squid fails on an unknown name, though this machine's DNS
        # knows it: the proxy's own DNS does not.
        outcome.reason = "dns_failed"
        outcome.note = note("net.proxy.name_unknown_there", proxy=proxy, host=outcome.host,
                            code=outcome.proxy_code, other=again.proxy_code)


def _https_to_a_block_server(outcome: Outcome, settings: ProbeSettings, deadline: float, ask: Ask) -> None:
    url = _plain_http(outcome)
    if settings.proxies.proxy_for(url) is not None:
        return
    again = ask(url, time.monotonic() + _left(deadline))
    if again.reason == "blocked" and again.ip == outcome.ip:
        outcome.reason, outcome.product = "blocked", again.product or "DNS"
        outcome.note = note("net.dns.sinkhole_server", host=outcome.host, ip=outcome.ip,
                            server=settings.resolver.describe(), seen=again.note or "-",
                            cert=outcome.note or "-")
        outcome.dns_block = True
