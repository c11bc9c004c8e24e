"""How long `examroom check --gui` takes to show its verdict, under Xvfb + openbox.

    python bench/window_start.py [RUNS]

Times, from the command's start: the window mapped (its title appears), and the verdict in
the title (checks done, report page loaded). Runs `--only screen,mouse` so that the figure
is the window's cost, not the checks'. Needs Xvfb, openbox, xdotool and pywebview[qt].
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support import xvfb  # noqa: E402


def wait_title(env: dict[str, str], pattern: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", pattern], env=env,
                             capture_output=True, text=True, timeout=20).stdout.split()
        if out:
            return out[-1]
        time.sleep(0.05)
    raise RuntimeError(f"no window {pattern!r}")


def one_run(display: str, home: str) -> tuple[float, float]:
    env = dict(os.environ, DISPLAY=display, EXAMROOM_HOME=home, EXAMROOM_MACHINE_ID="bench")
    start = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "agent", "check", "--gui", "--only", "screen,mouse",
                             "--lang", "fr"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        wait_title(env, "examroom")
        mapped = time.monotonic() - start
        window = wait_title(env, "Poste .* : ")
        verdict = time.monotonic() - start
        subprocess.run(["xdotool", "windowactivate", "--sync", window, "key", "alt+F4"], env=env, timeout=20)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    return mapped, verdict


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    mapped, verdict = [], []
    with tempfile.TemporaryDirectory() as home, xvfb(1280, 900, window_manager=True) as display:
        for _ in range(runs):
            m, v = one_run(display, home)
            mapped.append(m)
            verdict.append(v)
    print(f"{runs} runs: window mapped after {statistics.median(mapped):.2f} s (median, max {max(mapped):.2f}); "
          f"verdict shown after {statistics.median(verdict):.2f} s (median, max {max(verdict):.2f})")


if __name__ == "__main__":
    main()
