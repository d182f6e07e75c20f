"""The history of a Distributed Map's child execution run as a strand of a durable
execution: keyed as the execution's own (:class:`~runtime.journal.DurableHistory`), so a
redrive of the parent can redrive the child from where it failed (:mod:`runtime.redrive`).

A child's answers are journaled in its parent's journal, under the child's strands, but its
events are not: they are written with the parent's end, with its Map Runs
(:mod:`runtime.stored_map_runs`), each with the strand that recorded it, its place among
that strand's events and how many calls the strand had made by then. A replay makes them
again from the answers. A child its parent's redrive redrove has stored events the replay
must go on from (its first attempt's, the ``ExecutionRedriven`` the redrive added): its
history holds them, and its replayed events are matched to them by key, as an execution's
are; new events are numbered after them.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from typing import Any

from asl.jsontext import json_text
from runtime.clock import Clock
from runtime.history import History, KeyedHistory
from runtime.journal import DurableHistory, Log, check_twin, stored_event
from runtime.store.executions import INERT, EventRow
from runtime.strands import STRAND

__all__ = ["ChildHistory", "child_history", "latest_event", "redrives"]


class ChildHistory(KeyedHistory):
    """A Map Run child's history in a durable execution (see the module's docstring)."""

    __slots__ = ("_committed", "_keys", "_latest", "_redrives", "_seq", "log")

    def __init__(self, clock: Clock, log: Log, committed: Sequence[EventRow] = ()) -> None:
        super().__init__(clock)
        #: The parent's log, which counts the calls of the child's strands.
        self.log = log
        # Each event's strand, place among the strand's events and calls made by then.
        self._keys: list[tuple[str, int, int]] = []
        self._committed: dict[tuple[str, int], EventRow] = {}
        self._redrives: list[int] = []
        self._seq: dict[str, int] = {}
        # The latest event recorded or replayed by this run of the child.
        self._latest = 0
        if committed:
            self.extend(stored_event(row) for row in committed)
            self._keys = [(r.strand, r.seq, r.calls) for r in committed]
            self._committed = {
                (r.strand, r.seq): r for r in committed if not r.strand.startswith(INERT)
            }
            self._redrives = [r.id for r in committed if r.type == "ExecutionRedriven"]

    def add(
        self, event_type: str, previous_event_id: int, details: Mapping[str, Any] | None = None
    ) -> int:
        """Record an event (or find its committed twin) and return its id."""
        key = self._key()
        found = self._replayed(key, event_type, previous_event_id, details)
        if found is not None:
            return found
        event_id = self._latest = super().add(event_type, previous_event_id, details)
        self._keys.append((*key, self.log.calls(key[0])))
        return event_id

    def add_state(self, event_type: str, previous_event_id: int, name: str, data: Any) -> int:
        """Record a state's entry or exit (or find its committed twin); return its id."""
        key = self._key()
        if self._committed:
            field = "input" if event_type.endswith("Entered") else "output"
            details = {"name": name, field: data}
            found = self._replayed(key, event_type, previous_event_id, details)
            if found is not None:
                return found
        event_id = self._latest = super().add_state(event_type, previous_event_id, name, data)
        self._keys.append((*key, self.log.calls(key[0])))
        return event_id

    def replayed_redrive_count(self) -> int | None:
        """The redrive count a replayed step saw when it ran (see :class:`History`)."""
        strand = STRAND.get()
        committed = self._committed.get((strand, self._seq.get(strand, -1) + 1))
        return None if committed is None else bisect.bisect(self._redrives, committed.id)

    def rows(self) -> list[EventRow]:
        """The events as stored, each with its key."""
        return [
            EventRow(
                event.id, event.previous_event_id, event.timestamp, event.type,
                None if event.details is None else json_text(event.details), *key,
            )
            for event, key in zip(self, self._keys, strict=True)
        ]  # fmt: skip

    def _key(self) -> tuple[str, int]:
        strand = STRAND.get()
        seq = self._seq[strand] = self._seq.get(strand, -1) + 1
        return strand, seq

    def _replayed(
        self, key: tuple[str, int], event_type: str, previous: int, details: Any
    ) -> int | None:
        committed = self._committed.pop(key, None) if self._committed else None
        if committed is None:
            return None
        text = None if details is None else json_text(details)
        check_twin(committed, event_type, previous, text, "child event")
        self._latest = max(self._latest, committed.id)
        return committed.id


def child_history(parent: History, clock: Clock, arn: str) -> History:
    """The history of the Map Run child ``arn`` begun now by the execution (or child) whose
    history is ``parent``: keyed when the parent is durable, holding the child's stored
    events when a redrive of the parent redrove it (see the module's docstring)."""
    if isinstance(parent, ChildHistory):
        return ChildHistory(clock, parent.log)
    if not isinstance(parent, DurableHistory):
        return History(clock)
    log = parent.log
    if not log.redrives:
        return ChildHistory(clock, log)
    stored = log.store.events(arn)
    # Its own stored events (the strand of its first is the one starting it now: not those
    # of a child of an earlier Map Run under the same name), once redriven.
    ours = bool(stored) and stored[0].strand == STRAND.get()
    redriven = ours and any(row.type == "ExecutionRedriven" for row in stored)
    return ChildHistory(clock, log, stored if redriven else ())


def latest_event(history: History) -> int:
    """The id of the latest event the child whose history this is recorded, or replayed:
    what its end event follows (a redriven child's history holds events it has not
    replayed yet)."""
    return history._latest if isinstance(history, ChildHistory) else len(history)


def redrives(history: History) -> list[float]:
    """When the child whose history this is was redriven (only a durable execution's
    children can be)."""
    if not isinstance(history, ChildHistory):
        return []
    return [history.timestamp(event_id) for event_id in history._redrives]
