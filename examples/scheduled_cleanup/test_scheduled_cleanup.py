"""Tests of the nightly clean-up with the asl pytest plugin: its Wait between batches takes
no real time on the virtual clock."""

import json
from pathlib import Path

import pytest

from runtime.testing import WorkflowEngine, assert_succeeded

HERE = Path(__file__).parent
MACHINE = HERE / "scheduled_cleanup.asl.json"
EVENT = json.loads((HERE / "input.json").read_text())


@pytest.fixture
def engine(asl_engine: WorkflowEngine) -> WorkflowEngine:
    asl_engine.functions(HERE / "functions.json")
    return asl_engine


def test_expired_sessions_are_deleted_in_batches(engine: WorkflowEngine) -> None:
    execution = engine.run(MACHINE, EVENT)
    assert_succeeded(execution)
    assert (execution.output["batches"], execution.output["deleted"]) == (2, 15)
    assert execution.states["Delete item"].entered == 15
    assert execution.states["Pause between batches"].entered == 2


def test_a_second_night_finds_nothing_to_delete(engine: WorkflowEngine) -> None:
    engine.run(MACHINE, EVENT)
    execution = engine.run(MACHINE, EVENT)
    assert_succeeded(execution)
    assert execution.path == [
        "Start clean-up",
        "List expired items",
        "Anything expired?",
        "Report clean-up",
        "Clean-up finished",
    ]
