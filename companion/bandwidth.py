"""The companion's part of the room-wide bandwidth test (supervisor/routes_bandwidth.py).

One long poll to the server stays open (nothing listens on the candidate's machine); when the
supervisor orders a test, the answer says which file to download, for how long, and in how
many seconds to start, so every machine of the room downloads at the same moment. The rate is
measured as the crash test's bandwidth check does (whitelist.download.measure: same proxy, same
burst handling) over the order's full duration, then posted back. No URL or content of the
candidate's is involved: only the test file's figures.
"""
from __future__ import annotations

import logging
import threading
from typing import Any, Callable

log = logging.getLogger(__name__)

POLL_S = 25.0          # the long poll's own wait (the server's limit is 30 s)
RETRY_S = 5.0          # after a failed poll (server away)


class BandwidthWatcher:
    name = "bandwidth"

    def __init__(self, make_client: Callable[[], Any], enrol: Callable[[Any], bool],
                 measure: Callable[[str, float], dict[str, Any]] | None = None) -> None:
        self.make_client = make_client
        self.enrol = enrol
        self.measure = measure or measure_download
        self.last_id: str | None = None
        self.last_result: dict[str, Any] | None = None

    def run(self, stop: threading.Event) -> None:
        from agent.client import ServerRefused, ServerUnreachable

        client = self.make_client()
        while not stop.is_set():
            if not self.enrol(client):
                stop.wait(RETRY_S)
                continue
            try:
                query = f"/agent/bandwidth-order?wait={POLL_S:g}" + (f"&after={self.last_id}" if self.last_id else "")
                answer = client._call("GET", query, None)
            except (ServerUnreachable, ServerRefused) as exc:
                log.debug("bandwidth order poll failed: %s", exc)
                stop.wait(RETRY_S)
                continue
            order = answer.get("order") if isinstance(answer, dict) else None
            if isinstance(order, dict) and order.get("id") and order.get("id") != self.last_id:
                self.last_id = str(order["id"])
                self._run_test(client, order, stop)

    def _run_test(self, client: Any, order: dict[str, Any], stop: threading.Event) -> None:
        from agent.client import ServerRefused, ServerUnreachable

        wait = float(order.get("starts_in_s") or 0)
        if wait > 0 and stop.wait(wait):
            return
        late = max(0.0, -wait)
        seconds = float(order.get("seconds") or 6)
        result = self.measure(str(order.get("url", "")), seconds)
        result.update(test_id=order["id"], late_s=round(late, 3))
        self.last_result = result
        try:
            client._call("POST", "/agent/bandwidth-result", result)
        except (ServerUnreachable, ServerRefused) as exc:
            log.warning("bandwidth result not delivered: %s", exc)


def make_client(server: str, ca_file: str | None, lang: str) -> Any:
    """A client of its own (an HTTP session is not shared between threads) whose timeout
    outlasts the long poll."""
    from agent.client import ApiClient

    return ApiClient(server, ca_file=ca_file, lang=lang, timeout=POLL_S + 10)


def measure_download(url: str, seconds: float) -> dict[str, Any]:
    """Download ``url`` for ``seconds`` through this machine's proxy, as the crash test does."""
    from whitelist.download import measure
    from core.host import Host
    from whitelist.probe import ProbeSettings
    from whitelist.proxy import detect

    settings = ProbeSettings(timeout=5.0, proxies=detect(Host.current(), 5.0))
    found = measure(url, settings, max_seconds=seconds, min_seconds=seconds)
    outcome = found.outcome
    return {"mbps": found.mbps if outcome.reason == "ok" else None, "seconds": round(found.seconds + found.skipped, 2),
            "received": found.received, "reason": outcome.reason, "detail": (outcome.detail or "")[:300]}
