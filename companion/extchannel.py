"""The companion's channel from its browser extension, and who may use it.

Why native messaging (``companion/nativehost.py``) and not the loopback HTTP endpoint
restricted to the extension's origin: an ``Origin`` header protects a local endpoint from
web pages only; any local program sends whatever it likes (``curl -H 'Origin:
chrome-extension://...'``), and the extension's id is public (it is in the manifest's ``key``).
A native host, instead, is started by the browser itself, as its child, with the extension's
origin as argument, and only for an extension the host manifest allows. So the companion
accepts a connection on this channel only when the operating system says so
(``verify_peer``): the TCP connection belongs to the process that claims it (psutil's view of
its sockets), that process runs ``companion.nativehost``, was given one of our extension
origins, and its parent is a web browser. That parent's pid is also what ties the X11/Win32
foreground window (``_NET_WM_PID``) to the browser the extension reports on. A refused peer
is reported (``extension_forged``): someone tried.

Facts read: the peer process's pid, command line, connections and parent (psutil), and
whether the browser's executable is one the user cannot write (a process renamed with prctl
or a renamed copy is not a browser; root is exempt, it can write anything). Written:
``state_dir()/companion-extension.json`` ``{"port": N}`` for the native host to find us.
"""
from __future__ import annotations

import json
import logging
import os
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import psutil

from companion.focus import is_browser
from companion.nativehost import PORT_FILE

log = logging.getLogger(__name__)

EXTENSION_ID = "amjjmkcinalclaphjnmpemllheealacp"   # from the manifest's "key" (Chromium family)
GECKO_ID = "companion@examroom.invalid"             # browser_specific_settings.gecko.id (Firefox)
ORIGINS = (f"chrome-extension://{EXTENSION_ID}/", GECKO_ID)
HELLO_TIMEOUT_S = 3.0
MAX_LINE = 64 * 1024


@dataclass(frozen=True)
class Peer:
    """A verified native host: its pid, and the browser that started it."""

    pid: int
    browser_pid: int
    browser: str          # the browser's process name ("chromium", "firefox-esr"...)
    origin: str


class PeerRefused(Exception):
    """A connection that is not our extension's native host (the reason is the message)."""


def verify_peer(claim: dict, local: tuple[str, int], remote: tuple[str, int],
                origins: tuple[str, ...] = ORIGINS) -> Peer:
    """The OS's own view must match the peer's claim; raises PeerRefused with the reason."""
    pid = claim.get("pid")
    argv = claim.get("argv")
    if not isinstance(pid, int) or not isinstance(argv, list):
        raise PeerRefused("no pid/argv")
    try:
        proc = psutil.Process(pid)
        owns = any(c.laddr and c.raddr and tuple(c.laddr)[:2] == remote and tuple(c.raddr)[:2] == local
                   for c in proc.net_connections(kind="tcp"))
        cmdline = proc.cmdline()
        parent = proc.parent()
        parent_name = parent.name() if parent else ""
    except (psutil.Error, ValueError) as exc:
        raise PeerRefused(f"process {pid}: {type(exc).__name__}") from None
    if not owns:
        raise PeerRefused(f"process {pid} does not own the connection")
    if not any(part.endswith("companion.nativehost") or part.endswith("nativehost.py") for part in cmdline):
        raise PeerRefused(f"process {pid} is not the native host: {' '.join(cmdline)[:200]}")
    if not argv or cmdline[-len(argv):] != argv:
        raise PeerRefused("arguments differ from the process's own")
    origin = next((a for a in argv if a in origins), None)
    if origin is None:
        raise PeerRefused(f"not started for our extension: {argv[:2]}")
    if parent is None or not is_browser(parent_name):
        raise PeerRefused(f"not started by a browser (parent: {parent_name or '-'})")
    exe = _exe(parent)
    if not installed_program(exe):
        raise PeerRefused(f"its browser is not an installed program: {exe or '-'}")
    return Peer(pid=pid, browser_pid=parent.pid, browser=parent_name, origin=origin)


