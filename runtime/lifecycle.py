"""A state machine as created (:class:`Machine`) and one run of it: what can be read of
it (:class:`Execution`: status, output, error, history, path) and the strand that runs
it from its start to its end event (:func:`execute`), with the time limits every
execution has.

:mod:`runtime.executions` makes executions and hands them here; a durable one's end is
committed to its journal (:mod:`runtime.journal`) with its last event.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable, Coroutine, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal, Protocol

from asl import model as m
from asl.errors import RUNTIME, TIMEOUT, StatesError, capped
from asl.flow.waiting import MAX_WAIT_SECONDS
from asl.limits import slices_by_steps
from runtime.api_limits import check_error_and_cause
from runtime.clock import DeadlineExpired
from runtime.context import execution_context, state_machine_context
from runtime.frame import Frame, Run
from runtime.history import Event
from runtime.interpreter import run_scope
from runtime.journal import Log
from runtime.states.map_run import MapRunRecord
from runtime.store import StoreError
from runtime.store.executions import Ended, MapRunRows
from runtime.stored_map_runs import map_run_rows
from runtime.strands import STRAND
from runtime.summary import StateSummary, summarize
from runtime.unresumable import Unresumable, unresumable_cause

_log = logging.getLogger(__name__)

Status = Literal["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"]
MachineType = Literal["STANDARD", "EXPRESS"]

#: The longest an Express execution runs (AWS's quota: 5 minutes); a shorter
#: ``TimeoutSeconds`` ends it sooner.
EXPRESS_MAX_SECONDS = 300
#: The longest a Standard execution runs: AWS's quota says "1 year" and ends it with
#: ``States.Timeout``, as the Express one; the year of the longest Wait. Its timer is
#: passive (:meth:`runtime.clock.Clock.passive_timer`): an execution waiting for a person
#: on the virtual clock is not ended at once by a jump to it; and one of the clock's limits
#: (:meth:`runtime.clock.Clock.limit`), which share one timer.
STANDARD_MAX_SECONDS = MAX_WAIT_SECONDS
#: Where an execution has no time limit of a kind (a no-op: reusable).
_NO_LIMIT: AbstractContextManager[object] = nullcontext()


class Starter(Protocol):
    """What a :class:`Machine` asks of the engine that made it
    (:class:`runtime.executions.Engine`)."""

    async def start_execution(
        self,
        machine: Machine,
        input_value: Any = None,
        *,
        name: str | None = None,
        on_start: Callable[[str], None] | None = None,
        origin: str | None = None,
    ) -> Execution:
        """Start an execution of ``machine`` (``on_start``: called with its ARN as its start
        is recorded; ``origin``: kept with it by a durable engine)."""
        ...

    async def aclose(self) -> None:
        """Release what the engine holds."""
        ...


@dataclass(frozen=True, slots=True)
class Machine:
    """A state machine as created on an engine."""

    engine: Starter
    definition: m.StateMachine
    name: str
    type: MachineType
    arn: str
    role_arn: str
    #: The definition as JSON text, when the engine keeps it (a durable engine does).
    definition_text: str | None = None
    #: What tells this definition, type and role apart from the machine's others (a
    #: durable engine's executions keep the revision they started with).
    revision: str | None = None
    #: The context object's ``StateMachine`` member, one for all its executions.
    context: dict[str, Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "context", state_machine_context(self.arn, self.name))

    def start(
        self,
        input: Any = None,
        *,
        name: str | None = None,
        on_start: Callable[[str], None] | None = None,
        origin: str | None = None,
    ) -> Coroutine[Any, Any, Execution]:
        """Start an execution (await it); ``input`` is a JSON value (default ``{}``).
        ``on_start`` is called with the new execution's ARN as its start is recorded,
        ``origin`` kept in its row by a durable engine (see
        :meth:`runtime.executions.Engine.start_execution`). The engine's coroutine itself:
        no frame of this one's in between."""
        return self.engine.start_execution(self, input, name=name, on_start=on_start, origin=origin)


