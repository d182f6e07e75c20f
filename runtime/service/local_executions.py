"""Executions on the server's own engine (``asl serve --backend local``, the default): an
:class:`~runtime.service.executions_backend.ExecutionsBackend` over
:class:`~runtime.executions.Engine`, in memory or durable in the server's SQLite file.

What an ARN names is found in the engine's memory while its execution runs; on a durable
engine an ended execution (with its Map Runs and their children) is read back from its
database.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterable, Iterator, Sequence
from typing import Any

from integrations.mocks import MockCases
from runtime.activities import Activities
from runtime.api_limits import ValidationException
from runtime.clock import RealClock
from runtime.executions import Engine, Execution, Machine, MachineType
from runtime.history import Event
from runtime.redrive import ExecutionNotRedrivable
from runtime.service.catalog import Catalog, ExecutionOrigin, Target
from runtime.service.definitions import compile_definition
from runtime.service.errors import ExecutionDoesNotExist, ResourceNotFound
from runtime.service.executions_backend import ExecutionView, StartedFrom
from runtime.service.listing import listed_page, stored_page
from runtime.states.map_run import ChildRecord, MapRunRecord
from runtime.store import TaskDoesNotExist, TaskRecord, TaskTimedOut
from runtime.stored_execution import StoredExecution
from runtime.stored_map_runs import stored_child, stored_map_run
from runtime.tokens import TaskTokens

__all__ = ["NO_JOURNAL", "LocalExecutions"]

#: Our words for an execution an engine without a database cannot redrive (AWS keeps the
#: journal of every execution it could redrive).
NO_JOURNAL = "Execution cannot be redriven: the server keeps no journal (serve with --db FILE)"

#: Our words: another live server on the same database runs the execution.
_ELSEWHERE = (
    "Execution {arn} is run by another asl serve on this database: send StopExecution to "
    "that server"
)


class LocalExecutions:
    """Executions run by ``engine``, their task tokens in ``tokens``."""

    #: The engine refuses an ARN it holds or its database holds (ended ones too).
    refuses_taken_names = True

    def __init__(
        self,
        engine: Engine,
        catalog: Catalog,
        tokens: TaskTokens,
        *,
        mock_cases: MockCases | None = None,
    ) -> None:
        self.engine = engine
        self.catalog = catalog
        self.tokens = tokens
        self.mock_cases = mock_cases
        # Workers poll in real time whatever the engine's clock: on a virtual clock a
        # 60-second poll would end at once, and workers would spin.
        self.activities = Activities(
            tokens, RealClock(), region=engine.region, account=engine.account
        )
        self._compiled: dict[tuple[str, str, str], Machine] = {}
        self._background: set[asyncio.Task[None]] = set()
        #: The task tokens the executions this server recovered drew before it did.
        self._recovered_tokens: set[str] = set()

    # --- starting ---------------------------------------------------------------------

    def _machine(self, aim: Target) -> Machine:
        """The engine's machine for what ``aim`` runs, compiled once per revision or
        version (``aim.key``)."""
        cache_key = (aim.key, aim.definition, aim.role_arn)
        machine = self._compiled.get(cache_key)
        if machine is None:
            record = aim.record
            model = compile_definition(aim.definition, record.type)
            machine_type: MachineType = "EXPRESS" if record.type == "EXPRESS" else "STANDARD"
            machine = self.engine.create_state_machine(
                model, name=record.name, type=machine_type, role_arn=aim.role_arn,
                text=aim.definition,
            )  # fmt: skip
            self.forget_machine(aim.key)
            self._compiled[cache_key] = machine
        return machine

    def forget_machine(self, key: str) -> None:
        """Drop the compiled machines of a deleted machine or version."""
        self._compiled = {k: v for k, v in self._compiled.items() if k[0] != key}

    async def start(
        self, aim: Target, value: Any, name: str | None, test_case: str | None
    ) -> ExecutionView:
        """Start an execution of ``aim``; its origin is written in the transaction of its
        start (on a durable server: no second one per start), named in its row where the
        catalog reads it from there."""
        machine = self._machine(aim)

        def keep_origin(execution_arn: str) -> None:
            self.catalog.put_origin(ExecutionOrigin(execution_arn, aim))

        origin = self.catalog.origin_key(aim)
        execution = await machine.start(value, name=name, on_start=keep_origin, origin=origin)
        # Started: the transaction of its start, which put its origin, was committed.
        self.catalog.origin_committed(ExecutionOrigin(execution.arn, aim))
        # Chosen before the new execution's strand first runs: starting it only scheduled it.
        if test_case is not None and self.mock_cases is not None:
            self.mock_cases.choose(execution.arn, aim.record.name, test_case)
            self._forget_when_done(execution)
        return execution

    def _forget_when_done(self, execution: Execution) -> None:
        async def forget() -> None:
            await execution.wait()
            if self.mock_cases is not None:
                self.mock_cases.forget(execution.arn)

        self._run_in_background(forget())

    def _run_in_background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # --- reading ----------------------------------------------------------------------

    async def find(self, arn: str) -> ExecutionView | None:
        """An execution of the engine, or a Map Run's child, by ARN; one the engine does not
        hold (on a durable engine: ended, or run by another engine on the file) as its
        stored row says, without building the execution (a DescribeExecution of an ended
        execution reads nothing else)."""
        store = self.engine.store
        if store is None or self.engine.runs(arn):
            return self.engine.get_execution(arn) or self._child(arn)
        row = store.execution(arn)
        return self._child(arn) if row is None else StoredExecution(row)

    def _top(self, arn: str) -> Execution:
        found = self.engine.get_execution(arn)
        if found is None:
            raise ExecutionDoesNotExist(arn)
        return found

    def _run(self, arn: str) -> Execution | ChildRecord:
        found = self.engine.get_execution(arn) or self._child(arn)
        if found is None:
            raise ExecutionDoesNotExist(arn)
        return found

    async def wait(self, arn: str) -> ExecutionView:
        """Wait for the top execution ``arn`` to end."""
        return await self._top(arn).wait()

    async def stop(self, arn: str, error: str | None, cause: str | None) -> None:
        """Stop the top execution ``arn``; one another live server on the database runs is
        refused, one whose server died is taken over first."""
        execution = self._top(arn)
        if execution.status == "RUNNING" and not self.engine.runs(arn):
            await self.recover()  # the server that ran it may have died since
            execution = self._top(arn)
            if not self.engine.runs(arn):
                raise ValidationException(_ELSEWHERE.format(arn=arn))
        execution.stop(error, cause)

    async def history(self, arn: str) -> Sequence[Event]:
        """Its events so far."""
        return list(self._run(arn).history)

    async def progress(self, arn: str) -> tuple[int, str]:
        """How many events it has recorded, and its status."""
        run = self._run(arn)
        return len(run.history), run.status

    async def list_page(
        self, machine_arn: str, body: dict[str, Any], started_from: StartedFrom
    ) -> dict[str, Any]:
        """Executions of the machine newest first: from memory, or on a durable engine a
        page at a time from its database (see :func:`~runtime.service.listing.stored_page`)."""
        wanted = body.get("statusFilter")
        store = self.engine.store
        if store is None:
            started = reversed(self.engine.executions())
            return listed_page(
                [item for run in started if (wanted is None or run.status == wanted)
                 and (item := started_from(run)) is not None],
                body,
            )  # fmt: skip

        async def rows(limit: int, after: tuple[float, int] | None) -> list[Any]:
            return store.execution_page(machine_arn, limit, status=wanted, after=after)

        return await stored_page(rows, body, started_from)

    # --- redrive ----------------------------------------------------------------------

    async def not_redrivable(self, run: ExecutionView) -> str | None:
        """Why the ended execution cannot be redriven (``runtime.redrive``'s reasons)."""
        if self.engine.store is None:
            return NO_JOURNAL
        try:
            return self.engine.not_redrivable(run.arn)
        except LookupError:
            raise ExecutionDoesNotExist(run.arn) from None

    async def redrive(self, arn: str) -> float:
        """Redrive the execution; its redrive date."""
        try:
            redriven = await self.engine.redrive(arn)
        except LookupError:
            raise ExecutionNotRedrivable(NO_JOURNAL) from None
        assert redriven.redrive_date is not None
        return redriven.redrive_date

    # --- Map Runs ---------------------------------------------------------------------

    async def map_run(self, arn: str) -> MapRunRecord:
        """A Map Run by ARN: a live one, or one stored with its ended execution (read
        alone, its children when asked for)."""
        store = self.engine.store
        row = None if store is None else store.map_run_row(arn)
        if row is None or self.engine.runs(row[0]):
            live = next((run for run in self._live_map_runs() if run.arn == arn), None)
            if live is not None:
                return live
        if row is None or store is None:
            raise ResourceNotFound(arn)
        return stored_map_run(store, arn, row)

    async def map_runs(self, execution_arn: str) -> Sequence[MapRunRecord]:
        """The Map Runs of an execution (or of a Map Run's child)."""
        return self._run(execution_arn).map_runs

    async def map_run_of(self, arn: str) -> MapRunRecord | None:
        """The Map Run that started the child execution ``arn``."""
        found = self._located(arn)
        return None if found is None else found[0]

    def _child(self, arn: str) -> ChildRecord | None:
        found = self._located(arn)
        return None if found is None else found[1]

    def _located(self, arn: str) -> tuple[MapRunRecord, ChildRecord] | None:
        """The Map Run child execution ``arn`` and its Map Run: live while the execution
        they belong to runs on this engine, else as stored with it when it ended, read by
        the child's ARN (the child's siblings are not read: a client reading each child of
        a Map Run in turn does work in proportion to their number, not its square)."""
        machine = arn.split(":execution:", 1)[-1].split(":", 1)[0]
        if "/" not in machine:  # a Map Run's children run ``<machine>/<label>``
            return None
        store = self.engine.store
        row = None if store is None else store.map_run_child(arn)
        if row is None or self.engine.runs(row[0]):
            for run in self._live_map_runs():
                child = next((c for c in run.executions if c.arn == arn), None)
                if child is not None:
                    return run, child
        return None if row is None or store is None else stored_child(store, arn, row)

    def _live_map_runs(self) -> Iterator[MapRunRecord]:
        """The Map Runs of the executions this engine holds (running ones, on a durable
        engine), nested ones too."""
        for execution in self.engine.executions():
            yield from _map_runs(execution.map_runs)

    # --- tasks ------------------------------------------------------------------------

    async def send_task_success(self, token: str, output: Any) -> None:
        """SendTaskSuccess."""
        self._answer(token, lambda: self.tokens.send_success(token, output))

    async def send_task_failure(self, token: str, error: str | None, cause: str | None) -> None:
        """SendTaskFailure."""
        self._answer(token, lambda: self.tokens.send_failure(token, error, cause))

    async def send_task_heartbeat(self, token: str) -> None:
        """SendTaskHeartbeat."""
        self._answer(token, lambda: self.tokens.send_heartbeat(token))

    def _answer(self, token: str, send: Callable[[], None]) -> None:
        """``send`` an answer to a task token. The task tokens in memory are those of this
        process: one whose task has ended (answered, timed out, its state gone on) is
        AWS's ``TaskTimedOut`` ("Provided task does not exist anymore": recorded for an
        answer sent twice, aws-samples/amazon-mwaa-examples#61, and for a late one,
        andybalham/blog-task-tokens-part-2), and so is one drawn before a restart whose
        task no longer waits: its execution has ended, or this server recovered it and
        it did not wait on the token again. One whose execution another server runs is
        left ``TaskDoesNotExist``: which of its tasks is open is that execution's to say;
        so is one drawn here whose wait has not begun (the integration was handed the
        token and answered before the wait was recorded)."""
        try:
            send()
        except TaskDoesNotExist:
            store = self.engine.store
            issuer = None if store is None else store.token_issuer(token)
            if issuer is not None and (
                issuer.status != "RUNNING" or token in self._recovered_tokens
            ):
                raise TaskTimedOut() from None
            raise

    async def pending_tasks(self) -> Sequence[TaskRecord]:
        """The task tokens and activity tasks waiting in the task store."""
        return self.tokens.pending()

    async def get_activity_task(
        self, activity_arn: str, worker: str | None, timeout: float
    ) -> tuple[str, Any] | None:
        """The oldest task waiting for a worker of the activity (long poll)."""
        task = await self.activities.get_task(activity_arn, worker, timeout=timeout)
        return None if task is None else (task.token, task.input)

    # --- life -------------------------------------------------------------------------

    async def recover(self) -> None:
        """Resume what a dead server left running on the durable engine (once it has, a
        token they drew before that they are not waiting on is over: see ``_answer``)."""
        recovered = await self.engine.recover()
        store = self.engine.store
        running = [e.arn for e in recovered if e.status == "RUNNING"]
        if store is not None and running:
            self._recovered_tokens |= store.tokens_drawn_by(running)

    async def aclose(self) -> None:
        """Nothing beyond the server's engine, which the server closes."""


def _map_runs(runs: Iterable[MapRunRecord]) -> Iterator[MapRunRecord]:
    """Map Runs and, depth first, those their children started."""
    for run in runs:
        yield run
        for child in run.executions:
            yield from _map_runs(child.map_runs)
