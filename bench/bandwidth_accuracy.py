"""Bandwidth figure against the truth, through real limiters and a paced server.

Rows: 2, 8 and 40 Mbit/s through nginx ``limit_rate`` (a burst of up to one second's worth at
the start) and through a squid class-1 delay pool (its bucket starts full, one second's worth),
plus 1 and 100 Mbit/s from a paced loopback server with no burst. Printed as ratios of the
figure to the limit configured and to the truth: what the limiter really delivers over a long
download (15 s, its first 3 s dropped: nginx's limit_rate runs a little below its setting at
high rates, each of its waits being rounded up by a millisecond), with how long the figure
was measured over and the seconds set aside.
Run by hand: ``python bench/bandwidth_accuracy.py`` (needs nginx, squid, dnsmasq: .ci/run).
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from unittest import mock  # noqa: E402

import pytest  # noqa: E402

from checks.bandwidth import measure  # noqa: E402
from core.host import Host  # noqa: E402
from tests import lab  # noqa: E402
from tests.netservers import RateLimitedServer  # noqa: E402
from whitelist.probe import ProbeSettings  # noqa: E402
from whitelist.proxy import detect  # noqa: E402
from whitelist.resolve import Resolver  # noqa: E402

RATES = (2, 8, 40)
REFERENCE_S, REFERENCE_DROP_S = 15.0, 3.0


def _truth(url: str, settings: ProbeSettings) -> float:
    """Mbit/s over a long download, its first seconds dropped (no burst in it)."""
    import time

    from whitelist.probe import open_url

    fetch = open_url(url, settings)
    try:
        got, start, mark = 0, time.monotonic(), None
        while time.monotonic() - start < REFERENCE_S:
            chunk = fetch.response.read1(256 * 1024)
            if not chunk:
                break
            got += len(chunk)
            if mark is None and time.monotonic() - start >= REFERENCE_DROP_S:
                mark = (time.monotonic(), got)
        return (got - mark[1]) * 8 / (time.monotonic() - mark[0]) / 1e6
    finally:
        fetch.close()


def _row(limiter: str, rate: float, url: str, settings: ProbeSettings) -> None:
    truth = _truth(url, settings)
    result = measure(url, settings)
    print(f"{limiter:>24} {rate:>6g} {truth:>7.2f} {result.mbps or 0:>9.2f} {result.mbps / rate:>9.3f} "
          f"{result.mbps / truth:>9.3f} {result.seconds:>7.1f} {result.skipped:>8.1f}")


def main() -> None:
    print(f"{'limiter':>24} {'limit':>6} {'truth':>7} {'measured':>9} {'/limit':>9} {'/truth':>9} {'over s':>7} {'aside s':>8}")
    names = {f"r{r}.test": "127.0.0.1" for r in RATES}
    with mock.patch.object(pytest, "skip", side_effect=SystemExit), mock.patch.object(pytest, "fail", side_effect=SystemExit):
        with (lab.nginx({f"r{r}": r * 125_000 for r in RATES}) as web, lab.dnsmasq(names) as dns,
              lab.block_cgi() as cgi, lab.squid(dns, cgi, pools={f"r{r}.test": r * 125_000 for r in RATES}) as squid):
            for rate in RATES:
                _row("nginx limit_rate", rate, web.url(f"r{rate}"), ProbeSettings(timeout=5))
            host = Host.fake("linux", Path("/tmp"), env={"HTTP_PROXY": squid.url})
            settings = ProbeSettings(timeout=5, resolver=Resolver(dns.server), proxies=detect(host))
            for rate in RATES:
                _row("squid delay_pools", rate, web.url("full", host=f"r{rate}.test"), settings)
    for rate in (1, 100):
        server = RateLimitedServer(rate * 1e6, size=1024 * 1024 * 1024)
        try:
            _row("paced server (no burst)", rate, server.url, ProbeSettings(timeout=5))
        finally:
            server.close()


if __name__ == "__main__":
    main()
