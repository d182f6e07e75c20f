"""The Python API for running and unit-testing workflows locally.

This is the outer ring: it builds the integrations (local functions, mocks) and hands
them to an :class:`~runtime.executions.Engine`.

>>> from runtime.testing import run
>>> execution = run({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}, {"x": 1})
>>> execution.status, execution.output
('SUCCEEDED', {'x': 1})

``test_state`` runs one state as AWS's TestState API does (``await test_state(...)``).
"""

from runtime.testing.local import Execution, local_engine, run, start
from runtime.testing.test_state import test_state

__all__ = ["Execution", "local_engine", "run", "start", "test_state"]
