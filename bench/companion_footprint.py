"""Footprint of one ``examroom companion --no-window``: RSS and CPU over a minute.

Real components: the supervisor server, a loopback platform URL, the companion process with
its default intervals (heartbeat 2 s, process scan 0.5 s, platform probe 3 s) on this machine's
real process list. CPU is the process's user+system time over the wall time after a 5 s
warm-up. Aim: < 60 MiB RSS, < 1 % of one core.

    python bench/companion_footprint.py [--seconds 60]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psutil  # noqa: E402

from tests.companion_support import REPO, session_servers, wait_for  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    with session_servers() as (tmp, server, room, platform):
        env = dict(os.environ, EXAMROOM_HOME=str(tmp / "home"), EXAMROOM_MACHINE_ID="footprint")
        env.pop("DISPLAY", None)
        proc = subprocess.Popen([sys.executable, "-m", "agent", "companion", "--server", server.url, "--room", room,
                                 "--no-window", "--platform-url", platform.url, "--local-port", "0"],
                                env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            assert wait_for(lambda: server.machines(room).get("footprint", {}).get("live") == "online", timeout=30)
            me = psutil.Process(proc.pid)
            time.sleep(5)
            cpu0, wall0 = sum(me.cpu_times()[:2]), time.monotonic()
            peak = 0
            while time.monotonic() - wall0 < args.seconds:
                peak = max(peak, me.memory_info().rss)
                time.sleep(1)
            cpu1, wall1 = sum(me.cpu_times()[:2]), time.monotonic()
            rss = me.memory_info().rss
            threads = me.num_threads()
            live = server.machines(room)["footprint"]["live"]
        finally:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:   # never leave a companion behind
                proc.kill()
                proc.wait(10)
    cpu_pct = (cpu1 - cpu0) / (wall1 - wall0) * 100
    print(f"companion --no-window over {wall1 - wall0:.0f} s: RSS {rss / 2**20:.1f} MiB (peak {peak / 2**20:.1f} MiB), "
          f"CPU {cpu_pct:.2f} % of one core, {threads} threads, {len(psutil.pids())} processes scanned, "
          f"live={live}, exit={proc.returncode}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
