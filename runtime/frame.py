"""The state an execution carries while it runs: one ``Run`` per execution, one ``Frame``
per thread of it (the top-level scope, each Parallel branch, each Map iteration)."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from asl.bindings import Bindings, LoopBindings
from asl.errors import DATA_LIMIT_EXCEEDED, RUNTIME, StatesError
from asl.flow.sizes import Growth
from asl.jsontext import JsonTooDeep, NotJson, json_size
from asl.model import State, StateMachine
from asl.variables import VariableScope
from runtime.api_limits import PAYLOAD_MAX_BYTES
from runtime.context import state_context
from runtime.history import History
from runtime.host import Host

#: AWS's limit on a state's or an execution's input and output, in bytes of UTF-8: the
#: same quota as the API's payload members.
PAYLOAD_LIMIT_BYTES = PAYLOAD_MAX_BYTES
#: AWS's limit on the events of a Standard execution's history (Express has none).
HISTORY_LIMIT_EVENTS = 25_000
#: AWS keeps no history of an Express execution; this engine does, so it bounds it (our
#: own limit: a loop of cheap states could otherwise fill memory in its 5 minutes).
EXPRESS_HISTORY_LIMIT_EVENTS = 250_000
#: The state types whose context object carries ``State.RetryCount``: AWS's recorded
#: context of a Pass state has none.
_RETRYING = frozenset({"Task", "Parallel", "Map"})
#: The scope of a thread that starts with no variables (immutable: one serves them all).
_NO_VARIABLES = VariableScope()


#: What a state's work returns: its output, the next state (None to end the scope) and
#: the variables it assigned (None when it assigned none).
Outcome = tuple[Any, str | None, dict[str, Any] | None]
#: A state type's handler: ``(state, raw_input, frame, entered_event) -> Outcome``.
Handler = Callable[[State, Any, "Frame", int], Awaitable[Outcome]]
#: Per state type: its entered and exited event types and its handler.
Step = tuple[str, str, Handler]


def check_payload(value: Any, subject: str) -> int:
    """The size of a payload; ``States.DataLimitExceeded`` when it is over AWS's limit,
    ``States.Runtime`` when it holds NaN or an infinity (a mock's or an integration's
    result: every door data comes in by refuses them, so AWS never sees one)."""
    try:
        size = json_size(value)
    except NotJson:
        raise StatesError(
            RUNTIME,
            f"The state/task '{subject}' returned a result holding NaN or Infinity, which "
            "JSON cannot hold.",
        ) from None
    except JsonTooDeep:
        # Our own wording (AWS's parsers refuse such nesting; no recording says how).
        raise StatesError(
            DATA_LIMIT_EXCEEDED,
            f"The state/task '{subject}' returned a result nested too deeply to be "
            "written as JSON.",
        ) from None
    if size > PAYLOAD_LIMIT_BYTES:
        raise StatesError(
            DATA_LIMIT_EXCEEDED,
            f"The state/task '{subject}' returned a result with a size exceeding the maximum "
            "number of bytes service limit.",
        )
    return size


def bounded_size(growth: Growth, size: float, result_size: float) -> float:
    """An upper bound on a size by a Growth (see :mod:`asl.flow.sizes`); infinite when
    there is none."""
    if growth is None:
        return math.inf
    of_input, of_result, constant = growth
    if of_result:
        return of_input * size + of_result * result_size + constant
    return of_input * size + constant  # (0 * an unknown result size would be NaN)


def _history_full(limit: int) -> StatesError:
    if limit != HISTORY_LIMIT_EVENTS:  # our own wording: AWS has no such limit to record
        return StatesError(
            "States.Runtime",
            f"The execution reached this engine's limit of {limit} history events for an "
            "Express execution.",
        )
    return StatesError(
        "States.Runtime",
        f"The execution reached the maximum number of history events ({HISTORY_LIMIT_EVENTS}).",
    )


class Run:
    """What every thread of one execution shares. The context object's ``Execution`` member
    is given (a dict, or a function that makes it when first read) or set afterwards with
    :meth:`context_from` (by the :class:`runtime.lifecycle.Execution` the Run belongs to)."""

    __slots__ = (
        "_execution_context",
        "account",
        "execution_arn",
        "history",
        "history_limit",
        "host",
        "machine",
        "map_runs",
        "path",
        "region",
        "state_machine_arn",
        "state_machine_context",
        "steps",
    )

    def __init__(
        self,
        host: Host,
        machine: StateMachine,
        execution_arn: str,
        state_machine_arn: str,
        state_machine_context: dict[str, Any],
        region: str,
        account: str,
        steps: Mapping[str, Step],
        execution_context: dict[str, Any] | Callable[[], dict[str, Any]] = dict,
        history_limit: int | None = HISTORY_LIMIT_EVENTS,
        history: History | None = None,
    ) -> None:
        self.host = host
        self.steps = steps
        self.history_limit = history_limit
        self.machine = machine
        # Timestamps from the Host's clock (a durable execution's history is its own).
        self.history = History(host.clock) if history is None else history
        self.path: list[str] = []
        #: The Map Runs its Distributed Maps started (``runtime.states.map_run.MapRun``);
        #: a tuple, grown on the rare occasion, so most executions hold no list for it.
        self.map_runs: tuple[Any, ...] = ()
        self.execution_arn = execution_arn
        self.state_machine_arn = state_machine_arn
        self._execution_context = execution_context
        self.state_machine_context = state_machine_context
        self.region = region
        self.account = account

    @property
    def execution_context(self) -> dict[str, Any]:
        """The context object's ``Execution`` member; given as a function, it is made when
        first read (most executions have no state that reads the context)."""
        context = self._execution_context
        if not isinstance(context, dict):
            context = self._execution_context = context()
        return context

    def context_from(self, make: Callable[[], dict[str, Any]]) -> None:
        """Make the context object's ``Execution`` member with ``make()`` when first read."""
        self._execution_context = make


