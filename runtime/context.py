"""The context object: ``$$`` in JSONPath, ``$states.context`` in JSONata."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=256)  # many executions start and enter states at one virtual instant
def context_timestamp(epoch_seconds: float) -> str:
    """A context-object timestamp as AWS writes it: ``2024-01-01T12:00:00.123Z``."""
    moment = datetime.fromtimestamp(epoch_seconds, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def execution_context(
    *,
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
