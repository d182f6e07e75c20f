"""EventBridge Scheduler's cron expressions: ``cron(minutes hours day-of-month month
day-of-week year)``, parsed once into sets of values and day rules, then asked for the
next wall-clock minute they name.

The syntax is AWS's (EventBridge "Cron expressions reference"): minutes 0-59, hours 0-23,
day-of-month 1-31 with ``L`` (last day) and ``W`` (nearest weekday), month 1-12 or
JAN-DEC, day-of-week 1-7 or SUN-SAT (SUN is 1) with ``L`` (last) and ``#`` (the n-th
weekday of the month, alone in its field), year 1970-2199; ``,`` lists, ``-`` ranges,
``*`` all, ``/`` steps (not in day-of-week); exactly one of day-of-month and day-of-week
is ``?``. Where AWS documents nothing we follow Quartz, whose syntax AWS's is: ``nL`` in
day-of-week is the month's last such weekday, ``LW`` its last weekday, a range whose end
comes before its start wraps around (``22-2`` hours, ``FRI-MON``), and names are read
in any case.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time

__all__ = ["Cron", "parse_cron"]

YEARS = (1970, 2199)
_MONTHS = {name.upper(): number for number, name in enumerate(calendar.month_abbr) if name}
_WEEKDAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
_NUMBER = re.compile(r"\d{1,4}", re.ASCII)


class CronSyntaxError(ValueError):
    """The text is not a cron expression AWS accepts."""


@dataclass(frozen=True, slots=True)
class DayRule:
    """Which days of a month a day-of-month or day-of-week field takes."""

    #: Days of the month (day-of-month) or AWS weekday numbers, SUN=1 (day-of-week).
    values: frozenset[int] = frozenset()
    last_day: bool = False  # L in day-of-month
    last_weekday: bool = False  # LW
    nearest_weekday: frozenset[int] = frozenset()  # nW
    last_of_weekday: frozenset[int] = frozenset()  # nL in day-of-week
    nth_weekday: tuple[int, int] | None = None  # n#k in day-of-week
    of_week: bool = False  # the field is day-of-week

    def takes(self, day: date) -> bool:
        """Whether the rule takes this day."""
        length = calendar.monthrange(day.year, day.month)[1]
        if not self.of_week:
            return (
                day.day in self.values
                or (self.last_day and day.day == length)
                or (self.last_weekday and day.day == _weekday_near(day, length, length))
                or any(day.day == _weekday_near(day, n, length) for n in self.nearest_weekday)
            )
        weekday = aws_weekday(day)
        return (
            weekday in self.values
            or (weekday in self.last_of_weekday and day.day + 7 > length)
            or (self.nth_weekday == (weekday, (day.day - 1) // 7 + 1))
        )


def aws_weekday(day: date) -> int:
    """AWS's number of the day's weekday: SUN=1 ... SAT=7."""
    return (day.weekday() + 1) % 7 + 1


def _weekday_near(day: date, target: int, length: int) -> int | None:
    """The weekday nearest to day ``target`` of ``day``'s month, never leaving the month
    (Quartz's ``W``); None when the month has no such day."""
    if target > length:
        return None
    weekday = date(day.year, day.month, target).weekday()  # Monday is 0
    if weekday == 5:  # Saturday: Friday before, or Monday after the 1st
        return target - 1 if target > 1 else target + 2
    if weekday == 6:  # Sunday: Monday after, or Friday before the month's last day
        return target + 1 if target < length else target - 2
    return target


@dataclass(frozen=True, slots=True)
class Cron:
    """A parsed cron expression: the wall-clock minutes it names."""

    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    months: frozenset[int]
    years: tuple[int, ...]
    days: DayRule

    def times_after(self, moment: datetime) -> Iterator[datetime]:
        """The naive wall-clock times the expression names, strictly after ``moment``
        (naive), in order; ends after the last year it names."""
        start_day = moment.date()
        for year in self.years:
            if year < start_day.year:
                continue
            for month in sorted(self.months):
                if (year, month) < (start_day.year, start_day.month):
                    continue
                first = start_day.day if (year, month) == (start_day.year, start_day.month) else 1
                for number in range(first, calendar.monthrange(year, month)[1] + 1):
                    day = date(year, month, number)
                    if self.days.takes(day):
                        yield from self._times_of(day, moment)

    def _times_of(self, day: date, moment: datetime) -> Iterator[datetime]:
        for hour in self.hours:
            for minute in self.minutes:
                candidate = datetime.combine(day, time(hour, minute))
                if candidate > moment:
                    yield candidate


def parse_cron(fields_text: str) -> Cron:
    """The six fields inside ``cron(...)``; raises :class:`CronSyntaxError`."""
    fields = fields_text.split()
    if len(fields) != 6:
        raise CronSyntaxError(f"{len(fields)} fields, not 6")
    minutes, hours, day_of_month, months, day_of_week, years = fields
    if (day_of_month == "?") == (day_of_week == "?"):
        raise CronSyntaxError("exactly one of day-of-month and day-of-week must be '?'")
    days = (
        _day_of_week(day_of_week.upper())
        if day_of_month == "?"
        else _day_of_month(day_of_month.upper())
    )
    return Cron(
        minutes=tuple(sorted(_values(minutes, 0, 59))),
        hours=tuple(sorted(_values(hours, 0, 23))),
        months=frozenset(_values(months.upper(), 1, 12, _MONTHS)),
        years=tuple(sorted(_values(years, *YEARS, wraps=False))),
        days=days,
    )


def _values(
    field: str,
    low: int,
    high: int,
    names: dict[str, int] | None = None,
    *,
    steps: bool = True,
    wraps: bool = True,
) -> set[int]:
    """The values of a plain field: ``*``, numbers, names, ranges, steps and lists."""
    values: set[int] = set()
    for item in field.split(","):
        base, slash, step_text = item.partition("/")
        if slash and not steps:
            raise CronSyntaxError(f"no '/' in {field!r}")
        step = _number(step_text, 1, high - low + 1) if slash else 1
        if base == "*":
            first, last = low, high
        else:
            start_text, dash, end_text = base.partition("-")
            first = _value(start_text, low, high, names)
            last = _value(end_text, low, high, names) if dash else (high if slash else first)
        if last < first and not wraps:
            raise CronSyntaxError(f"the range {base!r} runs backwards")
        span = (last - first) % (high - low + 1)
        values.update(
            low + (first - low + offset) % (high - low + 1) for offset in range(0, span + 1, step)
        )
    return values


def _value(text: str, low: int, high: int, names: dict[str, int] | None) -> int:
    if names is not None and text in names:
        return names[text]
    return _number(text, low, high)


def _number(text: str, low: int, high: int) -> int:
    if not _NUMBER.fullmatch(text) or not low <= int(text) <= high:
        raise CronSyntaxError(f"{text!r} is not a number from {low} to {high}")
    return int(text)


def _day_of_month(field: str) -> DayRule:
    values: set[int] = set()
    nearest: set[int] = set()
    last_day = last_weekday = False
    for item in field.split(","):
        if item == "L":
            last_day = True
        elif item == "LW":
            last_weekday = True
        elif item.endswith("W"):
            nearest.add(_number(item[:-1], 1, 31))
        else:
            values |= _values(item, 1, 31)
    return DayRule(
        values=frozenset(values),
        last_day=last_day,
        last_weekday=last_weekday,
        nearest_weekday=frozenset(nearest),
    )


def _day_of_week(field: str) -> DayRule:
    if "#" in field:
        weekday_text, _, nth_text = field.partition("#")
        weekday = _value(weekday_text, 1, 7, _WEEKDAYS)
        return DayRule(nth_weekday=(weekday, _number(nth_text, 1, 5)), of_week=True)
    values: set[int] = set()
    last_of: set[int] = set()
    for item in field.split(","):
        if item == "L":  # the last day of the week
            values.add(7)
        elif item.endswith("L"):
            last_of.add(_value(item[:-1], 1, 7, _WEEKDAYS))
        else:
            values |= _values(item, 1, 7, _WEEKDAYS, steps=False)
    return DayRule(values=frozenset(values), last_of_weekday=frozenset(last_of), of_week=True)
