"""The scheduler of ``asl serve --schedules``: each enabled schedule starts executions at
its times, on the engine's clock, and remembers in a :class:`ScheduleStore` the times it
has handled, so a restart neither starts a time twice nor forgets the times it missed,
and each schedule's latest fires, which :meth:`Scheduler.overview` reads back.

Runs missed while the server was down: EventBridge Scheduler never is, so AWS documents
no rule for them. The nearest it has is its target retry policy: an invocation may still
be attempted until it is ``MaximumEventAgeInSeconds`` old (24 hours unless the entry's
``Target.RetryPolicy`` says less). So at a restart a schedule that missed runs starts
one execution, for the latest time it missed, when that time is within this age; older
ones are dropped with a warning. Many missed times of one schedule start one execution,
not a burst. The same holds when a wait ends late (a suspended machine).

Servers may share one database (``--db``): each fire time is claimed in a transaction
before its execution starts (see :mod:`runtime.store.schedules`), so only one of them
fires it; a claim its server died holding is taken over once its lease expires.

Each execution is named as EventBridge Scheduler names the executions it starts: a
UUID-shaped text that the schedule and the scheduled time determine (observed on AWS:
awsteele.com, "Step Function execution name format", 2026-04-01; our bytes come from a
hash of the schedule's ARN). Two starts of one scheduled time thus have one name: when
the server died between starting an execution and recording its time, the start made
again after the restart meets the execution kept by a durable store, and its
``ExecutionAlreadyExists`` counts as started. Starting is attempted once: any other
error is logged, not retried.

Under the virtual clock time jumps to the next fire as soon as every strand is parked,
so a recurring schedule runs ahead without end: stop the scheduler when the test's time
is up.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import os
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from asl.jsontext import JSON
from integrations.aws.shapes import instant_text
from runtime.clock import Clock
from runtime.executions import DEFAULT_ACCOUNT, DEFAULT_REGION, ExecutionAlreadyExists
from runtime.service.schedule_entries import Schedule
from runtime.service.schedule_overview import ScheduleOverview, upcoming
from runtime.store.errors import ApiError
from runtime.store.schedules import Fired, ScheduleRecord, ScheduleStore

__all__ = ["Scheduler", "StartExecution", "execution_name"]

_log = logging.getLogger(__name__)

#: ``start(state machine ARN, input, execution name)``: starts one execution and returns
#: its ARN (None when the starter does not tell).
StartExecution = Callable[[str, JSON, str], Awaitable[str | None]]

#: The longest single sleep: a long wait is taken in steps, so a wall clock that jumps
#: (a suspended machine, a corrected clock) is noticed within the hour.
_STEP_SECONDS = 3600.0
#: How long a claim on a fire time holds (of the scheduler's clock): starting one execution
#: takes far less; a scheduler that died holding one has it taken over once it expires.
_LEASE = 60.0
#: Timer arithmetic in floats can wake a hair before the second it aimed at.
_TOLERANCE = 0.001


def execution_name(schedule_arn: str, scheduled: int) -> str:
    """The name of the execution a schedule starts for a time: UUID-shaped, as on AWS, a
    byte of the schedule's hash, the time's four bytes, then eleven more of the hash."""
    digest = hashlib.sha256(schedule_arn.encode()).digest()
    raw = digest[:1] + (scheduled % 2**32).to_bytes(4, "big") + digest[1:12]
    return str(uuid.UUID(bytes=raw, version=4))


class Scheduler:
    """Fires schedules on a clock through ``start``. :meth:`start` begins (one strand per
    enabled schedule), :meth:`stop` ends; ``store`` is a :class:`ScheduleStore` or its
    path (``":memory:"``: nothing kept across restarts)."""

    def __init__(
        self,
        schedules: Sequence[Schedule],
        start: StartExecution,
        clock: Clock,
        store: ScheduleStore | str | os.PathLike[str] = ":memory:",
        *,
        region: str = DEFAULT_REGION,
        account: str = DEFAULT_ACCOUNT,
    ) -> None:
        self.schedules = list(schedules)
        self._start = start
        self._clock = clock
        self._store = store if isinstance(store, ScheduleStore) else ScheduleStore(store)
        self._region = region
        self._account = account
        self._strands: list[asyncio.Task[Any]] = []
        #: Who this scheduler is, in the claims of the store it may share with others.
        self._claimer = str(uuid.uuid4())
        self._records: dict[str, ScheduleRecord] = {}

    def start(self) -> None:
        """Begin firing (call it on the running event loop). A store that cannot be used
        raises ``ScheduleStoreError`` here, before anything fires."""
        records = [
            (schedule, self._open(schedule)) for schedule in self.schedules if schedule.enabled
        ]
        for schedule, record in records:
            strand = self._clock.spawn(self._run, schedule, record, on_end=_ended(schedule))
            self._strands.append(strand)

    async def stop(self) -> None:
        """Stop firing; executions already started go on."""
        strands, self._strands = self._strands, []
        for strand in strands:
            self._clock.cancel(strand)
        await asyncio.gather(*strands, return_exceptions=True)
        self._store.close()

    def overview(self, count: int = 5) -> list[ScheduleOverview]:
        """Every schedule (disabled ones too), with its next ``count`` fire times and its
        latest handled fires as the store keeps them, newest first."""
        now = self._now()
        shown = []
        for schedule in self.schedules:
            key = _key(schedule)
            record = self._records.get(key)
            fires: tuple[int, ...] = ()
            if schedule.enabled and record is not None:
                fires = upcoming(schedule, max(record.handled, now), record.created, count)
            arn = schedule.arn(self._region, self._account)
            shown.append(ScheduleOverview(schedule, arn, fires, self._store.fires(key)))
        return shown

    def _now(self) -> int:
        return math.floor(self._clock.now() + _TOLERANCE)

    async def _run(self, schedule: Schedule, record: ScheduleRecord) -> None:
        while True:
            fire = schedule.next_after(record.handled, record.created)
            if fire is None:
                _log.info("schedule %s: no time left to fire", schedule.name)
                return
            now = self._now()
            if fire > now:
                await self._sleep_until(fire)
                continue
            latest = self._latest_due(schedule, record, now)
            fired = None
            if latest is None:
                _log.warning(
                    "schedule %s: runs missed before %s are older than %d seconds, not started",
                    schedule.name, _stamp(now), schedule.max_event_age,
                )  # fmt: skip
            else:
                taken = await self._take(schedule, record, latest)
                if taken is None:
                    return
                if taken is not record:  # another scheduler handled the time
                    record = self._records[record.key] = taken
                    continue
                if latest < now:
                    _log.info(
                        "schedule %s: starting the run missed at %s", schedule.name, _stamp(latest)
                    )
                fired = await self._fire(schedule, latest)
            record = replace(record, handled=now if latest is None else latest)
            self._store.handled(record, self._claimer, fired)
            self._records[record.key] = record

    async def _sleep_until(self, moment: float) -> None:
        await self._clock.sleep(min(max(moment - self._clock.now(), _TOLERANCE), _STEP_SECONDS))

    async def _take(
        self, schedule: Schedule, record: ScheduleRecord, fire: int
    ) -> ScheduleRecord | None:
        """Claim ``fire`` for this scheduler, waiting while another holds a live claim on
        it: ``record`` when the time is ours to fire; the schedule as another scheduler
        left it, when that one handled the time; None when another server changed the
        schedule (a schedules file of its own), which this one then stops firing."""
        while True:
            claim = self._store.claim(record, fire, self._claimer, self._clock.now(), _LEASE)
            if claim.busy_until is None:
                break
            await self._sleep_until(claim.busy_until)
        if claim.won:
            return record
        if claim.record is None or claim.record.signature != record.signature:
            _log.error(
                "schedule %s was changed by another server sharing the database: this one "
                "stops firing it", schedule.name,
            )  # fmt: skip
            return None
        return claim.record

    def _open(self, schedule: Schedule) -> ScheduleRecord:
        """The schedule's record: as stored, or afresh when it is new or has changed (a
        fire due at this second is then not a missed one)."""
        now = self._now()
        fresh = ScheduleRecord(_key(schedule), schedule.signature(), created=now, handled=now - 1)
        record = self._store.open(fresh)
        self._records[record.key] = record
        return record

    def _latest_due(self, schedule: Schedule, record: ScheduleRecord, now: int) -> int | None:
        """The latest fire due by ``now`` and young enough to start, or None."""
        moment = max(record.handled, now - schedule.max_event_age - 1)
        latest = None
        while (fire := schedule.next_after(moment, record.created)) is not None:
            if fire > now:
                break
            latest = moment = fire
        return latest

    async def _fire(self, schedule: Schedule, scheduled: int) -> Fired:
        """Start the execution of ``scheduled``: what came of it."""
        arn = schedule.arn(self._region, self._account)
        name = execution_name(arn, scheduled)
        target = schedule.target
        try:
            value = target.input(arn, scheduled, name.replace("-", "")[:16])
            return Fired(scheduled, await self._start(target.machine_arn, value, name))
        except ExecutionAlreadyExists:
            _log.info(
                "schedule %s: the run of %s was started already", schedule.name, _stamp(scheduled)
            )
            return Fired(scheduled, None, "started already (before a restart)")
        except ApiError as exc:
            # The API's answer (no such machine yet, an input too large): the user's to
            # fix, said without a traceback.
            _log.error(
                "schedule %s: could not start %s for %s: %s",
                schedule.name, target.machine_arn, _stamp(scheduled), exc,
            )  # fmt: skip
            return Fired(scheduled, None, str(exc))
        except Exception as exc:
            _log.exception(
                "schedule %s: could not start %s for %s",
                schedule.name, target.machine_arn, _stamp(scheduled),
            )  # fmt: skip
            return Fired(scheduled, None, f"{type(exc).__name__}: {exc}")


def _ended(schedule: Schedule) -> Callable[[BaseException | None], None]:
    """Told how a schedule's strand ended: a failure (its store gone bad) is logged."""

    def ended(error: BaseException | None) -> None:
        if error is not None and not isinstance(error, asyncio.CancelledError):
            _log.error("schedule %s stopped firing", schedule.name, exc_info=error)

    return ended


def _key(schedule: Schedule) -> str:
    return f"{schedule.group}/{schedule.name}"


def _stamp(moment: int) -> str:
    return instant_text(datetime.fromtimestamp(moment, UTC))
