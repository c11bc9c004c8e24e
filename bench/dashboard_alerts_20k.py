"""Dashboard latency with 20,000 alerts in the room (issue 15, row 4), real server and Chromium.

Two rooms in one run: an empty one and one where 20 machines sent 1,000 ``focus_lost``
alerts each (20,000). For each: how long the room page takes to show its alert list after
navigation, then the latency of new alerts (posted one every 0.5 s, as a spamming machine
at 2 events/s) until they are in the DOM (MutationObserver, as bench/dashboard_sse_latency.py).
Prints both and their ratio. Run by hand:

    python bench/dashboard_alerts_20k.py --alerts 20000 --events 20

Figures on the 2-core dev machine shared with other test runs (2026-12-01, --events 10):
20,000 alerts stored in 6.1 s; empty room: list shown 0.55 s after navigation, new alert in
the DOM p50 23 ms; 20,000 alerts: list shown 3.75 s after navigation (the snapshot is 20,000
rows of JSON), new alert p50 121 ms, max 267 ms (ratios 6.9x and 5.2x); 101 list items in
the DOM (the newest 100 and "show more"). Before (issue 15): at 20,000 alerts the page did
not answer within 500 s. Not done: grouping alerts per machine and kind, and paging the
snapshot on the server (all alerts are still sent at load).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from tests.test_dashboard_browser import CHROMIUM, CHROMIUM_ARGS, PASSWORD, FakeAgent, Server, _now, _stop  # noqa: E402
from bench.dashboard_sse_latency import OBSERVER  # noqa: E402


def flood(server: Server, room: str, alerts: int) -> list[FakeAgent]:
    agents = [FakeAgent(server, room, f"SPAM-{i:02d}") for i in range(20)]
    per = alerts // len(agents)
    for agent in agents:
        batch = [{"id": str(uuid.uuid4()), "kind": "focus_lost", "at": _now(), "title": "Discord", "process": "discord"}
                 for _ in range(per)]
        res = requests.post(f"{server.url}/api/v1/events", json={"events": batch}, headers=agent.headers, timeout=120)
        res.raise_for_status()
    return agents


def measure(page, server: Server, room: str, agent: FakeAgent, events: int,
            first: str) -> tuple[float, list[float]]:
    started = time.monotonic()
    page.goto(f"{server.url}/#/room/{room}")
    page.wait_for_selector("body[data-live=on]")
    page.wait_for_selector(first, timeout=600_000)
    shown = time.monotonic() - started
    page.evaluate(OBSERVER)
    latencies = []
    for _ in range(events):
        event_id = str(uuid.uuid4())
        sent = time.time()
        agent.post("events", {"events": [{"id": event_id, "kind": "focus_lost", "at": _now(), "title": "Discord"}]})
        page.wait_for_function(f"window.__seen[{event_id!r}] !== undefined", timeout=60_000)
        latencies.append(page.evaluate(f"window.__seen[{event_id!r}]") / 1000 - sent)
        time.sleep(0.5)
    return shown, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=20_000)
    parser.add_argument("--events", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp))
        try:
            quiet, busy = server.create_room("calme"), server.create_room("inondée")
            calm_agent = FakeAgent(server, quiet, "PC-01")
            t0 = time.monotonic()
            spammers = flood(server, busy, args.alerts)
            print(f"{args.alerts} alerts stored in {time.monotonic() - t0:.1f} s")
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1280, "height": 800}, locale="fr-FR")
                page.goto(server.url + "/")
                page.fill("#login-password", PASSWORD)
                page.click("#login-submit")
                page.wait_for_selector("body[data-view=rooms]")
                results = {"empty room": measure(page, server, quiet, calm_agent, args.events, "#alert-list li.empty"),
                           f"{args.alerts} alerts": measure(page, server, busy, spammers[0], args.events,
                                                            "#alert-list li.alert")}
                nodes = page.evaluate("document.querySelectorAll('#alert-list li').length")
                browser.close()
        finally:
            _stop(server.proc)
    for name, (shown, latencies) in results.items():
        ms = sorted(x * 1000 for x in latencies)
        print(f"{name:>14}: alert list shown {shown:6.2f} s after navigation; new alert -> DOM p50 "
              f"{statistics.median(ms):7.1f} ms, max {ms[-1]:7.1f} ms")
    (s0, l0), (s1, l1) = results.values()
    print(f"ratios (flooded / empty): page {s1 / s0:.1f}x, new-alert p50 {statistics.median(l1) / statistics.median(l0):.1f}x;"
          f" list items in the DOM: {nodes}")


if __name__ == "__main__":
    main()
