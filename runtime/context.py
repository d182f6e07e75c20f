"""The context object: ``$$`` in JSONPath, ``$states.context`` in JSONata."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any


def context_timestamp(epoch_seconds: float) -> str:
    """A context-object timestamp as AWS writes it: ``2024-01-01T12:00:00.123Z``."""
    # As datetime.fromtimestamp rounds (to the microsecond, half to even), then the
    # second's text from a small cache: most timestamps of a moment share their second.
    fraction, whole = math.modf(epoch_seconds)
    micros = round(fraction * 1_000_000)
    if micros >= 1_000_000:
        whole, micros = whole + 1, micros - 1_000_000
    return f"{_second_text(int(whole))}.{micros // 1000:03d}Z"


@lru_cache(maxsize=64)
def _second_text(second: int) -> str:
    return datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def execution_context(
    execution_arn: str,
    name: str,
    input_value: Any,
    role_arn: str,
    start_time: float,
    redrive_count: int = 0,
) -> dict[str, Any]:
    """The ``Execution`` member, fixed for the whole execution."""
    return {
        "Id": execution_arn,
        "Input": input_value,
        "StartTime": context_timestamp(start_time),
        "Name": name,
        "RoleArn": role_arn,
        "RedriveCount": redrive_count,
    }


def state_machine_context(arn: str, name: str) -> dict[str, Any]:
    """The ``StateMachine`` member."""
    return {"Id": arn, "Name": name}


def state_context(
    execution: dict[str, Any],
    state_machine: dict[str, Any],
    *,
    name: str,
    entered_time: float,
    retry_count: int | None,
    task_token: str | None = None,
    map_item: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The whole context object for one state entry, its members in AWS's order;
    ``State.RetryCount`` only when ``retry_count`` is given."""
    state: dict[str, Any] = {"Name": name, "EnteredTime": context_timestamp(entered_time)}
    if retry_count is not None:
        state["RetryCount"] = retry_count
    context: dict[str, Any] = {
        "Execution": execution,
        "StateMachine": state_machine,
        "State": state,
    }
    if task_token is not None:
        context["Task"] = {"Token": task_token}
    if map_item is not None:
        context["Map"] = {"Item": map_item}
    return context
