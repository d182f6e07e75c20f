"""Workers: the processes that run executions' workflows and their Tasks' activities.

Any number of workers, in any number of processes and machines, serve one task queue;
Temporal hands each workflow task and each activity to one of them. A worker holds the
integrations (an :class:`~integrations.base.Invoker`) that the Tasks it runs call.

The workflow runs outside Temporal's sandbox. The sandbox re-imports a workflow's
modules for each run unless they are passed through, and the engine's would be (the
interpreter, jsonata-python, jsonschema: heavy, and imported once per process); what it
would still guard, it guards badly here: it refuses ``threading.local`` at run time,
which jsonata-python and ``asl.jsonata`` use as per-thread caches of parsers and
evaluators (harmless: they hold no result). Determinism is the engine's own design: the
interpreter reaches time, randomness and the world only through its Host (see
:mod:`runtime.temporal.host`), and the replay tests run recorded histories through
Temporal's Replayer.
"""

from __future__ import annotations

from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from integrations.base import Invoker
from runtime.defaults import DEFAULT_TASK_QUEUE
from runtime.temporal.activities import TaskActivities
from runtime.temporal.map_child import MapChildWorkflow
from runtime.temporal.map_runs import MapRunSliceWorkflow
from runtime.temporal.redrive import (
    read_child_journal_page,
    read_journal_page,
    read_map_run_children,
    read_map_runs,
)
from runtime.temporal.versioning import Build
from runtime.temporal.workflow import ExecutionWorkflow

#: The workflows a worker runs: executions, and the slices and children of their Map Runs.
WORKFLOWS = (ExecutionWorkflow, MapRunSliceWorkflow, MapChildWorkflow)


def workflow_runner() -> UnsandboxedWorkflowRunner:
    """How workers (and the Replayer) run the workflow: unsandboxed (see above)."""
    return UnsandboxedWorkflowRunner()


def new_worker(
    client: Client,
    invoker: Invoker,
    *,
    task_queue: str = DEFAULT_TASK_QUEUE,
    build: Build | None = None,
) -> Worker:
    """A worker of ``task_queue`` running executions, its Tasks through ``invoker`` (and
    reading an ended run's journal and Map Runs for the run that redrives it); a version
    of ``build``'s Worker Deployment when one is given (see
    :mod:`runtime.temporal.versioning`), else unversioned."""
    return Worker(
        client,
        task_queue=task_queue,
        workflows=list(WORKFLOWS),
        activities=[
            TaskActivities(invoker).invoke_task,
            read_journal_page,
            read_child_journal_page,
            read_map_runs,
            read_map_run_children,
        ],
        workflow_runner=workflow_runner(),
        deployment_config=None if build is None else build.config(),
    )
