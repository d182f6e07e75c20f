"""State machines the Temporal tests run: each reaches one kind of durable moment (a
Wait, a Retry's backoff, a task token wait, a running Task, Map and Parallel strands,
random ids)."""

from __future__ import annotations

from typing import Any

LAMBDA = "arn:aws:states:::lambda:invoke"


def task(function: str, next_state: str | None = None, **fields: Any) -> dict[str, Any]:
    """A ``lambda:invoke`` Task calling ``function`` with its input, keeping the Payload."""
    state: dict[str, Any] = {
        "Type": "Task",
        "Resource": LAMBDA,
        "Parameters": {"FunctionName": function, "Payload.$": "$"},
        "ResultSelector": {"value.$": "$.Payload"},
        **fields,
    }
    if next_state is None:
        state["End"] = True
    else:
        state["Next"] = next_state
    return state


def waiting(seconds: int) -> dict[str, Any]:
    """Wait ``seconds``, then say so."""
    return {
        "StartAt": "Wait",
        "States": {
            "Wait": {"Type": "Wait", "Seconds": seconds, "Next": "Done"},
            "Done": {"Type": "Pass", "Result": "waited", "End": True},
        },
    }


def looping(rounds: int) -> dict[str, Any]:
    """A Pass and a Choice ``rounds`` times (states that never wait: the workflow ends an
    activation at the interpreter's pauses, every 256 states)."""
    return {
        "StartAt": "Init",
        "States": {
            "Init": {"Type": "Pass", "Result": 0, "ResultPath": "$.i", "Next": "Check"},
            "Check": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$.i", "NumericGreaterThanEquals": rounds, "Next": "Done"}
                ],
                "Default": "Inc",
            },
            "Inc": {
                "Type": "Pass",
                "Parameters": {"i.$": "States.MathAdd($.i, 1)"},
                "Next": "Check",
            },
            "Done": {"Type": "Succeed"},
        },
    }


def backing_off(seconds: int) -> dict[str, Any]:
    """A Task that fails, retried once after ``seconds``, then caught."""
    retry = [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": seconds, "MaxAttempts": 1}]
    catch = [{"ErrorEquals": ["States.ALL"], "Next": "Caught", "ResultPath": "$.error"}]
    return {
        "StartAt": "Fail",
        "States": {
            "Fail": task("fail", "Done", Retry=retry, Catch=catch),
            "Caught": {"Type": "Pass", "Parameters": {"caught.$": "$.error.Error"}, "End": True},
            "Done": {"Type": "Succeed"},
        },
    }


def calling_back() -> dict[str, Any]:
    """A ``.waitForTaskToken`` Task whose token the test answers."""
    return {
        "StartAt": "Ask",
        "States": {
            "Ask": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {"FunctionName": "echo", "Payload": {"token.$": "$$.Task.Token"}},
                "End": True,
            }
        },
    }


def running(function: str) -> dict[str, Any]:
    """One Task calling ``function``."""
    return {"StartAt": "Run", "States": {"Run": task(function)}}


def everything() -> dict[str, Any]:
    """Parallel branches, a Map, a retried Task, a Wait and random ids, in one."""
    return {
        "StartAt": "Both",
        "States": {
            "Both": {
                "Type": "Parallel",
                "Branches": [
                    {
                        "StartAt": "Each",
                        "States": {
                            "Each": {
                                "Type": "Map",
                                "ItemsPath": "$.items",
                                "ItemProcessor": {
                                    "StartAt": "Echo",
                                    "States": {"Echo": task("echo")},
                                },
                                "End": True,
                            }
                        },
                    },
                    {
                        "StartAt": "Nap",
                        "States": {
                            "Nap": {**waiting(3600)["States"]["Wait"], "Next": "Ids"},
                            "Ids": {
                                "Type": "Pass",
                                "Parameters": {"id.$": "States.UUID()"},
                                "End": True,
                            },
                        },
                    },
                    backing_off(2) | {},
                ],
                "End": True,
            }
        },
    }


def activity_arn(name: str) -> str:
    """The ARN of the activity ``name`` (in the tests' region and account)."""
    return f"arn:aws:states:us-east-1:123456789012:activity:{name}"


def working(activity: str, **fields: Any) -> dict[str, Any]:
    """One Task on the activity ``activity`` (an ARN), waiting for a worker's answer."""
    state = {"Type": "Task", "Resource": activity, "End": True, **fields}
    return {"StartAt": "Work", "States": {"Work": state}}


def distributing(processor: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A Distributed Map over ``$.items``, each child running ``processor``'s states."""
    return {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    **processor,
                },
                "End": True,
                **fields,
            }
        },
    }
