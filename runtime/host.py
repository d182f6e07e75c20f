"""The Host: the interpreter's only door to the world.

The interpreter reads time, sleeps, makes ids, tokens and random numbers, and invokes
Task resources only through a Host. :class:`LocalHost` runs everything in this process
on asyncio, with a real or a virtual clock (see :mod:`runtime.clock`).
"""

from __future__ import annotations

import secrets
from typing import Any, Literal, Protocol

from asl.bindings import Entropy, SystemEntropy
from integrations.base import Invoker, Registry, TaskRequest
from runtime.clock import Clock, RealClock, VirtualClock
from runtime.tokens import TaskTokens


class Host(Protocol):
    """What an execution may ask of the world."""

    clock: Clock
    entropy: Entropy

    def now(self) -> float:
        """Seconds since the Unix epoch, by the Host's clock."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of the Host's time."""
        ...

    def new_uuid(self) -> str:
        """A fresh UUID (execution names, request ids)."""
        ...

    def new_task_token(self) -> str:
        """An unguessable task token."""
        ...

    async def invoke(self, request: TaskRequest) -> Any:
        """Run a Task resource; raises StatesError when the task fails."""
        ...

    async def wait_for_token(
        self, request: TaskRequest, input_value: Any, heartbeat: int | None, timeout: int | None
    ) -> Any:
        """Wait until the request's task token is answered; a missed heartbeat or the
        timeout raises ``States.Timeout``, SendTaskFailure its error."""
        ...


class LocalHost:
    """A Host in this process: asyncio, a real or virtual clock, local integrations."""

    def __init__(
        self,
        *,
        clock: Clock | Literal["virtual", "real"] = "virtual",
        invoker: Invoker | None = None,
        seed: int | None = None,
    ) -> None:
        if clock == "virtual":
            clock = VirtualClock()
        elif clock == "real":
            clock = RealClock()
        self.clock: Clock = clock
        self.invoker: Invoker = invoker if invoker is not None else Registry()
        self.entropy: Entropy = SystemEntropy(seed)
        self.tokens = TaskTokens(self.now)

    def now(self) -> float:
        """Seconds since the Unix epoch, by this Host's clock."""
        return self.clock.now()

    async def sleep(self, seconds: float) -> None:
        """Wait on this Host's clock."""
        await self.clock.sleep(seconds)

    def new_uuid(self) -> str:
        """A UUID from this Host's entropy (deterministic when seeded)."""
        return self.entropy.uuid4()

    def new_task_token(self) -> str:
        """256 random bits, URL-safe; never from the seeded source, so never guessable."""
        return secrets.token_urlsafe(32)

    async def invoke(self, request: TaskRequest) -> Any:
        """Run the request through the invoker; time stands still while it runs."""
        clock = self.clock
        clock.begin_external()
        try:
            return await self.invoker.invoke(request)
        finally:
            clock.end_external()

    async def wait_for_token(
        self, request: TaskRequest, input_value: Any, heartbeat: int | None, timeout: int | None
    ) -> Any:
        """Wait for SendTaskSuccess/Failure on the request's token (see :class:`TaskTokens`)."""
        assert request.task_token is not None
        return await self.tokens.wait(
            request.task_token,
            execution_arn=request.execution_arn,
            state_name=request.state_name,
            input_value=input_value,
            heartbeat=heartbeat,
            timeout=timeout,
            sleep=self.sleep,
        )
