"""Task tokens: executions waiting on ``.waitForTaskToken``, and the calls that answer them
(SendTaskSuccess, SendTaskFailure, SendTaskHeartbeat)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from asl.errors import TIMEOUT, StatesError


class TaskDoesNotExist(LookupError):
    """No task waits on this token (unknown, or already answered): AWS's error name."""


@dataclass(slots=True)
class PendingTask:
    """One execution waiting on a task token."""

    token: str
    execution_arn: str
    state_name: str
    input: Any
    started: float
    last_heartbeat: float
    future: asyncio.Future[Any] = field(repr=False)


class TaskTokens:
    """The tokens executions of one Host wait on."""

    def __init__(self, now: Callable[[], float]) -> None:
        self._now = now
        self._pending: dict[str, PendingTask] = {}
        self._beats: dict[str, asyncio.Event] = {}

    def pending(self) -> list[PendingTask]:
        """The tasks waiting now, oldest first."""
        return sorted(self._pending.values(), key=lambda p: p.started)

    def _take(self, token: str) -> PendingTask:
        task = self._pending.pop(token, None)
        if task is None or task.future.done():
            raise TaskDoesNotExist(f"Task Does Not Exist: '{token}'")
        self._beats.pop(token, None)
        return task

    def send_success(self, token: str, output: Any) -> None:
        """SendTaskSuccess: the task's result is ``output``."""
        self._take(token).future.set_result(output)

    def send_failure(self, token: str, error: str | None = None, cause: str | None = None) -> None:
        """SendTaskFailure: the task fails with this error and cause."""
        self._take(token).future.set_exception(StatesError(error, cause))  # type: ignore[arg-type]

    def send_heartbeat(self, token: str) -> None:
        """SendTaskHeartbeat: the task is alive; its HeartbeatSeconds start again."""
        task = self._pending.get(token)
        if task is None:
            raise TaskDoesNotExist(f"Task Does Not Exist: '{token}'")
        task.last_heartbeat = self._now()
        self._beats[token].set()

    async def wait(
        self,
        token: str,
        *,
        execution_arn: str,
        state_name: str,
        input_value: Any,
        heartbeat: int | None,
        timeout: int | None,
        sleep: Callable[[float], Awaitable[None]],
    ) -> Any:
        """Wait for the answer to ``token``; a missed heartbeat or the timeout is
        ``States.Timeout`` (AWS reports both so)."""
        loop = asyncio.get_running_loop()
        now = self._now()
        task = PendingTask(
            token, execution_arn, state_name, input_value, now, now, loop.create_future()
        )
        self._pending[token] = task
        beat = self._beats[token] = asyncio.Event()
        try:
            while True:
                limits = []
                if timeout is not None:
                    limits.append(task.started + timeout)
                if heartbeat is not None:
                    limits.append(task.last_heartbeat + heartbeat)
                waiters: set[asyncio.Future[Any]] = {
                    task.future,
                    asyncio.ensure_future(beat.wait()),
                }
                timer = None
                if limits:
                    timer = asyncio.ensure_future(sleep(max(0.0, min(limits) - self._now())))
                    waiters.add(timer)
                done, rest = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
                for other in rest:
                    if other is not task.future:
                        other.cancel()
                if task.future.done():
                    return task.future.result()
                if timer is not None and timer in done:
                    raise StatesError(TIMEOUT, "")
                beat.clear()
        finally:
            self._pending.pop(token, None)
            self._beats.pop(token, None)
