"""Durable ingest rate of the supervisor server: SQLite (one process) and PostgreSQL (one and two
processes on one database), side by side in one run.

For each backend: starts ``examroom serve`` (uvicorn; uvloop/httptools when installed) on free
ports - SQLite on a fresh file; PostgreSQL on a fresh database of a private cluster made with
Debian's binaries (tests/pg_support.py), or of ``--pg URL`` - enrols N machines, then P client
processes each keep C keep-alive connections busy posting for D seconds (with two server
processes, the connections alternate between them, as behind a load balancer). Every post is
answered only once durable: SQLite's group commit (WAL, synchronous=FULL), PostgreSQL's
committed transaction (synchronous_commit=on). Prints posts/s and p50/p99 per backend, then the
details per kind. The clients are raw asyncio sockets so that they leave the CPU to the servers
(all share this machine's cores).

    python bench/ingest.py                       # durable mix: event batches and reports only
    python bench/ingest.py --events-share 0.10   # the companion mix: 89 % heartbeats (in memory)
    python bench/ingest.py --backends sqlite --agents 1000

Figures (2-core VM, 2026-12-01, the machine busy with seven other engineers' test runs, load
average 10-18: each figure varies 2-5x between runs, compare the rows of one run), 200 agents
in one room, 64 connections, durable posts only:
    SQLite 1 process      460-760 posts/s, p99 240-560 ms
    PostgreSQL 1 process   85-430 posts/s, p99 0.6-2.6 s  (x0.15-0.82 of SQLite in the same run)
    PostgreSQL 2 processes 100-230 posts/s, p99 0.7-1.9 s
Before group commit and pipelining on PostgreSQL: 62 posts/s (one WAL flush per request, each
waiting for the previous one on the room's lock). Two processes do not add throughput in ONE
room: a room's event seq follows commit order, so its writes serialize on the room's lock
across processes; what they add is availability (either may die) and the dashboards' streams.

Figures of the SQLite-only version (2-core VM, 2026-11-22, quiet machine), default mix then,
200 agents, 64 connections: 4,300-5,500 posts/s, p99 90-110 ms; events and reports alone:
~2,450 posts/s (~7,400 events/s), p50 23 ms, p99 55 ms. Without uvloop/httptools: 800-1,500.
Heartbeats are held in memory and written on change (last_seen every 10 s); events and
reports are answered only after their commit.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing as mp
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-password"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(tmp: Path, port: int, db: str) -> subprocess.Popen:
    log = (tmp / f"server-{port}.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "agent", "serve", "--host", "127.0.0.1", "--port", str(port),
                             "--db", db, "--admin-password", PASSWORD],
                            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                            env=dict(os.environ, EXAMROOM_HOME=str(tmp / "home"),
                                     EXAMROOM_SERVER_HOME=str(tmp / "server-home")))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).ok:
                return proc
        except requests.RequestException:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("server did not start: " + (tmp / f"server-{port}.log").read_text(errors="replace")[-2000:])


def enrol(url: str, n: int) -> tuple[str, list[tuple[str, str]]]:
    session = requests.Session()
    sup = session.post(f"{url}/api/v1/login", json={"username": "admin", "password": PASSWORD}, timeout=10).json()
    room = session.post(f"{url}/api/v1/rooms", json={"name": "Bench"}, timeout=10,
                        headers={"Authorization": f"Bearer {sup['token']}"}).json()["code"]
    agents = []
    for i in range(n):
        mid = f"bench-{i:04d}"
        reply = session.post(f"{url}/api/v1/enroll", timeout=10, json={
            "room_code": room, "machine": {"id": mid, "hostname": f"PC-{i:03d}", "os": "windows"}}).json()
        agents.append((mid, reply["token"]))
    return sup["token"], agents


def _report(mid: str) -> dict:
    checks = [{"id": c, "title": c, "status": "ok", "summary": "fine"} for c in
              ("browser", "pdf_reader", "office_suite", "image_editor", "video_editor", "storage", "archive",
               "screen", "mouse", "bandwidth", "whitelist")]
    return {"schema": "examroom.report/1", "agent_version": "bench", "machine": {"id": mid, "hostname": mid,
            "os": "windows"}, "started_at": "2026-11-22T08:00:00Z", "finished_at": "2026-11-22T08:00:03Z",
            "status": "ok", "ready": True, "checks": checks}


def _request(path: str, token: str, body: dict) -> bytes:
    data = json.dumps(body).encode()
    return (f"POST /api/v1/{path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n").encode() + data


def _body(kind: str, mid: str) -> tuple[str, dict]:
    if kind == "heartbeat":
        return "heartbeat", {"interval_s": 2, "net": {"up": True, "latency_ms": 14.2},
                             "focus": {"exam": True, "title": "Pix - Certification", "process": "firefox"},
                             "forbidden": [], "companion_version": "0.1.0"}
    if kind == "events":
        return "events", {"events": [{"id": str(uuid.uuid4()), "kind": "net_up", "at": "2026-11-22T09:00:00Z",
                                      "down_s": 1.5} for _ in range(3)]}
    return "reports", _report(mid)


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    await reader.readexactly(length)
    return status


async def _connection(port: int, agents: list[tuple[str, str]], mix: list[str], until: float,
                      out: list[tuple[str, float, int]]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    rng = random.Random()
    try:
        while time.monotonic() < until:
            mid, token = rng.choice(agents)
            kind = rng.choice(mix)
            path, body = _body(kind, mid)
            started = time.perf_counter()
            writer.write(_request(path, token, body))
            status = await _read_response(reader)
            out.append((kind, time.perf_counter() - started, status))
    finally:
        writer.close()


def _client_process(ports: list[int], agents, mix, conns: int, start_at: float, seconds: float, queue) -> None:
    async def main() -> list:
        out: list = []
        await asyncio.sleep(max(0.0, start_at - time.time()))
        until = time.monotonic() + seconds
        await asyncio.gather(*(_connection(ports[n % len(ports)], agents, mix, until, out) for n in range(conns)))
        return out

    queue.put(asyncio.run(main()))


SCENARIOS = {"sqlite": ("SQLite, 1 process", "sqlite", 1), "pg1": ("PostgreSQL, 1 process", "pg", 1),
             "pg2": ("PostgreSQL, 2 processes", "pg", 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,pg1,pg2",
                        help="scenarios, in order: sqlite (1 process), pg1, pg2 (PostgreSQL, 1 or 2 processes)")
    parser.add_argument("--pg", metavar="URL", help="a PostgreSQL server to create the bench databases on "
                        "(postgresql://USER@HOST:PORT/postgres; default: a private cluster, Debian's binaries)")
    parser.add_argument("--agents", type=int, default=200, help="simulated machines (each enrolled)")
    parser.add_argument("--procs", type=int, default=2, help="client processes")
    parser.add_argument("--conns", type=int, default=32, help="keep-alive connections per client process")
    parser.add_argument("--seconds", type=float, default=8.0, help="measured duration per scenario (bounded)")
    parser.add_argument("--events-share", type=float, default=0.90, help="share of event batches (3 events)")
    parser.add_argument("--reports-share", type=float, default=0.10, help="share of crash-test reports")
    parser.add_argument("--server", help="only measure this already running server (its URL; admin password "
                        f"{PASSWORD!r})")
    args = parser.parse_args()
    seconds = min(args.seconds, 120.0)
    names = [n.strip() for n in args.backends.split(",") if n.strip()]
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        raise SystemExit(f"--backends: unknown {', '.join(unknown)} (choose among {', '.join(SCENARIOS)})")
    mix = (["events"] * round(100 * args.events_share) + ["reports"] * round(100 * args.reports_share))
    mix += ["heartbeat"] * max(0, 100 - len(mix))

    results: list[tuple[str, list]] = []
    if args.server:
        url = args.server.rstrip("/")
        results.append((url, _run(Path("."), "", 1, args, mix, seconds, existing=int(url.rsplit(":", 1)[1]))))
        return _print(results, seconds, args)
    with tempfile.TemporaryDirectory(prefix="examroom-bench-") as tmp, _postgres(args.pg, names) as new_pg_db:
        for name in names:
            label, backend, processes = SCENARIOS[name]
            where = Path(tmp) / name
            where.mkdir()
            db = str(where / "bench.sqlite3") if backend == "sqlite" else new_pg_db()
            print(f"... {label}: {args.agents} agents, {seconds:.0f} s", file=sys.stderr, flush=True)
            results.append((label, _run(where, db, processes, args, mix, seconds)))
    _print(results, seconds, args)


@contextlib.contextmanager
def _postgres(url: str | None, names: list[str]):
    """A function making a fresh PostgreSQL database for each scenario that needs one."""
    if not any(SCENARIOS[n][1] == "pg" for n in names):
        yield lambda: ""
        return
    import psycopg

    sys.path.insert(0, str(ROOT))
    cluster = None
    if url is None:
        from tests import pg_support

        reason = pg_support.why_not()
        if reason:
            raise SystemExit(f"PostgreSQL scenarios need a cluster: {reason} (or give --pg URL)")
        cluster = pg_support.start_cluster()
        url = cluster.url()

    def fresh() -> str:
        name = "bench_" + uuid.uuid4().hex[:12]
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return url.rsplit("/", 1)[0] + "/" + name

    try:
        yield fresh
    finally:
        if cluster is not None:
            cluster.stop()


def _run(tmp: Path, db: str, processes: int, args, mix: list[str], seconds: float,
         existing: int | None = None) -> list:
    ports = [existing] if existing else [free_port() for _ in range(processes)]
    procs: list[subprocess.Popen] = []
    try:
        for port in [] if existing else ports:  # one after the other: the first makes the schema and admin
            procs.append(start_server(tmp, port, db))
        _sup, agents = enrol(f"http://127.0.0.1:{ports[0]}", args.agents)
        queue: mp.Queue = mp.Queue()
        start_at = time.time() + 1.0
        workers = [mp.Process(target=_client_process, args=(ports, agents[i::args.procs] or agents, mix,
                                                             args.conns, start_at, seconds, queue))
                   for i in range(args.procs)]
        for w in workers:
            w.start()
        results = [queue.get(timeout=seconds + 60) for _ in workers]
        for w in workers:
            w.join(10)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(10)
    return [s for part in results for s in part]


def _print(results: list[tuple[str, list]], seconds: float, args) -> None:
    try:
        import uvloop  # noqa: F401
        loop = "uvloop"
    except ImportError:
        loop = "asyncio"
    try:
        import httptools  # noqa: F401
        http = "httptools"
    except ImportError:
        http = "h11"
    share = round(100 * (args.events_share + args.reports_share))
    print(f"examroom ingest bench: {args.agents} agents, {args.procs} client processes x {args.conns} connections, "
          f"{seconds:.0f} s per backend, {share} % durable posts (event batches of 3, reports), "
          f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, uvicorn loop={loop} http={http}")
    print("every event batch and report is answered once durable: SQLite WAL synchronous=FULL + group commit; "
          "PostgreSQL committed transaction (synchronous_commit=on)")
    print(f"{'backend':<26}{'posts/s':>9}{'durable/s':>11}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
    base = None
    for label, samples in results:
        lat = sorted(d for _, d, _ in samples)
        durable = sum(1 for k, _, status in samples if k != "heartbeat" and status < 400)
        errors = sum(1 for _, _, status in samples if status >= 400)
        rate = len(samples) / seconds
        base = base or durable / seconds or None
        ratio = f"  x{durable / seconds / base:.2f} of {results[0][0]}" if base and label != results[0][0] else ""
        print(f"{label:<26}{rate:>9,.0f}{durable / seconds:>11,.0f}{_q(lat, 0.50):>9.1f}{_q(lat, 0.99):>9.1f}"
              f"{errors:>8}{ratio}")
    for label, samples in results:
        print(f"{label}:")
        for kind in ("heartbeat", "events", "reports"):
            lat = sorted(d for k, d, _ in samples if k == kind)
            if lat:
                print(f"  {kind:<9} n={len(lat):>7}  {len(lat) / seconds:>7,.0f}/s  p50={_q(lat, 0.5):6.1f} ms  "
                      f"p99={_q(lat, 0.99):6.1f} ms  max={lat[-1] * 1000:6.1f} ms  "
                      f"mean={statistics.fmean(lat) * 1000:6.1f} ms")


def _q(lat: list[float], q: float) -> float:
    return lat[min(len(lat) - 1, int(q * len(lat)))] * 1000 if lat else float("nan")


if __name__ == "__main__":
    main()
