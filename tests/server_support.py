"""Helpers for the server tests: a real ``examroom serve`` subprocess, logins, reports.

The server runs as ``python -m agent serve`` (uvicorn) on a free loopback port with its own
SQLite file, exactly as a school would run it, or on a PostgreSQL database (``db=`` a URL, from
the ``store_url`` / ``pg_url`` fixtures of tests/conftest.py); tests talk to it over real HTTP.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support import free_port

PASSWORD = "correct horse battery staple"


class LiveServer:
    def __init__(self, tmp: Path, *, args: tuple[str, ...] = (), scheme: str = "http",
                 verify: Any = True, env: dict[str, str] | None = None, db: str | None = None) -> None:
        self.tmp = tmp
        self.db = tmp / "server.sqlite3"
        self.db_url = db  # a PostgreSQL URL, or None: the SQLite file above
        self.backend = "postgresql" if db else "sqlite"
        self.log = tmp / "server.log"
        self.port = free_port()
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        self.args = args
        self.verify = verify
        self.env = env or {}
        self.proc: subprocess.Popen | None = None
        self.secrets: dict[tuple[str, str], str] = {}  # (room, machine id) -> its enrolment secret

    def start(self, timeout: float = 30.0) -> "LiveServer":
        # The password through the environment, as the README says (not visible in ps).
        env = {**os.environ, "EXAMROOM_HOME": str(self.tmp / "server-home"), "EXAMROOM_ADMIN_PASSWORD": PASSWORD,
               **self.env}
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "agent", "serve", "--host", "127.0.0.1", "--port", str(self.port),
                 "--db", self.db_url or str(self.db), *self.args],
                stdout=out, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"server exited with {self.proc.returncode}:\n{self.log_text()}")
            try:
                if requests.get(f"{self.url}/api/v1/health", timeout=1, verify=self.verify).ok:
                    return self
            except (requests.RequestException, OSError):  # OSError: a CA file the server has yet to make
                pass
            time.sleep(0.05)
        self.kill()  # a server that never answered is not left behind
        pytest.fail(f"server did not answer within {timeout} s:\n{self.log_text()}")

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs, as in a crash."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def sql(self, statement: str) -> list[tuple]:
        """Run SQL on the server's database, whichever backend (to look at or age what it stored)."""
        if self.db_url:
            import psycopg

            with psycopg.connect(self.db_url, autocommit=True) as conn:
                cur = conn.execute(statement)
                return cur.fetchall() if cur.description else []
        import sqlite3

        with sqlite3.connect(self.db) as conn:
            return conn.execute(statement).fetchall()

    # -- API helpers
    def login(self) -> dict[str, str]:
        reply = requests.post(f"{self.url}/api/v1/login", json={"username": "admin", "password": PASSWORD},
                              timeout=10, verify=self.verify)
        assert reply.status_code == 200, reply.text
        return {"Authorization": f"Bearer {reply.json()['token']}"}

    def create_room(self, sup: dict[str, str], name: str = "Salle B12") -> str:
        reply = requests.post(f"{self.url}/api/v1/rooms", json={"name": name}, headers=sup, timeout=10,
                              verify=self.verify)
        assert reply.status_code == 200, reply.text
        return reply.json()["code"]

    def enroll(self, room: str, machine_id: str, hostname: str | None = None) -> dict[str, str]:
        """Enrol as the agent does: with the secret of this machine's first enrolment, if any."""
        key = (room.upper(), machine_id)
        body = {"room_code": room, "machine": machine(machine_id, hostname)}
        if key in self.secrets:
            body["secret"] = self.secrets[key]
        reply = requests.post(f"{self.url}/api/v1/enroll", timeout=10, verify=self.verify, json=body)
        assert reply.status_code == 200, reply.text
        assert reply.json()["machine_id"] == machine_id
        if reply.json().get("secret"):
            self.secrets[key] = reply.json()["secret"]
        return {"Authorization": f"Bearer {reply.json()['token']}"}

    def get(self, path: str, headers: dict[str, str], **params: Any) -> requests.Response:
        return requests.get(f"{self.url}/api/v1{path}", headers=headers, params=params, timeout=10,
                            verify=self.verify)

    def put_json(self, path: str, headers: dict[str, str], body: Any) -> requests.Response:
        return requests.put(f"{self.url}/api/v1{path}", headers=headers, json=body, timeout=10,
                            verify=self.verify)

    def post(self, path: str, headers: dict[str, str], body: Any) -> requests.Response:
        return requests.post(f"{self.url}/api/v1{path}", headers=headers, json=body, timeout=10,
                             verify=self.verify)


def machine(machine_id: str, hostname: str | None = None) -> dict[str, Any]:
    return {"id": machine_id, "hostname": hostname or f"PC-{machine_id}", "os": "windows",
            "os_version": "11", "arch": "x86_64", "cpu_count": 4, "ram_gb": 8.0}


def report(machine_id: str, *, ready: bool, hostname: str | None = None,
           finished_at: str = "2026-11-22T08:00:03Z") -> dict[str, Any]:
    screen = {"id": "screen", "title": "Largeur d'écran", "status": "ok" if ready else "fail",
              "summary": "1920 px" if ready else "640 px", "measured": 1920 if ready else 640,
              "threshold": 800, "unit": "px",
              "remediation": None if ready else "Brancher un écran d'au moins 800 px de large"}
    mouse = {"id": "mouse", "title": "Souris", "status": "ok", "summary": "USB mouse"}
    return {"schema": "examroom.report/1", "agent_version": "0.1.0",
            "machine": machine(machine_id, hostname), "started_at": "2026-11-22T08:00:00Z",
            "finished_at": finished_at, "status": "ok" if ready else "fail", "ready": ready, "lang": "fr",
            "checks": [screen, mouse]}


def event(kind: str, at: str = "2026-11-22T09:00:00Z", **details: Any) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "kind": kind, "at": at, **details}


def dashboard_login(page, url: str, username: str = "admin", password: str = PASSWORD) -> None:
    """Log in to the dashboard at ``url`` in a Playwright page, as a supervisor types it."""
    page.goto(url + "/")
    page.fill("#login-user", username)
    page.fill("#login-password", password)
    page.click("#login-submit")
    page.wait_for_selector("body[data-view=rooms]")
