"""Worker Versioning: which build of the interpreter runs which executions.

The workflow's code is the interpreter, so an interpreter that makes other commands
(other activities or timers, in another order) than the one a running execution began
on would fail that execution's replay. Workers given a :class:`Build` poll as a version
(``<deployment>.<build id>``) of a Temporal Worker Deployment, and every workflow they
start is *pinned* to that version: it runs on that build's workers until it ends, its
activities, queries and updates included. New executions start on the deployment's
*current* version (:func:`make_current`); the old build's workers stay until the
executions pinned to them have ended (``temporal worker deployment describe-version``
says when the version is drained).

A workflow's child workflows on its task queue (a Distributed Map's slices and child
executions) start pinned to their parent's version: Temporal's own rule for a child of a
pinned parent whose task queue belongs to the parent's version (the ``versioning_info``
of Temporal's API, api.temporal.io ``WorkflowExecutionVersioningInfo``), kept by their
own pinned behaviour. A redrive's new run is a workflow the client starts, which would
start on the current version: :func:`redrive_override` pins it to the ended run's.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.enums.v1 import VersioningBehavior as BehaviorProto
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflow.v1 import WorkflowExecutionVersioningInfo
from temporalio.api.workflowservice.v1 import (
    DescribeTaskQueueRequest,
    SetWorkerDeploymentCurrentVersionRequest,
)
from temporalio.client import Client
from temporalio.common import (
    PinnedVersioningOverride,
    VersioningBehavior,
    WorkerDeploymentVersion,
)
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import WorkerDeploymentConfig

#: How long the server may take to learn of a new version from its workers' first polls.
_REGISTERED_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class Build:
    """A build of the workers: its Worker Deployment's name and its Build ID."""

    deployment: str
    build_id: str

    def config(self) -> WorkerDeploymentConfig:
        """The worker's versioning: this version, each workflow pinned to it."""
        return WorkerDeploymentConfig(
            version=WorkerDeploymentVersion(self.deployment, self.build_id),
            use_worker_versioning=True,
            default_versioning_behavior=VersioningBehavior.PINNED,
        )


async def make_current(client: Client, build: Build) -> None:
    """Make ``build`` its deployment's current version: new executions start on it.

    Called by a worker of that build once it polls; the server knows a version only
    after its first polls arrive, so a version not found yet is asked for again."""
    request = SetWorkerDeploymentCurrentVersionRequest(
        namespace=client.namespace,
        deployment_name=build.deployment,
        build_id=build.build_id,
        identity=client.identity,
    )
    deadline = time.monotonic() + _REGISTERED_SECONDS
    while True:
        try:
            await client.workflow_service.set_worker_deployment_current_version(request)
            return
        except RPCError as refused:
            if refused.status != RPCStatusCode.NOT_FOUND or time.monotonic() > deadline:
                raise
        await asyncio.sleep(0.25)


async def redrive_override(
    client: Client, task_queue: str, ended: WorkflowExecutionVersioningInfo
) -> PinnedVersioningOverride | None:
    """How a redrive's new run is pinned: to the version the ended run was pinned to,
    while a worker of that build still polls ``task_queue``; None for an unversioned run.

    The new run replays the ended run's journal, which the build that wrote it reads
    for sure. Once that build's workers are gone (its version drained and retired), the
    redrive starts on the current version rather than waiting for workers that will not
    come back: what a user retiring a build would expect (AWS has no builds to say)."""
    if ended.behavior != BehaviorProto.VERSIONING_BEHAVIOR_PINNED:
        return None
    version = ended.deployment_version
    request = DescribeTaskQueueRequest(
        namespace=client.namespace,
        task_queue=TaskQueue(name=task_queue),
        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    )
    pollers = (await client.workflow_service.describe_task_queue(request)).pollers
    for poller in pollers:
        polls = poller.deployment_options
        if (polls.deployment_name, polls.build_id) == (version.deployment_name, version.build_id):
            return PinnedVersioningOverride(
                WorkerDeploymentVersion(version.deployment_name, version.build_id)
            )
    return None
