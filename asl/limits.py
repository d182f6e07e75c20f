"""This engine's own limits on evaluating expressions: whatever the expression and the
data, an evaluation ends, holds the event loop only briefly, and leaves the process its
memory.

AWS documents no limits on evaluating JSONata or intrinsic functions, only the payload
quota (262,144 bytes) on what a state passes on; the limits here are this engine's, and
the causes of their errors are in our own wording.

Sizes, for JSONata and intrinsic functions alike (``States.DataLimitExceeded``: no
payload could hold such a value): no string of more than :data:`MAX_TEXT` characters;
no value of more than :data:`MAX_ITEMS` items or :data:`MAX_TEXT` characters of text,
counting the items and text of every nested array and object each time it is held (a
value that holds another many times over is as large as its JSON text; see
:func:`check_value`).

Each JSONata evaluation also gets a :class:`Budget`:

- time: :data:`EVALUATION_SECONDS` (``States.QueryEvaluationError``);
- memory: the process may grow by :data:`MEMORY_BYTES` while it runs
  (``States.QueryEvaluationError``);
- the event loop: evaluations on the event loop (their bindings say so:
  ``asl.bindings.LoopBindings``), those of one call sharing a slice (:func:`open_slice`),
  stop with :class:`Overrun` past :data:`INLINE_STEPS` steps or :data:`INLINE_SECONDS`,
  and the runtime runs the call again, from the start, on a worker thread
  (``runtime.evaluation``), where a :class:`Watch` can stop it.

The evaluator counts its steps (one per node of the syntax tree it evaluates); the
clock, the memory and the watch are read every :data:`CHECK_EVERY` steps, so the cost on
ordinary expressions is a counter. The step count decides when an evaluation leaves the
loop (the clock only when a few steps take long, or when a loaded machine stalls the
loop: :func:`slices_by_steps` leaves the clock out for runs that must repeat, so seeded
runs take the same path).
"""

from __future__ import annotations

import ctypes
import resource
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import Any

from jsonata.jexception import JException

from asl.bindings import Entropy
from asl.errors import DATA_LIMIT_EXCEEDED, QUERY_EVALUATION_ERROR

__all__ = [
    "CHECK_EVERY",
    "EVALUATION_SECONDS",
    "INLINE_SECONDS",
    "INLINE_STEPS",
    "MAX_ITEMS",
    "MAX_TEXT",
    "MEMORY_BYTES",
    "Budget",
    "Interrupted",
    "LimitExceeded",
    "Overrun",
    "Slice",
    "Watch",
    "check_text",
    "check_value",
    "close_slice",
    "open_slice",
    "slices_by_steps",
    "time_limit",
    "too_long",
    "too_many",
    "watching",
]

#: How long one evaluation may run, in seconds.
EVALUATION_SECONDS = 10.0
#: How much the process's resident memory may grow while one evaluation runs.
MEMORY_BYTES = 512 * 2**20
#: The longest string an evaluation may build, in characters (16 payloads of ASCII).
MAX_TEXT = 16 * 262_144
#: The most items a value may hold, nested arrays' and objects' items included.
MAX_ITEMS = 2**20
#: Steps an evaluation may take on the event loop before it moves to a worker thread...
INLINE_STEPS = 10_000
#: ...and seconds (a few steps on large values take long: the clock is read after each
#: step that produced a large value, and by regular expressions as they match).
INLINE_SECONDS = 0.05
#: Steps between two readings of the clock, the memory and the watch.
CHECK_EVERY = 1_000
#: Characters and items of the results seen between two readings of the memory.
_MEMORY_EVERY = 2**20
#: A result at least this large took a while to make: the clock is read after it.
_LARGE = 4096

_SLICE: ContextVar[Slice | None] = ContextVar("jsonata_slice", default=None)
#: The seconds of a slice made in this context (None: :data:`INLINE_SECONDS`).
_SLICE_SECONDS: ContextVar[float | None] = ContextVar("jsonata_slice_seconds", default=None)
_WATCH: ContextVar[Watch | None] = ContextVar("jsonata_watch", default=None)


class Overrun(JException):  # type: ignore[misc]
    """An evaluation on the event loop ran past :data:`INLINE_STEPS`: run it again on a
    worker thread. (A JException, so that jsonata-python passes it on unchanged.)"""

    def __init__(self) -> None:
        super().__init__("overrun", -1)


class LimitExceeded(JException):  # type: ignore[misc]
    """An evaluation went past one of its limits: ``name`` is the error, ``detail`` ends
    the sentence ``The JSONata expression '...' specified for the field '...' ...``."""

    def __init__(self, name: str, detail: str) -> None:
        super().__init__(detail, -1)
        self.name = name
        self.detail = detail


class Interrupted(BaseException):
    """A watched evaluation was stopped from outside (its execution ended). A
    BaseException: no ``except Exception`` in the evaluator may swallow it."""


