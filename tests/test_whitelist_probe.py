"""The probe against real loopback servers: every URL gets the right reason, direct and
through a real forward proxy."""
from __future__ import annotations

import datetime as dt

import pytest
import trustme

from core.host import Host
from tests.netservers import DnsServer, ForwardProxy, HangServer, HttpServer
from tests.support import free_port
from whitelist.probe import ProbeSettings, probe, probe_all
from whitelist.proxy import detect
from whitelist.resolve import Resolver

NAMES = ["ok.test", "squid.test", "forti.test", "amon.test", "redirect.test", "auth.test", "down.test",
         "missing.test", "hang.test", "closed.test", "tls-ok.test", "intercepted.test", "wronghost.test",
         "expired.test", "blocked-by-proxy.test", "proxy.lycee.lan"]


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    trusted = trustme.CA()
    inspection = trustme.CA(organization_name="Lycee Jean Moulin")  # a school's own CA, not trusted here
    cafile = tmp_path_factory.mktemp("ca") / "trusted.pem"
    trusted.cert_pem.write_to_path(str(cafile))
    dns_server = DnsServer({name: "127.0.0.1" for name in NAMES})
    http = HttpServer({"ok.test": "ok", "squid.test": "squid", "forti.test": "fortinet", "amon.test": "amon",
                       "redirect.test": "redirect", "auth.test": "auth", "down.test": "down",
                       "missing.test": "missing", "blocked-by-proxy.test": "ok"})
    past = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)
    servers = {
        "http": http,
        "hang": HangServer(),
        "tls_ok": HttpServer(cert=trusted.issue_cert("tls-ok.test")),
        "tls_intercepted": HttpServer(cert=inspection.issue_cert("intercepted.test")),
        "tls_wronghost": HttpServer(cert=trusted.issue_cert("elsewhere.test")),
        "tls_expired": HttpServer(cert=trusted.issue_cert("expired.test", not_before=past,
                                                          not_after=past + dt.timedelta(days=30))),
    }
    closed = free_port()
    urls = {
        f"http://ok.test:{http.port}/": "ok",
        f"http://squid.test:{http.port}/": "blocked",
        f"http://forti.test:{http.port}/": "blocked",
        f"http://amon.test:{http.port}/": "blocked",
        f"http://redirect.test:{http.port}/": "blocked",
        f"http://auth.test:{http.port}/": "proxy_auth_required",
        f"http://down.test:{http.port}/": "http_error",
        f"http://missing.test:{http.port}/": "http_error",
        f"http://hang.test:{servers['hang'].port}/": "timeout",
        f"http://closed.test:{closed}/": "connect_failed",
        f"http://unknown.test:{http.port}/": "dns_failed",
        f"https://tls-ok.test:{servers['tls_ok'].port}/": "ok",
        f"https://intercepted.test:{servers['tls_intercepted'].port}/": "tls_intercepted",
        f"https://wronghost.test:{servers['tls_wronghost'].port}/": "tls_error",
        f"https://expired.test:{servers['tls_expired'].port}/": "tls_error",
    }
    yield {"dns": dns_server, "urls": urls, "cafile": str(cafile), "trusted": trusted, "http": http, **servers}
    dns_server.close()
    for server in servers.values():
        server.close()


def _settings(net, env=None, timeout=1.5):
    host = Host.fake("linux", "/nonexistent", env=env or {})
    return ProbeSettings(timeout=timeout, resolver=Resolver(net["dns"].address), proxies=detect(host),
                         cafile=net["cafile"])


def test_each_url_gets_its_reason_direct(net):
    urls = list(net["urls"])
    outcomes = probe_all(urls, _settings(net))
    got = {o.url: o.reason for o in outcomes}
    assert got == net["urls"]
    by_url = {o.url: o for o in outcomes}
    ok = by_url[urls[0]]
    assert ok.ip == "127.0.0.1" and ok.http_status == 200 and ok.latency_ms is not None
    squid = by_url[urls[1]]
    assert squid.product == "Squid" and "ERR_ACCESS_DENIED" in squid.detail and squid.http_status == 403
    assert by_url[urls[2]].product == "Fortinet FortiGuard" and by_url[urls[2]].http_status == 200
    assert by_url[urls[3]].product == "EOLE Amon"
    assert "filtre.lycee.lan" in by_url[urls[4]].detail
    hang = [o for o in outcomes if o.reason == "timeout"][0]
    assert hang.ip == "127.0.0.1" and hang.http_status is None and hang.latency_ms is None
    dns_failed = [o for o in outcomes if o.reason == "dns_failed"][0]
    assert dns_failed.ip is None and "NXDOMAIN" in dns_failed.detail
    intercepted = [o for o in outcomes if o.reason == "tls_intercepted"][0]
    assert "Lycee Jean Moulin" in intercepted.detail and not intercepted.trusted
    expired = [o for o in outcomes if o.host == "expired.test"][0]
    assert "date and time" in expired.detail


def test_default_trust_store_does_not_trust_the_test_ca(net):
    settings = _settings(net)
    settings.cafile = None  # the real trust store: our throw-away CA is unknown there
    url = f"https://tls-ok.test:{net['tls_ok'].port}/"
    assert probe(url, settings).reason == "tls_intercepted"


