"""Action -> server event latency, by the extension path and by the window path, and the
footprint of the companion, its native host and the extension, in one run.

Real components (tests/extension_support.Room): Xvfb + openbox, a headed Chromium with the
examroom extension and its native messaging host, a companion process, the supervisor
server; an SSE client on the room's stream receives the events.
- extension path: the candidate switches tabs, exam <-> a webmail tab (same window; only
  the extension can tell the host);
- window path: the candidate switches windows, exam <-> a "Discord" window (X11 watcher).
Each latency runs from just before the action to the event's arrival on the stream; it
includes the companion's settle time (companion/session.py SETTLE_S), by design.
Footprint: resident memory and CPU time over the run of the companion, the native host and
the extension's own renderer process (Chromium's ``--extension-process``).

    python bench/extension_latency.py [--switches 10]
"""
from __future__ import annotations

import argparse
import queue
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psutil  # noqa: E402
from playwright import sync_api  # noqa: E402

from bench.companion_latency import percentile, sse_reader  # noqa: E402
from companion.session import SETTLE_S  # noqa: E402
from tests.companion_support import x_window  # noqa: E402
from tests.extension_support import Room, xdo  # noqa: E402
from tests.support import xvfb  # noqa: E402


SEEN: list[str] = []


def drain(events: queue.Queue) -> None:
    while not events.empty():
        SEEN.append("(late) " + events.get()[1].get("kind", "?"))


def wait_kind(events: queue.Queue, kinds: tuple[str, ...], timeout: float = 10.0) -> float | None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            arrived, data = events.get(timeout=max(0.01, deadline - time.time()))
        except queue.Empty:
            return None
        if data.get("kind") in kinds:
            SEEN.append(f"{data['kind']}:{data.get('details', {}).get('category')}")
            return arrived
    return None


def footprint(procs: list[psutil.Process]) -> tuple[float, float]:
    rss = cpu = 0.0
    for proc in procs:
        try:
            rss += proc.memory_info().rss
            times = proc.cpu_times()
            cpu += times.user + times.system
        except psutil.Error:
            pass
    return rss / 2**20, cpu


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--switches", type=int, default=10)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="examroom-extbench-"))
    with xvfb(1280, 800, window_manager=True) as display:
        room = Room(display, tmp, sync_api)
        stop = threading.Event()
        try:
            room.wait_event(lambda e: e["kind"] == "extension_connected", timeout=30)
            events: queue.Queue = queue.Queue()
            token = room.server.api("/login", {"username": "admin", "password": room.server.password})["token"]
            url = f"{room.server.url}/api/v1/rooms/{room.room}/stream?token={token}"
            threading.Thread(target=sse_reader, args=(url, events, stop), daemon=True).start()
            room.front(room.exam)
            room.exam.evaluate("startCertification()")
            assert wait_kind(events, ("exam_started",)), "no exam_started on the stream"
            mail = room.context.new_page()
            mail.goto(f"http://mail.example-webmail.test:{room.port}/")
            room.front(room.exam)
            time.sleep(1.5)
            while not events.empty():
                events.get()
            companion = psutil.Process(room.companion.proc.pid)
            browser = psutil.Process(room.browser_pid)
            host = [p for p in browser.children(recursive=True) if "companion.nativehost" in " ".join(p.cmdline())]
            ext = [p for p in browser.children(recursive=True) if "--extension-process" in p.cmdline()]
            start = {"companion": footprint([companion])[1], "host": footprint(host)[1], "ext": footprint(ext)[1]}
            started = time.time()

            ext_path: list[float] = []
            for i in range(args.switches * 2):
                page = mail if i % 2 == 0 else room.exam
                drain(events)
                t0 = time.time()
                page.bring_to_front()
                arrived = wait_kind(events, ("focus_lost", "focus_moved", "focus_regained"))
                if arrived:
                    ext_path.append(arrived - t0)
                time.sleep(0.5)
            win_path: list[float] = []
            with x_window(display, "Discord", "Discord") as chat:
                chrome = room.browser_window()
                for i in range(args.switches * 2):
                    target = chat if i % 2 == 0 else chrome
                    drain(events)
                    t0 = time.time()
                    xdo(display, "windowactivate", str(target))
                    arrived = wait_kind(events, ("focus_lost", "focus_moved", "focus_regained"))
                    if arrived:
                        win_path.append(arrived - t0)
                    time.sleep(0.5)
            elapsed = time.time() - started
            used = {"companion": footprint([companion]), "host": footprint(host), "ext": footprint(ext)}
        finally:
            stop.set()
            room.close()

    def line(name: str, values: list[float]) -> str:
        ms = [v * 1000 for v in values]
        return (f"{name:16s} n={len(ms):3d}  p50 {statistics.median(ms):6.0f} ms  p95 {percentile(ms, 95):6.0f} ms"
                f"  max {max(ms):6.0f} ms") if ms else f"{name:16s} no event arrived"

    print("events:", " ".join(SEEN))
    print(f"action -> server event (SSE), settle time {SETTLE_S * 1000:.0f} ms included")
    print(line("extension path", ext_path))
    print(line("window path", win_path))
    if ext_path and win_path:
        print(f"extension / window p50 ratio: {statistics.median(ext_path) / statistics.median(win_path):.2f}")
    for name, label in (("companion", "companion"), ("host", "native host"), ("ext", "extension renderer")):
        rss, cpu = used[name]
        print(f"{label:20s} RSS {rss:6.1f} MiB   CPU {100 * (cpu - start[name]) / elapsed:5.2f} % of one core")
    return 0


if __name__ == "__main__":
    sys.exit(main())
