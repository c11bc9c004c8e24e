"""Probe a URL as a browser on this machine would: DNS -> TCP -> (proxy CONNECT) -> TLS -> HTTP.

Facts read: DNS answers (``resolve``), the proxy for the URL (``proxy``), the TCP connect,
the certificate (``tlscheck``), the HTTP status, headers and first 64 KB of the answer
(``filters``). Each step is done by hand on one socket rather than through ``requests``:
requests resolves names itself (it would ignore ``--dns``) and folds DNS, connect, TLS and
proxy failures into a few exception types, while each step here yields exactly one reason
of CONTRACT section 3.

Times: a URL takes at most ``timeout`` overall, all steps together (as ``curl --max-time``),
plus a short read of the answer's first bytes; ``whitelist.schedule`` runs them side by side so
the whole list takes about one timeout. ``latency_ms`` runs from the TCP connect to the first byte of the
HTTP answer (through the proxy when there is one).
"""
from __future__ import annotations

import http.client
import socket
import ssl
import time
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import urlsplit

from whitelist import filters, followup, tlscheck, wire
from core.oserror import os_error_key
from whitelist.notes import Note, note
from whitelist.schedule import run_all
from whitelist.proxy import ProxySettings
from whitelist.resolve import Resolver

BODY_READ_S = 1.0                  # after the answer's head: its first bytes, for block pages
USER_AGENT = wire.USER_AGENT


@dataclass
class ProbeSettings:
    timeout: float = 5.0
    resolver: Resolver = field(default_factory=Resolver)
    proxies: ProxySettings = field(default_factory=ProxySettings)
    cafile: str | None = None          # a lab's public roots (tests); the default is the real store
    local_cafiles: tuple[str, ...] = ()  # bundles this machine added (REQUESTS_CA_BUNDLE, SSL_CERT_FILE)
    _context: ssl.SSLContext | None = None
    _public: frozenset[str] | None = None

    @property
    def context(self) -> ssl.SSLContext:
        if self._context is None:
            self._context = tlscheck.make_context(self.cafile, self.local_cafiles)
        return self._context

    @property
    def public_roots(self) -> frozenset[str]:
        if self._public is None:
            self._public = tlscheck.public_keys(self.cafile)
        return self._public


@dataclass
class Outcome:
    url: str
    host: str
    reason: str = "ok"
    ip: str | None = None
    latency_ms: float | None = None
    http_status: int | None = None
    note: Note | None = None           # what was seen (translated when the report is written)
    product: str = ""                  # the filtering product recognised, if any
    proxy: str | None = None           # the proxy the browser would use, None = direct
    cert: tlscheck.CertInfo | None = None
    trusted: bool = False              # tls_intercepted by a CA this machine trusts
    windows_auth: bool = False         # 407 asking for NTLM/Negotiate, which browsers may answer alone
    proxy_code: str = ""               # the proxy's own error code (X-Squid-Error's first word)
    dns_block: bool = False            # blocked by the DNS (a sinkhole answer), not by a proxy
    candidates: list = field(default_factory=list)       # the PAC's failover list (None: direct)
    skipped_proxies: list = field(default_factory=list)  # proxies of that list that did not answer

    @property
    def detail(self) -> str:
        return self.note.text("en") if self.note else ""

    def text(self, lang: str) -> str | None:
        return self.note.text(lang) if self.note else None


class _Fail(Exception):
    def __init__(self, reason: str, seen: Note, **extra: object):
        super().__init__(str(seen))
        self.reason, self.seen, self.extra = reason, seen, extra


class Fetch:
    """An open HTTP answer (headers read, body not yet) for the probe and the bandwidth test."""

    def __init__(self, outcome: Outcome, response: http.client.HTTPResponse | None, sock: socket.socket | None,
                 deadline: float = 0.0):
        self.outcome, self.response, self.sock, self.deadline = outcome, response, sock, deadline

    def close(self) -> None:
        for thing in (self.response, self.sock):
            try:
                if thing is not None:
                    thing.close()
            except OSError:
                pass


