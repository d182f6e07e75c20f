"""The Host of an execution running as a Temporal workflow (workflow side).

Everything the interpreter asks of the world comes from Temporal's workflow API, so a
replay of the workflow's history on any worker makes the same decisions:

- time: the workflow's time (``workflow.now()``) and its durable timers (the workflow
  event loop's ``call_later`` is a Temporal timer), or, with ``clock="virtual"``, a
  :class:`~runtime.clock.VirtualClock` of the execution's own that starts at the
  workflow's start and jumps when every strand of the execution is parked (see
  :mod:`runtime.temporal.workflow`);
- ids, task tokens and random numbers: the execution's :class:`~asl.bindings.Entropy`,
  seeded from ``workflow.random()`` (or the start request's seed);
- Task invocations: activities run by the workers that hold the integrations;
- a Distributed Map's child executions: child workflows (:mod:`runtime.temporal.map_runs`);
- task tokens: waits in the execution's own :class:`~runtime.tokens.TaskTokens`,
  answered by the workflow's updates (SendTaskSuccess, SendTaskFailure,
  SendTaskHeartbeat). A token names its workflow, so a client finds where to send it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, CancelledError

from integrations.base import TaskRequest
from runtime.clock import Clock, Deadline, RealClock, Wake
from runtime.host import LocalHost
from runtime.store import InvalidToken, TaskStore
from runtime.temporal.activity_tasks import PendingActivities
from runtime.temporal.map_runs import TemporalMapChildren
from runtime.temporal.payloads import (
    INTEGRATION_FAULT,
    INVOKE_ACTIVITY,
    STATES_ERROR,
    raised_by,
    request_payload,
    task_result,
)
from runtime.tokens import OnStarted

#: What a Task with no TimeoutSeconds may take as an activity: AWS's default TimeoutSeconds.
_LONGEST_TASK_SECONDS = 99_999_999
#: How many of the interpreter's pauses (one per 256 states) go by between two ends of
#: an activation: about 4,096 states, a fraction of a second of work.
_PAUSES_PER_ACTIVATION = 16
#: The same for an execution that is journaled (durable in memory, to be redriven): each
#: state's events are also written as JSON text into its database, so an activation takes
#: 256 states (one pause), and stays as far within Temporal's two seconds. 1,024 states
#: took up to 80 ms of CPU near the end of a 25,000-event history, 0.5-1.2 s of wall time
#: on a loaded machine (bench/activation_probe).
_JOURNALED_PAUSES_PER_ACTIVATION = 1
#: The patch under which a journaled execution ends an activation at each pause, asked at
#: its first pause (so only executions that run that long record its marker); executions
#: recorded before it end one every 4th pause, and replay so.
_SHORT_ACTIVATIONS = "journaled-activation-per-pause"
_PAUSES_BEFORE_SHORT_ACTIVATIONS = 4
#: The activity's own timeout is the Task's plus this: the execution's timer ends the
#: Task (with AWS's ``States.Timeout`` event) before Temporal ends the activity.
_ACTIVITY_GRACE_SECONDS = 60
#: The patch of a StopExecution that came with an activity's result (see ``invoke``):
#: workflows recorded before it replay as they ran.
_STOP_AT_COMPLETION = "stop-with-activity-result"


class WorkflowClock(RealClock):
    """Real time as a workflow sees it: the workflow's time, its timers durable."""

    def now(self) -> float:
        """The workflow's current time, the same on every replay."""
        return workflow.now().timestamp()

    def timer(
        self,
        seconds: float | None,
        callback: Callable[[], None] | None = None,
        *,
        elapsed: float = 0.0,
    ) -> Wake:
        """A durable timer of the workflow's for each, passive ones too, as its history has
        recorded them (the local clock's one watched heap of timers would change that).
        ``elapsed`` is left out: the workflow's time, which its timers run on, stood still
        meanwhile."""
        return self.loop_timer(seconds, callback)

    def alarm(
        self, seconds: float | None, callback: Callable[[], None], *, passive: bool = False
    ) -> Wake:
        """A durable timer too (see :meth:`timer`)."""
        return self.loop_timer(seconds, callback)

    def limit(self, deadline: float) -> Deadline:
        """A deadline on a durable timer of its own too (see :meth:`timer`), set and
        cancelled with its execution, not shared."""
        return self.deadline_at(deadline, passive=True)


def workflow_of_token(token: str) -> str:
    """The id of the workflow that issued a task token; ``InvalidToken`` for one that no
    execution on Temporal could have issued. A token is the workflow id in hexadecimal,
    ``_``, then the random part (within the characters and length a token may have)."""
    head, separator, _ = token.partition("_")
    try:
        workflow_id = bytes.fromhex(head).decode()
    except (ValueError, UnicodeDecodeError):
        raise InvalidToken() from None
    if not separator or not workflow_id:
        raise InvalidToken()
    return workflow_id


