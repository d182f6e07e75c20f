"""How long a Wait state waits, with AWS's errors for values it cannot use."""

from __future__ import annotations

from typing import Any

from asl.errors import QUERY_EVALUATION_ERROR, RUNTIME, StatesError
from asl.jsontext import json_text
from asl.timestamps import parse_timestamp

#: The longest wait AWS accepts: a Standard execution's whole life, one year.
MAX_WAIT_SECONDS = 31_536_000


def seconds_from_path(path: str, value: Any) -> int:
    """SecondsPath's value as whole seconds, or the ``States.Runtime`` AWS raises."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise StatesError(
            RUNTIME,
            f"The SecondsPath parameter cannot be parsed as a long value: {path} == "
            f"{json_text(value)}",
        )
    if isinstance(value, float) and not value.is_integer():
        raise StatesError(
            RUNTIME,
            f"The SecondsPath parameter cannot be parsed as a long value: {path} == {value}",
        )
    if value < 0:
        raise StatesError(
            RUNTIME, f"The SecondsPath parameter references a negative value: {path} == {value}"
        )
    return check_delay(int(value))


def delay_until(path: str | None, value: Any, now: float) -> float:
    """Seconds from ``now`` to a Timestamp(Path) value (0 when it has passed)."""
    where = f"{path} == {value}" if path else str(value)
    unparsable = StatesError(
        RUNTIME,
        "The TimestampPath parameter does not reference a valid ISO-8601 extended offset "
        f"date-time format string: {where}",
    )
    return _until(value, now, unparsable)


def delay_until_computed(value: str, now: float) -> float:
    """Seconds from ``now`` to the text a JSONata Timestamp expression gave (0 when it has
    passed), or the ``States.QueryEvaluationError`` AWS raises for text it cannot parse."""
    unparsable = StatesError(
        QUERY_EVALUATION_ERROR,
        "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time "
        f"format string: {value}",
    )
    return _until(value, now, unparsable)


def _until(value: Any, now: float, unparsable: StatesError) -> Any:
    moment = parse_timestamp(value) if isinstance(value, str) else None
    if moment is None:
        raise unparsable
    return check_delay(max(0.0, moment.timestamp() - now))


def check_delay(seconds: float) -> Any:
    """The delay, unless it is longer than AWS allows."""
    if seconds > MAX_WAIT_SECONDS:
        raise StatesError(RUNTIME, "Wait state delay is too long.")
    return seconds
