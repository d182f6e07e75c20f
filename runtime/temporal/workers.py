"""``asl worker``'s work: one worker in this process, or several in processes of their
own, each with the integrations of the functions, connections and resources given,
until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import re
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from runtime.heap import settle_heap
from runtime.host import LocalHost
from runtime.temporal.search_attributes import create_commands, register_search_attributes
from runtime.temporal.versioning import Build, make_current
from runtime.temporal.worker import new_worker
from runtime.testing import local_engine

_log = logging.getLogger(__name__)


class TemporalUnreachable(ConnectionError):
    """The Temporal frontend at the address given did not answer, or has no such
    namespace."""


#: HOST:PORT, the host a name, an IPv4 address or a bracketed IPv6 address.
_ADDRESS = re.compile(r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(?P<port>[0-9]{1,5})")
#: The reason inside the Temporal SDK's connection error (its Rust error's debug text).
_REASON = re.compile(r'(?:message|error): "([^"]+)"')


def check_address(address: str) -> str | None:
    """Why ``address`` is not a ``HOST:PORT`` a worker can connect to, or None."""
    found = _ADDRESS.fullmatch(address)
    if found is None:
        return f"{address!r} is not HOST:PORT (such as 127.0.0.1:7233)"
    if not 0 < int(found["port"]) < 65536:
        return f"{address!r}: the port is not in 1..65535"
    return None


async def connect_client(settings: WorkerSettings) -> Client:
    """A client of the server, its namespace checked (a worker would only say so later,
    after it has announced that it polls; a server, at its first request); raises
    :class:`TemporalUnreachable`."""
    try:
        client = await Client.connect(settings.address, namespace=settings.namespace)
    except RuntimeError as failed:
        reasons = _REASON.findall(str(failed))
        reason = reasons[-1] if reasons else str(failed)
        raise TemporalUnreachable(
            f"cannot connect to Temporal at {settings.address}: {reason}"
        ) from None
    try:
        await client.workflow_service.describe_namespace(
            DescribeNamespaceRequest(namespace=settings.namespace)
        )
    except RPCError as refused:
        if refused.status != RPCStatusCode.NOT_FOUND:
            raise
        raise TemporalUnreachable(
            f"Temporal at {settings.address} has no namespace {settings.namespace!r}"
        ) from None
    return client


async def ensure_search_attributes(client: Client) -> None:
    """The search attributes the workflows keep, registered where missing; a server that
    refuses gets a warning saying how to register them (executions then fail to start)."""
    try:
        registered = await register_search_attributes(client)
        if registered:
            _log.info("registered the search attributes %s", ", ".join(registered))
    except RPCError as refused:
        _log.warning(
            "cannot register the search attributes (%s); register them with: %s",
            refused.message, "; ".join(create_commands()),
        )  # fmt: skip


async def _make_current(client: Client, build: Build) -> None:
    """New executions start on ``build`` from now on; raises :class:`RuntimeError` (a
    set-up error) with the server's reason when it refuses."""
    try:
        await make_current(client, build)
    except RPCError as refused:
        raise RuntimeError(
            f"cannot make build {build.build_id!r} of deployment {build.deployment!r} "
            f"current: {refused.message}"
        ) from None


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    """Where the workers connect and what they hold."""

    address: str
    namespace: str
    task_queue: str
    functions: Path | None = None
    connections: Path | None = None
    resources: Path | None = None
    #: The workers' version (Worker Versioning), or None: unversioned.
    build: Build | None = None
    #: Whether they make their version the current one once they poll.
    current: bool = False

    def arguments(self) -> list[str]:
        """These settings as ``asl worker``'s options."""
        options = [
            "--temporal-address", self.address, "--namespace", self.namespace,
            "--task-queue", self.task_queue,
        ]  # fmt: skip
        if self.build is not None:
            options += ["--deployment", self.build.deployment, "--build-id", self.build.build_id]
        if self.current:
            options.append("--make-current")
        for name, path in (
            ("--functions", self.functions),
            ("--connections", self.connections),
            ("--resources", self.resources),
        ):
            if path is not None:
                options += [name, str(path)]
        return options


async def serve_worker(settings: WorkerSettings, ready: Callable[[], None]) -> None:
    """Run one worker until SIGINT or SIGTERM (``ready()`` once it polls); raises
    :class:`TemporalUnreachable` when the server does not answer."""
    engine = local_engine(
        functions=settings.functions,
        connections=settings.connections,
        resources=settings.resources,
    )
    assert isinstance(engine.host, LocalHost)  # local_engine's: its invoker holds them
    try:
        for opener in engine.openers:  # the declared AWS resources, created once
            await opener()
        client = await connect_client(settings)
        await ensure_search_attributes(client)
        stopped = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stopped.set)
        async with new_worker(
            client, engine.host.invoker, task_queue=settings.task_queue, build=settings.build
        ):
            if settings.build is not None and settings.current:
                await _make_current(client, settings.build)
            settle_heap()  # the worker's process is its own (asl worker runs it alone)
            ready()
            await stopped.wait()
    finally:
        await engine.aclose()


def run_processes(settings: WorkerSettings, processes: int) -> int:
    """Run ``processes`` worker processes until SIGINT or SIGTERM (passed on to them);
    the highest exit code of theirs."""
    command = [sys.executable, "-m", "runtime.cli", "worker", *settings.arguments()]
    children = [subprocess.Popen(command) for _ in range(processes)]

    def forward(signum: int, _frame: object) -> None:
        for child in children:
            child.send_signal(signum)

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, forward)
    return max(child.wait() for child in children)