def probe(url: str, settings: ProbeSettings, *, deadline: float | None = None, second_looks: bool = True) -> Outcome:
    """The outcome of one URL; never raises."""
    fetch = open_url(url, settings, deadline=deadline)
    try:
        outcome = _first_look(url, fetch)
    finally:
        fetch.close()
    if second_looks:
        followup.second_look(outcome, settings, fetch.deadline,
                             lambda again, until: probe(again, settings, deadline=until, second_looks=False))
    if outcome.skipped_proxies and outcome.note is None:
        via = urlsplit(outcome.proxy).netloc.split("@")[-1] if outcome.proxy else "DIRECT"
        outcome.note = note("net.proxy.failover", dead="; ".join(outcome.skipped_proxies), used=via)
    return outcome


def _first_look(url: str, fetch: Fetch) -> Outcome:
    outcome, response = fetch.outcome, fetch.response
    if response is None:
        return outcome
    body = wire.read_body(response, fetch.sock, max(BODY_READ_S, fetch.deadline - time.monotonic()))
    headers = {k.lower(): v for k, v in response.getheaders()}
    outcome.proxy_code = wire.proxy_code(headers)
    tunnelled = urlsplit(url).scheme == "https"
    verdict = filters.classify(response.status, headers, body, url,
                               via_proxy=None if tunnelled else outcome.proxy)
    if verdict is not None:
        outcome.reason, outcome.product, outcome.note = verdict.reason, verdict.product, verdict.evidence
        outcome.windows_auth = wire.windows_auth(response)
    elif outcome.reason == "ok" and (response.status in (403, 404, 410) or response.status >= 500):
        outcome.reason = "http_error"
        title = filters.page_title(body)
        fields = dict(status=response.status, phrase=response.reason, title=f' "{title}"' if title else "")
        cdn, via = filters.cdn_of(headers), headers.get("via", "")
        if cdn:
            outcome.product = cdn
            outcome.note = note("net.http.cdn_refused", cdn=cdn, ray=wire.ray(headers), **fields)
        elif outcome.proxy and not tunnelled:
            # Through a proxy nobody can say from here who wrote it: never "the site answered".
            # (Direct, or inside a tunnel, a Via header is the site's own caches': no proxy of ours.)
            outcome.note = note("net.http.via_proxy", via=via or _peer(outcome), **fields)
        else:
            outcome.note = note("net.http.site_error", **fields)
    return outcome


def probe_all(urls: list[str], settings: ProbeSettings,
              progress: Callable[[int, int], None] = lambda d, t: None) -> list[Outcome]:
    """Probe every URL concurrently (``whitelist.schedule``); outcomes in the order of ``urls``."""
    outcomes = run_all(urls, lambda url: probe(url, settings), progress)
    tlscheck.shared_certificates(outcomes)
    return outcomes


