"""The native messaging host of the examroom browser extension (``org.examroom.companion``).

The browser starts this program itself when the extension calls ``connectNative`` (the host
manifest written by ``examroom companion install-browser-host`` names it), with the
extension's origin as argument (Chromium: ``chrome-extension://ID/``; Firefox: the manifest's
path, then the extension id). It relays, both ways, the browser's native messages (stdin /
stdout: a 32-bit length in native byte order, then UTF-8 JSON) and the companion's extension
channel (``companion/extchannel.py``: TCP on 127.0.0.1, one JSON object per line), whose port
the companion writes to ``state_dir()/companion-extension.json``.

The first line it sends says who it is (its pid and the arguments the browser gave it): the
companion checks them against the operating system's own view of the connection
(``extchannel.verify_peer``), so no other local program can pass for the extension.
When the companion is not running (yet), messages are read and dropped, except the last
"hello" and "active" which are replayed once it is reachable: the browser must never block
on a full pipe, and the companion learns the current state as soon as it starts.
"""
from __future__ import annotations

import json
import os
import socket
import struct
import sys
import threading
from pathlib import Path
from typing import BinaryIO

PORT_FILE = "companion-extension.json"
MAX_MESSAGE = 1024 * 1024       # Chromium's limit for messages sent to a host
RETRY_S = 1.0


def read_message(stream: BinaryIO) -> dict | None:
    """One message from the browser, None at end of input (the browser closed the port)."""
    header = stream.read(4)
    if len(header) < 4:
        return None
    (length,) = struct.unpack("=I", header)
    if length > MAX_MESSAGE:
        return None
    data = stream.read(length)
    if len(data) < length:
        return None
    try:
        message = json.loads(data)
    except ValueError:
        return {}
    return message if isinstance(message, dict) else {}


def write_message(stream: BinaryIO, message: dict) -> None:
    data = json.dumps(message, ensure_ascii=False).encode()
    stream.write(struct.pack("=I", len(data)) + data)
    stream.flush()


def companion_port(home: Path) -> int | None:
    try:
        port = json.loads((home / PORT_FILE).read_text(encoding="utf-8")).get("port")
    except (OSError, ValueError, AttributeError):
        return None
    return port if isinstance(port, int) and 0 < port < 65536 else None


class Relay:
    def __init__(self, home: Path, argv: list[str], stdout: BinaryIO) -> None:
        self.home, self.argv, self.stdout = home, argv, stdout
        self.sock: socket.socket | None = None
        self.lock = threading.Lock()         # guards sock
        self.out_lock = threading.Lock()     # one writer of stdout at a time
        self.replay: dict[str, dict] = {}     # last "hello" and "active", for a late companion
        self.closed = threading.Event()

    def _connect(self) -> socket.socket | None:
        port = companion_port(self.home)
        if port is None:
            return None
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=2)
        except OSError:
            return None
        sock.settimeout(None)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        who = {"type": "peer", "pid": os.getpid(), "argv": self.argv[1:4]}
        try:
            sock.sendall((json.dumps(who) + "\n").encode())
            for message in self.replay.values():
                sock.sendall((json.dumps(message, ensure_ascii=False) + "\n").encode())
        except OSError:
            sock.close()
            return None
        threading.Thread(target=self._from_companion, args=(sock,), daemon=True).start()
        return sock

    def _from_companion(self, sock: socket.socket) -> None:
        with sock.makefile("rb") as lines:
            for line in lines:
                try:
                    message = json.loads(line)
                except ValueError:
                    continue
                if isinstance(message, dict):
                    with self.out_lock:
                        write_message(self.stdout, message)
        with self.lock:
            if self.sock is sock:
                self.sock = None

    def forward(self, message: dict) -> None:
        if message.get("type") in ("hello", "active"):
            self.replay[message["type"]] = message
        with self.lock:
            if self.sock is None:
                self.sock = self._connect()   # replays the last hello/active, this one among them
                if self.sock is None or message.get("type") in self.replay:
                    return
            sock = self.sock
        try:
            sock.sendall((json.dumps(message, ensure_ascii=False) + "\n").encode())
        except OSError:
            with self.lock:
                self.sock = None

    def keep_trying(self) -> None:
        """While the companion is away, try again every second (the extension sends a
        heartbeat every second anyway, but a replay must not wait for it)."""
        while not self.closed.wait(RETRY_S):
            with self.lock:
                if self.sock is None and self.replay:
                    self.sock = self._connect()


def main(argv: list[str] | None = None) -> int:
    from core.state import state_dir

    argv = list(sys.argv if argv is None else argv)
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    relay = Relay(state_dir(), argv, stdout)
    threading.Thread(target=relay.keep_trying, daemon=True).start()
    while True:
        message = read_message(stdin)
        if message is None:
            break
        if message:
            relay.forward(message)
    relay.closed.set()
    if relay.sock is not None:
        try:
            relay.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        relay.sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
