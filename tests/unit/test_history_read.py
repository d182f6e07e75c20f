"""A history read back from its AWS form (``runtime.history.read_event``) is the one that
was recorded: rendering it again gives the same events."""

from __future__ import annotations

from runtime.history import read_event
from runtime.testing import run

DEFINITION = {
    "StartAt": "Remember",
    "States": {
        "Remember": {
            "Type": "Pass",
            "Parameters": {"n.$": "$.n"},
            "Assign": {"seen": {"list": [1, 2]}, "text": "x"},
            "Next": "Call",
        },
        "Call": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "double", "Payload.$": "$"},
            "ResultSelector": {"value.$": "$.Payload"},
            "End": True,
        },
    },
}


def test_rendering_a_read_history_gives_it_back() -> None:
    execution = run(DEFINITION, {"n": 2}, functions={"double": lambda event, _: event["n"] * 2})
    events = execution.history_json()["events"]
    assert [read_event(event).to_aws() for event in events] == events
    read = [read_event(event) for event in events]
    assert read[2].details == {"name": "Remember", "output": {"n": 2}} | {
        "assignedVariables": {"seen": {"list": [1, 2]}, "text": "x"}
    }
    assert [event.type for event in read] == [event.type for event in execution.history]
