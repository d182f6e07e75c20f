"""asl.timestamps: what the spec cases do not reach."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from asl.timestamps import epoch_nanos, is_timestamp, parse_timestamp


def test_parse_keeps_the_offset() -> None:
    parsed = parse_timestamp("2012-10-09T19:00:55+01:30")
    assert parsed == datetime(2012, 10, 9, 19, 0, 55, tzinfo=timezone(timedelta(minutes=90)))
    assert parsed is not None and parsed.utcoffset() == timedelta(minutes=90)


def test_parse_z_is_utc() -> None:
    assert parse_timestamp("2012-10-09T19:00:55Z") == datetime(2012, 10, 9, 19, 0, 55, tzinfo=UTC)


def test_parse_truncates_below_microseconds() -> None:
    parsed = parse_timestamp("2012-10-09T19:00:55.123456789Z")
    assert parsed is not None and parsed.microsecond == 123456


def test_parse_short_fraction() -> None:
    parsed = parse_timestamp("2012-10-09T19:00:55.5Z")
    assert parsed is not None and parsed.microsecond == 500000


def test_epoch_nanos_of_the_epoch() -> None:
    assert epoch_nanos("1970-01-01T00:00:00Z") == 0
    assert epoch_nanos("1970-01-01T01:00:00+01:00") == 0
    assert epoch_nanos("1969-12-31T23:59:59.999999999Z") == -1


def test_epoch_nanos_keeps_nanoseconds() -> None:
    assert epoch_nanos("1970-01-01T00:00:01.000000001Z") == 1_000_000_001


def test_leap_day() -> None:
    assert is_timestamp("2024-02-29T00:00:00Z")
    assert not is_timestamp("2023-02-29T00:00:00Z")


def test_not_timestamps() -> None:
    for text in (
        "2012-10-09T19:00:55",  # no zone
        "2012-10-09T19:00Z",  # no seconds
        "2012-10-09T19:00:55.Z",  # empty fraction
        "2012-10-09T19:00:55.1234567890Z",  # more than nanoseconds
        "2012-10-09T19:00:60Z",
        "2012-13-09T19:00:55Z",
        "2012-10-09T19:00:55+0100",
        "2012-10-09T19:00:55+01",
        "2012-10-09T19:00:55+24:00",
        "0000-01-01T00:00:00Z",
        "２０１２-10-09T19:00:55Z",  # full-width digits
        " 2012-10-09T19:00:55Z",
        "2012-10-09T19:00:55Z ",
        "",
    ):
        assert not is_timestamp(text), text
        assert parse_timestamp(text) is None
        assert epoch_nanos(text) is None


def test_non_strings_are_not_timestamps() -> None:
    values: tuple[object, ...] = (None, 0, 1.5, True, [], {})
    for value in values:
        assert not is_timestamp(value)
        assert parse_timestamp(value) is None  # type: ignore[arg-type]
        assert epoch_nanos(value) is None  # type: ignore[arg-type]


def test_extreme_offsets_at_the_ends_of_the_calendar() -> None:
    assert epoch_nanos("0001-01-01T00:00:00+23:59") is not None
    assert epoch_nanos("9999-12-31T23:59:59-23:59") is not None


@given(st.text())
def test_any_text_parses_or_is_none(text: str) -> None:
    parsed = parse_timestamp(text)
    assert (parsed is not None) == is_timestamp(text) == (epoch_nanos(text) is not None)


@given(
    st.datetimes(
        min_value=datetime(1, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=-7, minutes=-30))]),
    )
)
def test_round_trip_of_isoformat(moment: datetime) -> None:
    text = moment.isoformat().replace("+00:00", "Z")
    assert parse_timestamp(text) == moment
    nanos = epoch_nanos(text)
    assert nanos is not None
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    assert nanos == (moment - epoch) // timedelta(microseconds=1) * 1000
