"""The Host: the interpreter's only door to the world.

The interpreter reads time, sleeps, makes ids, tokens and random numbers, and invokes
Task resources only through a Host; integrations reach the Host's clock and ids through
the request's ``services`` (the Host itself). :class:`LocalHost` runs everything in this
process on asyncio, with a real or a virtual clock (see :mod:`runtime.clock`).
"""

from __future__ import annotations

import asyncio
import base64
import secrets
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Literal, Protocol

from asl.bindings import Entropy, SystemEntropy
from asl.jsontext import json_text
from integrations.base import Invoker, Registry, TaskRequest
from runtime.activities import Activities
from runtime.clock import Clock, Deadline, RealClock, VirtualClock, Wake
from runtime.in_order import InOrder
from runtime.map_children import MapChildren
from runtime.store import NewTask, TaskRecord, TaskStore
from runtime.tokens import OnStarted, TaskTokens


class Host(Protocol):
    """What an execution may ask of the world."""

    clock: Clock
    entropy: Entropy
    #: Whether an expression evaluation too long for a slice of the event loop goes on
    #: on the loop itself, with its whole budget, rather than on a worker thread: a
    #: Temporal workflow owns its loop and may start no thread.
    evaluates_inline: bool
    #: Whether its runs must repeat exactly (seeded, or replayed by Temporal): an expression
    #: evaluation then leaves the event loop by its step count alone, never by the clock,
    #: so how loaded the machine is does not change its path (see asl.limits.slices_by_steps).
    repeatable: bool
    #: Who runs a Distributed Map's child executions outside this process (a Temporal
    #: workflow's child workflows); None: they run here, as strands of their parent.
    map_children: MapChildren | None

    def now(self) -> float:
        """Seconds since the Unix epoch, by the Host's clock."""
        ...

    def sleep(self, seconds: float) -> Awaitable[None]:
        """Wait ``seconds`` of the Host's time (to be awaited at once)."""
        ...

    async def pause(self) -> None:
        """Let other work run a moment (a long run of states that never wait calls it)."""
        ...

    def timer(self, seconds: float, elapsed: float = 0.0) -> Wake:
        """A future done when the Host's clock reaches now + ``seconds`` (``elapsed``: see
        :meth:`integrations.base.TaskServices.timer`)."""
        ...

    def alone(self) -> bool:
        """Whether the calling strand is all that runs (see
        :meth:`integrations.base.TaskServices.alone`)."""
        ...

    def deadline(self, seconds: float | None) -> Deadline:
        """An async context that times its block out ``seconds`` from now (None: never)."""
        ...

    def new_uuid(self) -> str:
        """A fresh UUID (execution names, request ids)."""
        ...

    def new_task_token(self) -> str:
        """An unguessable task token."""
        ...

    def drop_task_token(self, token: str) -> None:
        """The Task that drew ``token`` ended without waiting on it (or has waited)."""
        ...

    async def invoke(self, request: TaskRequest) -> Any:
        """Run a Task resource; raises StatesError when the task fails."""
        ...

    async def wait_for_token(
        self,
        request: TaskRequest,
        input_value: Any,
        heartbeat: int | None,
        timeout: int | None,
        *,
        started: float | None = None,
    ) -> Any:
        """Wait until the request's task token is answered; a missed heartbeat or the
        timeout raises ``States.Timeout``, SendTaskFailure its error. ``started``: when
        the wait began, if before now (a recovered execution's)."""
        ...

    async def wait_for_activity(
        self,
        request: TaskRequest,
        on_started: OnStarted,
        *,
        started: float | None = None,
        token: str | None = None,
    ) -> Any:
        """Schedule an activity task and wait for a worker's answer; ``on_started(worker)``
        is called when a worker takes it. Errors and ``started`` as :meth:`wait_for_token`;
        ``token``: the task's token, if it has one already (a recovered execution's)."""
        ...


#: Where a seeded virtual clock starts unless told otherwise: 2025-01-01T00:00:00Z.
SEEDED_START = 1_735_689_600.0


