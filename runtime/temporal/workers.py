"""``asl worker``'s work: one worker in this process, or several in processes of their
own, each with the integrations of the functions, connections and resources given,
until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from temporalio.client import Client

from runtime.host import LocalHost
from runtime.temporal.worker import new_worker
from runtime.testing import local_engine


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    """Where the workers connect and what they hold."""

    address: str
    namespace: str
    task_queue: str
    functions: Path | None = None
    connections: Path | None = None
    resources: Path | None = None

    def arguments(self) -> list[str]:
        """These settings as ``asl worker``'s options."""
        options = [
            "--temporal-address", self.address, "--namespace", self.namespace,
            "--task-queue", self.task_queue,
        ]  # fmt: skip
        for name, path in (
            ("--functions", self.functions),
            ("--connections", self.connections),
            ("--resources", self.resources),
        ):
            if path is not None:
                options += [name, str(path)]
        return options


async def serve_worker(settings: WorkerSettings, ready: Callable[[], None]) -> None:
    """Run one worker until SIGINT or SIGTERM (``ready()`` once it polls)."""
    engine = local_engine(
        functions=settings.functions,
        connections=settings.connections,
        resources=settings.resources,
    )
    assert isinstance(engine.host, LocalHost)  # local_engine's: its invoker holds them
    try:
        for opener in engine.openers:  # the declared AWS resources, created once
            await opener()
        client = await Client.connect(settings.address, namespace=settings.namespace)
        stopped = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stopped.set)
        async with new_worker(client, engine.host.invoker, task_queue=settings.task_queue):
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
