"""Real network servers on 127.0.0.1 for the whitelist and bandwidth tests.

- ``DnsServer``: a UDP DNS server on a random port (dnspython builds and parses the
  messages), answering A records from a table and NXDOMAIN for any other name.
- ``HttpServer``: threading http.server answering by the ``Host`` name (``ok.test`` ->
  200, ``squid.test`` -> Squid 403 ...), optionally over TLS with a trustme certificate.
- ``HangServer``: accepts TCP connections and never answers.
- ``ForwardProxy``: a small CONNECT-capable forward proxy that resolves names through the
  test DNS, can demand credentials (407), block hosts with a Squid-style page, or
  intercept TLS with one certificate for every site (as an inspection box does).
- ``RateLimitedServer``: serves a large file at a fixed rate (bytes paced against a clock).
"""
from __future__ import annotations

import base64
import select
import socket
import socketserver
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dns.message
import dns.rcode
import dns.rrset

SQUID_PAGE = (
    "<html><head><title>ERROR: The requested URL could not be retrieved</title></head><body>"
    "<h1>ERROR</h1><p>Access control configuration prevents your request from being allowed "
    "at this time.</p><p>Generated Sun, 22 Nov 2026 08:00:00 GMT by proxy.lycee (squid/5.7)</p>"
    "</body></html>"
)
FORTINET_PAGE = (
    "<html><head><title>Web Page Blocked</title></head><body><h1>FortiGuard Intrusion Prevention"
    " - Access Blocked</h1><p>The page you have requested has been blocked because the URL is "
    "banned.</p><p>Fortinet FortiGate</p></body></html>"
)
AMON_PAGE = (
    "<html><head><title>Accès refusé</title></head><body><h2>EOLE - Amon</h2><p>L'accès au site "
    "est refusé par le filtrage de l'établissement (e2guardian).</p></body></html>"
)
CLOUDFLARE_PAGE = (
    "<html><head><title>Attention Required! | Cloudflare</title></head><body><h1>Sorry, you have been "
    "blocked</h1><h2>You are unable to access pix.test</h2><p>Cloudflare Ray ID: 8f1e2d3c4b5a6978</p></body></html>"
)
PIX_PAGE = "<html><head><title>Pix</title></head><body>Bienvenue sur Pix : accès au test.</body></html>"


class DnsServer:
    def __init__(self, names: dict[str, str]):
        self.names = {k.lower().rstrip("."): v for k, v in names.items()}
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.queries = 0
        self._stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop:
            try:
                data, peer = self.sock.recvfrom(4096)
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            self.queries += 1
            query = dns.message.from_wire(data)
            answer = dns.message.make_response(query)
            question = query.question[0]
            name = question.name.to_text().lower().rstrip(".")
            if name not in self.names:
                answer.set_rcode(dns.rcode.NXDOMAIN)
            elif question.rdtype == dns.rdatatype.A:
                answer.answer.append(dns.rrset.from_text(question.name, 60, "IN", "A", self.names[name]))
            self.sock.sendto(answer.to_wire(), peer)

    def close(self) -> None:
        self._stop = True
        self.sock.close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        name = (self.headers.get("Host") or "").rsplit(":", 1)[0].lower()
        behaviour = self.server.behaviours.get(name, self.server.behaviours.get("*", "ok"))  # type: ignore[attr-defined]
        delay = getattr(self.server, "delay", 0.0)
        if delay:
            time.sleep(delay)
        if behaviour == "ok":
            self._send(200, PIX_PAGE)
        elif behaviour == "squid":
            self._send(403, SQUID_PAGE, {"X-Squid-Error": "ERR_ACCESS_DENIED 0", "Server": "squid/5.7"})
        elif behaviour == "fortinet":
            self._send(200, FORTINET_PAGE)
        elif behaviour == "amon":
            self._send(403, AMON_PAGE)
        elif behaviour == "redirect":
            self._send(302, "", {"Location": f"http://filtre.lycee.lan/cgi-bin/blocked.cgi?url=http://{name}/"})
        elif behaviour == "auth":
            self._send(407, "<html><title>Proxy Authentication Required</title></html>",
                       {"Proxy-Authenticate": 'Basic realm="proxy"'})
        elif behaviour == "down":
            self._send(500, "<html><title>Internal Server Error</title></html>")
        elif behaviour == "cdn403":  # a site's own CDN refusing the client (bot check)
            self._send(403, CLOUDFLARE_PAGE, {"cf-ray": "8f1e2d3c4b5a6978-CDG", "Server": "cloudflare"})
        elif behaviour == "missing_via":  # the site's own cache in front of it (Varnish) adds Via
            self._send(404, "<html><title>Not Found</title></html>", {"Via": "1.1 varnish (Varnish/7.1)"})
        elif behaviour == "missing":
            self._send(404, "<html><title>Not Found</title></html>")
        else:
            raise AssertionError(behaviour)

    def _send(self, status: int, body: str, headers: dict[str, str] | None = None) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    request_queue_size = 256  # the default 5 drops SYNs when the probe pool connects at once
    daemon_threads = True


