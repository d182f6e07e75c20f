"""Settings every test shares.

Property tests explore new random examples on every local run (that is how they find
bugs); on CI (``CI`` set) they replay one fixed sequence, so a submission's result does
not depend on the luck of the draw. Neither fails because drawing examples was slow.

The suite runs on pytest-xdist workers (pyproject's ``addopts``: ``-n auto --dist
loadgroup``), beside other runs of it on the same machine, so every test keeps to itself:
a server listens on a port the system chose (port 0; :mod:`tests.serving`), files go
under ``tmp_path``, a wait is a bounded poll (:func:`tests.polling.until`), a time bound
on work holds its CPU time (:func:`tests.timing.within`), and no test relies on another
having run before it. A module whose tests share a module-scoped fixture that starts
something (a server, a browser, a workspace) marks itself
``pytestmark = pytest.mark.xdist_group("<name>")``, so that its tests run on one worker.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

from tests.temporal.backend import Backend
from tests.temporal.spec_cases import Ended, run_all

# How fast examples are drawn and run depends on the machine's load (xdist workers, other
# suites on its cores), not on the code under test: never a failure (no health check on
# speed, no per-example deadline; speed is measured under bench/).
_ANY_LOAD = {"suppress_health_check": [HealthCheck.too_slow], "deadline": None}
settings.register_profile("local", **_ANY_LOAD)
settings.register_profile("ci", derandomize=True, database=None, print_blob=True, **_ANY_LOAD)
settings.load_profile("ci" if os.environ.get("CI") else "local")


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
        and "case" in item.callspec.params  # a spec case (the examples have a backend too)
    }
    return temporal.run(run_all(temporal, wanted), timeout=1200)
