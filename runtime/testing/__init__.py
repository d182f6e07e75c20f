"""The Python API for running and unit-testing workflows locally.

This is the outer ring: it builds the integrations (local functions, mocks) and hands
them to an :class:`~runtime.executions.Engine`.

>>> from runtime.testing import run
>>> execution = run({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}, {"x": 1})
>>> execution.status, execution.output
('SUCCEEDED', {'x': 1})

``test_state`` runs one state as AWS's TestState API does (``await test_state(...)``).
``WorkflowEngine`` runs workflows in a test (the pytest plugin's ``asl_engine``), and the
``assert_*`` helpers check an execution, printing its trace when they fail.
"""

from runtime.testing.assertions import (
    ExecutionAssertionError,
    assert_caught,
    assert_failed,
    assert_path,
    assert_retries,
    assert_succeeded,
    state,
    trace,
)
from runtime.testing.local import Execution, local_engine, run, start
from runtime.testing.test_state import test_state
from runtime.testing.workflow_engine import WorkflowEngine

__all__ = [
    "Execution",
    "ExecutionAssertionError",
    "WorkflowEngine",
    "assert_caught",
    "assert_failed",
    "assert_path",
    "assert_retries",
    "assert_succeeded",
    "local_engine",
    "run",
    "start",
    "state",
    "test_state",
    "trace",
]