class LocalHost:
    """A Host in this process: asyncio, a real or virtual clock, local integrations.

    With a ``seed``, everything observable comes from it: ids, task tokens, random
    numbers, the virtual clock's start time (``start``, by default :data:`SEEDED_START`)
    and the order in which concurrent Tasks' results come back; two runs of one
    definition and input repeat to the byte.
    Seeded task tokens are guessable: a seed is for tests, never for a served engine.

    Task tokens and activity tasks are kept in ``task_store`` (in memory by default). With
    ``external_answers``, a wait for a token or an activity task counts as work outside
    the clock: the virtual clock stands still while a person or another process answers
    (``asl run`` with a shared store); without it, time jumps to the next heartbeat or
    timeout when nothing else can run (tests of timeouts take no time).
    ``on_task_waiting(record)`` is told of each task an execution starts waiting on.
    """

    def __init__(
        self,
        *,
        clock: Clock | Literal["virtual", "real"] = "virtual",
        invoker: Invoker | None = None,
        seed: int | None = None,
        start: float | None = None,
        task_store: TaskStore | None = None,
        external_answers: bool = False,
        on_task_waiting: Callable[[TaskRecord], None] | None = None,
    ) -> None:
        if clock == "virtual":
            if start is None and seed is not None:
                start = SEEDED_START
            clock = VirtualClock(start)
        elif clock == "real":
            clock = RealClock()
        self.clock: Clock = clock
        self.invoker: Invoker = invoker if invoker is not None else Registry()
        self.entropy: Entropy = SystemEntropy(seed)
        self._seeded = seed is not None
        self.repeatable = self._seeded
        # Seeded: Task results come back in the order the Tasks started (see in_order).
        self._in_order = InOrder(clock) if self._seeded else None
        self.tokens = TaskTokens(clock, task_store, on_waiting=on_task_waiting)
        self.activities = Activities(self.tokens, clock)
        self.external_answers = external_answers
        self.evaluates_inline = False
        self.map_children: MapChildren | None = None

    def now(self) -> float:
        """Seconds since the Unix epoch, by this Host's clock."""
        return self.clock.now()

    def sleep(self, seconds: float) -> Awaitable[None]:
        """Park the calling strand on this Host's clock (what the clock gives: no frame of
        the Host's in between)."""
        return self.clock.sleep(seconds)

    async def pause(self) -> None:
        """One turn of the event loop."""
        await asyncio.sleep(0)

    def timer(self, seconds: float, elapsed: float = 0.0) -> Wake:
        """A future done when this Host's clock reaches now + ``seconds`` (``elapsed``: see
        :meth:`integrations.base.TaskServices.timer`)."""
        return self.clock.timer(seconds, elapsed=elapsed)

    def alone(self) -> bool:
        """Whether the calling strand is all that runs on this Host's clock."""
        return self.clock.alone()

    def deadline(self, seconds: float | None) -> Deadline:
        """A timeout ``seconds`` from now on this Host's clock."""
        return self.clock.deadline(seconds)

    def new_uuid(self) -> str:
        """A UUID from this Host's entropy (deterministic when seeded)."""
        return self.entropy.uuid4()

    def new_task_token(self) -> str:
        """256 random bits, URL-safe: unguessable, except from a seeded Host (tests). Never
        starting with ``-``, so a token pasted into a command is not read as an option."""
        if not self._seeded:
            token = secrets.token_urlsafe(32)
        else:
            raw = bytes.fromhex((self.entropy.uuid4() + self.entropy.uuid4()).replace("-", ""))
            token = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
        token = "A" + token[1:] if token.startswith("-") else token
        self.tokens.issued(token)
        return token

    def drop_task_token(self, token: str) -> None:
        """The Task that drew ``token`` is done with it: an answer is no longer kept for
        a wait on it that has not been recorded (see :meth:`TaskTokens.issued`)."""
        self.tokens.dropped(token)

    def invoke(self, request: TaskRequest) -> Coroutine[Any, Any, Any]:
        """Run the request through the invoker (the calling strand runs meanwhile, so
        the clock does not jump; its timers fire in real time). A seeded Host hands
        results back in the order the invocations started. (The invoker's coroutine
        itself when unseeded: no frame of the Host's in between.)"""
        if self._in_order is None:
            return self.invoker.invoke(request)
        return self._in_order.run(self.invoker.invoke(request))

    async def wait_for_token(
        self,
        request: TaskRequest,
        input_value: Any,
        heartbeat: int | None,
        timeout: int | None,
        *,
        started: float | None = None,
    ) -> Any:
        """Wait for SendTaskSuccess/Failure on the request's token (see :class:`TaskTokens`)."""
        assert request.task_token is not None
        task = NewTask(
            request.task_token, "callback", request.execution_arn, request.state_name,
            request.resource.arn, json_text(input_value), heartbeat, timeout,
        )  # fmt: skip
        return await self._wait(task, None, started)

    async def wait_for_activity(
        self,
        request: TaskRequest,
        on_started: OnStarted,
        *,
        started: float | None = None,
        token: str | None = None,
    ) -> Any:
        """Schedule an activity task (under a new token unless given one) and wait for a
        worker's answer."""
        token = self.new_task_token() if token is None else token
        task = NewTask(
            token, "activity", request.execution_arn, request.state_name,
            request.resource.arn, json_text(request.parameters), request.heartbeat_seconds,
            request.timeout_seconds,
        )  # fmt: skip
        return await self._wait(task, on_started, started)

    async def _wait(
        self, task: NewTask, on_started: OnStarted | None, started: float | None
    ) -> Any:
        if not self.external_answers:
            return await self.tokens.wait(task, on_started=on_started, started=started)
        with self.clock.hold():
            return await self.tokens.wait(task, on_started=on_started, started=started)
