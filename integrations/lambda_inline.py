"""Sync handlers run in place, on the event loop's own thread (``"isolation": "inline"``).

A handler that computes and returns (an echo, a stub, a transformation) costs, on a thread,
a hand-off to the thread and one back to the loop: far more than the call itself, and a
sequential workflow waits for both on every Task. :class:`InlineExecutor` calls it where the
Task runs instead, with what a thread run has: the same envelope, log capture, error
marshalling, billing record and concurrency accounting (those belong to the caller,
``integrations.lambdas``, and to ``lambda_runtime.call_sync``).

What it cannot have is a thread's isolation. While the handler runs, the loop runs nothing
else: a handler that blocks (network I/O, ``time.sleep``) stalls every execution of the
engine meanwhile, and one that never returns hangs the engine, since nothing can interrupt
it. Inline is for handlers that compute and return.

Timeouts are judged once the handler has returned, as they would have been while it ran.
A handler that returned within a second (the shortest timeout a function or a Task can
have) cannot have run past its own, and its answer is taken after one turn of the loop
(none when no other strand may run: ``TaskServices.alone``); it counts as taking no
virtual time, like the engine's own work on the loop, and no timer is set for it. One that
ran longer gets its function's timeout as a timer on the Host's clock set once it returned,
counted from when it was called (``elapsed``), as a thread run's is set before the call;
its answer is taken only after the loop has run every timer that came
due meanwhile (a loop timer set when it returned fires after those). So a handler that ran
past its function's timeout ends in Lambda's ``Sandbox.Timedout``, and one that ran past
its Task's ``TimeoutSeconds`` (or the execution's) ends in ``States.Timeout``; a virtual
clock, which keeps pace with real time for work outside it, records either at the time of
the timeout, not when the handler returned. One difference remains: a handler that ran
past both its function's timeout and a later ``TimeoutSeconds`` ends in ``States.Timeout``
(both timers fire together once it returns, and the Task's deadline ends the Task at once),
where a thread run ends in ``Sandbox.Timedout`` at the function's timeout.

Since the handler runs on the loop's thread, it cannot run an event loop of its own
(``asyncio.run`` raises ``RuntimeError``, the invocation's error), and a signal reaches it:
the second Ctrl-C of ``asyncio.run`` (the first cancels the run, which a handler still
running cannot see) raises ``KeyboardInterrupt`` inside it, which ends the invocation as
Lambda's ``Runtime.ExitError``, so even a handler that never returns can be stopped.
"""

from __future__ import annotations

import asyncio
import time

from integrations.base import TaskServices, settle
from integrations.handler_logs import HandlerLog
from integrations.lambda_runtime import (
    Event,
    LambdaContext,
    LocalFunction,
    Outcome,
    call_sync,
    timed_out,
)

__all__ = ["InlineExecutor"]

#: The shortest timeout a handler can run past, in seconds: Lambda's least function timeout
#: and the least ``TimeoutSeconds`` of a Task.
_SHORTEST_TIMEOUT = 1.0


class InlineExecutor:
    """Runs sync handlers in place on the event loop's thread (see the module).

    Processes a handler starts are not looked after (they are children of the engine's own
    thread, as an async handler's are), and an async handler is not its business:
    ``LocalFunctions`` runs those in place already, whatever their isolation.
    """

    async def run(
        self, function: LocalFunction, event: Event, context: LambdaContext, services: TaskServices
    ) -> Outcome:
        """Call the handler, then take its answer unless a timeout came due while it ran."""
        started = time.monotonic()
        log = HandlerLog()
        answer = call_sync(function.handler, event, context, log)
        elapsed = time.monotonic() - started
        if elapsed < _SHORTEST_TIMEOUT:  # no timeout can have come due
            # The strands ready to run go first, as while a thread ran the handler: Map
            # iterations record every TaskStarted before any result, as AWS does.
            if not services.alone():
                await asyncio.sleep(0)
        else:
            # Due when it would have been, had it been set before the call; the Host's
            # time stood still meanwhile, the loop being held.
            expiry = services.timer(function.timeout, elapsed)
            loop = asyncio.get_running_loop()
            returned: asyncio.Future[None] = loop.create_future()
            # A loop timer runs after every loop timer due before it: the Host's timers that
            # came due while the handler ran fire first (a Task's deadline cancels this wait).
            loop.call_at(loop.time(), settle, returned, None)
            try:
                await returned
            finally:
                expiry.cancel()  # it leaves the clock, unless it has fired
            if not expiry.cancelled():  # it fired: the handler ran past its function's timeout
                answer = timed_out(function, context.aws_request_id)
        text = log.text()
        return answer.with_log(text) if text else answer  # most handlers write nothing
