"""One clock for all time, and the strands of work that wait on it.

Every wait of an execution goes through a :class:`Clock`: Wait states, Retry backoff,
Task, heartbeat and execution timeouts, callback waits; integrations get the same
clock's timers (Lambda function timeouts, HTTP timeouts) through the Host.

A *strand* is one thread of an execution: an execution's top scope, a Parallel branch,
a Map iteration, a Distributed Map child. Strands are asyncio tasks started with
:meth:`Clock.spawn`. A strand *parks* (:meth:`Clock.park`) when it waits for something
only the clock or the engine can bring: a timer, a task token's answer, its own child
strands. The clock counts the strands that are not parked (and operations marked
:meth:`Clock.hold`); that count is exact because every wake-up goes through a
:class:`Wake` future, which updates it the moment it is resolved or cancelled, before
the woken strand even runs. No event-loop internals are read.

:class:`VirtualClock` stands still while work runs (so seeded runs repeat to the byte)
and jumps to the next deadline when every strand is parked, so a Wait of a day takes
no real time. While something runs outside the clock (a handler, an HTTP call), no jump
happens, but every timer still fires once as many real seconds have passed as it was
set for: a handler that overruns its Task's ``TimeoutSeconds`` is timed out after that
many seconds, on both clocks. :class:`RealClock` is wall-clock time.

A *passive* timer (:meth:`Clock.passive_timer`) fires when the clock's time reaches it,
but never draws time to itself: a jump toward another timer stops at it on the way, and
real time reaches it, but a strand that waits for a person (a task token) while it is
the only timer left is not timed out at once. Standard executions' one-year limit is one.

Temporal's workflow runtime, which owns its loop and timers, is the model: the
interpreter sees only this interface, so another Host can provide it.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from types import TracebackType
from typing import Any, Generic, Protocol, TypeVar

__all__ = ["Clock", "Deadline", "DeadlineExpired", "RealClock", "VirtualClock", "Wake"]

T = TypeVar("T")
#: Told how a strand ended: None when it returned, else what it raised.
OnEnd = Callable[[BaseException | None], None]

# Past this many settled timers in the heap (and half of it), the heap is rebuilt.
_COMPACT_AT = 1024


class _FirstTurn:
    """The first turn of the strands one :meth:`Clock.run_all` starts together: it ends
    once each of them has taken its first step (run until it first waits)."""

    __slots__ = ("ended", "waiting")

    def __init__(self) -> None:
        self.ended = False
        self.waiting: list[Wake] = []

    def end(self) -> None:
        self.ended = True
        for wake in self.waiting:
            if not wake.done():
                wake.set_result(None)
        self.waiting.clear()


#: The first turn of the group the running strand was started in (None: none to wait for).
_first_turn: ContextVar[_FirstTurn | None] = ContextVar("first_turn", default=None)


class Wake(asyncio.Future[Any]):
    """A future a strand can park on; resolving or cancelling it counts the strand as
    running again at once. A timer is a Wake the clock resolves at its deadline (with
    ``None``); anyone may resolve it earlier."""

    __slots__ = ("_callback", "_clock", "_handle", "_parked", "_queued", "deadline")

    def __init__(self, clock: Clock, deadline: float | None) -> None:
        super().__init__()
        self._clock = clock
        self._parked = False
        self._handle: asyncio.TimerHandle | None = None
        self._callback: Callable[[], None] | None = None
        self._queued = False  # in a VirtualClock's heap
        #: When the clock resolves it (None: only when someone does).
        self.deadline = deadline

    def set_result(self, result: Any) -> None:
        """Resolve it (the parked strand, if any, runs again)."""
        super().set_result(result)
        self._settled()

    def set_exception(self, exception: BaseException | type[BaseException]) -> None:
        """Fail it (the parked strand, if any, runs again)."""
        super().set_exception(exception)
        self._settled()

    def cancel(self, msg: Any = None) -> bool:
        """Cancel it: a timer leaves the clock."""
        if not super().cancel(msg):
            return False
        self._settled()
        return True

    def _settled(self) -> None:
        self._callback = None  # a settled timer may linger in a heap: it holds no more
        if self._parked:
            self._parked = False
            self._clock._unpark()
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        if self._queued:
            self._clock._timer_settled()


class _Timer(Protocol):
    """What the heaps of timers hold: a :class:`Wake` or an :class:`_Alarm`."""

    _callback: Callable[[], None] | None

    def done(self) -> bool:
        """Whether it has fired or been cancelled."""
        ...

    def set_result(self, result: Any) -> None:
        """It fires (its callback is called right after)."""
        ...


_TimerT = TypeVar("_TimerT", bound=_Timer)


class _Alarm:
    """A timer nobody waits on, only its callback matters (a deadline's): no future is
    made for it. The real clock's heap holds these beside Wakes."""

    __slots__ = ("_callback",)

    def __init__(self, callback: Callable[[], None]) -> None:
        self._callback: Callable[[], None] | None = callback

    def done(self) -> bool:
        """Whether it has fired or been cancelled."""
        return self._callback is None

    def set_result(self, result: Any) -> None:
        """It fires: nothing more is to be called."""
        self._callback = None

    def cancel(self) -> bool:
        """Cancel it (it lingers in the heap, settled, until the heap is compacted)."""
        if self._callback is None:
            return False
        self._callback = None
        return True


class _VirtualAlarm(_Alarm):
    """An :class:`_Alarm` of a :class:`VirtualClock`: it has a deadline in virtual time, and
    a cancelled one counts as settled in the clock's heap, as a cancelled Wake does."""

    __slots__ = ("_clock", "_queued", "deadline")

    def __init__(self, clock: VirtualClock, deadline: float, callback: Callable[[], None]) -> None:
        super().__init__(callback)
        self._clock = clock
        self._queued = False  # in the clock's heap of timers it jumps to
        self.deadline = deadline

    def cancel(self) -> bool:
        """Cancel it: it leaves the clock."""
        if not super().cancel():
            return False
        if self._queued:
            self._clock._timer_settled()
        return True


#: What a VirtualClock's heaps hold.
_Due = Wake | _VirtualAlarm


class _Cancellable(Protocol):
    """What :meth:`Clock.alarm` gives: a Wake, or an :class:`_Alarm`."""

    def cancel(self) -> bool:
        """Remove it from the clock (False when it had fired or was cancelled already)."""
        ...


class _Limit:
    """One deadline of :class:`_Limits` (cancelling it removes it)."""

    __slots__ = ("_due", "callback")

    def __init__(self, due: dict[_Limit, float], callback: Callable[[], None]) -> None:
        self._due = due
        self.callback = callback

    def cancel(self) -> bool:
        """Remove it (False when it had fired or was cancelled already)."""
        return self._due.pop(self, None) is not None


class _Limits:
    """A clock's deadlines that are mostly set in the order they fall due (each execution's
    one-year limit: its start plus a year), under one passive alarm of the clock's for the
    earliest: setting and cancelling one is a dict insert and delete, with no timer of its
    own in the clock's heaps. The alarm stays set when the earliest is cancelled; when it
    fires, it calls back those due and is set again for the earliest left. One falling due
    before the latest set (an execution recovered long after its start) gets its own."""

    __slots__ = ("_alarm_at", "_clock", "_due", "_latest")

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        #: Each limit's deadline, in the order they fall due.
        self._due: dict[_Limit, float] = {}
        self._latest = -math.inf
        self._alarm_at = math.inf  # when the shared alarm fires (infinite: it is not set)

    def add(self, deadline: float, callback: Callable[[], None]) -> _Cancellable:
        """Call ``callback`` when the clock reaches ``deadline``, unless cancelled first."""
        if deadline < self._latest:
            return self._clock._limit_alarm(deadline, callback)
        self._latest = deadline
        limit = _Limit(self._due, callback)
        self._due[limit] = deadline
        if self._alarm_at == math.inf:
            self._set(deadline)
        return limit

    def _set(self, deadline: float) -> None:
        self._alarm_at = deadline
        self._clock._limit_alarm(deadline, self._fire)

    def _fire(self) -> None:
        """The shared alarm fired: call back the limits due, set it for the next."""
        self._alarm_at = math.inf
        now = self._clock.now()
        due = self._due
        while due:
            limit, deadline = next(iter(due.items()))
            if deadline > now:
                self._set(deadline)
                return
            del due[limit]
            limit.callback()


class DeadlineExpired(Exception):
    """A :class:`Deadline` was reached while its block ran."""


class Deadline:
    """``async with clock.deadline(seconds):`` — the block is cancelled when the clock
    reaches now + ``seconds``, and :class:`DeadlineExpired` is raised in its place (like
    ``asyncio.timeout``, on the clock); or, given ``at``, when it reaches that time.
    ``seconds=None`` and no ``at``: no deadline. ``passive``: on a passive timer. Entering
    and leaving it never waits, so a plain ``with`` (inside a task) does the same for two
    coroutines fewer."""

    __slots__ = (
        "_active", "_at", "_clock", "_expired", "_passive", "_seconds", "_task", "_timer",
    )  # fmt: skip

    def __init__(
        self,
        clock: Clock,
        seconds: float | None,
        passive: bool = False,
        at: float | None = None,
    ) -> None:
        self._clock = clock
        self._seconds = seconds
        self._passive = passive
        self._at = at
        self._active = False
        self._expired = False
        self._task: asyncio.Task[Any] | None = None
        self._timer: _Cancellable | None = None

    async def __aenter__(self) -> Deadline:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)

    def __enter__(self) -> Deadline:
        if self._seconds is not None or self._at is not None:
            self._task = asyncio.current_task()
            self._active = True
            clock = self._clock
            # The Deadline is its timer's callback: no bound method made for each.
            if self._passive:
                seconds = self._seconds if self._at is None else self._at - clock.now()
                self._timer = clock.alarm(seconds, self, passive=True)
            elif self._at is not None:
                self._timer = clock.timer_at(self._at, self)
            else:
                self._timer = clock.alarm(self._seconds, self)
        return self

    def __call__(self) -> None:
        """Its timer fired: the block is cancelled, if it still runs."""
        if self._active and self._task is not None:
            self._expired = True
            self._task.cancel()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._active = False
        timer = self._timer
        if timer is not None:
            self._timer = None  # let go: a limit's timer holds the Deadline, which holds the task
            timer.cancel()
        if not self._expired or self._task is None:
            return
        others = self._task.uncancel()  # ours is taken back; a stop stays
        if others == 0 and (exc_type is None or issubclass(exc_type, asyncio.CancelledError)):
            raise DeadlineExpired from exc


