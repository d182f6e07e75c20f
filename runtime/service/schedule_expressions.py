"""EventBridge Scheduler's schedule expressions and the times they fire.

Three kinds, as AWS documents them (EventBridge Scheduler User Guide, "Schedule types"):

- ``rate(value unit)``: every ``value`` minutes, hours or days (``minute``, ``hour``,
  ``day`` when the value is 1), from the schedule's StartDate, or from when it was
  created when it has none. A day is 24 hours, whatever daylight saving time does.
- ``cron(minutes hours day-of-month month day-of-week year)`` (see ``schedule_cron``),
  read in the schedule's time zone. A time the clocks skip in spring is skipped; a time
  they pass twice in autumn fires once, at its first pass.
- ``at(yyyy-mm-ddThh:mm:ss)``: once, at that time in the schedule's time zone.

Fire times are whole seconds since the Unix epoch. A text AWS would refuse raises
:class:`~runtime.api_limits.ValidationException` with AWS's message,
``Invalid Schedule Expression <text>.`` (recorded against AWS: localstack
tests/aws/services/scheduler/test_scheduler.snapshot.json,
``tests_create_schedule_with_invalid_schedule_expression``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from runtime.api_limits import ValidationException
from runtime.service.schedule_cron import Cron, CronSyntaxError, parse_cron

__all__ = ["At", "CronExpression", "Expression", "Rate", "parse_expression", "time_zone"]

_RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", re.ASCII)
_AT = re.compile(r"at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)", re.ASCII)
_CRON = re.compile(r"cron\((\S+(?:\s+\S+)*)\)")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True, slots=True)
class Rate:
    """``rate(value unit)``: every ``seconds``, from an anchor (StartDate or creation)."""

    seconds: int

    def next_after(self, moment: int, anchor: int) -> int:
        """The first fire strictly after ``moment``."""
        if moment < anchor:
            return anchor
        return anchor + ((moment - anchor) // self.seconds + 1) * self.seconds


@dataclass(frozen=True, slots=True)
class At:
    """``at(...)``: one wall-clock time."""

    local: datetime

    def instant(self, zone: ZoneInfo) -> int | None:
        """When it fires, or None for a time the zone's clocks skip."""
        return instant(self.local, zone)


@dataclass(frozen=True, slots=True)
class CronExpression:
    """``cron(...)``: wall-clock minutes in the schedule's time zone."""

    cron: Cron

    def next_after(self, moment: int, zone: ZoneInfo) -> int | None:
        """The first fire strictly after ``moment``; None when the expression names no
        later time."""
        local = datetime.fromtimestamp(moment, zone).replace(tzinfo=None)
        for candidate in self.cron.times_after(local):
            fire = instant(candidate, zone)
            # Skipped in spring (None); the autumn repeat maps to its first pass, which
            # may lie before ``moment``.
            if fire is not None and fire > moment:
                return fire
        return None


Expression = Rate | At | CronExpression


def parse_expression(text: str) -> Expression:
    """A schedule expression; raises ``ValidationException`` in AWS's words."""
    try:
        if match := _RATE.fullmatch(text):
            return _rate(int(match[1]), match[2])
        if match := _AT.fullmatch(text):
            year, month, day, hour, minute, second = (int(part) for part in match.groups())
            return At(datetime(year, month, day, hour, minute, second))
        if match := _CRON.fullmatch(text):
            return CronExpression(parse_cron(match[1]))
    except (ValueError, CronSyntaxError):
        pass
    raise ValidationException(f"Invalid Schedule Expression {text}.")


def _rate(value: int, unit: str) -> Rate:
    # AWS: a value of 1 takes the singular unit, any other the plural (EventBridge User
    # Guide, "Rate expressions": rate(1 hours) and rate(5 hour) are not valid).
    singular = unit.rstrip("s")
    if value < 1 or (value == 1) != (unit == singular):
        raise ValueError(unit)
    return Rate(value * _UNIT_SECONDS[singular])


def time_zone(name: str) -> ZoneInfo:
    """The IANA time zone of that name; raises ``ValidationException`` (our wording: AWS's
    is not recorded) for a name the time zone database does not know."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationException(f"Invalid ScheduleExpressionTimezone {name}.") from None


def instant(local: datetime, zone: ZoneInfo) -> int | None:
    """Epoch seconds of a naive wall-clock time in ``zone``: the first of two when the
    clocks pass it twice, None when they skip it."""
    aware = local.replace(tzinfo=zone, fold=0)
    if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != local:
        return None
    return int(aware.timestamp())
