"""Which proxy each browser really uses, when it is not the system's.

Chrome, Edge and Chromium follow the system's proxy settings (``whitelist.proxy.detect``).
Firefox, the most common browser in French school labs, has its own, which win when set:
an enterprise policy (``policies.json`` in the install's ``distribution`` folder or
``/etc/firefox/policies``; on Windows also the ``HKLM\\Software\\Policies\\Mozilla\\Firefox\\Proxy``
key), else each profile's ``user.js`` / ``prefs.js`` ``network.proxy.*`` preferences
(``network.proxy.type``: 0 direct, 1 manual, 2 PAC, 4 WPAD, 5 or absent: the system's).

Facts read, through the Host (so fake trees test every OS): ``profiles.ini`` and the files
above. Nothing is written.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from core.host import Host
from checks.probes.extensions import _firefox_dirs, _firefox_profiles
from whitelist.proxy import ProxySettings, normalize_proxy

_POLICY_FILES = {
    "linux": ["/etc/firefox/policies/policies.json", "/usr/lib/firefox/distribution/policies.json",
              "/usr/lib/firefox-esr/distribution/policies.json", "/usr/lib64/firefox/distribution/policies.json",
              "/opt/firefox/distribution/policies.json", "/snap/firefox/current/usr/lib/firefox/distribution/policies.json"],
    "windows": [r"C:\Program Files\Mozilla Firefox\distribution\policies.json",
                r"C:\Program Files (x86)\Mozilla Firefox\distribution\policies.json"],
    "macos": ["/Applications/Firefox.app/Contents/Resources/distribution/policies.json",
              "/Library/Application Support/Mozilla/policies.json"],
}
_POLICY_KEY = r"HKLM\Software\Policies\Mozilla\Firefox\Proxy"
_PREF = re.compile(r'user_pref\(\s*"(network\.proxy\.[\w.]+)"\s*,\s*(.+?)\s*\)\s*;')


@dataclass
class BrowserProxy:
    browser: str                 # "Firefox"
    where: str                   # the file (or key) the setting comes from, for the report
    settings: ProxySettings      # source "firefox" / "pac" / "wpad"; http/https None = direct


def firefox(host: Host) -> list[BrowserProxy]:
    """Firefox's own proxy settings: the policy when there is one (it applies to every profile),
    else one entry per profile that does not follow the system. Empty: Firefox follows the
    system (or is not there)."""
    policy = _policy(host)
    if policy is not None:
        return [policy]
    found = []
    for base in _firefox_dirs(host):
        for profile in _firefox_profiles(base):
            prefs = _prefs(profile)
            settings = _from_prefs(prefs)
            if settings is not None:
                name = "user.js" if any(k in _read_prefs(profile / "user.js") for k in prefs) else "prefs.js"
                found.append(BrowserProxy("Firefox", str(profile / name), settings))
    return found


def _policy(host: Host) -> BrowserProxy | None:
    for path in _POLICY_FILES.get(host.os, []):
        file = host.path(path)
        try:
            data = json.loads(file.read_text(encoding="utf-8", errors="replace"))
        except (OSError, ValueError):
            continue
        proxy = data.get("policies", {}).get("Proxy") if isinstance(data, dict) else None
        if isinstance(proxy, dict):
            settings = _from_policy(proxy)
            if settings is not None:
                return BrowserProxy("Firefox", path, settings)
    if host.os == "windows" and host.registry is not None:
        values = host.registry.values(_POLICY_KEY)
        settings = _from_policy(values) if values else None
        if settings is not None:
            return BrowserProxy("Firefox", _POLICY_KEY, settings)
    return None


def _from_policy(proxy: dict) -> ProxySettings | None:
    mode = str(proxy.get("Mode", "")).lower()
    if mode == "none":
        return ProxySettings(source="firefox")
    if mode == "autodetect":
        return ProxySettings(source="wpad")
    if mode == "autoconfig" and proxy.get("AutoConfigURL"):
        return ProxySettings(source="pac", pac_url=str(proxy["AutoConfigURL"]))
    if mode == "manual":
        http = normalize_proxy(str(proxy.get("HTTPProxy") or ""))
        every = proxy.get("UseHTTPProxyForAllProtocols") in (True, 1, "1", "true")
        https = http if every else normalize_proxy(str(proxy.get("SSLProxy") or ""))
        bypass = [p for p in re.split(r"[,;\s]+", str(proxy.get("Passthrough") or "")) if p]
        return ProxySettings(source="firefox", http=http, https=https, bypass=bypass)
    return None  # "system", or no mode: the system's settings


def _read_prefs(path: Path) -> dict[str, object]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {}
    prefs: dict[str, object] = {}
    for key, raw in _PREF.findall(text):
        raw = raw.strip()
        if raw.startswith('"') and raw.endswith('"'):
            prefs[key] = raw[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        elif raw in ("true", "false"):
            prefs[key] = raw == "true"
        else:
            try:
                prefs[key] = int(raw)
            except ValueError:
                prefs[key] = raw
    return prefs


def _prefs(profile: Path) -> dict[str, object]:
    """prefs.js overridden by user.js (Firefox copies user.js over at each start)."""
    return _read_prefs(profile / "prefs.js") | _read_prefs(profile / "user.js")


def _from_prefs(prefs: dict[str, object]) -> ProxySettings | None:
    kind = prefs.get("network.proxy.type", 5)
    if kind == 0:
        return ProxySettings(source="firefox")
    if kind == 2 and prefs.get("network.proxy.autoconfig_url"):
        return ProxySettings(source="pac", pac_url=str(prefs["network.proxy.autoconfig_url"]))
    if kind == 4:
        return ProxySettings(source="wpad")
    if kind != 1:
        return None

    def address(name: str) -> str | None:
        host, port = prefs.get(f"network.proxy.{name}"), prefs.get(f"network.proxy.{name}_port", 0)
        return normalize_proxy(f"{host}:{port or 80}") if host else None

    http = address("http")
    https = http if prefs.get("network.proxy.share_proxy_settings") else address("ssl")
    bypass = [p for p in re.split(r"[,\s]+", str(prefs.get("network.proxy.no_proxies_on", ""))) if p]
    return ProxySettings(source="firefox", http=http, https=https, bypass=bypass)
