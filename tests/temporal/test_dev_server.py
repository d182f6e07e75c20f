"""The dev server keeps its database in SQLite's write-ahead-log mode (fsync per commit,
SQLite's default rollback journal, held executions to about 6 per second), and starts
even when a port it drew is taken before it binds it."""

from __future__ import annotations

import socket
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from runtime.temporal import dev_server
from runtime.temporal.dev_server import DevServer

pytestmark = pytest.mark.xdist_group("temporal")


def test_the_database_is_in_wal_mode(tmp_path: Path) -> None:
    database = tmp_path / "temporal.db"
    with DevServer(database), closing(sqlite3.connect(database)) as connection:
        (mode,) = connection.execute("PRAGMA journal_mode").fetchone()
    assert mode == "wal"


def test_a_port_taken_before_the_server_binds_it_is_drawn_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn = dev_server._free_port
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))  # bound, not listening: connections are refused
        ports = iter([taken.getsockname()[1]])  # the first draw: a port someone holds
        monkeypatch.setattr(dev_server, "_free_port", lambda: next(ports, None) or drawn())
        with DevServer(tmp_path / "temporal.db") as server:
            assert server.address != f"127.0.0.1:{taken.getsockname()[1]}"
            assert server.process.poll() is None