def _context_member(execution: weakref.ref[Execution]) -> dict[str, Any]:
    """The context object's ``Execution`` member (made when a state first reads it, while
    the execution runs: its engine holds it)."""
    alive = execution()
    assert alive is not None, "a running execution's context read after it was freed"
    return execution_context(
        alive.arn, alive.name, alive.input, alive.machine.role_arn, alive.start_time,
        alive.redrive_count,
    )  # fmt: skip


class Execution:
    """One run of a machine."""

    __slots__ = (
        "__weakref__", "_forget", "_log", "_run", "_stop_details", "_stopped", "_task",
        "_unread", "_waiters", "arn", "cause", "error", "fault", "input", "machine", "name",
        "output", "redrive_count", "redrive_date", "start_time", "status", "stop_time",
    )  # fmt: skip

    def __init__(
        self,
        machine: Machine,
        name: str,
        input_value: Any,
        run: Run,
        start_time: float | None = None,
        log: Log | None = None,
        forget: Callable[[Execution], None] | None = None,
    ) -> None:
        self.machine = machine
        self.name = name
        self.arn = run.execution_arn
        self.input = input_value
        self.status: Status = "RUNNING"
        self.output: Any = None
        self.error: str | None = None
        self.cause: str | None = None
        self.start_time = run.host.now() if start_time is None else start_time
        self.stop_time: float | None = None
        self._run = run
        self._log = log
        # Called when a durable execution has ended, to let it leave its engine's memory.
        self._forget = forget
        self._task: asyncio.Task[None] | None = None
        # What each wait() of the running execution awaits: its own future, so that
        # cancelling one waiter leaves the others waiting (no shield, one hop fewer).
        self._waiters: list[asyncio.Future[None]] | None = None
        # A bug of the engine's that ended the execution: raised by wait(), never disguised.
        #: The engine bug that ended the execution (FAILED, ``States.Runtime``), or kept its
        #: end from being written, if one did; logged with its traceback, never raised.
        self.fault: BaseException | None = None
        self._stop_details: tuple[str | None, str | None] = (None, None)
        self._stopped = False
        #: How many times it was redriven, and when last (RedriveExecution).
        self.redrive_count = 0
        self.redrive_date: float | None = None
        # An ended execution read back from a database: what fills in its history, path
        # and Map Runs, read only when asked (DescribeExecution needs none of them).
        self._unread: Callable[[Run], None] | None = None
        # The Run reaches its Execution weakly: no cycle between them, so an ended one is
        # freed by reference counting, not left to the cyclic garbage collector's passes.
        run.context_from(partial(_context_member, weakref.ref(self)))

    def _read(self) -> Run:
        if self._unread is not None:
            unread, self._unread = self._unread, None
            unread(self._run)
        return self._run

    @property
    def state_machine_arn(self) -> str:
        """The ARN of the machine it is an execution of."""
        return self.machine.arn

    @property
    def history(self) -> Sequence[Event]:
        """The events recorded so far (a live sequence: it grows while the execution runs)."""
        return self._read().history

    @property
    def path(self) -> list[str]:
        """The names of the states entered, in order (nested scopes included)."""
        return self._read().path

    @property
    def states(self) -> dict[str, StateSummary]:
        """What each state did, by name, in the order they were first entered: times
        entered, attempts and retries of its work, the errors of failed attempts, and how
        its last entry ended (see :mod:`runtime.summary`). Read from the history each time:
        keep the result rather than reading it again per state."""
        return summarize(self._read().history, self.status)

    @property
    def map_runs(self) -> list[MapRunRecord]:
        """The Map Runs of the Distributed Map states this execution ran, with their child
        executions (see :mod:`runtime.states.map_run`)."""
        return list(self._read().map_runs)

    def history_json(self) -> dict[str, Any]:
        """The history as ``GetExecutionHistory`` returns it: ``{"events": [...]}``."""
        return self._read().history.to_aws()

    async def wait(self) -> Execution:
        """Wait until the execution has ended; return it."""
        if self.status == "RUNNING":
            waiter = asyncio.get_running_loop().create_future()
            if self._waiters is None:
                self._waiters = []
            self._waiters.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if self._waiters is not None and waiter in self._waiters:
                    self._waiters.remove(waiter)
                raise
        return self

    def stop(self, error: str | None = None, cause: str | None = None) -> None:
        """Abort a running execution (StopExecution): it ends ABORTED. ``ValidationException``
        for an error over 256 or a cause over 32,768 characters, as AWS refuses them."""
        check_error_and_cause(error, cause)
        if self._task is not None and not self._task.done():
            self._stop_details = (error, cause)
            self._stopped = True
            self._run.host.clock.cancel(self._task)

    def _left_running(self, error: BaseException | None) -> bool:
        """Whether the strand was cancelled by something else than :meth:`stop` (the event
        loop closing, the process going away) while its execution is durable: it stays
        RUNNING in the database, for :meth:`Engine.recover`, and nothing more is written."""
        return (
            self._log is not None
            and isinstance(error, asyncio.CancelledError)
            and not self._stopped
        )

    def _strand_ended(self, error: BaseException | None) -> None:
        """The execution's strand ended: normally after :meth:`_finish`. Cancelled before
        it ever ran (stopped at once), it ends ABORTED here; ended by a bug of the engine's,
        it ends FAILED here (every execution ends with its event), the bug logged and kept
        in :attr:`fault`."""
        if self._log is not None and self._left_running(error):
            return
        try:
            if self.status == "RUNNING" or error is not None:  # else its end is recorded
                self._end_after(error)
        except Exception as failure:  # its end could not be recorded either: said, not hung
            self.fault = failure
            _log.error("execution %s: its end was not recorded", self.arn, exc_info=failure)
        self._task = None  # ended: what the strand held can go
        waiters, self._waiters = self._waiters or (), None
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)
        if self._forget is not None:
            self._forget(self)

    def _end_after(self, error: BaseException | None) -> None:
        """What :meth:`_strand_ended` records for a strand that ended with ``error``."""
        if self.status == "RUNNING":
            if error is None or isinstance(error, asyncio.CancelledError):
                error_name, cause = self._stop_details
                self.error, self.cause = error_name, cause
                self._finish("ABORTED", "ExecutionAborted", _present(error_name, cause))
            else:
                self.fault = error
                if isinstance(error, Unresumable):  # not a bug: said on one line
                    failure = unresumable_cause(error)
                    _log.warning("execution %s: %s", self.arn, failure.cause)
                else:
                    _log.error("execution %s ended by an engine error", self.arn, exc_info=error)
                    # Our own wording: AWS has no such failure to record.
                    cause = f"Internal engine error: {type(error).__name__}: {error}"
                    failure = capped(StatesError(RUNTIME, cause))
                self.error, self.cause = failure.error, failure.cause
                self._finish("FAILED", "ExecutionFailed", _present(self.error, self.cause))
        elif error is not None and not isinstance(error, asyncio.CancelledError):
            # Ended, but its end was not written (the database refused it): said, not lost.
            self.fault = error
            _log.error("execution %s: its end was not recorded", self.arn, exc_info=error)

    def _finish(self, status: Status, event: str, details: dict[str, Any] | None = None) -> None:
        """End the execution with ``event`` now (its end committed at once, when durable);
        ``details``: its details, but for a success's (the output)."""
        try:
            ended = self._end(status, event, details)
            if ended is not None and self._log is not None:
                self._log.commit(*ended)
        finally:
            self.status = status

    async def _finish_committed(
        self, status: Status, event: str, details: dict[str, Any] | None = None
    ) -> None:
        """End the execution with ``event``; a durable one shows its new status once the end
        is committed (with other executions' batches of this event-loop turn)."""
        ended = self._end(status, event, details)
        try:
            if ended is not None and self._log is not None:
                await self._log.committed(*ended)
        finally:
            self.status = status

    def _end(
        self, status: Status, event: str, details: dict[str, Any] | None
    ) -> tuple[Ended, MapRunRows | None] | None:
        """Record the end event; what a durable execution writes with it."""
        self.stop_time = self._run.host.now()
        history = self._run.history
        if status == "SUCCEEDED":
            history.add_output(event, history.recorded, self.output)
        else:
            history.add(event, history.recorded, details or None)
        if self._log is None:
            return None
        output = self._log.text(self.output) if status == "SUCCEEDED" else None
        runs = self._run.map_runs
        # Children the Host ran elsewhere (a Temporal workflow's child workflows) keep
        # their own histories there: nothing of them is written here.
        kept = bool(runs) and self._run.host.map_children is None
        return Ended(status, output, self.error, self.cause, self.stop_time), (
            map_run_rows(runs) if kept else None
        )


