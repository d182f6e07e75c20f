"""The contract between the engine and the integrations that run Task states.

The engine sees only :class:`Invoker`: given a :class:`TaskRequest` it returns the Task's
result or raises :class:`asl.errors.StatesError`. A :class:`Registry` is the usual
Invoker: it maps a Task ``Resource`` (parsed into a :class:`Resource`) to the
:class:`Integration` registered for it.

An integration reaches the Host running the Task only through the request's
:class:`TaskServices`: its clock, its entropy and its timers. Whatever an integration
makes up itself (request ids, dates, timeouts) comes from there, so a seeded run repeats
byte for byte and every timeout runs on the Host's clock.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar

from asl.errors import StatesError
from asl.jsontext import json_text

Pattern = Literal["request-response", "sync", "sync:2", "waitForTaskToken"]
#: Which family of history events a resource records: TaskScheduled..., LambdaFunction...,
#: or Activity....
HistoryKind = Literal["task", "lambda", "activity"]

_SERVICE_ARN = re.compile(r"^arn:aws[\w-]*:states:[\w-]*:\d*:(?P<service>[\w-]+):(?P<rest>.+)$")
_LAMBDA_ARN = re.compile(
    r"^arn:aws[\w-]*:lambda:(?P<region>[\w-]+):(?P<account>\d+):function:(?P<name>[^:]+)(?::.+)?$"
)
_ACTIVITY_ARN = re.compile(
    r"^arn:aws[\w-]*:states:(?P<region>[\w-]+):(?P<account>\d+):activity:(?P<name>.+)$"
)
_SUFFIXES: tuple[tuple[str, Pattern], ...] = (
    (".waitForTaskToken", "waitForTaskToken"),
    (".sync:2", "sync:2"),
    (".sync", "sync"),
)


@dataclass(frozen=True, slots=True)
class Resource:
    """A Task ``Resource`` ARN taken apart.

    ``key`` is what a :class:`Registry` matches on: ``lambda:invoke``,
    ``aws-sdk:s3:getObject``, ``lambda-function`` (a function ARN used directly) or
    ``activity``. ``resource_type`` and ``resource_name`` are what TaskScheduled records
    (``"lambda"`` and ``"invoke"`` for ``arn:aws:states:::lambda:invoke``).
    """

    arn: str
    kind: HistoryKind
    key: str
    pattern: Pattern
    resource_type: str
    resource_name: str
    region: str | None = None
    account: str | None = None
    name: str | None = None


def parse_resource(arn: str) -> Resource:
    """Take a Task ``Resource`` apart; raises ``ValueError`` for an ARN of no known shape."""
    if m := _LAMBDA_ARN.match(arn):
        return Resource(
            arn, "lambda", "lambda-function", "request-response", "lambda", arn,
            m["region"], m["account"], m["name"],
        )  # fmt: skip
    if m := _ACTIVITY_ARN.match(arn):
        return Resource(
            arn, "activity", "activity", "request-response", "activity", arn,
            m["region"], m["account"], m["name"],
        )  # fmt: skip
    if m := _SERVICE_ARN.match(arn):
        rest = m["rest"]
        pattern: Pattern = "request-response"
        suffix = ""
        for candidate, candidate_pattern in _SUFFIXES:
            if rest.endswith(candidate):
                rest, pattern, suffix = rest[: -len(candidate)], candidate_pattern, candidate
                break
        service, _, action = rest.rpartition(":")
        service = f"{m['service']}:{service}" if service else m["service"]
        return Resource(arn, "task", f"{service}:{action}", pattern, service, action + suffix)
    raise ValueError(f"'{arn}' is not a Task resource ARN")


_T = TypeVar("_T")


class Timer(Protocol):
    """Makes a future done after that many seconds on the Host's clock
    (:meth:`TaskServices.timer`)."""

    def __call__(self, seconds: float, elapsed: float = 0.0) -> asyncio.Future[Any]:
        """See :meth:`TaskServices.timer`."""
        ...


class TaskServices(Protocol):
    """What an integration may ask of the Host running the Task."""

    def now(self) -> float:
        """Seconds since the Unix epoch, on the Host's clock."""
        ...

    def new_uuid(self) -> str:
        """A random UUID (version 4 text) from the Host's entropy: seeded runs repeat."""
        ...

    def timer(self, seconds: float, elapsed: float = 0.0) -> asyncio.Future[Any]:
        """A future done when the Host's clock reaches now + ``seconds``; cancelling it
        removes the timer from the clock. ``elapsed``: real seconds of it that passed
        already while the event loop was held (an inline handler's call, set only once it
        returned), so the Host's time stood still: it is due that much sooner in real
        time, at the same time on the Host's clock."""
        ...

    def alone(self) -> bool:
        """Whether the Task's strand is all that runs on the Host now: every other strand
        of its executions waits on its clock or its engine. A Task that answered without
        waiting lets the others go first (one turn of the event loop), as they would while
        a thread ran its handler, unless there are none."""
        ...


