"""Who answered: the site, or a filtering proxy / firewall in between?

Facts read: an HTTP answer's status, headers, the first bytes of its body and its redirect
target (given by the probe). Signatures come from the products French schools use: Squid
(``X-Squid-Error`` header, ERR_* pages), SquidGuard, e2guardian/DansGuardian, EOLE Amon
(e2guardian with French templates), Olfeo, Fortinet FortiGuard ("Web Page Blocked"),
Stormshield (ex-NETASQ), Sophos and tinyproxy (``403 Filtered``, ``Server: tinyproxy``). A
filter answers with 403/451, with a 200 page that carries a block message, or with a redirect
to its own host. An error answer carrying a proxy's marks (``X-Squid-Error``, a proxy's
``Server``) is the proxy's, never the site's; a refusal carrying a CDN's marks (``cf-ray``...)
is the site's own front door, never the school's filter.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Mapping
from urllib.parse import unquote, urlsplit

from whitelist.notes import Note, note


@dataclass(frozen=True)
class Verdict:
    reason: str          # a CONTRACT section 3 reason
    product: str         # "Squid", "Fortinet FortiGuard", "" when unknown
    evidence: Note       # what was seen, for the remediation ("403 X-Squid-Error: ...")


@dataclass(frozen=True)
class Signature:
    product: str
    text: tuple[str, ...]                 # regexes over body, Server/Via headers and redirect target
    headers: tuple[str, ...] = ()         # header names only this product sends


# Order matters: EOLE Amon pages also say e2guardian, so Amon is tried first.
SIGNATURES: tuple[Signature, ...] = (
    Signature("Squid", (r"\(squid/[\d.]+\)", r"generated .{0,80} by .{0,80}squid", r"\bERR_ACCESS_DENIED\b"),
              headers=("x-squid-error",)),
    Signature("EOLE Amon", (r"\beole\b", r"\bamon\b")),
    Signature("SquidGuard", (r"squidguard",)),
    Signature("e2guardian", (r"e2guardian", r"dansguardian"), headers=("x-e2guardian",)),
    Signature("Olfeo", (r"olfeo",)),
    Signature("Fortinet FortiGuard", (r"fortiguard", r"fortigate", r"fortinet", r"fgtauth", r":8008/", r":8010/")),
    Signature("Stormshield", (r"stormshield", r"netasq")),
    Signature("Sophos", (r"sophos",)),
    Signature("tinyproxy", (r"\btinyproxy\b",)),
)

# Proxies whose own ``Server`` header marks an answer they made themselves (an error page).
_PROXY_SERVERS = re.compile(r"^\s*(squid|tinyproxy|e2guardian|dansguardian|privoxy|mitmproxy|polipo)\b", re.I)

# CDNs in front of sites: their refusals (bot checks, rate limits) come from the site's side.
_CDN_MARKS: tuple[tuple[str, str, str], ...] = (
    ("Cloudflare", "cf-ray", ""), ("Cloudflare", "server", "cloudflare"),
    ("Amazon CloudFront", "x-amz-cf-id", ""), ("Amazon CloudFront", "server", "cloudfront"),
    ("Akamai", "server", "akamaighost"), ("Akamai", "x-akamai-request-id", ""),
    ("Fastly", "x-served-by", "cache-"), ("Fastly", "x-fastly-request-id", ""),
    ("OVHcloud CDN", "x-cdn-pop", ""),
)

# What block pages say, in French and English (used with the title or a 403 body).
_BLOCK_WORDS = re.compile(
    r"acc[eè]s\s+(?:au\s+site\s+|[àa]\s+ce\s+site\s+|[àa]\s+cette\s+page\s+)?(?:est\s+)?(?:refus[ée]|interdit|bloqu[ée])"
    r"|site\s+(?:est\s+)?(?:bloqu[ée]|interdit|filtr[ée])|page\s+(?:web\s+)?bloqu[ée]e|filtrage"
    r"|access\s+(?:has\s+been\s+)?denied|web\s+page\s+blocked|page\s+blocked|site\s+blocked"
    r"|blocked\s+by|url\s+(?:has\s+been\s+)?blocked|this\s+site\s+is\s+blocked|web\s*filter",
    re.IGNORECASE,
)
_BLOCK_PATH = re.compile(r"block|denied|deny|bloqu|filtr|forbidden|interdit|captive|warn", re.IGNORECASE)

# Squid's own error codes, which say what the proxy met on its way to the site.
_SQUID_CODES = {
    "ERR_DNS_FAIL": "dns_failed",
    "ERR_CONNECT_FAIL": "connect_failed",
    "ERR_READ_TIMEOUT": "timeout",
    "ERR_LIFETIME_EXP": "timeout",
    "ERR_CONNECT_TIMEOUT": "timeout",
    "ERR_CACHE_ACCESS_DENIED": "proxy_auth_required",
    "ERR_ACCESS_DENIED": "blocked",
    "ERR_BLOCKED": "blocked",
    "ERR_FORWARDING_DENIED": "blocked",
    # Squid 5 answers a name that does not exist with these (bug 5294), and a squidGuard
    # block of a CONNECT also ends in ERR_CANNOT_FORWARD: the probe looks again (followup.py).
    "ERR_CANNOT_FORWARD": "connect_failed",
    "ERR_READ_ERROR": "connect_failed",
    "ERR_ZERO_SIZE_OBJECT": "connect_failed",
    "ERR_GATEWAY_FAILURE": "connect_failed",
    "ERR_WRITE_ERROR": "connect_failed",
}
AMBIGUOUS_SQUID_CODES = ("ERR_CANNOT_FORWARD", "ERR_READ_ERROR")


def page_title(body: str) -> str:
    m = re.search(r"<title[^>]*>(.*?)</title>", body, re.IGNORECASE | re.DOTALL)
    return " ".join(html.unescape(m.group(1)).split())[:120] if m else ""


def cdn_of(headers: Mapping[str, str]) -> str:
    """The CDN whose marks the answer carries (``headers`` with lower-case names), or ""."""
    for cdn, name, value in _CDN_MARKS:
        if name in headers and value in headers[name].lower():
            return cdn
    return ""


def proxy_made(headers: Mapping[str, str]) -> bool:
    """The answer was made by a proxy itself (its ``Server`` header), not forwarded from a site."""
    return bool(_PROXY_SERVERS.search(headers.get("server", "")))


def product_of(headers: Mapping[str, str], body: str, location: str = "") -> str:
    """The filtering product these headers/body/redirect point to, or ""."""
    names = {k.lower() for k in headers}
    # Not Via: proxies add it to the sites' own answers they forward.
    haystack = "\n".join([body, location, headers.get("server", ""), headers.get("proxy-agent", "")])
    for sig in SIGNATURES:
        if any(h in names for h in sig.headers) or any(re.search(p, haystack, re.IGNORECASE) for p in sig.text):
            return sig.product
    return ""


def classify(
    status: int,
    headers: Mapping[str, str],
    body: str,
    url: str,
    *,
    via_proxy: str | None = None,
    connect_answer: bool = False,
) -> Verdict | None:
    """The reason when a filter or proxy answered instead of the site; None when the site did.

    ``headers`` must have lower-case names. ``connect_answer`` is True for the proxy's answer
    to CONNECT (the site was never reached, so anything but 200 is the proxy's doing).
    """
    location = headers.get("location", "")
    product = product_of(headers, body, location)
    squid = headers.get("x-squid-error", "")
    if squid:
        code = squid.split()[0].upper()
        reason = _SQUID_CODES.get(code)
        if reason is None and status in (403, 451):
            reason = "blocked"
        elif reason is None and status >= 500:
            reason = "timeout" if status == 504 else "connect_failed"  # the proxy's, not the site's
        if reason:
            return Verdict(reason, "Squid", note("net.filter.squid", who=_who(via_proxy, "Squid"), status=status, code=squid))
    if status == 407:
        return Verdict("proxy_auth_required", product,
                       note("net.filter.auth", who=_who(via_proxy, product), scheme=_auth_scheme(headers)))
    title = page_title(body)
    seen = f' "{title}"' if title else ""
    cdn = cdn_of(headers)
    if cdn and not connect_answer:
        return None  # the site's CDN answered (even with "you have been blocked"): not the school's filter
    if status >= 400 and proxy_made(headers) and status not in (403, 407, 451):
        # An error page the proxy wrote (its own Server header): the proxy could not get the page.
        reason = "timeout" if status == 504 else "connect_failed"
        return Verdict(reason, product, note("net.filter.proxy_error", who=_who(via_proxy, product),
                                             status=status, title=seen))
    if 300 <= status < 400 and location:
        if _redirect_to_filter(url, location, product, via_proxy):
            return Verdict("blocked", product, note("net.filter.redirect", status=status, location=location[:160]))
        return None
    if status in (403, 451):
        # A Via header proves nothing here: proxies add it to the sites' own answers too.
        if (status == 451 or product or connect_answer or proxy_made(headers)
                or _BLOCK_WORDS.search(title or body[:4000])):
            key = "net.filter.connect_refused" if connect_answer else "net.filter.refused"
            return Verdict("blocked", product, note(key, who=_who(via_proxy, product), status=status, title=seen))
        return None
    if connect_answer and status != 200 and status < 500:
        # The proxy refused the tunnel: the site was never asked.
        return Verdict("blocked", product, note("net.filter.connect_refused", who=_who(via_proxy, product), status=status, title=seen))
    if 200 <= status < 300:
        if (product and _BLOCK_WORDS.search(body[:20000])) or (title and _BLOCK_WORDS.search(title)):
            return Verdict("blocked", product, note("net.filter.block_page", who=_who(via_proxy, product), status=status, title=seen))
    return None


def _redirect_to_filter(url: str, location: str, product: str, via_proxy: str | None) -> bool:
    target = urlsplit(location)
    source = urlsplit(url)
    if not target.hostname or target.hostname.lower() == (source.hostname or "").lower():
        return False  # a site redirecting within itself (http -> https, / -> /fr/) is fine
    if product:
        return True
    if via_proxy and target.hostname.lower() == (urlsplit(via_proxy).hostname or "").lower():
        return True
    # Filters put the refused URL in the query string so their page can show it.
    query = unquote(target.query).lower()
    if source.hostname and source.hostname.lower() in query:
        return True
    return bool(_BLOCK_PATH.search(target.path))


def _who(via_proxy: str | None, product: str) -> Note:
    if via_proxy and product:
        return note("net.who.product_proxy", product=product, proxy=_hostport(via_proxy))
    if via_proxy:
        return note("net.who.proxy", proxy=_hostport(via_proxy))
    return note("net.who.product", product=product) if product else note("net.who.network")


def _hostport(proxy: str | None) -> str:
    if not proxy:
        return ""
    parts = urlsplit(proxy)
    return f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)


def _auth_scheme(headers: Mapping[str, str]) -> str:
    scheme = headers.get("proxy-authenticate", "").split(" ")[0]
    return f" (Proxy-Authenticate: {scheme})" if scheme else ""
