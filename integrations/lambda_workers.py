"""Local Lambda functions in worker processes, so no handler can take the engine down.

:class:`WorkerPoolExecutor` is an :class:`~integrations.lambda_runtime.Executor` that runs
each function's handler in its own warm pool of worker processes. A worker is a fresh
Python interpreter (``sys.executable``) running :func:`serve`: it imports the handler
once, then answers one invocation at a time over its stdin/stdout pipes (length-prefixed
JSON). What that buys, and the rules it follows:

- **Crashes**: a worker that dies (``os._exit``, a segfault, ``sys.exit``) fails only its
  invocation, with Lambda's ``Runtime.ExitError`` ("Runtime exited with error: exit
  status 3", "... signal: segmentation fault"); the next invocation starts a new worker.
- **Timeouts**: at the function's timeout, on the Host's clock (the executor's
  ``timer``), the worker is killed (SIGKILL, with its process group) and the invocation
  fails with ``Sandbox.Timedout`` exactly as in-process; a new worker replaces it on the
  next invocation. The timeout counts from the moment a worker takes the invocation; starting
  a worker (Lambda's init phase) has its own limit, ``init_timeout``. A cancelled
  invocation kills its worker and returns at once (the worker is reaped on a thread).
- **Memory**: where ``resource.RLIMIT_AS`` works (Linux), a worker's address space is
  capped at *what it uses once the interpreter and the handler's module are loaded* plus
  the function's configured memory. The handler thus gets its configured megabytes for
  its own allocations; the interpreter and its imports are not charged (Lambda charges
  them, but address space over-counts real memory, so the two roughly even out). A
  handler that runs out gets ``Runtime.OutOfMemory`` ("Runtime exited with error: signal:
  killed", the wording Lambda uses when it kills a function for memory) and its worker
  is replaced. Elsewhere (macOS, Windows) memory is not capped.
- **Processes**: each worker leads a process group of its own; whenever it is killed or
  reaped, and whenever the engine's process dies however it dies, the group goes with it:
  the worker and every process its handler started (``integrations.lifeline``).
- **Environment**: a worker's ``os.environ`` is the engine's, plus the variables Lambda
  sets itself (``AWS_LAMBDA_FUNCTION_NAME``, ``AWS_LAMBDA_FUNCTION_MEMORY_SIZE``,
  ``AWS_REGION``, ...), plus the function's own, which win.
- **Warm reuse**: workers start lazily and are reused, so module-level state survives
  between invocations as in a warm Lambda sandbox. A function has at most
  ``max_workers`` workers (fewer when its reserved concurrency is smaller); more
  concurrent invocations wait for a free one.
- **Handlers** are found again in the worker by module and name, so a handler must be a
  module-level callable (a function, a static method reached through a module-level
  class, or an object bound to a module-level name). Closures, lambdas and bound methods
  cannot be found and are refused when the function is registered. The module is
  imported by name when the worker can, otherwise from its file; its top-level code
  runs in every worker as well as in the engine.
- **Output**: what a handler writes to ``sys.stdout`` and ``sys.stderr`` is its log
  (``integrations.handler_logs``), sent to the engine as it is written, so a worker killed
  at its timeout leaves what it printed in the invocation's log; what reaches the worker's
  file descriptors (its child processes, C code) goes to the engine's stderr (a worker's
  stdout is its channel to the engine). The engine side talks to each worker from a reused thread
  (:class:`~integrations.threads.ThreadPool`), since pipe reads block.

Call :meth:`WorkerPoolExecutor.aclose` (or :meth:`~WorkerPoolExecutor.close`) when done:
it kills every worker and reaps it, leaving no process behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import importlib.util
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType, ModuleType, SimpleNamespace
from typing import IO, Any

from asl.jsontext import parse_json
from integrations.base import before
from integrations.handler_logs import HandlerLog
from integrations.lambda_runtime import (
    LATEST,
    LambdaContext,
    LocalFunction,
    Outcome,
    Timer,
    call_async,
    call_sync,
    dumps,
    is_coroutine_handler,
    platform_error,
    timed_out,
)
from integrations.lifeline import Lifeline, guard, kill_group
from integrations.threads import ThreadPool

__all__ = ["HandlerRef", "WorkerPoolExecutor", "handler_reference", "serve"]

_ROOT = str(Path(__file__).resolve().parents[1])
_BOOT = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from integrations.lambda_workers import serve; serve(int(sys.argv[2]))"
)
_OUT_OF_MEMORY = "Runtime exited with error: signal: killed"
#: How long (real seconds) a killed worker's last output is awaited.
_LOG_GRACE = 1.0
# Lambda's runtime manager is written in Go and words signals as Go does.
_SIGNAL_NAMES: dict[int, str] = {
    int(signal.SIGABRT): "aborted",
    int(signal.SIGBUS): "bus error",
    int(signal.SIGFPE): "floating point exception",
    int(signal.SIGILL): "illegal instruction",
    int(signal.SIGINT): "interrupt",
    int(signal.SIGKILL): "killed",
    int(signal.SIGSEGV): "segmentation fault",
    int(signal.SIGTERM): "terminated",
}


@dataclass(frozen=True, slots=True)
class HandlerRef:
    """Where a worker finds a handler: a module (by name, and its file) and an attribute."""

    module: str
    file: str | None
    attribute: str


def handler_reference(handler: Any) -> HandlerRef:
    """How a worker process can import ``handler``; ValueError when it cannot."""
    module_name = getattr(handler, "__module__", None)
    if not isinstance(module_name, str):
        module_name = type(handler).__module__
    module = sys.modules.get(module_name)
    attribute = _attribute_of(module, handler) if module is not None else None
    if module is None or attribute is None:
        raise ValueError(
            f"the handler {handler!r} cannot run in a worker process: a worker imports its "
            "handler by module and name, so it must be a module-level function or an object "
            "bound to a module-level name (not a closure, a lambda or a bound method)"
        )
    file = getattr(module, "__file__", None)
    return HandlerRef(module_name, str(file) if isinstance(file, str) else None, attribute)


def _attribute_of(module: ModuleType, handler: Any) -> str | None:
    qualname = getattr(handler, "__qualname__", None)
    if isinstance(qualname, str) and "<" not in qualname:
        with contextlib.suppress(AttributeError):
            if _resolve(module, qualname) is handler:
                return qualname
    for name, value in vars(module).items():
        if value is handler:
            return name
    return None


def _resolve(module: ModuleType, attribute: str) -> Any:
    target: Any = module
    for part in attribute.split("."):
        target = getattr(target, part)
    return target


# ---------------------------------------------------------------------------------------
# The channel: 4-byte big-endian length, then UTF-8 JSON. While an invocation runs, the
# worker sends ``{"log": text}`` messages before its reply.


def _send(stream: IO[bytes], message: dict[str, Any]) -> None:
    data = json.dumps(message, ensure_ascii=False).encode()
    stream.write(len(data).to_bytes(4, "big") + data)
    stream.flush()


def _receive(stream: IO[bytes]) -> dict[str, Any] | None:
    """The next message, or None when the other side is gone."""
    header = stream.read(4)
    if len(header) < 4:
        return None
    size = int.from_bytes(header, "big")
    body = stream.read(size)
    if len(body) < size:
        return None
    message: dict[str, Any] = json.loads(body)
    return message


# ---------------------------------------------------------------------------------------
# The worker side.

Send = Callable[[dict[str, Any]], None]


class _ForwardedLog(HandlerLog):
    """An invocation's output in a worker, sent to the engine as it is written rather than
    kept here: a worker killed at its timeout cannot send what it kept. Output written
    once the invocation has ended (by a thread it left running) is dropped."""

    def __init__(self, send: Send) -> None:
        super().__init__()
        self._send: Send | None = send

    def write(self, text: str) -> None:
        """Send output to the engine."""
        send = self._send
        if send is not None and text:
            send({"log": text})

    def close(self) -> None:
        """The invocation has ended."""
        self._send = None


def _sender(stream: IO[bytes]) -> Send:
    """Send messages on ``stream``, one at a time (a handler's threads may log at once)."""
    lock = threading.Lock()

    def send(message: dict[str, Any]) -> None:
        with lock:
            _send(stream, message)

    return send


def serve(lifeline: int) -> None:
    """The worker's main loop: load the handler, then answer invocations until told to
    stop. ``lifeline`` is the file descriptor its guardian watches (see ``lifeline``)."""
    guard(lifeline)
    channel_in = os.fdopen(os.dup(0), "rb")
    channel_out = os.fdopen(os.dup(1), "wb")
    # A handler's print and input must not touch the channel.
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    os.dup2(2, 1)
    with contextlib.suppress(AttributeError, ValueError):
        sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    send = _sender(channel_out)
    init = _receive(channel_in)
    if init is None:
        return
    handler, failure = _load(init)
    if failure is not None:
        send({"ready": False, "error": failure})
        return
    _cap_memory(init["memory"])
    send({"ready": True})
    environment = MappingProxyType(dict(init["environment"]))
    while (message := _receive(channel_in)) is not None:
        reply = _answer(handler, message, environment, send)
        send(reply)
        if reply["recycle"]:
            return


def _load(init: dict[str, Any]) -> tuple[Any, dict[str, str] | None]:
    """The handler, or what Lambda reports when it cannot load it."""
    sys.path[:] = init["sys_path"]
    module_name, attribute = init["module"], init["attribute"]
    try:
        module = _import(module_name, init["file"])
    except BaseException as exc:  # an import may raise anything, SystemExit included
        message = f"Unable to import module '{module_name}': {exc}"
        return None, {"errorType": "Runtime.ImportModuleError", "errorMessage": message}
    try:
        return _resolve(module, attribute), None
    except AttributeError:
        message = f"Handler '{attribute}' missing on module '{module_name}'"
        return None, {"errorType": "Runtime.HandlerNotFound", "errorMessage": message}


def _import(module_name: str, file: str | None) -> ModuleType:
    if file is None:
        return importlib.import_module(module_name)
    if module_name != "__main__":
        try:
            spec = importlib.util.find_spec(module_name)
        except (ImportError, ValueError):
            spec = None
        if spec is not None and spec.origin is not None and _same_file(spec.origin, file):
            return importlib.import_module(module_name)
    # Not importable by its name here (a module the engine imported by path): by file.
    name = module_name if module_name != "__main__" else "__asl_main__"
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise ImportError(f"{file} cannot be imported")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _same_file(first: str, second: str) -> bool:
    try:
        return os.path.samefile(first, second)
    except OSError:
        return False


def _address_space() -> int | None:
    """Bytes of address space this process uses now (Linux), or None."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            pages = int(statm.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE")


def _cap_memory(memory_mb: int) -> None:
    try:
        import resource
    except ImportError:  # not on this platform: no cap
        return
    baseline = _address_space()
    if baseline is None:
        return
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = baseline + memory_mb * 1024 * 1024
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _answer(handler: Any, message: dict[str, Any], environment: Any, send: Send) -> dict[str, Any]:
    """Run one invocation in the worker, its output sent as it comes; the reply says
    whether the worker must retire."""
    fields = message["context"]
    client = fields.pop("client_context")
    context = LambdaContext(
        **fields,
        environment=environment,
        timer_deadline=time.monotonic() + message["timeout"],
        client_context=SimpleNamespace(**client) if client is not None else None,
    )
    region = context.invoked_function_arn.split(":")[3]
    os.environ["AWS_REGION"] = os.environ["AWS_DEFAULT_REGION"] = region
    os.environ["AWS_LAMBDA_LOG_STREAM_NAME"] = context.log_stream_name
    log = _ForwardedLog(send)
    try:
        outcome = _run_handler(handler, message["event"], context, log)
    finally:
        log.close()
    error_type = _error_type(outcome) if outcome is not None else None
    if outcome is None or error_type == "MemoryError":
        outcome = platform_error("Runtime.OutOfMemory", context.aws_request_id, _OUT_OF_MEMORY)
        error_type = "Runtime.OutOfMemory"
    return {
        "payload": outcome.payload,
        "function_error": outcome.function_error,
        "recycle": error_type in ("Runtime.OutOfMemory", "Runtime.ExitError"),
    }


def _run_handler(
    handler: Any, event: str, context: LambdaContext, log: HandlerLog
) -> Outcome | None:
    """The handler's outcome; None when it ran out of memory even to report its error."""
    try:
        if is_coroutine_handler(handler):
            return asyncio.run(call_async(handler, event, context, log))
        return call_sync(handler, event, context, log)
    except MemoryError:
        return None


def _error_type(outcome: Outcome) -> str | None:
    if not outcome.function_error:
        return None
    try:
        body = parse_json(outcome.payload)
    except ValueError:
        return None
    error_type = body.get("errorType") if isinstance(body, dict) else None
    return error_type if isinstance(error_type, str) else None


# ---------------------------------------------------------------------------------------
# The engine side.


class _Worker:
    """One worker process; its methods block, so they run on threads."""

    def __init__(self, function: LocalFunction, reference: HandlerRef) -> None:
        self.lifeline = Lifeline()
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", _BOOT, _ROOT, str(self.lifeline.fd)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env=_environment(function),
                pass_fds=(self.lifeline.fd,),
                # its own process group (the guardian kills it whole), and a Ctrl-C meant
                # for the engine is not the worker's
                start_new_session=True,
            )
        except BaseException:
            self.lifeline.cut()
            raise
        finally:
            self.lifeline.hand_over()
        self.init = {
            "sys_path": list(sys.path),
            "module": reference.module,
            "file": reference.file,
            "attribute": reference.attribute,
            "memory": function.memory,
            "environment": dict(function.environment),
        }
        self.retired = False

    def exchange(self, message: dict[str, Any], log: HandlerLog | None) -> dict[str, Any] | None:
        """Send a message and read the reply, the output sent before it going to ``log``;
        None when the worker is gone."""
        stdin, stdout = self.process.stdin, self.process.stdout
        if stdin is None or stdout is None:
            return None
        try:
            _send(stdin, message)
            while (reply := _receive(stdout)) is not None and "log" in reply:
                if log is not None:
                    log.write(reply["log"])
            return reply
        except (OSError, ValueError):
            return None

    def kill(self) -> None:
        """Stop the worker at once, and every process its handler started."""
        kill_group(self.process)

    def reap(self) -> int:
        """Wait for the (killed or exiting) worker and release its pipes and its lifeline
        (its guardian then kills any process its handler left behind); its exit code."""
        code = self.process.wait()
        self.lifeline.cut()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        return code


