"""Executions: starting them, their life cycle, and what can be read of them.

An :class:`Engine` owns a Host; :meth:`Engine.create_state_machine` gives a
:class:`Machine` (a definition with a name, type and ARN); :meth:`Machine.start` gives a
running :class:`Execution` whose status, output, error, cause, history and path can be
read once it is done.

Given a ``database``, an engine keeps its machines and executions in it
(:mod:`runtime.store.executions`), each execution journaled as it moves
(:mod:`runtime.journal`): :meth:`Engine.recover` resumes the executions a dead process
left running, and finished executions leave memory, read back from the file on demand.
One execution's own life, from its start to its end event, is :mod:`runtime.lifecycle`'s.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import sqlite3
from collections.abc import Awaitable, Callable, Iterator
from contextlib import suppress
from functools import cache, partial
from typing import Any

import asl
from asl import model as m
from asl.jsontext import json_size, json_text, parse_json
from asl.loader import Source, read_document
from runtime.api_limits import check_payload_size, valid_name
from runtime.clock import VirtualClock
from runtime.defaults import DEFAULT_ACCOUNT, DEFAULT_REGION
from runtime.frame import (
    EXPRESS_HISTORY_LIMIT_EVENTS,
    HISTORY_LIMIT_EVENTS,
    Run,
)
from runtime.history import Event, History
from runtime.host import Host, LocalHost
from runtime.journal import DurableHistory, JournaledHost, Log, stored_event
from runtime.lifecycle import STANDARD_MAX_SECONDS, Execution, Machine, MachineType, execute
from runtime.redrive import ExecutionNotRedrivable, not_redrivable, redrive_plan
from runtime.states import STEPS
from runtime.store import ApiError, StoreError
from runtime.store.executions import (
    EventRow,
    ExecutionRow,
    ExecutionStore,
    ExecutionTaken,
    JournalRow,
    MachineRow,
    commit_write,
)
from runtime.stored_execution import stored_value
from runtime.stored_map_runs import redrive_inputs, stored_map_runs
from runtime.strands import STRAND
from runtime.unresumable import (
    Unresumable,
    check_rows,
    failed_end,
    is_time,
    unresumable_cause,
)

_log = logging.getLogger(__name__)


class ExecutionAlreadyExists(ValueError):
    """An execution of that name exists already on the machine (AWS's error name)."""


class InvalidName(ValueError):
    """A name AWS would refuse (AWS's error name)."""


class InvalidExecutionInput(ApiError, ValueError):
    """An input StartExecution refuses as not JSON text (AWS's error)."""

    code = "InvalidExecutionInput"


def input_size(value: Any) -> int:
    """The input's size; what StartExecution refuses is refused here, at the door, so
    every started execution can be written to its history and its input is within the
    payload limit."""
    try:
        size = json_size(value)
    except ValueError as exc:  # nested too deeply (JsonTooDeep), NaN or Infinity (NotJson)
        raise InvalidExecutionInput(f"Invalid State Machine Execution Input: '{exc}'") from None
    check_payload_size("input", size)
    return size


def check_name(name: str, what: str) -> None:
    if not valid_name(name):
        raise InvalidName(
            f"Invalid {what} name: '{name}' (1-80 characters, no whitespace, brackets, "
            'wildcards or any of " # % \\ ^ | ~ ` $ & , ; : /)'
        )


class Engine:
    """Runs executions on one Host; many can run at once.

    With a ``database`` (a SQLite file, or ``":memory:"``), machines and executions are kept
    there as they move; after a crash, a new engine on the same file resumes what was
    running with :meth:`recover`. Without one, everything lives in memory.
    """

    def __init__(
        self,
        host: Host | None = None,
        *,
        region: str = DEFAULT_REGION,
        account: str = DEFAULT_ACCOUNT,
        database: str | os.PathLike[str] | None = None,
        host_per_execution: bool = False,
    ) -> None:
        self.host: Host = host if host is not None else LocalHost()
        #: The Host serves one execution only (a Temporal workflow's): a durable execution
        #: draws from its entropy and runs a Distributed Map's children where it runs them
        #: (see :class:`~runtime.journal.JournaledHost`), so a run that is not durable and
        #: one that is make the same draws.
        self.host_per_execution = host_per_execution
        self.region = region
        self.account = account
        #: Where machines and executions are kept (None: in memory only).
        self.store = None if database is None else ExecutionStore(database)
        self._executions: dict[str, Execution] = {}
        #: Durable starts waiting for their commit, by ARN.
        self._starting: dict[str, asyncio.Future[None]] = {}
        self._machines: dict[str, Machine] = {}
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
        """Release what the engine's integrations hold (worker processes, sessions) and
        close its database."""
        closers, self.closers = self.closers, []
        for close in closers:
            await close()
        if self.store is not None:
            self.store.group.flush()  # batches queued this turn: their writers wait for them
            self.store.close()

    def create_state_machine(
        self,
        definition: Source | m.StateMachine,
        *,
        name: str = "StateMachine",
        type: MachineType = "STANDARD",
        role_arn: str | None = None,
        text: str | None = None,
    ) -> Machine:
        """A machine from a definition (validated; raises ``asl.DefinitionError``). A durable
        engine keeps it, so it needs the definition as text, a file or a document, or a
        model with the JSON ``text`` it was compiled from."""
        check_name(name, "state machine")
        if isinstance(definition, m.StateMachine):
            if self.store is not None and text is None:
                raise TypeError("a durable engine keeps a definition's text: give it, not a model")
            model = definition
        else:
            model = asl.load(definition, machine_type=type)
            if self.store is not None:
                text = json_text(read_document(definition).value)
        arn = f"arn:aws:states:{self.region}:{self.account}:stateMachine:{name}"
        role = role_arn or f"arn:aws:iam::{self.account}:role/service-role/StepFunctions-{name}"
        revision = None
        if self.store is not None and text is not None:
            kept = f"{type}\n{role}\n{text}".encode("utf-8", "surrogatepass")
            revision = hashlib.sha256(kept).hexdigest()[:32]
            self.store.put_machine(MachineRow(arn, revision, name, type, role, text))
        machine = Machine(self, model, name, type, arn, role, text, revision)
        self._machines[arn] = machine
        return machine

    def get_machine(self, arn: str) -> Machine | None:
        """A machine created on this engine (or kept in its database) by ARN: its latest
        definition."""
        machine = self._machines.get(arn)
        if machine is None and self.store is not None:
            row = self.store.machine(arn)
            if row is not None:
                machine = self._machines[arn] = self._stored_machine(row)
        return machine

    def _machine_at(self, arn: str, revision: str) -> Machine:
        """A durable machine as it was at ``revision`` (an execution's own);
        ``Unresumable`` when that revision is not kept or no longer compiles."""
        assert self.store is not None
        machine = self._machines.get(arn)
        if machine is None:
            with suppress(ValueError):  # the current revision's fault: not this one's
                machine = self.get_machine(arn)
        if machine is not None and machine.revision == revision:
            return machine
        row = self.store.machine(arn, revision)
        if row is None:
            raise Unresumable(f"the revision {revision} of its state machine {arn} is not kept")
        try:
            return self._stored_machine(row)
        except ValueError as exc:  # not JSON text, or an asl.DefinitionError
            raise Unresumable(
                f"the definition of its state machine {arn} (revision {revision}) does not "
                f"compile: {exc}"
            ) from None

    def _stored_machine(self, row: MachineRow) -> Machine:
        kind: MachineType = "EXPRESS" if row.type == "EXPRESS" else "STANDARD"
        model = asl.load(parse_json(row.definition), machine_type=kind)
        return Machine(
            self, model, row.name, kind, row.arn, row.role_arn, row.definition, row.revision
        )

    def machines(self) -> list[Machine]:
        """Every machine created on this engine (or kept in its database), by name."""
        if self.store is not None:
            for row in self.store.machines():
                self.get_machine(row.arn)
        return sorted(self._machines.values(), key=lambda machine: machine.name)

    async def start_execution(
        self,
        machine: Machine,
        input_value: Any = None,
        *,
        name: str | None = None,
        on_start: Callable[[str], None] | None = None,
        origin: str | None = None,
    ) -> Execution:
        """Start an execution and return it running (its start committed, when durable).
        ``on_start`` is called with its ARN before it first runs; on a durable engine inside
        the transaction that commits its start, so what the caller writes to the same
        database then (through a ``Database`` made ``beside`` the engine's store) is
        committed with it, or not at all. ``origin``: text of the caller's that a durable
        engine keeps in the execution's row (``ExecutionStore.origin`` reads it back)."""
        if self.openers:
            await self._open()
        if name is None:
            name = self.host.new_uuid()  # a UUID: a valid name
        else:
            check_name(name, "execution")
        if machine.type == "EXPRESS":
            # An Express execution's ARN has an id of its own after the name (recorded
            # against AWS: localstack test_express_sync), so two never share one.
            arn = (
                f"arn:aws:states:{self.region}:{self.account}:express:{machine.name}:{name}:"
                f"{self.host.new_uuid()}"
            )
        else:
            arn = f"arn:aws:states:{self.region}:{self.account}:execution:{machine.name}:{name}"
        while (starting := self._starting.get(arn)) is not None:
            await asyncio.wait([starting])  # a start of the same ARN being committed
        # One stored (ended, or run by another engine on the file) is found by its commit.
        if arn in self._executions:
            raise ExecutionAlreadyExists(f"Execution Already Exists: '{arn}'")
        value = {} if input_value is None else input_value
        size = input_size(value)
        if self.store is None:
            execution = self._begin(machine, name, arn, value, self.host, None)
            if on_start is not None:
                on_start(arn)
            self._spawn(execution, size)
            return execution
        seed = None if self.host_per_execution else int(self.host.entropy.random() * 2**53)
        log = Log(self.store, arn)
        host = JournaledHost(self.host, log, seed)
        execution = self._begin(machine, name, arn, value, host, log)
        row = ExecutionRow(arn, machine.arn, machine.revision or "", name, "RUNNING",
                           log.text(value), None, None, None, execution.start_time, None,
                           seed or 0, 0)  # fmt: skip
        committed = self._starting[arn] = log.start(row, on_start, origin)
        # Run once committed, even if the caller stops waiting: a committed start is kept.
        committed.add_done_callback(lambda done: self._started(execution, size, done))
        try:
            await asyncio.shield(committed)
        except ExecutionTaken:
            raise ExecutionAlreadyExists(f"Execution Already Exists: '{arn}'") from None
        return execution

    def _started(self, execution: Execution, size: int, committed: asyncio.Future[None]) -> None:
        del self._starting[execution.arn]
        if committed.exception() is None:
            self._spawn(execution, size)

    def _begin(
        self,
        machine: Machine,
        name: str,
        arn: str,
        value: Any,
        host: Host,
        log: Log | None,
        history: History | None = None,
        redrive_count: int = 0,
    ) -> Execution:
        """An execution up to its ``ExecutionStarted`` (recorded again, and found committed,
        when it is recovered), as its own top strand whoever starts it."""
        strand = STRAND.set("") if STRAND.get() else None
        try:
            start_time = host.now()
            if log is not None and history is None:
                history = DurableHistory(host.clock, log)
            run = self._new_run(machine, arn, host, history)
            forget = None if log is None else self._forget  # a durable one is read back
            execution = Execution(machine, name, value, run, start_time, log, forget)
            execution.redrive_count = redrive_count
            run.history.add_started(value, machine.role_arn)
        finally:
            if strand is not None:
                STRAND.reset(strand)
        return execution

    def _new_run(self, machine: Machine, arn: str, host: Host, history: History | None) -> Run:
        """The Run of an execution (its Execution gives it its context's member)."""
        standard = machine.type == "STANDARD"
        limit = HISTORY_LIMIT_EVENTS if standard else EXPRESS_HISTORY_LIMIT_EVENTS
        # Positional: one per execution, and each keyword costs more than the argument.
        return Run(
            host, machine.definition, arn, machine.arn, machine.context, self.region,
            self.account, STEPS, dict, limit, history,
        )  # fmt: skip

    def _spawn(self, execution: Execution, input_size: int) -> None:
        self._executions[execution.arn] = execution
        execution._task = self.host.clock.spawn(
            execute, execution, execution._run, input_size, on_end=execution._strand_ended
        )

    async def recover(self) -> list[Execution]:
        """Resume every execution the database holds as RUNNING whose engine is gone (its
        process died; see :mod:`runtime.store.runners`), leaving those of engines still
        running to them: each is replayed from its journal up to where
        it was, then goes on. Returns them once every one has caught up (its task tokens
        wait again, so SendTaskSuccess reaches them) or ended; one that cannot be resumed
        (see :mod:`runtime.unresumable`) ended FAILED, its reason logged on one line."""
        if self.store is None:
            return []
        if self.openers:
            await self._open()
        store = self.store
        saved: list[tuple[ExecutionRow, list[EventRow], list[JournalRow]]] = []
        given_up: list[Execution] = []
        for row in store.adopt(skip=self._executions):
            try:
                events, answers = store.events(row.arn), store.journal(row.arn)
            except sqlite3.Error as exc:  # a damaged page of the file
                given_up += self._give_up(row, [], f"its history cannot be read: {exc}")
                continue
            try:
                check_rows(events, answers)
            except Unresumable as reason:
                given_up += self._give_up(row, events, reason)
            else:
                saved.append((row, events, answers))
        clock = self.host.clock
        if isinstance(clock, VirtualClock):  # virtual time goes on from where it was
            latest = [event.timestamp for _, events, _ in saved for event in events]
            clock.move_to(max(latest, default=clock.now()))
        resumed = []
        for row, events, answers in saved:
            try:
                resumed.append(self._resume(row, events, answers))
            except Unresumable as reason:
                given_up += self._give_up(row, events, reason)
            except Exception as bug:  # one execution's: the others are still resumed
                _log.error("execution %s: recovering it failed", row.arn, exc_info=bug)
                given_up += self._give_up(row, events, f"Internal engine error: {bug!r}", False)
        for execution in resumed:
            await _caught_up(execution)
        return resumed + given_up

    def _give_up(
        self,
        row: ExecutionRow,
        events: list[EventRow],
        reason: BaseException | str,
        say: bool = True,
    ) -> list[Execution]:
        """End a stored execution that cannot be resumed: FAILED after its stored events,
        written at once (``say``: its reason logged, on one line). The execution as read
        back, or none when even its end cannot be written (it stays RUNNING in the file, for
        a later start to try again)."""
        assert self.store is not None
        failure = unresumable_cause(reason)
        if say:
            _log.warning("execution %s: %s", row.arn, failure.cause)
        event, ended = failed_end(events, failure, self.host.now())
        try:
            self.store.write(commit_write(row.arn, [event], [], ended))
        except (StoreError, sqlite3.Error) as exc:
            _log.error("execution %s: its end could not be written either: %s", row.arn, exc)
            return []
        stored = self.get_execution(row.arn)
        return [] if stored is None else [stored]

    async def redrive(self, arn: str) -> Execution:
        """Redrive an ended execution (RedriveExecution; see :mod:`runtime.redrive`): it
        goes on from where it failed, its successful steps replayed, not run again; returned
        running once it has caught up. ``ExecutionNotRedrivable`` saying why it cannot be
        (an engine without a database keeps no journal to redrive from); ``LookupError``
        when the database holds no such execution."""
        store = self.store
        if store is None:
            # Our wording: AWS always keeps what a redrive needs.
            raise ExecutionNotRedrivable(
                "Execution cannot be redriven: the engine keeps no journal without a database"
            )
        row = store.execution(arn)
        if row is None:
            raise LookupError(arn)
        events, answers = store.events(arn), store.journal(arn)
        reason = self._refusal(row, events)
        if reason is not None:
            raise ExecutionNotRedrivable(reason)
        now = self.host.now()
        try:
            check_rows((), answers)  # its events were checked by the refusal
            plan = redrive_plan(
                events, answers, row.redrive_count + 1, now, redrive_inputs(store, arn)
            )
        except (Unresumable, ValueError) as damaged:  # its answers, or its Map Runs
            # Our words: AWS's rows are never damaged (damaged events: not_redrivable).
            raise ExecutionNotRedrivable(
                f"Execution cannot be redriven: its stored history is damaged ({damaged})"
            ) from None
        store.redrive(arn, plan)
        redriven = store.execution(arn)
        assert redriven is not None
        events = store.events(arn)
        try:
            execution = self._resume(redriven, events, store.journal(arn))
        except Unresumable as cannot:  # it fails again, as it failed when it was recovered
            given_up = self._give_up(redriven, events, cannot)
            if not given_up:
                raise  # its end could not be written either (said in the log)
            return given_up[0]
        await _caught_up(execution)
        return execution

    def not_redrivable(self, arn: str) -> str | None:
        """Why the execution ``arn`` of this durable engine's database cannot be redriven
        now (``runtime.redrive``'s reasons), or None when it can; ``LookupError`` when the
        database holds no such execution."""
        assert self.store is not None
        row = self.store.execution(arn)
        if row is None:
            raise LookupError(arn)
        return self._refusal(row, self.store.events(arn))

    def _refusal(self, row: ExecutionRow, events: list[EventRow]) -> str | None:
        now = self.host.now()
        return not_redrivable(
            "RUNNING" if row.arn in self._executions else row.status,
            self._stored_type(row),
            row.stop_time,
            now,
            events,
            now - row.start_time > STANDARD_MAX_SECONDS,
        )

    def _stored_type(self, row: ExecutionRow) -> MachineType:
        """The type of the machine a stored execution ran (STANDARD when it is not kept)."""
        try:
            return self._machine_at(row.machine_arn, row.revision).type
        except Unresumable:
            return "STANDARD"

    def _resume(
        self, row: ExecutionRow, events: list[EventRow], answers: list[JournalRow]
    ) -> Execution:
        assert self.store is not None
        machine = self._machine_at(row.machine_arn, row.revision)
        log = Log(self.store, row.arn, events, answers)
        host = JournaledHost(self.host, log, None if self.host_per_execution else row.seed)
        try:
            value = parse_json(row.input)
            size = input_size(value)
        except ValueError as exc:  # not JSON, or one StartExecution refuses (a ValueError)
            raise Unresumable(
                f"its stored input is not JSON text it could start with: {exc}"
            ) from None
        history = DurableHistory(host.clock, log, events)
        execution = self._begin(
            machine, row.name, row.arn, value, host, log, history, row.redrive_count
        )
        execution.redrive_date = row.redrive_date
        self._spawn(execution, size)
        return execution

    def _forget(self, execution: Execution) -> None:
        """A durable execution ended: it is read back from the database from now on (its
        Map Runs too: they were written with its end)."""
        if self._executions.get(execution.arn) is execution:
            del self._executions[execution.arn]

    def runs(self, arn: str) -> bool:
        """Whether this engine runs (or ran, and still holds) the execution ``arn``; a
        durable engine's file may hold executions another process's engine runs."""
        return arn in self._executions

    def get_execution(self, arn: str) -> Execution | None:
        """A started execution by ARN (a durable engine's ended ones read back from its
        database)."""
        execution = self._executions.get(arn)
        if execution is None and self.store is not None:
            row = self.store.execution(arn)
            if row is not None:
                return self._stored(row)
        return execution

    def _stored(self, row: ExecutionRow) -> Execution:
        """An execution as its database row and history say (not running here)."""
        assert self.store is not None
        try:
            machine = self._machine_at(row.machine_arn, row.revision)
        except Unresumable:  # it ended FAILED for that; what is kept of it can be read
            machine = self._unkept_machine(row)
        run = self._new_run(machine, row.arn, self.host, History(self.host.clock))
        execution = Execution(machine, row.name, stored_value(row.input), run, row.start_time)
        execution._unread = partial(_read_back, self.store)
        execution.status = row.status  # type: ignore[assignment]
        execution.output = None if row.output is None else stored_value(row.output)
        execution.error, execution.cause = row.error, row.cause
        execution.stop_time = row.stop_time
        execution.redrive_count, execution.redrive_date = row.redrive_count, row.redrive_date
        return execution

    def _unkept_machine(self, row: ExecutionRow) -> Machine:
        """What stands for the machine of a stored execution when its revision is not kept
        or no longer compiles: its ARN and name, a definition that runs nothing."""
        name = row.machine_arn.rsplit(":", 1)[-1]
        role = f"arn:aws:iam::{self.account}:role/service-role/StepFunctions-{name}"
        return Machine(self, _unkept_model(), name, "STANDARD", row.machine_arn, role)

    def executions(self) -> list[Execution]:
        """Every execution started on this engine, in the order they started."""
        return list(self._executions.values())


@cache
def _unkept_model() -> m.StateMachine:
    return asl.load({"StartAt": "NotKept", "States": {"NotKept": {"Type": "Fail"}}})


def _read_back(store: ExecutionStore, run: Run) -> None:
    """Fill in a stored execution's history, path and Map Runs from its database."""
    history = run.history
    history.extend(_readable(store.events(run.execution_arn)))
    run.map_runs = tuple(stored_map_runs(store, run.execution_arn))
    run.path.extend(
        event.details["name"]
        for event in history
        if event.type.endswith("StateEntered") and event.details is not None
    )


def _readable(rows: list[EventRow]) -> Iterator[Event]:
    """Stored events as a reader sees them: a damaged one (its execution ended FAILED for
    it, see :mod:`runtime.unresumable`) shows no details when they are not JSON, and the
    time of the event before it when its own is not one."""
    at = 0.0
    for row in rows:
        if is_time(row.timestamp):
            at = row.timestamp
        try:
            event = stored_event(row)
        except Unresumable:
            event = Event(row.id, row.previous_id, at, row.type, None)
        event.timestamp = at
        yield event


async def _caught_up(execution: Execution) -> None:
    """Until a resumed execution has replayed what it had committed, or has ended."""
    assert execution._log is not None
    if execution._task is None:  # it has ended
        return
    await asyncio.wait(
        [execution._log.caught_up, execution._task], return_when=asyncio.FIRST_COMPLETED
    )
