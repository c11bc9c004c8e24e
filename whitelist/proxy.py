"""Which proxy this machine's browser uses for a URL.

Facts read, all through the Host: the environment (``HTTP_PROXY``, ``HTTPS_PROXY``,
``ALL_PROXY``, ``NO_PROXY``, either case); on Windows the per-user Internet Settings in the
registry (``ProxyEnable``, ``ProxyServer`` including the ``http=h:p;https=h:p`` form,
``ProxyOverride`` with ``<local>``, ``AutoConfigURL``, and the WPAD "automatically detect"
flag); on macOS ``scutil --proxy``; on Linux desktops GNOME's ``gsettings``. A PAC file
(from AutoConfigURL or WPAD) is fetched and evaluated with pypac, as a browser would.
A PAC file named on the command line (``--pac URL``) or in ``EXAMROOM_PAC_URL`` wins over
everything; then the environment (what command-line tools and our tests use); then the OS.
A PAC answer is a failover list (``PROXY a; PROXY b; DIRECT``): ``proxies_for`` gives it
whole, and the probe tries the next entry when a proxy does not take the connection, as
browsers do. pypac's own warnings and log lines never reach the terminal: they become the
settings' ``problem``, shown in the report.
"""
from __future__ import annotations

import fnmatch
import ipaddress
import logging
import re
import threading
import warnings
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from core.host import Host

INTERNET_SETTINGS = r"HKCU\Software\Microsoft\Windows\CurrentVersion\Internet Settings"
_PAC_TYPES = ["application/x-ns-proxy-autoconfig", "application/x-javascript-config",
              "application/javascript", "text/javascript", "text/plain", "application/octet-stream"]


@dataclass
class ProxySettings:
    """The proxy configuration found on the machine (``source`` says where)."""

    source: str = "none"                 # env | registry | pac | wpad | scutil | gsettings | none
    http: str | None = None              # "http://host:port" for http:// URLs
    https: str | None = None             # the same for https:// URLs (used with CONNECT)
    bypass: list[str] = field(default_factory=list)
    bypass_local: bool = False           # Windows "<local>": names without a dot go direct
    pac_url: str | None = None
    problem: str | None = None           # e.g. the PAC file could not be fetched
    _pac: object = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def describe(self) -> str:
        if self.pac_url:
            return f"PAC {self.pac_url}"
        if self.source == "wpad":
            return "WPAD"
        proxies = sorted({p for p in (self.http, self.https) if p})
        return ", ".join(proxies) if proxies else "direct"

    def proxy_for(self, url: str) -> str | None:
        """``http://host:port`` of the proxy for ``url``, or None to go direct."""
        return self.proxies_for(url)[0]

    def proxies_for(self, url: str) -> list[str | None]:
        """What a browser would try for ``url``, in order (None: direct); never empty."""
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        port = parts.port or (443 if parts.scheme == "https" else 80)
        if bypassed(host, port, self.bypass, self.bypass_local):
            return [None]
        if self._pac is not None:
            with self._lock, quiet_pypac(self):  # the JS interpreter is not meant to be shared between threads
                value = self._pac.find_proxy_for_url(url, host)  # type: ignore[attr-defined]
            return pac_proxies(value)
        return [self.https if parts.scheme == "https" else self.http]


class _Collect(logging.Handler):
    def __init__(self, settings: ProxySettings):
        super().__init__(logging.WARNING)
        self.settings = settings

    def emit(self, record: logging.LogRecord) -> None:
        if not self.settings.problem:
            self.settings.problem = record.getMessage()[:200]


class quiet_pypac:
    """pypac warns (``warnings``) and logs (``logging``, whose last-resort handler prints to the
    terminal): keep both out of the report's terminal, noting the first one as the problem."""

    def __init__(self, settings: ProxySettings):
        self.settings = settings
        self.logger = logging.getLogger("pypac")

    def __enter__(self) -> None:
        self._warnings = warnings.catch_warnings(record=True)
        self.caught = self._warnings.__enter__()
        warnings.simplefilter("always")
        self.handler = _Collect(self.settings)
        self._propagate = self.logger.propagate
        self.logger.addHandler(self.handler)
        self.logger.propagate = False

    def __exit__(self, *exc: object) -> None:
        self.logger.removeHandler(self.handler)
        self.logger.propagate = self._propagate
        self._warnings.__exit__(None, None, None)
        if self.caught and not self.settings.problem:
            self.settings.problem = str(self.caught[0].message)[:200]


def pac_proxies(pac_value: str) -> list[str | None]:
    """``"PROXY a:3128; PROXY b:3128; DIRECT"`` -> ``["http://a:3128", "http://b:3128", None]``.
    SOCKS entries are skipped (browsers in French schools use HTTP proxies; SOCKS would need
    another client); a list of nothing usable means direct."""
    found: list[str | None] = []
    for part in (pac_value or "DIRECT").split(";"):
        words = part.split()
        if not words:
            continue
        kind = words[0].upper()
        if kind == "DIRECT":
            found.append(None)
            break  # nothing after DIRECT is ever tried
        if kind in ("PROXY", "HTTP", "HTTPS") and len(words) > 1:
            proxy = normalize_proxy(words[1], "https" if kind == "HTTPS" else "http")
            if proxy and proxy not in found:
                found.append(proxy)
    return found or [None]


