"""Durable executions: every answer the world gives an execution is journaled, and
recovery is a replay.

The interpreter reaches the world only through its Host, and given the same answers it
does the same thing. So a durable execution runs on a :class:`JournaledHost`, a view of
the engine's Host that writes down each answer it hands out (a time reading, a random
number, a task token, a Task's result or failure, a token's answer, a timer's absolute
deadline) under a key that does not depend on how concurrent threads interleave: the
*strand* that asked (:mod:`runtime.strands`) and the how-manieth call of that strand
it is. History events are keyed the same way.

The :class:`Log` of one execution gathers the new events and answers and writes them in
one transaction (:meth:`Log.committed`, shared with the other executions' batches of the
same event-loop turn) and waits for it before the execution touches the world again:
before a Task is invoked, a timer set or a token waited on, and as soon as an answer comes
back.
After a crash a new engine reads the execution back and runs the interpreter again from
the start: each call finds its answer in the journal, each event its committed twin (the
two must be equal, else :class:`ReplayDiverged` fails the execution as an engine bug), and
where the journal ends the execution goes on live. A Task whose answer was never
committed is invoked again: at least once, never lost. Answers that ended waits (Task
results, token answers) are handed back in the order they first came, so concurrent
threads replay in the order they ran.
"""

from __future__ import annotations

import asyncio
import bisect
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar, cast

from asl.bindings import Entropy, SystemEntropy
from asl.errors import StatesError
from asl.jsontext import escape_surrogates, json_text, parse_json
from integrations.base import CallbackResult, TaskRequest
from runtime.clock import Clock, Deadline, Wake
from runtime.history import Event, KeyedHistory
from runtime.host import Host
from runtime.map_children import MapChildren
from runtime.store.executions import (
    INERT,
    Ended,
    EventRow,
    ExecutionRow,
    ExecutionStore,
    HistoryNumber,
    JournalRow,
    MapRunRows,
    commit_write,
    start_write,
)
from runtime.strands import STRAND
from runtime.tokens import OnStarted
from runtime.unresumable import Unresumable

__all__ = [
    "DurableHistory",
    "JournaledHost",
    "Log",
    "ReplayDiverged",
    "check_twin",
    "stored_event",
]

T = TypeVar("T")


class ReplayDiverged(Unresumable):
    """A replayed execution did something else than it had done: the engine, or what the
    execution ran, changed since its first run (or its rows were edited)."""


#: Journal answers that end a wait: replayed in the order they came.
_ORDERED = frozenset({"ok", "error", "callback"})
#: Every kind of answer (its first key) and the other keys it must hold.
_KINDS: dict[str, tuple[str, ...]] = {
    "v": ("of",), "at": (), "worker": (), "ok": (), "error": ("cause",), "callback": (),
}  # fmt: skip
#: What each kind of answer :meth:`Log.recall` journals is.
_RECALLED: dict[str, type | tuple[type, ...]] = {
    "now": (int, float), "random": (int, float), "uuid": str, "token": str,
}  # fmt: skip
#: How much of a stored or replayed text a divergence quotes.
_QUOTED = 200


@dataclass(frozen=True, slots=True)
class _Answer:
    """A journaled answer as read back: its order and its JSON object."""

    ord: int
    value: dict[str, Any]
    kind: str


def _read_answer(row: JournalRow) -> _Answer:
    """A stored answer read, or ``Unresumable`` naming it when it is not one."""
    try:
        value = parse_json(row.answer)
    except ValueError as exc:
        raise Unresumable(
            f"its journal's answer (strand {row.strand!r}, call {row.seq}) is not JSON: {exc}"
        ) from None
    kind = next(iter(value), None) if isinstance(value, dict) else None
    if (
        kind not in _KINDS
        or any(key not in value for key in _KINDS[kind])
        or (kind == "at" and not isinstance(value["at"], int | float))
    ):
        raise Unresumable(
            f"its journal's answer (strand {row.strand!r}, call {row.seq}) is not one: "
            + _quote(row.answer)
        )
    return _Answer(row.ord, value, kind)


def _recalled_text(value: Any, kind: str) -> str:
    """``json_text({"v": value, "of": kind})``, made without the encoder for a finite
    number (the time, a random draw), whose JSON text is its ``repr`` (as the encoder
    writes it)."""
    number = type(value)
    if number is int or (number is float and math.isfinite(value)):
        return '{"v":' + repr(value) + ',"of":"' + kind + '"}'  # kinds are plain names
    return json_text({"v": value, "of": kind})


