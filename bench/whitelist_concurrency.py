"""How much the bounded probe pool saves: N loopback URLs whose server waits 200 ms before
answering, probed by ``probe_all`` (wall time) against the sum of each probe's own time
(what a one-by-one probe would take). Run by hand: ``python bench/whitelist_concurrency.py``.
Then 150 URLs of which 5 hang (accept, never answer) with a 5 s timeout: the wall time
should be about one timeout, not five.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.netservers import DnsServer, HangServer, HttpServer  # noqa: E402
from whitelist import probe as probe_module  # noqa: E402
from whitelist.probe import MAX_WORKERS, ProbeSettings, probe_all  # noqa: E402
from whitelist.resolve import Resolver  # noqa: E402

DELAY_S = 0.2


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [10, 100, 1000]
    dns = DnsServer({f"site{i}.bench.test": "127.0.0.1" for i in range(max(sizes))})
    server = HttpServer({"*": "ok"}, delay=DELAY_S)
    durations: list[float] = []
    original = probe_module.probe

    def timed(url, settings):
        start = time.monotonic()
        try:
            return original(url, settings)
        finally:
            durations.append(time.monotonic() - start)

    probe_module.probe = timed
    settings = ProbeSettings(timeout=10, resolver=Resolver(dns.address))
    print(f"pool of {MAX_WORKERS} workers, server delay {DELAY_S * 1000:.0f} ms per request")
    print(f"{'N':>6} {'wall s':>8} {'sum s':>8} {'ratio':>7} {'ok':>6}")
    try:
        for n in sizes:
            durations.clear()
            urls = [f"http://site{i}.bench.test:{server.port}/" for i in range(n)]
            start = time.monotonic()
            outcomes = probe_all(urls, settings)
            wall = time.monotonic() - start
            total = sum(durations)
            ok = sum(1 for o in outcomes if o.reason == "ok")
            print(f"{n:>6} {wall:>8.2f} {total:>8.2f} {total / wall:>7.1f} {ok:>6}")
        hang, timeout = HangServer(), 5.0
        urls = [f"http://site{i}.bench.test:{server.port}/" for i in range(145)]
        urls += [f"http://127.0.0.1:{hang.port}/hung{i}" for i in range(5)]
        durations.clear()
        start = time.monotonic()
        outcomes = probe_all(urls, ProbeSettings(timeout=timeout, resolver=Resolver(dns.address)))
        wall = time.monotonic() - start
        hung = sum(1 for o in outcomes if o.reason == "timeout")
        print(f"150 URLs, {hung} hung, timeout {timeout:g} s: wall {wall:.2f} s "
              f"(= {wall / timeout:.2f} timeouts), sequential sum {sum(durations):.2f} s")
        hang.close()
    finally:
        probe_module.probe = original
        server.close()
        dns.close()


if __name__ == "__main__":
    main()