def first_http_proxy(pac_value: str) -> str | None:
    """The first entry of a PAC answer (None: direct)."""
    return pac_proxies(pac_value)[0]


def normalize_proxy(value: str, scheme: str = "http") -> str | None:
    value = value.strip()
    if not value:
        return None
    if "://" not in value:
        value = f"{scheme}://{value}"
    parts = urlsplit(value)
    if not parts.hostname:
        return None
    port = parts.port or (443 if parts.scheme == "https" else 80)
    auth = f"{parts.username}:{parts.password or ''}@" if parts.username else ""
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{parts.scheme}://{auth}{host}:{port}"


def bypassed(host: str, port: int, patterns: list[str], local: bool) -> bool:
    """NO_PROXY / ProxyOverride semantics: suffixes, ``*`` wildcards, CIDR ranges, ``<local>``."""
    if local and "." not in host and ":" not in host:
        return True
    for raw in patterns:
        pattern = raw.strip().lower()
        if not pattern:
            continue
        if pattern == "*":
            return True
        if "/" in pattern:
            try:
                if ipaddress.ip_address(host) in ipaddress.ip_network(pattern, strict=False):
                    return True
            except ValueError:
                pass
            continue
        m = re.match(r"^(.*?):(\d+)$", pattern)
        if m and not pattern.startswith("["):
            if int(m.group(2)) != port:
                continue
            pattern = m.group(1)
        if "*" in pattern or "?" in pattern:
            if fnmatch.fnmatch(host, pattern):
                return True
            continue
        bare = pattern.lstrip(".")
        if host == bare or host.endswith("." + bare):
            return True
    return False


def detect(host: Host, timeout: float = 5.0, *, fetch_pac: bool = True, pac: str | None = None) -> ProxySettings:
    """The proxy settings of ``host``: a PAC file given (``pac``, ``EXAMROOM_PAC_URL``), then the
    environment, then the OS's own settings. ``fetch_pac=False`` names the PAC file without
    downloading it (offline commands)."""
    given = pac or host.getenv("EXAMROOM_PAC_URL")
    found = ProxySettings(source="pac", pac_url=given) if given else _from_env(host)
    if found is None and host.os == "windows" and host.registry is not None:
        found = _from_registry(host)
    if found is None and host.os == "macos":
        found = _from_scutil(host)
    if found is None and host.os == "linux":
        found = _from_gsettings(host)
    settings = found or ProxySettings()
    if fetch_pac:
        load_pac(settings, timeout)
    return settings


def load_pac(settings: ProxySettings, timeout: float) -> None:
    """Fetch and compile the PAC file these settings name (or WPAD finds), once."""
    if (settings.pac_url or settings.source == "wpad") and settings._pac is None and not settings.problem:
        _load_pac(settings, timeout)


def _env(host: Host, name: str) -> str | None:
    # curl and requests give the lower-case name priority; Windows names ignore case anyway.
    return host.getenv(name.lower()) or host.getenv(name.upper())


def _from_env(host: Host) -> ProxySettings | None:
    http, https, every = _env(host, "http_proxy"), _env(host, "https_proxy"), _env(host, "all_proxy")
    if not (http or https or every):
        return None
    fallback = normalize_proxy(every) if every and not every.lower().startswith("socks") else None
    return ProxySettings(
        source="env", http=normalize_proxy(http) if http else fallback,
        https=normalize_proxy(https) if https else fallback,
        bypass=[p for p in (_env(host, "no_proxy") or "").split(",") if p.strip()],
    )


def _from_registry(host: Host) -> ProxySettings | None:
    values = host.registry.values(INTERNET_SETTINGS)  # type: ignore[union-attr]
    settings = ProxySettings(source="registry")
    if _truthy(values.get("ProxyEnable")) and values.get("ProxyServer"):
        settings.http, settings.https = _split_proxy_server(str(values["ProxyServer"]))
        overrides = [p for p in str(values.get("ProxyOverride") or "").split(";") if p.strip()]
        settings.bypass_local = any(p.strip().lower() == "<local>" for p in overrides)
        settings.bypass = [p for p in overrides if p.strip().lower() != "<local>"]
    if values.get("AutoConfigURL"):
        # Windows evaluates the PAC file before the fixed proxy: it wins when present.
        settings.pac_url, settings.source = str(values["AutoConfigURL"]), "pac"
    elif settings.http is None and settings.https is None and _autodetect(host):
        settings.source = "wpad"
    if settings.http is None and settings.https is None and settings.source == "registry":
        return None
    return settings