def check_twin(
    committed: EventRow, event_type: str, previous: int, text: str | None, which: str
) -> None:
    """``ReplayDiverged`` unless the replayed event (its type, previous event and details
    ``text``) is its ``committed`` twin; ``which`` names the event in the message."""
    # Stored with each lone surrogate escaped (UTF-8 cannot hold one): compared so.
    text = None if text is None else escape_surrogates(text)
    if (committed.type, committed.previous_id, committed.details) != (
        event_type, previous, text,
    ):  # fmt: skip
        raise ReplayDiverged(
            f"{which} {committed.id} was {committed.type} after {committed.previous_id} "
            f"{_quote(committed.details)}; replayed, it is {event_type} after {previous} "
            f"{_quote(text)}"
        )


def _quote(text: str | None) -> str:
    """``text`` as a divergence quotes it: at most :data:`_QUOTED` characters."""
    if text is None or len(text) <= _QUOTED:
        return str(text)
    return text[:_QUOTED] + "..."


class Log:
    """One durable execution's record as it moves: what was committed before (matched and
    consumed as the replay reaches it) and what is new (written by :meth:`commit`)."""

    def __init__(
        self,
        store: ExecutionStore,
        arn: str,
        committed: Sequence[EventRow] = (),
        journal: Sequence[JournalRow] = (),
    ) -> None:
        self.store = store
        self.arn = arn
        # Events a redrive set aside are history, not a path to replay.
        self._events = {(e.strand, e.seq): e for e in committed if not e.strand.startswith(INERT)}
        self._redrives = sorted(e.id for e in committed if e.type == "ExecutionRedriven")
        self._answers = {(a.strand, a.seq): _read_answer(a) for a in journal}
        self._ord = max((a.ord for a in journal), default=-1) + 1
        self._resumed = bool(committed or journal)
        #: The latest batch queued and not known to be committed.
        self._pending: asyncio.Future[None] | None = None
        self._number = HistoryNumber()
        self._event_seq: dict[str, int] = {}
        self._call_seq: dict[str, int] = {}
        self._new_events: list[EventRow] = []
        self._new_answers: list[JournalRow] = []
        # The value written last and its text: a state's output is the next state's input
        # (and the execution's output), written again; values are never mutated.
        self._last_value: Any = None
        self._last_text = "null"
        # Waits' answers not handed back yet, by their order, and who waits for theirs.
        self._ordered = sorted(a.ord for a in self._answers.values() if a.kind in _ORDERED)
        self._turns: dict[int, asyncio.Future[None]] = {}
        #: Done once every committed event and answer has been replayed.
        self.caught_up: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._check_caught_up()

    # --- events ------------------------------------------------------------------------

    def event_key(self) -> tuple[str, int]:
        """The key of the current strand's next event."""
        strand = STRAND.get()
        seq = self._event_seq.get(strand, 0)
        self._event_seq[strand] = seq + 1
        return strand, seq

    @property
    def replaying(self) -> bool:
        """Whether committed events are left for the replay to meet."""
        return bool(self._events)

    def replayed(
        self, key: tuple[str, int], event_type: str, previous: int, details: Any
    ) -> int | None:
        """The id of the committed event ``key`` names (checked equal to this one), or None
        when the execution is past its committed events."""
        if not self._events:
            return None
        committed = self._events.pop(key, None)
        if committed is None:
            return None
        text = None if details is None else self.details_text(details)
        try:
            check_twin(committed, event_type, previous, text, "its event")
        except ReplayDiverged:
            self._diverged()
            raise
        self._check_caught_up()
        return committed.id

    def redrive_count_of_next(self) -> int | None:
        """How many redrives came before the current strand's next committed event (None
        when it has none left to replay)."""
        strand = STRAND.get()
        committed = self._events.get((strand, self._event_seq.get(strand, 0)))
        if committed is None:
            return None
        return bisect.bisect(self._redrives, committed.id)

    def new_event(
        self,
        event_id: int,
        previous: int,
        timestamp: float,
        event_type: str,
        text: str | None,
        key: tuple[str, int],
    ) -> None:
        """An event recorded for the first time (``text``: its details as JSON text, see
        :meth:`details_text`): written at the next commit."""
        strand = key[0]
        self._new_events.append(
            EventRow(event_id, previous, timestamp, event_type, text, strand, key[1],
                     self._call_seq.get(strand, 0))
        )  # fmt: skip

    def new_state_event(
        self, event_id: int, previous: int, timestamp: float, event_type: str, name: str, data: Any
    ) -> None:
        """A state's entry (``data``: its input) or exit (its output) recorded for the first
        time, by the current strand: written at the next commit with its details' text,
        ``{"name":...,"input":...}`` or ``{"name":...,"output":...}``."""
        strand = STRAND.get()
        seq = self._event_seq.get(strand, 0)
        self._event_seq[strand] = seq + 1
        field = ',"input":' if event_type.endswith("Entered") else ',"output":'
        text = '{"name":' + json_text(name) + field + self.text(data) + "}"
        self._new_events.append(
            EventRow(event_id, previous, timestamp, event_type, text, strand, seq,
                     self._call_seq.get(strand, 0))
        )  # fmt: skip

    def text(self, value: Any) -> str:
        """``json_text(value)``, made once when the same value is written again in a row."""
        if value is not self._last_value:
            self._last_text = json_text(value)
            self._last_value = value
        return self._last_text

    def details_text(self, details: Mapping[str, Any]) -> str:
        """``json_text(details)``, each value's text made by :meth:`text` but a string's
        (cheap to write, and written beside a value: ``ExecutionStarted``'s role ARN after
        its input, which the execution's row and its first state's entry write again; the
        keys are names: JSON text of their own)."""
        return "{" + ",".join(
            json_text(k) + ":" + (json_text(v) if type(v) is str else self.text(v))
            for k, v in details.items()
        ) + "}"  # fmt: skip

    # --- answers -----------------------------------------------------------------------

    def calls(self, strand: str) -> int:
        """How many calls to the world ``strand`` has made."""
        return self._call_seq.get(strand, 0)

    @property
    def redrives(self) -> int:
        """How many times the execution was redriven (by its committed events)."""
        return len(self._redrives)

    def call_key(self) -> tuple[str, str]:
        """The key of the current strand's next call to the world."""
        strand = STRAND.get()
        seq = self._call_seq.get(strand, 0)
        self._call_seq[strand] = seq + 1
        return strand, str(seq)

    def recall(self, kind: str, make: Callable[[], T]) -> T:
        """An answer that costs nothing to make (``kind``: what it is, ``now``, ``random``):
        the journaled one when there is one (``make`` is still called, so a seeded source
        is drawn from as it was), else ``make()``'s, journaled."""
        key = self.call_key()
        value = make()
        found = self._take(key)
        if found is None:
            self._new_answers.append(JournalRow(*key, self._ord, _recalled_text(value, kind)))
            self._ord += 1
            return value
        recalled = found.value["v"]
        if found.value["of"] != kind or not isinstance(recalled, _RECALLED.get(kind, object)):
            raise self._call_diverged(key, found, f"asks for a {kind}")
        return cast(T, recalled)

    def journal(self, key: tuple[str, str], answer: Mapping[str, Any]) -> None:
        """Write down an answer (at the next commit)."""
        self._new_answers.append(JournalRow(*key, self._ord, json_text(answer)))
        self._ord += 1

    def lookup(self, key: tuple[str, str], field: str) -> dict[str, Any] | None:
        """A journaled answer that needs no turn (a deadline: ``at``, a worker taking a
        task: ``worker``), which must hold ``field``."""
        found = self._take(key)
        if found is None:
            return None
        if found.kind != field:
            raise self._call_diverged(key, found, f"asks for an {field}")
        return found.value

    async def answer(self, clock: Clock, key: tuple[str, str]) -> dict[str, Any] | None:
        """The journaled answer of a wait, handed back in its turn; None when there is none."""
        found = self._answers.get(key)
        if found is None:
            return None
        if found.kind not in _ORDERED:
            raise self._call_diverged(key, found, "waits")
        try:
            if self._ordered[0] != found.ord:
                turn = self._turns[found.ord] = clock.wake()
                try:
                    await clock.park(turn)
                finally:
                    self._turns.pop(found.ord, None)
        finally:  # handed back, or its strand cancelled meanwhile: the next one's turn
            self._answers.pop(key, None)
            if found.ord in self._ordered:
                self._ordered.remove(found.ord)
            following = self._turns.get(self._ordered[0]) if self._ordered else None
            if following is not None and not following.done():
                following.set_result(None)
            self._check_caught_up()
        return found.value

    def _call_diverged(self, key: tuple[str, str], found: _Answer, asked: str) -> ReplayDiverged:
        """The replay of call ``key`` ``asked`` something else than its journaled answer."""
        self._diverged()
        return ReplayDiverged(
            f"its call {key} was {_quote(json_text(found.value))}; replayed, it {asked}"
        )

    def _take(self, key: tuple[str, str]) -> _Answer | None:
        if not self._answers:
            return None
        found = self._answers.pop(key, None)
        if found is not None:
            self._check_caught_up()
        return found

    def _diverged(self) -> None:
        """The replay went astray: what was committed is no guide any more; the execution
        fails (an engine bug), its end recorded after the committed events."""
        self._events.clear()
        self._answers.clear()
        self._ordered.clear()
        for turn in self._turns.values():
            if not turn.done():
                turn.set_result(None)
        self._check_caught_up()

    def _check_caught_up(self) -> None:
        if not self._events and not self._answers and not self.caught_up.done():
            self.caught_up.set_result(None)

    # --- writing -----------------------------------------------------------------------

    def start(
        self,
        row: ExecutionRow,
        also: Callable[[str], None] | None = None,
        origin: str | None = None,
    ) -> asyncio.Future[None]:
        """Write a new execution with its first event and answers, in one transaction with
        other batches of this event-loop turn (``also``, given the ARN, writes more in it;
        ``origin`` is kept in its row: see :func:`runtime.store.executions.start_write`);
        done once committed."""
        events, self._new_events = self._new_events, []
        answers, self._new_answers = self._new_answers, []
        write = start_write(row, events, answers, also, self.store.runner_id, self._number, origin)
        self._pending = self.store.group.queue(write)
        return self._pending

    async def committed(
        self, ended: Ended | None = None, map_runs: MapRunRows | None = None
    ) -> None:
        """Write what is new (and the execution's end, with its Map Runs) in one transaction
        with other batches of this event-loop turn; return once it, and whatever another
        strand of the execution queued before, is committed (a caller cancelled meanwhile
        leaves it to be committed all the same)."""
        if self._resumed and self._has_new(ended):
            # A resumed execution's first writes after its replay go at once, so it is
            # waiting again (on its tokens, its activities) when the replay has caught up.
            self._resumed = False
            self.commit(ended, map_runs)
            return
        self._queue(ended, map_runs)
        pending = self._pending
        if pending is not None:
            await asyncio.shield(pending)
            if self._pending is pending:
                self._pending = None

    def commit(self, ended: Ended | None = None, map_runs: MapRunRows | None = None) -> None:
        """:meth:`committed` at once, for a caller that cannot wait (batches queued before
        are written with it, in their order)."""
        self._queue(ended, map_runs)
        pending, self._pending = self._pending, None
        if pending is not None:
            self.store.group.flush()
            pending.result()

    def _has_new(self, ended: Ended | None) -> bool:
        return bool(self._new_events or self._new_answers or ended is not None)

    def _queue(self, ended: Ended | None, map_runs: MapRunRows | None) -> None:
        """Queue what is new as the execution's latest batch (FIFO: once it is committed,
        so is every batch the execution queued before)."""
        if self._has_new(ended):
            events, self._new_events = self._new_events, []
            answers, self._new_answers = self._new_answers, []
            write = commit_write(self.arn, events, answers, ended, map_runs, self._number)
            self._pending = self.store.group.queue(write)