def time_limit() -> LimitExceeded:
    """The error of an evaluation that ran out of time."""
    seconds = f"{EVALUATION_SECONDS:g} second{'' if EVALUATION_SECONDS == 1 else 's'}"
    return LimitExceeded(
        QUERY_EVALUATION_ERROR,
        f"ran past this engine's limit of {seconds} for one evaluation.",
    )


def too_long(length: int) -> LimitExceeded:
    """The error of a string over :data:`MAX_TEXT` characters."""
    return LimitExceeded(
        DATA_LIMIT_EXCEEDED,
        f"needed a string of {length} characters, over this engine's limit of {MAX_TEXT}.",
    )


def too_many() -> LimitExceeded:
    """The error of a value over :data:`MAX_ITEMS` items."""
    return LimitExceeded(
        DATA_LIMIT_EXCEEDED,
        f"needed a value of more than {MAX_ITEMS} items (nested ones counted), over this "
        "engine's limit.",
    )


def too_much_text() -> LimitExceeded:
    """The error of a value holding over :data:`MAX_TEXT` characters of text."""
    return LimitExceeded(
        DATA_LIMIT_EXCEEDED,
        f"needed a value holding more than {MAX_TEXT} characters of text (nested values "
        "counted), over this engine's limit.",
    )


def check_text(length: int) -> None:
    """Refuse to build a string of ``length`` characters over :data:`MAX_TEXT`."""
    if length > MAX_TEXT:
        raise too_long(length)


def check_value(value: Any) -> None:
    """Refuse a value over :data:`MAX_ITEMS` items or :data:`MAX_TEXT` characters of text
    (strings and keys), every nested array and object counted each time it is reached, as
    its JSON text would write it. The walk stops at the limit: a value that holds itself
    many times over stays cheap to reject, and one that passes is cheap to walk again
    (to compare, search, copy or write it)."""
    items = text = 0
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            text += len(item)
        elif isinstance(item, dict):
            items += len(item)
            text += sum(len(key) for key in item)
            pending.extend(item.values())
        elif isinstance(item, list):
            items += len(item)
            pending.extend(item)
        else:
            continue
        if items > MAX_ITEMS:
            raise too_many()
        if text > MAX_TEXT:
            raise too_much_text()


class Watch:
    """What the runtime lends the evaluations it runs on a worker thread: they draw their
    random numbers from :attr:`entropy` (seeded on the loop, so that seeded runs repeat),
    and :meth:`interrupt` stops the one running now (:meth:`cancel`, every one).

    An evaluation checks for itself, at its steps; a single step (a built-in function on
    a large value) can run for long between two checks, so :meth:`interrupt` also raises
    :class:`Interrupted` in the thread, between two of its bytecodes
    (``PyThreadState_SetAsyncExc``), only while the thread is inside an evaluation
    (between :meth:`begin` and :meth:`end`: ``with budget:``), which handles it.
    """

    __slots__ = ("_budget", "_fired", "_lock", "_thread", "cancelled", "entropy")

    def __init__(self, entropy: Entropy) -> None:
        self.cancelled = False
        self.entropy = entropy
        self._lock = threading.Lock()
        self._thread: int | None = None
        self._budget: Budget | None = None
        self._fired = False

    def cancel(self) -> None:
        """Stop this watch's evaluations: the one running now, and any to come."""
        self.cancelled = True
        self.interrupt()

    def overdue(self, grace: float) -> bool:
        """Whether the evaluation running now is ``grace`` seconds past its time."""
        budget = self._budget
        return budget is not None and budget.remaining() < -grace

    def interrupt(self) -> None:
        """Raise :class:`Interrupted` in the evaluation running now, if any."""
        with self._lock:
            if self._thread is not None and not self._fired:
                self._fired = True
                _set_async_exception(self._thread, Interrupted)

    def begin(self, budget: Budget) -> None:
        """The calling thread starts evaluating (under ``budget``)."""
        with self._lock:
            self._thread = threading.get_ident()
            self._budget = budget
            self._fired = False

    def end(self) -> None:
        """The calling thread stops evaluating; an interruption not yet raised is dropped."""
        with self._lock:
            thread, self._thread, self._budget = self._thread, None, None
            fired = self._fired
        if fired and thread is not None:
            _set_async_exception(thread, None)