def _split_proxy_server(value: str) -> tuple[str | None, str | None]:
    """``"10.0.0.1:3128"`` (every protocol) or ``"http=h:p;https=h:p;ftp=..."``."""
    if "=" not in value:
        proxy = normalize_proxy(value.split(";")[0])
        return proxy, proxy
    table = {}
    for part in value.split(";"):
        if "=" in part:
            scheme, _, address = part.partition("=")
            table[scheme.strip().lower()] = normalize_proxy(address)
    return table.get("http"), table.get("https")


def _autodetect(host: Host) -> bool:
    # Byte 8 of DefaultConnectionSettings holds the flags of the "LAN settings" dialog;
    # 0x08 is "Automatically detect settings" (WPAD).
    values = host.registry.values(INTERNET_SETTINGS + r"\Connections")  # type: ignore[union-attr]
    blob = values.get("DefaultConnectionSettings")
    return isinstance(blob, (bytes, bytearray)) and len(blob) > 8 and bool(blob[8] & 0x08)


def _truthy(value: object) -> bool:
    try:
        return int(value) != 0  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def _from_scutil(host: Host) -> ProxySettings | None:
    result = host.run(["scutil", "--proxy"], timeout=5)
    if result is None or not result.ok:
        return None
    keys = dict(re.findall(r"^\s*(\w+)\s*:\s*(\S+)\s*$", result.stdout, re.MULTILINE))
    exceptions = re.findall(r"^\s*\d+\s*:\s*(\S+)\s*$", result.stdout, re.MULTILINE)
    settings = ProxySettings(source="scutil", bypass=exceptions)
    if keys.get("HTTPEnable") == "1" and keys.get("HTTPProxy"):
        settings.http = normalize_proxy(f"{keys['HTTPProxy']}:{keys.get('HTTPPort', '80')}")
    if keys.get("HTTPSEnable") == "1" and keys.get("HTTPSProxy"):
        settings.https = normalize_proxy(f"{keys['HTTPSProxy']}:{keys.get('HTTPSPort', '443')}")
    if keys.get("ProxyAutoConfigEnable") == "1" and keys.get("ProxyAutoConfigURLString"):
        settings.pac_url, settings.source = keys["ProxyAutoConfigURLString"], "pac"
    elif keys.get("ProxyAutoDiscoveryEnable") == "1" and not (settings.http or settings.https):
        settings.source = "wpad"
    if settings.source == "scutil" and not (settings.http or settings.https):
        return None
    return settings


def _from_gsettings(host: Host) -> ProxySettings | None:
    def get(schema: str, key: str) -> str:
        result = host.run(["gsettings", "get", schema, key], timeout=5)
        return result.stdout.strip().strip("'") if result is not None and result.ok else ""

    mode = get("org.gnome.system.proxy", "mode")
    if mode == "auto":
        url = get("org.gnome.system.proxy", "autoconfig-url")
        return ProxySettings(source="pac", pac_url=url) if url else ProxySettings(source="wpad")
    if mode != "manual":
        return None
    settings = ProxySettings(source="gsettings")
    for scheme in ("http", "https"):
        address = get(f"org.gnome.system.proxy.{scheme}", "host")
        port = get(f"org.gnome.system.proxy.{scheme}", "port")
        if address:
            setattr(settings, scheme, normalize_proxy(f"{address}:{port or 8080}"))
    ignore = get("org.gnome.system.proxy", "ignore-hosts")
    settings.bypass = re.findall(r"'([^']+)'", ignore) if ignore else []
    return settings if settings.http or settings.https else None


def _load_pac(settings: ProxySettings, timeout: float) -> None:
    """Fetch and compile the PAC file; on failure go direct and say why (browsers do too)."""
    import pypac
    import requests

    session = requests.Session()
    session.trust_env = False  # the PAC file is fetched directly, never through a proxy
    try:
        with quiet_pypac(settings):
            pac = _get_pac(settings, timeout, session, pypac)
    except Exception as exc:  # noqa: BLE001 - pypac raises requests and JS errors alike
        settings.problem = f"{type(exc).__name__}: {exc}"
        return
    if pac is None:
        settings.problem = settings.problem or (
            "no PAC file found" + (f" at {settings.pac_url}" if settings.pac_url else " by WPAD"))
        return
    settings.problem = None  # a warning on the way, but a PAC file to use
    settings._pac = pac


def _get_pac(settings: ProxySettings, timeout: float, session, pypac):
    from pathlib import Path
    from urllib.parse import unquote

    if settings.pac_url and not settings.pac_url.lower().startswith(("http://", "https://")):
        # A file: file:///etc/proxy.pac, or a plain path (Firefox and Windows accept both).
        path = settings.pac_url[7:] if settings.pac_url.lower().startswith("file://") else settings.pac_url
        from pypac.parser import PACFile

        return PACFile(Path(unquote(path)).read_text(encoding="utf-8", errors="replace"))
    if settings.pac_url:
        return pypac.get_pac(url=settings.pac_url, from_os_settings=False, from_dns=False,
                             timeout=timeout, allowed_content_types=_PAC_TYPES, session=session)
    return pypac.get_pac(from_os_settings=False, from_dns=True, timeout=timeout,
                         allowed_content_types=_PAC_TYPES, session=session)
