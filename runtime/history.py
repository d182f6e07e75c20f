"""The recorder of an execution's history, in AWS's ``GetExecutionHistory`` format.

Events are recorded cheaply: the JSON values they carry (inputs, outputs, parameters)
are kept by reference — JSON values are never mutated in this engine — and turned into
the JSON text AWS returns only when the history is read.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from asl.events import details_key
from asl.jsontext import json_text, parse_json

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

    __slots__ = ("_details", "id", "previous_event_id", "timestamp", "type")

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
        self._details = details

    @property
    def details(self) -> Mapping[str, Any] | None:
        """The event's details as raw JSON values (None when it has none)."""
        return self._details

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


class StateEvent(Event):
    """A state's entry or exit (``{"name", "input"}`` or ``{"name", "output"}``), the most
    common events: kept without a details dict of their own until they are read, so a long
    history holds fewer objects for the garbage collector to walk."""

    __slots__ = ("data", "name")

    def __init__(
        self, event_id: int, previous_event_id: int, timestamp: float, event_type: str,
        name: str, data: Any,
    ) -> None:  # fmt: skip
        super().__init__(event_id, previous_event_id, timestamp, event_type, None)
        self.name = name
        self.data = data

    @property
    def details(self) -> Mapping[str, Any] | None:
        """``{"name": ..., "input": ...}`` for an entry, ``{"name": ..., "output": ...}``
        for an exit."""
        field = "input" if self.type.endswith("Entered") else "output"
        return {"name": self.name, field: self.data}


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


class History:
    """The events of one execution, numbered from 1 as AWS numbers them."""

    __slots__ = ("_clock_now", "events")

    def __init__(self, now: Any) -> None:
        self.events: list[Event] = []
        self._clock_now = now

    def add(
        self, event_type: str, previous_event_id: int, details: Mapping[str, Any] | None = None
    ) -> int:
        """Record an event and return its id."""
        event_id = len(self.events) + 1
        self.events.append(
            Event(event_id, previous_event_id, self._clock_now(), event_type, details)
        )
        return event_id

    def add_state(self, event_type: str, previous_event_id: int, name: str, data: Any) -> int:
        """Record a state's entry or exit (see :class:`StateEvent`) and return its id."""
        event_id = len(self.events) + 1
        self.events.append(
            StateEvent(event_id, previous_event_id, self._clock_now(), event_type, name, data)
        )
        return event_id

    def replayed_redrive_count(self) -> int | None:
        """While a redriven execution replays a step that ran before its last redrive, the
        redrive count that step saw (``$$.Execution.RedriveCount``); None otherwise."""
        return None

    def __len__(self) -> int:
        return len(self.events)

    def __iter__(self) -> Iterator[Event]:
        return iter(self.events)

    def to_aws(self) -> dict[str, Any]:
        """The whole history as ``GetExecutionHistory`` returns it: ``{"events": [...]}``."""
        return {"events": [e.to_aws() for e in self.events]}
