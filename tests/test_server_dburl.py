"""``--db``: a path, ``sqlite:///PATH`` or ``postgresql://...``; anything else is one line and exit 2.

Unit tests of the parsing, then the real commands (``examroom serve`` / ``room create``) run
as a user would, on real files."""
from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from core.errors import BadInput
from supervisor.dburl import parse_db
from supervisor.store import default_db_path


def test_paths_and_sqlite_urls_name_a_file():
    assert parse_db(None).path == default_db_path()
    assert parse_db("").path == default_db_path()
    assert parse_db("/srv/examroom/db.sqlite3") == parse_db("sqlite:////srv/examroom/db.sqlite3")
    assert parse_db("sqlite:////srv/x.db").path == Path("/srv/x.db")
    assert parse_db("sqlite:///rel/x.db").path == Path("rel/x.db")
    assert parse_db("db.sqlite3").kind == "sqlite"
    assert parse_db(r"C:\examroom\db.sqlite3").path == Path(r"C:\examroom\db.sqlite3")  # a drive, not a scheme
    assert parse_db("c:/examroom/db.sqlite3").kind == "sqlite"


def test_postgresql_urls_are_kept_for_libpq_and_never_shown_with_their_password():
    target = parse_db("postgresql://examroom@db.academie.fr:5432/examroom")
    assert target.kind == "postgresql" and target.dsn == "postgresql://examroom@db.academie.fr:5432/examroom"
    assert parse_db("postgres://u@h/db").kind == "postgresql"
    secret = parse_db("postgresql://u:hunter2@h:5432/db")
    assert "hunter2" not in secret.shown() and secret.shown() == "postgresql://u:***@h:5432/db"
    assert parse_db("postgresql:///db?host=/run/postgresql").kind == "postgresql"


@pytest.mark.parametrize("value", ["mysql://u@h/db", "postgress://u@h/db", "http://h/db", "sqlite://h/x.db",
                                   "sqlite:///", "postgresql://u@h", "file:x.db"])
def test_unknown_schemes_and_incomplete_urls_are_bad_input(value):
    with pytest.raises(BadInput) as refused:
        parse_db(value)
    line = refused.value.line("fr")
    assert "postgresql://" in line and "\n" not in line


def _examroom(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "agent", *args], capture_output=True, text=True, timeout=60,
                          cwd=tmp, env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": str(tmp),
                                        "EXAMROOM_HOME": str(tmp / "home"), "PGCONNECT_TIMEOUT": "3"})


@pytest.mark.parametrize("command", [("serve", "--admin-password", "long enough pw"), ("room", "create", "B12")])
def test_an_unknown_scheme_is_exit_2_and_creates_nothing(tmp_path, command):
    done = _examroom(tmp_path, *command, "--db", "postgress://u@127.0.0.1/db", "--lang", "en")
    assert done.returncode == 2, done.stderr
    assert "unknown database type 'postgress'" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not any(p.name.startswith("postgress") for p in tmp_path.rglob("*"))  # no folder "postgress:"


def test_room_create_takes_a_sqlite_url(tmp_path):
    db = tmp_path / "rooms.sqlite3"
    done = _examroom(tmp_path, "room", "create", "Salle B12", "--db", f"sqlite:///{db}")
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT name FROM rooms WHERE code=?", (done.stdout.strip(),)).fetchone() == ("Salle B12",)


def test_an_unreachable_postgresql_is_exit_2_with_one_line(tmp_path):
    pytest.importorskip("psycopg", reason="the postgres extra (psycopg) is not installed")
    from tests.support import free_port

    done = _examroom(tmp_path, "room", "create", "B12", "--db", f"postgresql://nobody@127.0.0.1:{free_port()}/x",
                     "--lang", "fr")
    assert done.returncode == 2, done.stderr
    assert "PostgreSQL" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "psycopg" not in done.stderr  # installed: the reason is the connection, not a missing module


def test_room_create_on_postgresql(tmp_path, pg_url):
    done = _examroom(tmp_path, "room", "create", "Salle B12", "--db", pg_url)
    assert done.returncode == 0, done.stderr
    import psycopg

    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT name FROM rooms WHERE code=%s", (done.stdout.strip(),)).fetchone() == ("Salle B12",)