def _environment(function: LocalFunction) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "AWS_LAMBDA_FUNCTION_NAME": function.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory),
            "AWS_LAMBDA_FUNCTION_VERSION": LATEST,
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.name}",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_EXECUTION_ENV": f"AWS_Lambda_python{sys.version_info[0]}.{sys.version_info[1]}",
        }
    )
    env.update(function.environment)
    return env


def _exit_outcome(code: int, request_id: str) -> Outcome:
    """Lambda's report of a runtime process that died with ``code`` (as Popen gives it)."""
    if code < 0:
        name = _SIGNAL_NAMES.get(-code, f"signal {-code}")
        return platform_error(
            "Runtime.ExitError", request_id, f"Runtime exited with error: signal: {name}"
        )
    if code == 0:
        return platform_error(
            "Runtime.ExitError", request_id, "Runtime exited without providing a reason"
        )
    return platform_error(
        "Runtime.ExitError", request_id, f"Runtime exited with error: exit status {code}"
    )


def _init_failure(error: dict[str, str]) -> Outcome:
    # An init error has no request id yet: Lambda's Python runtime writes it empty.
    body = {**error, "requestId": "", "stackTrace": []}
    return Outcome(dumps(body), function_error=True)


@dataclass(slots=True)
class _Pool:
    """The workers of one function: idle ones ready to reuse, and how many may exist."""

    function: LocalFunction
    slots: asyncio.Semaphore
    idle: list[_Worker] = field(default_factory=list)

    def take(self) -> _Worker | None:
        """An idle worker that is still alive, if any."""
        while self.idle:
            worker = self.idle.pop()
            if worker.process.poll() is None:
                return worker
        return None


