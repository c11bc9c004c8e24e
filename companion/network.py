"""Connectivity to the exam platform (``--platform-url``), as outages with a duration.

Facts read: the answer (any HTTP status) or the error of a HEAD request to the platform
URL every ``interval_s``, with a short timeout. Any HTTP answer means the network works
(the platform's own status is not ours to judge); a connection error or timeout is a
failure. ``down_after`` consecutive failures make an outage (one lost packet is not a
``net_down`` alert); it starts at the first failure, and ``net_up`` carries its duration.
Events go to the outbox like any other, so an outage that also cut the supervisor server
is recorded and sent later.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable
from urllib.parse import urlsplit

import requests

from core.events import Event, event, utc_iso

log = logging.getLogger(__name__)

Probe = Callable[[str, float], float]   # (url, timeout) -> latency in ms; raises on failure


def http_probe(session: requests.Session, proxy_for: Callable[[str], str | None] | None = None) -> Probe:
    """HEAD ``url``; through the proxy the machine's browser would use when ``proxy_for`` is
    given (a school's filtering proxy is the candidate's only way out; going direct would
    report an outage the browser does not have, or hide one it has)."""
    if proxy_for is not None:
        session.trust_env = False   # proxy_for already read the environment, then the OS

    def probe(url: str, timeout: float) -> float:
        proxies = None
        if proxy_for is not None:
            # browsers never send loopback addresses to a proxy
            loopback = (urlsplit(url).hostname or "") in ("localhost", "127.0.0.1", "::1")
            proxy = None if loopback else proxy_for(url)
            proxies = {"http": proxy, "https": proxy} if proxy else {"http": "", "https": ""}
        start = time.perf_counter()
        # HEAD: no body to download; redirects are not followed (an answer is an answer)
        session.head(url, timeout=timeout, allow_redirects=False, proxies=proxies)
        return (time.perf_counter() - start) * 1000
    return probe


def system_proxy(host) -> Callable[[str], str | None]:
    """The browser's proxy for a URL (whitelist.proxy: environment, registry, PAC...),
    detected on first use, in the watcher's thread: a PAC download must not delay the start."""
    settings = None

    def proxy_for(url: str) -> str | None:
        nonlocal settings
        if settings is None:
            from whitelist.proxy import detect

            settings = detect(host, timeout=3.0)
            log.info("platform probe proxy: %s", settings.describe())
        return settings.proxy_for(url)
    return proxy_for


def describe_error(exc: BaseException) -> str:
    if isinstance(exc, requests.Timeout):
        return "timeout"
    if isinstance(exc, requests.exceptions.SSLError):
        return "tls_error"
    if isinstance(exc, requests.ConnectionError):
        text = str(exc).lower()
        if "name or service not known" in text or "nodename nor servname" in text or "getaddrinfo" in text:
            return "dns_failed"
        return "connect_failed"
    return type(exc).__name__


@dataclass
class NetState:
    up: bool | None = None
    latency_ms: float | None = None
    error: str | None = None


class NetworkWatcher:
    def __init__(self, url: str, emit: Callable[[Event], None], *, interval_s: float = 3.0,
                 timeout_s: float = 2.0, down_after: int = 2, probe: Probe | None = None,
                 proxy_for: Callable[[str], str | None] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.url = url
        self.emit = emit
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self.down_after = max(1, down_after)
        self._session = requests.Session()
        self.probe = probe or http_probe(self._session, proxy_for)
        self.clock = clock
        self.state = NetState()
        self._failures = 0
        self._first_failure: float | None = None
        self._first_failure_at: str | None = None   # wall-clock, for the event: when it began
        self._down_since: float | None = None

    def check(self) -> Event | None:
        try:
            latency = self.probe(self.url, self.timeout_s)
        except Exception as exc:  # any failure of the probe is "no network" for the candidate
            return self._failed(describe_error(exc))
        self.state = NetState(up=True, latency_ms=round(latency, 1))
        self._failures, self._first_failure = 0, None
        if self._down_since is not None:
            down_s = round(self.clock() - self._down_since, 1)
            self._down_since = None
            return self._send(event("net_up", url=self.url, down_s=down_s))
        return None

    def _failed(self, error: str) -> Event | None:
        self._failures += 1
        if self._first_failure is None:
            self._first_failure, self._first_failure_at = self.clock(), utc_iso()
        if self._down_since is not None or self._failures < self.down_after:
            if self._down_since is not None:
                self.state = NetState(up=False, error=error)
            return None
        self._down_since = self._first_failure
        self.state = NetState(up=False, error=error)
        # "since": the outage began at the first failed probe, down_after probes before this
        # event's own time; the PV's timeline wants the real start
        return self._send(event("net_down", url=self.url, error=error, since=self._first_failure_at))

    def _send(self, ev: Event) -> Event:
        self.emit(ev)
        return ev

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            started = time.monotonic()
            self.check()
            stop.wait(max(0.0, self.interval_s - (time.monotonic() - started)))

    def close(self) -> None:
        self._session.close()
