"""The catalog's list of the executions a server started (the temporal backend's
ListExecutions reads it): newest first, a page at a time from a place, per machine, and
kept across connections to its file."""

from __future__ import annotations

from pathlib import Path

import pytest

from runtime.service.catalog import Catalog, MemoryCatalog
from runtime.service.sqlite_catalog import SqliteCatalog

M, OTHER = "arn:m", "arn:other"


@pytest.fixture(params=["memory", "sqlite"])
def catalog(request: pytest.FixtureRequest, tmp_path: Path) -> Catalog:
    if request.param == "memory":
        return MemoryCatalog()
    return SqliteCatalog(tmp_path / "catalog.sqlite3")


def test_newest_first_then_by_the_order_recorded(catalog: Catalog) -> None:
    catalog.put_start(M, "e1", 10.0)
    catalog.put_start(M, "e2", 20.0)
    catalog.put_start(OTHER, "x", 15.0)
    catalog.put_start(M, "e3", 20.0)  # the same start date as e2: recorded later, listed first
    assert [arn for arn, _ in catalog.starts(M, 10)] == ["e3", "e2", "e1"]
    assert [arn for arn, _ in catalog.starts(OTHER, 10)] == ["x"]
    assert catalog.starts("arn:none", 10) == []


def test_pages_follow_the_place_of_the_last_one(catalog: Catalog) -> None:
    for number in range(5):
        catalog.put_start(M, f"e{number}", 100.0 + number // 2)
    first = catalog.starts(M, 2)
    assert [arn for arn, _ in first] == ["e4", "e3"]
    second = catalog.starts(M, 2, first[-1][1])
    assert [arn for arn, _ in second] == ["e2", "e1"]
    assert [arn for arn, _ in catalog.starts(M, 2, second[-1][1])] == ["e0"]


def test_a_file_keeps_them(tmp_path: Path) -> None:
    first = SqliteCatalog(tmp_path / "catalog.sqlite3")
    first.put_start(M, "e1", 1.0)
    first.close()
    again = SqliteCatalog(tmp_path / "catalog.sqlite3")
    assert [arn for arn, _ in again.starts(M, 10)] == ["e1"]
    again.close()
