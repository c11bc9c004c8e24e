"""The probe scheduler: slow probes give up their slot, so black holes wait side by side
instead of in waves (issue 13: the whole list in about one timeout)."""
from __future__ import annotations

import threading

from tests.netservers import HangServer, HttpServer
from whitelist.probe import ProbeSettings, probe_all
from whitelist.schedule import run_all


def test_more_slow_items_than_slots_all_wait_at_the_same_time():
    slow, fast = 40, 200
    all_slow_waiting = threading.Barrier(slow + 1)
    seen_together = []

    def work(item: str) -> str:
        if item.startswith("slow"):
            try:
                # Released only when every slow item is waiting at once: a pool of 4 (or 32)
                # fixed workers would never get there.
                all_slow_waiting.wait(timeout=10)
                seen_together.append(item)
            except threading.BrokenBarrierError:
                pass
        return item.upper()

    items = [f"slow{i}" if i % 6 == 0 and i < 6 * slow else f"fast{i}" for i in range(slow + fast)]
    assert sum(i.startswith("slow") for i in items) == slow
    progress = []
    waiter = threading.Thread(target=lambda: all_slow_waiting.wait(timeout=10))
    waiter.start()
    results = run_all(items, work, lambda d, t: progress.append((d, t)), fast_slots=4, slow_after=0.05)
    waiter.join()
    assert results == [i.upper() for i in items]
    assert len(seen_together) == slow
    assert progress[0] == (0, len(items)) and progress[-1] == (len(items), len(items))
    assert [d for d, _ in progress] == sorted(d for d, _ in progress)


def test_run_all_of_nothing():
    assert run_all([], str) == []


def test_black_holes_all_probed_at_once():
    """50 hosts that never answer, among fast ones: all 50 connections are held at the same
    time (a fixed pool of 32 would hold at most 32) and each is a timeout."""
    site, hang = HttpServer({"*": "ok"}), HangServer()
    try:
        urls = [f"http://127.0.0.1:{site.port}/p{i}" for i in range(100)]
        urls[::3] = [f"http://127.0.0.1:{hang.port}/hole{i}" for i in range(len(urls[::3]))]
        holes = sum(1 for u in urls if "/hole" in u)
        assert holes > 32
        held_when = {}

        def watch(done: int, total: int) -> None:
            held_when[done] = len(hang.held)

        outcomes = probe_all(urls, ProbeSettings(timeout=2), watch)
        assert [o.reason for o in outcomes] == ["timeout" if "/hole" in u else "ok" for u in urls]
        assert hang.accepted == holes
        # When the fast URLs were all done (the holes end only at their timeout), every black
        # hole was already connected and waiting: none was queued behind the others.
        assert held_when[len(urls) - holes] == holes
    finally:
        site.close()
        hang.close()
