"""Activity tasks on Temporal: how a GetActivityTask caller finds a task that waits in an
execution's workflow, and takes it exactly once.

The task stays where a local engine keeps it: in the execution's own task store, waited
on through its task token (HeartbeatSeconds, TimeoutSeconds, SendTask* as for any token).
What Temporal adds is finding it:

- the workflow (:class:`PendingActivities`) keeps the search attribute
  :data:`PENDING_ACTIVITIES`, a keyword list of the activity ARNs of its tasks that no
  worker has taken yet, upserted whenever that set changes;
- a poller (:func:`poll_activity_task`) lists the running workflows whose attribute holds
  the ARN (Temporal's visibility), oldest first, and asks each with the update
  :data:`CLAIM_UPDATE` for the task; the workflow gives it to the first asker and marks it
  taken (``ActivityStarted`` with the worker's name), so a later asker gets nothing and
  goes on to the next workflow. Updates of one workflow run one at a time: however many
  pollers race, each task goes to one. Visibility may lag by a moment: a workflow listed
  after its task was taken answers nothing; one whose task is not listed yet is found at
  the next look, :data:`POLL_SECONDS` later.

The attribute must exist on the namespace (:mod:`runtime.temporal.search_attributes`).
"""

from __future__ import annotations

import asyncio

from temporalio import workflow
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from runtime.temporal.search_attributes import PENDING_ACTIVITIES, quoted
from runtime.tokens import TaskTokens

__all__ = [
    "CLAIM_UPDATE",
    "POLL_SECONDS",
    "PendingActivities",
    "poll_activity_task",
]

#: The update that gives a poller the oldest untaken task of an activity.
CLAIM_UPDATE = "ClaimActivityTask"
#: How often a poller looks again while nothing is found (seconds).
POLL_SECONDS = 0.25


class PendingActivities:
    """The workflow's side: its untaken activity tasks, published and claimed."""

    def __init__(self, tokens: TaskTokens) -> None:
        self._tokens = tokens
        self._published: list[str] = []

    def publish(self) -> None:
        """Upsert the search attribute when the set of untaken tasks' ARNs changed."""
        arns = sorted(
            {
                record.resource
                for record in self._tokens.store.open_tasks()
                if record.kind == "activity" and record.status == "SCHEDULED"
            }
        )
        if arns == self._published:
            return
        self._published = arns
        update = PENDING_ACTIVITIES.value_set(arns) if arns else PENDING_ACTIVITIES.value_unset()
        workflow.upsert_search_attributes([update])

    def claim(self, activity_arn: str, worker_name: str | None) -> list[str] | None:
        """The oldest untaken task of the activity, now taken by ``worker_name``: its token
        and input (JSON text); None when there is none."""
        record = self._tokens.store.claim(activity_arn, worker_name)
        if record is None:
            return None
        self._tokens.notify(record)  # the waiting Task records ActivityStarted
        self.publish()
        return [record.token, record.input]


async def poll_activity_task(
    client: Client, activity_arn: str, worker_name: str | None, wait_seconds: float
) -> tuple[str, str] | None:
    """GetActivityTask on Temporal: a task of ``activity_arn`` (its token and input as
    JSON text), taken by ``worker_name``, found within ``wait_seconds``; None when none was."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_seconds
    query = f"{PENDING_ACTIVITIES.name} = {quoted(activity_arn)} AND ExecutionStatus = 'Running'"
    while True:
        found = [execution async for execution in client.list_workflows(query)]
        for execution in sorted(found, key=lambda execution: execution.start_time):
            handle = client.get_workflow_handle(execution.id, run_id=execution.run_id)
            try:
                claimed = await handle.execute_update(
                    CLAIM_UPDATE, args=[activity_arn, worker_name], result_type=list
                )
            except RPCError as gone:  # it ended since it was listed
                if gone.status not in (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION):
                    raise
                continue
            if claimed is not None:
                return claimed[0], claimed[1]
        remaining = deadline - loop.time()
        if remaining <= 0:
            return None
        await asyncio.sleep(min(POLL_SECONDS, remaining))
