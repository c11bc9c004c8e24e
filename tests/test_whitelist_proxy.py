"""Proxy settings read through the Host: environment, Windows registry (fake), macOS scutil
and GNOME gsettings (fake commands), and a real PAC file served on loopback."""
from __future__ import annotations

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import threading

import pytest

from core.host import CommandResult, Host
from tests.netservers import DnsServer, ForwardProxy, HttpServer
from whitelist.probe import ProbeSettings, probe
from whitelist.proxy import INTERNET_SETTINGS, bypassed, detect, first_http_proxy
from whitelist.resolve import Resolver


def test_environment_variables(tmp_path):
    host = Host.fake("linux", tmp_path, env={"https_proxy": "10.0.0.1:3128", "HTTP_PROXY": "http://10.0.0.2:8080",
                                             "NO_PROXY": "localhost,.lan,192.168.0.0/16,intranet:8443"})
    settings = detect(host)
    assert settings.source == "env"
    assert settings.proxy_for("https://app.pix.fr/") == "http://10.0.0.1:3128"
    assert settings.proxy_for("http://pix.fr/") == "http://10.0.0.2:8080"
    for direct in ("http://localhost/", "https://ent.lycee.lan/", "http://192.168.1.10/", "https://intranet:8443/"):
        assert settings.proxy_for(direct) is None, direct
    assert settings.proxy_for("https://intranet/") == "http://10.0.0.1:3128"


def test_windows_registry_per_protocol_and_overrides(tmp_path):
    registry = {INTERNET_SETTINGS: {"ProxyEnable": 1, "ProxyServer": "http=10.0.0.1:3128;https=10.0.0.1:3129;ftp=x:21",
                                    "ProxyOverride": "*.lycee.local;10.*;<local>"}}
    settings = detect(Host.fake("windows", tmp_path, registry=registry))
    assert settings.source == "registry"
    assert settings.proxy_for("http://pix.fr/") == "http://10.0.0.1:3128"
    assert settings.proxy_for("https://pix.fr/") == "http://10.0.0.1:3129"
    assert settings.proxy_for("https://pronote.lycee.local/") is None
    assert settings.proxy_for("http://10.1.2.3/") is None
    assert settings.proxy_for("http://serveur/") is None  # <local>: a name without a dot
    one = {INTERNET_SETTINGS: {"ProxyEnable": 1, "ProxyServer": "proxy.lycee:8080"}}
    assert detect(Host.fake("windows", tmp_path, registry=one)).proxy_for("https://pix.fr/") == "http://proxy.lycee:8080"
    disabled = {INTERNET_SETTINGS: {"ProxyEnable": 0, "ProxyServer": "proxy.lycee:8080"}}
    assert detect(Host.fake("windows", tmp_path, registry=disabled)).proxy_for("https://pix.fr/") is None


def test_macos_scutil_and_gnome_gsettings(tmp_path):
    scutil = """<dictionary> {
  ExceptionsList : <array> {
    0 : *.local
    1 : 169.254/16
  }
  HTTPEnable : 1
  HTTPPort : 3128
  HTTPProxy : 10.0.0.1
  HTTPSEnable : 1
  HTTPSPort : 3128
  HTTPSProxy : 10.0.0.1
}
"""
    mac = detect(Host.fake("macos", tmp_path, commands={("scutil", "--proxy"): scutil}))
    assert mac.proxy_for("https://pix.fr/") == "http://10.0.0.1:3128" and mac.proxy_for("http://imprimante.local/") is None
    gnome = {("gsettings", "get", "org.gnome.system.proxy", "mode"): "'manual'\n",
             ("gsettings", "get", "org.gnome.system.proxy.http", "host"): "'proxy.lycee'\n",
             ("gsettings", "get", "org.gnome.system.proxy.http", "port"): "3128\n",
             ("gsettings", "get", "org.gnome.system.proxy.https", "host"): "'proxy.lycee'\n",
             ("gsettings", "get", "org.gnome.system.proxy.https", "port"): "3128\n",
             ("gsettings", "get", "org.gnome.system.proxy", "ignore-hosts"): "['localhost', '*.lan']\n"}
    linux = detect(Host.fake("linux", tmp_path, commands=gnome))
    assert linux.source == "gsettings" and linux.proxy_for("https://pix.fr/") == "http://proxy.lycee:3128"
    assert linux.proxy_for("https://nas.lan/") is None
    none = detect(Host.fake("linux", tmp_path, commands={"gsettings": CommandResult(1, "", "no schema")}))
    assert none.source == "none" and none.proxy_for("https://pix.fr/") is None


@pytest.mark.parametrize("value, proxy", [
    ("DIRECT", None), ("PROXY 10.0.0.1:3128; DIRECT", "http://10.0.0.1:3128"),
    ("SOCKS5 10.0.0.9:1080; PROXY p:8080", "http://p:8080"), ("", None),
])
def test_pac_values(value, proxy):
    assert first_http_proxy(value) == proxy


def test_bypass_patterns():
    assert bypassed("a.pix.fr", 443, ["pix.fr"], False)
    assert not bypassed("notpix.fr", 443, ["pix.fr"], False)
    assert bypassed("x", 80, [], True) and not bypassed("x.fr", 80, [], True)
    assert bypassed("10.0.0.5", 80, ["10.0.0.0/8"], False) and bypassed("anything", 1, ["*"], False)


def _pac_server(script: str):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):  # noqa: N802
            data = script.encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-ns-proxy-autoconfig")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    return server


def test_pac_file_from_the_registry_routes_through_a_real_proxy(tmp_path):
    dns = DnsServer({"ok.test": "127.0.0.1", "direct.test": "127.0.0.1"})
    site = HttpServer({"*": "ok"})
    proxy = ForwardProxy(dns.port)
    pac = _pac_server('function FindProxyForURL(url, host) {\n'
                      '  if (dnsDomainIs(host, "direct.test")) return "DIRECT";\n'
                      f'  return "PROXY 127.0.0.1:{proxy.port}; DIRECT";\n}}\n')
    try:
        pac_url = f"http://127.0.0.1:{pac.server_address[1]}/proxy.pac"
        host = Host.fake("windows", tmp_path, registry={INTERNET_SETTINGS: {"AutoConfigURL": pac_url}})
        settings = detect(host, timeout=2)
        assert settings.source == "pac" and settings.problem is None
        probe_settings = ProbeSettings(timeout=2, resolver=Resolver(dns.address), proxies=settings)
        through = probe(f"http://ok.test:{site.port}/", probe_settings)
        assert through.reason == "ok" and through.proxy == f"http://127.0.0.1:{proxy.port}"
        assert f"GET http://ok.test:{site.port}/" in proxy.requests
        direct = probe(f"http://direct.test:{site.port}/", probe_settings)
        assert direct.reason == "ok" and direct.proxy is None
        # A PAC URL that does not answer: go direct, as browsers do, and say so.
        broken = Host.fake("windows", tmp_path, registry={INTERNET_SETTINGS: {"AutoConfigURL": "http://127.0.0.1:1/x.pac"}})
        fallback = detect(broken, timeout=1)
        assert fallback.problem and fallback.proxy_for("https://pix.fr/") is None
    finally:
        for server in (pac, site, proxy):
            server.shutdown() if server is pac else server.close()
        dns.close()
