"""Whole-whitelist time against one timeout, and against ``xargs -P32 curl --max-time T``.

Loopback only: fast URLs on a threaded HTTP server, "black holes" on a server that accepts
and never answers (what a host swallowed by a firewall looks like to a client once the
connection is made). Both tools get the same list, in the same order, in one run.
The servers run in a child process, so they do not share the probe's interpreter (curl
does not either). Run by hand: ``python bench/whitelist_concurrency.py [TIMEOUT_S]`` (default
5, the check's own default).

Issue 13's targets: 1,000 URLs with 50 black holes <= 1.3 x timeout; 150 URLs with 10 slow
<= 1.1 x timeout, and no slower than curl.
"""
from __future__ import annotations

import multiprocessing
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.netservers import HangServer, HttpServer  # noqa: E402
from whitelist.probe import ProbeSettings, probe_all  # noqa: E402


def _serve(pipe) -> None:
    site, hang = HttpServer({"*": "ok"}), HangServer()
    pipe.send((site.port, hang.port))
    pipe.recv()  # until the parent is done
    site.close()
    hang.close()


def _urls(fast: int, slow: int, site_port: int, hang_port: int, seed: int) -> list[str]:
    urls = [f"http://127.0.0.1:{site_port}/page{i}" for i in range(fast)]
    urls += [f"http://127.0.0.1:{hang_port}/hole{i}" for i in range(slow)]
    random.Random(seed).shuffle(urls)  # black holes anywhere in the list, as in real lists
    return urls


def _ours(urls: list[str], timeout: float) -> tuple[float, int]:
    start = time.monotonic()
    outcomes = probe_all(urls, ProbeSettings(timeout=timeout))
    return time.monotonic() - start, sum(1 for o in outcomes if o.reason == "ok")


def _curl(urls: list[str], timeout: float) -> tuple[float, int] | None:
    if shutil.which("curl") is None:
        return None
    start = time.monotonic()
    done = subprocess.run(
        ["xargs", "-P32", "-n1", "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}\\n",
         "--noproxy", "*", "--max-time", f"{timeout:g}"],
        input="\n".join(urls), capture_output=True, text=True)
    return time.monotonic() - start, done.stdout.split().count("200")


def main() -> None:
    timeout = float(sys.argv[1]) if len(sys.argv) > 1 else 5.0
    here, there = multiprocessing.Pipe()
    servers = multiprocessing.Process(target=_serve, args=(there,), daemon=True)
    servers.start()
    site_port, hang_port = here.recv()
    print(f"timeout T = {timeout:g} s; ratios are wall time / T (targets: <= 1.3 and <= 1.1)")
    print(f"{'list':>26} {'examroom':>10} {'curl -P32':>10} {'examroom/curl':>14}")
    try:
        for fast, slow, target in ((950, 50, 1.3), (140, 10, 1.1)):
            urls = _urls(fast, slow, site_port, hang_port, seed=fast)
            ours, ok = _ours(urls, timeout)
            theirs = _curl(urls, timeout)
            label = f"{fast + slow} URLs, {slow} black holes"
            curl_text = f"{theirs[0] / timeout:>9.2f}T" if theirs else f"{'-':>10}"
            vs = f"{ours / theirs[0]:>14.2f}" if theirs else f"{'-':>14}"
            print(f"{label:>26} {ours / timeout:>9.2f}T {curl_text} {vs}   (ok {ok}/{fast}, target {target})")
    finally:
        here.send("stop")
        servers.join(10)


if __name__ == "__main__":
    main()
