"""Schedule expressions where AWS documents nothing and we chose (the documented behaviour
is in tests/spec/schedules): Quartz's readings of ranges and names, and what is refused."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from runtime.api_limits import ValidationException
from runtime.service.schedule_expressions import CronExpression, parse_expression

UTC_ZONE = ZoneInfo("UTC")


def fires(text: str, after: str, count: int) -> list[str]:
    expression = parse_expression(text)
    assert isinstance(expression, CronExpression)
    moment = int(datetime.fromisoformat(after).timestamp())
    found = []
    for _ in range(count):
        fire = expression.next_after(moment, UTC_ZONE)
        assert fire is not None
        found.append(datetime.fromtimestamp(fire, UTC).strftime("%a %d %H:%M"))
        moment = fire
    return found


def test_a_range_whose_end_comes_first_wraps_around() -> None:
    assert fires("cron(0 22-1 * * ? *)", "2025-01-01T12:00:00Z", 4) == [
        "Wed 01 22:00",
        "Wed 01 23:00",
        "Thu 02 00:00",
        "Thu 02 01:00",
    ]
    assert fires("cron(0 12 ? * FRI-MON *)", "2025-01-01T00:00:00Z", 4) == [
        "Fri 03 12:00",
        "Sat 04 12:00",
        "Sun 05 12:00",
        "Mon 06 12:00",
    ]


def test_names_are_read_in_any_case() -> None:
    assert fires("cron(0 12 ? jan mon-tue *)", "2025-01-01T00:00:00Z", 2) == [
        "Mon 06 12:00",
        "Tue 07 12:00",
    ]


def test_a_range_with_a_step() -> None:
    assert fires("cron(10-30/10 8 * * ? *)", "2025-01-01T00:00:00Z", 4) == [
        "Wed 01 08:10",
        "Wed 01 08:20",
        "Wed 01 08:30",
        "Thu 02 08:10",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "cron(0 0 ? * ? *)",  # '?' in both day fields
        "cron(0 0 ? * 2#6 *)",  # there is no sixth Monday
        "cron(0 0 L-3 * ? *)",  # Quartz's offset from the last day: not AWS's syntax
        "cron(0 0 W * ? *)",
        "cron(0/0 * * * ? *)",
        "cron(0 0 1 * ? 2027-2026)",  # years do not wrap
        "rate(1 Minute)",
        "rate(10  minutes)",
        "at(2025-1-01T10:00:00)",
    ],
)
def test_refused(text: str) -> None:
    with pytest.raises(ValidationException) as info:
        parse_expression(text)
    assert info.value.message == f"Invalid Schedule Expression {text}."
