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
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from temporalio.api.workflowservice.v1 import SetWorkerDeploymentCurrentVersionRequest
from temporalio.client import Client
from temporalio.common import VersioningBehavior, WorkerDeploymentVersion
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
