"""Bandwidth against a real rate-limited loopback server: the figure is within 10 % of the
server's rate, the limits stop the download, an unreachable file is `error` with a reason."""
from __future__ import annotations


import pytest

from checks import bandwidth
from checks.base import CheckContext, CheckOptions
from checks.policy import Policy
from core.host import Host
from core.result import Status
from tests.netservers import DnsServer, ForwardProxy, HttpServer, RateLimitedServer
from tests.support import free_port
from whitelist.probe import ProbeSettings


@pytest.fixture(scope="module")
def limited():
    server = RateLimitedServer(16e6)
    yield server
    server.close()


def _ctx(tmp_path, url, env=None, policy=None, lang="en", dns=None):
    return CheckContext(host=Host.fake("linux", tmp_path, env=env or {}), lang=lang, policy=policy or Policy(),
                        options=CheckOptions(bandwidth_url=url, timeout=2.0, dns=dns))


def test_measure_is_within_10_percent_of_the_server_rate(limited):
    result = bandwidth.measure(limited.url, ProbeSettings(timeout=2.0), max_seconds=2.5)
    assert result.outcome.reason == "ok" and result.mbps is not None
    assert abs(result.mbps - 16.0) / 16.0 < 0.10, result.mbps
    assert not result.complete and result.seconds + result.skipped >= 2.4
    assert result.skipped > 0.5  # the first third is set aside (a limiter's burst would be there)


def test_byte_limit_stops_the_download_early(limited):
    result = bandwidth.measure(limited.url, ProbeSettings(timeout=2.0), max_seconds=30, max_bytes=1024 * 1024)
    assert 1024 * 1024 <= result.received < 1024 * 1024 + 300 * 1024
    assert result.seconds < 5


def test_check_reports_rate_latency_and_candidates(limited, tmp_path):
    result = bandwidth.run(_ctx(tmp_path, limited.url, lang="fr"))
    assert result.status == Status.ok and result.unit == "Mbit/s" and result.threshold == 2.0
    assert abs(result.measured - 16.0) / 16.0 < 0.10
    # 16 Mbit/s at 0.5 Mbit/s per candidate: about 32 candidates at once.
    assert "candidat(s) à la fois à 0,50 Mbit/s" in result.summary
    assert any(f"{n} candidat" in result.summary for n in (29, 30, 31, 32, 33, 34, 35))
    slow = bandwidth.run(_ctx(tmp_path, limited.url, policy=Policy(min_bandwidth_mbps=40, per_candidate_mbps=2)))
    assert slow.status == Status.fail and "40.0 Mbit/s" in slow.remediation
    assert any(f"only {n} candidate" in slow.remediation for n in (7, 8))


def test_through_the_proxy_and_its_block_page(tmp_path, limited):
    dns = DnsServer({"files.test": "127.0.0.1"})
    proxy = ForwardProxy(dns.port, blocked={"files.test"})
    try:
        env = {"HTTP_PROXY": proxy.url}
        result = bandwidth.run(_ctx(tmp_path, f"http://files.test:{limited.port}/big.bin", env=env, dns=dns.address))
        assert result.status == Status.error and result.measured is None
        assert (result.threshold, result.unit) == (2.0, "Mbit/s")  # the minimum it could not be compared with
        assert "blocked by the filter" in result.summary and "ERR_ACCESS_DENIED" in result.summary
        assert result.remediation
        # An allowed file goes through the same proxy and is measured.
        ok = bandwidth.measure(limited.url, ProbeSettings(timeout=2.0, proxies=_env_proxies(env)), max_seconds=1.5)
        assert ok.mbps is not None and f"GET {limited.url}" in proxy.requests
    finally:
        proxy.close()
        dns.close()


def _env_proxies(env):
    from whitelist.proxy import detect

    return detect(Host.fake("linux", "/nonexistent", env=env))


def test_unreachable_file_is_an_error_with_a_reason(tmp_path):
    closed = bandwidth.run(_ctx(tmp_path, f"http://127.0.0.1:{free_port()}/big.bin"))
    assert closed.status == Status.error and "connection failed" in closed.summary
    server = HttpServer({"*": "missing"})
    try:
        missing = bandwidth.run(_ctx(tmp_path, f"http://127.0.0.1:{server.port}/big.bin"))
        assert missing.status == Status.error and "404" in missing.summary
    finally:
        server.close()


def test_small_file_says_the_figure_is_rough(tmp_path):
    server = HttpServer({"*": "ok"})
    try:
        result = bandwidth.run(_ctx(tmp_path, f"http://127.0.0.1:{server.port}/"))
        assert result.measured is not None and "small test file" in result.summary
        assert result.measured > 0 and (result.threshold, result.unit) == (2.0, "Mbit/s")
        assert result.status == (Status.ok if result.measured >= 2.0 else Status.fail)
    finally:
        server.close()


def test_budget_covers_connect_and_download(tmp_path):
    ctx = _ctx(tmp_path, None)
    assert bandwidth.budget_s(ctx) > bandwidth.MAX_SECONDS + 2 * ctx.options.timeout
    assert bandwidth.DEFAULT_URL.startswith("https://dl.pix.fr/")


def test_room_of_more_candidates_than_the_link_serves_is_a_warning(limited, tmp_path):
    """16 Mbit/s at 0.5 Mbit/s each serves about 32: fine for 30 (the default), a warning for
    50 candidates, with the room-wide test as the way to know more."""
    ctx = _ctx(tmp_path, limited.url)
    ctx.options.candidates = 50
    result = bandwidth.run(ctx)
    assert result.status == Status.warn, result.summary
    assert "the room expects 50 (25.0 Mbit/s)" in result.summary and "room-wide bandwidth test" in result.remediation
    assert "measured over" in result.summary
