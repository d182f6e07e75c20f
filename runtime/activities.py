"""Activities: Task states whose work is done by workers that poll for it.

A Task whose ``Resource`` is ``arn:aws:states:REGION:ACCOUNT:activity:NAME`` schedules an
activity task and waits. Workers call :meth:`Activities.get_task` (GetActivityTask: a
long poll of up to 60 seconds that returns ``(token, input)`` or nothing) and answer with
the same three calls as callbacks (SendTaskSuccess, SendTaskFailure, SendTaskHeartbeat).
An activity exists once it is named (CreateActivity is implicit).

History, as AWS records it: ``ActivityScheduled {resource, input, timeoutInSeconds?,
heartbeatInSeconds?}``, ``ActivityStarted {workerName?}``, then ``ActivitySucceeded
{output}``, ``ActivityFailed {error?, cause?}`` or ``ActivityTimedOut {error}``.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, NamedTuple

from asl.errors import StatesError
from asl.jsontext import parse_json
from integrations.base import TaskRequest
from runtime.api_limits import valid_name
from runtime.clock import Clock, RealClock
from runtime.store import ActivityWorkerLimitExceeded, InvalidArn, TaskStore
from runtime.tokens import OnStarted, TaskTokens, TokenTimedOut

__all__ = ["Activities", "ActivityTask", "Pollers", "activity_arn", "run_activity"]

#: GetActivityTask holds a poll open up to 60 seconds [AWS API reference].
LONG_POLL_SECONDS = 60.0
#: AWS's quota of workers polling one activity ARN at once.
MAX_POLLERS_PER_ARN = 1000
_POLLER_LIMIT = (
    "The maximum number of workers concurrently polling for activity tasks has been reached."
)
_ARN = re.compile(r"arn:aws[\w-]*:states:[\w-]+:\d{12}:activity:(?P<name>.+)")

Record = Callable[[str, Mapping[str, Any]], int]
WaitForActivity = Callable[[TaskRequest, OnStarted], Awaitable[Any]]


def activity_arn(activity: str, region: str, account: str) -> str:
    """The ARN of an activity given by ARN or by name (in ``region`` and ``account``);
    ``InvalidArn`` for neither."""
    if _ARN.fullmatch(activity):
        return activity
    if valid_name(activity):
        return f"arn:aws:states:{region}:{account}:activity:{activity}"
    raise InvalidArn(f"Invalid Arn: '{activity}'")


class Pollers:
    """The GetActivityTask calls in progress, by activity ARN: at most
    :data:`MAX_POLLERS_PER_ARN` for one ARN (AWS's quota; ``ActivityWorkerLimitExceeded``
    past it)."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()

    @contextmanager
    def polling(self, arn: str) -> Iterator[None]:
        """One more poller of ``arn`` while the block runs."""
        if self._counts[arn] >= MAX_POLLERS_PER_ARN:
            raise ActivityWorkerLimitExceeded(_POLLER_LIMIT)
        self._counts[arn] += 1
        try:
            yield
        finally:
            self._counts[arn] -= 1
            if not self._counts[arn]:
                del self._counts[arn]  # the ARNs of past polls are not kept


class ActivityTask(NamedTuple):
    """What GetActivityTask hands a worker: the task token and the input (a JSON value)."""

    token: str
    input: Any


class Activities:
    """The worker side of activities over one task store: poll for tasks, answer them."""

    def __init__(
        self,
        tokens: TaskTokens,
        clock: Clock,
        *,
        region: str = "us-east-1",
        account: str = "123456789012",
    ) -> None:
        self.tokens = tokens
        self._clock = clock
        self.region = region
        self.account = account
        self._pollers = Pollers()

    @classmethod
    def connect(cls, store: TaskStore | str | os.PathLike[str], **options: Any) -> Activities:
        """Workers in their own process: the activities of a store file, in real time."""
        if not isinstance(store, TaskStore):
            store = TaskStore(store)
        clock = RealClock()
        return cls(TaskTokens(clock, store), clock, **options)

    def arn(self, activity: str) -> str:
        """The ARN of an activity given by ARN or by name (in this object's region/account)."""
        return activity_arn(activity, self.region, self.account)

    async def get_task(
        self,
        activity: str,
        worker_name: str | None = None,
        *,
        timeout: float = LONG_POLL_SECONDS,
    ) -> ActivityTask | None:
        """GetActivityTask: the oldest waiting task of the activity, waiting up to
        ``timeout`` seconds (of the Host's clock) for one to be scheduled; None if none was."""
        arn = self.arn(activity)
        with self._pollers.polling(arn):
            timer = self._clock.timer(timeout)
            try:
                return await self._poll(arn, worker_name, timer)
            finally:
                timer.cancel()

    async def _poll(
        self, arn: str, worker_name: str | None, timer: asyncio.Future[None]
    ) -> ActivityTask | None:
        store = self.tokens.store
        while True:
            record = store.claim(arn, worker_name)
            if record is not None:
                self.tokens.notify(record)
                return ActivityTask(record.token, parse_json(record.input))
            if timer.done():
                return None
            waits: set[asyncio.Future[Any]] = {timer, self.tokens.next_scheduled(arn)}
            if store.shared:  # another process may schedule: look again shortly
                waits.add(asyncio.ensure_future(asyncio.sleep(self.tokens.poll_interval)))
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            for future in waits - {timer}:
                future.cancel()

    def send_success(self, token: str, output: Any) -> None:
        """SendTaskSuccess for an activity task."""
        self.tokens.send_success(token, output)

    def send_failure(self, token: str, error: str | None = None, cause: str | None = None) -> None:
        """SendTaskFailure for an activity task."""
        self.tokens.send_failure(token, error, cause)

    def send_heartbeat(self, token: str) -> None:
        """SendTaskHeartbeat for an activity task."""
        self.tokens.send_heartbeat(token)

    def list(self) -> list[tuple[str, str, float]]:
        """ListActivities: ``(arn, name, created)`` of every activity named so far."""
        return self.tokens.store.activities()


async def run_activity(request: TaskRequest, wait: WaitForActivity, record: Record) -> Any:
    """Run an activity Task: schedule it, wait for a worker's answer, record the events.

    ``wait`` is the Host's ``wait_for_activity``; ``record`` appends a history event.
    """
    details: dict[str, Any] = {"resource": request.resource.arn, "input": request.parameters}
    if request.timeout_seconds is not None:
        details["timeoutInSeconds"] = request.timeout_seconds
    if request.heartbeat_seconds is not None:
        details["heartbeatInSeconds"] = request.heartbeat_seconds
    record("ActivityScheduled", details)

    def started(worker_name: str | None) -> None:
        record("ActivityStarted", {} if worker_name is None else {"workerName": worker_name})

    try:
        output = await wait(request, started)
    except TokenTimedOut as timed_out:
        record("ActivityTimedOut", {"error": timed_out.error})
        raise
    except StatesError as failure:
        failed = {"error": failure.error, "cause": failure.cause}
        record("ActivityFailed", {k: v for k, v in failed.items() if v is not None})
        raise
    record("ActivitySucceeded", {"output": output})
    return output
