"""What goes over the probe's socket: the request it writes, and the parts of an answer it reads
(the first bytes of the body, the proxy's own error code, a CDN's request id, an NTLM offer).
No I/O of its own beyond the socket it is given; whitelist.probe drives the steps.
"""
from __future__ import annotations

import base64
import http.client
import socket
from urllib.parse import unquote, urlsplit

BODY_LIMIT = 64 * 1024
USER_AGENT = "Mozilla/5.0 (compatible; examroom crash test)"


def proxy_code(headers: dict[str, str]) -> str:
    words = headers.get("x-squid-error", "").split()
    return words[0].upper() if words else ""


def ray(headers: dict[str, str]) -> str:
    for name in ("cf-ray", "x-amz-cf-id", "x-akamai-request-id", "x-fastly-request-id"):
        if headers.get(name):
            return f", {name}: {headers[name][:40]}"
    return ""


def request(method: str, parts, proxy: str | None) -> bytes:
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    default = 443 if parts.scheme == "https" else 80
    host = parts.hostname if not parts.port or parts.port == default else f"{parts.hostname}:{parts.port}"
    target = f"{parts.scheme}://{host}{path}" if proxy else path
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}", f"User-Agent: {USER_AGENT}",
             "Accept: text/html,application/xhtml+xml,*/*;q=0.8", "Accept-Encoding: identity",
             "Connection: close"]
    head = "\r\n".join(lines) + "\r\n" + (proxy_auth(urlsplit(proxy)) if proxy else "") + "\r\n"
    return head.encode("latin-1")


def proxy_auth(proxy) -> str:
    if not proxy.username:
        return ""
    token = base64.b64encode(f"{unquote(proxy.username)}:{unquote(proxy.password or '')}".encode()).decode()
    return f"Proxy-Authorization: Basic {token}\r\n"


def windows_auth(response: http.client.HTTPResponse) -> bool:
    """A 407 offering NTLM or Negotiate: on a domain-joined machine the browser answers it
    with the session's Windows account, so the candidate may never see a password prompt."""
    if response.status != 407:
        return False
    offers = response.msg.get_all("Proxy-Authenticate") or []
    return any(offer.split(" ")[0].lower() in ("ntlm", "negotiate") for offer in offers)


def read_body(response: http.client.HTTPResponse, sock: socket.socket | None, timeout: float) -> str:
    if response.status in (204, 304) or response.length == 0:
        return ""
    try:
        if sock is not None:
            sock.settimeout(timeout)
        data = response.read(BODY_LIMIT) if response.length is None or response.length > 0 else b""
    except (OSError, http.client.HTTPException, ValueError):
        data = b""
    return data.decode("utf-8", errors="replace")
