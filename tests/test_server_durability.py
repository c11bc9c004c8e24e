"""Nothing acknowledged is lost: SIGKILL the server in the middle of a flood of event batches.

Four agents post batches concurrently over real HTTP; the server (real uvicorn, real SQLite
in WAL mode with synchronous=FULL and group commit, or a real PostgreSQL where a 200 means a
committed transaction) is killed -9 while they do. After a restart on the same database, every
batch that had been answered 200 is there; replaying every batch, as agents do with their
outboxes, stores each event exactly once.
"""
from __future__ import annotations

import threading
import time

import requests

from tests.server_support import LiveServer, event


def test_acknowledged_batches_survive_a_kill_during_ingest(tmp_path, store_url):
    server = LiveServer(tmp_path, db=store_url).start()
    try:
        sup = server.login()
        room = server.create_room(sup)
        tokens = [server.enroll(room, f"m{i}") for i in range(4)]
        acked: list[str] = []
        sent: list[tuple[dict, list[dict]]] = []
        lock = threading.Lock()
        stop = threading.Event()

        def agent(token: dict) -> None:
            session = requests.Session()
            while not stop.is_set():
                batch = [event("net_down" if n % 2 else "net_up", down_s=n) for n in range(5)]
                with lock:
                    sent.append((token, batch))
                try:
                    reply = session.post(f"{server.url}/api/v1/events", json={"events": batch}, headers=token,
                                         timeout=5)
                except requests.RequestException:
                    return  # the server is gone
                if reply.status_code == 200:
                    with lock:
                        acked.extend(e["id"] for e in batch)

        threads = [threading.Thread(target=agent, args=(t,)) for t in tokens]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 20
        while len(acked) < 400 and time.monotonic() < deadline:
            time.sleep(0.05)
        server.kill()
        stop.set()
        for thread in threads:
            thread.join(10)
        assert len(acked) >= 400, "the flood did not get going"

        server.start()
        sup = server.login()
        stored = _all_event_ids(server, sup, room)
        assert set(acked) <= set(stored), f"{len(set(acked) - set(stored))} acknowledged events lost"
        assert len(stored) == len(set(stored))

        # Replay everything, acknowledged or not: each event ends up stored exactly once.
        total_new = total_dup = 0
        for token, batch in sent:
            reply = server.post("/events", token, {"events": batch}).json()
            total_new, total_dup = total_new + reply["stored"], total_dup + reply["duplicates"]
        unique = {e["id"] for _, batch in sent for e in batch}
        assert total_new + total_dup == len(unique)
        assert sorted(_all_event_ids(server, sup, room)) == sorted(unique)
    finally:
        server.stop()


def _all_event_ids(server: LiveServer, sup: dict, room: str) -> list[str]:
    ids: list[str] = []
    after = 0
    while True:
        page = server.get(f"/rooms/{room}/events", sup, after=after, limit=5000).json()
        if not page:
            return ids
        ids.extend(e["id"] for e in page)
        after = page[-1]["seq"]

