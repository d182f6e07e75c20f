"""Executions: starting them, their life cycle, and what can be read of them.

An :class:`Engine` owns a Host; :meth:`Engine.create_state_machine` gives a
:class:`Machine` (a definition with a name, type and ARN); :meth:`Machine.start` gives a
running :class:`Execution` whose status, output, error, cause, history and path can be
read once it is done.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

import asl
from asl import model as m
from asl.errors import RUNTIME, TIMEOUT, StatesError, capped
from asl.flow.waiting import MAX_WAIT_SECONDS
from asl.jsontext import json_size
from asl.loader import Source
from runtime.api_limits import check_error_and_cause, check_payload_size
from runtime.clock import DeadlineExpired
from runtime.context import execution_context, state_machine_context
from runtime.frame import (
    EXPRESS_HISTORY_LIMIT_EVENTS,
    HISTORY_LIMIT_EVENTS,
    Frame,
    Run,
)
from runtime.history import Event
from runtime.host import Host, LocalHost
from runtime.interpreter import run_scope
from runtime.states import STEPS
from runtime.states.map_run import MapRun
from runtime.store import ApiError, StoreError
from runtime.summary import StateSummary, summarize

_log = logging.getLogger(__name__)

Status = Literal["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"]
MachineType = Literal["STANDARD", "EXPRESS"]

DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT = "123456789012"
_NAME = re.compile(r"^[^\s<>{}\[\]?*\"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]{1,80}$")


class ExecutionAlreadyExists(ValueError):
    """An execution of that name exists already on the machine (AWS's error name)."""


class InvalidName(ValueError):
    """A name AWS would refuse (AWS's error name)."""


class InvalidExecutionInput(ApiError, ValueError):
    """An input StartExecution refuses as not JSON text (AWS's error)."""

    code = "InvalidExecutionInput"


#: The longest an Express execution runs (AWS's quota: 5 minutes); a shorter
#: ``TimeoutSeconds`` ends it sooner.
EXPRESS_MAX_SECONDS = 300
#: The longest a Standard execution runs: AWS's quota says "1 year" and ends it with
#: ``States.Timeout``, as the Express one; the year of the longest Wait. Its timer is
#: passive (:meth:`runtime.clock.Clock.passive_timer`): an execution waiting for a person
#: on the virtual clock is not ended at once by a jump to it.
STANDARD_MAX_SECONDS = MAX_WAIT_SECONDS


def _input_size(value: Any) -> int:
    """The input's size; what StartExecution refuses is refused here, at the door, so
    every started execution can be written to its history and its input is within the
    payload limit."""
    try:
        size = json_size(value)
    except ValueError as exc:  # nested too deeply (JsonTooDeep), NaN or Infinity (NotJson)
        raise InvalidExecutionInput(f"Invalid State Machine Execution Input: '{exc}'") from None
    check_payload_size("input", size)
    return size


def valid_name(name: str) -> bool:
    """Whether AWS takes ``name`` as the name of a state machine, execution or activity."""
    return _NAME.match(name) is not None


def _check_name(name: str, what: str) -> None:
    if not valid_name(name):
        raise InvalidName(
            f"Invalid {what} name: '{name}' (1-80 characters, no whitespace, brackets, "
            'wildcards or any of " # % \\ ^ | ~ ` $ & , ; : /)'
        )


@dataclass(frozen=True, slots=True)
class Machine:
    """A state machine as created on an engine."""

    engine: Engine
    definition: m.StateMachine
    name: str
    type: MachineType
    arn: str
    role_arn: str

    async def start(self, input: Any = None, *, name: str | None = None) -> Execution:
        """Start an execution; ``input`` is a JSON value (default ``{}``)."""
        return await self.engine.start_execution(self, input, name=name)


class Execution:
    """One run of a machine."""

    def __init__(self, machine: Machine, name: str, input_value: Any, run: Run) -> None:
        self.machine = machine
        self.name = name
        self.arn = run.execution_arn
        self.input = input_value
        self.status: Status = "RUNNING"
        self.output: Any = None
        self.error: str | None = None
        self.cause: str | None = None
        self.start_time = run.host.now()
        self.stop_time: float | None = None
        self._run = run
        self._task: asyncio.Task[None] | None = None
        # What wait() awaits, made by the first wait() of a running execution.
        self._ended: asyncio.Future[None] | None = None
        # A bug of the engine's that ended the execution: raised by wait(), never disguised.
        #: The engine bug that ended the execution (FAILED, ``States.Runtime``), if one did;
        #: it is logged with its traceback and never raised to the caller.
        self.fault: BaseException | None = None
        self._stop_details: tuple[str | None, str | None] = (None, None)

    @property
    def history(self) -> list[Event]:
        """The events recorded so far."""
        return self._run.history.events

    @property
    def path(self) -> list[str]:
        """The names of the states entered, in order (nested scopes included)."""
        return self._run.path

    @property
    def states(self) -> dict[str, StateSummary]:
        """What each state did, by name, in the order they were first entered: times
        entered, attempts and retries of its work, the errors of failed attempts, and how
        its last entry ended (see :mod:`runtime.summary`). Read from the history each time:
        keep the result rather than reading it again per state."""
        return summarize(self._run.history.events, self.status)

    @property
    def map_runs(self) -> list[MapRun]:
        """The Map Runs of the Distributed Map states this execution ran, with their child
        executions (see :class:`runtime.states.map_run.MapRun`)."""
        return list(self._run.map_runs)

    def history_json(self) -> dict[str, Any]:
        """The history as ``GetExecutionHistory`` returns it: ``{"events": [...]}``."""
        return self._run.history.to_aws()

    async def wait(self) -> Execution:
        """Wait until the execution has ended; return it."""
        if self.status == "RUNNING":
            if self._ended is None:
                self._ended = asyncio.get_running_loop().create_future()
            await asyncio.shield(self._ended)
        return self

    def stop(self, error: str | None = None, cause: str | None = None) -> None:
        """Abort a running execution (StopExecution): it ends ABORTED. ``ValidationException``
        for an error over 256 or a cause over 32,768 characters, as AWS refuses them."""
        check_error_and_cause(error, cause)
        if self._task is not None and not self._task.done():
            self._stop_details = (error, cause)
            self._run.host.clock.cancel(self._task)

    def _strand_ended(self, error: BaseException | None) -> None:
        """The execution's strand ended: normally after :meth:`_finish`. Cancelled before
        it ever ran (stopped at once), it ends ABORTED here; ended by a bug of the engine's,
        it ends FAILED here (every execution ends with its event), the bug logged and kept
        in :attr:`fault`."""
        if self.status == "RUNNING":
            if error is None or isinstance(error, asyncio.CancelledError):
                error_name, cause = self._stop_details
                self.error, self.cause = error_name, cause
                self._finish("ABORTED", "ExecutionAborted", _present(error_name, cause))
            else:
                self.fault = error
                _log.error("execution %s ended by an engine error", self.arn, exc_info=error)
                # Our own wording: AWS has no such failure to record.
                self.error = RUNTIME
                self.cause = f"Internal engine error: {type(error).__name__}: {error}"
                self._finish("FAILED", "ExecutionFailed", _present(self.error, self.cause))
        if self._ended is not None and not self._ended.done():
            self._ended.set_result(None)

    def _finish(self, status: Status, event: str, details: dict[str, Any]) -> None:
        self.status = status
        self.stop_time = self._run.host.now()
        self._run.history.add(event, self._run.history.events[-1].id, details or None)


class Engine:
    """Runs executions on one Host; many can run at once."""

    def __init__(
        self,
        host: Host | None = None,
        *,
        region: str = DEFAULT_REGION,
        account: str = DEFAULT_ACCOUNT,
    ) -> None:
        self.host: Host = host if host is not None else LocalHost()
        self.region = region
        self.account = account
        self._executions: dict[str, Execution] = {}
        #: Called by :meth:`aclose`: what the engine's owner set up for it (worker
        #: processes of local functions, say).
        self.closers: list[Callable[[], Awaitable[None]]] = []
        #: Awaited, in order, before the first execution starts: what the engine's owner
        #: prepares for it (AWS resources declared for a local endpoint, say). One that
        #: raises stays, so the next start tries it again.
        self.openers: list[Callable[[], Awaitable[None]]] = []
        self._opening = asyncio.Lock()

    async def _open(self) -> None:
        async with self._opening:
            while self.openers:
                await self.openers[0]()
                self.openers.pop(0)

    async def aclose(self) -> None:
        """Release what the engine's integrations hold (worker processes, sessions)."""
        closers, self.closers = self.closers, []
        for close in closers:
            await close()

    def create_state_machine(
        self,
        definition: Source | m.StateMachine,
        *,
        name: str = "StateMachine",
        type: MachineType = "STANDARD",
        role_arn: str | None = None,
    ) -> Machine:
        """A machine from a definition (validated; raises ``asl.DefinitionError``)."""
        _check_name(name, "state machine")
        model = (
            definition
            if isinstance(definition, m.StateMachine)
            else asl.load(definition, machine_type=type)
        )
        arn = f"arn:aws:states:{self.region}:{self.account}:stateMachine:{name}"
        role = role_arn or f"arn:aws:iam::{self.account}:role/service-role/StepFunctions-{name}"
        return Machine(self, model, name, type, arn, role)

    async def start_execution(
        self, machine: Machine, input_value: Any = None, *, name: str | None = None
    ) -> Execution:
        """Start an execution and return it running."""
        if self.openers:
            await self._open()
        name = name if name is not None else self.host.new_uuid()
        _check_name(name, "execution")
        prefix = f"arn:aws:states:{self.region}:{self.account}"
        arn = f"{prefix}:execution:{machine.name}:{name}"
        if machine.type == "EXPRESS":
            # An Express execution's ARN has an id of its own after the name (recorded
            # against AWS: localstack test_express_sync), so two never share one.
            arn = f"{prefix}:express:{machine.name}:{name}:{self.host.new_uuid()}"
        if arn in self._executions:
            raise ExecutionAlreadyExists(f"Execution Already Exists: '{arn}'")
        value = {} if input_value is None else input_value
        size = _input_size(value)
        run = Run(
            host=self.host,
            machine=machine.definition,
            execution_arn=arn,
            state_machine_arn=machine.arn,
            execution_context=execution_context(
                execution_arn=arn,
                name=name,
                input_value=value,
                role_arn=machine.role_arn,
                start_time=self.host.now(),
            ),
            state_machine_context=state_machine_context(machine.arn, machine.name),
            region=self.region,
            account=self.account,
            history_limit=(
                HISTORY_LIMIT_EVENTS if machine.type == "STANDARD" else EXPRESS_HISTORY_LIMIT_EVENTS
            ),
            steps=STEPS,
        )
        execution = Execution(machine, name, value, run)
        self._executions[arn] = execution
        run.history.add("ExecutionStarted", 0, {"input": value, "roleArn": machine.role_arn})
        execution._task = self.host.clock.spawn(
            _execute, execution, run, size, on_end=execution._strand_ended
        )
        return execution

    def get_execution(self, arn: str) -> Execution | None:
        """A started execution by ARN."""
        return self._executions.get(arn)

    def executions(self) -> list[Execution]:
        """Every execution started on this engine, in the order they started."""
        return list(self._executions.values())


async def _execute(execution: Execution, run: Run, input_size: int) -> None:
    machine = run.machine
    frame = Frame(run, 0, size_bound=input_size)
    try:
        # The input was measured at the door; every state's output is kept within the
        # limit, so the last one, the execution's output, is too.
        timeout, limit = machine.timeout_seconds, None
        if execution.machine.type == "EXPRESS":
            timeout = min(timeout or EXPRESS_MAX_SECONDS, EXPRESS_MAX_SECONDS)
        elif timeout is None or timeout > STANDARD_MAX_SECONDS:
            limit = STANDARD_MAX_SECONDS
        clock = run.host.clock
        async with clock.deadline(timeout), clock.deadline(limit, passive=True):
            output = await run_scope(machine.scope, execution.input, frame)
    except DeadlineExpired:
        execution.error = TIMEOUT
        execution._finish("TIMED_OUT", "ExecutionTimedOut", {"error": TIMEOUT})
        return
    except StatesError as raised:
        _fail(execution, raised)
        return
    except StoreError as broken:
        # The machine's fault (the task store's file), neither the engine's nor the
        # definition's: the execution fails saying so, no traceback logged; only at INFO,
        # as its cause already tells whoever reads the execution (`asl run` prints it).
        _log.info("execution %s failed: %s", execution.arn, broken)
        _fail(execution, StatesError(RUNTIME, str(broken)))
        return
    except asyncio.CancelledError:
        error, cause = execution._stop_details
        execution.error, execution.cause = error, cause
        execution._finish("ABORTED", "ExecutionAborted", _present(error, cause))
        return
    execution.output = output
    execution._finish("SUCCEEDED", "ExecutionSucceeded", {"output": output})


def _fail(execution: Execution, raised: StatesError) -> None:
    # Task and Fail failures came in capped; this caps the engine's own causes too (a
    # path error quoting a 256 KiB input): ExecutionFailed holds no more on AWS.
    failure = capped(raised)
    # AWS records a timeout with no cause (its Error Output has "Cause": "").
    cause = None if failure.error == TIMEOUT and not failure.cause else failure.cause
    execution.error, execution.cause = failure.error, cause
    execution._finish("FAILED", "ExecutionFailed", _present(failure.error, cause))


def _present(error: str | None, cause: str | None) -> dict[str, Any]:
    details: dict[str, Any] = {}
    if error is not None:
        details["error"] = error
    if cause is not None:
        details["cause"] = cause
    return details
