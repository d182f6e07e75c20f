"""How a local Lambda function runs: its configuration, its context, what it produced.

This is the part of Lambda's *runtime* the engine reproduces, shared by every way of
running a handler:

- :class:`LocalFunction`: a handler and the configuration Lambda would hold for it;
- :class:`LambdaContext`: the ``context`` argument, as Lambda's Python runtime builds it;
- :class:`Outcome`: the response payload as the runtime wrote it (a result or an error);
- :class:`Executor`: the strategy that runs a handler. :class:`InProcessExecutor` runs it in
  this process; ``integrations.lambda_workers.WorkerPoolExecutor`` in worker processes.

Handlers exchange the event and the result as JSON, as Lambda does, so a handler never
shares or mutates the engine's values and any executor can replace another. In this
process the JSON is not written as text unless needed: a handler gets its own copy of
the event (:class:`Event`) and the engine its own copy of a result (:class:`Outcome`),
each exactly what the text would have carried.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import re
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType, SimpleNamespace, TracebackType
from typing import Any, Literal, Protocol

from asl.jsontext import NotPlain, json_text, parse_json, plain_copy
from integrations import eager
from integrations.base import TaskServices, Timer, before
from integrations.handler_logs import HandlerLog, capture
from integrations.handler_processes import HandlerProcesses
from integrations.threads import ThreadPool

__all__ = [
    "LATEST",
    "Event",
    "Executor",
    "Handler",
    "InProcessExecutor",
    "Isolation",
    "LambdaContext",
    "LocalFunction",
    "Outcome",
    "Saturated",
    "Timer",
    "call_async",
    "call_sync",
    "checked_environment",
    "dumps",
    "is_coroutine_handler",
    "parse_payload",
    "platform_error",
    "timed_out",
]

Handler = Callable[[Any, "LambdaContext"], Any]
#: Where a function's sync handler runs: on a thread of this process, in a worker process,
#: or in place on the event loop's thread (``integrations.lambda_inline``).
Isolation = Literal["thread", "process", "inline"]
LATEST = "$LATEST"
_ENV_KEY = re.compile(r"^[a-zA-Z][a-zA-Z0-9_]+$")
_RESERVED_ENV = frozenset(
    {
        "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
    }
)  # fmt: skip
_ENV_LIMIT_BYTES = 4096
_log = logging.getLogger(__name__)

#: JSON text as Lambda's Python runtime writes it (json.dumps' separators, non-ASCII kept).
dumps: Callable[[Any], str] = json.JSONEncoder(ensure_ascii=False).encode
# A result holding NaN or an infinity: Lambda's Python runtime would write NaN/Infinity
# (awslambdaric's marshaller test expects '{"pi": NaN}'), text no JSON parser of Step
# Functions' accepts. Refused here as Runtime.MarshalError, so the failure is clear and
# no such number ever reaches an execution.
_dumps_finite = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode


@dataclass(frozen=True, slots=True)
class LocalFunction:
    """A registered function: its handler and the configuration Lambda would hold for it.

    ``region``/``account`` are set when it was registered by ARN; it then answers only
    calls made in (or naming) that region and account. ``isolation`` says whether a sync
    handler runs on a thread of this process (``"thread"``), in a worker process
    (``"process"``) or in place on the event loop's thread (``"inline"``).
    """

    name: str
    handler: Handler
    timeout: int = 3
    memory: int = 128
    environment: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    reserved_concurrency: int | None = None
    region: str | None = None
    account: str | None = None
    isolation: Isolation = "thread"
    #: Whether the handler is a coroutine function (awaited, not run on a thread).
    is_async: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "is_async", is_coroutine_handler(self.handler))


def is_coroutine_handler(handler: Any) -> bool:
    """Whether calling ``handler`` gives a coroutine (an ``async def`` or async ``__call__``)."""
    call = getattr(handler, "__call__", None)  # noqa: B004 - async __call__ objects
    return inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(call)


@dataclass(slots=True)
class LambdaContext:
    """The ``context`` a handler receives, with the attributes of Lambda's Python runtime.

    ``memory_limit_in_mb`` is text, as in Lambda's runtime; ``client_context`` has
    ``client``, ``custom`` and ``env`` when the call gave a ``ClientContext``.
    ``environment`` (not in Lambda's context) holds the function's environment variables.

    ``deadline_epoch`` is on the Host's clock. The remaining time counts down in real
    time to ``timer_deadline`` (not in Lambda's context either; ``time.monotonic()``
    seconds), since that is how the Host's timer runs while a handler runs: a virtual
    clock stands still meanwhile, yet the function's timeout fires after as many real
    seconds.
    """

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: str
    aws_request_id: str
    log_stream_name: str
    deadline_epoch: float
    environment: Mapping[str, str]
    timer_deadline: float = field(repr=False)
    client_context: SimpleNamespace | None = None
    function_version: str = LATEST
    identity: None = None

    @property
    def log_group_name(self) -> str:
        """``/aws/lambda/<function name>``."""
        return f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function's timeout (never negative)."""
        return max(0, int((self.timer_deadline - time.monotonic()) * 1000))


class _Json:
    """JSON held as text, or as a value (held, never changed) written as text only when
    asked for."""

    __slots__ = ("_text", "_value")

    def __init__(self, text: str | None, value: Any = None) -> None:
        self._text = text
        self._value = value

    @property
    def text(self) -> str:
        """The JSON text, as Lambda's Python runtime writes it."""
        if self._text is None:
            self._text = dumps(self._value)
        return self._text


class Event(_Json):
    """The event of one invocation: JSON text, or a JSON value of the engine's (a worker
    process needs the text; a handler in this process gets :meth:`fresh`)."""

    __slots__ = ()

    def __init__(self, text: str) -> None:
        super().__init__(text)

    @classmethod
    def of_value(cls, value: Any) -> Event:
        """The event whose JSON is ``value``."""
        event = cls.__new__(cls)  # one per invocation: its slots set here, no call
        event._text = None
        event._value = value
        return event

    def fresh(self) -> Any:
        """The event as a handler receives it: a new value, read from the text or copied
        as the text would have carried it, shared with no one."""
        if self._text is None:
            try:
                return plain_copy(self._value)
            except NotPlain:
                pass
        return json.loads(self.text)


class Outcome(_Json):
    """What one run produced: the response payload as Lambda's runtime wrote it.

    ``function_error`` says the payload is an error object (Lambda's ``FunctionError``);
    ``log`` is what the handler wrote to ``sys.stdout`` and ``sys.stderr``. A result run
    in this process may be held as the value its text would carry
    (:meth:`of_result`): the text is then written only when asked for.
    """

    __slots__ = ("function_error", "log", "timed_out")

    def __init__(
        self, payload: str, function_error: bool = False, timed_out: bool = False, log: str = ""
    ) -> None:
        super().__init__(payload)
        self.function_error = function_error
        self.timed_out = timed_out
        self.log = log

    @classmethod
    def of_result(cls, result: Any, log: str = "") -> Outcome:
        """A successful run's result: a JSON value of the engine's own, which its payload
        text would carry."""
        outcome = cls.__new__(cls)  # one per invocation: its slots set here, no call
        outcome._text = None
        outcome._value = result
        outcome.function_error = outcome.timed_out = False
        outcome.log = log
        return outcome

    @property
    def payload(self) -> str:
        """The response payload text."""
        return self.text

    def result(self) -> Any:
        """The payload as a JSON value (:func:`parse_payload`)."""
        if self._text is None:
            return self._value
        return parse_payload(self._text)

    def with_log(self, log: str) -> Outcome:
        """The same outcome with ``log`` as its log (itself when that is its log already:
        most handlers write nothing)."""
        if log == self.log:
            return self
        if self._text is None:
            return Outcome.of_result(self._value, log)
        return Outcome(self._text, self.function_error, self.timed_out, log)

    def __repr__(self) -> str:
        return (
            f"Outcome(payload={self.payload!r}, function_error={self.function_error}, "
            f"timed_out={self.timed_out}, log={self.log!r})"
        )


def parse_payload(text: str) -> Any:
    """A function's answer as a JSON value, or as the text itself when it is not JSON."""
    try:
        return parse_json(text)
    except ValueError:
        return text


class Saturated(Exception):
    """An executor takes no more invocations of a function for now: as many of its earlier
    ones as it allows still run past their end (abandoned at their timeout)."""


class Executor(Protocol):
    """Runs a handler on a JSON event text; never raises for anything the handler does.

    A cancelled ``run`` returns at once, abandoning or killing what runs the handler. An
    executor may refuse an invocation it has no room for with :class:`Saturated`.
    """

    async def run(
        self, function: LocalFunction, event: Event, context: LambdaContext, services: TaskServices
    ) -> Outcome:
        """Run the function until it returns, fails or reaches its timeout, measured with
        the timers of ``services`` (the Host's: :meth:`~integrations.base.TaskServices.timer`)."""
        ...


def checked_environment(environment: Mapping[str, Any] | None) -> Mapping[str, str]:
    """A function's environment variables as Lambda accepts them; ValueError otherwise."""
    if environment is None:
        return MappingProxyType({})
    if not isinstance(environment, Mapping):
        raise ValueError("environment must be a mapping of variable names to text values")
    size = 0
    for key, value in environment.items():
        if not isinstance(key, str) or not _ENV_KEY.match(key):
            raise ValueError(f"environment variable name {key!r} must match [a-zA-Z][a-zA-Z0-9_]+")
        if key in _RESERVED_ENV:
            raise ValueError(f"environment variable {key} is reserved by Lambda")
        if not isinstance(value, str):
            raise ValueError(f"environment variable {key} must be text, not {value!r}")
        size += len(key.encode()) + len(value.encode())
    if size > _ENV_LIMIT_BYTES:
        raise ValueError(
            f"environment variables take {size} bytes; Lambda allows at most {_ENV_LIMIT_BYTES}"
        )
    return MappingProxyType(dict(environment))


# ---------------------------------------------------------------------------------------
# What Lambda's runtime writes back: results, errors, and the platform's own failures.


def _marshal(result: Any, request_id: str) -> Outcome:
    if isinstance(result, (bytes, bytearray)):  # a tuple: no union made per call
        return Outcome(bytes(result).decode("utf-8", "replace"))
    try:
        return Outcome.of_result(plain_copy(result))
    except NotPlain:  # only the text says what it becomes, or why it cannot be sent
        pass
    try:
        return Outcome(_dumps_finite(result))
    except Exception as exc:
        body = {
            "errorMessage": f"Unable to marshal response: {_text_of(exc)}",
            "errorType": "Runtime.MarshalError",
            "requestId": request_id,
            "stackTrace": [],
        }
        return Outcome(dumps(body), function_error=True)


def _text_of(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:
        return ""


def _stack_trace(tb: TracebackType | None) -> list[str]:
    # Lambda's Python runtime lists the handler's frames, its own frames left out.
    entries = []
    for frame in traceback.extract_tb(tb):
        if frame.filename == __file__:
            continue
        entry = f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}\n'
        if frame.line:
            entry += f"    {frame.line.strip()}\n"
        entries.append(entry)
    return entries


def _error_outcome(exc: BaseException, request_id: str) -> Outcome:
    if not isinstance(exc, Exception):
        return platform_error("Runtime.ExitError", request_id, _exit_reason(exc))
    body = {
        "errorMessage": _text_of(exc),
        "errorType": type(exc).__name__,
        "requestId": request_id,
        "stackTrace": _stack_trace(exc.__traceback__),
    }
    # Lambda's Python runtime writes the error with json.dumps' default separators.
    return Outcome(dumps(body), function_error=True)


def _exit_reason(exc: BaseException) -> str:
    """What Lambda reports when the runtime process dies of an uncaught BaseException."""
    if isinstance(exc, KeyboardInterrupt):
        return "Runtime exited with error: signal: interrupt"
    if isinstance(exc, SystemExit):
        code = exc.code
        if code is None or code == 0:
            return "Runtime exited without providing a reason"
        status = code & 0xFF if isinstance(code, int) and not isinstance(code, bool) else 1
        return f"Runtime exited with error: exit status {status}"
    return "Runtime exited with error: exit status 1"


def platform_error(error_type: str, request_id: str, message: str) -> Outcome:
    """An error Lambda's platform reports itself (timeout, exit, out of memory).

    Its body is compact and has no ``requestId``/``stackTrace`` fields, unlike a
    handler's error.
    """
    body = {"errorMessage": f"RequestId: {request_id} Error: {message}", "errorType": error_type}
    return Outcome(
        json_text(body),
        function_error=True,
        timed_out=error_type == "Sandbox.Timedout",
    )


def timed_out(function: LocalFunction, request_id: str) -> Outcome:
    """The outcome of a run stopped at the function's timeout."""
    return platform_error(
        "Sandbox.Timedout", request_id, f"Task timed out after {function.timeout:.2f} seconds"
    )


def call_sync(handler: Handler, event: Event, context: LambdaContext, log: HandlerLog) -> Outcome:
    """Call a sync handler on the event, its output going to ``log``; whatever it raises
    becomes the outcome."""
    try:
        with capture(log):
            result = handler(event.fresh(), context)
    except BaseException as exc:
        return _error_outcome(exc, context.aws_request_id)
    return _marshal(result, context.aws_request_id)


async def call_async(
    handler: Handler, event: Event, context: LambdaContext, log: HandlerLog
) -> Outcome:
    """Await an async handler on the event, its output (and that of the tasks it starts)
    going to ``log``; whatever it raises becomes the outcome."""
    try:
        with capture(log):
            result = await handler(event.fresh(), context)
    except BaseException as exc:
        return _error_outcome(exc, context.aws_request_id)
    return _marshal(result, context.aws_request_id)


class InProcessExecutor:
    """Runs handlers in this process: sync ones on reused daemon threads, async ones in
    place, made tasks only once they wait (:mod:`integrations.eager`: a handler that
    returns without waiting costs no task and no timer, only the one loop turn that lets
    the strands ready to run go first, as they would while a thread ran the handler, and
    none when no other strand may run: ``TaskServices.alone``).

    A handler that hangs past its timeout cannot be killed: its thread is abandoned (its
    late result dropped, a warning logged) and later invocations run on other threads (see
    :class:`~integrations.threads.ThreadPool`); an async handler that ignores its
    cancellation is left running the same way. At most ``max_abandoned`` of one function's
    invocations are left running so; while that many still run, the function's further
    invocations are refused (:class:`Saturated`) rather than piling up threads without end.
    :meth:`close` ends the idle threads.

    In-process limits (a worker process lifts them): environment variables are not put in
    ``os.environ`` (that would race between concurrent functions) but are handed to the
    handler as the read-only mapping ``context.environment``; memory is not capped; a
    handler that crashes the interpreter takes the engine with it. Processes a sync
    handler starts and leaves running are killed by :meth:`close` (on Linux; see
    :mod:`integrations.handler_processes`); an async handler's outlive it.
    """

    def __init__(self, *, max_idle_threads: int = 16, max_abandoned: int = 16) -> None:
        self._threads = ThreadPool("lambda", max_idle=max_idle_threads)  # handlers only
        self._processes = HandlerProcesses()
        self._tasks: set[asyncio.Task[Outcome]] = set()  # async handlers, abandoned or not
        self._max_abandoned = max_abandoned
        # Per function: a "still running?" probe of each invocation left running.
        self._abandoned: dict[str, list[Callable[[], bool]]] = {}

    def abandoned(self, function: str) -> int:
        """How many of the function's invocations still run past their end."""
        probes = self._abandoned.get(function)
        if not probes:
            return 0
        running = [probe for probe in probes if probe()]
        self._abandoned[function] = running
        return len(running)

    async def run(
        self, function: LocalFunction, event: Event, context: LambdaContext, services: TaskServices
    ) -> Outcome:
        """Run the function until it returns, fails or reaches its timeout on the Host's
        clock (``services``)."""
        if self.abandoned(function.name) >= self._max_abandoned:
            raise Saturated(function.name)
        log = HandlerLog()
        if function.is_async:
            started = eager.start(call_async(function.handler, event, context, log))
            if started.task is None:  # ended without waiting: no task, no timer
                outcome = started.result
                assert outcome is not None
                # The strands ready to run go first, as while a thread ran a sync handler:
                # Map iterations record every TaskStarted before any result, as AWS does.
                if not services.alone():
                    await asyncio.sleep(0)
                return _with_log(outcome, log)
            work, running = self._watch(started.task)
        else:
            work, running = self._start_sync(function.handler, event, context, log)
        try:
            outcome = await before(work, services.timer(function.timeout))
        except TimeoutError:  # an async handler was cancelled; a thread abandoned
            outcome = timed_out(function, context.aws_request_id)
        finally:
            if running():  # looked at again once the loop turned: a cancelled task may end
                asyncio.get_running_loop().call_soon(self._abandon, function.name, running)
        return _with_log(outcome, log)

    def _watch(
        self, task: asyncio.Task[Outcome]
    ) -> tuple[asyncio.Future[Outcome], Callable[[], bool]]:
        """An async handler's task, kept, and a probe telling whether it still runs."""
        self._tasks.add(task)  # the loop keeps only a weak reference
        task.add_done_callback(self._tasks.discard)
        return _detached(task), lambda: not task.done()

    def _start_sync(
        self, handler: Handler, event: Event, context: LambdaContext, log: HandlerLog
    ) -> tuple[asyncio.Future[Outcome], Callable[[], bool]]:
        """A sync handler started on a thread, and a probe telling whether it still runs."""
        running = [True]  # a flag the thread clears (a list: cheaper than an Event)

        def call() -> Outcome:
            self._processes.call_started()
            try:
                return call_sync(handler, event, context, log)
            finally:
                running[0] = False

        # What the handler left running is noted once its answer is on its way (a system
        # call, and /proc read when the engine has any child process), before the thread
        # serves another call; close() finds them either way (it looks at running calls).
        return self._threads.submit(call, after=self._processes.call_ended), lambda: running[0]

    def _abandon(self, function: str, running: Callable[[], bool]) -> None:
        if not running():
            return
        self._abandoned.setdefault(function, []).append(running)
        _log.warning(
            "function %s: a handler still runs after its invocation ended and is left to "
            "finish on its own (%d of at most %d such)",
            function,
            self.abandoned(function),
            self._max_abandoned,
        )

    async def aclose(self) -> None:
        """End the idle threads (see :meth:`close`)."""
        self.close()

    def close(self) -> None:
        """End the idle threads (a thread still running a handler ends when it returns),
        and kill the processes sync handlers started and left running."""
        self._threads.close()
        self._processes.kill()


def _with_log(outcome: Outcome, log: HandlerLog) -> Outcome:
    """The outcome with what the handler wrote (as it is when nothing was written)."""
    text = log.text()
    if not text:
        return outcome
    return outcome.with_log(text)


def _detached(task: asyncio.Task[Outcome]) -> asyncio.Future[Outcome]:
    """A future with the task's outcome; cancelling it cancels the task without waiting
    for the task to give in (a handler may catch its cancellation and go on)."""
    proxy: asyncio.Future[Outcome] = task.get_loop().create_future()

    def copy(_: object) -> None:
        if proxy.done():
            return
        if task.cancelled():
            proxy.cancel()
        elif (error := task.exception()) is not None:
            proxy.set_exception(error)
        else:
            proxy.set_result(task.result())

    def cancel(_: object) -> None:
        if proxy.cancelled():
            task.cancel()

    task.add_done_callback(copy)
    proxy.add_done_callback(cancel)
    return proxy