def test_through_a_real_forward_proxy(net):
    proxy = ForwardProxy(net["dns"].port, blocked={"blocked-by-proxy.test"})
    try:
        env = {"HTTP_PROXY": proxy.url, "HTTPS_PROXY": proxy.url}
        port, tls_port = net["http"].port, net["tls_ok"].port
        urls = [f"http://ok.test:{port}/", f"https://tls-ok.test:{tls_port}/",
                f"http://blocked-by-proxy.test:{port}/", f"https://blocked-by-proxy.test:{tls_port}/",
                f"http://unknown.test:{port}/", f"https://intercepted.test:{net['tls_intercepted'].port}/"]
        outcomes = probe_all(urls, _settings(net, env))
        assert [o.reason for o in outcomes] == ["ok", "ok", "blocked", "blocked", "dns_failed", "tls_intercepted"]
        assert all(o.proxy == proxy.url for o in outcomes)
        assert "Squid proxy 127.0.0.1:" in outcomes[2].detail and "ERR_ACCESS_DENIED" in outcomes[2].detail
        assert outcomes[3].http_status == 403
        # The proxy really carried the traffic: a GET with an absolute URL and a CONNECT.
        assert f"GET http://ok.test:{port}/" in proxy.requests
        assert f"CONNECT tls-ok.test:{tls_port}" in proxy.requests
    finally:
        proxy.close()


def test_proxy_that_wants_a_password(net):
    proxy = ForwardProxy(net["dns"].port, credentials="eleve:secret")
    try:
        port = net["http"].port
        urls = [f"http://ok.test:{port}/", f"https://tls-ok.test:{net['tls_ok'].port}/"]
        outcomes = probe_all(urls, _settings(net, {"HTTP_PROXY": proxy.url, "HTTPS_PROXY": proxy.url}))
        assert [o.reason for o in outcomes] == ["proxy_auth_required", "proxy_auth_required"]
        with_creds = f"http://eleve:secret@127.0.0.1:{proxy.port}"
        outcomes = probe_all(urls, _settings(net, {"HTTP_PROXY": with_creds, "HTTPS_PROXY": with_creds}))
        assert [o.reason for o in outcomes] == ["ok", "ok"]
    finally:
        proxy.close()


def test_no_proxy_goes_direct(net):
    env = {"HTTP_PROXY": f"http://127.0.0.1:{free_port()}", "NO_PROXY": ".test"}
    outcome = probe(f"http://ok.test:{net['http'].port}/", _settings(net, env))
    assert outcome.reason == "ok" and outcome.proxy is None


def test_a_dead_proxy_is_connect_failed(net):
    env = {"HTTP_PROXY": f"http://127.0.0.1:{free_port()}"}
    outcome = probe(f"http://ok.test:{net['http'].port}/", _settings(net, env))
    assert outcome.reason == "connect_failed" and "proxy 127.0.0.1" in outcome.detail


def test_an_inspection_box_answering_for_every_site(net):
    # One certificate (from a CA the machine trusts) shown for every https host: the same
    # fingerprint for hosts it does not cover is an interceptor, not two broken sites.
    box_cert = net["trusted"].issue_cert("proxy.lycee.lan")
    proxy = ForwardProxy(net["dns"].port, intercept_cert=box_cert)
    try:
        env = {"HTTPS_PROXY": proxy.url}
        urls = [f"https://tls-ok.test:{net['tls_ok'].port}/", f"https://expired.test:{net['tls_expired'].port}/"]
        outcomes = probe_all(urls, _settings(net, env))
        assert [o.reason for o in outcomes] == ["tls_intercepted", "tls_intercepted"]
        assert "same certificate" in outcomes[0].detail
        # Alone, a wrong-name certificate from a trusted CA stays a plain tls_error.
        assert probe(urls[0], _settings(net, env)).reason == "tls_error"
        # Alone but naming the proxy itself: the proxy answered in the site's place.
        named = {"HTTPS_PROXY": f"http://proxy.lycee.lan:{proxy.port}"}
        alone = probe(urls[0], _settings(net, named))
        assert alone.reason == "tls_intercepted" and "proxy.lycee.lan" in alone.detail
    finally:
        proxy.close()


def test_hung_tls_and_silent_dns_are_timeout_and_dns_failed(net):
    assert probe(f"https://hang.test:{net['hang'].port}/", _settings(net, timeout=1)).reason == "timeout"
    import socket

    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))  # receives queries, never answers
    try:
        settings = _settings(net, timeout=1)
        settings.resolver = Resolver(f"127.0.0.1:{silent.getsockname()[1]}")
        outcome = probe(f"http://ok.test:{net['http'].port}/", settings)
        assert outcome.reason == "dns_failed" and "did not answer" in outcome.detail
    finally:
        silent.close()


def test_inspection_ca_deployed_on_the_machine_is_still_reported(net, tmp_path):
    # The school pushed its FortiGate CA into the machine's store: pages load, but the exam
    # traffic is decrypted on the way. Reported as tls_intercepted, marked trusted.
    forti = trustme.CA(organization_name="Fortinet", organization_unit_name="FortiGate CA")
    cafile = tmp_path / "forti.pem"
    forti.cert_pem.write_to_path(str(cafile))
    server = HttpServer(cert=forti.issue_cert("tls-ok.test"))
    try:
        settings = _settings(net)
        settings.cafile = str(cafile)
        outcome = probe(f"https://tls-ok.test:{server.port}/", settings)
        assert outcome.reason == "tls_intercepted" and outcome.trusted and outcome.http_status == 200
        assert "Fortinet" in outcome.detail
    finally:
        server.close()
