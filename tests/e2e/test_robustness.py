"""Nothing a workflow's author passes in can crash the engine or leave an execution stuck:
huge payloads, handlers that raise, exit, hang or return non-JSON."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from runtime.testing import run

FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:author"


def _call(definition_extra: dict[str, Any] | None = None) -> dict[str, Any]:
    task: dict[str, Any] = {"Type": "Task", "Resource": FUNCTION, "End": True}
    task.update(definition_extra or {})
    return {"StartAt": "Call", "States": {"Call": task}}


def _exits(event: Any, context: Any) -> Any:
    raise SystemExit(3)


def _interrupts(event: Any, context: Any) -> Any:
    raise KeyboardInterrupt


def _non_json(event: Any, context: Any) -> Any:
    return {"when": object()}


def _nan(event: Any, context: Any) -> Any:
    return float("nan")


def _hangs(event: Any, context: Any) -> Any:
    import time

    time.sleep(30)


async def _hangs_async(event: Any, context: Any) -> Any:
    await asyncio.sleep(30)


def _huge(event: Any, context: Any) -> Any:
    return "x" * 300_000


@pytest.mark.parametrize(
    ("handler", "error"),
    [
        (_exits, "Runtime.ExitError"),
        (_interrupts, "Runtime.ExitError"),
        (_non_json, "Runtime.MarshalError"),
        (_nan, "Runtime.MarshalError"),
        (_huge, "States.DataLimitExceeded"),
    ],
)
def test_a_misbehaving_handler_fails_only_its_execution(handler: Any, error: str) -> None:
    execution = run(_call(), {}, functions={"author": handler})
    assert (execution.status, execution.error) == ("FAILED", error), execution.cause
    assert execution.history_json()["events"][-1]["type"] == "ExecutionFailed"


@pytest.mark.parametrize("handler", [_hangs, _hangs_async])
def test_a_hanging_handler_times_out_at_its_function_timeout(handler: Any) -> None:
    from integrations.lambdas import LocalFunctions

    functions = LocalFunctions()
    functions.register("author", handler, timeout=1)
    execution = run(_call(), {}, functions=functions)
    assert (execution.status, execution.error) == ("FAILED", "Sandbox.Timedout")


def test_a_crashing_worker_process_fails_only_its_execution(tmp_path: Path) -> None:
    (tmp_path / "crash.py").write_text(
        "import os\n\ndef handler(event, context):\n    os._exit(7)\n"
    )
    (tmp_path / "functions.json").write_text(
        '{"isolation": "process", "functions": {"author": "crash:handler"}}'
    )
    execution = run(_call(), {}, functions=tmp_path / "functions.json")
    assert (execution.status, execution.error) == ("FAILED", "Runtime.ExitError")


def test_a_state_output_over_the_limit_fails_the_execution() -> None:
    definition = {
        "StartAt": "Grow",
        "States": {
            "Grow": {
                "Type": "Pass",
                "Parameters": {"a.$": "$.s", "b.$": "$.s"},
                "End": True,
            }
        },
    }
    execution = run(definition, {"s": "y" * 140_000})
    assert (execution.status, execution.error) == ("FAILED", "States.DataLimitExceeded")


def test_an_endless_loop_ends_at_the_history_limit() -> None:
    definition = {
        "StartAt": "Again",
        "States": {
            "Again": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.stop", "BooleanEquals": True, "Next": "Done"}],
                "Default": "Again",
            },
            "Done": {"Type": "Succeed"},
        },
    }
    execution = run(definition, {"stop": False})
    assert (execution.status, execution.error) == ("FAILED", "States.Runtime")
    assert len(execution.history) <= 25_001
