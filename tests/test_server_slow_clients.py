"""Slow sockets and revoked tokens against a real ``examroom serve`` (issue 15, rows 7 and 8).

200 sockets dribbling their headers and 20 idle ones are held while a supervisor is served,
then cut at the header deadline; a body shorter than its Content-Length is cut at the body
deadline; one address cannot open more than its share of connections. Logging out (and a
login's expiry) ends the live streams opened with that token.
"""
from __future__ import annotations

import socket
import threading
import time

import pytest
import requests

from tests.server_support import LiveServer

HEADER_S, BODY_S, CAP = 2.0, 2.0, 300


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    live = LiveServer(tmp_path_factory.mktemp("slow"), args=(
        "--header-timeout", str(HEADER_S), "--body-timeout", str(BODY_S),
        "--max-connections-per-address", str(CAP), "--session-hours", "0.001", "--sse-keepalive", "0.5")).start()
    yield live
    live.stop()


def _connect(server, source: str = "127.0.0.1") -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=30, source_address=(source, 0))
    return sock


def _closed_by_server(sock: socket.socket, within: float) -> bool:
    sock.settimeout(within)
    try:
        while True:
            data = sock.recv(4096)
            if not data:
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def test_200_slow_sockets_are_cut_and_a_supervisor_is_served_meanwhile(server):
    slow = [_connect(server) for _ in range(200)]
    idle = [_connect(server) for _ in range(20)]
    opened = time.monotonic()
    try:
        for sock in slow:
            sock.sendall(b"GET /api/v1/rooms HTTP/1.1\r\nHost: x\r\nX-Slow: ")  # and never the end
        sup = server.login()
        assert server.get("/rooms", sup).status_code == 200
        assert requests.get(server.url + "/", timeout=10).status_code == 200
        assert time.monotonic() - opened < HEADER_S + 5  # all this happened while they were held
        for sock in slow:
            sock.sendall(b"a")  # still dribbling: the deadline counts from the first byte
        for sock in slow + idle:
            assert _closed_by_server(sock, HEADER_S + 10)
    finally:
        for sock in slow + idle:
            sock.close()
    assert server.get("/rooms", server.login()).status_code == 200


def test_a_body_shorter_than_its_content_length_is_cut(server):
    sock = _connect(server)
    try:
        sock.sendall(b"POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 1000\r\n\r\n{\"username\": \"admin\"")
        started = time.monotonic()
        assert _closed_by_server(sock, BODY_S + 10)
        assert time.monotonic() - started < BODY_S + 10
    finally:
        sock.close()
    # A body that arrives in pieces within the limits is fine.
    sock = _connect(server)
    try:
        body = b'{"username": "admin", "password": "nope nope"}'
        sock.sendall(b"POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body[:10])
        time.sleep(0.5)
        sock.sendall(body[10:])
        sock.settimeout(10)
        assert sock.recv(4096).startswith(b"HTTP/1.1 401")
    finally:
        sock.close()


def test_one_address_cannot_take_every_connection(server):
    hog = []
    try:
        for _ in range(CAP + 20):
            hog.append(_connect(server, "127.0.0.3"))
        # Beyond the cap, connections from that address are closed at once...
        assert sum(_closed_by_server(sock, 1.0) for sock in hog[-20:]) == 20
        # ...while another address is served.
        assert server.get("/rooms", server.login()).status_code == 200
    finally:
        for sock in hog:
            sock.close()


def _open_stream(server, token: str) -> tuple[requests.Response, list[bytes], threading.Thread]:
    code = server.create_room({"Authorization": f"Bearer {token}"})
    reply = requests.get(f"{server.url}/api/v1/rooms/{code}/stream", params={"token": token}, stream=True, timeout=30)
    assert reply.status_code == 200
    lines: list[bytes] = []

    def read() -> None:
        try:
            for line in reply.iter_lines():
                lines.append(line)
        except requests.RequestException:
            pass
        lines.append(b"<end>")
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    return reply, lines, reader


def test_logout_and_expiry_end_that_tokens_live_streams(server):
    token = server.login()["Authorization"].split()[1]
    other = server.login()["Authorization"].split()[1]
    reply, lines, reader = _open_stream(server, token)
    other_reply, other_lines, other_reader = _open_stream(server, other)
    try:
        assert requests.post(f"{server.url}/api/v1/logout", headers={"Authorization": f"Bearer {token}"},
                             timeout=10).json() == {"ok": True}
        reader.join(2.0)  # well before the 3.6 s expiry: the logout closed it
        assert lines and lines[-1] == b"<end>"
        assert other_lines[-1:] != [b"<end>"]  # another login's stream goes on...
        assert requests.get(f"{server.url}/api/v1/rooms", headers={"Authorization": f"Bearer {token}"},
                            timeout=10).status_code == 401
        other_reader.join(15)  # ...until that login expires (--session-hours 0.001: 3.6 s)
        assert other_lines[-1] == b"<end>"
    finally:
        reply.close()
        other_reply.close()
