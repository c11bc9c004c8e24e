"""A school network on loopback, from the real programs schools run (issue 13's lab).

Each piece is a context manager that starts the real daemon on free ports of 127.0.0.1 (or a
free random 127.x.y.z address when the program cannot be told a port: squid asks its DNS on
port 53, a DNS sinkhole's block server answers on 80/443), with every pid, log and cache
file in a temp folder, and stops it on exit:

- ``dnsmasq``: the school's DNS (``--no-resolv``: never forwards anything off the machine);
- ``squid``: ACL deny lists, a custom ``deny_info`` page, a ``deny_info`` redirect to the
  block CGI, Basic auth (``basic_ncsa_auth``) and ``delay_pools``; optionally squidGuard as its
  URL rewriter;
- ``block_cgi``: Debian's squidGuard block CGI (perl) behind Python's CGI server;
- ``tinyproxy`` with a ``Filter`` file;
- ``mitmdump`` (mitmproxy from PyPI) as a TLS-inspection box with a CA we generate;
- ``nginx`` sites with ``limit_rate``.

Daemons run as root here: folders are world-readable because squid and its helpers drop to
the ``proxy`` user, nginx and dnsmasq to ``nobody``.
"""
from __future__ import annotations

import contextlib
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import CGIHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest

from tests.support import free_port

NCSA = "/usr/lib/squid/basic_ncsa_auth"
SQUID_TEMPLATES = Path("/usr/share/squid/errors/templates")
DEBIAN_BLOCK_CGI = Path("/usr/share/doc/squidguard/examples/squidGuard-simple.cgi")
# md5-crypt of "secret" (basic_ncsa_auth reads it): user "eleve".
PASSWD = "eleve:$1$examroom$3NSg8Z3BYt.yG171wFfrc1\n"
NEUTRAL_CA = "Région académique – Autorité racine"


def need_program(*paths: str) -> None:
    for path in paths:
        if (shutil.which(path) if "/" not in path else (path if os.path.exists(path) else None)) is None:
            pytest.skip(f"needs {path} (CI installs it: see .ci/run)")


def folder(prefix: str) -> Path:
    # Not under pytest's tmp (mode 0700 parents): the daemons' unprivileged users must read it.
    path = Path(tempfile.mkdtemp(prefix=f"examroom-{prefix}-"))
    path.chmod(0o777)
    return path


def free_loopback(*ports: int) -> str:
    """A random 127.x.y.z where every one of ``ports`` (TCP and UDP) is free."""
    for _ in range(50):
        address = f"127.{random.randint(1, 254)}.{random.randint(1, 254)}.{random.randint(2, 254)}"
        try:
            for port in ports:
                for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                    with socket.socket(socket.AF_INET, kind) as sock:
                        sock.bind((address, port))
            return address
        except OSError:
            continue
    pytest.skip("no free loopback address (binding privileged ports needs root)")


