"""Issue 13's table, against the real programs schools run (tests/lab.py): dnsmasq as the school
DNS, squid 5 with deny lists, a custom deny_info page, a deny_info redirect to Debian's
squidGuard block CGI, Basic auth and squidGuard itself, tinyproxy's Filter, mitmproxy as a TLS
inspection box (untrusted CA, trusted CA, trusted CA with a neutral name), and a CDN's 403.
Every row's reason is asserted, and the remediation says what to change and where."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme

from core.host import Host
from tests import lab
from tests.netservers import HttpServer
from tests.support import free_port
from whitelist.probe import ProbeSettings, probe_all
from whitelist.proxy import detect
from whitelist.resolve import Resolver

SITE_NAMES = ("ok.test", "tls.test", "denied.test", "custom.test", "redir.test", "private.test", "sg.test",
              "cdn.test", "filtered.test", "bloque.pix-lab.fr")


@dataclass
class Lab:
    dns: lab.Dns
    squid: lab.Squid
    tinyproxy: str
    site: HttpServer          # plain HTTP, every name
    tls: HttpServer           # HTTPS, a certificate from the "public" CA for every name
    public_ca: Path           # the lab's stand-in for the public web PKI (EXAMROOM_EXTRA_CA)
    block_address: str        # the DNS sinkhole's block-page server (ports 80 and 443)
    tmp: Path

    def settings(self, env: dict[str, str] | None = None, **extra) -> ProbeSettings:
        host = Host.fake("linux", self.tmp, env=env or {})
        return ProbeSettings(timeout=5, resolver=Resolver(self.dns.server), proxies=detect(host),
                             cafile=str(self.public_ca), **extra)


@pytest.fixture(scope="module")
def school(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lab")
    public = trustme.CA()
    public_ca = tmp / "public-ca.pem"
    public.cert_pem.write_to_path(str(public_ca))
    behaviours = {"cdn.test": "cdn403", "*": "ok"}
    site = HttpServer(behaviours)
    tls = HttpServer(behaviours, cert=public.issue_cert(*SITE_NAMES))
    block_address = lab.free_loopback(80, 443)
    records: dict[str, str | None] = {name: "127.0.0.1" for name in SITE_NAMES}
    records.update({"nx.test": None, "zero.test": "0.0.0.0", "sinkhole1.test": block_address,
                    "sinkhole2.test": block_address, "sinkhole3.test": block_address})
    # The sinkhole's HTTPS side: a certificate for its own name, as a school's block server has.
    block_tls = HttpServer({"*": "ok"}, cert=public.issue_cert("blocage.lycee.test"), address=block_address, port=443)
    try:
        with (lab.dnsmasq(records) as dns, lab.block_cgi() as cgi, lab.block_cgi(block_address, 80),
              lab.squid(dns, cgi, denied=("denied.test",), custom=("custom.test",), redirected=("redir.test",),
                        private=("private.test",), squidguard_blocked=("sg.test",)) as squid,
              lab.tinyproxy(("filtered.test",)) as tiny):
            yield Lab(dns, squid, tiny, site, tls, public_ca, block_address, tmp)
    finally:
        for server in (site, tls, block_tls):
            server.close()


def _reasons(outcomes) -> dict[str, str]:
    return {o.url: o.reason for o in outcomes}


def _details(outcomes) -> list[tuple[str, str, str]]:
    return [(o.url, o.reason, o.detail) for o in outcomes]


def test_school_dns_nxdomain_refused_and_sinkholes(school):
    p, t = school.site.port, school.tls.port
    expected = {
        f"http://ok.test:{p}/": "ok",
        f"https://tls.test:{t}/": "ok",
        f"http://nx.test:{p}/": "dns_failed",             # NXDOMAIN
        f"http://refused.test:{p}/": "dns_failed",        # REFUSED (no upstream)
        f"http://zero.test:{p}/": "blocked",              # sinkhole to 0.0.0.0 (was connect_failed)
        f"https://bloque.pix-lab.fr:{t}/": "blocked",     # a public name answered with 127.0.0.1
        "https://sinkhole1.test/": "blocked",             # sinkhole to a block-page server (was tls_error)
        "https://sinkhole2.test/": "blocked",             # two such hosts (was tls_intercepted)
        "https://sinkhole3.test/": "blocked",
        f"http://cdn.test:{p}/": "http_error",            # the site's own CDN 403 (was blocked)
        f"https://cdn.test:{t}/": "http_error",
        f"http://ok.test:{free_port()}/": "connect_failed",
    }
    outcomes = probe_all(list(expected), school.settings())
    assert _reasons(outcomes) == expected, [d for d in _details(outcomes) if d[1] != expected[d[0]]]
    by_url = {o.url: o for o in outcomes}
    assert "NXDOMAIN" in by_url[f"http://nx.test:{p}/"].detail
    assert "REFUSED" in by_url[f"http://refused.test:{p}/"].detail or "refused" in by_url[f"http://refused.test:{p}/"].detail
    zero = by_url[f"http://zero.test:{p}/"]
    assert zero.dns_block and "0.0.0.0" in zero.detail and zero.product == "DNS"
    assert by_url[f"https://bloque.pix-lab.fr:{t}/"].dns_block
    sink = by_url["https://sinkhole1.test/"]
    assert sink.dns_block and school.block_address in sink.detail and "blocage.lycee.test" in sink.detail
    cdn = by_url[f"http://cdn.test:{p}/"]
    assert cdn.product == "Cloudflare" and "8f1e2d3c4b5a6978" in cdn.detail


def test_real_squid_squidguard_and_deny_info(school):
    p, t = school.site.port, school.tls.port
    expected = {
        f"http://ok.test:{p}/": "ok",
        f"https://tls.test:{t}/": "ok",
        f"http://denied.test:{p}/": "blocked",            # http_access deny: ERR_ACCESS_DENIED
        f"https://denied.test:{t}/": "blocked",
        f"http://custom.test:{p}/": "blocked",            # deny_info with the school's own page
        f"https://custom.test:{t}/": "blocked",
        f"http://redir.test:{p}/": "blocked",             # deny_info 302: to the block CGI
        f"https://redir.test:{t}/": "blocked",
        f"http://private.test:{p}/": "proxy_auth_required",
        f"https://private.test:{t}/": "proxy_auth_required",
        f"http://sg.test:{p}/": "blocked",                # squidGuard rewrite to Debian's block CGI
        f"https://sg.test:{t}/": "blocked",               # its CONNECT: 500 ERR_CANNOT_FORWARD (was connect_failed)
        f"http://nx.test:{p}/": "dns_failed",             # 502 ERR_READ_ERROR, squid bug 5294 (was http_error)
        f"https://nx.test:{t}/": "dns_failed",            # 500 ERR_CANNOT_FORWARD (was connect_failed)
        f"http://ok.test:{free_port()}/": "connect_failed",
    }
    env = {"HTTP_PROXY": school.squid.url, "HTTPS_PROXY": school.squid.url}
    outcomes = probe_all(list(expected), school.settings(env))
    assert _reasons(outcomes) == expected, _details(outcomes)
    by_url = {o.url: o for o in outcomes}
    assert "ERR_LYCEE_BLOCK" in by_url[f"http://custom.test:{p}/"].detail
    assert "squidGuard-simple.cgi" in by_url[f"http://redir.test:{p}/"].detail
    assert by_url[f"http://sg.test:{p}/"].product == "SquidGuard"
    assert "ERR_CANNOT_FORWARD" in by_url[f"https://sg.test:{t}/"].detail
    assert "ERR_READ_ERROR" in by_url[f"http://nx.test:{p}/"].proxy_code
    for outcome in outcomes:
        assert "the site answered" not in outcome.detail, outcome  # squid's marks: never the site's
    # With the credentials, the authenticated path goes through.
    authed = {"HTTP_PROXY": school.squid.with_user(), "HTTPS_PROXY": school.squid.with_user()}
    urls = [f"http://private.test:{p}/", f"https://private.test:{t}/"]
    assert [o.reason for o in probe_all(urls, school.settings(authed))] == ["ok", "ok"]


def test_tinyproxy_filter(school):
    p = school.site.port
    expected = {
        "http://filtered.test/": "blocked",               # 403 Filtered, Server: tinyproxy (was http_error)
        "https://filtered.test/": "blocked",
        f"http://127.0.0.1:{p}/": "ok",
    }
    env = {"HTTP_PROXY": school.tinyproxy, "HTTPS_PROXY": school.tinyproxy}
    outcomes = probe_all(list(expected), school.settings(env))
    assert _reasons(outcomes) == expected, _details(outcomes)
    assert outcomes[0].product == "tinyproxy" and "the site answered" not in outcomes[0].detail


@pytest.mark.parametrize("ca_name", ["mitmproxy", lab.NEUTRAL_CA])
def test_mitmproxy_inspection_box(school, ca_name, tmp_path):
    """mitmdump in front of the school's squid, re-signing every site with its CA."""
    ca = lab.inspection_ca(ca_name)
    bundle = tmp_path / "inspection-ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    url = f"https://tls.test:{school.tls.port}/"
    with lab.mitmdump(ca, school.squid.url) as box:
        env = {"HTTP_PROXY": box, "HTTPS_PROXY": box}
        untrusted = probe_all([url], school.settings(env))[0]
        assert (untrusted.reason, untrusted.trusted) == ("tls_intercepted", False), untrusted.detail
        assert ca_name in untrusted.detail
        # The school deployed its CA where this machine's tools look (REQUESTS_CA_BUNDLE): pages
        # load, and the probe still sees the inspection (was "ok" for the neutral name).
        trusted_env = dict(env, REQUESTS_CA_BUNDLE=str(bundle))
        from checks.whitelist import local_bundles

        settings = school.settings(trusted_env, local_cafiles=local_bundles(Host.fake("linux", tmp_path, env=trusted_env)))
        trusted = probe_all([url], settings)[0]
        assert (trusted.reason, trusted.trusted) == ("tls_intercepted", True), trusted.detail
        assert ca_name in trusted.detail


