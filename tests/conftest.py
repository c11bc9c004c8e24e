"""Fixtures shared by the tests: the store backends (SQLite file, private PostgreSQL), and the
session-wide settings every test (and every process it starts) inherits."""
from __future__ import annotations

import os
from typing import Iterator

import pytest

from tests import pg_support


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[pg_support.Cluster]:
    """One private PostgreSQL cluster for the whole session (tests/pg_support.py)."""
    reason = pg_support.why_not()
    if reason:
        pytest.skip(reason)
    cluster = pg_support.start_cluster()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture()
def pg_url(pg_cluster: pg_support.Cluster) -> str:
    """The URL of a new, empty PostgreSQL database."""
    return pg_cluster.fresh_database()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest) -> str | None:
    """The behaviour suite's backend: None (the server's own SQLite file) or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return None
    return request.getfixturevalue("pg_url")


@pytest.fixture(autouse=True, scope="session")
def _server_home(tmp_path_factory):
    """The servers the tests start write their runtime files (supervisor/runtime.py) here, not in
    the user's data folder, where `examroom room create` of a real install would read them."""
    os.environ["EXAMROOM_SERVER_HOME"] = str(tmp_path_factory.mktemp("server-home"))
    yield
