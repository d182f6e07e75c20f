"""What a running scheduler tells about its schedules, read-only: each schedule with its
next fire times and the fires it handled lately (the console's Schedules page reads it).

The fires are kept in memory, the latest few per schedule: a restarted server lists the
fires of its own life only (the store keeps where each schedule stands, not a log).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from runtime.service.schedule_entries import Schedule

__all__ = ["Fired", "ScheduleOverview", "ScheduleReader", "upcoming"]

#: How many handled fires each schedule keeps.
KEPT_FIRES = 10


@dataclass(frozen=True, slots=True)
class Fired:
    """One fire a schedule handled: the time it was for and the execution it started, or
    why none was started."""

    scheduled: int
    execution_arn: str | None
    problem: str | None = None


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
