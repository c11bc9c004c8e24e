"""Per-machine quotas and a full disk, against a real ``examroom serve`` (issue 15, rows 3, 10).

Quotas: a machine over its reports-per-hour or events-per-minute quota gets a 429 with a
clear JSON body and Retry-After, the others are not affected. Disk full: the server's
database lives on a real 4 MB tmpfs (a private mount namespace, ``unshare``); once it is
full, agents get 503 + Retry-After + the JSON error body, the log says so in one line (no
traceback per write), everything acknowledged before is still there, and when space comes
back (a filler file removed inside the namespace) writes succeed again.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid

import pytest
import requests

from tests.server_support import PASSWORD, LiveServer, event, report
from tests.support import free_port


def test_quotas_per_machine_are_429_with_a_clear_body(tmp_path):
    server = LiveServer(tmp_path).start()
    try:
        sup = server.login()
        room = server.create_room(sup)
        greedy, calm = server.enroll(room, "greedy"), server.enroll(room, "calm")
        statuses = [server.post("/reports", greedy, report("greedy", ready=True)).status_code for _ in range(62)]
        assert statuses[:60] == [200] * 60 and statuses[60:] == [429, 429]
        refused = server.post("/reports", greedy, report("greedy", ready=True))
        assert refused.json()["code"] == "quota_exceeded" and refused.json()["detail"]["quota"] == "reports_per_hour"
        assert int(refused.headers["retry-after"]) > 0 and "reports per hour" in refused.json()["error"]
        assert server.post("/reports", calm, report("calm", ready=True)).status_code == 200
        for _ in range(3):
            batch = [event("focus_regained") for _ in range(1000)]
            assert server.post("/events", greedy, {"events": batch}).status_code == 200
        # The bucket drains 50 events a second: another full batch right away is over the quota.
        over = server.post("/events", greedy, {"events": [event("focus_regained") for _ in range(1000)]})
        assert over.status_code == 429 and over.json()["detail"]["quota"] == "events_per_minute"
        assert server.post("/events", calm, {"events": [event("focus_regained")]}).status_code == 200
    finally:
        server.stop()


def _need_namespaces() -> None:
    if not shutil.which("unshare") or not shutil.which("nsenter"):
        pytest.skip("needs unshare and nsenter (util-linux)")
    probe = subprocess.run(["unshare", "--mount", "true"], capture_output=True)
    if probe.returncode != 0:
        probe = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "true"], capture_output=True)
        if probe.returncode != 0:
            pytest.skip("cannot make a private mount namespace here (unshare --mount)")


def test_a_full_disk_is_503_with_retry_after_and_nothing_acknowledged_is_lost(tmp_path):
    _need_namespaces()
    disk = tmp_path / "disk"
    disk.mkdir()
    port = free_port()
    log = tmp_path / "server.log"
    prefix = ["unshare", "--mount"] if os.geteuid() == 0 else ["unshare", "--user", "--map-root-user", "--mount"]
    script = (f"mount -t tmpfs -o size=4m tmpfs {disk} && head -c 3200000 /dev/zero > {disk}/filler && "
              f"exec {sys.executable} -m agent serve --host 127.0.0.1 --port {port} --db {disk}/db.sqlite3")
    with log.open("wb") as out:
        proc = subprocess.Popen([*prefix, "sh", "-c", script], stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, "EXAMROOM_ADMIN_PASSWORD": PASSWORD})
    url = f"http://127.0.0.1:{port}/api/v1"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                requests.get(url + "/health", timeout=1)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
        sup = {"Authorization": "Bearer " + requests.post(url + "/login", json={
            "username": "admin", "password": PASSWORD}, timeout=10).json()["token"]}
        room = requests.post(url + "/rooms", json={"name": "Salle pleine"}, headers=sup, timeout=10).json()["code"]
        enrolled = requests.post(url + "/enroll", json={"room_code": room, "machine": {
            "id": "m1", "hostname": "PC-1", "os": "linux"}}, timeout=10).json()
        mach = {"Authorization": f"Bearer {enrolled['token']}"}
        acknowledged: list[str] = []
        full = None
        for _ in range(200):
            batch = [event("focus_lost", title="x" * 1900, process=uuid.uuid4().hex * 40) for _ in range(50)]
            reply = requests.post(url + "/events", json={"events": batch}, headers=mach, timeout=30)
            if reply.status_code == 200:
                acknowledged += [e["id"] for e in batch]
                continue
            full = reply
            break
        assert full is not None, "the 4 MB disk never filled"
        assert full.status_code == 503, (full.status_code, full.text[:300])
        assert full.headers["content-type"].startswith("application/json") and full.json()["code"] == "disk_full"
        assert int(full.headers["retry-after"]) > 0 and "content-security-policy" in full.headers
        for _ in range(3):  # more refusals: still 503, still one log line
            batch = [event("focus_lost", title="x" * 1900, process=uuid.uuid4().hex * 40) for _ in range(50)]
            assert requests.post(url + "/events", json={"events": batch}, headers=mach, timeout=30).status_code == 503
        text = log.read_text(errors="replace")
        assert text.count("disk full") == 1 and "Traceback" not in text, text[-3000:]
        stored = {e["id"] for e in requests.get(url + f"/rooms/{room}/events", params={"limit": 5000},
                                                headers=sup, timeout=30).json()}
        assert set(acknowledged) <= stored
        # Space comes back: the same kind of write succeeds again.
        subprocess.run(["nsenter", "-t", str(proc.pid), "-m", "rm", "-f", f"{disk}/filler"], check=True)
        retry = [event("net_down")]
        deadline = time.monotonic() + 30
        while requests.post(url + "/events", json={"events": retry}, headers=mach, timeout=30).status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.5)
        assert retry[0]["id"] in {e["id"] for e in requests.get(url + f"/rooms/{room}/events", params={
            "limit": 5000}, headers=sup, timeout=30).json()}
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def test_the_byte_quota_counts_the_bytes_kept_and_survives_a_restart(tmp_path, store_url):
    """``--machine-quota-mb``: what the database keeps for a machine (reports and event details
    as stored), not a rate: a restart does not reset it, duplicates do not count."""
    server = LiveServer(tmp_path, db=store_url, args=("--machine-quota-mb", "0.1")).start()  # 104,857 bytes
    try:
        sup = server.login()
        room = server.create_room(sup)
        greedy, calm = server.enroll(room, "greedy"), server.enroll(room, "calm")
        assert server.post("/reports", greedy, report("greedy", ready=True)).status_code == 200
        sent, refused = [], None
        for _ in range(40):
            batch = [event("focus_regained", title="é" * 900) for _ in range(5)]  # stored as \\u00e9: 6 bytes each
            reply = server.post("/events", greedy, {"events": batch})
            if reply.status_code != 200:
                refused = reply
                break
            sent += batch
            assert server.post("/events", greedy, {"events": batch}).json()["duplicates"] == 5  # a replay is free
        assert refused is not None and refused.status_code == 429, "the quota never refused"
        body = refused.json()
        assert body["code"] == "quota_exceeded" and body["detail"]["quota"] == "bytes_kept"
        assert body["detail"]["limit"] == 104857 and int(refused.headers["retry-after"]) > 0
        kept = server.sql("SELECT bytes FROM machine_bytes WHERE machine_id = 'greedy'")[0][0]
        stored = server.sql("SELECT (SELECT SUM(length(details)) FROM events WHERE machine_id = 'greedy') + "
                            "(SELECT SUM(length(body)) FROM reports WHERE machine_id = 'greedy')")[0][0]
        assert kept == stored == body["detail"]["kept"] and 104_857 - 5 * 5_500 < kept <= 104_857
        assert len(sent) == len(server.get(f"/rooms/{room}/events", sup, limit=5000).json())
        assert server.post("/events", calm, {"events": [event("focus_regained")]}).status_code == 200

        server.stop()
        server.start()  # the bytes kept come from the database, not from memory
        again = server.post("/events", greedy, {"events": [event("focus_regained", title="x" * 1000) for _ in range(30)]})
        assert again.status_code == 429 and again.json()["detail"]["quota"] == "bytes_kept"
        assert again.headers["content-type"].startswith("application/json") and "retry-after" in again.headers
        big = report("greedy", ready=True)
        big["checks"][0]["summary"] = "x" * 15_000  # 30 kB with the remediation: over what is left
        big["checks"][0]["remediation"] = "y" * 15_000
        assert server.post("/reports", greedy, big).status_code == 429
        assert server.post("/reports", calm, report("calm", ready=True)).status_code == 200
    finally:
        server.stop()
