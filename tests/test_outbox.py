"""The durable outbox: order, idempotence, threads, and survival of a kill -9."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from agent.outbox import Outbox


def test_put_peek_ack_order_and_kinds(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.sqlite")
    a = box.put("event", {"n": 1})
    b = box.put("event", {"n": 2, "é": "ü"})
    r = box.put("report", {"r": True}, item_id="rep-1")
    assert r == "rep-1"
    assert len(a) == 32 and a != b
    assert box.peek("event") == [(a, {"n": 1}), (b, {"n": 2, "é": "ü"})]
    assert box.peek("event", limit=1) == [(a, {"n": 1})]
    assert box.count() == 3 and box.count("event") == 2 and box.count("report") == 1
    box.ack([a, "unknown"])
    assert box.peek("event") == [(b, {"n": 2, "é": "ü"})]
    box.ack([])
    assert box.count() == 2


def test_same_id_twice_is_ignored(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.sqlite")
    box.put("event", {"v": 1}, item_id="x")
    box.put("event", {"v": 2}, item_id="x")
    assert box.peek("event") == [("x", {"v": 1})]


def test_reopen_keeps_items_and_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "o.sqlite"
    box = Outbox(path)
    box.put("event", {"k": "v"}, item_id="keep")
    box.close()
    again = Outbox(path)
    assert again.peek("event") == [("keep", {"k": "v"})]
    mode = again._db.execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_many_threads(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.sqlite")
    ids: list[str] = []
    lock = threading.Lock()

    def writer(n: int) -> None:
        for i in range(50):
            item = box.put("event", {"w": n, "i": i})
            with lock:
                ids.append(item)

    def acker(stop: threading.Event) -> None:
        while not stop.is_set():
            box.ack([i for i, _ in box.peek("event", 10)])

    stop = threading.Event()
    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    ack_thread = threading.Thread(target=acker, args=(stop,))
    ack_thread.start()
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    stop.set()
    ack_thread.join(30)
    remaining = box.peek("event", 1000)
    assert len(set(ids)) == 200
    assert {i for i, _ in remaining} <= set(ids)
    box.ack([i for i, _ in remaining])
    assert box.count() == 0


_WRITER = """
import sys, time
from pathlib import Path
from agent.outbox import Outbox
box = Outbox(Path(sys.argv[1]))
i = 0
while True:
    box.put("event", {"i": i}, item_id=f"id-{i}")
    print(i, flush=True)   # printed only after put returned: it must survive the kill
    i += 1
"""


def test_nothing_acknowledged_by_put_is_lost_on_kill_9(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite"
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(path)], stdout=subprocess.PIPE,
                            text=True, cwd=Path(__file__).resolve().parent.parent)
    confirmed: list[int] = []
    deadline = time.monotonic() + 20
    try:
        while len(confirmed) < 40 and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            confirmed.append(int(line))
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(10)
    assert len(confirmed) >= 40, "the writer did not start"
    stored = {item for item, _ in Outbox(path).peek("event", 100000)}
    assert {f"id-{i}" for i in confirmed} <= stored
