"""Stored executions that cannot be resumed, and how each one ends.

A durable engine resumes what a dead process left running by replaying each execution's
journal (:mod:`runtime.journal`). One may not be resumable: its rows damaged (its input or
an answer not JSON text, an event's fields of the wrong kind), the revision of its state
machine not kept or no longer compiling, or its replay going another way than its first
run went (:class:`runtime.journal.ReplayDiverged`). Such an execution ends FAILED with
``States.Runtime`` and a cause that says what is wrong (AWS records no such failure: our
words), written durably after its committed events; the others go on. So one bad
execution never keeps an engine, or ``asl serve``, from starting.
"""

from __future__ import annotations

from collections.abc import Sequence

from asl.errors import RUNTIME, StatesError, capped
from asl.jsontext import json_text
from runtime.store.executions import Ended, EventRow, JournalRow

__all__ = ["Unresumable", "check_rows", "failed_end", "is_time", "unresumable_cause"]

#: 9999-12-31T23:59:59Z, the last second a timestamp can be shown as.
_LAST_SECOND = 253_402_300_799


class Unresumable(Exception):
    """A stored execution cannot be resumed; the message says why, for a person."""


def unresumable_cause(reason: BaseException | str) -> StatesError:
    """The failure an execution that cannot be resumed ends with: ``States.Runtime``, the
    reason on one line, cut to the length AWS's events hold."""
    text = " ".join(str(reason).split())
    return capped(StatesError(RUNTIME, f"Execution cannot be resumed: {text}"))


def check_rows(events: Sequence[EventRow], answers: Sequence[JournalRow]) -> None:
    """``Unresumable`` naming the first stored event or answer whose fields are not of the
    kind written (SQLite keeps whatever a hand puts in a column): a replay could not read
    it. The JSON text inside is read where it is used (:mod:`runtime.journal`)."""
    for event in events:
        if not (
            _is_int(event.id, event.previous_id, event.seq, event.calls)
            and is_time(event.timestamp)
            and isinstance(event.strand, str)
            and (event.details is None or isinstance(event.details, str))
        ):
            raise Unresumable(f"its history's event {event.id!r} is damaged: {event!r}")
    for answer in answers:
        if not (
            _is_int(answer.ord)
            and isinstance(answer.strand, str)
            and isinstance(answer.seq, str)
            and isinstance(answer.answer, str)
        ):
            raise Unresumable(
                f"its journal's answer (strand {answer.strand!r}, call {answer.seq!r}) is "
                f"damaged: {answer!r}"
            )


def failed_end(
    events: Sequence[EventRow], failure: StatesError, now: float
) -> tuple[EventRow, Ended]:
    """The ``ExecutionFailed`` event (after the last stored event, on the execution's top
    strand, so a redrive cuts and sets it aside as any end) and the end written with it.
    Events too damaged to read are passed over."""
    readable = [e for e in events if _is_int(e.id, e.seq, e.calls) and is_time(e.timestamp)]
    last = max(readable, key=lambda e: e.id, default=None)
    top = [e for e in readable if e.strand == ""]
    at = now if last is None else max(now, last.timestamp)
    event = EventRow(
        1 if last is None else last.id + 1,
        0 if last is None else last.id,
        at,
        "ExecutionFailed",
        json_text({"error": failure.error, "cause": failure.cause}),
        "",
        1 + max((e.seq for e in top), default=-1),
        max((e.calls for e in top), default=0),
    )
    return event, Ended("FAILED", None, failure.error, failure.cause, at)


def _is_int(*values: object) -> bool:
    return all(isinstance(v, int) and not isinstance(v, bool) for v in values)


def is_time(value: object) -> bool:
    """Whether a stored timestamp is one: epoch seconds a history can show (years 1970 to
    9999)."""
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and 0 <= value <= _LAST_SECOND
    )
