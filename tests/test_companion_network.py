"""Connectivity watch against a real HTTP server on 127.0.0.1 that we stop and restart."""
from __future__ import annotations

import http.server
import socket
import threading

import pytest

from companion.network import NetworkWatcher
from tests.support import free_port


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_HEAD(self) -> None:
        self.send_response(404 if self.path == "/missing" else 200)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


class Platform:
    """A loopback 'exam platform' that can go away and come back on the same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.server: http.server.ThreadingHTTPServer | None = None

    def start(self) -> None:
        http.server.ThreadingHTTPServer.allow_reuse_address = True
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), _Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


@pytest.fixture()
def platform():
    p = Platform()
    p.start()
    yield p
    p.stop()


def test_outage_is_down_then_up_with_duration(platform: Platform) -> None:
    events = []
    now = [0.0]
    watcher = NetworkWatcher(f"http://127.0.0.1:{platform.port}/", events.append, timeout_s=1.0,
                             down_after=2, clock=lambda: now[0])
    assert watcher.check() is None
    assert watcher.state.up is True and watcher.state.latency_ms is not None

    platform.stop()
    now[0] = 10.0
    assert watcher.check() is None          # one failure is not an outage
    assert watcher.state.up is True
    now[0] = 13.0
    down = watcher.check()
    assert down is not None and down.kind == "net_down"
    since = down.details["since"]           # the first failed probe, before the event itself
    assert down.details == {"url": f"http://127.0.0.1:{platform.port}/", "error": "connect_failed", "since": since}
    assert since.endswith("Z") and since <= down.at
    assert watcher.state.up is False
    now[0] = 16.0
    assert watcher.check() is None          # still down: one event per outage

    platform.start()
    now[0] = 20.5
    up = watcher.check()
    assert up is not None and up.kind == "net_up" and up.details["down_s"] == 10.5
    assert [e.kind for e in events] == ["net_down", "net_up"]


def test_any_http_answer_means_up(platform: Platform) -> None:
    events = []
    watcher = NetworkWatcher(f"http://127.0.0.1:{platform.port}/missing", events.append, down_after=1)
    watcher.check()
    assert watcher.state.up is True and events == []


def test_silent_server_is_a_timeout() -> None:
    """A server that accepts but never answers (a black-holing filter): timeout."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    try:
        events = []
        watcher = NetworkWatcher(f"http://127.0.0.1:{listener.getsockname()[1]}/", events.append,
                                 timeout_s=0.3, down_after=1)
        watcher.check()
        assert [e.details.get("error") for e in events] == ["timeout"]
    finally:
        listener.close()


def test_run_loop_stops(platform: Platform) -> None:
    stop = threading.Event()
    events = []
    watcher = NetworkWatcher(f"http://127.0.0.1:{platform.port}/", events.append, interval_s=0.05)
    thread = threading.Thread(target=watcher.run, args=(stop,))
    thread.start()
    stop.wait(0.3)
    stop.set()
    thread.join(5)
    assert not thread.is_alive() and watcher.state.up is True


class _Proxy(http.server.BaseHTTPRequestHandler):
    """A loopback forward proxy: answers absolute-URI requests itself, and records them."""

    seen: list[str] = []

    def do_HEAD(self) -> None:
        _Proxy.seen.append(self.path)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def test_the_probe_goes_through_the_browsers_proxy(tmp_path) -> None:
    """The machine's proxy (here from the environment, read through the Host as the crash
    test does) carries the probe: a platform name that only the proxy can reach is 'up'."""
    from core.host import Host
    from companion.network import system_proxy

    proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Proxy)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        host = Host.fake("linux", tmp_path, env={"HTTP_PROXY": f"http://127.0.0.1:{proxy.server_address[1]}"})
        events = []
        url = "http://platform.examroom-test.invalid/"
        watcher = NetworkWatcher(url, events.append, timeout_s=2, down_after=1, proxy_for=system_proxy(host))
        watcher.check()
        assert watcher.state.up is True and events == []
        assert _Proxy.seen == [url]
        # without the proxy the same name does not resolve: an outage
        direct = NetworkWatcher(url, events.append, timeout_s=2, down_after=1,
                                proxy_for=system_proxy(Host.fake("linux", tmp_path, env={})))
        direct.check()
        assert [e.kind for e in events] == ["net_down"] and events[0].details["error"] in ("dns_failed", "connect_failed")
    finally:
        proxy.shutdown()
        proxy.server_close()