def _set_async_exception(thread: int, exception: type[BaseException] | None) -> None:
    """Raise ``exception`` in ``thread`` at its next bytecode (None: no longer)."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread), None if exception is None else ctypes.py_object(exception)
    )


@contextmanager
def watching(watch: Watch) -> Iterator[None]:
    """Evaluations in this context (a worker thread) are under ``watch``."""
    token = _WATCH.set(watch)
    try:
        yield
    finally:
        _WATCH.reset(token)


class Slice:
    """The event loop's share of a call: the steps and the time left to its evaluations
    before they move to a worker thread (see :func:`open_slice`)."""

    __slots__ = ("deadline", "steps")

    def __init__(self) -> None:
        seconds = _SLICE_SECONDS.get()
        self.deadline = time.monotonic() + (INLINE_SECONDS if seconds is None else seconds)
        self.steps = INLINE_STEPS


def slices_by_steps() -> None:
    """From now on in this context, a slice of the event loop ends by its steps alone: its
    seconds are an evaluation's whole :data:`EVALUATION_SECONDS`. For runs that must repeat
    exactly (seeded): an evaluation that leaves the loop draws its entropy there, so where
    it leaves must not depend on how loaded the machine is. The loop is still held no
    longer than :data:`INLINE_STEPS` steps, unless a few steps on large values (or a
    regular expression) take long."""
    _SLICE_SECONDS.set(EVALUATION_SECONDS)


def open_slice() -> Token[Slice | None]:
    """The evaluations of one call on the event loop (a state's Items and every
    ItemSelector, say) share one slice from now until :func:`close_slice`; without one,
    each evaluation has a slice of its own."""
    return _SLICE.set(Slice())


def close_slice(token: Token[Slice | None]) -> None:
    """End the slice :func:`open_slice` opened."""
    _SLICE.reset(token)


class Budget:
    """What one evaluation may still spend. The evaluator decrements :attr:`left` at every
    step and calls :meth:`check` when it goes below zero, and hands every string, array
    and object it produces to :meth:`measure`."""

    __slots__ = ("_baseline", "_deadline", "_granted", "_slice", "_units", "_watch", "left")

    def __init__(self, on_event_loop: bool) -> None:
        self._watch = watch = _WATCH.get()
        if watch is not None and watch.cancelled:
            raise Interrupted
        on_loop = on_event_loop and watch is None  # a watched evaluation runs on a thread
        self._slice = share = (_SLICE.get() or Slice()) if on_loop else None
        if share is None:
            self._deadline = time.monotonic() + EVALUATION_SECONDS
            self._granted = CHECK_EVERY
        else:
            if share.steps <= 0 or time.monotonic() > share.deadline:
                raise Overrun
            self._deadline = share.deadline
            self._granted = min(CHECK_EVERY, share.steps)
        self.left = self._granted
        self._baseline = -1  # the resident memory, read at the first check
        self._units = 0

    @property
    def entropy(self) -> Entropy | None:
        """The entropy lent to this evaluation, if it runs on a worker thread."""
        return None if self._watch is None else self._watch.entropy

    @property
    def sliced(self) -> bool:
        """Whether this evaluation runs on the event loop (and may raise Overrun)."""
        return self._slice is not None

    def __enter__(self) -> Budget:
        """The evaluation starts (on a worker thread, its watch may now interrupt it)."""
        if self._watch is not None:
            self._watch.begin(self)
        return self

    def __exit__(self, *exc_info: object) -> None:
        """The evaluation has ended (its steps are charged to its slice)."""
        if self._watch is not None:
            self._watch.end()
        if self._slice is not None:
            self._slice.steps -= self._granted - max(self.left, 0)

    def remaining(self) -> float:
        """Seconds left: before the time limit, or on the event loop before Overrun."""
        return self._deadline - time.monotonic()

    def out_of_time(self) -> JException:
        """What running out of :meth:`remaining` time raises."""
        return time_limit() if self._slice is None else Overrun()

    def check(self) -> None:
        """The periodic check: the watch, the slice, the clock, the memory."""
        watch = self._watch
        if watch is not None and watch.cancelled:
            raise Interrupted
        share = self._slice
        if share is not None:
            share.steps -= self._granted
            self._granted = max(min(CHECK_EVERY, share.steps), 0)
            if not self._granted:
                raise Overrun
        self._check_clock()
        self._check_memory()
        self.left = self._granted

    def measure(self, value: str | list[Any] | dict[str, Any]) -> None:
        """A value the evaluation produced: refused over the size limits; after a large
        one, the clock is read, and the memory once enough was produced since last time."""
        size = len(value)
        if isinstance(value, str):
            check_text(size)
        elif size > MAX_ITEMS:
            raise too_many()
        if size >= _LARGE:
            self._check_clock()
            self._units += size
            if self._units > _MEMORY_EVERY:
                self._check_memory()

    def _check_clock(self) -> None:
        if time.monotonic() > self._deadline:
            raise self.out_of_time()

    def _check_memory(self) -> None:
        self._units = 0
        resident = _resident_bytes()
        if self._baseline < 0:
            self._baseline = resident
        elif resident - self._baseline > MEMORY_BYTES:
            raise LimitExceeded(
                QUERY_EVALUATION_ERROR,
                f"needed more than this engine's limit of {MEMORY_BYTES // 2**20} MiB of "
                "memory for one evaluation.",
            )


_PAGE = resource.getpagesize()


def _resident_bytes() -> int:
    """The process's resident memory now (Linux), else the most it ever had."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
