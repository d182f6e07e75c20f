"""Schedule expressions where AWS documents nothing and we chose (the documented behaviour
is in tests/spec/schedules): Quartz's readings of ranges and names, and what is refused."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


_PARTS = ("*", "?", "L", "W", "LW", "#", "/", "-", ",", "0", "1", "5", "7", "15", "31", "59")
_NAMES = ("MON", "fri", "JAN", "dec", "2025", "1970", "2199", "3L", "15W", "6#3", "x")
_FIELD = st.lists(st.sampled_from(_PARTS + _NAMES), min_size=1, max_size=4).map("".join)
_FIELDS = st.lists(_FIELD, min_size=0, max_size=7)


@settings(max_examples=400)
@given(fields=_FIELDS, kind=st.sampled_from(["cron", "rate", "at"]), noise=st.text(max_size=12))
def test_any_text_is_an_expression_or_a_validation_exception(
    fields: list[str], kind: str, noise: str
) -> None:
    for text in (f"{kind}({' '.join(fields)})", f"{kind}({noise})"):
        try:
            parse_expression(text)
        except ValidationException as exc:
            assert exc.message == f"Invalid Schedule Expression {text}."


@settings(max_examples=150)
@given(
    minutes=st.sampled_from(["*", "0", "0/15", "5-10", "59", "1,31"]),
    hours=st.sampled_from(["*", "0", "22-2", "8-17", "3/5"]),
    days=st.sampled_from(
        [
            ("*", "?"),
            ("L", "?"),
            ("15W", "?"),
            ("LW", "?"),
            ("1,15", "?"),
            ("?", "MON-FRI"),
            ("?", "6L"),
            ("?", "2#1"),
            ("?", "L"),
            ("?", "SUN,SAT"),
        ]
    ),
    months=st.sampled_from(["*", "FEB", "JAN,JUL", "11-2"]),
    start=st.integers(1_700_000_000, 1_800_000_000),
)
def test_the_next_minute_is_the_first_the_fields_take(
    minutes: str, hours: str, days: tuple[str, str], months: str, start: int
) -> None:
    """Walking minute by minute finds the same next fire as the search (in UTC)."""
    expression = parse_expression(f"cron({minutes} {hours} {days[0]} {months} {days[1]} *)")
    assert isinstance(expression, CronExpression)
    cron = expression.cron
    fire = expression.next_after(start, UTC_ZONE)
    assert fire is not None and fire > start and fire % 60 == 0
    moment = datetime.fromtimestamp(fire, UTC)
    assert moment.minute in cron.minutes and moment.hour in cron.hours
    assert moment.month in cron.months and cron.days.takes(moment.date())
    # No minute in between is taken (walked over at most a few days, for speed).
    walk = (start // 60 + 1) * 60
    while walk < min(fire, start + 3 * 86400):
        earlier = datetime.fromtimestamp(walk, UTC)
        assert not (
            earlier.minute in cron.minutes
            and earlier.hour in cron.hours
            and earlier.month in cron.months
            and cron.days.takes(earlier.date())
        ), earlier
        walk += 60