class HttpServer:
    """``behaviours`` maps a Host name to ok|squid|fortinet|amon|redirect|auth|down|missing|cdn403
    (``"*"`` for any other name); ``cert`` is a trustme LeafCert to serve HTTPS."""

    def __init__(self, behaviours: dict[str, str] | None = None, cert=None, delay: float = 0.0,
                 address: str = "127.0.0.1", port: int = 0):
        self.server = _Server((address, port), _Handler)
        self.server.daemon_threads = True
        self.server.behaviours = behaviours or {"*": "ok"}  # type: ignore[attr-defined]
        self.server.delay = delay  # type: ignore[attr-defined]
        if cert is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            cert.configure_cert(context)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class HangServer:
    """Accepts connections and never says a word (a host a firewall swallows).
    ``accepted`` counts the connections held open, so tests see how many were probed at once."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(256)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        self.accepted = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)
            self.accepted += 1

    def close(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


class ForwardProxy:
    """A forward proxy (CONNECT for https, absolute-URL GET for http) on 127.0.0.1."""

    def __init__(self, dns_port: int, *, blocked: set[str] = frozenset(), credentials: str | None = None,
                 intercept_cert=None, auth_offers: tuple[str, ...] = ('Basic realm="lycee"',)):
        self.dns_port, self.blocked, self.credentials = dns_port, set(blocked), credentials
        self.auth_offers = auth_offers
        self.intercept = None
        if intercept_cert is not None:
            self.intercept = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            intercept_cert.configure_cert(self.intercept)
        self.requests: list[str] = []
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                proxy._handle(self.request)

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _resolve(self, name: str) -> str | None:
        import ipaddress

        import dns.resolver

        try:
            return str(ipaddress.ip_address(name))
        except ValueError:
            pass

        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers, resolver.port = ["127.0.0.1"], self.dns_port
        try:
            return str(resolver.resolve(name, "A", lifetime=2)[0])
        except Exception:  # noqa: BLE001 - any failure is "cannot resolve"
            return None

    def _handle(self, client: socket.socket) -> None:
        client.settimeout(10)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = client.recv(4096)
            if not chunk:
                return
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, _version = lines[0].split(" ", 2)
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        self.requests.append(f"{method} {target}")
        if self.credentials:
            expected = "Basic " + base64.b64encode(self.credentials.encode()).decode()
            if headers.get("proxy-authorization") != expected:
                offers = "".join(f"Proxy-Authenticate: {offer}\r\n" for offer in self.auth_offers)
                return self._answer(client, 407, "<html><title>Cache Access Denied</title></html>",
                                    {"X-Squid-Error": "ERR_CACHE_ACCESS_DENIED 0"}, raw=offers)
        if method == "CONNECT":
            host, _, port = target.rpartition(":")
        else:
            without = target.split("://", 1)[1]
            hostport, _, path = without.partition("/")
            host, _, port = hostport.partition(":")
            port = port or "80"
        if host.lower() in self.blocked:
            return self._answer(client, 403, SQUID_PAGE, {"X-Squid-Error": "ERR_ACCESS_DENIED 0"})
        ip = self._resolve(host)
        if ip is None:
            return self._answer(client, 503, "<html><title>DNS failure</title></html>", {"X-Squid-Error": "ERR_DNS_FAIL 0"})
        if method == "CONNECT" and self.intercept is not None:
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            with self.intercept.wrap_socket(client, server_side=True) as tls:
                tls.recv(65536)
                self._answer(tls, 200, PIX_PAGE)
            return
        try:
            upstream = socket.create_connection((ip, int(port)), timeout=5)
        except OSError:
            return self._answer(client, 503, "<html><title>Connection failed</title></html>",
                                {"X-Squid-Error": "ERR_CONNECT_FAIL 111"})
        with upstream:
            if method == "CONNECT":
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            else:
                first = f"{method} /{path} HTTP/1.1\r\n".encode()
                upstream.sendall(first + b"\r\n".join(line.encode("latin-1") for line in lines[1:]
                                                      if not line.lower().startswith("proxy-")) + b"\r\n\r\n" + rest)
            _pipe(client, upstream)

    @staticmethod
    def _answer(client, status: int, body: str, headers: dict[str, str] | None = None, raw: str = "") -> None:
        data = body.encode()
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items()) + raw
        client.sendall(f"HTTP/1.1 {status} X\r\nContent-Type: text/html\r\nContent-Length: {len(data)}\r\n"
                       f"Via: 1.1 proxy.lycee (squid/5.7)\r\n{extra}Connection: close\r\n\r\n".encode() + data)


def _pipe(a: socket.socket, b: socket.socket, idle: float = 10.0) -> None:
    while True:
        ready, _, _ = select.select([a, b], [], [], idle)
        if not ready:
            return
        for sock in ready:
            try:
                chunk = sock.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            (b if sock is a else a).sendall(chunk)


class RateLimitedServer:
    """Serves ``size`` bytes at ``rate_bps`` bits per second, paced against the clock."""

    def __init__(self, rate_bps: float, size: int = 64 * 1024 * 1024, chunk: int = 16 * 1024):
        limiter = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(size))
                self.end_headers()
                sent, start, block = 0, time.monotonic(), b"\0" * chunk
                try:
                    while sent < size:
                        # Never ahead of rate x elapsed: a token bucket with no initial burst.
                        wait = start + (sent + chunk) * 8 / rate_bps - time.monotonic()
                        if wait > 0:
                            time.sleep(wait)
                        self.wfile.write(block[: min(chunk, size - sent)])
                        sent += chunk
                except OSError:
                    return

        self.rate_bps = rate_bps
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/big.bin"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
