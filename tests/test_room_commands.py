"""`examroom room create` / `room list` on the machine of a running `examroom serve`."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import requests

from tests.server_support import LiveServer

ROOT = Path(__file__).resolve().parent.parent


def _room(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, EXAMROOM_SERVER_HOME=str(home))
    return subprocess.run([sys.executable, "-m", "agent", "room", *args, "--lang", "en"], capture_output=True,
                          text=True, timeout=60, env=env, cwd=ROOT)


def _seen_by(server: LiveServer, code: str) -> bool:
    return server.get(f"/rooms/{code}/machines", server.login()).status_code == 200


def test_room_create_and_list_use_the_running_servers_database(tmp_path: Path) -> None:
    home = tmp_path / "server-data"
    server = LiveServer(tmp_path, env={"EXAMROOM_SERVER_HOME": str(home)}).start()
    try:
        runtime = list(home.glob("serve-*.json"))
        assert len(runtime) == 1
        facts = json.loads(runtime[0].read_text())
        assert facts["pid"] == server.proc.pid and facts["db"] == str(server.db)
        assert "password" not in runtime[0].read_text().lower()

        # no --db: the running server's database, and it says so
        made = _room(home, "create", "Salle B12")
        assert made.returncode == 0, made.stderr
        code = made.stdout.strip()
        assert f"Using the database of the server running at http://127.0.0.1:{server.port}/: {server.db}" \
            in made.stderr
        assert _seen_by(server, code)          # the dashboard's server sees the room at once

        # --db elsewhere: done as asked, with a note naming the running server's database
        other = tmp_path / "other.sqlite3"
        elsewhere = _room(home, "create", "Salle C3", "--db", str(other))
        assert elsewhere.returncode == 0, elsewhere.stderr
        assert f"Note: the server running at http://127.0.0.1:{server.port}/ uses the database {server.db}, " \
               f"not {other}" in elsewhere.stderr
        assert not _seen_by(server, elsewhere.stdout.strip())
        # --db naming the server's own file: no note
        same = _room(home, "create", "Salle D4", "--db", str(server.db))
        assert same.returncode == 0 and "Note:" not in same.stderr, same.stderr

        listed = _room(home, "list")
        assert listed.returncode == 0, listed.stderr
        lines = listed.stdout.splitlines()
        assert lines[0].split() == ["Code", "Room", "Machines", "Ready", "Alerts", "Created"]
        assert any(line.startswith(code) and "Salle B12" in line for line in lines[1:]), listed.stdout
        assert any("Salle D4" in line for line in lines) and not any("Salle C3" in line for line in lines)
    finally:
        server.stop()
    # a stopped server leaves no runtime file: the default database again, without a note
    assert list(home.glob("serve-*.json")) == []
    after = _room(home, "create", "Salle E5")
    assert after.returncode == 0 and after.stderr.count("\n") == 2, after.stderr
    assert (home / "examroom-server.sqlite3").is_file()


def test_a_killed_server_is_forgotten_and_two_servers_need_a_choice(tmp_path: Path) -> None:
    home = tmp_path / "server-data"
    home.mkdir()
    # a server killed without cleanup (power cut) left its file; its pid is gone
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (home / f"serve-{dead.pid}.json").write_text(json.dumps(
        {"pid": dead.pid, "create_time": 1.0, "url": "http://127.0.0.1:1/", "db": "/nowhere.sqlite3"}))
    made = _room(home, "create", "Salle A1")
    assert made.returncode == 0 and "/nowhere" not in made.stderr, made.stderr
    assert list(home.glob("serve-*.json")) == []

    a = LiveServer(tmp_path / "a", env={"EXAMROOM_SERVER_HOME": str(home)})
    b = LiveServer(tmp_path / "b", env={"EXAMROOM_SERVER_HOME": str(home)})
    for s in (a, b):
        s.tmp.mkdir()
    try:
        a.start(), b.start()
        refused = _room(home, "create", "Salle B2")
        assert refused.returncode == 2, refused.stderr
        assert refused.stderr.count("\n") == 1 and "Traceback" not in refused.stderr
        assert "several examroom servers" in refused.stderr and str(a.db) in refused.stderr \
            and str(b.db) in refused.stderr and "--db" in refused.stderr
        chosen = _room(home, "list", "--db", str(b.db))
        assert chosen.returncode == 0 and "Note:" not in chosen.stderr, chosen.stderr
    finally:
        a.stop(), b.stop()


def test_room_list_of_an_empty_database_says_so(tmp_path: Path) -> None:
    listed = _room(tmp_path / "home", "list", "--db", str(tmp_path / "empty.sqlite3"))
    assert listed.returncode == 0 and listed.stdout == ""
    assert "No room in the database" in listed.stderr and "examroom room create NAME" in listed.stderr


def test_a_running_servers_url_password_is_never_guessed(tmp_path: Path) -> None:
    home = tmp_path / "server-data"
    home.mkdir()
    me = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        import psutil

        (home / f"serve-{me.pid}.json").write_text(json.dumps(
            {"pid": me.pid, "create_time": psutil.Process(me.pid).create_time(), "url": "http://127.0.0.1:8765/",
             "db": "postgresql://examroom:***@db.example:5432/examroom"}))
        refused = _room(home, "create", "Salle P1")
        assert refused.returncode == 2 and refused.stderr.count("\n") == 1, refused.stderr
        assert "password is in its URL" in refused.stderr and "--db" in refused.stderr
    finally:
        me.stdin.close()
        me.wait(10)
