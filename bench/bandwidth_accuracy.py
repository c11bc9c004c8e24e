"""Bandwidth figure against the true rate of a paced loopback server, for a few rates.
Run by hand: ``python bench/bandwidth_accuracy.py [SECONDS]``."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from checks.bandwidth import measure  # noqa: E402
from tests.netservers import RateLimitedServer  # noqa: E402
from whitelist.probe import ProbeSettings  # noqa: E402


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0
    print(f"{'rate Mbit/s':>12} {'measured':>9} {'error %':>8} {'bytes':>10}")
    for rate in (1, 2, 8, 16, 50, 100):
        server = RateLimitedServer(rate * 1e6)
        try:
            result = measure(server.url, ProbeSettings(timeout=5), max_seconds=seconds)
        finally:
            server.close()
        error = (result.mbps - rate) / rate * 100
        print(f"{rate:>12} {result.mbps:>9.2f} {error:>+8.1f} {result.received:>10}")


if __name__ == "__main__":
    main()
