"""End to end: several companion processes against a real supervisor server.

The server is killed -9 and restarted mid-session; events produced meanwhile (a platform
outage and its end, a forbidden program starting and stopping) must reach the server
exactly once: the set of event ids each companion journalled equals the set the server
stores for that machine, with no duplicate. A companion killed -9 must show as ``lost``
within 10 s; SIGTERM sends ``companion_stopped`` and exits 0.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from core.kinds import kinds
from tests.companion_support import CompanionProcess, Platform, SupervisorServer, wait_for
from tests.support import free_port

# what the server raises itself (companion_lost/back...): never in a machine's own journal
SERVER_KINDS = kinds().server_only()

N = 3


def kinds(journal: list[dict]) -> list[str]:
    return [e["kind"] for e in journal]


@pytest.fixture()
def setup(tmp_path: Path):
    server = SupervisorServer(tmp_path, free_port())
    room = server.create_room("Salle 12")
    platform = Platform(free_port())
    companions: list[CompanionProcess] = []
    try:
        server.start()
        platform.start()
        yield server, room, platform, companions, tmp_path
    finally:
        for c in companions:
            c.cleanup()
        server.stop()
        platform.stop()


def test_nothing_lost_or_duplicated_across_a_server_kill(setup) -> None:
    server, room, platform, companions, tmp = setup
    for i in range(N):
        companions.append(CompanionProcess(tmp, f"pc-{i:02d}", server.url, room, platform_url=platform.url))
    assert wait_for(lambda: all(m["live"] == "online" for m in server.machines(room).values())
                    and len(server.machines(room)) == N, timeout=30), [c.log() for c in companions]

    # 1. platform outage while the server is up
    platform.stop()
    assert wait_for(lambda: all("net_down" in kinds(c.journal()) for c in companions), timeout=15)

    # 2. the server dies hard; meanwhile the outage ends and a forbidden program runs
    server.kill9()
    platform.start()
    assert wait_for(lambda: all("net_up" in kinds(c.journal()) for c in companions), timeout=15)
    fake = tmp / "bin" / "AnyDesk"          # a portable copy counts: exact name, any folder
    fake.parent.mkdir()
    shutil.copy(shutil.which("sleep"), fake)
    program = subprocess.Popen([str(fake), "60"])

    def ours(c: CompanionProcess) -> list[dict]:
        # only our fake: another program of the catalog may run on a CI machine
        return [e for e in c.journal() if e["kind"] == "forbidden_process" and e["pid"] == program.pid]
    try:
        assert wait_for(lambda: all(len(ours(c)) == 1 for c in companions), timeout=15)
    finally:
        program.kill()
        program.wait(10)
    assert wait_for(lambda: all(len(ours(c)) == 2 for c in companions), timeout=15)
    for c in companions:   # all kept on the machine while the server is away
        assert c.proc.poll() is None, c.log()

    # 3. the server comes back (same port, same database): everything is delivered
    server.start()

    def delivered() -> bool:
        stored = [e for e in server.events(room) if e["kind"] not in SERVER_KINDS]
        return {e["id"] for e in stored} >= {e["id"] for c in companions for e in c.journal()}

    assert wait_for(delivered, timeout=30), [c.log()[-2000:] for c in companions]

    # 4. one companion killed -9 shows as lost within 10 s; the others stop cleanly
    victim, *others = companions
    victim.kill9()
    killed_at = time.monotonic()
    assert wait_for(lambda: server.machines(room)[victim.machine_id]["live"] == "lost", timeout=10)
    assert time.monotonic() - killed_at <= 10.5
    for c in others:
        assert c.terminate() == 0, c.log()
        assert kinds(c.journal())[-1] == "companion_stopped"
        assert c.journal()[-1]["reason"] == "sigterm"

    # the final comparison: per machine, the server's ids are exactly the journal's ids, once each
    assert wait_for(delivered, timeout=15)
    events = server.events(room)
    counts = Counter(e["id"] for e in events)
    assert [i for i, n in counts.items() if n > 1] == []
    for c in companions:
        mine = {e["id"] for e in c.journal()}
        stored = {e["id"] for e in events if e["machine_id"] == c.machine_id and e["kind"] not in SERVER_KINDS}
        assert stored == mine, c.machine_id
        journal_kinds = kinds(c.journal())
        assert journal_kinds[0] == "companion_started"
        for kind in ("net_down", "net_up", "forbidden_process"):
            assert kind in journal_kinds
        anydesk = ours(c)
        assert [e["state"] for e in anydesk] == ["started", "stopped"], anydesk
        assert anydesk[0]["program"] == "AnyDesk" and anydesk[0]["category"] == "remote_control"
        net_up = next(e for e in c.journal() if e["kind"] == "net_up")
        assert net_up["down_s"] > 0
    assert any(e["kind"] == "companion_lost" and e["machine_id"] == victim.machine_id for e in events)
    for c in others:
        outbox = c.home / "outbox.sqlite"
        from agent.outbox import Outbox

        assert Outbox(outbox).count("event") == 0


def test_server_down_at_start_and_bad_room(setup) -> None:
    server, room, platform, companions, tmp = setup
    proc = subprocess.run(
        [sys.executable, "-m", "agent", "companion", "--server", server.url, "--room", "NOPE99", "--no-window",
         "--platform-url", platform.url, "--local-port", "0", "--lang", "en"],
        capture_output=True, text=True, timeout=30, env={**__import__("os").environ, "EXAMROOM_HOME": str(tmp / "bad")})
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "NOPE99" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr

    proc = subprocess.run([sys.executable, "-m", "agent", "companion", "--server", server.url, "--room", room,
                           "--exam-title", "Pix(", "--no-window"], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2 and "--exam-title" in proc.stderr and "Traceback" not in proc.stderr

    # a server that is down at start, and a companion stopped before it came back: what it
    # recorded stays in its outbox and is delivered by the next run, exactly once
    server.kill9()
    c = CompanionProcess(tmp, "late-01", server.url, room, platform_url=platform.url)
    companions.append(c)
    assert wait_for(lambda: "companion_started" in kinds(c.journal()), timeout=15), c.log()
    # it tried the server, failed, and is still running (not a fixed sleep: a loaded CI may be slow)
    assert wait_for(lambda: "unreachable" in c.log(), timeout=15), c.log()
    assert c.proc.poll() is None, c.log()
    assert c.terminate() == 0
    from agent.outbox import Outbox

    kept = Outbox(c.home / "outbox.sqlite").peek("event", 1000)      # all of it kept, in order
    assert [item for item, _ in kept] == [e["id"] for e in c.journal()]
    assert kinds(c.journal())[0] == "companion_started" and kinds(c.journal())[-1] == "companion_stopped"
    server.start()
    again = CompanionProcess(tmp, "late-01", server.url, room, platform_url=platform.url)
    companions.append(again)

    def stored_ids() -> set[str]:
        # companion_lost/back, companion_settings: the server's own events, not ones this machine recorded
        return {e["id"] for e in server.events(room) if e["machine_id"] == "late-01" and e["kind"] not in SERVER_KINDS}

    assert wait_for(lambda: len(again.journal()) > len(kept) and stored_ids() >= {e["id"] for e in again.journal()},
                    timeout=20), again.log()
    first_run = len(kept)
    assert kinds(again.journal())[first_run - 1:first_run + 1] == ["companion_stopped", "companion_started"]
    again.proc.send_signal(__import__("signal").SIGINT)             # Ctrl-C
    assert again.proc.wait(15) == 0
    assert again.journal()[-1]["kind"] == "companion_stopped" and again.journal()[-1]["reason"] == "interrupt"
    assert wait_for(lambda: stored_ids() == {e["id"] for e in again.journal()}, timeout=10), (
        again.journal(), server.events(room), again.log())
    events = [e for e in server.events(room) if e["machine_id"] == "late-01" and e["kind"] not in SERVER_KINDS]
    assert len(events) == len({e["id"] for e in events}) == len(again.journal())
