"""Task tokens: executions waiting on ``.waitForTaskToken`` or an activity task, and the
calls that answer them (SendTaskSuccess, SendTaskFailure, SendTaskHeartbeat).

Every wait is a row of a :class:`~runtime.store.TaskStore`. Answers given through this
object reach the waiting execution at once; when the store is a file other processes
share, the store is also polled (every ``poll_interval`` seconds of real time) so that
answers written by another process (``asl tasks approve``) are noticed.

HeartbeatSeconds and TimeoutSeconds are measured on the Host's clock: TimeoutSeconds from
the start of the wait; HeartbeatSeconds from the start (a callback), or from the moment a
worker took the task (an activity), and again from each heartbeat.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from asl.errors import TIMEOUT, StatesError
from asl.jsontext import json_text, parse_json, text_size
from runtime.api_limits import check_error_and_cause, check_payload_size
from runtime.clock import Clock, Wake
from runtime.store import (
    InvalidOutput,
    InvalidToken,
    NewTask,
    StoreError,
    TaskDoesNotExist,
    TaskRecord,
    TaskStore,
    TaskTimedOut,
)

__all__ = [
    "InvalidOutput",
    "InvalidToken",
    "TaskDoesNotExist",
    "TaskTimedOut",
    "TaskTokens",
    "TokenTimedOut",
    "check_output_size",
    "output_text",
    "parse_output",
]

#: How often a shared store is read for answers from other processes (real seconds).
POLL_INTERVAL = 0.2
#: How many tokens drawn whose wait is not recorded yet are kept, for an early answer or as
#: over (the oldest forgotten past it).
ISSUED_KEPT = 10_000

OnStarted = Callable[[str | None], None]

_log = logging.getLogger(__name__)


class TokenTimedOut(StatesError):
    """HeartbeatSeconds or TimeoutSeconds ran out: ``States.Timeout`` with no cause, as AWS
    records it."""

    def __init__(self) -> None:
        super().__init__(TIMEOUT, None)


def parse_output(text: str) -> Any:
    """SendTaskSuccess's ``output`` JSON text as a value: ``ValidationException`` when it is
    over 256 KiB (checked first, as AWS checks its members), ``InvalidOutput`` when it is
    not JSON (NaN and Infinity are not)."""
    check_output_size(text)
    try:
        return parse_json(text)
    except json.JSONDecodeError as exc:
        raise InvalidOutput(
            f"Invalid Output: '{exc.msg} at line {exc.lineno} column {exc.colno}'"
        ) from None
    except ValueError as exc:  # NaN, Infinity, 1e400, too deep: JSON AWS's parser refuses
        raise InvalidOutput(f"Invalid Output: '{exc}'") from None


def check_output_size(text: str) -> None:
    """``ValidationException`` for SendTaskSuccess output over 262,144 bytes of UTF-8."""
    check_payload_size("output", text_size(text))


def output_text(output: Any) -> str:
    """SendTaskSuccess's output value as the JSON text it sends, checked as AWS checks it."""
    try:
        text = json_text(output)
    except ValueError as exc:  # NaN or Infinity (NotJson), nested too deeply (JsonTooDeep)
        raise InvalidOutput(f"Invalid Output: '{exc}'") from None
    check_output_size(text)
    return text


@dataclass(frozen=True, slots=True)
class _Early:
    """An answer that came before the wait on its token was recorded."""

    failed: bool = False
    output: str | None = None
    error: str | None = None
    cause: str | None = None


#: Kept for an issued token whose Task is over without having waited on it: any answer to
#: it is refused as one to a task that ended (see TaskTokens.dropped).
_OVER = _Early()


@dataclass(slots=True)
class _Waiter:
    """What the waiting execution knows of its task."""

    record: TaskRecord
    wake: Wake | None  # what the waiting strand is parked on
    changed: bool  # the record changed since the execution last looked
    created: float  # Host time
    started: bool  # with its worker: a callback from the start, an activity once taken
    last_beat: float  # Host time of the start or of the last heartbeat
    beats: int
    on_started: OnStarted | None
    broken: StoreError | None = None  # the store failed while the task waited in it