class _LimitDeadline(Deadline):
    """A passive :class:`Deadline` at a time, one of its clock's limits (:class:`_Limits`):
    what :meth:`Clock.limit` gives. Every execution enters one, so entering it goes
    straight to the limits."""

    __slots__ = ()

    def __init__(self, clock: Clock, at: float) -> None:
        # What __call__ and __exit__ read (a plain Deadline's other fields are not used).
        self._clock = clock
        self._at = at
        self._active = self._expired = False
        self._timer = None

    def __enter__(self) -> Deadline:
        self._task = asyncio.current_task()
        self._active = True
        self._timer = self._clock._limits.add(self._at, self)  # type: ignore[arg-type]  # set
        return self


class Clock:
    """Time, timers and strands; subclasses say what time it is and how it moves."""

    def __init__(self) -> None:
        # Strands not parked, plus operations outside the clock's control.
        self._busy = 0
        self._limits = _Limits(self)
        self._strands: set[asyncio.Task[Any]] = set()
        # Strands not started yet, with what they tell when they end (see :meth:`cancel`).
        self._unstarted: dict[asyncio.Task[Any], OnEnd | None] = {}

    # --- time --------------------------------------------------------------------------

    def now(self) -> float:
        """Seconds since the Unix epoch, by this clock."""
        raise NotImplementedError

    def timer(
        self,
        seconds: float | None,
        callback: Callable[[], None] | None = None,
        *,
        elapsed: float = 0.0,
    ) -> Wake:
        """A :class:`Wake` the clock resolves ``seconds`` from now (``None``: never; only
        whoever holds it resolves it), calling ``callback`` right after. Cancelling it
        removes it from the clock. ``elapsed``: real seconds of it that passed already while
        the event loop was held (an inline handler's call), so this clock's time stood
        still: it is due that much sooner in real time, at the same time on this clock."""
        raise NotImplementedError

    def passive_timer(
        self, seconds: float | None, callback: Callable[[], None] | None = None
    ) -> Wake:
        """A :meth:`timer` that fires when this clock's time reaches it, but is never a
        reason for the time to move there (see the module's docstring). A clock whose time
        is never moved may give a plain timer, as this one does."""
        return self.timer(seconds, callback)

    def timer_at(self, deadline: float, callback: Callable[[], None] | None = None) -> Wake:
        """A :class:`Wake` the clock resolves at the time ``deadline`` (at once when it has
        passed), calling ``callback`` right after."""
        return self.timer(max(deadline - self.now(), 0.0), callback)

    def alarm(
        self, seconds: float | None, callback: Callable[[], None], *, passive: bool = False
    ) -> _Cancellable:
        """A :meth:`timer` (``passive``: a :meth:`passive_timer`) that nobody waits on:
        ``callback`` is called when it fires; cancelling it removes it. A clock may make
        it cheaper than a Wake."""
        return (self.passive_timer if passive else self.timer)(seconds, callback)

    def sleep(self, seconds: float) -> Awaitable[None]:
        """Park the calling strand for ``seconds`` of this clock's time: what it gives is
        to be awaited at once (the strand counts as parked from the call). Not a coroutine:
        one object fewer for each Wait and Retry backoff."""
        if seconds <= 0:
            return asyncio.sleep(0)
        wake = self.timer(seconds)
        self._parking(wake)  # as park() does
        return wake

    def deadline(self, seconds: float | None, *, passive: bool = False) -> Deadline:
        """An async context that times its block out on this clock (see :class:`Deadline`);
        ``passive``: on a :meth:`passive_timer`."""
        return Deadline(self, seconds, passive)

    def deadline_at(self, deadline: float, *, passive: bool = False) -> Deadline:
        """An async context that times its block out at the time ``deadline``."""
        return Deadline(self, None, passive, deadline)

    def limit(self, deadline: float) -> Deadline:
        """A passive :meth:`deadline_at` for deadlines mostly set in the order they fall due
        (each execution's one-year limit: its start plus a year). They share one alarm of
        the clock's (see :class:`_Limits`), so an execution sets no timer of its own."""
        return _LimitDeadline(self, deadline)

    def _limit_alarm(self, deadline: float, callback: Callable[[], None]) -> _Cancellable:
        """A passive alarm at the time ``deadline`` (for :class:`_Limits`)."""
        return self.alarm(deadline - self.now(), callback, passive=True)

    # --- strands -----------------------------------------------------------------------

    def spawn(
        self,
        work: Callable[..., Coroutine[Any, Any, T]],
        *args: Any,
        on_end: OnEnd | None = None,
    ) -> asyncio.Task[T]:
        """Start a strand running ``work(*args)``. ``on_end(error)`` is told how it ended
        before it stops counting as running; an error given to ``on_end`` is not raised
        again by the task. (The coroutine is made when the strand first runs, so a strand
        cancelled before that leaves nothing unawaited.)"""
        loop = asyncio.get_running_loop()
        task = loop.create_task(self._strand(work, args, on_end, loop))
        self._unstarted[task] = on_end
        self._busy += 1
        return task

    def cancel(self, strand: asyncio.Task[Any]) -> None:
        """Cancel a strand (StopExecution, a failed sibling). One cancelled before its
        first step never runs, so its bookkeeping is done here."""
        never_ran = strand in self._unstarted
        on_end = self._unstarted.pop(strand, None)
        strand.cancel()
        if never_ran:
            if on_end is not None:
                on_end(asyncio.CancelledError())
            self._busy -= 1
            self._became_idle()

    async def _strand(
        self,
        work: Callable[..., Coroutine[Any, Any, T]],
        args: tuple[Any, ...],
        on_end: OnEnd | None,
        loop: asyncio.AbstractEventLoop,
    ) -> Any:
        task = asyncio.current_task(loop)  # the loop given: not looked up again
        del self._unstarted[task]  # type: ignore[arg-type]
        self._strands.add(task)  # type: ignore[arg-type]
        try:
            result = await work(*args)
        except asyncio.CancelledError as cancelled:
            if on_end is not None:
                on_end(cancelled)
            raise
        except GeneratorExit:
            # The coroutine is closed, not ended (a Temporal workflow evicted from its
            # worker's cache): it goes on elsewhere, nothing is told.
            raise
        except BaseException as error:
            if on_end is None:
                raise
            on_end(error)
            return None
        else:
            if on_end is not None:
                on_end(None)
            return result
        finally:
            self._strands.discard(task)  # type: ignore[arg-type]
            self._busy -= 1
            self._became_idle()

    async def park(self, wake: Wake) -> Any:
        """Wait for ``wake``; the calling strand counts as parked until it is resolved."""
        self._parking(wake)
        return await wake

    def _parking(self, wake: Wake) -> None:
        """The calling strand is about to await ``wake``: it counts as parked until then."""
        # The wake's loop is the running one: asking the task of it looks nothing else up.
        if not wake.done() and asyncio.current_task(wake.get_loop()) in self._strands:
            wake._parked = True
            self._busy -= 1
            self._became_idle()

    def wake(self) -> Wake:
        """A Wake no timer resolves: whoever holds it wakes the strand parked on it."""
        return Wake(self, None)

    def in_first_turn(self) -> bool:
        """Whether :meth:`after_first_turn` would wait: the calling strand is in the first
        turn of a group (a sync look, so most Tasks make no coroutine for it)."""
        turn = _first_turn.get()
        return turn is not None and not turn.ended

    async def after_first_turn(self) -> None:
        """In a strand that :meth:`run_all` started with ``first_turn``, during its first
        step: park until every strand started with it has taken its first step too, then
        go on (in the order they came here). Elsewhere, and later, return at once.

        It ends at a point of the event loop fixed when the strands were started (right
        after their first steps), never at one that real time chooses (a handler's thread
        ending), so seeded runs still repeat."""
        turn = _first_turn.get()
        if turn is None or turn.ended:
            return
        wake = self.wake()
        turn.waiting.append(wake)
        await self.park(wake)

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Hold time still while the block runs: work outside the clock (a person answering,
        a test looking at a parked execution) during which no jump may happen."""
        self.begin_hold()
        try:
            yield
        finally:
            self.end_hold()

    def alone(self) -> bool:
        """Whether the caller is all that runs on this clock: every other strand is parked
        (on a clock that counts no parking, there is none) and no operation holds it."""
        return self._busy <= 1

    def begin_hold(self) -> None:
        """Hold time still until the matching :meth:`end_hold` (see :meth:`hold`)."""
        self._busy += 1

    def end_hold(self) -> None:
        """End a :meth:`begin_hold`."""
        self._busy -= 1
        self._became_idle()

    async def run_all(
        self,
        jobs: Sequence[Callable[[], Awaitable[T]]],
        *,
        limit: int = 0,
        on_failure: Callable[[], None] | None = None,
        first_turn: bool = False,
    ) -> list[T]:
        """Run the jobs as strands, at most ``limit`` at once (0: all), and park until
        they end; their results in order. The first failure cancels the others (after
        ``on_failure()``) and is raised once they have ended. With ``first_turn``, the
        strands started together may wait in :meth:`after_first_turn` for one another's
        first steps."""
        group = _Group(self, jobs, limit, first_turn)
        try:
            await self.park(group.settled)
        except asyncio.CancelledError:
            await group.cancel_and_wait()
            raise
        if group.failure is not None:
            if on_failure is not None:
                on_failure()
            await group.cancel_and_wait()
            raise group.failure
        return group.results

    def _unpark(self) -> None:
        self._busy += 1

    def _timer_settled(self) -> None:
        """A timer was resolved or cancelled."""

    def _became_idle(self) -> None:
        """Called whenever the running count drops."""


class _Group:
    """The strands of one :meth:`Clock.run_all`."""

    __slots__ = ("clock", "ended", "failure", "jobs", "lanes", "left", "results", "settled")

    def __init__(
        self,
        clock: Clock,
        jobs: Sequence[Callable[[], Awaitable[Any]]],
        limit: int,
        first_turn: bool,
    ) -> None:
        self.clock = clock
        self.jobs = jobs
        self.results: list[Any] = [None] * len(jobs)
        self.failure: BaseException | None = None
        #: Resolved at the first failure or when every lane has ended.
        self.settled = clock.wake()
        #: Resolved when every lane has ended.
        self.ended = clock.wake()
        width = len(jobs) if limit <= 0 else min(limit, len(jobs))
        self.left = width
        if width == 0:
            self.settled.set_result(None)
            self.ended.set_result(None)
        pending = iter(range(len(jobs)))
        turn = _FirstTurn() if first_turn and width > 1 else None
        outer = _first_turn.set(turn)  # the lanes' context is copied from ours
        try:
            self.lanes = [
                clock.spawn(self._lane, pending, on_end=self._lane_ended) for _ in range(width)
            ]
        finally:
            _first_turn.reset(outer)
        if turn is not None:  # runs after the lanes' first steps, which were queued before
            asyncio.get_running_loop().call_soon(turn.end)

    async def _lane(self, pending: Iterator[int]) -> None:
        for index in pending:
            self.results[index] = await self.jobs[index]()

    def _lane_ended(self, error: BaseException | None) -> None:
        if (
            error is not None
            and self.failure is None
            and not isinstance(error, asyncio.CancelledError)
        ):
            self.failure = error
        self.left -= 1
        if (self.left == 0 or self.failure is not None) and not self.settled.done():
            self.settled.set_result(None)
        if self.left == 0:
            self.ended.set_result(None)

    async def cancel_and_wait(self) -> None:
        for lane in self.lanes:
            self.clock.cancel(lane)
        await self.clock.park(self.ended)


class RealClock(Clock):
    """Wall-clock time. Its timers sit in one heap that a single loop timer watches
    (``_Watchdog``), not one loop handle each: a thousand Waits due within a moment are
    one wake-up of the loop, starting an execution schedules nothing on the loop for its
    one-year limit, and a cancelled timer leaves no handle there. Its passive timers are
    plain ones (real time reaches every timer alike)."""

    def __init__(self) -> None:
        super().__init__()
        self._watched: _Watchdog[Wake | _Alarm] = _Watchdog(_fire)
        self._compact_at = _COMPACT_AT
        self._sequence = itertools.count()

    def now(self) -> float:
        """Seconds since the Unix epoch."""
        return time.time()

    def timer(
        self,
        seconds: float | None,
        callback: Callable[[], None] | None = None,
        *,
        elapsed: float = 0.0,
    ) -> Wake:
        """A Wake resolved after ``seconds`` of real time (``elapsed`` of them passed)."""
        wake = Wake(self, None)
        if seconds is not None:
            wake._callback = callback
            self._watch(seconds - elapsed, wake, wake.get_loop())
        return wake

    def alarm(
        self, seconds: float | None, callback: Callable[[], None], *, passive: bool = False
    ) -> _Cancellable:
        """A timer nobody waits on, without a future (see :meth:`Clock.alarm`)."""
        alarm = _Alarm(callback)
        if seconds is not None:
            self._watch(seconds, alarm, asyncio.get_running_loop())
        return alarm

    def _watch(self, seconds: float, timer: Wake | _Alarm, loop: asyncio.AbstractEventLoop) -> None:
        """Watch a timer in real time, on ``loop`` (the running one: a Wake's own loop is, and
        asking it costs less than asking asyncio for the running loop)."""
        watched = self._watched
        if len(watched.heap) >= self._compact_at:
            watched.heap, self._compact_at = _compacted(watched.heap)
        watched.push(loop, (loop.time() + max(seconds, 0.0), next(self._sequence), timer))

    def _parking(self, wake: Wake) -> None:
        """Real time moves on whether strands are parked or not: nothing is counted."""

    def loop_timer(self, seconds: float | None, callback: Callable[[], None] | None = None) -> Wake:
        """A :meth:`timer` on a loop handle of its own: for a loop whose every timer is
        recorded (a Temporal workflow's, each a durable timer in its history)."""
        wake = Wake(self, None)
        if seconds is not None:
            wake._callback = callback
            loop = asyncio.get_running_loop()
            wake._handle = loop.call_later(max(seconds, 0.0), _fire, wake)
        return wake


class VirtualClock(Clock):
    """Time that stands still while work runs and jumps when every strand is parked."""

    def __init__(self, start: float | None = None) -> None:
        super().__init__()
        self._now = time.time() if start is None else start
        self._timers: list[tuple[float, int, _Due]] = []
        self._settled_timers = 0
        # Passive timers: fired on the way, never jumped to. Settled ones linger until
        # the heap has doubled since it was last cleared of them.
        self._passive: list[tuple[float, int, _Due]] = []
        self._passive_compact_at = _COMPACT_AT
        self._sequence = itertools.count()
        self._jump_scheduled = False
        # The same timers by their real deadline (loop time), for when no jump comes
        # (work runs outside the clock): one loop handle watches the earliest.
        self._late: _Watchdog[_Due] = _Watchdog(self._fire_late)

    def now(self) -> float:
        """The virtual time, in seconds since the Unix epoch."""
        return self._now

    def move_to(self, moment: float) -> None:
        """Move the time on to ``moment`` (never back), firing the timers due by then: an
        engine recovering executions starts where their committed history left off."""
        self._advance_to(moment)

    def pending_timers(self) -> int:
        """How many timers are still waiting for their deadline."""
        return len(self._timers) - self._settled_timers

    def timer(
        self,
        seconds: float | None,
        callback: Callable[[], None] | None = None,
        *,
        elapsed: float = 0.0,
    ) -> Wake:
        """A Wake resolved when the virtual time reaches now + ``seconds``, or once
        ``seconds`` of real time have passed (``elapsed`` of them already), whichever
        comes first."""
        if seconds is None:
            return self.wake()
        wake = Wake(self, self._now + max(seconds, 0.0))
        wake._callback = callback
        self._queue(wake, wake.get_loop(), elapsed)
        return wake

    def timer_at(self, deadline: float, callback: Callable[[], None] | None = None) -> Wake:
        """A Wake resolved when the virtual time reaches ``deadline``, or once as many real
        seconds have passed as were left to it, whichever comes first."""
        wake = Wake(self, max(deadline, self._now))
        wake._callback = callback
        self._queue(wake, wake.get_loop())
        return wake

    def passive_timer(
        self, seconds: float | None, callback: Callable[[], None] | None = None
    ) -> Wake:
        """A Wake resolved when the virtual time reaches now + ``seconds`` (moved there by
        other timers, or by as many seconds of real time): never a jump's target."""
        if seconds is None:
            return self.wake()
        wake = Wake(self, self._now + max(seconds, 0.0))
        wake._callback = callback
        self._queue_passive(wake, wake.get_loop())
        return wake

    def alarm(
        self, seconds: float | None, callback: Callable[[], None], *, passive: bool = False
    ) -> _Cancellable:
        """A timer nobody waits on, without a future (see :meth:`Clock.alarm`)."""
        if seconds is None:
            return _Alarm(callback)  # never due: only cancelled
        alarm = _VirtualAlarm(self, self._now + max(seconds, 0.0), callback)
        if passive:
            self._queue_passive(alarm, asyncio.get_running_loop())
        else:
            self._queue(alarm, asyncio.get_running_loop())
        return alarm

    def _limit_alarm(self, deadline: float, callback: Callable[[], None]) -> _Cancellable:
        """A passive alarm at the virtual time ``deadline`` (for :class:`_Limits`)."""
        alarm = _VirtualAlarm(self, max(deadline, self._now), callback)
        self._queue_passive(alarm, asyncio.get_running_loop())
        return alarm

    def _queue(self, timer: _Due, loop: asyncio.AbstractEventLoop, elapsed: float = 0.0) -> None:
        """Watch a timer the clock may jump to (``elapsed``: see :meth:`timer`)."""
        entry = self._watch_late(timer, loop, elapsed)
        timer._queued = True
        heapq.heappush(self._timers, entry)
        self._became_idle()  # nothing runs on the clock: the new timer may be due at once

    def _queue_passive(self, timer: _Due, loop: asyncio.AbstractEventLoop) -> None:
        """Watch a timer the clock never jumps to."""
        entry = self._watch_late(timer, loop)
        if len(self._passive) >= self._passive_compact_at:
            self._passive, self._passive_compact_at = _compacted(self._passive)
        heapq.heappush(self._passive, entry)

    def _watch_late(
        self, timer: _Due, loop: asyncio.AbstractEventLoop, elapsed: float = 0.0
    ) -> tuple[float, int, _Due]:
        """Watch a timer in real time too (as many seconds as are left to its deadline, less
        ``elapsed``), on ``loop`` (the running one; see :meth:`RealClock._watch`); its entry
        for a heap of timers."""
        deadline = timer.deadline
        assert deadline is not None
        sequence = next(self._sequence)
        late = self._late
        late.push(loop, (loop.time() - elapsed + deadline - self._now, sequence, timer))
        if len(late.heap) > 2 * (len(self._timers) + len(self._passive)) + _COMPACT_AT:
            late.heap = [entry for entry in late.heap if not entry[2].done()]  # settled
            heapq.heapify(late.heap)
        return deadline, sequence, timer

    def _fire_late(self, timer: _Due) -> None:
        """Real time has caught up with a timer that no jump reached: fire it (and those
        before it)."""
        self._advance_to(timer.deadline)  # type: ignore[arg-type]

    def _advance_to(self, deadline: float) -> None:
        """Move time to ``deadline`` and fire every timer due by then, in order."""
        self._now = max(self._now, deadline)
        passive = self._passive
        while True:
            due_active = bool(self._timers) and self._timers[0][0] <= self._now
            due_passive = bool(passive) and passive[0][0] <= self._now
            if due_passive and (not due_active or passive[0] < self._timers[0]):
                wake = heapq.heappop(passive)[2]
            elif due_active:
                wake = self._pop()
            else:
                break
            if not wake.done():
                _fire(wake)
        if not self._timers and not passive:  # nothing left to watch in real time either
            self._late.clear()

    def _pop(self) -> _Due:
        wake = heapq.heappop(self._timers)[2]
        wake._queued = False
        if wake.done():
            self._settled_timers -= 1
        return wake

    def _timer_settled(self) -> None:
        self._settled_timers += 1
        timers = self._timers
        if self._settled_timers > _COMPACT_AT and self._settled_timers * 2 > len(timers):
            for entry in timers:
                entry[2]._queued = not entry[2].done()
            self._timers = [entry for entry in timers if entry[2]._queued]
            heapq.heapify(self._timers)
            self._settled_timers = 0

    def _became_idle(self) -> None:
        if (
            self._busy == 0
            and len(self._timers) > self._settled_timers  # a timer still to fire
            and not self._jump_scheduled
        ):
            self._jump_scheduled = True
            asyncio.get_running_loop().call_soon(self._jump)

    def _jump(self) -> None:
        """Every strand is parked (or none runs): fire the next timers, if still so."""
        self._jump_scheduled = False
        if self._busy:
            return
        while self._timers and self._timers[0][2].done():
            self._pop()
        if not self._timers:
            return
        target = self._timers[0][0]
        passive = self._passive
        while passive and passive[0][2].done():
            heapq.heappop(passive)
        # A passive timer on the way is where this jump stops: what it ends (an execution
        # past its limit) ends at its time, before the timer jumped to could fire.
        if passive and passive[0][0] < target:
            target = passive[0][0]
        self._advance_to(target)
        # Timers with callbacks only (watchers) may have woken nobody yet: look again
        # once their consequences have run.
        self._became_idle()


class _Watchdog(Generic[_TimerT]):
    """Timers watched in real time: a heap of ``(loop time, sequence, timer)`` (settled
    ones may linger) and one loop timer at the earliest, which calls ``due(timer)`` for
    each unsettled timer whose time has come."""

    __slots__ = ("_at", "_due", "_handle", "heap")

    def __init__(self, due: Callable[[_TimerT], None]) -> None:
        self.heap: list[tuple[float, int, _TimerT]] = []
        self._due = due
        self._handle: asyncio.TimerHandle | None = None
        self._at = math.inf

    def push(self, loop: asyncio.AbstractEventLoop, entry: tuple[float, int, _TimerT]) -> None:
        """Watch one more timer."""
        heapq.heappush(self.heap, entry)
        if entry[0] < self._at:
            self._watch(loop, entry[0])

    def clear(self) -> None:
        """Watch nothing any more."""
        self.heap.clear()
        if self._handle is not None:
            self._handle.cancel()
            self._handle, self._at = None, math.inf

    def _watch(self, loop: asyncio.AbstractEventLoop, at: float) -> None:
        if self._handle is not None:
            self._handle.cancel()
        self._at = at
        self._handle = loop.call_at(at, self._fire)

    def _fire(self) -> None:
        self._handle, self._at = None, math.inf
        heap = self.heap
        loop = asyncio.get_running_loop()
        while heap and (heap[0][2].done() or heap[0][0] <= loop.time()):
            wake = heapq.heappop(heap)[2]
            if not wake.done():
                self._due(wake)
        if heap:
            self._watch(loop, heap[0][0])


def _compacted(
    heap: list[tuple[float, int, _TimerT]],
) -> tuple[list[tuple[float, int, _TimerT]], int]:
    """A heap of timers rid of its settled ones, and the size at which to look again
    (twice what is left)."""
    kept = [entry for entry in heap if not entry[2].done()]
    heapq.heapify(kept)
    return kept, max(_COMPACT_AT, 2 * len(kept))


def _fire(wake: _Timer) -> None:
    callback = wake._callback
    wake.set_result(None)
    if callback is not None:
        callback()
