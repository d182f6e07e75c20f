"""Tests of the subscription reminder with the asl pytest plugin: its ``${Name}``
placeholders filled from substitutions.json, as SAM's DefinitionSubstitutions do."""

import json
from pathlib import Path

import pytest

from runtime.testing import WorkflowEngine, assert_path, assert_succeeded

HERE = Path(__file__).parent
MACHINE = HERE / "subscription_reminder.asl.json"
SUBSTITUTIONS = json.loads((HERE / "substitutions.json").read_text())
CUSTOMER = json.loads((HERE / "input.json").read_text())


@pytest.fixture
def engine(asl_engine: WorkflowEngine) -> WorkflowEngine:
    asl_engine.functions(HERE / "functions.json")
    return asl_engine


def test_an_active_subscription_is_reminded_after_a_day(engine: WorkflowEngine) -> None:
    execution = engine.run(MACHINE, CUSTOMER, substitutions=SUBSTITUTIONS)
    assert_succeeded(execution)
    assert_path(
        execution, ["Look up subscription", "Decide", "Wait before reminding", "Send reminder"]
    )
    assert execution.output["sent"]["reminder"] == {
        "sent": True,
        "channel": "email",
        "to": "ops@example.com",
    }
    assert execution.stop_time is not None
    assert execution.stop_time - execution.start_time >= 86400  # virtual: the test took no day
