"""The dev server keeps its database in SQLite's write-ahead-log mode (fsync per commit,
SQLite's default rollback journal, held executions to about 6 per second)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from runtime.temporal.dev_server import DevServer

pytestmark = pytest.mark.xdist_group("temporal")


def test_the_database_is_in_wal_mode(tmp_path: Path) -> None:
    database = tmp_path / "temporal.db"
    with DevServer(database), closing(sqlite3.connect(database)) as connection:
        (mode,) = connection.execute("PRAGMA journal_mode").fetchone()
    assert mode == "wal"
