"""The whitelist check end to end: statuses from the required flags, items as in the
contract, remediations for the network administrator, concurrency, progress, and the real
command line with HTTP_PROXY pointing at a real proxy."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
import trustme

from checks import whitelist as check
from checks.base import CheckContext, CheckOptions
from core.host import Host
from core.result import Status
from tests.netservers import DnsServer, ForwardProxy, HangServer, HttpServer

CONTRACT_KEYS = {"url", "host", "status", "reason", "ip", "latency_ms", "http_status"}


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    names = {f"site{i}.pix.test": "127.0.0.1" for i in range(150)}
    names.update({"app.pix.test": "127.0.0.1", "dl.pix.test": "127.0.0.1", "search.test": "127.0.0.1",
                  "hung.test": "127.0.0.1", "secure.pix.test": "127.0.0.1"})
    ca = trustme.CA()
    cafile = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(cafile))
    dns = DnsServer(names)
    http = HttpServer({"app.pix.test": "squid", "dl.pix.test": "squid", "search.test": "fortinet", "*": "ok"})
    tls = HttpServer(cert=ca.issue_cert("secure.pix.test"))
    hang = HangServer()
    yield {"dns": dns, "http": http, "hang": hang, "tls": tls, "cafile": str(cafile)}
    for server in (dns, http, hang, tls):
        server.close()


def _ctx(net, tmp_path, lines, env=None, timeout=2.0, lang="en"):
    path = tmp_path / "list.toml"
    path.write_text("\n".join(f'[[url]]\nurl = "{u}"\nrequired = {"true" if req else "false"}\n' for u, req in lines))
    env = {"EXAMROOM_EXTRA_CA": net["cafile"], **(env or {})}
    return CheckContext(host=Host.fake("linux", tmp_path, env=env), lang=lang,
                        options=CheckOptions(whitelist=path, dns=net["dns"].address, timeout=timeout))


def test_all_required_ok_is_ok_and_items_follow_the_contract(net, tmp_path):
    port = net["http"].port
    ctx = _ctx(net, tmp_path, [(f"http://site1.pix.test:{port}/", True),
                               (f"https://secure.pix.test:{net['tls'].port}/", True)])
    seen = []
    ctx.progress = lambda cid, done, total: seen.append((cid, done, total))
    result = check.run(ctx)
    assert result.status == Status.ok and result.remediation is None
    assert result.summary.startswith("2 of 2 addresses reachable")
    for item in result.items:
        data = item.model_dump()
        assert CONTRACT_KEYS <= set(data)
        assert data["reason"] == "ok" and data["http_status"] == 200 and data["ip"] == "127.0.0.1"
    assert seen[0] == ("whitelist", 0, 2) and seen[-1] == ("whitelist", 2, 2)


def test_optional_failure_warns_required_failure_fails(net, tmp_path):
    port = net["http"].port
    ok, blocked_optional = (f"http://site2.pix.test:{port}/", True), (f"http://search.test:{port}/", False)
    assert check.run(_ctx(net, tmp_path, [ok, blocked_optional])).status == Status.warn
    result = check.run(_ctx(net, tmp_path, [ok, blocked_optional, (f"http://app.pix.test:{port}/", True),
                                            (f"http://dl.pix.test:{port}/", True),
                                            (f"http://nowhere.test:{port}/", False)], lang="fr"))
    assert result.status == Status.fail
    assert "bloqué par le filtrage : 3" in result.summary and "nom non résolu (DNS) : 1" in result.summary
    assert result.summary.startswith("1 adresse(s) accessible(s) sur 5 ; indispensables et inaccessibles : 2 ; ")
    by_host = {i.host: i for i in result.items}
    assert by_host["app.pix.test"].status == Status.fail and by_host["search.test"].status == Status.warn
    assert by_host["nowhere.test"].ip is None and by_host["nowhere.test"].http_status is None
    # One line per reason, naming the hosts, what was seen and what to allow.
    blocked_line = next(line for line in result.remediation.splitlines() if line.startswith("Bloqué"))
    assert "app.pix.test" in blocked_line and "X-Squid-Error: ERR_ACCESS_DENIED" in blocked_line
    assert "*.pix.test" in blocked_line and "Fortinet FortiGuard a répondu 200 avec une page de blocage" in blocked_line
    assert any("nowhere.test" in line and net["dns"].address in line for line in result.remediation.splitlines())


def test_150_urls_with_5_hung_hosts_take_about_one_timeout(net, tmp_path):
    port, hang = net["http"].port, net["hang"]
    lines = [(f"http://site{i}.pix.test:{port}/", True) for i in range(145)]
    lines += [(f"http://hung.test:{hang.port}/h{i}", True) for i in range(5)]
    timeout = 2.0
    ctx = _ctx(net, tmp_path, lines, timeout=timeout)
    before = hang.accepted
    started = time.monotonic()
    result = check.run(ctx)
    elapsed = time.monotonic() - started
    reasons = [i.reason for i in result.items]
    assert reasons.count("timeout") == 5 and reasons.count("ok") == 145
    assert hang.accepted - before == 5
    # Sequentially the hung hosts alone would take 5 x 2 s; the pool holds them at once.
    assert elapsed < 3 * timeout, elapsed
    assert check.budget_s(ctx) >= 2 * timeout


def test_real_command_line_through_the_proxy_of_the_environment(net, tmp_path):
    proxy = ForwardProxy(net["dns"].port, blocked={"app.pix.test"})
    try:
        port = net["http"].port
        wl = tmp_path / "list.txt"
        wl.write_text(f"http://site3.pix.test:{port}/\nhttp://app.pix.test:{port}/\n"
                      f"https://secure.pix.test:{net['tls'].port}/\n")
        env = dict(os.environ, HTTP_PROXY=proxy.url, HTTPS_PROXY=proxy.url, EXAMROOM_EXTRA_CA=net["cafile"])
        env.pop("NO_PROXY", None), env.pop("no_proxy", None)
        done = subprocess.run([sys.executable, "-m", "agent", "check", "--only", "whitelist", "--whitelist", str(wl),
                               "--dns", net["dns"].address, "--timeout", "3", "--json", "-", "--lang", "en"],
                              capture_output=True, text=True, timeout=60, env=env)
        assert done.returncode == 1, done.stderr
        report = json.loads(done.stdout)
        items = report["checks"][0]["items"]
        assert [i["reason"] for i in items] == ["ok", "blocked", "ok"]
        assert items[1]["http_status"] == 403 and items[1]["proxy"] == proxy.url
        assert f"Squid proxy 127.0.0.1:{proxy.port}" in report["checks"][0]["remediation"]
        assert f"CONNECT secure.pix.test:{net['tls'].port}" in proxy.requests
    finally:
        proxy.close()


def test_trusted_inspection_warns_rather_than_fails(net, tmp_path):
    forti = trustme.CA(organization_name="Fortinet", organization_unit_name="FortiGate CA")
    cafile = tmp_path / "forti.pem"
    forti.cert_pem.write_to_path(str(cafile))
    server = HttpServer(cert=forti.issue_cert("secure.pix.test"))
    try:
        ctx = _ctx(net, tmp_path, [(f"https://secure.pix.test:{server.port}/", True)],
                   env={"EXAMROOM_EXTRA_CA": str(cafile)})
        result = check.run(ctx)
        assert result.status == Status.warn and result.items[0].reason == "tls_intercepted"
        assert "exempt secure.pix.test from HTTPS inspection" in result.remediation
    finally:
        server.close()


def test_whitelist_show_names_the_proxy_in_use(tmp_path):
    env = dict(os.environ, HTTPS_PROXY="http://10.0.0.1:3128", HTTP_PROXY="http://10.0.0.1:3128")
    done = subprocess.run([sys.executable, "-m", "agent", "whitelist", "show", "--lang", "fr"],
                          capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0
    assert "Proxy utilisé : http://10.0.0.1:3128" in done.stdout and "https://app.pix.fr/" in done.stdout


def test_windows_authentication_proxy_is_a_warning(net, tmp_path):
    # NTLM/Negotiate: a browser in a domain session answers by itself; this probe cannot.
    proxy = ForwardProxy(net["dns"].port, credentials="x:y", auth_offers=("Negotiate", "NTLM"))
    try:
        port = net["http"].port
        ctx = _ctx(net, tmp_path, [(f"http://site4.pix.test:{port}/", True),
                                   (f"https://secure.pix.test:{net['tls'].port}/", True)],
                   env={"HTTP_PROXY": proxy.url, "HTTPS_PROXY": proxy.url}, lang="fr")
        result = check.run(ctx)
        assert [i.reason for i in result.items] == ["proxy_auth_required"] * 2
        assert result.status == Status.warn and all(i.windows_auth for i in result.items)
        assert "authentification Windows (NTLM/Kerberos)" in result.remediation
    finally:
        proxy.close()