def wait_port(address: str, port: int, process: subprocess.Popen, log: Path | None, what: str,
              timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection((address, port), timeout=0.5).close()
            return
        except OSError:
            if process.poll() is not None:
                text = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
                pytest.fail(f"{what} exited ({process.returncode}): {text}")
            time.sleep(0.1)
    stop(process)
    pytest.fail(f"{what} did not listen on {address}:{port} within {timeout:g} s")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@contextlib.contextmanager
def running(cmd: list[str], address: str, port: int, log: Path | None, what: str,
            tcp: bool = True, env: dict | None = None) -> Iterator[subprocess.Popen]:
    out = open(log, "ab") if log else subprocess.DEVNULL
    process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        if tcp:
            wait_port(address, port, process, log, what)
        yield process
    finally:
        stop(process)
        if log:
            out.close()


# --- DNS ------------------------------------------------------------------------------------
@dataclass
class Dns:
    address: str
    port: int

    @property
    def server(self) -> str:
        return f"{self.address}:{self.port}"


@contextlib.contextmanager
def dnsmasq(records: dict[str, str | None]) -> Iterator[Dns]:
    """``records``: name -> IPv4, or None for NXDOMAIN (the name and its subdomains). Any other
    name is REFUSED (no upstream server: ``--no-resolv``). Listens on port 53 of a random
    loopback address, so squid (which cannot be given a DNS port) can use it too."""
    need_program("dnsmasq")
    where = folder("dnsmasq")
    address = free_loopback(53)
    args = [shutil.which("dnsmasq"), "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv",
            "--no-hosts", "--no-poll", f"--listen-address={address}", "--bind-interfaces", "--port=53",
            f"--pid-file={where}/dnsmasq.pid", "--user=root", "--log-facility=-", "--cache-size=0"]
    for name, ip in records.items():
        args.append(f"--address=/{name}/{ip}" if ip else f"--address=/{name}/")
    log = where / "dnsmasq.log"
    try:
        with running(args, address, 53, log, "dnsmasq", tcp=True):
            yield Dns(address, 53)
    finally:
        shutil.rmtree(where, ignore_errors=True)


# --- the block page (Debian's squidGuard CGI) -----------------------------------------------
@dataclass
class Web:
    address: str
    port: int

    @property
    def base(self) -> str:
        return f"http://{self.address}:{self.port}"


@contextlib.contextmanager
def block_cgi(address: str = "127.0.0.1", port: int = 0) -> Iterator[Web]:
    """Debian's squidGuard-simple.cgi run by a CGI server: GET /cgi-bin/squidGuard-simple.cgi?url=..."""
    need_program("perl", str(DEBIAN_BLOCK_CGI))
    where = folder("blockcgi")
    (where / "cgi-bin").mkdir()
    script = where / "cgi-bin" / "squidGuard-simple.cgi"
    shutil.copy(DEBIAN_BLOCK_CGI, script)
    script.chmod(0o755)
    directory = str(where)

    class Handler(CGIHTTPRequestHandler):
        cgi_directories = ["/cgi-bin"]

        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=directory, **kwargs)

        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 - anything but the CGI is the sinkhole's own page
            if self.path.startswith("/cgi-bin/"):
                return super().do_GET()
            here = "%s:%d" % self.server.server_address[:2]  # the block server's own address
            self.send_response(302)
            self.send_header("Location", f"http://{here}/cgi-bin/squidGuard-simple.cgi"
                                         f"?targetgroup=dns&url=http://{self.headers.get('Host', '')}{self.path}")
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer((address, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    try:
        yield Web(address, server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        shutil.rmtree(where, ignore_errors=True)


# --- squid (+ squidGuard) -------------------------------------------------------------------
@dataclass
class Squid:
    port: int
    folder: Path
    pools: dict[str, float] = field(default_factory=dict)   # domain -> bytes/s

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def with_user(self, user: str = "eleve", password: str = "secret") -> str:
        return f"http://{user}:{password}@127.0.0.1:{self.port}"


CUSTOM_PAGE = """<html><head><title>Accès refusé - filtrage du lycée</title></head><body>
<h1>Accès refusé</h1><p>Le site %H est bloqué par le filtrage de l'établissement.</p>
<p>Contact : administrateur réseau. %c</p></body></html>
"""


@contextlib.contextmanager
def squid(dns: Dns, block: Web, *, denied: tuple[str, ...] = (), custom: tuple[str, ...] = (),
          redirected: tuple[str, ...] = (), private: tuple[str, ...] = (),
          pools: dict[str, float] | None = None, squidguard_blocked: tuple[str, ...] = ()) -> Iterator[Squid]:
    """Squid 5 as a school proxy. ``denied``: ``http_access deny`` (its ERR_ACCESS_DENIED page);
    ``custom``: denied with a ``deny_info`` page of the school's own; ``redirected``: denied
    with ``deny_info 302:`` to the block CGI; ``private``: Basic auth required (eleve/secret);
    ``pools``: domain -> bytes/s through a class-1 delay pool whose bucket holds one second;
    ``squidguard_blocked``: domains squidGuard (the URL rewriter) redirects to the block CGI."""
    need_program("squid", NCSA)
    where = folder("squid")
    errors = where / "errors"
    shutil.copytree(SQUID_TEMPLATES, errors)
    (errors / "ERR_LYCEE_BLOCK").write_text(CUSTOM_PAGE)
    (where / "passwd").write_text(PASSWD)
    port = free_port()
    lines = [
        f"http_port 127.0.0.1:{port}", f"pid_filename {where}/squid.pid", f"cache_log {where}/cache.log",
        "access_log none", "cache deny all", f"coredump_dir {where}", f"dns_nameservers {dns.address}",
        "dns_timeout 3 seconds", "connect_timeout 3 seconds", "shutdown_lifetime 0 seconds",
        f"error_directory {errors}", "visible_hostname proxy.lycee.test", "via on",
        f"auth_param basic program {NCSA} {where}/passwd", "auth_param basic realm lycee",
        "acl authed proxy_auth REQUIRED", "acl SSL_ports port 1-65535", "acl CONNECT method CONNECT",
    ]
    for name, domains in (("denied", denied), ("custom", custom), ("redirected", redirected), ("private", private)):
        if domains:
            lines.append(f"acl {name} dstdomain " + " ".join("." + d for d in domains))
    if custom:
        lines.append("deny_info ERR_LYCEE_BLOCK custom")
    if redirected:
        lines.append(f"deny_info 302:{block.base}/cgi-bin/squidGuard-simple.cgi?targetgroup=denied&url=%u redirected")
    for name in ("denied", "custom", "redirected"):
        if locals()[name]:
            lines.append(f"http_access deny {name}")
    if private:
        lines.append("http_access deny private !authed")
    lines.append("http_access allow all")
    pools = pools or {}
    if pools:
        lines.append(f"delay_pools {len(pools)}")
        for number, (domain, rate) in enumerate(pools.items(), 1):
            lines += [f"acl pool{number} dstdomain .{domain}", f"delay_class {number} 1",
                      f"delay_parameters {number} {int(rate)}/{int(rate)}",
                      f"delay_access {number} allow pool{number}", f"delay_access {number} deny all"]
    if squidguard_blocked:
        need_program("squidGuard")
        (where / "db" / "bad").mkdir(parents=True)
        (where / "log").mkdir()
        (where / "db" / "bad" / "domains").write_text("\n".join(squidguard_blocked) + "\n")
        (where / "squidGuard.conf").write_text(f"""dbhome {where}/db
logdir {where}/log
dest bad {{
    domainlist bad/domains
}}
acl {{
    default {{
        pass !bad all
        redirect {block.base}/cgi-bin/squidGuard-simple.cgi?clientaddr=%a&targetgroup=%t&url=%u
    }}
}}
""")
        lines += [f"url_rewrite_program {shutil.which('squidGuard')} -c {where}/squidGuard.conf",
                  "url_rewrite_children 2 startup=1 idle=1", "url_rewrite_bypass off"]
    for path in where.rglob("*"):
        path.chmod(0o777 if path.is_dir() else 0o666)
    (where / "squid.conf").write_text("\n".join(lines) + "\n")
    log = where / "cache.log"
    try:
        with running([shutil.which("squid"), "-N", "-f", str(where / "squid.conf")], "127.0.0.1", port, log, "squid"):
            yield Squid(port, where, dict(pools))
    finally:
        shutil.rmtree(where, ignore_errors=True)


# --- tinyproxy ------------------------------------------------------------------------------
@contextlib.contextmanager
def tinyproxy(filtered: tuple[str, ...]) -> Iterator[str]:
    """tinyproxy with a domain ``Filter`` file: filtered hosts get its ``403 Filtered`` page."""
    need_program("tinyproxy")
    where = folder("tinyproxy")
    port = free_port()
    (where / "filter").write_text("\n".join(rf"(^|\.){d.replace('.', chr(92) + '.')}$" for d in filtered) + "\n")
    (where / "tinyproxy.conf").write_text(f"""User nobody
Group nogroup
Port {port}
Listen 127.0.0.1
Timeout 10
LogFile "{where}/tinyproxy.log"
LogLevel Info
PidFile "{where}/tinyproxy.pid"
MaxClients 50
Filter "{where}/filter"
FilterExtended On
FilterDefaultDeny No
ViaProxyName "tinyproxy"
""")
    for path in where.iterdir():
        path.chmod(0o666)
    log = where / "tinyproxy.log"
    try:
        with running([shutil.which("tinyproxy"), "-d", "-c", str(where / "tinyproxy.conf")], "127.0.0.1", port,
                     log, "tinyproxy"):
            yield f"http://127.0.0.1:{port}"
    finally:
        shutil.rmtree(where, ignore_errors=True)


# --- mitmproxy (TLS inspection) -------------------------------------------------------------
def inspection_ca(common_name: str):
    """A trustme CA whose subject reads like an inspection box's (``O=...``)."""
    import trustme

    return trustme.CA(organization_name=common_name, organization_unit_name=common_name)


@contextlib.contextmanager
def mitmdump(ca, upstream: str) -> Iterator[str]:
    """mitmdump re-signing every site with ``ca`` (a trustme CA), going on through
    ``upstream`` (the school's squid, which resolves names with the school DNS)."""
    program = shutil.which("mitmdump") or str(Path(sys.executable).with_name("mitmdump"))
    need_program(program)
    where = folder("mitmproxy")
    (where / "mitmproxy-ca.pem").write_bytes(ca.private_key_pem.bytes() + ca.cert_pem.bytes())
    port = free_port()
    args = [program, "--mode", f"upstream:{upstream}", "--listen-host", "127.0.0.1", "--listen-port", str(port),
            "--set", f"confdir={where}", "--set", "ssl_insecure=true", "--set", "upstream_cert=false",
            "--set", "termlog_verbosity=warn", "--set", "flow_detail=0"]
    env = dict(os.environ, HOME=str(where))
    log = where / "mitmdump.log"
    try:
        with running(args, "127.0.0.1", port, log, "mitmdump", env=env):
            yield f"http://127.0.0.1:{port}"
    finally:
        shutil.rmtree(where, ignore_errors=True)


# --- nginx (rate-limited downloads) ---------------------------------------------------------
@dataclass
class Nginx:
    port: int
    rates: dict[str, float]    # location name -> bytes/s ("full" is unlimited)

    def url(self, location: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}/{location}/big.bin"


@contextlib.contextmanager
def nginx(rates: dict[str, float], size: int = 512 * 1024 * 1024) -> Iterator[Nginx]:
    """nginx-light serving one big (sparse) file under /NAME/ at ``limit_rate`` bytes/s, and
    unlimited under /full/."""
    need_program("nginx")
    where = folder("nginx")
    (where / "www").mkdir()
    with open(where / "www" / "big.bin", "wb") as big:
        big.truncate(size)
    port = free_port()
    locations = "".join(f"        location /{name}/ {{ alias {where}/www/; limit_rate {int(rate)}; }}\n"
                        for name, rate in rates.items())
    temp = "".join(f"    {kind}_temp_path {where}/{kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (where / "nginx.conf").write_text(f"""daemon off;
master_process off;
worker_processes 1;
pid {where}/nginx.pid;
error_log {where}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
{temp}    server {{
        listen 127.0.0.1:{port};
        sendfile on;
        location /full/ {{ alias {where}/www/; }}
{locations}    }}
}}
""")
    for path in where.rglob("*"):
        path.chmod(0o777 if path.is_dir() else 0o666)
    log = where / "error.log"
    try:
        with running([shutil.which("nginx"), "-c", str(where / "nginx.conf"), "-p", str(where)], "127.0.0.1", port,
                     log, "nginx"):
            yield Nginx(port, dict(rates))
    finally:
        shutil.rmtree(where, ignore_errors=True)
