"""The pytest plugin (entry point ``pytest11``): the ``asl_engine`` fixture, the traces of a
failed test's executions in its report, and workflow coverage.

``asl_engine`` is a :class:`~runtime.testing.workflow_engine.WorkflowEngine` on the
virtual clock, seeded with ``--asl-seed`` (0 by default), closed after the test. When a
test that used it fails, the report gets an ``asl executions`` section with the trace of
each execution it ran (see :func:`runtime.testing.assertions.trace`).

With ``--asl-cov`` (or ``--asl-cov-report DIR`` or ``--asl-cov-fail-under N``) every
execution run through ``asl_engine`` counts towards the session's workflow coverage (see
:mod:`runtime.testing.coverage`), its Distributed Maps' child executions with it, printed
per state machine at the end of the session; with ``-v`` every item hit is listed with its
count, after the machine's line; ``--asl-cov-report DIR`` draws each machine there as a
heat map of its hits. Under pytest-xdist each worker sends the executions it ran to the
controller, which counts them all: the coverage printed, drawn and enforced is the whole
session's.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import Any

import pytest

from asl.jsontext import json_text, parse_json
from asl.loader import read_document
from asl.model import StateMachine
from runtime.testing.assertions import trace
from runtime.testing.coverage import SessionCoverage, map_run_histories, write_html_report
from runtime.testing.workflow_engine import WorkflowEngine

_SECTION = "asl executions"
_COVERAGE = pytest.StashKey[SessionCoverage]()
#: On an xdist worker: each execution to count, as ``[machine name, definition, history]``.
_RUNS = pytest.StashKey[list[list[Any]]]()
_WORKER_OUTPUT = "asl_coverage_runs"


def pytest_addoption(parser: pytest.Parser) -> None:
    """The seed of ``asl_engine`` and the workflow coverage options."""
    group = parser.getgroup("asl", "Amazon States Language workflows")
    group.addoption(
        "--asl-seed", type=int, default=0, help="seed of the asl_engine fixture (default 0)"
    )
    group.addoption(
        "--asl-cov",
        action="store_true",
        help="print the workflow coverage of the state machines run through asl_engine",
    )
    group.addoption(
        "--asl-cov-report",
        metavar="DIR",
        help="also draw each state machine as a heat map of its hits into DIR (index.html, SVGs)",
    )
    group.addoption(
        "--asl-cov-fail-under",
        type=float,
        metavar="N",
        help="fail the session when the total workflow coverage is under N percent",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Start counting coverage when any coverage option is given."""
    options = ("asl_cov", "asl_cov_report", "asl_cov_fail_under")
    if any(config.getoption(name) not in (None, False) for name in options):
        if hasattr(config, "workerinput"):  # an xdist worker: the controller counts
            config.stash[_RUNS] = []
        else:
            config.stash[_COVERAGE] = SessionCoverage()


@pytest.fixture
def asl_engine(request: pytest.FixtureRequest) -> Iterator[WorkflowEngine]:
    """An engine to run workflows on (virtual clock, seeded), closed after the test."""
    engine = WorkflowEngine(seed=request.config.getoption("asl_seed"))
    try:
        yield engine
    finally:
        engine.close()
        _count(request.config, engine)


def _count(config: pytest.Config, engine: WorkflowEngine) -> None:
    coverage, runs = config.stash.get(_COVERAGE, None), config.stash.get(_RUNS, None)
    if coverage is None and runs is None:  # no coverage asked for: nothing to read
        return
    for execution in engine.executions:
        definition = engine.definitions[execution.arn]
        if isinstance(definition, StateMachine):  # a model alone cannot be drawn
            continue
        histories = map_run_histories(execution)
        if coverage is not None:
            coverage.add(execution.machine.name, definition, execution.history_json(), histories)
        elif runs is not None:  # an xdist worker's, as JSON: a path may be relative to it
            value = read_document(definition).value
            runs.append([execution.machine.name, value, execution.history_json(), histories])


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


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """A session whose tests passed fails when the coverage is under ``--asl-cov-fail-under``;
    an xdist worker hands the executions it counted to the controller."""
    runs = session.config.stash.get(_RUNS, None)
    if runs is not None:
        session.config.workeroutput[_WORKER_OUTPUT] = json_text(runs)  # type: ignore[attr-defined]
    coverage = session.config.stash.get(_COVERAGE, None)
    threshold = session.config.getoption("asl_cov_fail_under")
    if coverage is None or threshold is None or session.exitstatus != pytest.ExitCode.OK:
        return
    if coverage.total_percent() < threshold:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """On the xdist controller: count the executions a worker ran (a worker that crashed
    sends none; its tests are reported failed)."""
    coverage = node.config.stash.get(_COVERAGE, None)
    sent = getattr(node, "workeroutput", {}).get(_WORKER_OUTPUT)
    if coverage is not None and sent is not None:
        for name, definition, history, histories in parse_json(sent):
            coverage.add(name, definition, history, histories)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """Print the workflow coverage, draw its report, say when it is under the threshold."""
    coverage = config.stash.get(_COVERAGE, None)
    if coverage is None:
        return
    terminalreporter.write_sep("-", "asl workflow coverage")
    for line in coverage.report_lines(hits=config.get_verbosity() > 0):
        terminalreporter.write_line(line)
    directory = config.getoption("asl_cov_report")
    if directory is not None and coverage.machines:
        index = write_html_report(coverage, directory)
        terminalreporter.write_line(f"coverage drawn in {index}")
    threshold = config.getoption("asl_cov_fail_under")
    if threshold is not None and coverage.total_percent() < threshold:
        terminalreporter.write_line(
            f"FAIL: workflow coverage {coverage.total_percent():.1f}% is under {threshold:g}%",
            red=True,
        )
