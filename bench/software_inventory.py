#!/usr/bin/env python3
"""How long the whole software inventory takes on this machine (run by hand, not in CI).

Each round builds a fresh ``Host.current()`` (the inventory is cached per Host), so every
round really scans: PATH look-ups and ``--version`` runs, every .desktop file of the XDG
data dirs (+ flatpak, snap), the dpkg status file, rpm when present. Prints the figures and
what was measured.

    python bench/software_inventory.py [ROUNDS]
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from checks.probes import Host  # noqa: E402
from checks.probes.software import inventory  # noqa: E402


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    times = []
    inv = None
    for _ in range(rounds):
        host = Host.current()
        started = time.perf_counter()
        inv = inventory(host)
        times.append(time.perf_counter() - started)
    assert inv is not None
    print(f"software inventory on {Host.current().os} ({Host.current().os_version}), {rounds} rounds:")
    print(f"  median {statistics.median(times) * 1000:.0f} ms, min {min(times) * 1000:.0f} ms, "
          f"max {max(times) * 1000:.0f} ms")
    print("  measured (last round): " + ", ".join(f"{k}={v:g}" for k, v in sorted(inv.stats.items())
                                                  if k != "seconds"))
    print("  found: " + (", ".join(f"{p.name} {p.version or '?'}" for p in inv.programs) or "nothing"))


if __name__ == "__main__":
    main()
