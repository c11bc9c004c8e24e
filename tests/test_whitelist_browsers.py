"""Proxy discovery as browsers do it (issue 13): Firefox's own settings (prefs.js / user.js per
profile, policies.json, the Windows policy key) on fake trees of each OS; PAC failover lists,
``--pac URL`` and ``EXAMROOM_PAC_URL`` against a real squid; pypac's warnings kept out of the
terminal; the report says when Firefox and the system's browsers go different ways."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from checks import whitelist as check
from checks.base import CheckContext, CheckOptions
from core.host import Host
from tests import lab
from tests.netservers import HttpServer
from tests.support import free_port
from whitelist.browsers import firefox
from whitelist.probe import ProbeSettings, probe_all
from whitelist.proxy import detect, pac_proxies
from whitelist.resolve import Resolver


def _profile(base: Path, name: str = "abcd.default-release", prefs: str = "", user: str = "") -> Path:
    base.mkdir(parents=True, exist_ok=True)
    (base / "profiles.ini").write_text(f"[Profile0]\nName=default\nIsRelative=1\nPath={name}\nDefault=1\n")
    profile = base / name
    profile.mkdir()
    (profile / "prefs.js").write_text(prefs)
    if user:
        (profile / "user.js").write_text(user)
    return profile


MANUAL = ('user_pref("network.proxy.type", 1);\nuser_pref("network.proxy.http", "10.0.0.9");\n'
          'user_pref("network.proxy.http_port", 3128);\nuser_pref("network.proxy.share_proxy_settings", true);\n'
          'user_pref("network.proxy.no_proxies_on", "localhost, .lycee.lan");\n')


def test_firefox_profile_prefs_on_linux_user_js_wins(tmp_path):
    host = Host.fake("linux", tmp_path)
    _profile(host.home / ".mozilla/firefox", prefs=MANUAL)
    [found] = firefox(host)
    assert (found.settings.http, found.settings.https) == ("http://10.0.0.9:3128", "http://10.0.0.9:3128")
    assert found.settings.proxy_for("https://app.pix.fr/") == "http://10.0.0.9:3128"
    assert found.settings.proxy_for("http://ent.lycee.lan/") is None and found.where.endswith("prefs.js")
    # user.js is copied over prefs.js at each start: direct, then the system (type 5: nothing to report).
    other = Host.fake("linux", tmp_path / "b")
    _profile(other.home / "snap/firefox/common/.mozilla/firefox", prefs=MANUAL, user='user_pref("network.proxy.type", 0);')
    [direct] = firefox(other)
    assert direct.settings.describe() == "direct" and direct.where.endswith("user.js")
    system = Host.fake("linux", tmp_path / "c")
    _profile(system.home / ".mozilla/firefox", prefs='user_pref("network.proxy.type", 5);')
    assert firefox(system) == []


def test_firefox_policies_json_wins_on_windows_and_macos(tmp_path):
    win = Host.fake("windows", tmp_path / "w", env={"APPDATA": r"C:\Users\eleve\AppData\Roaming"})
    _profile(win.path(r"C:\Users\eleve\AppData\Roaming\Mozilla\Firefox"), prefs=MANUAL)
    policy = win.path(r"C:\Program Files\Mozilla Firefox\distribution\policies.json")
    policy.parent.mkdir(parents=True)
    policy.write_text('{"policies": {"Proxy": {"Mode": "autoConfig", "AutoConfigURL": "http://wpad.lycee.lan/proxy.pac", "Locked": true}}}')
    [found] = firefox(win)
    assert found.settings.pac_url == "http://wpad.lycee.lan/proxy.pac" and "policies.json" in found.where
    mac = Host.fake("macos", tmp_path / "m")
    _profile(mac.home / "Library/Application Support/Firefox", prefs='user_pref("network.proxy.type", 4);')
    [wpad] = firefox(mac)
    assert wpad.settings.source == "wpad"
    policy = mac.path("/Applications/Firefox.app/Contents/Resources/distribution/policies.json")
    policy.parent.mkdir(parents=True)
    policy.write_text('{"policies": {"Proxy": {"Mode": "manual", "HTTPProxy": "proxy.lycee.lan:8080", '
                      '"UseHTTPProxyForAllProtocols": true, "Passthrough": "<local>, .lycee.lan"}}}')
    [manual] = firefox(mac)
    assert manual.settings.https == "http://proxy.lycee.lan:8080"


def test_firefox_policy_from_the_windows_registry(tmp_path):
    host = Host.fake("windows", tmp_path, registry={
        r"HKLM\Software\Policies\Mozilla\Firefox\Proxy": {"Mode": "manual", "HTTPProxy": "10.1.1.1:3128",
                                                          "SSLProxy": "10.1.1.2:3129"}})
    [found] = firefox(host)
    assert (found.settings.http, found.settings.https) == ("http://10.1.1.1:3128", "http://10.1.1.2:3129")


def test_pac_answers_are_failover_lists():
    assert pac_proxies("PROXY a.lan:3128; PROXY b.lan:3128; DIRECT") == ["http://a.lan:3128", "http://b.lan:3128", None]
    assert pac_proxies("PROXY dead.lan:1; DIRECT; PROXY never.lan:2") == ["http://dead.lan:1", None]
    assert pac_proxies("SOCKS s.lan:1080") == [None] and pac_proxies("") == [None]


@pytest.fixture(scope="module")
def school():
    site = HttpServer({"*": "ok"})
    with (lab.dnsmasq({"ok.test": "127.0.0.1", "denied.test": "127.0.0.1"}) as dns, lab.block_cgi() as cgi,
          lab.squid(dns, cgi, denied=("denied.test",)) as squid):
        yield dns, squid, site
    site.close()


def _pac(tmp_path: Path, answer: str) -> Path:
    path = tmp_path / "proxy.pac"
    path.write_text(f'function FindProxyForURL(url, host) {{ return "{answer}"; }}\n')
    return path


def test_pac_failover_to_the_next_proxy_and_to_direct(school, tmp_path):
    dns, squid, site = school
    dead = f"127.0.0.1:{free_port()}"
    host = Host.fake("linux", tmp_path)
    settings = ProbeSettings(timeout=5, resolver=Resolver(dns.server),
                             proxies=detect(host, pac=str(_pac(tmp_path, f"PROXY {dead}; PROXY 127.0.0.1:{squid.port}"))))
    ok, blocked = probe_all([f"http://ok.test:{site.port}/", f"http://denied.test:{site.port}/"], settings)
    assert (ok.reason, ok.proxy) == ("ok", squid.url) and dead in ok.detail  # went on to the second proxy
    assert blocked.reason == "blocked" and blocked.product == "Squid"
    settings = ProbeSettings(timeout=5, resolver=Resolver(dns.server),
                             proxies=detect(host, pac=f"file://{_pac(tmp_path, f'PROXY {dead}; DIRECT')}"))
    [direct] = probe_all([f"http://ok.test:{site.port}/"], settings)
    assert (direct.reason, direct.proxy) == ("ok", None) and dead in direct.detail


def _serve(folder: Path, content_type: str):
    class Handler(SimpleHTTPRequestHandler):
        def guess_type(self, path):  # noqa: ANN001
            return content_type

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _check(args: list[str], env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    run_env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    run_env.update(env, EXAMROOM_HOME=str(tmp_path / "home"))
    return subprocess.run([sys.executable, "-m", "agent", "check", "--only", "whitelist", "--lang", "en", *args],
                          capture_output=True, text=True, timeout=120, env=run_env)


def test_pac_flag_and_environment_variable_through_the_real_command(school, tmp_path):
    dns, squid, site = school
    folder = tmp_path / "www"
    folder.mkdir()
    _pac(folder, f"PROXY 127.0.0.1:{squid.port}")
    wl = tmp_path / "list.txt"
    wl.write_text(f"http://ok.test:{site.port}/\nhttp://denied.test:{site.port}/\n")
    server = _serve(folder, "application/x-ns-proxy-autoconfig")
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/proxy.pac"
        for args, env in (([f"--pac={url}"], {}), ([], {"EXAMROOM_PAC_URL": url})):
            done = _check(["--whitelist", str(wl), "--dns", dns.server, *args], env, tmp_path)
            assert done.returncode == 1, done.stderr
            assert "Blocked by the filter for denied.test" in done.stdout and "1 of 2 addresses reachable" in done.stdout
    finally:
        server.shutdown()


def test_pypac_warnings_stay_out_of_the_terminal(school, tmp_path):
    """A PAC file served as text/html: pypac logs a warning and finds nothing. The report says
    so in its own words; the raw log line is not printed."""
    dns, _squid, site = school
    folder = tmp_path / "www"
    folder.mkdir()
    _pac(folder, "DIRECT")
    wl = tmp_path / "list.txt"
    wl.write_text(f"http://ok.test:{site.port}/\n")
    server = _serve(folder, "text/html")
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/proxy.pac"
        done = _check(["--whitelist", str(wl), "--dns", dns.server, f"--pac={url}"], {}, tmp_path)
    finally:
        server.shutdown()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "content type" not in done.stderr.lower() and "pypac" not in done.stderr.lower(), done.stderr
    assert "proxy auto-configuration (PAC) unusable" in done.stdout and "text/html" in done.stdout, done.stdout


def test_report_says_when_firefox_goes_another_way(school, tmp_path):
    """The system's proxy is squid (which blocks denied.test); Firefox's profile sends it
    directly: the report names both, and the item carries Firefox's own outcome."""
    dns, squid, site = school
    host = Host.fake("linux", tmp_path, env={"HTTP_PROXY": squid.url, "HTTPS_PROXY": squid.url})
    _profile(host.home / ".mozilla/firefox", prefs='user_pref("network.proxy.type", 0);\n')
    wl = tmp_path / "list.txt"
    wl.write_text(f"http://denied.test:{site.port}/\n")
    ctx = CheckContext(host=host, lang="en", options=CheckOptions(whitelist=wl, dns=dns.server, timeout=5))
    result = check.run(ctx)
    [item] = result.items
    assert item.reason == "blocked" and item.firefox["reason"] == "ok" and item.firefox["proxy"] is None
    assert f"Firefox goes through a direct connection (no proxy), Edge and Chrome through the system's: {squid.url}" in result.summary
    assert "prefs.js" in result.summary
