"""Timestamps as AWS Step Functions reads them (Choice ``Timestamp*`` rules, Wait).

A timestamp is an ISO-8601 extended offset date-time in the RFC 3339 profile the
States Language prescribes: ``YYYY-MM-DDTHH:MM:SS``, optional fractional seconds, then
an uppercase ``Z`` or a numeric offset ``+HH:MM`` / ``-HH:MM``. The ``T`` and ``Z`` must
be uppercase; a text without a zone is not a timestamp (AWS rejects it in Wait, and
``IsTimestamp`` is false for it). Dates must exist (no February 30th).

AWS runs on Java, whose offset date-time keeps up to nine fractional digits
(nanoseconds); :func:`epoch_nanos` keeps them all so that comparisons are exact, while
:func:`parse_timestamp` returns a :class:`~datetime.datetime` (microseconds, truncated).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

__all__ = ["epoch_nanos", "is_timestamp", "parse_timestamp"]

# re.ASCII: \d must not match other scripts' digits.
_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:Z|([+-])(\d{2}):(\d{2}))",
    re.ASCII,
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)
_NANOS_PER_SECOND = 1_000_000_000


def _parse(text: str) -> tuple[datetime, int] | None:
    """The aware date-time (whole seconds) and the nanoseconds of its second, or None."""
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    fraction, sign, offset_hours, offset_minutes = match.groups()[6:]
    if hour > 23 or minute > 59 or second > 59:
        return None
    zone = UTC
    if sign is not None:
        if int(offset_hours) > 23 or int(offset_minutes) > 59:
            return None
        offset = timedelta(hours=int(offset_hours), minutes=int(offset_minutes))
        zone = timezone(-offset if sign == "-" else offset)
    try:
        moment = datetime(year, month, day, hour, minute, second, tzinfo=zone)
    except ValueError:  # a day that does not exist, or year 0
        return None
    nanos = int(fraction.ljust(9, "0")) if fraction is not None else 0
    return moment, nanos


def parse_timestamp(text: str) -> datetime | None:
    """The timestamp as an aware datetime (sub-microsecond digits truncated), else None."""
    if not isinstance(text, str):
        return None
    parsed = _parse(text)
    if parsed is None:
        return None
    moment, nanos = parsed
    return moment.replace(microsecond=nanos // 1000)


def epoch_nanos(text: str) -> int | None:
    """Nanoseconds since 1970-01-01T00:00:00Z of the instant the text names, else None.

    Offsets are normalised, so ``12:00:00+01:00`` and ``11:00:00Z`` give the same number.
    """
    if not isinstance(text, str):
        return None
    parsed = _parse(text)
    if parsed is None:
        return None
    moment, nanos = parsed
    return (moment - _EPOCH) // _SECOND * _NANOS_PER_SECOND + nanos


def is_timestamp(value: Any) -> bool:
    """Whether the value is a string AWS accepts as a timestamp."""
    return isinstance(value, str) and _parse(value) is not None
