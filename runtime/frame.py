"""The state an execution carries while it runs: one ``Run`` per execution, one ``Frame``
per thread of it (the top-level scope, each Parallel branch, each Map iteration)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from asl.errors import DATA_LIMIT_EXCEEDED, StatesError
from asl.model import StateMachine
from asl.variables import VariableScope
from runtime.context import state_context
from runtime.history import History
from runtime.host import Host

#: AWS's limit on a state's or an execution's input and output, in bytes of UTF-8.
PAYLOAD_LIMIT_BYTES = 262_144
#: AWS's limit on the events of a Standard execution's history (Express has none).
HISTORY_LIMIT_EVENTS = 25_000


def payload_size(value: Any) -> int:
    """Bytes of the compact UTF-8 JSON text of a value, as AWS counts them."""
    if isinstance(value, str) and len(value) * 4 + 2 < PAYLOAD_LIMIT_BYTES:
        return len(value) + 2  # surely within the limit: the exact size does not matter
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def check_payload(value: Any, subject: str) -> None:
    """Raise ``States.DataLimitExceeded`` when a payload is over AWS's limit."""
    if payload_size(value) > PAYLOAD_LIMIT_BYTES:
        raise StatesError(
            DATA_LIMIT_EXCEEDED,
            f"The state/task '{subject}' returned a result with a size exceeding the maximum "
            "number of bytes service limit.",
        )


class Run:
    """What every thread of one execution shares."""

    __slots__ = (
        "account",
        "execution_arn",
        "execution_context",
        "history",
        "history_limit",
        "host",
        "machine",
        "path",
        "region",
        "state_machine_arn",
        "state_machine_context",
    )

    def __init__(
        self,
        *,
        host: Host,
        machine: StateMachine,
        execution_arn: str,
        state_machine_arn: str,
        execution_context: dict[str, Any],
        state_machine_context: dict[str, Any],
        region: str,
        account: str,
        history_limit: int | None = HISTORY_LIMIT_EVENTS,
    ) -> None:
        self.host = host
        self.history_limit = history_limit
        self.machine = machine
        self.history = History(host.now)
        self.path: list[str] = []
        self.execution_arn = execution_arn
        self.state_machine_arn = state_machine_arn
        self.execution_context = execution_context
        self.state_machine_context = state_machine_context
        self.region = region
        self.account = account


class Frame:
    """One thread of an execution: its last event (for ``previousEventId``) and its
    variable scope."""

    __slots__ = ("last_event", "run", "scope")

    def __init__(self, run: Run, last_event: int, scope: VariableScope | None = None) -> None:
        self.run = run
        self.last_event = last_event
        self.scope = scope if scope is not None else VariableScope()

    def record(self, event_type: str, details: Mapping[str, Any] | None = None) -> int:
        """Append an event linked to this thread's previous one; return its id."""
        self.last_event = self.record_at(self.last_event, event_type, details)
        return self.last_event

    def record_at(
        self, previous: int, event_type: str, details: Mapping[str, Any] | None = None
    ) -> int:
        """Append an event linked to ``previous`` without moving this thread on; return
        its id (AWS links some events, e.g. a Map's end, to an event of another thread)."""
        run = self.run
        history = run.history
        if run.history_limit is not None and len(history) >= run.history_limit:
            raise StatesError(
                "States.Runtime",
                f"The execution reached the maximum number of history events "
                f"({HISTORY_LIMIT_EVENTS}).",
            )
        return history.add(event_type, previous, details)

    def child(self, last_event: int, *, distributed: bool = False) -> Frame:
        """A thread for a nested scope: it reads this frame's variables (unless it is a
        Distributed Map's child workflow); what it assigns stays its own."""
        return Frame(self.run, last_event, self.scope.child(distributed=distributed))

    def assign(self, values: Mapping[str, Any]) -> None:
        """Store the variables a state assigned."""
        self.scope = self.scope.assign(values)

    def context(
        self,
        name: str,
        entered_time: float,
        retry_count: int = 0,
        map_item: dict[str, Any] | None = None,
        task_token: str | None = None,
    ) -> dict[str, Any]:
        """The context object for a state of this thread."""
        run = self.run
        return state_context(
            run.execution_context,
            run.state_machine_context,
            name=name,
            entered_time=entered_time,
            retry_count=retry_count,
            task_token=task_token,
            map_item=map_item,
        )