async def execute(execution: Execution, run: Run, input_size: int) -> None:
    """Run ``execution`` (its ``ExecutionStarted`` recorded) to its end event, within its
    ``TimeoutSeconds`` and the longest any execution of its type runs."""
    if STRAND.get():  # this strand's own context: the top scope, whoever started it
        STRAND.set("")
    if run.host.repeatable:
        slices_by_steps()  # in this strand's context, inherited by the strands it starts
    machine = run.machine
    frame = Frame(run, 0, None, input_size)
    try:
        # The input was measured at the door; every state's output is kept within the
        # limit, so the last one, the execution's output, is too.
        timeout, limit = machine.timeout_seconds, None
        if execution.machine.type == "EXPRESS":
            timeout = min(timeout or EXPRESS_MAX_SECONDS, EXPRESS_MAX_SECONDS)
        elif timeout is None or timeout > STANDARD_MAX_SECONDS:
            # From the start, so an execution recovered after a crash keeps its year.
            limit = execution.start_time + STANDARD_MAX_SECONDS
        clock = run.host.clock
        year = _NO_LIMIT if limit is None else clock.limit(limit)
        if timeout is None:
            with year:
                output = await run_scope(machine.scope, execution.input, frame)
        else:
            deadline = run.host.deadline(timeout)  # journaled: a replay finds the first run's
            if execution.redrive_date is not None:
                # A redrive gives the execution its TimeoutSeconds again, from the redrive.
                deadline = clock.deadline_at(execution.redrive_date + timeout)
            with deadline, year:
                output = await run_scope(machine.scope, execution.input, frame)
    except DeadlineExpired:
        execution.error = TIMEOUT
        await execution._finish_committed("TIMED_OUT", "ExecutionTimedOut", {"error": TIMEOUT})
        return
    except StatesError as raised:
        await _fail(execution, raised)
        return
    except StoreError as broken:
        # The machine's fault (the task store's file), neither the engine's nor the
        # definition's: the execution fails saying so, no traceback logged; only at INFO,
        # as its cause already tells whoever reads the execution (`asl run` prints it).
        _log.info("execution %s failed: %s", execution.arn, broken)
        await _fail(execution, StatesError(RUNTIME, str(broken)))
        return
    except asyncio.CancelledError as cancelled:
        if execution._left_running(cancelled):
            raise
        error, cause = execution._stop_details
        execution.error, execution.cause = error, cause
        await execution._finish_committed("ABORTED", "ExecutionAborted", _present(error, cause))
        return
    execution.output = output
    if execution._log is None:  # nothing to commit: no coroutine to make
        execution._finish("SUCCEEDED", "ExecutionSucceeded")
    else:
        await execution._finish_committed("SUCCEEDED", "ExecutionSucceeded")


async def _fail(execution: Execution, raised: StatesError) -> None:
    # Task and Fail failures came in capped; this caps the engine's own causes too (a
    # path error quoting a 256 KiB input): ExecutionFailed holds no more on AWS.
    failure = capped(raised)
    # AWS records a timeout with no cause (its Error Output has "Cause": "").
    cause = None if failure.error == TIMEOUT and not failure.cause else failure.cause
    execution.error, execution.cause = failure.error, cause
    await execution._finish_committed("FAILED", "ExecutionFailed", _present(failure.error, cause))


def _present(error: str | None, cause: str | None) -> dict[str, Any]:
    details: dict[str, Any] = {}
    if error is not None:
        details["error"] = error
    if cause is not None:
        details["cause"] = cause
    return details
