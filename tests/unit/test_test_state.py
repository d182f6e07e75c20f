"""``runtime.testing.test_state`` beyond the spec cases: a Task without a mock calls its
integration for real, once (no retry is done), and what the state sent and got is its
inspection data; a Wait runs on the virtual clock."""

from __future__ import annotations

import time
from typing import Any

import pytest

from runtime.api_limits import ValidationException
from runtime.testing import test_state as run_test_state

TASK = {
    "Type": "Task",
    "Resource": "arn:aws:lambda:us-east-1:123456789012:function:double",
    "Parameters": {"n.$": "$.n"},
    "ResultSelector": {"doubled.$": "$.n"},
    "ResultPath": "$.out",
    "Retry": [{"ErrorEquals": ["ValueError"], "MaxAttempts": 2}],
    "Next": "After",
}


async def test_a_task_without_a_mock_calls_its_local_function() -> None:
    calls: list[Any] = []

    def double(event: dict[str, Any], context: Any) -> dict[str, Any]:
        calls.append(event)
        return {"n": event["n"] * 2}

    response = await run_test_state(
        TASK, {"n": 21}, inspection_level="DEBUG", functions={"double": double}
    )
    assert calls == [{"n": 21}]
    assert response == {
        "status": "SUCCEEDED",
        "output": {"n": 21, "out": {"doubled": 42}},
        "nextState": "After",
        "inspectionData": {
            "input": {"n": 21},
            "afterInputPath": {"n": 21},
            "afterParameters": {"n": 21},
            "result": {"n": 42},
            "afterResultSelector": {"doubled": 42},
            "afterResultPath": {"n": 21, "out": {"doubled": 42}},
        },
    }


async def test_a_failing_function_is_called_once_and_reported_retriable() -> None:
    calls: list[Any] = []

    def broken(event: Any, context: Any) -> Any:
        calls.append(event)
        raise ValueError("no")

    response = await run_test_state(TASK, {"n": 1}, functions={"double": broken}, seed=3)
    assert len(calls) == 1
    assert (response["status"], response["error"]) == ("RETRIABLE", "ValueError")
    assert response["cause"].startswith('{"errorMessage": "no"')


async def test_a_wait_takes_no_real_time() -> None:
    started = time.monotonic()
    response = await run_test_state({"Type": "Wait", "Seconds": 86400, "End": True}, {"a": 1})
    assert response == {"status": "SUCCEEDED", "output": {"a": 1}}
    assert time.monotonic() - started < 5


async def test_callback_tasks_need_a_mock() -> None:
    waiting = {
        "Type": "Task",
        "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"QueueUrl": "q", "MessageBody": {"t.$": "$$.Task.Token"}},
        "End": True,
    }
    with pytest.raises(ValidationException) as raised:
        await run_test_state(waiting, {})
    assert raised.value.message == (
        "TestState supports Activity tasks and the .sync and .waitForTaskToken integration "
        "patterns only when a mock is specified."
    )
    mocked = await run_test_state(waiting, {}, mock={"result": {"ok": True}})
    assert mocked == {"status": "SUCCEEDED", "output": {"ok": True}}


async def test_a_mocked_activity_is_answered_by_its_mock() -> None:
    activity = {
        "Type": "Task",
        "Resource": "arn:aws:states:us-east-1:123456789012:activity:approve",
        "ResultPath": "$.answer",
        "End": True,
    }
    with pytest.raises(ValidationException):
        await run_test_state(activity, {})
    mocked = await run_test_state(activity, {"a": 1}, mock={"result": {"ok": True}})
    assert mocked == {"status": "SUCCEEDED", "output": {"a": 1, "answer": {"ok": True}}}