class SystemServices:
    """:class:`TaskServices` of the wall clock, :func:`uuid.uuid4` and the running loop's
    timers: the default of a :class:`TaskRequest` built without a Host."""

    def now(self) -> float:
        """``time.time()``."""
        return time.time()

    def new_uuid(self) -> str:
        """``uuid.uuid4()`` as text."""
        return str(uuid.uuid4())

    def alone(self) -> bool:
        """False: whatever else runs, it may go first."""
        return False

    def timer(self, seconds: float, elapsed: float = 0.0) -> asyncio.Future[Any]:
        """A future the running loop completes after ``seconds`` less ``elapsed``
        (``call_later``)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        handle = loop.call_later(seconds - elapsed, settle, future, None)
        future.add_done_callback(lambda _: handle.cancel())
        return future


#: The services of a request made without a Host (tests, direct calls).
SYSTEM_SERVICES: TaskServices = SystemServices()


def settle(future: asyncio.Future[_T], value: _T) -> None:
    """Give ``future`` its result, unless it is done already (cancelled, say)."""
    if not future.done():
        future.set_result(value)


async def before(work: asyncio.Future[_T], deadline: asyncio.Future[Any]) -> _T:
    """``work``'s result, or TimeoutError if ``deadline`` is done first.

    The loser is cancelled: ``work`` when the deadline comes first (or when the caller is
    cancelled), ``deadline`` when ``work`` ends first. ``work`` is awaited, so its
    cancellation must be prompt: a plain future, or a task that does not resist it.
    """
    expired = False

    def expire(_: object) -> None:
        nonlocal expired
        if not deadline.cancelled():
            expired = True
            work.cancel()

    deadline.add_done_callback(expire)
    try:
        return await work
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if expired and (task is None or not task.cancelling()):
            raise TimeoutError from None
        raise
    finally:
        deadline.remove_done_callback(expire)
        deadline.cancel()


@dataclass(slots=True)
class TaskRequest:
    """One invocation of a Task state's resource; ``services`` is the Host running it.

    Read-only by contract: an integration or invoker reads its fields and never assigns
    them (the engine, a journal and the invokers in front hand the same request on; make a
    changed one with ``dataclasses.replace``). Not frozen, because one is built per Task
    attempt and a frozen dataclass's construction costs several times more."""

    resource: Resource
    parameters: Any
    state_name: str
    execution_arn: str
    state_machine_arn: str
    region: str
    account: str
    task_token: str | None = None
    timeout_seconds: int | None = None
    heartbeat_seconds: int | None = None
    credentials: Any = None
    retry_count: int = 0
    services: TaskServices = SYSTEM_SERVICES


@dataclass(frozen=True, slots=True)
class CallbackResult:
    """Returned for a ``.waitForTaskToken`` Task whose callback the invoker answered
    itself (a mocked task): ``output`` is the task's result and the engine does not wait
    for the token."""

    output: Any


class Integration(Protocol):
    """Runs one kind of Task resource."""

    async def invoke(self, request: TaskRequest) -> Any:
        """The Task's result; raises StatesError when the task fails."""
        ...


class Invoker(Protocol):
    """What the engine calls to run a Task."""

    async def invoke(self, request: TaskRequest) -> Any:
        """The Task's result; raises StatesError when the task fails."""
        ...


def not_served(request: TaskRequest) -> StatesError:
    """The error for a resource (or pattern) no integration serves."""
    return StatesError(
        "States.Runtime",
        f"No integration is configured for the resource '{request.resource.arn}' "
        f"of state '{request.state_name}'.",
    )


def object_parameters(request: TaskRequest) -> dict[str, Any]:
    """The request's Parameters, which this resource needs to be an object."""
    params = request.parameters
    if not isinstance(params, dict):
        raise StatesError(
            "States.Runtime",
            f"The Parameters of the {request.resource.key} resource must be an object, "
            f"got {json_text(params)}",
        )
    return params


async def _raise(error: StatesError) -> Any:
    """Raise ``error`` when awaited (where the Task's result is awaited, as any failure)."""
    raise error


class FunctionIntegration:
    """An integration made of one async function (handy for tests and small adapters)."""

    def __init__(self, function: Callable[[TaskRequest], Awaitable[Any]]) -> None:
        self._function = function

    async def invoke(self, request: TaskRequest) -> Any:
        """Call the function."""
        return await self._function(request)


class Registry:
    """Integrations by resource key; the longest registered prefix of a key wins."""

    def __init__(self) -> None:
        self._by_prefix: dict[str, Integration] = {}
        self._by_key: dict[str, Integration | None] = {}

    def register(self, key_prefix: str, integration: Integration) -> None:
        """Serve every resource whose key starts with ``key_prefix`` (e.g. ``aws-sdk:``)."""
        self._by_prefix[key_prefix] = integration
        self._by_key.clear()

    def find(self, resource: Resource) -> Integration | None:
        """The integration for a resource, or None."""
        key = resource.key
        if key in self._by_key:
            return self._by_key[key]
        best = max((p for p in self._by_prefix if key.startswith(p)), key=len, default=None)
        found = None if best is None else self._by_prefix[best]
        self._by_key[key] = found
        return found

    def invoke(self, request: TaskRequest) -> Coroutine[Any, Any, Any]:
        """Run the request on its integration (the integration's own coroutine: no frame
        of the registry's stays between the Task and it)."""
        integration = self.find(request.resource)
        if integration is None:
            return _raise(not_served(request))
        return integration.invoke(request)
