"""Name resolution with dnspython: the system's resolvers, or the ``--dns HOST[:PORT]`` server.

Facts read: the DNS answers (A, then AAAA). dnspython reads the system's resolver list
itself (``/etc/resolv.conf``, or the Windows registry). Without ``--dns``, a name the DNS
does not know but the hosts file does (``getaddrinfo``) still counts, since browsers go
through the OS resolver.
"""
from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass

import dns.exception
import dns.resolver

from core.errors import BadInput
from whitelist.notes import Note, note


@dataclass(frozen=True)
class Resolution:
    ip: str | None
    detail: Note | None = None   # why there is no ip
    timed_out: bool = False


def parse_dns_server(value: str, where: str = "--dns") -> tuple[str, int]:
    """``"10.0.0.53"``, ``"10.0.0.53:5353"``, ``"[::1]:53"``, ``"::1"`` or ``"dns.lan:53"``."""
    text = value.strip()
    hint = "input.dns.hint"
    host, port = text, "53"
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ("53" if not rest else "x")
    elif text.count(":") == 1:
        host, port = text.split(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise BadInput.keyed("input.dns.bad", where, hint, value=value)
    try:
        ipaddress.ip_address(host)
        return host, int(port)
    except ValueError:
        if ":" in host:  # several colons and not an IPv6 address: a typo, not a name to look up
            raise BadInput.keyed("input.dns.bad", where, hint, value=value) from None
    try:
        return socket.getaddrinfo(host, None, proto=socket.IPPROTO_UDP)[0][4][0], int(port)
    except (socket.gaierror, UnicodeError, IndexError):
        raise BadInput.keyed("input.dns.unresolved", where, hint, host=host) from None


class Resolver:
    """Resolves host names; thread-safe (no cache), so the probe pool can share one."""

    def __init__(self, server: str | None = None):
        self.server = server
        self._resolver: dns.resolver.Resolver | None
        if server:
            host, port = parse_dns_server(server)
            self._resolver = dns.resolver.Resolver(configure=False)
            self._resolver.nameservers = [host]
            self._resolver.port = port
        else:
            try:
                self._resolver = dns.resolver.Resolver()
            except (dns.resolver.NoResolverConfiguration, OSError):
                self._resolver = None

    def describe(self) -> str:
        if self._resolver is None:
            return "system resolver"
        port = getattr(self._resolver, "port", 53)
        servers = ", ".join(str(s) for s in self._resolver.nameservers)
        return f"{servers}:{port}" if port != 53 else servers

    def resolve(self, name: str, timeout: float) -> Resolution:
        try:
            ipaddress.ip_address(name)
            return Resolution(name)
        except ValueError:
            pass
        detail, timed_out = note("net.dns.none"), False
        if self._resolver is not None:
            for rdtype in ("A", "AAAA"):
                try:
                    answer = self._resolver.resolve(name, rdtype, lifetime=timeout, search=False)
                    return Resolution(str(answer[0]))
                except dns.resolver.NXDOMAIN:
                    detail = note("net.dns.nxdomain", server=self.describe(), name=name)
                    break
                except dns.resolver.NoAnswer:
                    detail = note("net.dns.noanswer", server=self.describe(), name=name)
                except dns.resolver.NoNameservers as exc:
                    detail = note("net.dns.failed", server=self.describe(), name=name, error=type(exc).__name__)
                    break
                except dns.exception.Timeout:
                    return Resolution(None, note("net.dns.timeout", server=self.describe(), timeout=timeout), True)
                except dns.exception.DNSException as exc:
                    detail = note("net.dns.error", name=name, error=str(exc))
                    break
        if self.server is None:
            # The hosts file and mDNS are part of what a browser sees; --dns asks for DNS only.
            try:
                return Resolution(socket.getaddrinfo(name, None, proto=socket.IPPROTO_TCP)[0][4][0])
            except (socket.gaierror, UnicodeError, IndexError, OSError):
                pass
        return Resolution(None, detail, timed_out)
