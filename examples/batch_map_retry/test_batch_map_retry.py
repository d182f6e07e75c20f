"""Tests of the batch import with the asl pytest plugin: a Map whose invalid records are
caught one by one, while the batch goes on."""

import json
from pathlib import Path

import pytest

from runtime.testing import WorkflowEngine, assert_caught, assert_succeeded, state

HERE = Path(__file__).parent
MACHINE = HERE / "batch_map_retry.asl.json"
BATCH = json.loads((HERE / "input.json").read_text())


@pytest.fixture
def engine(asl_engine: WorkflowEngine) -> WorkflowEngine:
    asl_engine.functions(HERE / "functions.json")
    return asl_engine


def test_invalid_records_are_caught_and_reported(engine: WorkflowEngine) -> None:
    execution = engine.run(MACHINE, BATCH)
    assert_succeeded(execution)
    assert execution.output["imported"] == ["c-0001", "c-0002", "c-0004", "c-0007"]
    assert (execution.output["importedCount"], execution.output["failedCount"]) == (4, 3)
    assert_caught(execution, "Import record", "InvalidRecord")
    assert execution.states["Import record"].entered == 7
    assert state(execution, "Record failure").summary.entered == 3
    assert execution.path[0] == "Check batch" and execution.path[-1] == "Summarise batch"
