"""A private PostgreSQL cluster for the tests: Debian's binaries, a temp dir, a free port.

``initdb`` in a temporary folder, ``pg_ctl start`` listening on 127.0.0.1 on a free port and
on a unix socket in that folder; stopped (and removed) when the test session ends. PostgreSQL
refuses to run as root, so as root the cluster runs as the ``postgres`` system user (Debian's
package creates it). Each test gets a database of its own (``fresh_database``). Nothing
depends on a cluster started by hand; the tests skip, saying why, only when the PostgreSQL
binaries or psycopg are absent (CI installs both: .ci/run).
"""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from tests.support import free_port

ROLE = "examroom"


def pg_bindir() -> Path | None:
    """Where initdb and pg_ctl are: Debian keeps them out of PATH, per major version."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                        key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0)
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def why_not() -> str | None:
    """None when a cluster can be made here, else the reason (for pytest.skip)."""
    try:
        import psycopg  # noqa: F401
        import psycopg_pool  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install -e '.[test]')"
    if pg_bindir() is None:
        return "PostgreSQL server binaries not found (apt-get install postgresql)"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser: cannot start PostgreSQL as another user"
    return None


@dataclass
class Cluster:
    root: Path
    port: int
    bindir: Path
    as_user: list[str]

    @property
    def host(self) -> str:
        return "127.0.0.1"

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{ROLE}@127.0.0.1:{self.port}/{dbname}"

    def fresh_database(self) -> str:
        """A new, empty database: its URL."""
        import psycopg

        name = "t_" + uuid.uuid4().hex[:16]
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        subprocess.run(self.as_user + [str(self.bindir / "pg_ctl"), "-D", str(self.root / "data"), "-m", "fast",
                                       "-w", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(self.root, ignore_errors=True)


def start_cluster() -> Cluster:
    bindir = pg_bindir()
    assert bindir is not None
    root = Path(tempfile.mkdtemp(prefix="examroom-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data = root / "data"
    port = free_port()

    def run(*args: str) -> None:
        done = subprocess.run(as_user + list(args), capture_output=True, text=True, timeout=120, cwd=root)
        if done.returncode != 0:
            raise RuntimeError(f"{args[0]} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
                               f"\n{_tail(root / 'server.log')}")

    run(str(bindir / "initdb"), "-D", str(data), "-U", ROLE, "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8")
    # fsync stays on: the durability tests kill -9 the examroom server and count on committed = on disk.
    options = (f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c max_connections=200 "
               f"-c shared_buffers=32MB")
    run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(root / "server.log"), "-o", options, "-w", "-t", "60",
        "start")
    return Cluster(root, port, bindir, as_user)


def _tail(path: Path) -> str:
    try:
        return path.read_text(errors="replace")[-2000:]
    except OSError:
        return ""