def open_url(url: str, settings: ProbeSettings, method: str = "GET", deadline: float | None = None) -> Fetch:
    """Connect and send the request; the Fetch holds the answer's headers, or the failure."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    candidates = settings.proxies.proxies_for(url)
    outcome = Outcome(url=url, host=host, proxy=candidates[0], candidates=candidates)
    if settings.proxies.problem:
        outcome.note = note("net.pac_unusable", problem=settings.proxies.problem)
    if deadline is None:
        deadline = time.monotonic() + settings.timeout
    sock = None
    try:
        started = time.monotonic()
        sock = _connect(outcome, parts, settings, deadline)
        if parts.scheme == "https":
            sock = _tls(outcome, sock, parts, settings, deadline)
        sock.settimeout(_left(settings, deadline))
        sock.sendall(wire.request(method, parts, outcome.proxy if parts.scheme == "http" else None))
        response = http.client.HTTPResponse(sock, method=method)
        try:
            response.begin()
        except (TimeoutError, socket.timeout):
            raise _Fail("timeout", note("net.http.no_answer", peer=_peer(outcome), timeout=settings.timeout)) from None
        except (http.client.HTTPException, ConnectionError, OSError) as exc:
            raise _Fail("connect_failed", note("net.http.closed", peer=_peer(outcome), error=_name(exc))) from None
        outcome.latency_ms = round((time.monotonic() - started) * 1000, 1)
        outcome.http_status = response.status
        return Fetch(outcome, response, sock, deadline)
    except _Fail as fail:
        outcome.reason = fail.reason
        outcome.note = fail.seen
        for key, value in fail.extra.items():
            setattr(outcome, key, value)
        if sock is not None:
            sock.close()
        return Fetch(outcome, None, None, deadline)


def _connect(outcome: Outcome, parts, settings: ProbeSettings, deadline: float) -> socket.socket:
    """TCP to the site or its proxy, and the CONNECT tunnel for https through a proxy. A PAC
    failover list (``PROXY a; PROXY b; DIRECT``) is tried in order when a proxy does not take
    the connection, as browsers do; each but the last gets a third of the time left."""
    candidates = outcome.candidates or [outcome.proxy]
    for index, candidate in enumerate(candidates):
        outcome.proxy = candidate
        last = index == len(candidates) - 1
        limit = deadline if last else time.monotonic() + max(1.0, (deadline - time.monotonic()) / 3)
        try:
            return _connect_one(outcome, parts, settings, limit, proxy_only=not last)
        except _ProxyDown as down:
            outcome.skipped_proxies.append(f"{down.proxy} ({down.seen})")
    raise AssertionError("the last candidate raises _Fail, never _ProxyDown")


class _ProxyDown(Exception):
    def __init__(self, proxy: str, seen: Note | str):
        super().__init__(str(seen))
        self.proxy, self.seen = proxy, seen


def _connect_one(outcome: Outcome, parts, settings: ProbeSettings, deadline: float, proxy_only: bool) -> socket.socket:
    """``proxy_only``: a proxy that cannot be reached raises _ProxyDown (try the next one)."""
    try:
        return _connect_via(outcome, parts, settings, deadline, proxy_only)
    except _Fail as fail:
        if proxy_only and outcome.proxy and fail.extra.get("proxy_down"):
            raise _ProxyDown(urlsplit(outcome.proxy).netloc.split("@")[-1], fail.seen) from None
        fail.extra.pop("proxy_down", None)
        raise


def _connect_via(outcome: Outcome, parts, settings: ProbeSettings, deadline: float, proxy_only: bool) -> socket.socket:
    target_port = parts.port or (443 if parts.scheme == "https" else 80)
    proxy = urlsplit(outcome.proxy) if outcome.proxy else None
    name = proxy.hostname if proxy else outcome.host
    port = (proxy.port or 8080) if proxy else target_port
    role = note("net.peer.proxy", proxy=f"{name}:{port}") if proxy else f"{outcome.host}:{port}"
    found = settings.resolver.resolve(name, _left(settings, deadline))
    if found.ip is None:
        raise _Fail("dns_failed", note("net.dns.proxy", name=name, why=found.detail) if proxy else found.detail,
                    proxy_down=bool(proxy))
    outcome.ip = found.ip
    if not proxy:
        sinkhole = followup.dns_sinkhole(outcome.host, found.ip, settings.resolver.describe())
        if sinkhole is not None:
            raise _Fail("blocked", sinkhole, product="DNS", dns_block=True)
    try:
        sock = socket.create_connection((found.ip, port), timeout=_left(settings, deadline))
    except (TimeoutError, socket.timeout):
        raise _Fail("timeout", note("net.tcp.timeout", peer=role, ip=found.ip, timeout=settings.timeout),
                    proxy_down=bool(proxy)) from None
    except OSError as exc:
        raise _Fail("connect_failed", note("net.tcp.failed", peer=role, ip=found.ip, error=_os_error(exc)),
                    proxy_down=bool(proxy)) from None
    if proxy and parts.scheme == "https":
        try:
            _tunnel(outcome, sock, parts.hostname, target_port, proxy, settings, deadline)
        except BaseException:
            sock.close()
            raise
    return sock


def _tunnel(outcome: Outcome, sock: socket.socket, host: str, port: int, proxy, settings, deadline) -> None:
    sock.settimeout(_left(settings, deadline))
    target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    head = f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\nUser-Agent: {USER_AGENT}\r\n"
    sock.sendall((head + wire.proxy_auth(proxy) + "\r\n").encode("latin-1"))
    response = http.client.HTTPResponse(sock, method="CONNECT")
    try:
        response.begin()
    except (TimeoutError, socket.timeout):
        raise _Fail("timeout", note("net.proxy.no_answer", proxy=f"{proxy.hostname}:{proxy.port}", timeout=settings.timeout)) from None
    except (http.client.HTTPException, OSError) as exc:
        raise _Fail("connect_failed", note("net.proxy.closed", proxy=f"{proxy.hostname}:{proxy.port}", error=_name(exc))) from None
    if response.status == 200:
        return
    headers = {k.lower(): v for k, v in response.getheaders()}
    body = wire.read_body(response, sock, max(BODY_READ_S, deadline - time.monotonic()))
    verdict = filters.classify(response.status, headers, body, outcome.url, via_proxy=outcome.proxy, connect_answer=True)
    if verdict is not None:
        raise _Fail(verdict.reason, verdict.evidence, product=verdict.product, http_status=response.status,
                    windows_auth=wire.windows_auth(response), proxy_code=wire.proxy_code(headers))
    reason = "timeout" if response.status == 504 else "connect_failed"
    raise _Fail(reason, note("net.proxy.unreachable", proxy=f"{proxy.hostname}:{proxy.port}", target=target,
                             status=response.status, phrase=response.reason), http_status=response.status)


def _tls(outcome: Outcome, sock: socket.socket, parts, settings: ProbeSettings, deadline: float) -> ssl.SSLSocket:
    host = parts.hostname
    sock.settimeout(_left(settings, deadline))
    proxy_host = urlsplit(outcome.proxy).hostname if outcome.proxy else None
    try:
        tls = settings.context.wrap_socket(sock, server_hostname=host)
    except ssl.SSLCertVerificationError as exc:
        sock.close()
        outcome.cert = _presented_certificate(outcome, parts, settings, deadline)
        reason, seen = tlscheck.judge(exc, outcome.cert, host, proxy_host)
        raise _Fail(reason, seen) from None
    except (TimeoutError, socket.timeout):
        sock.close()
        raise _Fail("timeout", note("net.tls.no_answer", peer=_peer(outcome), timeout=settings.timeout)) from None
    except ConnectionResetError:
        sock.close()
        raise _Fail("connect_failed", note("net.tls.reset", peer=_peer(outcome))) from None
    except (ssl.SSLError, OSError) as exc:
        sock.close()
        raise _Fail("tls_error", note("net.tls.failed", peer=_peer(outcome), error=getattr(exc, "reason", None) or _name(exc))) from None
    outcome.cert = tlscheck.describe(tls.getpeercert(binary_form=True))
    if tlscheck.inspection_product(outcome.cert):
        # The machine trusts the inspection CA (deployed by the school): pages load, but the
        # exam traffic is decrypted on the way. Reported, as a warning rather than a failure.
        outcome.reason, outcome.trusted = "tls_intercepted", True
        outcome.note = note("net.tls.trusted_inspection", issuer=outcome.cert.issuer)
    elif (root := tlscheck.local_root(tls, settings.public_roots)) is not None:
        # Trusted only through a root added on this machine, whatever its neutral name: a
        # public site's chain ends at a public root, so something re-signed it on the way.
        outcome.reason, outcome.trusted = "tls_intercepted", True
        outcome.note = note("net.tls.local_root", root=root.subject or root.issuer, issuer=outcome.cert.issuer)
    return tls


def _presented_certificate(outcome: Outcome, parts, settings: ProbeSettings, deadline: float) -> tlscheck.CertInfo:
    """Connect again without verification, only to read what was presented."""
    probe_outcome = Outcome(url=outcome.url, host=outcome.host, proxy=outcome.proxy)
    try:
        sock = _connect(probe_outcome, parts, settings, deadline)
        sock.settimeout(_left(settings, deadline))
        with tlscheck.unverified_context().wrap_socket(sock, server_hostname=parts.hostname) as tls:
            return tlscheck.describe(tls.getpeercert(binary_form=True))
    except (_Fail, OSError, ssl.SSLError):
        return tlscheck.CertInfo()


def _left(settings: ProbeSettings, deadline: float) -> float:
    return max(0.05, min(settings.timeout, deadline - time.monotonic()))


def _peer(outcome: Outcome) -> Note | str:
    if outcome.proxy:
        return note("net.peer.proxy", proxy=urlsplit(outcome.proxy).netloc.split("@")[-1])
    return f"{outcome.host} ({outcome.ip})"


def _os_error(exc: OSError) -> object:
    """The OS's error as a note (translated with the report) when the table knows it."""
    key = os_error_key(exc)
    return note(key) if key else (exc.strerror or _name(exc))


def _name(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