class DurableHistory(KeyedHistory):
    """A history whose events are keyed by strand, matched against the committed ones while
    an execution replays, and written by its :class:`Log`."""

    __slots__ = ("log",)

    def __init__(self, clock: Clock, log: Log, committed: Sequence[EventRow] = ()) -> None:
        super().__init__(clock)
        self.log = log
        self.extend(stored_event(e) for e in committed)  # Unresumable for a damaged one

    def add(
        self, event_type: str, previous_event_id: int, details: Mapping[str, Any] | None = None
    ) -> int:
        """Record an event (or find its committed twin) and return its id."""
        log = self.log
        key = log.event_key()
        found = log.replayed(key, event_type, previous_event_id, details)
        if found is not None:
            return found
        event_id = super().add(event_type, previous_event_id, details)
        text = None if details is None else log.details_text(details)
        log.new_event(event_id, previous_event_id, self.timestamp(event_id), event_type, text, key)
        return event_id

    def replayed_redrive_count(self) -> int | None:
        """The redrive count a replayed step saw when it ran (see :class:`History`)."""
        return self.log.redrive_count_of_next()

    def add_state(self, event_type: str, previous_event_id: int, name: str, data: Any) -> int:
        """Record a state's entry or exit (or find its committed twin); return its id."""
        log = self.log
        if log.replaying:
            key = log.event_key()
            field = "input" if event_type.endswith("Entered") else "output"
            details = {"name": name, field: data}
            found = log.replayed(key, event_type, previous_event_id, details)
            if found is not None:
                return found
            event_id = super().add_state(event_type, previous_event_id, name, data)
            text = log.details_text(details)
            timestamp = self.timestamp(event_id)
            log.new_event(event_id, previous_event_id, timestamp, event_type, text, key)
            return event_id
        # Past its committed events (a new execution's every event): keyed and written in
        # one call.
        event_id = super().add_state(event_type, previous_event_id, name, data)
        timestamp = self.timestamp(event_id)
        log.new_state_event(event_id, previous_event_id, timestamp, event_type, name, data)
        return event_id