class Frame:
    """One thread of an execution: its last event (for ``previousEventId``) and its
    variable scope."""

    __slots__ = (
        "_plain",
        "_plain_scope",
        "entered_event",
        "failed_state",
        "last_event",
        "result_size",
        "run",
        "scope",
        "size_bound",
    )

    def __init__(
        self,
        run: Run,
        last_event: int,
        scope: VariableScope | None = None,
        size_bound: float = math.inf,
    ) -> None:
        self.run = run
        self.last_event = last_event
        #: The StateEntered event of the state this thread is in (its time is the
        #: context's State.EnteredTime).
        self.entered_event = 0
        #: The state whose failure ended this thread (it never exited).
        self.failed_state: State | None = None
        #: An upper bound on the size of this thread's current value, in bytes: while it
        #: is under AWS's limit, the value need not be measured.
        self.size_bound = size_bound
        #: The size of the last Task result (infinite when unknown or caught).
        self.result_size = math.inf
        # The bindings of states that do not read the context, for the scope they read.
        self._plain: Bindings | None = None
        self._plain_scope: VariableScope | None = None
        self.scope = scope if scope is not None else _NO_VARIABLES

    def record(self, event_type: str, details: Mapping[str, Any] | None = None) -> int:
        """Append an event linked to this thread's previous one; return its id."""
        self.last_event = self._history().add(event_type, self.last_event, details)
        return self.last_event

    def record_state(self, event_type: str, name: str, data: Any) -> int:
        """Append a state's entry (``data``: its input) or exit (its output), linked to
        this thread's previous event; return its id."""
        # What _history() does, in place: two of these for every state entered.
        run = self.run
        history = run.history
        if run.history_limit is not None and history.recorded >= run.history_limit:
            raise _history_full(run.history_limit)
        self.last_event = history.add_state(event_type, self.last_event, name, data)
        return self.last_event

    def record_output(self, event_type: str, output: Any) -> int:
        """Append an event whose details are ``{"output": output}`` alone (a Lambda
        function's success), linked to this thread's previous event; return its id. Its
        details are made when read: no mapping kept per event."""
        self.last_event = self._history().add_output(event_type, self.last_event, output)
        return self.last_event

    def record_lambda_scheduled(self, resource: str, payload: Any) -> int:
        """Append a ``LambdaFunctionScheduled`` with no timeout (details ``{"resource",
        "input"}``, made when read), linked to this thread's previous event; return its id."""
        self.last_event = self._history().add_lambda_scheduled(self.last_event, resource, payload)
        return self.last_event

    def record_at(
        self, previous: int, event_type: str, details: Mapping[str, Any] | None = None
    ) -> int:
        """Append an event linked to ``previous`` without moving this thread on; return
        its id (AWS links some events, e.g. a Map's end, to an event of another thread)."""
        return self._history().add(event_type, previous, details)

    def _history(self) -> History:
        """The execution's history, when it has room for one more event."""
        run = self.run
        history = run.history
        if run.history_limit is not None and history.recorded >= run.history_limit:
            raise _history_full(run.history_limit)
        return history

    def child(
        self, last_event: int, *, distributed: bool = False, size_bound: float = math.inf
    ) -> Frame:
        """A thread for a nested scope: it reads this frame's variables (unless it is a
        Distributed Map's child workflow); what it assigns stays its own."""
        return Frame(self.run, last_event, self.scope.child(distributed=distributed), size_bound)

    def assign(self, values: Mapping[str, Any]) -> None:
        """Store the variables a state assigned."""
        self.scope = self.scope.assign(values)

    def _entered_time(self) -> float:
        entered = self.entered_event
        return self.run.history.timestamp(entered) if entered else 0.0

    def bindings(
        self,
        state: State,
        retry_count: int = 0,
        map_item: dict[str, Any] | None = None,
        task_token: str | None = None,
    ) -> Bindings:
        """What a state's expressions read: the context object (built only when the
        state reads it), this thread's variables, the Host's entropy."""
        run = self.run
        scope = self.scope
        if not state.flow.uses_context:
            plain = self._plain
            if plain is None or self._plain_scope is not scope:
                plain = self._plain = LoopBindings(
                    None, None, scope.variables, entropy=run.host.entropy
                )
                self._plain_scope = scope
            return plain
        execution = run.execution_context
        seen = run.history.replayed_redrive_count()
        if seen is not None and seen != execution["RedriveCount"]:
            execution = {**execution, "RedriveCount": seen}
        context = state_context(
            execution,
            run.state_machine_context,
            name=state.name,
            entered_time=self._entered_time(),
            retry_count=retry_count if state.type in _RETRYING else None,
            task_token=task_token,
            map_item=map_item,
        )
        return LoopBindings(None, context, scope.variables, entropy=run.host.entropy)
