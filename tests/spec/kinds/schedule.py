"""Spec kind ``schedule``: one schedules-file entry, and the times it fires.

Case fields: ``expression`` (the entry's ScheduleExpression), optional ``timezone``,
``startDate``, ``endDate`` (the entry's ScheduleExpressionTimezone, StartDate, EndDate)
and ``created`` (when the schedule was created: a rate without StartDate counts from
there; default ``after``); ``after``, the moment the fires are looked for after. Expected
outcome, one of:

- ``fires``: the next fire times, in order (timestamps with their zone, compared as
  instants), and with ``thenNoMore: true`` none after the last of them;
- ``error`` (the exception's AWS name, ``ValidationException``) with ``message`` (exact).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from runtime.api_limits import ValidationException
from runtime.service.schedule_entries import schedule_from_entry


def run(case: dict[str, Any]) -> None:
    """Build the case's schedule and assert its fire times or its error."""
    entry: dict[str, Any] = {
        "Name": "spec",
        "ScheduleExpression": case["expression"],
        "Target": {"Arn": "spec"},
    }
    for field, key in (
        ("timezone", "ScheduleExpressionTimezone"),
        ("startDate", "StartDate"),
        ("endDate", "EndDate"),
    ):
        if field in case:
            entry[key] = case[field]
    if "error" in case:
        assert case["error"] == "ValidationException"
        with pytest.raises(ValidationException) as info:
            schedule_from_entry(entry, region="us-east-1", account="123456789012")
        assert info.value.message == case["message"]
        return
    schedule = schedule_from_entry(entry, region="us-east-1", account="123456789012")
    moment = _instant(case["after"])
    created = _instant(case.get("created", case["after"]))
    expected = [_instant(text) for text in case["fires"]]
    found: list[int | None] = []
    for _ in expected:
        fire = schedule.next_after(moment, created)
        found.append(fire)
        if fire is None:
            break
        moment = fire
    assert found == expected, [None if f is None else _text(f) for f in found]
    if case.get("thenNoMore"):
        assert schedule.next_after(moment, created) is None


def _instant(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


def _text(moment: int) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat()
