"""Ingest rate of ONE supervisor server process with N simulated agents on loopback.

Starts ``examroom serve`` (uvicorn; uvloop/httptools when installed) on a free port with a
fresh SQLite file, enrols N machines, then P client processes each keep C keep-alive
connections busy posting for D seconds: heartbeats (the companion's every-2-s post), plus
event batches and crash-test reports in the given shares. Every post is acknowledged only
after its group commit (synchronous=FULL), as in production. Prints posts/s and the
p50/p99/max latency, per kind. The clients are raw asyncio sockets so that they leave the
CPU to the server (both share this machine's cores).

    python bench/ingest.py --agents 200 --procs 2 --conns 32 --seconds 10

Figures (2-core VM, 2026-11-22, quiet machine; busy with other test runs in brackets),
default mix (89 % heartbeats, 10 % batches of 3 events, 1 % reports), 200 agents, 64
connections: 4,300-5,500 posts/s [3,450-3,850], p50 3-9 ms, p99 90-110 ms (the events and
reports: p50 ~50 ms, they wait for their group commit while heartbeats saturate the loop).
Events and reports alone (every post written and fsync'd): ~2,450 posts/s (~7,400 events/s),
p50 23 ms, p99 55 ms [~1,700 posts/s]. 1,000 agents, 32 connections: ~4,400 posts/s.
Without uvloop/httptools (asyncio + h11): 800-1,500 posts/s [busy machine].
Heartbeats are held in memory and written on change (last_seen every 10 s); events and
reports are answered only after their group commit.
"""
from __future__ import annotations

import argparse
import asyncio
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


def start_server(tmp: Path, port: int) -> subprocess.Popen:
    log = (tmp / "server.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "agent", "serve", "--host", "127.0.0.1", "--port", str(port),
                             "--db", str(tmp / "bench.sqlite3"), "--admin-password", PASSWORD],
                            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                            env=dict(os.environ, EXAMROOM_HOME=str(tmp / "home")))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).ok:
                return proc
        except requests.RequestException:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("server did not start: " + (tmp / "server.log").read_text(errors="replace")[-2000:])


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


def _client_process(port: int, agents, mix, conns: int, start_at: float, seconds: float, queue) -> None:
    async def main() -> list:
        out: list = []
        await asyncio.sleep(max(0.0, start_at - time.time()))
        until = time.monotonic() + seconds
        await asyncio.gather(*(_connection(port, agents, mix, until, out) for _ in range(conns)))
        return out

    queue.put(asyncio.run(main()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=200, help="simulated machines (each enrolled)")
    parser.add_argument("--procs", type=int, default=2, help="client processes")
    parser.add_argument("--conns", type=int, default=32, help="keep-alive connections per client process")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured duration (bounded)")
    parser.add_argument("--events-share", type=float, default=0.10)
    parser.add_argument("--reports-share", type=float, default=0.01)
    parser.add_argument("--server", help="an already running server URL (else one is started)")
    args = parser.parse_args()
    seconds = min(args.seconds, 120.0)

    with tempfile.TemporaryDirectory(prefix="examroom-bench-") as tmp:
        proc = None
        if args.server:
            url = args.server.rstrip("/")
            port = int(url.rsplit(":", 1)[1])
        else:
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            proc = start_server(Path(tmp), port)
        try:
            _sup, agents = enrol(url, args.agents)
            mix = (["events"] * round(100 * args.events_share) + ["reports"] * round(100 * args.reports_share))
            mix += ["heartbeat"] * (100 - len(mix))
            queue: mp.Queue = mp.Queue()
            start_at = time.time() + 1.0
            workers = [mp.Process(target=_client_process, args=(port, agents[i::args.procs] or agents, mix,
                                                                 args.conns, start_at, seconds, queue))
                       for i in range(args.procs)]
            for w in workers:
                w.start()
            results = [queue.get(timeout=seconds + 60) for _ in workers]
            for w in workers:
                w.join(10)
        finally:
            if proc is not None:
                proc.terminate()
                proc.wait(10)
        samples = [s for part in results for s in part]
        _print(samples, seconds, args)


def _print(samples: list[tuple[str, float, int]], seconds: float, args) -> None:
    errors = sum(1 for _, _, status in samples if status >= 400)
    print(f"examroom ingest bench: 1 server process, {args.agents} agents, {args.procs} client processes x "
          f"{args.conns} connections, {seconds:.0f} s, python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
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
    print(f"uvicorn loop={loop} http={http}; SQLite WAL synchronous=FULL, group commit")
    print(f"total: {len(samples)} posts, {len(samples) / seconds:,.0f} posts/s, {errors} errors (4xx/5xx)")
    for kind in ("heartbeat", "events", "reports", "all"):
        lat = sorted(d for k, d, _ in samples if kind in (k, "all"))
        if not lat:
            continue
        p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000  # noqa: E731
        print(f"  {kind:<9} n={len(lat):>7}  {len(lat) / seconds:>7,.0f}/s  p50={p(0.50):6.1f} ms  "
              f"p99={p(0.99):6.1f} ms  max={lat[-1] * 1000:6.1f} ms  mean={statistics.fmean(lat) * 1000:6.1f} ms")


if __name__ == "__main__":
    main()
