"""Local Python Lambda functions, run with Lambda's observable behaviour.

:class:`LocalFunctions` is the integration that serves both Task resource shapes that
reach Lambda:

- ``arn:aws:states:::lambda:invoke`` (key ``lambda:invoke``): Parameters ``FunctionName``,
  ``Payload``, ``InvocationType``, ``Qualifier``, ``ClientContext``, ``LogType``; the result
  is Lambda's Invoke response envelope as Step Functions records it.
- a function ARN used directly (key ``lambda-function``): the event is the state's
  effective input and the result is the function's return value.

A function is a :class:`LocalFunction` (handler, timeout, memory, environment, reserved
concurrency, isolation). How its handler runs is an :class:`Executor` strategy
(``integrations.lambda_runtime``): by default :class:`InProcessExecutor`, in this process;
a function registered with ``isolation="process"`` runs in a pool of worker processes
(``integrations.lambda_workers.WorkerPoolExecutor``) that survives crashes, kills hung
handlers, caps memory and sets environment variables for real; a sync handler registered
with ``isolation="inline"`` runs in place on the event loop's thread
(``integrations.lambda_inline.InlineExecutor``): no hand-off to a thread, but nothing else
runs while it does.

Request ids, the ``Date`` and ``X-Amzn-Trace-Id`` headers, log stream names, deadlines,
durations and timeouts come from the request's
:class:`~integrations.base.TaskServices` (the Host's clock and entropy), so a seeded run
gives the same envelopes byte for byte.

Its parts: ``lambda_refs`` (function names, ARNs, settings), ``lambda_api`` (Invoke's
envelope and errors), ``lambda_billing`` (what each invocation would be billed).
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import time
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from types import MappingProxyType, SimpleNamespace
from typing import Any

from asl.errors import StatesError
from integrations.base import Registry, TaskRequest, TaskServices
from integrations.handler_logs import log_tail
from integrations.lambda_api import (
    envelope,
    event_of,
    function_error,
    parse_client_context,
    service_error,
    throttled,
    validation_error,
)
from integrations.lambda_billing import (
    KEPT_INVOCATIONS,
    Billing,
    Fields,
    Invocation,
    Invocations,
    bill,
)
from integrations.lambda_inline import InlineExecutor
from integrations.lambda_refs import (
    REF_PATTERN_TEXT,
    FunctionRef,
    checked_function,
    parse_function_ref,
)
from integrations.lambda_runtime import (
    LATEST,
    Event,
    Executor,
    Handler,
    InProcessExecutor,
    Isolation,
    LambdaContext,
    LocalFunction,
    Outcome,
    Saturated,
)
from integrations.lambda_workers import WorkerPoolExecutor

__all__ = [
    "KEPT_INVOCATIONS",
    "LATEST",
    "Billing",
    "Executor",
    "FunctionRef",
    "Handler",
    "InProcessExecutor",
    "Invocation",
    "Isolation",
    "LambdaContext",
    "LocalFunction",
    "LocalFunctions",
    "Outcome",
    "parse_function_ref",
]

_log = logging.getLogger(__name__)

_INVOCATION_TYPES = ("Event", "RequestResponse", "DryRun")


@dataclass(slots=True)  # not frozen: one is made per invocation, and frozen ones are slower
class _Call:
    """One invocation on its way to an executor."""

    function: LocalFunction
    arn: str
    event: Event
    client_context: SimpleNamespace | None
    request_id: str
    services: TaskServices


class LocalFunctions:
    """The Lambda integration backed by local Python handlers.

    ``executor`` runs every function registered with ``isolation="thread"`` (the
    default): an :class:`InProcessExecutor` unless given. Functions registered with
    ``isolation="process"`` run in ``workers``, a
    :class:`~integrations.lambda_workers.WorkerPoolExecutor` made on first need. A sync
    handler registered with ``isolation="inline"`` is called in place on the event loop's
    thread (:class:`~integrations.lambda_inline.InlineExecutor`: for handlers that compute
    and return, since one that blocks stalls every execution); an async one with
    ``"inline"`` runs as with ``"thread"``. Call :meth:`aclose` (or :meth:`close`) when
    done, to stop worker processes.

    Every request id, date, trace id, log stream name, timeout and billed duration comes
    from the request's :class:`~integrations.base.TaskServices` (the Host's clock and
    entropy), so a seeded run repeats. A virtual clock stands still while a handler runs:
    every run then bills its 1 ms minimum (a timeout bills the whole timeout); a real
    clock bills what the handler took.

    :attr:`invocations` holds the latest ``keep`` invocations (:data:`KEPT_INVOCATIONS`
    by default), oldest first, each with its log; :attr:`billing` counts every one.
    """

    def __init__(
        self,
        executor: Executor | None = None,
        *,
        workers: WorkerPoolExecutor | None = None,
        keep: int = KEPT_INVOCATIONS,
    ) -> None:
        self._executor: Executor = executor if executor is not None else InProcessExecutor()
        self._workers = workers
        self._inline = InlineExecutor()
        self._functions: dict[str, LocalFunction] = {}
        self._in_flight: dict[str, int] = {}
        self._background: set[asyncio.Task[Any]] = set()
        self.invocations = Invocations(keep)
        self.billing = Billing()
        #: Told of each invocation as it ends (``asl run --logs`` prints its log).
        self.on_invocation: Callable[[Invocation], None] | None = None

    def register(
        self,
        name_or_arn: str,
        handler: Handler,
        *,
        timeout: int = 3,
        memory: int = 128,
        environment: Mapping[str, str] | None = None,
        reserved_concurrency: int | None = None,
        isolation: Isolation = "thread",
    ) -> LocalFunction:
        """Add a function by name or ARN; raises ValueError for a value Lambda would refuse,
        or for a handler a worker process cannot import when the function runs in one.

        A qualifier in ``name_or_arn`` is accepted and ignored: the one registered handler
        serves every qualifier, as ``$LATEST``.
        """
        function = checked_function(
            name_or_arn, handler, timeout, memory, environment, reserved_concurrency, isolation
        )
        if function.name in self._functions:
            raise ValueError(f"function {function.name} is already registered")
        executor = self._executor_for(function)
        if isinstance(executor, WorkerPoolExecutor):
            executor.check(function)
        self._functions[function.name] = function
        return function

    def _executor_for(self, function: LocalFunction) -> Executor:
        isolation = function.isolation
        if isolation == "thread":
            return self._executor
        if isolation == "inline":  # an async handler runs in place already
            return self._executor if function.is_async else self._inline
        if self._workers is None:
            self._workers = WorkerPoolExecutor()
        return self._workers

    async def aclose(self) -> None:
        """Wait for asynchronous invocations, then stop every worker process."""
        await self.drain()
        for executor in (self._executor, self._workers):
            close = getattr(executor, "aclose", None)
            if close is not None:
                await close()

    def close(self) -> None:
        """Stop every worker process at once (for owners without an event loop)."""
        for executor in (self._executor, self._workers):
            close = getattr(executor, "close", None)
            if close is not None:
                close()

    @property
    def functions(self) -> Mapping[str, LocalFunction]:
        """The registered functions by name."""
        return MappingProxyType(self._functions)

    def install(self, registry: Registry) -> None:
        """Serve ``lambda:invoke`` and function-ARN Task resources from this registry."""
        registry.register("lambda:invoke", self)
        registry.register("lambda-function", self)

    def gb_seconds(self) -> float:
        """Billed GB-seconds of every invocation so far."""
        return self.billing.gb_seconds

    def invoke(self, request: TaskRequest) -> Coroutine[Any, Any, Any]:
        """Run the Task: the Invoke envelope for ``lambda:invoke``, the raw result otherwise
        (the coroutine of the one that serves it: no frame of this one's in between)."""
        if request.resource.key == "lambda:invoke":
            return self._invoke_service(request)
        if request.resource.key == "lambda-function":
            return self._invoke_legacy(request)
        raise ValueError(f"LocalFunctions cannot serve the resource {request.resource.arn}")

    async def _invoke_legacy(self, request: TaskRequest) -> Any:
        resource = request.resource
        ref = _arn_ref(resource.arn, resource.name, resource.region, resource.account)
        function, arn = self._find(ref, request)
        event = Event.of_value(request.parameters)
        services = request.services
        call = _Call(function, arn, event, None, services.new_uuid(), services)
        outcome, _ = await self._run(call)
        if outcome.function_error:
            raise function_error(outcome.payload, compact=False)
        return outcome.result()

    async def _invoke_service(self, request: TaskRequest) -> Any:
        params = request.parameters
        if not isinstance(params, Mapping) or not isinstance(params.get("FunctionName"), str):
            raise StatesError(
                "States.Runtime",
                "The Parameters of a lambda:invoke Task need a FunctionName text, "
                f"got {json.dumps(params)}",
            )
        services = request.services
        ref = self._service_ref(params, services)
        invocation_type = params.get("InvocationType", "RequestResponse")
        if invocation_type not in _INVOCATION_TYPES:
            raise validation_error(
                "invocationType",
                invocation_type,
                "Member must satisfy enum value set: [Event, RequestResponse, DryRun]",
                services.new_uuid(),
            )
        function, arn = self._find(ref, request, latest=True)
        request_id = services.new_uuid()
        if invocation_type == "DryRun":
            return envelope(None, 204, request_id, services, executed=False)
        context = parse_client_context(params.get("ClientContext"))
        call = _Call(function, arn, event_of(params), context, request_id, services)
        if invocation_type == "Event":
            self._start_event(call)
            return envelope(None, 202, request_id, services, executed=False)
        outcome, record = await self._run(call)
        if outcome.function_error:
            raise function_error(outcome.payload, compact=True)
        log = log_tail(Invocation(*record).log()) if params.get("LogType") == "Tail" else None
        return envelope(outcome, 200, request_id, services, log_result=log)

    def _service_ref(self, params: Mapping[str, Any], services: TaskServices) -> FunctionRef:
        name = params["FunctionName"]
        ref = parse_function_ref(name)
        if ref is None:
            constraint = f"Member must satisfy regular expression pattern: {REF_PATTERN_TEXT}"
            raise validation_error("functionName", name, constraint, services.new_uuid())
        qualifier = params.get("Qualifier")
        if qualifier is not None and ref.qualifier is not None and qualifier != ref.qualifier:
            raise service_error(
                "InvalidParameterValueException",
                400,
                "The derived qualifier from the function name does not match the specified "
                "qualifier.",
                services.new_uuid(),
            )
        if isinstance(qualifier, str):
            return FunctionRef(ref.name, ref.region, ref.account, qualifier, ref.partition)
        return ref

    def _find(
        self, ref: FunctionRef, request: TaskRequest, *, latest: bool = False
    ) -> tuple[LocalFunction, str]:
        """The function a reference names, and the ARN it was invoked by. With ``latest``,
        a missing unqualified function is reported as ``...:$LATEST``, as ``lambda:invoke``
        reports it (localstack test_task_service_lambda, recorded against AWS 2024-11)."""
        region = ref.region or request.region
        account = ref.account or request.account
        arn = f"arn:{ref.partition}:lambda:{region}:{account}:function:{ref.name}"
        if ref.qualifier is not None:
            arn += f":{ref.qualifier}"
        function = self._functions.get(ref.name)
        if (
            function is None
            or function.region not in (None, region)
            or function.account not in (None, account)
        ):
            missing = f"{arn}:{LATEST}" if latest and ref.qualifier is None else arn
            raise service_error(
                "ResourceNotFoundException",
                404,
                f"Function not found: {missing}",
                request.services.new_uuid(),
            )
        return function, arn

    def _acquire(self, function: LocalFunction, limit: int, request_id: str) -> None:
        running = self._in_flight.get(function.name, 0)
        if running >= limit:
            raise throttled(request_id)
        self._in_flight[function.name] = running + 1

    async def _run(self, call: _Call) -> tuple[Outcome, Fields]:
        """Invoke once, within the function's reserved concurrency, and record the bill."""
        function, services = call.function, call.services
        limit = function.reserved_concurrency  # the invocations in flight counted only then
        if limit is not None:
            self._acquire(function, limit, call.request_id)
        try:
            now = services.now()
            day = _log_day(int(now))
            # Positional (function_name, invoked_function_arn, memory_limit_in_mb,
            # aws_request_id, log_stream_name, deadline_epoch, environment, timer_deadline,
            # client_context): one per invocation, and each keyword costs more than the value.
            context = LambdaContext(
                function.name, call.arn, str(function.memory), call.request_id,
                f"{day}/[{LATEST}]{services.new_uuid().replace('-', '')}",
                now + function.timeout, function.environment,
                time.monotonic() + function.timeout, call.client_context,
            )  # fmt: skip
            executor = self._executor_for(function)
            try:
                outcome = await executor.run(function, call.event, context, services)
            except Saturated:  # earlier invocations still hold its sandboxes (threads)
                raise throttled(call.request_id) from None
            record = bill(function, call.request_id, services.now() - now, outcome)
            self.invocations.add(record)
            self.billing.count(record[3], record[4], record[6])
            if self.on_invocation is not None:
                self.on_invocation(Invocation(*record))
            return outcome, record
        finally:
            if limit is not None:
                self._in_flight[function.name] -= 1

    def _start_event(self, call: _Call) -> None:
        """An asynchronous (``Event``) invocation: accepted at once, run in the background.

        Lambda queues such events, so a throttle or a function error never reaches the
        caller; both are logged.
        """
        name = call.function.name

        async def background() -> None:
            try:
                outcome, _ = await self._run(call)
            except StatesError as exc:
                _log.warning("asynchronous invocation of %s refused: %s", name, exc)
                return
            if outcome.function_error:
                _log.warning("asynchronous invocation of %s failed: %s", name, outcome)

        task = asyncio.ensure_future(background())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def drain(self) -> None:
        """Wait for every asynchronous (``Event``) invocation still running."""
        while self._background:
            await asyncio.gather(*self._background, return_exceptions=True)


@functools.lru_cache(maxsize=1024)  # a workflow names few functions, over and over
def _arn_ref(arn: str, name: str | None, region: str | None, account: str | None) -> FunctionRef:
    """The function a Task's function ARN resource names (``name``, ``region``,
    ``account``: as the resource parser read them)."""
    parts = arn.split(":")  # arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME[:Q]
    qualifier = parts[7] if len(parts) > 7 else None
    return FunctionRef(name or "", region, account, qualifier, parts[1])


@functools.lru_cache(maxsize=1)
def _log_day(second: int) -> str:
    """The date part of a log stream name: ``2025/11/06``."""
    return time.strftime("%Y/%m/%d", time.gmtime(second))