def stored_event(row: EventRow) -> Event:
    """A committed event as the history holds it; ``Unresumable`` naming it when its details
    are not a JSON object."""
    try:
        details = None if row.details is None else parse_json(row.details)
    except ValueError as exc:
        raise Unresumable(f"its history's event {row.id} is not JSON: {exc}") from None
    if details is not None and not isinstance(details, dict):
        raise Unresumable(f"its history's event {row.id} is not one: {_quote(row.details)}")
    return Event(row.id, row.previous_id, row.timestamp, row.type, details)


class _JournaledEntropy:
    """An execution's own seeded entropy, every draw journaled."""

    __slots__ = ("_entropy", "_log")

    def __init__(self, entropy: Entropy, log: Log) -> None:
        self._entropy = entropy
        self._log = log

    def random(self) -> float:
        """A journaled float in [0, 1)."""
        return self._log.recall("random", self._entropy.random)

    def uuid4(self) -> str:
        """A journaled version 4 UUID."""
        return self._log.recall("uuid", self._entropy.uuid4)


class JournaledHost:
    """One durable execution's view of the engine's Host (see the module's docstring).
    ``seed`` seeds the execution's own entropy (kept with the execution), so the draws
    after a recovery are those an uninterrupted run would have made.

    ``seed=None``: the Host is this execution's alone (a Temporal workflow's, seeded for
    it, built again with that seed to redrive it), so the execution draws from the Host's
    own entropy, exactly as a run that is not durable does, and a Distributed Map's
    children run where the Host runs them (child workflows, not journaled: a redrive there
    tells the Host how they ended, see :mod:`runtime.temporal.earlier_children`)."""

    def __init__(self, inner: Host, log: Log, seed: int | None) -> None:
        self.inner = inner
        self.log = log
        self.clock: Clock = inner.clock
        own = inner.entropy if seed is None else SystemEntropy(seed)
        self.entropy: Entropy = _JournaledEntropy(own, log)
        self.evaluates_inline = inner.evaluates_inline
        self.repeatable = inner.repeatable or seed is not None
        # Otherwise a durable execution's children are strands of it, their answers in its
        # journal.
        self.map_children: MapChildren | None = None if seed is not None else inner.map_children

    def now(self) -> float:
        """The Host's time, journaled."""
        return self.log.recall("now", self.inner.now)

    async def sleep(self, seconds: float) -> None:
        """Park until a journaled absolute deadline."""
        deadline = self._deadline(seconds)
        await self.log.committed()
        await self.clock.park(self.clock.timer_at(deadline))

    async def pause(self) -> None:
        """The Host's pause."""
        await self.inner.pause()

    def timer(self, seconds: float, elapsed: float = 0.0) -> Wake:
        """A timer of the Host's clock (integrations' timers need no journal: their work's
        answer is journaled)."""
        return self.inner.timer(seconds, elapsed)

    def alone(self) -> bool:
        """The Host's answer (nothing recorded: it changes no answer, only when others run)."""
        return self.inner.alone()

    def deadline(self, seconds: float | None) -> Deadline:
        """A timeout at a journaled absolute time."""
        if seconds is None:
            return self.clock.deadline(None)
        return self.clock.deadline_at(self._deadline(seconds))

    def _deadline(self, seconds: float) -> float:
        key = self.log.call_key()
        found = self.log.lookup(key, "at")
        if found is not None:
            return float(found["at"])
        at = self.inner.now() + max(seconds, 0.0)
        self.log.journal(key, {"at": at})
        return at

    def new_uuid(self) -> str:
        """A journaled UUID of the execution's entropy."""
        return self.entropy.uuid4()

    def new_task_token(self) -> str:
        """A journaled task token (the Host's: unguessable unless the Host is seeded)."""
        return self.log.recall("token", self.inner.new_task_token)

    def drop_task_token(self, token: str) -> None:
        """The Task that drew ``token`` is done with it (nothing to journal)."""
        self.inner.drop_task_token(token)

    async def invoke(self, request: TaskRequest) -> Any:
        """A Task's journaled answer, or the Task run (again, if it was in flight)."""
        key = self.log.call_key()
        found = await self.log.answer(self.clock, key)
        if found is not None:
            return self._given(found)
        await self.log.committed()
        # The integration's own ids and times are its business: its answer is journaled.
        live = replace(request, services=self.inner)
        return await self._journaled(key, self.inner.invoke(live))

    async def wait_for_token(
        self,
        request: TaskRequest,
        input_value: Any,
        heartbeat: int | None,
        timeout: int | None,
        *,
        started: float | None = None,
    ) -> Any:
        """A token's journaled answer, or a wait for it whose timeout runs from when the
        execution first waited."""
        first = self.log.recall("now", self.inner.now)
        started = first if started is None else started
        key = self.log.call_key()
        found = await self.log.answer(self.clock, key)
        if found is not None:
            return self._given(found)
        await self.log.committed()
        waiting = self.inner.wait_for_token(
            request, input_value, heartbeat, timeout, started=started
        )
        return await self._journaled(key, waiting)

    async def wait_for_activity(
        self,
        request: TaskRequest,
        on_started: OnStarted,
        *,
        started: float | None = None,
        token: str | None = None,
    ) -> Any:
        """An activity task's journaled answer (and worker), or a wait for them under its
        journaled token (the worker that took it can still answer)."""
        first = self.log.recall("now", self.inner.now)
        started = first if started is None else started
        journaled = self.log.recall("token", self.inner.new_task_token)
        token = journaled if token is None else token
        key = self.log.call_key()
        taken_key = (key[0], f"{key[1]}.taken")
        taken = self.log.lookup(taken_key, "worker")
        if taken is not None:
            on_started(taken["worker"])
        found = await self.log.answer(self.clock, key)
        if found is not None:
            return self._given(found)

        def journal_taken(worker: str | None) -> None:
            if taken is None:
                self.log.journal(taken_key, {"worker": worker})
                self.log.commit()
                on_started(worker)

        await self.log.committed()
        waiting = self.inner.wait_for_activity(request, journal_taken, started=started, token=token)
        return await self._journaled(key, waiting)

    async def _journaled(self, key: tuple[str, str], work: Any) -> Any:
        """Await the world's answer and journal it before handing it back."""
        try:
            result = await work
        except StatesError as failure:
            await self._keep(key, {"error": failure.error, "cause": failure.cause})
            raise
        # Cut short (a timeout, a failed sibling, the process going away), it leaves no
        # answer: replayed, it runs again and is cut short by the same cause (its deadline
        # is journaled), or goes on if the process went away.
        if isinstance(result, CallbackResult):
            await self._keep(key, {"callback": result.output})
        else:
            await self._keep(key, {"ok": result})
        return result

    async def _keep(self, key: tuple[str, str], answer: dict[str, Any]) -> None:
        try:
            self.log.journal(key, answer)
        except ValueError:  # not JSON (NaN): the payload check fails the Task; nothing to keep
            return
        await self.log.committed()

    @staticmethod
    def _given(answer: dict[str, Any]) -> Any:
        if "ok" in answer:
            return answer["ok"]
        if "callback" in answer:
            return CallbackResult(answer["callback"])
        raise StatesError(answer["error"], answer["cause"])
