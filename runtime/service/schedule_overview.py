"""What a running scheduler tells about its schedules, read-only: each schedule with its
next fire times and the fires it handled lately (the console's Schedules page reads it).

The fires are read from the schedule store, the latest few per schedule
(:data:`runtime.store.schedules.KEPT_FIRES`): a restarted server lists those of its
earlier lives too, and servers sharing a database list each other's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from runtime.service.schedule_entries import Schedule
from runtime.store.schedules import Fired

__all__ = ["Fired", "ScheduleOverview", "ScheduleReader", "upcoming"]


@dataclass(frozen=True, slots=True)
class ScheduleOverview:
    """One schedule as it stands: its entry, its ARN, its next fire times (none when it is
    disabled or fires no more) and its handled fires, newest first."""

    schedule: Schedule
    arn: str
    upcoming: tuple[int, ...]
    fired: tuple[Fired, ...]


class ScheduleReader(Protocol):
    """What a reader may ask of a scheduler."""

    def overview(self, count: int = 5) -> Sequence[ScheduleOverview]:
        """Every schedule, each with its next ``count`` fire times."""
        ...


def upcoming(schedule: Schedule, after: int, created: int, count: int) -> tuple[int, ...]:
    """The schedule's next ``count`` fires after ``after`` (fewer when it ends)."""
    fires: list[int] = []
    moment = after
    while len(fires) < count and (fire := schedule.next_after(moment, created)) is not None:
        fires.append(fire)
        moment = fire
    return tuple(fires)