class WorkerPoolExecutor:
    """Runs each function in a warm pool of worker processes (see the module's rules).

    ``max_workers`` caps the workers of one function; ``init_timeout`` (seconds) bounds
    starting a worker and importing its handler (Lambda's init phase allows 10 s).
    """

    def __init__(self, *, max_workers: int = 4, init_timeout: float = 10.0) -> None:
        if max_workers < 1:
            raise ValueError("max_workers must be at least 1")
        self._max_workers = max_workers
        self._init_timeout = init_timeout
        self._threads = ThreadPool("lambda-worker")  # the blocking pipe exchanges
        self._pools: dict[int, _Pool] = {}  # by id of the LocalFunction
        self._workers: set[_Worker] = set()  # every worker not yet reaped

    def check(self, function: LocalFunction) -> None:
        """Raise ValueError if the function's handler cannot be found by a worker process."""
        self._reference(function)

    @staticmethod
    def _reference(function: LocalFunction) -> HandlerRef:
        try:
            return handler_reference(function.handler)
        except ValueError as exc:
            raise ValueError(f"function {function.name}: {exc}") from None

    @property
    def processes(self) -> list[int]:
        """Process ids of the live workers (idle or busy)."""
        return sorted(w.process.pid for w in self._workers if w.process.poll() is None)

    async def run(
        self, function: LocalFunction, event: str, context: LambdaContext, timer: Timer
    ) -> Outcome:
        """Run the function in one of its workers until it returns, fails or times out
        (measured with ``timer``, as is the start of a worker)."""
        pool = self._pool(function)
        async with pool.slots:
            worker = pool.take()
            if worker is None:
                worker, failure = await self._start(function, context.aws_request_id, timer)
                if worker is None:
                    return failure
            outcome, keep = await self._invoke(worker, function, event, context, timer)
            if keep:
                pool.idle.append(worker)
            else:
                self._retire(worker)
            return outcome

    def _pool(self, function: LocalFunction) -> _Pool:
        pool = self._pools.get(id(function))
        if pool is None:
            size = self._max_workers
            if function.reserved_concurrency is not None:
                size = max(1, min(size, function.reserved_concurrency))
            pool = self._pools[id(function)] = _Pool(function, asyncio.Semaphore(size))
        return pool

    async def _start(
        self, function: LocalFunction, request_id: str, timer: Timer
    ) -> tuple[_Worker | None, Outcome]:
        """A started worker with its handler loaded, or the outcome of the failed start."""
        worker = _Worker(function, self._reference(function))
        self._workers.add(worker)
        reply, _ = await self._exchange(worker, worker.init, timer(self._init_timeout))
        if reply is None:
            return None, timed_out(function, request_id)
        if reply.get("ready") is True:
            return worker, Outcome("")
        code = await self._reap(worker)
        if reply.get("ready") is False:
            return None, _init_failure(reply["error"])
        return None, _exit_outcome(code, request_id)

    async def _invoke(
        self,
        worker: _Worker,
        function: LocalFunction,
        event: str,
        context: LambdaContext,
        timer: Timer,
    ) -> tuple[Outcome, bool]:
        """One invocation on a started worker; the outcome and whether to keep the worker."""
        message = {
            "event": event,
            "context": _context_fields(context),
            "timeout": function.timeout,  # counted from the moment this worker takes it
        }
        log = HandlerLog()
        reply, ended = await self._exchange(worker, message, timer(function.timeout), log)
        if reply is None:
            # What the worker wrote before it was killed is still on its way: read to the
            # end of the channel (the kill closes it), for a moment at most.
            await asyncio.wait((ended,), timeout=_LOG_GRACE)
            outcome = timed_out(function, context.aws_request_id)
            return replace(outcome, log=log.text()), False
        if "payload" not in reply:
            outcome = _exit_outcome(await self._reap(worker), context.aws_request_id)
            return replace(outcome, log=log.text()), False
        outcome = Outcome(
            reply["payload"], function_error=reply["function_error"] is True, log=log.text()
        )
        return outcome, reply["recycle"] is not True

    async def _exchange(
        self,
        worker: _Worker,
        message: dict[str, Any],
        deadline: asyncio.Future[Any],
        log: HandlerLog | None = None,
    ) -> tuple[dict[str, Any] | None, asyncio.Future[None]]:
        """The worker's reply before ``deadline``, ``{}`` if it died first, or None when the
        time ran out (the worker is then killed, as it is when the caller is cancelled);
        and a future done when the exchange has read all it will (it goes on reading the
        output of a killed worker until its channel closes)."""
        loop = asyncio.get_running_loop()
        ended: asyncio.Future[None] = loop.create_future()

        def exchange() -> dict[str, Any]:
            try:
                return worker.exchange(message, log) or {}
            finally:
                with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                    loop.call_soon_threadsafe(_settle, ended)

        work = self._threads.submit(exchange)
        try:
            return await before(work, deadline), ended
        except TimeoutError:
            self._retire(worker)
            return None, ended
        except asyncio.CancelledError:
            self._retire(worker)
            raise

    async def _reap(self, worker: _Worker) -> int:
        """Wait for a worker that exited; its exit code."""
        worker.retired = True
        code = await self._threads.submit(worker.reap)
        self._workers.discard(worker)
        return code

    def _retire(self, worker: _Worker) -> None:
        """Kill a worker and reap it on a thread, without waiting."""
        if worker.retired:
            return
        worker.retired = True
        worker.kill()

        def reap() -> None:
            worker.reap()
            self._workers.discard(worker)

        self._threads.submit(reap)

    async def aclose(self) -> None:
        """Kill and reap every worker; the executor may be used again afterwards."""
        workers = self._forget_workers()
        if workers:
            await self._threads.submit(lambda: [w.reap() for w in workers])
        self._threads.close()

    def close(self) -> None:
        """Kill and reap every worker (blocking; prefer :meth:`aclose` on an event loop)."""
        for worker in self._forget_workers():
            worker.reap()
        self._threads.close()

    def _forget_workers(self) -> list[_Worker]:
        workers = list(self._workers)
        for worker in workers:
            worker.kill()
        self._workers.clear()
        self._pools.clear()
        return workers


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _context_fields(context: LambdaContext) -> dict[str, Any]:
    """The context's fields the worker rebuilds it from."""
    client = context.client_context
    return {
        "function_name": context.function_name,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "aws_request_id": context.aws_request_id,
        "log_stream_name": context.log_stream_name,
        "deadline_epoch": context.deadline_epoch,
        "client_context": None if client is None else dict(vars(client)),
    }
