"""The admin password: strength, where it comes from, and database files only the server reads (row 12, row 2).

Real ``examroom serve`` processes: a weak password is one line and exit 2 before anything
starts; the password is taken from a file or an interactive prompt (a real pseudo-terminal);
``--admin-password`` still works but warns; the database and its -wal/-shm are mode 0600.
"""
from __future__ import annotations

import os
import pty
import stat
import subprocess
import sys
import time

import pytest
import requests

from tests.server_support import LiveServer
from tests.support import free_port


def _serve(tmp_path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "agent", "serve", "--db", str(tmp_path / "s.db"), "--lang", "en",
                           "--port", str(free_port()), *args], capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": str(tmp_path), **(env or {})})


@pytest.mark.parametrize("password,why", [("a", "too short"), ("1234567", "too short"), ("azertyuiop", "common"),
                                          ("Password1", "common"), ("xxxxxxxxxxxx", "common")])
def test_a_weak_admin_password_is_refused_before_anything_starts(tmp_path, password, why):
    done = _serve(tmp_path, env={"EXAMROOM_ADMIN_PASSWORD": password})
    assert done.returncode == 2 and why in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) <= 2
    assert "EXAMROOM_ADMIN_PASSWORD" in done.stderr and (len(password) < 4 or password not in done.stderr)


def _wait_login(url: str, password: str, proc: subprocess.Popen) -> requests.Response:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, "server exited"
        try:
            return requests.post(f"{url}/api/v1/login", json={"username": "admin", "password": password}, timeout=2)
        except requests.ConnectionError:
            time.sleep(0.1)
    pytest.fail("server did not answer")


def test_the_password_from_a_file_and_from_a_prompt(tmp_path):
    secret = tmp_path / "admin.txt"
    secret.write_text("pommes poires scoubidous\n", encoding="utf-8")
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "agent", "serve", "--db", str(tmp_path / "f.db"), "--port", str(port),
                             "--admin-password-file", str(secret)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        assert _wait_login(f"http://127.0.0.1:{port}", "pommes poires scoubidous", proc).status_code == 200
        with open(f"/proc/{proc.pid}/cmdline", "rb") as cmdline:
            assert b"scoubidous" not in cmdline.read()
    finally:
        proc.terminate()
        proc.wait(10)
    assert _serve(tmp_path, "--admin-password-file", str(tmp_path / "missing.txt")).returncode == 2

    # No password anywhere, on a terminal: asked twice, hidden.
    master, slave = pty.openpty()
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "agent", "serve", "--db", str(tmp_path / "p.db"), "--port", str(port),
                             "--lang", "en"], stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
                            env={k: v for k, v in os.environ.items() if k != "EXAMROOM_ADMIN_PASSWORD"})
    os.close(slave)
    try:
        seen = b""
        for prompt in (b"admin password", b"repeat"):  # click's confirmation prompt
            while not (prompt in seen.lower() and seen.rstrip().endswith(b":")):
                seen += os.read(master, 1024)
            os.write(master, b"trois mots au hasard\n")
            seen = b""
        assert _wait_login(f"http://127.0.0.1:{port}", "trois mots au hasard", proc).status_code == 200
    finally:
        proc.terminate()
        proc.wait(10)
        os.close(master)


def test_the_password_on_the_command_line_works_but_warns(tmp_path):
    server = LiveServer(tmp_path, env={"EXAMROOM_ADMIN_PASSWORD": ""},
                        args=("--admin-password", "correct horse battery staple")).start()
    try:
        server.login()
        assert "process list" in server.log_text() or "liste des processus" in server.log_text()
    finally:
        server.stop()


def test_database_files_are_readable_by_the_server_only(tmp_path):
    os.umask(0o022)
    server = LiveServer(tmp_path).start()
    try:
        sup = server.login()
        server.create_room(sup)
        files = [server.db, server.db.with_name(server.db.name + "-wal"), server.db.with_name(server.db.name + "-shm")]
        for path in files:
            assert path.exists(), path
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, (path, oct(path.stat().st_mode))
    finally:
        server.stop()
    # An older database made 0644 is tightened at the next start.
    os.chmod(server.db, 0o644)
    server.start()
    try:
        assert stat.S_IMODE(server.db.stat().st_mode) == 0o600
    finally:
        server.stop()
