"""The recorder of an execution's history, in AWS's ``GetExecutionHistory`` format.

Events are recorded cheaply: the JSON values they carry (inputs, outputs, parameters)
are kept by reference — JSON values are never mutated in this engine — and turned into
the JSON text AWS returns only when the history is read.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, overload

from asl.events import details_key
from asl.jsontext import json_text, parse_json
from runtime.clock import Clock

#: Detail fields whose value AWS returns as JSON text, with a ``<field>Details`` sibling.
_DATA_FIELDS = ("input", "output")
#: Detail fields whose value AWS returns as JSON text with no sibling.
_TEXT_FIELDS = ("parameters",)
#: Detail fields that only the rendered form has.
_RENDERED_ONLY = ("inputDetails", "outputDetails", "assignedVariablesDetails")


def iso_timestamp(epoch_seconds: float) -> str:
    """An event timestamp as the AWS CLI prints it (UTC, microseconds, offset)."""
    return datetime.fromtimestamp(epoch_seconds, UTC).isoformat(timespec="microseconds")


class Event:
    """One history event; ``details`` holds raw JSON values until it is rendered."""

    __slots__ = ("details", "id", "previous_event_id", "timestamp", "type")

    def __init__(
        self,
        event_id: int,
        previous_event_id: int,
        timestamp: float,
        event_type: str,
        details: Mapping[str, Any] | None,
    ) -> None:
        self.id = event_id
        self.previous_event_id = previous_event_id
        self.timestamp = timestamp
        self.type = event_type
        #: The event's details as raw JSON values (None when it has none).
        self.details = details

    def to_aws(self) -> dict[str, Any]:
        """The event as ``GetExecutionHistory`` returns it (timestamps as ISO text)."""
        out: dict[str, Any] = {
            "id": self.id,
            "previousEventId": self.previous_event_id,
            "timestamp": iso_timestamp(self.timestamp),
            "type": self.type,
        }
        key = details_key(self.type)
        details = self.details
        if key is not None and details is not None:
            out[key] = render_details(details)
        return out


def read_event(aws: Mapping[str, Any]) -> Event:
    """An event as ``GetExecutionHistory`` returned it, read back into the form the
    history holds: its JSON data fields parsed again (see :func:`render_details`)."""
    details: dict[str, Any] | None = None
    key = details_key(aws["type"])
    if key is not None and key in aws:
        details = {}
        for name, value in aws[key].items():
            if name in _DATA_FIELDS or name in _TEXT_FIELDS:
                details[name] = parse_json(value)
            elif name == "assignedVariables":
                details[name] = {k: parse_json(v) for k, v in value.items()}
            elif name not in _RENDERED_ONLY:
                details[name] = value
    moment = datetime.fromisoformat(aws["timestamp"]).timestamp()
    return Event(aws["id"], aws["previousEventId"], moment, aws["type"], details)


def render_details(details: Mapping[str, Any]) -> dict[str, Any]:
    """Details with their JSON data fields turned into JSON text, as AWS returns them."""
    out: dict[str, Any] = {}
    for name, value in details.items():
        if name in _DATA_FIELDS:
            out[name] = json_text(value)
            out[f"{name}Details"] = {"truncated": False}
        elif name in _TEXT_FIELDS:
            out[name] = json_text(value)
        elif name == "assignedVariables":
            out[name] = {k: json_text(v) for k, v in value.items()}
            out["assignedVariablesDetails"] = {"truncated": False}
        else:
            out[name] = value
    return out


#: The fields one event takes in :class:`History`'s flat list.
_STRIDE = 5
#: In the slot of a state's name: this event has a details mapping instead.
_DETAILS = object()
#: In the slot of a state's name: this event's details are ``{"output": value}``.
_OUTPUT = object()
#: The event whose details are ``{"input": value, "roleArn": name}``.
_STARTED = "ExecutionStarted"
#: The event whose details are ``{"resource": name, "input": value}`` (no timeout).
_LAMBDA_SCHEDULED = "LambdaFunctionScheduled"


class History(Sequence[Event]):
    """The events of one execution, numbered from 1 as AWS numbers them: a sequence of
    :class:`Event`, made when read.

    Recording is the hot path and reading is rare, so events are kept flat, five slots
    each in one list (previous id, timestamp, type, then a state's name and value for a
    state's entry or exit — most of a history —, the role ARN and input of the execution's
    start, a Lambda function's ARN and input as it is scheduled, a marker and the output
    of its success, or a marker and the details mapping):
    no object per event for the garbage collector to walk again and again while many
    executions' histories stay in memory.
    """

    __slots__ = ("_clock", "_log", "recorded")

    def __init__(self, clock: Clock) -> None:
        self._log: list[Any] = []
        self._clock = clock  # timestamps from its now() (no bound method kept per history)
        #: How many events it holds: ``len()`` without a call (checked before every event).
        self.recorded = 0

    def add(
        self, event_type: str, previous_event_id: int, details: Mapping[str, Any] | None = None
    ) -> int:
        """Record an event and return its id."""
        log = self._log
        log.extend((previous_event_id, self._clock.now(), event_type, _DETAILS, details))
        recorded = self.recorded = len(log) // _STRIDE
        return recorded

    def add_state(self, event_type: str, previous_event_id: int, name: str, data: Any) -> int:
        """Record a state's entry (``data``: its input) or exit (its output) and return its
        id; its details (``{"name", "input"}`` or ``{"name", "output"}``) are made when read."""
        log = self._log
        log.extend((previous_event_id, self._clock.now(), event_type, name, data))
        recorded = self.recorded = len(log) // _STRIDE
        return recorded

    def add_started(self, input_value: Any, role_arn: str) -> int:
        """Record the execution's ``ExecutionStarted`` and return its id; its details
        (``{"input", "roleArn"}``) are made when read."""
        log = self._log
        log.extend((0, self._clock.now(), _STARTED, role_arn, input_value))
        recorded = self.recorded = len(log) // _STRIDE
        return recorded

    def add_output(self, event_type: str, previous_event_id: int, output: Any) -> int:
        """Record an event whose details are its ``output`` alone (an execution's success)
        and return its id; its details are made when read."""
        log = self._log
        log.extend((previous_event_id, self._clock.now(), event_type, _OUTPUT, output))
        recorded = self.recorded = len(log) // _STRIDE
        return recorded

    def add_lambda_scheduled(self, previous_event_id: int, resource: str, payload: Any) -> int:
        """Record a ``LambdaFunctionScheduled`` with no timeout and return its id; its
        details (``{"resource", "input"}``) are made when read."""
        log = self._log
        log.extend((previous_event_id, self._clock.now(), _LAMBDA_SCHEDULED, resource, payload))
        recorded = self.recorded = len(log) // _STRIDE
        return recorded

    def extend(self, events: Iterable[Event]) -> None:
        """Append events read back from a store (numbered from where the history ends)."""
        log = self._log
        for event in events:
            log.extend((event.previous_event_id, event.timestamp, event.type, _DETAILS,
                        event.details))  # fmt: skip
        self.recorded = len(log) // _STRIDE

    def timestamp(self, event_id: int) -> float:
        """When the event ``event_id`` was recorded."""
        return self._log[(event_id - 1) * _STRIDE + 1]  # type: ignore[no-any-return]

    def previous_id(self, event_id: int) -> int:
        """The ``previousEventId`` of the event ``event_id``."""
        return self._log[(event_id - 1) * _STRIDE]  # type: ignore[no-any-return]

    def replayed_redrive_count(self) -> int | None:
        """While a redriven execution replays a step that ran before its last redrive, the
        redrive count that step saw (``$$.Execution.RedriveCount``); None otherwise."""
        return None

    def __len__(self) -> int:
        return self.recorded

    @overload
    def __getitem__(self, index: int) -> Event: ...

    @overload
    def __getitem__(self, index: slice) -> list[Event]: ...

    def __getitem__(self, index: int | slice) -> Event | list[Event]:
        if isinstance(index, slice):
            return [self._event(i) for i in range(*index.indices(len(self)))]
        count = len(self)
        position = index + count if index < 0 else index
        if not 0 <= position < count:
            raise IndexError("history index out of range")
        return self._event(position)

    def __iter__(self) -> Iterator[Event]:
        for position in range(len(self)):
            yield self._event(position)

    def _event(self, position: int) -> Event:
        at = position * _STRIDE
        previous, timestamp, event_type, name, data = self._log[at : at + _STRIDE]
        if name is _DETAILS:
            details = data
        elif name is _OUTPUT:
            details = {"output": data}
        elif event_type == _STARTED:
            details = {"input": data, "roleArn": name}
        elif event_type == _LAMBDA_SCHEDULED:
            details = {"resource": name, "input": data}
        else:
            field = "input" if event_type.endswith("Entered") else "output"
            details = {"name": name, field: data}
        return Event(position + 1, previous, timestamp, event_type, details)

    def to_aws(self) -> dict[str, Any]:
        """The whole history as ``GetExecutionHistory`` returns it: ``{"events": [...]}``."""
        return {"events": [e.to_aws() for e in self]}


class KeyedHistory(History):
    """A history each of whose events goes through :meth:`add`, with its details mapping:
    for subclasses that key, journal or match each event (a durable execution's, a durable
    Map Run child's), which the shortcuts of ``add_started``/``add_output`` would bypass."""

    __slots__ = ()

    def add_started(self, input_value: Any, role_arn: str) -> int:
        """Record ``ExecutionStarted`` through :meth:`add`; return its id."""
        return self.add("ExecutionStarted", 0, {"input": input_value, "roleArn": role_arn})

    def add_output(self, event_type: str, previous_event_id: int, output: Any) -> int:
        """Record an event of an output alone through :meth:`add`; return its id."""
        return self.add(event_type, previous_event_id, {"output": output})

    def add_lambda_scheduled(self, previous_event_id: int, resource: str, payload: Any) -> int:
        """Record ``LambdaFunctionScheduled`` through :meth:`add`; return its id."""
        return self.add(
            _LAMBDA_SCHEDULED, previous_event_id, {"resource": resource, "input": payload}
        )
