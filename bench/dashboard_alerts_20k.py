"""Dashboard latency with 20,000 alerts in the room (issue 15, row 4), real server and Chromium.

Two rooms in one run: an empty one and one where 20 machines sent 1,000 ``focus_lost``
alerts each (20,000), towards three programs (60 groups of machine, kind and subject). For
each: how long the room page takes to show its alert list after navigation (first paint of
the groups), then the latency of new alerts (posted one every 0.5 s, as a spamming machine
at 2 events/s) until the DOM shows them (the group's line names its newest alert:
MutationObserver, as bench/dashboard_sse_latency.py). Also the server's answer time for the
first page of groups against the flat list of every alert the page used to fetch. Prints
figures and ratios measured in this run. Run by hand:

    python bench/dashboard_alerts_20k.py --alerts 20000 --events 20

Figures on the 2-core dev machine shared with other engineers' test runs (2026-12-02, load
average about 7, --events 10): 20,000 alerts stored in 3.6 s; empty room: list shown 0.23 s
after navigation, new alert in the DOM p50 49 ms (max 205 ms); 20,000 alerts (60 groups): list
shown 0.44 s after navigation, new alert p50 106 ms (max 374 ms): ratios 1.9x and 2.2x (before
groups: 0.55 s vs 3.75 s and 23 ms vs 121 ms, ratios 6.9x and 5.2x); 52 list items in the DOM
(the first page's 50 groups, the one the new alerts brought to the top, "older"). Server: the first page of groups answers in
14 ms (25 KiB) against 1.57 s (7.4 MiB) for the flat list of every open alert the page used to
read: 109x faster, 298x smaller. The same run at load average 20: 2.26 s / 0.64 s (3.5x) and
540 ms / 181 ms (3.0x).
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


PROGRAMS = ("Discord", "ChatGPT", "WhatsApp")


def flood(server: Server, room: str, alerts: int) -> list[FakeAgent]:
    agents = [FakeAgent(server, room, f"SPAM-{i:02d}") for i in range(20)]
    per = alerts // len(agents)
    for agent in agents:
        batch = [{"id": str(uuid.uuid4()), "kind": "focus_lost", "at": _now(), "title": PROGRAMS[n % 3],
                  "program": PROGRAMS[n % 3], "category": "communication", "level": "alert"} for n in range(per)]
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
        agent.post("events", {"events": [{"id": event_id, "kind": "focus_lost", "at": _now(), "title": "Discord",
                                          "program": "Discord", "category": "communication", "level": "alert"}]})
        latencies.append(seen_at(page, event_id) - sent)
        time.sleep(0.5)
    return shown, latencies


def seen_at(page, event_id: str, timeout_s: float = 60.0) -> float:
    """When the page's observer saw the alert (its own clock, so polling here adds nothing).
    Polled with evaluate: wait_for_function's string form needs eval, which the CSP forbids."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        at = page.evaluate("(id) => window.__seen[id]", event_id)
        if at is not None:
            return at / 1000
        time.sleep(0.01)
    raise TimeoutError(f"alert {event_id} never reached the DOM")


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
            answers = api_times(server, busy)
        finally:
            _stop(server.proc)
    for name, (shown, latencies) in results.items():
        ms = sorted(x * 1000 for x in latencies)
        print(f"{name:>14}: alert list shown {shown:6.2f} s after navigation; new alert -> DOM p50 "
              f"{statistics.median(ms):7.1f} ms, max {ms[-1]:7.1f} ms")
    (s0, l0), (s1, l1) = results.values()
    print(f"ratios (flooded / empty): page {s1 / s0:.1f}x, new-alert p50 {statistics.median(l1) / statistics.median(l0):.1f}x;"
          f" list items in the DOM: {nodes}")
    (page_s, page_bytes), (flat_s, flat_bytes) = answers
    print(f"server: first page of groups {page_s * 1000:.1f} ms ({page_bytes / 1024:.0f} KiB) vs every alert "
          f"{flat_s * 1000:.1f} ms ({flat_bytes / 1024:.0f} KiB): {flat_s / page_s:.0f}x faster, "
          f"{flat_bytes / page_bytes:.0f}x smaller")


def api_times(server: Server, room: str) -> tuple[tuple[float, int], tuple[float, int]]:
    """Median of 5 answers: GET /alert-groups (what the page reads now) and GET /alerts (before)."""
    headers = {"Authorization": f"Bearer {server.token()}"}
    out = []
    for path in (f"/rooms/{room}/alert-groups?limit=50&open=true", f"/rooms/{room}/alerts?open=true"):
        times, size = [], 0
        for _ in range(5):
            started = time.perf_counter()
            reply = requests.get(f"{server.url}/api/v1{path}", headers=headers, timeout=120)
            times.append(time.perf_counter() - started)
            size = len(reply.content)
        out.append((statistics.median(times), size))
    return out[0], out[1]


if __name__ == "__main__":
    main()