class TaskTokens:
    """The task tokens the executions of one Host wait on, kept in a :class:`TaskStore`.

    ``on_waiting(record)`` is told of every task an execution starts waiting on (the CLI
    shows how to answer it).
    """

    def __init__(
        self,
        clock: Clock,
        store: TaskStore | None = None,
        *,
        poll_interval: float = POLL_INTERVAL,
        on_waiting: Callable[[TaskRecord], None] | None = None,
    ) -> None:
        self.clock = clock
        self._now = clock.now
        self.store = store if store is not None else TaskStore()
        self.poll_interval = poll_interval
        self.on_waiting = on_waiting
        self._waiting: dict[str, _Waiter] = {}
        self._poller: asyncio.Task[None] | None = None
        # Callers of next_task() waiting for a task, and the tokens handed to them (each
        # holds the clock until it is answered or ends).
        self._takers: list[asyncio.Future[TaskRecord]] = []
        self._taken: set[str] = set()
        self._scheduled: dict[str, list[asyncio.Future[None]]] = {}
        # Tokens drawn whose wait is not recorded yet, each with the answer that came
        # meanwhile (None until one does; _OVER once its Task is over): see issued().
        self._issued: dict[str, _Early | None] = {}

    def pending(self) -> list[TaskRecord]:
        """The tasks waiting for an answer in the store (of every process), oldest first."""
        return self.store.open_tasks()

    def issued(self, token: str) -> None:
        """A task token was drawn. Its Task hands it out (to the integration) before the
        wait on it is recorded, and whoever got it may answer at once (a function that
        calls SendTaskSuccess itself): AWS takes the answer, its task being open from its
        start; so an answer that comes meanwhile is kept until the wait is recorded."""
        self._issued[token] = None
        if len(self._issued) > ISSUED_KEPT:
            del self._issued[next(iter(self._issued))]

    def dropped(self, token: str) -> None:
        """The Task that drew ``token`` is done with it. One that waited on it has taken
        any answer kept for it (see :meth:`wait`); one that never will (its integration
        failed or refused the call, or it was stopped first) may have shown it all the
        same, to the integration and in its TaskScheduled event: an answer to it is then
        AWS's ``TaskTimedOut``, as to any task that is over ("Provided task does not exist
        anymore")."""
        if token in self._issued:
            self._issued[token] = _OVER

    def send_success(self, token: str, output: Any) -> None:
        """SendTaskSuccess: the task's result is ``output`` (a JSON value of at most 256 KiB
        as JSON text; ``ValidationException`` beyond, ``InvalidOutput`` for NaN)."""
        text = output_text(output)
        if not self._early(token, _Early(output=text)):
            self.notify(self.store.succeed(token, text))
            self._release(token)

    def send_failure(self, token: str, error: str | None = None, cause: str | None = None) -> None:
        """SendTaskFailure: the task fails with this error and cause (both optional; at
        most 256 and 32,768 characters, ``ValidationException`` beyond, as AWS refuses)."""
        check_error_and_cause(error, cause)
        if not self._early(token, _Early(failed=True, error=error, cause=cause)):
            self.notify(self.store.fail(token, error, cause))
            self._release(token)

    def _early(self, token: str, answer: _Early | None) -> bool:
        """Whether ``token``'s wait is not recorded yet: then its answer (None: a
        heartbeat) is kept for it; a second answer, or any to a token whose Task is over,
        is refused as one is once the task has ended."""
        if token not in self._issued or self.store.get(token) is not None:
            return False
        if self._issued[token] is not None:
            raise TaskTimedOut()
        if answer is not None:
            self._issued[token] = answer
        return True

    def _answered_early(self, token: str, record: TaskRecord) -> TaskRecord:
        """The task of ``token`` as it is once given the answer that came before its wait
        was recorded (if one did)."""
        early = self._issued.pop(token, None)
        if early is None:
            return record
        if early.failed:
            return self.store.fail(token, early.error, early.cause)
        return self.store.succeed(token, early.output or "null")

    async def next_task(self) -> TaskRecord:
        """The next task an execution of this Host waits on: one already waiting that no
        call took yet, or the next to come. How a test answers callbacks: it holds the
        clock from the moment the task is taken until it is answered (or ends), so no
        HeartbeatSeconds or TimeoutSeconds runs out under virtual time meanwhile."""
        for token, waiter in self._waiting.items():
            if token not in self._taken:
                self._take(token)
                return waiter.record
        taker: asyncio.Future[TaskRecord] = asyncio.get_running_loop().create_future()
        self._takers.append(taker)
        return await taker

    def _offer(self, record: TaskRecord) -> None:
        """A new task waits: the first caller of :meth:`next_task` still waiting takes it."""
        while self._takers:
            taker = self._takers.pop(0)
            if not taker.done():
                self._take(record.token)
                taker.set_result(record)
                return

    def _take(self, token: str) -> None:
        self._taken.add(token)
        self.clock.begin_hold()

    def _release(self, token: str) -> None:
        if token in self._taken:
            self._taken.discard(token)
            self.clock.end_hold()

    def send_heartbeat(self, token: str) -> None:
        """SendTaskHeartbeat: the task is alive; its HeartbeatSeconds start again (none
        run before its wait is recorded)."""
        if not self._early(token, None):
            self.notify(self.store.heartbeat(token))

    def notify(self, record: TaskRecord) -> None:
        """A task changed in the store: wake the execution waiting on it, if it is ours."""
        waiter = self._waiting.get(record.token)
        if waiter is not None:
            waiter.record = record
            waiter.changed = True
            if waiter.wake is not None and not waiter.wake.done():
                waiter.wake.set_result(True)

    def next_scheduled(self, resource: str) -> asyncio.Future[None]:
        """A future done when this process next schedules a task of ``resource``."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiting = [f for f in self._scheduled.get(resource, []) if not f.done()]
        waiting.append(future)
        self._scheduled[resource] = waiting
        return future

    def _announce(self, resource: str) -> None:
        for future in self._scheduled.pop(resource, []):
            if not future.done():
                future.set_result(None)

    async def wait(
        self, task: NewTask, *, on_started: OnStarted | None = None, started: float | None = None
    ) -> Any:
        """Record ``task`` and wait for its answer: the output of SendTaskSuccess, or the
        ``StatesError`` of SendTaskFailure; a missed heartbeat or the timeout raises
        :class:`TokenTimedOut`. ``on_started(worker_name)`` is called when a worker takes
        an activity task. ``started``: when the wait began (now unless told: a recovered
        execution waits again on its token, its timeout counted from the first wait)."""
        record = self.store.add(task)
        if self.on_waiting is not None:
            self.on_waiting(record)
        record = self._answered_early(task.token, record)
        now = self._now() if started is None else started
        is_callback = task.kind == "callback"
        waiter = _Waiter(record, None, False, now, is_callback, now, 0, on_started)
        self._waiting[task.token] = waiter
        if not is_callback:
            self._announce(task.resource)
        self._offer(record)
        self._start_polling()
        try:
            return await self._until_answered(waiter, task)
        except asyncio.CancelledError:
            try:
                self.store.end(task.token, "ABORTED")
            except StoreError as exc:  # the stop still stops: nothing waits in it now
                _log.warning("%s", exc)
            raise
        finally:
            del self._waiting[task.token]
            self._release(task.token)

    async def _until_answered(self, waiter: _Waiter, task: NewTask) -> Any:
        while True:
            if waiter.broken is not None:
                raise waiter.broken
            answered, value = self._apply(waiter)
            if answered:
                return value
            deadline = _deadline(waiter, task.heartbeat_seconds, task.timeout_seconds)
            if await self._changed_before(waiter, deadline):
                continue
            record = self.store.end(task.token, "TIMED_OUT")
            if record is None or record.status == "TIMED_OUT":
                raise TokenTimedOut()
            waiter.record = record  # an answer came in just before the deadline

    def _apply(self, waiter: _Waiter) -> tuple[bool, Any]:
        """Take in what the store says of the task; ``(True, output)`` once it succeeded."""
        record = waiter.record
        if not waiter.started and record.status != "SCHEDULED":
            waiter.started = True
            waiter.last_beat = self._now()
            if waiter.on_started is not None:
                waiter.on_started(record.worker_name)
        if record.heartbeats > waiter.beats:
            waiter.beats = record.heartbeats
            waiter.last_beat = self._now()
        if record.status == "SUCCEEDED":
            return True, parse_json(record.output or "null")
        if record.status == "FAILED":
            # SendTaskFailure may give neither: the error is then null, as in AWS's Error Output
            raise StatesError(record.error, record.cause)  # type: ignore[arg-type]
        if not record.is_open:  # ended by someone else (its process was thought gone)
            raise TokenTimedOut()
        return False, None

    async def _changed_before(self, waiter: _Waiter, deadline: float | None) -> bool:
        """Park until the task changes (True) or the deadline passes (False)."""
        if not waiter.changed:
            seconds = None if deadline is None else max(0.0, deadline - self._now())
            waiter.wake = wake = self.clock.timer(seconds)
            try:
                await self.clock.park(wake)
            finally:
                waiter.wake = None
                wake.cancel()
        changed, waiter.changed = waiter.changed, False
        return changed

    def _start_polling(self) -> None:
        if self.store.shared and (self._poller is None or self._poller.done()):
            self._poller = asyncio.get_running_loop().create_task(self._poll())

    async def _poll(self) -> None:
        """Read the store for answers other processes wrote, while anything waits. A store
        that fails here ends every wait on it with its :class:`StoreError`: no answer
        could reach them any more."""
        while self._waiting:
            await asyncio.sleep(self.poll_interval)  # real time: people answer in real time
            try:
                records = self.store.get_many(list(self._waiting))
            except StoreError as exc:
                self._broken(exc)
                return
            for record in records:
                waiter = self._waiting.get(record.token)
                if waiter is not None and record != waiter.record:
                    self.notify(record)

    def _broken(self, exc: StoreError) -> None:
        """End every wait with the store's failure."""
        for waiter in self._waiting.values():
            waiter.broken, waiter.changed = exc, True
            if waiter.wake is not None and not waiter.wake.done():
                waiter.wake.set_result(True)


def _deadline(waiter: _Waiter, heartbeat: int | None, timeout: int | None) -> float | None:
    limits = []
    if timeout is not None:
        limits.append(waiter.created + timeout)
    if heartbeat is not None and waiter.started:
        limits.append(waiter.last_beat + heartbeat)
    return min(limits) if limits else None
