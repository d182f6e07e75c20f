"""The pytest plugin (entry point ``pytest11``): the ``asl_engine`` fixture, and the
traces of a failed test's executions in its report.

``asl_engine`` is a :class:`~runtime.testing.workflow_engine.WorkflowEngine` on the
virtual clock, seeded with ``--asl-seed`` (0 by default), closed after the test. When a
test that used it fails, the report gets an ``asl executions`` section with the trace of
each execution it ran (see :func:`runtime.testing.assertions.trace`).
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import Any

import pytest

from runtime.testing.assertions import trace
from runtime.testing.workflow_engine import WorkflowEngine

_SECTION = "asl executions"


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--asl-seed``: the seed of ``asl_engine`` (its ids, its clock's start)."""
    group = parser.getgroup("asl", "Amazon States Language workflows")
    group.addoption(
        "--asl-seed",
        type=int,
        default=0,
        help="seed of the asl_engine fixture's engine (default 0)",
    )


@pytest.fixture
def asl_engine(request: pytest.FixtureRequest) -> Iterator[WorkflowEngine]:
    """An engine to run workflows on (virtual clock, seeded), closed after the test."""
    engine = WorkflowEngine(seed=request.config.getoption("asl_seed"))
    try:
        yield engine
    finally:
        engine.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    """Add the traces of a failed test's executions to its report."""
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    engine = getattr(item, "funcargs", {}).get("asl_engine")
    if report.failed and isinstance(engine, WorkflowEngine) and engine.executions:
        text = "\n\n".join(trace(execution) for execution in engine.executions)
        report.sections.append((_SECTION, text))
