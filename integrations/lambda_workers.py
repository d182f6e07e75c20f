"""Local Lambda functions in worker processes, so no handler can take the engine down.

:class:`WorkerPoolExecutor` is an :class:`~integrations.lambda_runtime.Executor` that runs
each function's handler in its own warm pool of worker processes. A worker is a fresh
Python interpreter (``sys.executable``) running :func:`integrations.worker_process.serve`:
it imports the handler once, then answers one invocation at a time over its stdin/stdout
pipes (``integrations.worker_channel``). What that buys, and the rules it follows:

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
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from integrations.base import TaskServices, before
from integrations.handler_logs import HandlerLog
from integrations.handler_refs import HandlerRef, handler_reference
from integrations.lambda_runtime import (
    LATEST,
    Event,
    LambdaContext,
    LocalFunction,
    Outcome,
    Timer,
    dumps,
    platform_error,
    timed_out,
)
from integrations.lifeline import Lifeline, kill_group
from integrations.threads import ThreadPool
from integrations.worker_channel import receive, send

__all__ = ["HandlerRef", "WorkerPoolExecutor", "handler_reference"]

_ROOT = str(Path(__file__).resolve().parents[1])
_BOOT = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from integrations.worker_process import serve; serve(int(sys.argv[2]))"
)
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
            send(stdin, message)
            while (reply := receive(stdout)) is not None and "log" in reply:
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
        self, function: LocalFunction, event: Event, context: LambdaContext, services: TaskServices
    ) -> Outcome:
        """Run the function in one of its workers until it returns, fails or times out
        (measured with the Host's timers, as is the start of a worker)."""
        timer = services.timer
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
        event: Event,
        context: LambdaContext,
        timer: Timer,
    ) -> tuple[Outcome, bool]:
        """One invocation on a started worker; the outcome and whether to keep the worker."""
        message = {
            "event": event.text,
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
            return outcome.with_log(log.text()), False
        if "payload" not in reply:
            outcome = _exit_outcome(await self._reap(worker), context.aws_request_id)
            return outcome.with_log(log.text()), False
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
