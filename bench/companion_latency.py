"""Latency from a focus change on the machine to the dashboard's SSE event, with N companions.

Real components: Xvfb + openbox, two python-xlib windows ("Pix - Certification" and
"Discord"), ``xdotool windowactivate``, N ``examroom companion --no-window`` processes (each
its own EXAMROOM_HOME / EXAMROOM_MACHINE_ID, all watching the same X display), the real
supervisor server, and an SSE client on ``/rooms/{code}/stream``. For each switch, the time
from just before ``xdotool`` to the arrival of each machine's ``focus_lost`` /
``focus_regained`` on the stream. Prints p50 / p95 / max.

    python bench/companion_latency.py [--companions 5] [--switches 20]
"""
from __future__ import annotations

import argparse
import json
import os
import queue
import statistics
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests  # noqa: E402

from tests.companion_support import (CompanionProcess, session_servers, wait_for,  # noqa: E402
                                     x_window)
from tests.support import xvfb  # noqa: E402


def sse_reader(url: str, out: queue.Queue, stop: threading.Event) -> None:
    try:
        with requests.get(url, stream=True, timeout=(5, 60)) as answer:
            kind = None
            for line in answer.iter_lines(decode_unicode=True):
                if stop.is_set():
                    return
                if line.startswith("event:"):
                    kind = line[6:].strip()
                elif line.startswith("data:") and kind == "event":
                    out.put((time.time(), json.loads(line[5:])))
    except requests.RequestException:
        if not stop.is_set():
            raise


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--companions", type=int, default=5)
    parser.add_argument("--switches", type=int, default=20)
    args = parser.parse_args()
    with session_servers() as (tmp, server, room, platform):
        companions: list[CompanionProcess] = []
        stop = threading.Event()
        latencies: list[float] = []
        detect: list[float] = []     # xdotool -> the event's own "at" (watcher + outbox write)
        deliver: list[float] = []    # "at" -> on the dashboard's stream (sender, server, SSE)
        try:
            with xvfb(window_manager=True) as display, \
                    x_window(display, "Pix - Certification", "firefox") as exam, \
                    x_window(display, "Discord", "Discord") as chat:
                env = {"DISPLAY": display}
                subprocess.run(["xdotool", "windowactivate", "--sync", str(exam)], env=env, check=True, timeout=10)
                for i in range(args.companions):
                    companions.append(CompanionProcess(tmp, f"bench-{i:02d}", server.url, room,
                                                       platform_url=platform.url, display=display))
                assert wait_for(lambda: len(server.machines(room)) == args.companions and all(
                    m["focus"] == "exam" for m in server.machines(room).values()), timeout=60), "companions not ready"
                token = server.api("/login", {"username": "admin", "password": server.password})["token"]
                events: queue.Queue = queue.Queue()
                threading.Thread(target=sse_reader, daemon=True,
                                 args=(f"{server.url}/api/v1/rooms/{room}/stream?token={token}", events, stop)).start()
                time.sleep(1.0)
                for n in range(args.switches):
                    target, kind = (chat, "focus_lost") if n % 2 == 0 else (exam, "focus_regained")
                    started = time.time()
                    subprocess.run(["xdotool", "windowactivate", str(target)], env=env, check=True, timeout=10)
                    seen: set[str] = set()
                    deadline = time.monotonic() + 10
                    while len(seen) < args.companions and time.monotonic() < deadline:
                        try:
                            at, data = events.get(timeout=0.5)
                        except queue.Empty:
                            continue
                        if data.get("kind") == kind and data["machine_id"] not in seen:
                            seen.add(data["machine_id"])
                            latencies.append((at - started) * 1000)
                            stamped = datetime.fromisoformat(data["at"].replace("Z", "+00:00")).timestamp()
                            detect.append((stamped - started) * 1000)
                            deliver.append((at - stamped) * 1000)
                    if len(seen) < args.companions:
                        print(f"switch {n}: only {len(seen)} of {args.companions} events arrived", file=sys.stderr)
                    time.sleep(0.3)
        finally:
            stop.set()
            for c in companions:
                c.cleanup()
    if not latencies:
        print("no measurement")
        return 1
    print(f"companions={args.companions} switches={args.switches} samples={len(latencies)}")
    print(f"focus change -> dashboard SSE: p50={statistics.median(latencies):.0f} ms "
          f"p95={percentile(latencies, 95):.0f} ms max={max(latencies):.0f} ms")
    print(f"  of which detection (X event -> recorded): p50={statistics.median(detect):.0f} ms "
          f"p95={percentile(detect, 95):.0f} ms; delivery (recorded -> SSE): "
          f"p50={statistics.median(deliver):.0f} ms p95={percentile(deliver, 95):.0f} ms")
    print(f"  load average during the run: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
