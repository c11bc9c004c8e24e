"""Focus change -> dashboard latency, through the real server and a real browser.

Starts ``examroom serve`` on a free loopback port (temp SQLite db), enrols N simulated
companions in one room, opens the room page in headless Chromium, then, one at a time,
posts a ``focus_lost`` event (POST /api/v1/events, as the companion's outbox does) and
measures how long until the alert is in the page's DOM (a MutationObserver records
``performance.timeOrigin + performance.now()``, the same wall clock as Python's
``time.time()`` on this host). Prints p50/p95/max. Run by hand:

    python bench/dashboard_sse_latency.py --machines 20 --events 100

Figures on the 2-core dev machine (2026-11-22, 100 events each, every machine heart-beating
every 2 s): 5 machines p50 26.5 ms / p95 42.0 ms / max 50.7 ms; 30 machines p50 32.4 ms /
p95 96.9 ms / max 144.5 ms. The aim ("within a second") holds with a wide margin.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.test_dashboard_browser import (CHROMIUM, CHROMIUM_ARGS, PASSWORD, FakeAgent, Server,  # noqa: E402
                                          _now, _stop)

OBSERVER = """
window.__seen = {};
new MutationObserver(() => {
  for (const li of document.querySelectorAll('.alert[data-alert-id]')) {
    const id = li.dataset.alertId;
    if (!(id in window.__seen)) window.__seen[id] = performance.timeOrigin + performance.now();
  }
}).observe(document.getElementById('alert-list'), {childList: true, subtree: true});
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--machines", type=int, default=20)
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--heartbeat", type=float, default=2.0,
                        help="seconds between two heartbeats of each machine while measuring (companion default: 2)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp))
        try:
            room = server.create_room("bench")
            agents = [FakeAgent(server, room, f"PC-{i:02d}") for i in range(args.machines)]
            for agent in agents:
                core.report()
                agent.heartbeat()
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1280, "height": 800}, locale="fr-FR")
                page.goto(server.url + "/")
                page.fill("#login-password", PASSWORD)
                page.click("#login-submit")
                page.wait_for_selector("body[data-view=rooms]")
                page.goto(f"{server.url}/#/room/{room}")
                page.wait_for_selector("body[data-live=on]")
                page.wait_for_selector(f".tile >> nth={args.machines - 1}")
                page.evaluate(OBSERVER)
                latencies = []
                stop = threading.Event()

                def beat() -> None:
                    # Every machine heart-beats, spread over the interval, as companions do.
                    while not stop.is_set():
                        for other in agents:
                            if stop.wait(args.heartbeat / len(agents)):
                                return
                            other.heartbeat()

                beater = threading.Thread(target=beat, daemon=True)
                beater.start()
                for n in range(args.events):
                    agent = agents[n % len(agents)]
                    event_id = str(uuid.uuid4())
                    sent = time.time()
                    agent.post("events", {"events": [{"id": event_id, "kind": "focus_lost", "at": _now(),
                                                      "title": "Discord", "process": "Discord.exe"}]})
                    page.wait_for_function(f"window.__seen[{event_id!r}] !== undefined", timeout=10000)
                    latencies.append(page.evaluate(f"window.__seen[{event_id!r}]") / 1000 - sent)
                    time.sleep(0.05)
                stop.set()
                beater.join(5)
                browser.close()
        finally:
            _stop(server.proc)

    ms = sorted(x * 1000 for x in latencies)
    p = lambda q: ms[min(len(ms) - 1, int(q * len(ms)))]  # noqa: E731
    print(f"focus_lost -> dashboard DOM, {args.machines} machines heart-beating every {args.heartbeat:g} s, {len(ms)} events: "
          f"p50 {p(0.50):.1f} ms, p95 {p(0.95):.1f} ms, max {ms[-1]:.1f} ms, mean {statistics.mean(ms):.1f} ms")


if __name__ == "__main__":
    main()