class _Activities:
    """Task invocations as activities (the workflow's Invoker)."""

    def __init__(self, task_queue: str, liveness_seconds: float) -> None:
        self._task_queue = task_queue
        self._liveness = timedelta(seconds=liveness_seconds)

    async def invoke(self, request: TaskRequest) -> Any:
        # Temporal's own randomness, not the execution's entropy: a seeded execution
        # draws the same ids as on a local engine.
        seed = workflow.random().getrandbits(53)
        seconds = (request.timeout_seconds or _LONGEST_TASK_SECONDS) + _ACTIVITY_GRACE_SECONDS
        try:
            result = await workflow.execute_activity(
                INVOKE_ACTIVITY,
                request_payload(request, seed, request.services.now()),
                task_queue=self._task_queue,
                start_to_close_timeout=timedelta(seconds=seconds),
                heartbeat_timeout=self._liveness,
                # A worker that died is replaced (at least once, as AWS's own Task
                # retries after a service fault); a Task's failure is the state's to retry.
                retry_policy=RetryPolicy(
                    maximum_interval=timedelta(seconds=10),
                    non_retryable_error_types=[STATES_ERROR, INTEGRATION_FAULT],
                ),
            )
        except ActivityError as failure:
            if isinstance(failure.cause, CancelledError):
                # The strand was cancelled (a deadline, StopExecution) and the SDK, having
                # cancelled the activity, says so this way: the cancellation goes on up.
                raise asyncio.CancelledError() from None
            raise raised_by(failure) from None
        task = asyncio.current_task()
        if task is not None and task.cancelling() and workflow.patched(_STOP_AT_COMPLETION):
            # Cancelled (StopExecution) in the activation that also brought the activity's
            # result: asyncio handed the cancellation to the activity's handle, which had
            # completed, so it was lost and the execution went on. It goes on up instead.
            raise asyncio.CancelledError()
        return task_result(result)


class WorkflowHost(LocalHost):
    """A :class:`~runtime.host.LocalHost` whose clock, entropy and Task invocations are
    a Temporal workflow's (see the module's docstring). On the virtual clock, a task
    token's HeartbeatSeconds and TimeoutSeconds are jumped to when nothing else runs, as
    on a local engine's. A Distributed Map's children are child workflows
    (:mod:`runtime.temporal.map_runs`); ``definition`` is the document the workflow runs,
    where they find their ItemProcessor."""

    def __init__(
        self,
        clock: Clock,
        seed: int,
        task_queue: str,
        liveness_seconds: float,
        definition: Any,
        *,
        journaled: bool = False,
    ) -> None:
        super().__init__(
            clock=clock,
            invoker=_Activities(task_queue, liveness_seconds),
            seed=seed,
            task_store=TaskStore(now=clock.now),
            on_task_waiting=lambda _: self.pending_activities.publish(),
        )
        #: The activity tasks waiting here, as pollers find and take them.
        self.pending_activities = PendingActivities(self.tokens)
        self.evaluates_inline = True
        self.map_children = TemporalMapChildren(clock, definition, task_queue, liveness_seconds)
        self._pauses = 0
        self._journaled = journaled
        self._pauses_per_activation = _PAUSES_PER_ACTIVATION
        self._workflow_id = workflow.info().workflow_id

    async def pause(self) -> None:
        """A turn of the event loop; every 16th pause (every one when ``journaled``) also
        ends the workflow's activation (a durable timer of a millisecond), so a long run of
        states is cut into activations well within Temporal's two seconds (a timer costs a
        round trip to the server: not at every pause). Counted, so replays cut the same."""
        self._pauses += 1
        if self._pauses == 1 and self._journaled:
            short = workflow.patched(_SHORT_ACTIVATIONS)
            self._pauses_per_activation = (
                _JOURNALED_PAUSES_PER_ACTIVATION if short else _PAUSES_BEFORE_SHORT_ACTIVATIONS
            )
        await asyncio.sleep(0 if self._pauses % self._pauses_per_activation else 0.001)

    def new_task_token(self) -> str:
        """An unguessable token (from the execution's entropy) naming this workflow."""
        return f"{self._workflow_id.encode().hex()}_{super().new_task_token()}"

    async def wait_for_activity(
        self,
        request: TaskRequest,
        on_started: OnStarted,
        *,
        started: float | None = None,
        token: str | None = None,
    ) -> Any:
        """Schedule an activity task and wait for a worker's answer, as on a local engine;
        pollers find it through :class:`PendingActivities`. A worker outside the
        execution answers it, so the virtual clock does not jump while it waits (its
        TimeoutSeconds and HeartbeatSeconds still pass in real time)."""
        try:
            with self.clock.hold():
                return await super().wait_for_activity(
                    request, on_started, started=started, token=token
                )
        finally:
            self.pending_activities.publish()
