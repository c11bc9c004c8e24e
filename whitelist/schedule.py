"""Run many probes at once so the whole list takes about one timeout, whatever the list.

A fixed pool of N workers takes ``ceil(slow / N)`` timeouts when more than N hosts are black
holes (a firewall dropping packets): 50 black holes in a pool of 32 are two timeouts. Here a
probe holds one of ``FAST_SLOTS`` slots only while it is young; once it has run
``SLOW_AFTER`` seconds it is waiting on the network (a connect, a DNS answer, a silent
server) and gives its slot up, so the next URLs start at once. Slow probes wait side by
side, each in its own thread (mostly blocked on a socket: cheap), up to ``MAX_THREADS``.
The total is then about the slowest probe's own limit (one timeout) plus the fast work.
"""
from __future__ import annotations

import threading
import time
from collections import deque
from typing import Callable, TypeVar

T = TypeVar("T")
R = TypeVar("R")

FAST_SLOTS = 32        # probes doing real work at once (parsing, TLS handshakes)
SLOW_AFTER = 0.25      # seconds: a probe this old is waiting on the network, not working
MAX_THREADS = 1024     # a bound on threads even when every host is a black hole


def run_all(items: list[T], work: Callable[[T], R],
            progress: Callable[[int, int], None] = lambda done, total: None,
            *, fast_slots: int = FAST_SLOTS, slow_after: float = SLOW_AFTER,
            max_threads: int = MAX_THREADS) -> list[R]:
    """``[work(item) for item in items]`` run concurrently; results in the order of ``items``.
    ``work`` must not raise. ``progress(done, total)`` is called from the caller's thread."""
    total = len(items)
    results: dict[int, R] = {}
    started: dict[int, float] = {}          # running probes: index -> start time
    pending = deque(range(total))
    changed = threading.Condition()
    progress(0, total)

    def runner(index: int) -> None:
        result = work(items[index])
        with changed:
            results[index] = result
            del started[index]
            changed.notify()

    reported = 0
    with changed:
        while pending or started:
            now = time.monotonic()
            young = sum(1 for at in started.values() if now - at < slow_after)
            while pending and young < fast_slots and len(started) < max_threads:
                index = pending.popleft()
                started[index] = now
                young += 1
                threading.Thread(target=runner, args=(index,), name=f"probe-{index}", daemon=True).start()
            if len(results) != reported:
                reported = len(results)
                changed.release()  # the callback may print: never while holding the lock
                try:
                    progress(reported, total)
                finally:
                    changed.acquire()
                continue
            # Wake when a probe ends, or when the oldest young one turns slow (frees a slot).
            ages = [now - at for at in started.values() if now - at < slow_after]
            wait = (slow_after - max(ages)) if ages and pending else 0.5
            changed.wait(max(0.005, wait))
    if reported != total:
        progress(total, total)
    return [results[i] for i in range(total)]
