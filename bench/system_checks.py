"""How long the system checks take on this machine (run by hand, never in CI timing).

    python bench/system_checks.py [--storage DIR] [--rounds N]

Prints, per check, the median and worst duration over N rounds. The screen check runs
against the DISPLAY of the environment when there is one, else against a throw-away Xvfb.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from checks import archive, mouse, screen, storage  # noqa: E402
from checks.base import CheckContext, CheckOptions  # noqa: E402
from core.host import Host  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--storage", type=Path, default=None)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()

    def measure(display: str | None) -> None:
        host = Host.current()
        if display:
            host = dataclasses.replace(host, env=dict(host.env, DISPLAY=display))
        ctx = CheckContext(host=host, options=CheckOptions(storage=args.storage))
        for module in (storage, archive, screen, mouse):
            times, status = [], None
            for _ in range(args.rounds):
                start = time.perf_counter()
                status = module.run(ctx).status.value
                times.append((time.perf_counter() - start) * 1000)
            print(f"{module.CHECK_ID:8} {status:6} median {statistics.median(times):7.1f} ms"
                  f"   worst {max(times):7.1f} ms   ({args.rounds} rounds)")

    if os.environ.get("DISPLAY"):
        measure(os.environ["DISPLAY"])
        return
    from tests.support import xvfb

    with xvfb(1920, 1080) as display:
        measure(display)


if __name__ == "__main__":
    main()
