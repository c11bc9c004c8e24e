"""Detection latency of a forbidden program: from its start to the companion's event.

Real processes: a copy of `sleep` named ``pidgin`` started N times; the companion's own
ForbiddenWatcher (incremental process list, as the companion runs it) in its thread, at the
old default scan interval (2 s) and at the new one (0.5 s). Prints median / p90 / max and the
ratio, measured in one run.

    python bench/forbidden_latency.py [--starts 15]
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from companion.processes import ForbiddenWatcher, load_catalog  # noqa: E402


def measure(interval_s: float, starts: int, fake: Path) -> list[float]:
    seen = threading.Event()
    started_at = {"t": 0.0}
    delays: list[float] = []

    def emit(ev) -> None:
        if ev.details.get("program") == "Pidgin" and ev.details.get("state") == "started":
            delays.append(time.monotonic() - started_at["t"])
            seen.set()

    watcher = ForbiddenWatcher(load_catalog("linux"), emit, interval_s=interval_s, me=-1)
    stop = threading.Event()
    thread = threading.Thread(target=watcher.run, args=(stop,), daemon=True)
    thread.start()
    try:
        for i in range(starts):
            time.sleep(0.37 * (i % 5) / 5 + 0.1)   # start at varied phases of the scan cycle
            seen.clear()
            started_at["t"] = time.monotonic()
            proc = subprocess.Popen([str(fake), "30"])
            if not seen.wait(10):
                print(f"  start {i}: not seen within 10 s", file=sys.stderr)
            proc.kill()
            proc.wait()
            # wait until the watcher saw it stop, so the next start is a new event
            deadline = time.monotonic() + 10
            while "Pidgin" in watcher.names() and time.monotonic() < deadline:
                time.sleep(0.02)
    finally:
        stop.set()
        thread.join(5)
    return delays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        fake = Path(tmp) / "pidgin"
        shutil.copy(shutil.which("sleep"), fake)
        results = {}
        for interval in (2.0, 0.5):
            delays = measure(interval, args.starts, fake)
            results[interval] = statistics.median(delays)
            ordered = sorted(delays)
            print(f"scan every {interval:.1f} s: median {statistics.median(delays) * 1000:.0f} ms, "
                  f"p90 {ordered[int(0.9 * (len(ordered) - 1))] * 1000:.0f} ms, max {ordered[-1] * 1000:.0f} ms "
                  f"({len(delays)} starts)")
        print(f"median ratio 0.5 s / 2 s: {results[0.5] / results[2.0]:.2f} (goal: median <= 1 s)")


if __name__ == "__main__":
    main()
