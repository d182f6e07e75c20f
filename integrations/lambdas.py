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
handlers, caps memory and sets environment variables for real.

Request ids, the ``Date`` and ``X-Amzn-Trace-Id`` headers, log stream names, deadlines,
durations and timeouts come from the request's
:class:`~integrations.base.TaskServices` (the Host's clock and entropy), so a seeded run
gives the same envelopes byte for byte.
"""

from __future__ import annotations

import asyncio
import base64
import email.utils
import functools
import hashlib
import json
import logging
import math
import re
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType, SimpleNamespace
from typing import Any

from asl.errors import StatesError
from asl.jsontext import json_text, parse_json
from integrations.base import Registry, TaskRequest, TaskServices
from integrations.handler_logs import log_tail, log_text
from integrations.lambda_runtime import (
    LATEST,
    Executor,
    Handler,
    InProcessExecutor,
    Isolation,
    LambdaContext,
    LocalFunction,
    Outcome,
    Saturated,
    checked_environment,
    dumps,
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

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# What Lambda's Invoke accepts as FunctionName: a name, NAME:qualifier, a partial ARN
# ACCOUNT:function:NAME or a full ARN, each optionally qualified.
_REF = re.compile(
    r"^(?:arn:(?P<partition>aws[a-zA-Z-]*):lambda:(?P<region>[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d):)?"
    r"(?:(?P<account>\d{12}):)?(?:function:)?(?P<name>[A-Za-z0-9_.-]+)"
    r"(?::(?P<qualifier>\$LATEST|[A-Za-z0-9_-]+))?$"
)
_REF_PATTERN_TEXT = (
    r"(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?"
    r"(\d{12}:)?(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?"
)
_INVOCATION_TYPES = ("Event", "RequestResponse", "DryRun")
_ISOLATIONS = ("thread", "process")
#: How many of the latest invocations :attr:`LocalFunctions.invocations` keeps: an engine
#: that serves for weeks must not keep every one (their totals are kept in ``billing``).
KEPT_INVOCATIONS = 10_000


@dataclass(frozen=True, slots=True)
class FunctionRef:
    """A FunctionName taken apart: a name plus whatever region, account, qualifier it gave."""

    name: str
    region: str | None = None
    account: str | None = None
    qualifier: str | None = None
    partition: str = "aws"


@functools.lru_cache(maxsize=1024)  # a workflow names few functions, over and over
def parse_function_ref(text: str) -> FunctionRef | None:
    """Parse NAME, NAME:qualifier, ACCOUNT:function:NAME or an ARN; None if invalid."""
    m = _REF.match(text) if len(text) <= 170 else None
    if m is None:
        return None
    return FunctionRef(
        m["name"], m["region"], m["account"], m["qualifier"], m["partition"] or "aws"
    )


@dataclass(slots=True)  # not frozen: one is made per invocation, and frozen ones are slower
class _Call:
    """One invocation on its way to an executor."""

    function: LocalFunction
    arn: str
    event: str
    client_context: SimpleNamespace | None
    request_id: str
    services: TaskServices


@dataclass(frozen=True, slots=True)
class Invocation:
    """One invocation as Lambda would bill it, and what its handler wrote (``output``)."""

    function: str
    request_id: str
    duration_ms: float
    billed_ms: int
    memory_mb: int
    error: str | None
    output: str = ""

    def log(self) -> str:
        """The invocation's log as Lambda writes it to CloudWatch Logs: START, the
        handler's output, END and REPORT."""
        return log_text(
            self.request_id, self.output, self.duration_ms, self.billed_ms, self.memory_mb
        )


@dataclass(slots=True)
class Billing:
    """What every invocation so far would be billed, however few of them are kept."""

    invocations: int = 0
    billed_ms: int = 0
    gb_seconds: float = 0.0
    #: Whether any handler wrote to its log.
    logged: bool = False

    def add(self, record: Invocation) -> None:
        """Count one more invocation."""
        self.invocations += 1
        self.billed_ms += record.billed_ms
        self.gb_seconds += record.billed_ms / 1000 * record.memory_mb / 1024
        self.logged = self.logged or bool(record.output)


# ---------------------------------------------------------------------------------------
# Registration checks.


def _check_range(label: str, value: Any, low: int, high: int, unit: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{label} must be a whole number of {unit} from {low} to {high}")


def _checked_function(
    name_or_arn: str,
    handler: Any,
    timeout: Any,
    memory: Any,
    environment: Mapping[str, Any] | None,
    reserved_concurrency: Any,
    isolation: Any,
) -> LocalFunction:
    ref = parse_function_ref(name_or_arn) if isinstance(name_or_arn, str) else None
    if ref is None or not _NAME.match(ref.name):
        raise ValueError(
            f"{name_or_arn!r} is not a Lambda function name (1-64 of A-Z a-z 0-9 - _) "
            "or function ARN"
        )
    if not callable(handler):
        raise ValueError(f"the handler of function {ref.name} is not callable: {handler!r}")
    _check_range(f"timeout of function {ref.name}", timeout, 1, 900, "seconds")
    _check_range(f"memory of function {ref.name}", memory, 128, 10240, "MB")
    if reserved_concurrency is not None:
        _check_range(
            f"reserved_concurrency of function {ref.name}",
            reserved_concurrency, 0, 1_000_000, "invocations",
        )  # fmt: skip
    if isolation not in _ISOLATIONS:
        raise ValueError(f"isolation of function {ref.name} must be 'thread' or 'process'")
    env = checked_environment(environment)
    return LocalFunction(
        ref.name, handler, timeout, memory, env, reserved_concurrency, ref.region, ref.account,
        isolation,
    )  # fmt: skip


# ---------------------------------------------------------------------------------------
# The integration.


def _service_error(code: str, status: int, message: str, request_id: str) -> StatesError:
    """A Lambda API error as Step Functions reports it (the AWS SDK for Java's wording)."""
    return StatesError(
        f"Lambda.{code}",
        f"{message} (Service: AWSLambda; Status Code: {status}; Error Code: {code}; "
        f"Request ID: {request_id}; Proxy: null)",
    )


def _throttled(request_id: str) -> StatesError:
    return _service_error("TooManyRequestsException", 429, "Rate Exceeded.", request_id)


def _validation_error(field_name: str, value: Any, constraint: str, request_id: str) -> StatesError:
    return _service_error(
        "ValidationException",
        400,
        f"1 validation error detected: Value '{value}' at '{field_name}' failed to satisfy "
        f"constraint: {constraint}",
        request_id,
    )


def _function_error(payload: str, compact: bool) -> StatesError:
    """The Task error for a function error payload.

    ``lambda:invoke`` re-serialises the payload compactly; the legacy ARN passes it as is.
    """
    try:
        body = parse_json(payload)
    except ValueError:
        body = None
    error_type = body.get("errorType") if isinstance(body, dict) else None
    if not isinstance(error_type, str):
        return StatesError(
            "Lambda.Unknown",
            "The cause could not be determined because Lambda did not return an error type. "
            f"Returned payload: {payload}",
        )
    if compact:
        payload = json_text(body)
    return StatesError(error_type, payload)


def _parse_payload(text: str) -> Any:
    try:
        return parse_json(text)
    except ValueError:
        return text


def _event_text(parameters: Mapping[str, Any]) -> str:
    """The request body Step Functions sends for a ``Payload`` parameter.

    Absent or null is ``{}`` and text that is JSON is sent as it is (both recorded against
    AWS); other text is sent as a JSON string (as LocalStack does; not recorded).
    """
    payload = parameters.get("Payload")
    if payload is None:
        return "{}"
    if isinstance(payload, str):
        try:
            parse_json(payload)
            return payload
        except ValueError:
            pass
    return dumps(payload)


def _client_context(value: Any) -> SimpleNamespace | None:
    # Lenient: a ClientContext that is not base64 JSON is dropped rather than refused.
    if not isinstance(value, str):
        return None
    try:
        decoded = json.loads(base64.b64decode(value, validate=True))
    except ValueError:
        return None
    if not isinstance(decoded, dict):
        return None
    return SimpleNamespace(
        client=decoded.get("client"), custom=decoded.get("custom"), env=decoded.get("env")
    )


class LocalFunctions:
    """The Lambda integration backed by local Python handlers.

    ``executor`` runs every function registered with ``isolation="thread"`` (the
    default): an :class:`InProcessExecutor` unless given. Functions registered with
    ``isolation="process"`` run in ``workers``, a
    :class:`~integrations.lambda_workers.WorkerPoolExecutor` made on first need. Call
    :meth:`aclose` (or :meth:`close`) when done, to stop worker processes.

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
        self._functions: dict[str, LocalFunction] = {}
        self._in_flight: dict[str, int] = {}
        self._background: set[asyncio.Task[Any]] = set()
        self.invocations: deque[Invocation] = deque(maxlen=keep)
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
        function = _checked_function(
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
        if function.isolation == "thread":
            return self._executor
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

    async def invoke(self, request: TaskRequest) -> Any:
        """Run the Task: the Invoke envelope for ``lambda:invoke``, the raw result otherwise."""
        if request.resource.key == "lambda:invoke":
            return await self._invoke_service(request)
        if request.resource.key == "lambda-function":
            return await self._invoke_legacy(request)
        raise ValueError(f"LocalFunctions cannot serve the resource {request.resource.arn}")

    async def _invoke_legacy(self, request: TaskRequest) -> Any:
        resource = request.resource
        parts = resource.arn.split(":")  # arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME[:Q]
        qualifier = parts[7] if len(parts) > 7 else None
        ref = FunctionRef(
            resource.name or "", resource.region, resource.account, qualifier, parts[1]
        )
        function, arn = self._find(ref, request)
        event = dumps(request.parameters)
        services = request.services
        call = _Call(function, arn, event, None, services.new_uuid(), services)
        outcome, _ = await self._run(call)
        if outcome.function_error:
            raise _function_error(outcome.payload, compact=False)
        return _parse_payload(outcome.payload)

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
            raise _validation_error(
                "invocationType",
                invocation_type,
                "Member must satisfy enum value set: [Event, RequestResponse, DryRun]",
                services.new_uuid(),
            )
        function, arn = self._find(ref, request, latest=True)
        request_id = services.new_uuid()
        if invocation_type == "DryRun":
            return _envelope("", 204, request_id, services, executed=False)
        client_context = _client_context(params.get("ClientContext"))
        call = _Call(function, arn, _event_text(params), client_context, request_id, services)
        if invocation_type == "Event":
            self._start_event(call)
            return _envelope("", 202, request_id, services, executed=False)
        outcome, record = await self._run(call)
        if outcome.function_error:
            raise _function_error(outcome.payload, compact=True)
        log = log_tail(record.log()) if params.get("LogType") == "Tail" else None
        return _envelope(outcome.payload, 200, request_id, services, log_result=log)

    def _service_ref(self, params: Mapping[str, Any], services: TaskServices) -> FunctionRef:
        name = params["FunctionName"]
        ref = parse_function_ref(name)
        if ref is None:
            constraint = f"Member must satisfy regular expression pattern: {_REF_PATTERN_TEXT}"
            raise _validation_error("functionName", name, constraint, services.new_uuid())
        qualifier = params.get("Qualifier")
        if qualifier is not None and ref.qualifier is not None and qualifier != ref.qualifier:
            raise _service_error(
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
            raise _service_error(
                "ResourceNotFoundException",
                404,
                f"Function not found: {missing}",
                request.services.new_uuid(),
            )
        return function, arn

    def _acquire(self, function: LocalFunction, request_id: str) -> None:
        running = self._in_flight.get(function.name, 0)
        limit = function.reserved_concurrency
        if limit is not None and running >= limit:
            raise _throttled(request_id)
        self._in_flight[function.name] = running + 1

    async def _run(self, call: _Call) -> tuple[Outcome, Invocation]:
        """Invoke once, within the function's reserved concurrency, and record the bill."""
        function, services = call.function, call.services
        self._acquire(function, call.request_id)
        try:
            now = services.now()
            day = _log_day(int(now))
            context = LambdaContext(
                function_name=function.name,
                invoked_function_arn=call.arn,
                memory_limit_in_mb=str(function.memory),
                aws_request_id=call.request_id,
                log_stream_name=f"{day}/[{LATEST}]{services.new_uuid().replace('-', '')}",
                deadline_epoch=now + function.timeout,
                environment=function.environment,
                timer_deadline=time.monotonic() + function.timeout,
                client_context=call.client_context,
            )
            executor = self._executor_for(function)
            try:
                outcome = await executor.run(function, call.event, context, services.timer)
            except Saturated:  # earlier invocations still hold its sandboxes (threads)
                raise _throttled(call.request_id) from None
            record = _bill(function, call.request_id, services.now() - now, outcome)
            self.invocations.append(record)
            self.billing.add(record)
            if self.on_invocation is not None:
                self.on_invocation(record)
            return outcome, record
        finally:
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


def _envelope(
    payload: str,
    status: int,
    request_id: str,
    services: TaskServices,
    *,
    executed: bool = True,
    log_result: str | None = None,
) -> dict[str, Any]:
    """Lambda's Invoke response as Step Functions returns it (recorded against AWS)."""
    headers = _response_headers(payload, request_id, services, executed, log_result)
    envelope: dict[str, Any] = {}
    if executed:
        envelope["ExecutedVersion"] = LATEST
    if log_result is not None:
        envelope["LogResult"] = log_result
    envelope["Payload"] = _parse_payload(payload) if payload else ""
    envelope["SdkHttpMetadata"] = {
        "AllHttpHeaders": {name: [value] for name, value in headers.items()},
        "HttpHeaders": {name: headers[name] for name in _SORTED_HEADERS if name in headers},
        "HttpStatusCode": status,
    }
    envelope["SdkResponseMetadata"] = {"RequestId": request_id}
    envelope["StatusCode"] = status
    return envelope


def _bill(function: LocalFunction, request_id: str, seconds: float, outcome: Outcome) -> Invocation:
    """The billing record of one run: duration rounded up to 1 ms; a timeout bills it all."""
    duration_ms = seconds * 1000
    billed = max(1, math.ceil(duration_ms))
    if outcome.timed_out:
        billed = function.timeout * 1000
        duration_ms = float(billed)
    error = None
    if outcome.function_error:
        body = _parse_payload(outcome.payload)
        error_type = body.get("errorType") if isinstance(body, dict) else None
        error = error_type if isinstance(error_type, str) else "Lambda.Unknown"
    return Invocation(
        function.name, request_id, duration_ms, billed, function.memory, error, outcome.log
    )


def _response_headers(
    payload: str,
    request_id: str,
    services: TaskServices,
    executed: bool,
    log_result: str | None,
) -> dict[str, str]:
    """Response headers in the order AWS's recording lists them."""
    now = services.now()
    headers: dict[str, str] = {}
    if log_result is not None:
        headers["X-Amz-Log-Result"] = log_result
    if executed:
        headers["X-Amz-Executed-Version"] = LATEST
    headers["x-amzn-Remapped-Content-Length"] = "0"
    headers["Connection"] = "keep-alive"
    headers["x-amzn-RequestId"] = request_id
    headers["Content-Length"] = str(len(payload.encode()))
    headers["Date"] = _http_date(int(now))
    headers["X-Amzn-Trace-Id"] = _trace_id(now, request_id)
    headers["Content-Type"] = "application/json"
    return headers


#: Every response header, in the order of ``HttpHeaders`` (sorted ignoring case).
_SORTED_HEADERS = tuple(
    sorted(
        (
            "X-Amz-Log-Result", "X-Amz-Executed-Version", "x-amzn-Remapped-Content-Length",
            "Connection", "x-amzn-RequestId", "Content-Length", "Date", "X-Amzn-Trace-Id",
            "Content-Type",
        ),
        key=str.lower,
    )
)  # fmt: skip


@functools.lru_cache(maxsize=1)  # one entry: the second most calls of a moment share
def _http_date(second: int) -> str:
    return email.utils.formatdate(second, usegmt=True)


@functools.lru_cache(maxsize=1)
def _log_day(second: int) -> str:
    """The date part of a log stream name: ``2025/11/06``."""
    return time.strftime("%Y/%m/%d", time.gmtime(second))


def _trace_id(now: float, request_id: str) -> str:
    # Derived from the request id, not drawn when the answer comes: concurrent calls
    # answer in any order, and a seeded run must repeat.
    token = hashlib.sha1(request_id.encode()).hexdigest()
    return f"Root=1-{int(now):08x}-{token[:24]};Parent={token[24:40]};Sampled=0"