def _exe(proc: psutil.Process) -> str:
    try:
        return proc.exe()
    except (psutil.Error, OSError):
        return ""


def installed_program(exe: str) -> bool:
    """A browser installed for the machine, not a program the candidate could write: a
    process can take any name (prctl, a renamed copy), not the file it runs from. Root (and
    an administrator) can write anything, so for them this proves nothing and is skipped."""
    if not exe or not os.path.isfile(exe):
        return False
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return True
    return not os.access(exe, os.W_OK) and not os.access(os.path.dirname(exe), os.W_OK)


OnMessage = Callable[[Peer, dict], None]
OnPeer = Callable[[Peer, bool], None]          # connected (True) / gone (False)
OnRefused = Callable[[str, int | None], None]  # reason, claimed pid


class ExtensionChannel:
    """TCP on 127.0.0.1 (any free port); one thread per native host connection."""

    def __init__(self, home: Path, *, on_message: OnMessage, on_peer: OnPeer, on_refused: OnRefused,
                 config: Callable[[], dict], origins: tuple[str, ...] = ORIGINS,
                 verify: Callable[..., Peer] = verify_peer) -> None:
        self.home = home
        self.on_message, self.on_peer, self.on_refused = on_message, on_peer, on_refused
        self.config = config
        self.origins = origins
        self.verify = verify
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self._stop = threading.Event()
        self._clients: set[socket.socket] = set()
        self._by_browser: dict[int, socket.socket] = {}   # the latest verified peer of each browser
        self._lock = threading.Lock()

    def start(self) -> None:
        (self.home / PORT_FILE).write_text(json.dumps({"port": self.port}), encoding="utf-8")
        threading.Thread(target=self._accept, name="companion-extchannel", daemon=True).start()

    def close(self) -> None:
        self._stop.set()
        try:
            if json.loads((self.home / PORT_FILE).read_text(encoding="utf-8")).get("port") == self.port:
                (self.home / PORT_FILE).unlink()
        except (OSError, ValueError, AttributeError):
            pass
        self.server.close()
        with self._lock:
            for client in list(self._clients):
                try:
                    client.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                client.close()

    def send(self, browser_pid: int, message: dict) -> bool:
        """A message to that browser's extension (False: it has no channel open)."""
        with self._lock:
            client = self._by_browser.get(browser_pid)
        if client is None:
            return False
        try:
            client.sendall((json.dumps(message) + "\n").encode())
            return True
        except OSError:
            return False

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), name="companion-extpeer", daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._lock:
            self._clients.add(client)
        peer = None
        lines = client.makefile("rb")   # closing the socket alone would leave this file's fd open
        try:
            client.settimeout(HELLO_TIMEOUT_S)
            first = lines.readline(MAX_LINE)
            try:
                claim = json.loads(first) if first else {}
            except ValueError:
                claim = {}
            try:
                if not isinstance(claim, dict) or claim.get("type") != "peer":
                    raise PeerRefused("no peer line")
                peer = self.verify(claim, client.getsockname()[:2], client.getpeername()[:2], self.origins)
            except PeerRefused as exc:
                log.warning("extension channel: refused a peer: %s", exc)
                self.on_refused(str(exc), claim.get("pid") if isinstance(claim, dict) else None)
                return
            client.settimeout(None)
            client.sendall((json.dumps({"type": "config", **self.config()}) + "\n").encode())
            with self._lock:
                self._by_browser[peer.browser_pid] = client
            self.on_peer(peer, True)
            for line in lines:
                if len(line) > MAX_LINE:
                    continue
                try:
                    message = json.loads(line)
                except ValueError:
                    continue
                if isinstance(message, dict):
                    self.on_message(peer, message)
        except OSError as exc:
            log.debug("extension channel: %s", exc)
        finally:
            with self._lock:
                self._clients.discard(client)
                if peer is not None and self._by_browser.get(peer.browser_pid) is client:
                    del self._by_browser[peer.browser_pid]
            try:
                client.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            lines.close()
            client.close()
            if peer is not None and not self._stop.is_set():
                self.on_peer(peer, False)
