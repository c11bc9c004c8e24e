#!/usr/bin/env python3
"""How long the whole software inventory takes on this machine, against its lower bound
(run by hand, not in CI).

Each round builds a fresh ``Host.current()`` (the inventory is cached per Host), so every
round really scans: PATH look-ups, package databases (dpkg status and file lists, rpm when
present), every .desktop file of the XDG data dirs (+ flatpak, snap), and ``--version`` only
for programs no package or metadata names (those outputs are cached by path, size and mtime
in the state directory: ``--cold`` empties that cache before each round).

The lower bound, measured in the same run: ``dpkg-query -W`` (the package database, as fast
as dpkg itself lists it) plus reading every .desktop file once. Printed as a ratio.

    python bench/software_inventory.py [ROUNDS] [--cold]
"""
from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.host import Host  # noqa: E402
from checks.probes.xdg import data_dirs  # noqa: E402
from checks.probes.software import inventory  # noqa: E402


def lower_bound(host: Host) -> float:
    started = time.perf_counter()
    if shutil.which("dpkg-query"):
        subprocess.run(["dpkg-query", "-W"], capture_output=True, check=False)
    for _source, folder in data_dirs(host):
        apps = folder / "applications"
        if apps.is_dir():
            for path in apps.rglob("*.desktop"):
                path.read_bytes()
    return time.perf_counter() - started


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    cold = "--cold" in sys.argv
    rounds = int(args[0]) if args else 7
    home = tempfile.mkdtemp(prefix="examroom-bench-")
    os.environ["EXAMROOM_HOME"] = home  # the version cache of this run, not the user's
    times, bounds = [], []
    inv = None
    try:
        for _ in range(rounds):
            if cold:
                for f in Path(home).glob("version_cache*"):
                    f.unlink()
            host = Host.current()
            bounds.append(lower_bound(host))
            started = time.perf_counter()
            inv = inventory(host)
            times.append(time.perf_counter() - started)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    assert inv is not None
    median, bound = statistics.median(times), statistics.median(bounds)
    print(f"software inventory on {Host.current().os} ({Host.current().os_version}), {rounds} rounds"
          f"{' (cold version cache)' if cold else ''}:")
    print(f"  inventory: median {median * 1000:.0f} ms (min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f})")
    print(f"  lower bound (dpkg-query -W + reading the .desktop files): median {bound * 1000:.0f} ms")
    print(f"  ratio inventory / lower bound: {median / bound:.2f}")
    print("  measured (last round): " + ", ".join(f"{k}={v:g}" for k, v in sorted(inv.stats.items())
                                                  if k != "seconds"))
    print("  found: " + (", ".join(f"{p.name} {p.version or '?'}" for p in inv.programs) or "nothing"))


if __name__ == "__main__":
    main()