def _check(school, urls: list[str], env: dict[str, str], lang: str) -> dict:
    whitelist = school.tmp / f"list-{lang}-{len(urls)}.txt"
    whitelist.write_text("\n".join(urls) + "\n")
    run_env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    run_env.update(env, EXAMROOM_EXTRA_CA=str(school.public_ca), EXAMROOM_HOME=str(school.tmp / "home"))
    done = subprocess.run([sys.executable, "-m", "agent", "check", "--only", "whitelist", "--whitelist", str(whitelist),
                           "--dns", school.dns.server, "--lang", lang, "--json", "-"],
                          capture_output=True, text=True, timeout=120, env=run_env)
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    return next(c for c in report["checks"] if c["id"] == "whitelist")


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_remediations_say_what_to_change_and_where(school, lang):
    """Through the real command line: each group of reasons names the filter's list, the DNS,
    the proxy or the firewall, in the report's language."""
    p, t = school.site.port, school.tls.port
    direct = _check(school, [f"http://zero.test:{p}/", "https://sinkhole1.test/", f"https://cdn.test:{t}/",
                             f"http://nx.test:{p}/"], {}, lang)
    proxied = _check(school, [f"http://denied.test:{p}/", f"https://sg.test:{t}/", f"https://nx.test:{t}/",
                              f"http://ok.test:{free_port()}/"],
                     {"HTTP_PROXY": school.squid.url, "HTTPS_PROXY": school.squid.url}, lang)
    words = {
        "fr": {"dns_filter": "filtrage DNS", "cdn": "pas le filtre de l'établissement", "filter": "liste blanche du filtre",
               "proxy_dns": "DNS qu'utilise le proxy", "proxy_out": "pare-feu en sortie du proxy"},
        "en": {"dns_filter": "DNS filtering", "cdn": "not the school's filter", "filter": "filter's whitelist",
               "proxy_dns": "DNS the proxy uses", "proxy_out": "firewall after the proxy"},
    }[lang]
    assert [i["reason"] for i in direct["items"]] == ["blocked", "blocked", "http_error", "dns_failed"]
    assert words["dns_filter"] in direct["remediation"] and words["cdn"] in direct["remediation"]
    assert "Nothing to change" not in direct["remediation"] and "Rien à changer" not in direct["remediation"]
    assert [i["reason"] for i in proxied["items"]] == ["blocked", "blocked", "dns_failed", "connect_failed"]
    for key in ("filter", "proxy_dns", "proxy_out"):
        assert words[key] in proxied["remediation"], (key, proxied["remediation"])


def test_a_sites_own_via_header_on_a_direct_connection_is_the_sites_answer(school):
    """Via from the site's own cache (Varnish), no proxy of ours in the path: the site answered."""
    from tests.netservers import HttpServer as Site

    site = Site({"*": "missing_via"})
    try:
        [outcome] = probe_all([f"http://ok.test:{site.port}/"], school.settings())
        assert outcome.reason == "http_error" and "the site answered 404" in outcome.detail, outcome.detail
        env = {"HTTP_PROXY": school.squid.url}
        [proxied] = probe_all([f"http://ok.test:{site.port}/"], school.settings(env))
        assert proxied.reason == "http_error" and "through the proxy" in proxied.detail, proxied.detail
    finally:
        site.close()
